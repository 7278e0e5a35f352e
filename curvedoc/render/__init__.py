"""Renderers: pure functions from a :class:`~curvedoc.diagnose.Report` to text."""

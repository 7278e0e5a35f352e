"""curvedoc: a linter for learning curves."""

__version__ = "0.1.0"

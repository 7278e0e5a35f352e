"""One module per CLI command; each exposes `run(...) -> int` (the exit code)."""

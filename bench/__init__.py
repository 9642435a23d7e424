"""Benchmarks, run as scripts (`.venv/bin/python bench/<name>.py`, or all of them with
`make bench`) on the database of DATABASE_URL; not management commands of the portal."""

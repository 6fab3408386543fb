"""The billing rules: plain functions over dataclasses and integer cents. No SQLAlchemy, no
settings, no I/O beyond reading a CSV file handed in (import-linter holds it so)."""

"""Persistence of the patient account database (SQLAlchemy 2)."""

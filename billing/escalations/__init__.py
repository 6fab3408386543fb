"""Escalations: conversations handed to the representatives (model, statuses, every write)."""

"""Disputes: a patient's challenge of ledger lines, opened by the bot and resolved by a
representative (model, statuses, every write)."""

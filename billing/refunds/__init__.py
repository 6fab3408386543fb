"""Refunds of a credit balance: imported from the practice system, requested by a patient,
approved or rejected by a representative (model, statuses, every write outside the importer)."""

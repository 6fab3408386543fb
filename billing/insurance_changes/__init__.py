"""Insurance changes: a patient's new payer and member id, pending until a representative
confirms or rejects them (model, statuses, every write)."""

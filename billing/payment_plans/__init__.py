"""Payment plans and their installments as stored (the schedule arithmetic is the pure
billing/core/plans.py): created by a patient through the bot or by a representative."""

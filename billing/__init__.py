"""billbot's billing core: exact money, the account ledger and the rules a representative applies."""

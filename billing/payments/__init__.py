"""Payments taken through a processor (Stripe today): pay-by-link checkouts, the processor's
signed events landing in the ledger, autopay of plan installments, refunds executed, and the
reconciliation of the processor's transactions against the ledger. No card data ever reaches
billbot: the patient pays on the processor's hosted page."""

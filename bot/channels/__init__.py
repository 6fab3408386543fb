"""Channel adapters: each authenticates its webhook and turns its wire format into an
InboundMessage for the pipeline."""

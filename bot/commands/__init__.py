"""Subcommands of the billbot CLI; each module has register(subparsers)."""

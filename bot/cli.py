"""The billbot command line. Each subcommand lives in its own module under bot.commands."""
from __future__ import annotations

import argparse
import importlib
import sys

from clinic.settings import SettingsError

COMMAND_MODULES = [
    "bot.commands.db",
    "bot.commands.gateway",
    "bot.commands.chat",
    "bot.commands.importing",
    "bot.commands.accounts",
    "bot.commands.demo_data",
    "bot.commands.nlu",
    "bot.commands.users",
    "bot.commands.remind",
    "bot.commands.serve",
    "bot.commands.retention",
    "bot.commands.payments",
]


def build_parser() -> argparse.ArgumentParser:
    """Build the `billbot` argument parser; each module
    in COMMAND_MODULES adds its own subcommands."""
    parser = argparse.ArgumentParser(prog="billbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one billbot command and return its exit code;
    a bad setting prints one line and returns 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SettingsError as err:  # named variable and problem, never a stack trace
        print(f"billbot: bad setting: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

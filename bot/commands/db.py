"""billbot db upgrade: apply the migrations to DATABASE_URL."""
from __future__ import annotations

from billing.db.migrate import upgrade
from clinic.settings import load_settings


def register(sub) -> None:
    """Add the `db` subcommand and its `upgrade` action,
    which applies migrations to DATABASE_URL."""
    p = sub.add_parser("db", help="database administration")
    dsub = p.add_subparsers(dest="db_command", required=True)
    up = dsub.add_parser("upgrade", help="apply migrations to DATABASE_URL")
    up.set_defaults(func=_upgrade)


def _upgrade(args) -> int:
    upgrade(load_settings().database_url)
    print("database is at the newest schema")
    return 0

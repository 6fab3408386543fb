"""billbot retention [--days N] [--dry-run]: delete conversation transcripts and Rasa tracker
events older than N days (RETENTION_DAYS, default 90). The supervisor runs it daily."""
from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from bot.retention import purge
from bot.supervisor import load_profile
from clinic.settings import load_settings


def register(sub) -> None:
    """Add the `retention` subcommand, which deletes
    transcripts and Rasa events past the retention period."""
    p = sub.add_parser("retention", help="delete transcripts and Rasa tracker events older "
                                         "than the retention period")
    p.add_argument("--days", type=int, help="keep this many days (default: RETENTION_DAYS or 90)")
    p.add_argument("--dry-run", action="store_true", help="count what would be deleted")
    p.add_argument("--profile", choices=("embedded", "production"),
                   default=os.environ.get("BILLBOT_PROFILE", "embedded"),
                   help="where Rasa's tracker store is (as for billbot serve)")
    p.set_defaults(func=_retention)


def _retention(args) -> int:
    try:
        profile = load_profile(args.profile)
    except ValueError as exc:
        print(f"billbot: {exc}", file=sys.stderr)
        return 2
    days = profile.retention_days if args.days is None else args.days
    if days < 1:
        print("billbot: --days must be at least 1", file=sys.stderr)
        return 2
    settings = load_settings()
    try:
        result = purge(settings.database_url, profile.tracker_store_url, datetime.now(UTC), days,
                       dry_run=args.dry_run)
    except SQLAlchemyError as exc:
        print(f"billbot: retention failed: {type(exc).__name__}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0

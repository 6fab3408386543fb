"""billbot import DIR | FILE...: load a practice-management CSV export and the clinic's price
list and contracts, all or nothing."""
from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy.orm import Session

from billing.db.engine import make_engine
from billing.importer import ImportFailed, import_sources, sources_from_paths
from clinic.settings import load_settings


def register(sub) -> None:
    """Add the `import` subcommand, which loads the
    practice's CSV exports (patients, ledger, ...)."""
    p = sub.add_parser(
        "import",
        help="import patients, coverages, ledger, refunds, chargemaster, fee_schedules CSV files "
             "(a directory or files)",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="DIR_OR_FILE")
    p.set_defaults(func=_import)


def _import(args) -> int:
    engine = make_engine(load_settings().database_url)
    try:
        sources = sources_from_paths(args.paths)
        with Session(engine) as session, session.begin():
            report = import_sources(session, sources)
    except ImportFailed as failed:
        for err in failed.errors:
            print(err, file=sys.stderr)
        if failed.total > len(failed.errors):
            print(f"... and {failed.total - len(failed.errors)} more error(s)", file=sys.stderr)
        print(f"import rejected: {failed.total} error(s); nothing was changed", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    for line in report.lines():
        print(line)
    print(f"refund history events added: {report.refund_events}")
    return 0

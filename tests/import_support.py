"""Every row of some tables, to show that a rejected import changed nothing."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text

from billing.db.engine import make_engine


def rows_of(url: str, tables: Iterable[str]) -> dict[str, list]:
    """Every row of each table, ordered by id."""
    eng = make_engine(url)
    try:
        with eng.connect() as c:
            return {t: c.execute(text(f"SELECT * FROM {t} ORDER BY id")).all() for t in tables}
    finally:
        eng.dispose()

"""Shared fixtures: a freshly migrated database per test, on SQLite and on PostgreSQL."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from billing.db.engine import make_engine
from billing.db.migrate import upgrade
from tests.environment import needs

PG_ADMIN_URL = os.environ.get(
    "BILLBOT_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_available() -> bool:
    try:
        eng = create_engine(PG_ADMIN_URL)
        with eng.connect():
            pass
        eng.dispose()
        return True
    except OperationalError:
        return False


_PG = _pg_available()
if os.environ.get("CI") and not _PG:
    raise RuntimeError("PostgreSQL must be reachable in CI (127.0.0.1:5432)")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'billbot.db'}"
    upgrade(url)
    return url


@contextmanager
def throwaway_pg_database(prefix: str = "billbot_t"):
    """A new, empty PostgreSQL database (its URL), dropped afterwards; skips without PostgreSQL."""
    needs(bool(_PG), "PostgreSQL is not reachable")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        from billing.db.engine import engine_for

        engine_for.cache_clear()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url():
    with throwaway_pg_database() as url:
        upgrade(url)
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    """A migrated, empty database: each test runs on SQLite and on PostgreSQL."""
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        return request.getfixturevalue("pg_url")
    return request.getfixturevalue("sqlite_url")


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s


def pytest_collection_modifyitems(config, items):
    """Browser tests need Debian's chromium; outside CI they skip, with the reason, when it's absent."""
    import shutil

    have_chromium = bool(shutil.which("chromium")) and bool(shutil.which("chromedriver"))
    if have_chromium:
        return
    if os.environ.get("CI"):
        raise RuntimeError("CI needs chromium and chromedriver (scripts/ensure-chromium)")
    skip = pytest.mark.skip(reason="chromium/chromedriver not installed (scripts/ensure-chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)

"""nlu/runtime/sitecustomize.py, in Rasa's own environment: Rasa's SQLite tracker store gets
a pooled connection in WAL mode, and PostgreSQL URLs are left as Rasa builds them."""
from __future__ import annotations

import json
import subprocess

import pytest

from bot.processes import RASA_BIN
from bot.rasa_env import rasa_environ

RASA_PYTHON = RASA_BIN.parent / "python"
PROBE = """
import json, sys
import sqlalchemy as sa
from sqlalchemy import text
url = sys.argv[1]
engine = sa.create_engine(url)
with engine.connect() as c:
    first = id(c.connection.dbapi_connection)
    mode = c.execute(text("PRAGMA journal_mode")).scalar()
with engine.connect() as c:
    second = id(c.connection.dbapi_connection)
pg = sa.create_engine("postgresql://u@127.0.0.1:1/x", pool_size=3)
print(json.dumps({"pool": type(engine.pool).__name__, "reused": first == second,
                  "mode": mode, "pg_pool": type(pg.pool).__name__, "pg_size": pg.pool.size()}))
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    if not RASA_PYTHON.exists():
        pytest.fail("Rasa's environment is missing: run `make setup`")
    db = tmp_path_factory.mktemp("tracker") / "rasa-tracker.db"
    out = subprocess.run([str(RASA_PYTHON), "-c", PROBE, f"sqlite:///{db}"], env=rasa_environ(),
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_sqlite_tracker_store_keeps_its_connection_in_a_pool(probe):
    assert probe["pool"] == "QueuePool"
    assert probe["reused"] is True


def test_the_pooled_connection_is_in_wal_mode(probe):
    assert probe["mode"] == "wal"


def test_postgresql_keeps_the_pool_rasa_asks_for(probe):
    assert (probe["pg_pool"], probe["pg_size"]) == ("QueuePool", 3)

"""nlu/runtime/sitecustomize.py, in Rasa's own environment: Rasa's SQLite tracker store gets
a pooled connection in WAL mode, PostgreSQL URLs are left as Rasa builds them, and calls to the
action server reuse one HTTP connection with the endpoint's own headers."""
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


SESSIONS = """
import asyncio, json
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

async def main():
    seen = []
    async def action(request):
        seen.append((request.transport.get_extra_info("peername")[1], request.headers.get("X-Clinic")))
        return web.json_response({"events": [], "n": len(seen)})
    app = web.Application()
    app.router.add_post("/webhook", action)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"X-Clinic": "c1"})
    replies = [await endpoint.request(json={"next_action": "a"}) for _ in range(3)]
    await runner.cleanup()
    print(json.dumps({"replies": [r["n"] for r in replies],
                      "connections": len({port for port, _ in seen}),
                      "headers": sorted({h for _, h in seen})}))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def sessions():
    if not RASA_PYTHON.exists():
        pytest.fail("Rasa's environment is missing: run `make setup`")
    out = subprocess.run([str(RASA_PYTHON), "-c", SESSIONS], env=rasa_environ(),
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_action_calls_reuse_one_connection(sessions):
    assert sessions["replies"] == [1, 2, 3]
    assert sessions["connections"] == 1


def test_a_kept_session_sends_the_endpoints_headers(sessions):
    assert sessions["headers"] == ["c1"]

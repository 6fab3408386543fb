"""Scale-out: two Rasa instances behind a two-worker gateway, conversations in PostgreSQL
(Rasa's SQL tracker store) locked through Redis. Patients talk at once, each turn round-robined
to the other instance; two clients of the same patient also send at the same moment. Every
turn must be in Rasa's tracker and in the transcript, complete and in the order sent."""
from __future__ import annotations

import json
import threading
import uuid
from dataclasses import replace

import httpx
import pytest
import redis
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from bot.messaging_models import INBOUND, OUTBOUND, Message
from bot.processes import free_port
from bot.supervisor import Supervisor, load_profile
from clinic.settings import ROOT, Settings
from tests.conftest import throwaway_pg_database

pytestmark = pytest.mark.e2e

MODEL = ROOT / "models" / "current"
REDIS_URL = "redis://127.0.0.1:6379/5"
PATIENTS = 6
TURNS = ("hi", "what do I owe", "can I pay in installments", "thanks", "is there a discount",
         "bye")


@pytest.fixture
def rasa_db():
    """A throwaway PostgreSQL database for Rasa's tracker store."""
    with throwaway_pg_database("billbot_rasa_e2e") as url:
        yield url.replace("postgresql+psycopg://", "postgresql://")  # as Rasa's config takes it


@pytest.fixture
def lock_prefix():
    """Rasa's lock keys for this test only; removed afterwards (nothing else is flushed)."""
    prefix = f"billbote2e{uuid.uuid4().hex[:8]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def tree(pg_url, rasa_db, lock_prefix, tmp_path):
    if not MODEL.exists():
        pytest.fail("no trained model at models/current: run `billbot train` first")
    rasa_port = free_port()
    profile = replace(
        load_profile("production", {"RASA_TRACKER_STORE_URL": rasa_db,
                                    "RASA_LOCK_STORE_URL": REDIS_URL}),
        rasa_base_port=rasa_port, run_dir=tmp_path, lock_key_prefix=lock_prefix)
    settings = Settings(database_url=pg_url, gateway_port=free_port(),
                        action_server_port=free_port(), session_secret="e2e-" + "s" * 28)
    sup = Supervisor(settings, profile, MODEL.resolve(), out=lambda _: None,
                     schedule_jobs=False)
    sup.start()
    try:
        yield sup
    finally:
        sup.stop()


def _say(client: httpx.Client, session_id: str, message: str) -> list[str]:
    resp = client.post("/webhooks/rest/webhook", json={"sender": session_id, "message": message},
                       timeout=120)
    resp.raise_for_status()
    return [m["text"] for m in resp.json()]


def _tracker_turns(rasa_db: str, sender: str) -> list[tuple[str, str]]:
    """(type_name, user text or action name) of a conversation's events, in stored order."""
    engine = create_engine(rasa_db.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as c:
        rows = c.execute(text("SELECT type_name, action_name, data FROM events "
                              "WHERE sender_id = :s ORDER BY id"), {"s": sender}).all()
    engine.dispose()
    out = []
    for type_name, action_name, data in rows:
        if type_name == "user":
            out.append(("user", json.loads(data)["text"]))
        elif type_name == "action":
            out.append(("action", action_name))
    return out


def _complete_turns(events: list[tuple[str, str]]) -> list[str]:
    """The user texts of a tracker whose turns never overlap: each user message is followed by
    the bot's actions and ends with action_listen before the next user message."""
    texts, open_turn = [], False
    for kind, value in events:
        if kind == "user":
            assert not open_turn, f"a turn started before the previous one ended: {events}"
            texts.append(value)
            open_turn = True
        elif value == "action_listen" and open_turn:
            open_turn = False
    assert not open_turn, f"the last turn never finished: {events}"
    return texts


def test_interleaved_patients_on_two_rasa_instances_lose_and_reorder_nothing(tree, rasa_db):
    sessions = [f"scale{uuid.uuid4().hex[:12]}" for _ in range(PATIENTS)]
    errors: list[BaseException] = []
    start = threading.Barrier(PATIENTS)

    def patient(session_id: str) -> None:
        try:
            with httpx.Client(base_url=tree.gateway_url) as client:
                start.wait()
                for turn in TURNS:
                    assert _say(client, session_id, turn), f"no reply to {turn!r}"
        except (AssertionError, httpx.HTTPError) as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=patient, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert not errors, errors

    # Two clients of one patient (two browser tabs) send at the same instant.
    both = threading.Barrier(2)
    burst = ["what is my balance", "i want to talk to a person"]

    def tab(message: str) -> None:
        with httpx.Client(base_url=tree.gateway_url) as client:
            both.wait()
            _say(client, sessions[0], message)

    tabs = [threading.Thread(target=tab, args=(m,)) for m in burst]
    for t in tabs:
        t.start()
    for t in tabs:
        t.join(300)

    engine = create_engine(tree.settings.database_url.replace(
        "postgresql://", "postgresql+psycopg://"))
    with Session(engine) as s:
        transcript = {
            sid: list(s.scalars(select(Message).where(Message.sender_key == f"web:{sid}")
                                .order_by(Message.id)))
            for sid in sessions}
    engine.dispose()

    for sid in sessions:
        tracked = _complete_turns(_tracker_turns(rasa_db, f"web:{sid}"))
        inbound = [m.text for m in transcript[sid] if m.direction == INBOUND]
        answered = {m.reply_to_id for m in transcript[sid] if m.direction == OUTBOUND}
        assert all(m.id in answered for m in transcript[sid] if m.direction == INBOUND)
        if sid != sessions[0]:
            assert tracked == list(TURNS)
            assert inbound == list(TURNS)
        else:
            assert tracked[:len(TURNS)] == list(TURNS) and inbound[:len(TURNS)] == list(TURNS)
            assert sorted(tracked[len(TURNS):]) == sorted(burst)
            assert sorted(inbound[len(TURNS):]) == sorted(burst)
    # Both instances took turns (round-robin), so the shared store and lock were exercised.
    metrics = httpx.get(tree.gateway_url + "/metrics").text
    served = {i: _sample(metrics, f'billbot_rasa_requests_total{{instance="{i}"}}')
              for i in ("0", "1")}
    total = PATIENTS * len(TURNS) + len(burst)
    assert sum(served.values()) == total and min(served.values()) >= total // 4, served


def _sample(metrics: str, name: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0

"""One running assistant for the whole e2e session: a fresh SQLite database holding the test
clinic, the real action server and `rasa run` on the trained model (models/current), on free
ports. Tests talk to Rasa's REST channel in exactly the shape the gateway uses."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import httpx
import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from billing.core.sender_key import sender_key
from billing.db.engine import make_engine
from billing.db.migrate import upgrade
from billing.db.models import Throttle, Verification
from billing.payment_plans.enums import PlanStatus
from billing.payment_plans.models import PaymentPlan
from bot.processes import free_port, start_action_server, start_rasa
from bot.supervisor import tracker_store_yaml
from clinic.settings import ROOT
from tests.e2e.clinic import SENDERS, load_clinic
from tests.e2e.expected import snapshot
from tests.stripe_double import StripeDouble

MODEL = ROOT / "models" / "current"
MODEL_ES = ROOT / "models" / "current-es"  # the Spanish model (billbot train)
SESSION_SECRET = "e2e-" + uuid.uuid4().hex


@dataclass
class Chat:
    """A conversation partner for one sender key (built like the gateway builds it)."""

    client: httpx.Client
    url: str
    sender: str
    channel: str
    channel_user: str

    def say(self, text: str) -> str:
        """Send one message; the assistant's replies, joined by newlines."""
        body = {"sender": self.sender, "message": text,
                "metadata": {"channel": self.channel, "channel_user": self.channel_user}}
        resp = self.client.post(self.url, json=body, timeout=60.0)
        resp.raise_for_status()
        return "\n".join(m.get("text", "") for m in resp.json())


@dataclass
class Assistant:
    url: str
    db_url: str
    client: httpx.Client
    today: date
    url_es: str = ""  # the Spanish model's Rasa (same action server, same tracker store)
    stripe: StripeDouble | None = None  # the action server makes its payment links there

    def sms(self, phone: str) -> Chat:
        return Chat(self.client, self.url, sender_key("sms", phone), "sms", phone)

    def web(self) -> Chat:
        session_id = f"e2e{uuid.uuid4().hex[:12]}"
        return Chat(self.client, self.url, sender_key("web", session_id), "web", session_id)

    def telegram(self, chat_id: int) -> Chat:
        return Chat(self.client, self.url, sender_key("telegram", str(chat_id)), "telegram",
                    str(chat_id))

    def db(self) -> Session:
        return Session(make_engine(self.db_url), expire_on_commit=False)


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail("no trained model at models/current: run `billbot train` first")
    work = tmp_path_factory.mktemp("e2e")
    db_url = f"sqlite:///{work / 'billbot.db'}"
    upgrade(db_url)
    today = date.today()  # noqa: DTZ011 - the action server reads the same local clock
    engine = make_engine(db_url)
    with Session(engine) as session:
        load_clinic(session, today)
    engine.dispose()
    action_port, rasa_port, rasa_es_port = free_port(), free_port(), free_port()
    stripe = StripeDouble()
    actions = start_action_server(
        action_port, log_path=work / "actions.log", database_url=db_url,
        extra_env={"SESSION_SECRET": SESSION_SECRET, "PUBLIC_BASE_URL": "http://chat.test",
                   "STRIPE_SECRET_KEY": stripe.secret_key, "STRIPE_API_BASE": stripe.url},
    )
    # One conversation may move between the two models (a Spanish patient's English
    # question): both Rasa processes keep conversations in one tracker store.
    trackers = tracker_store_yaml(f"sqlite:///{work / 'rasa-tracker.db'}")
    servers = [actions]
    try:
        servers.append(start_rasa(rasa_port, model=MODEL, action_url=actions.url,
                                  work_dir=work, tracker_store=trackers))
        if MODEL_ES.exists():
            servers.append(start_rasa(rasa_es_port, model=MODEL_ES, action_url=actions.url,
                                      work_dir=work / "es", tracker_store=trackers))
    except Exception:
        for server in servers:
            server.stop()
        stripe.close()
        raise
    url_es = f"http://127.0.0.1:{rasa_es_port}/webhooks/rest/webhook" if len(servers) > 2 else ""
    with httpx.Client() as client:
        yield Assistant(f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook", db_url, client,
                        today, url_es, stripe)
    for server in reversed(servers):
        server.stop()
    stripe.close()


@pytest.fixture(autouse=True)
def fresh_conversations(assistant):
    """Each test starts its phone conversations afresh: no verification, no slots, and no
    failures counted against any account."""
    with assistant.db() as session:
        session.execute(delete(Verification))
        session.execute(delete(Throttle))
        session.commit()
    for sender in SENDERS:
        assistant.client.post(assistant.url, json={"sender": sender, "message": "/restart"},
                              timeout=60.0).raise_for_status()


@pytest.fixture
def sam_without_a_plan(assistant):
    """Sam (A1003) starts with no active plan: another test may have set one up."""
    with assistant.db() as s:
        patient_id = snapshot(s, "A1003").patient_id
        s.execute(update(PaymentPlan).where(PaymentPlan.patient_id == patient_id,
                                            PaymentPlan.status == PlanStatus.ACTIVE)
                  .values(status=PlanStatus.CANCELLED))
        s.commit()
    return patient_id

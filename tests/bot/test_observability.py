"""/health reports each dependency with the right status code; /metrics counts messages per
channel, Rasa latency, escalations and errors in Prometheus format, without patient data."""
# ruff: noqa: F811  (pytest fixtures imported from tests.gateway_support)
from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from billing.db.engine import make_engine
from tests.doubles.http import HttpDouble, Recorded, Reply
from tests.gateway_support import (  # noqa: F401  (fixtures)
    PATIENT_PHONE,
    Gateway,
    rasa,
    settings,
    telegram_api,
    twilio_api,
    without,
)


class HealthyService(HttpDouble):
    """Answers the health URLs of Rasa's REST channel and of the action server."""

    def respond(self, rec: Recorded) -> Reply:
        if rec.path in ("/webhooks/rest/", "/health"):
            return Reply(200, {"status": "ok"})
        return Reply(404, {"error": "not found"})


@pytest.fixture
def services():
    with HealthyService() as rasa_up, HealthyService() as actions_up:
        yield rasa_up, actions_up


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


class ObservedGateway(Gateway):
    """The gateway as create_app builds it (health and metrics included); redis_url: Rasa's
    lock store, checked when set; engine: the one the app runs on."""

    def __init__(self, settings, redis_url=None, engine=None, **kwargs):
        if redis_url:
            settings = without(settings, rasa_lock_store_url=redis_url)
        if engine is not None:
            kwargs["engine"] = engine
        super().__init__(settings, **kwargs)

    def samples(self) -> dict[tuple[str, tuple], float]:
        resp = self.client.get("/metrics")
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/plain")
        out = {}
        for family in text_string_to_metric_families(resp.text):
            for s in family.samples:
                out[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return out


def test_health_is_200_with_every_dependency_up(settings, services):
    rasa_up, actions_up = services
    s = without(settings, rasa_url=rasa_up.url, action_server_port=_port(actions_up.url))
    with ObservedGateway(s) as gw:
        resp = gw.client.get("/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "rasa", "action_server"}
    assert all(c["ok"] and c["detail"] == "ok" for c in body["checks"].values())


def test_health_is_503_and_names_the_dependency_that_is_down(settings, services):
    rasa_up, actions_up = services
    actions_port = _port(actions_up.url)
    actions_up.close()
    s = without(settings, rasa_url=rasa_up.url, action_server_port=actions_port)
    with ObservedGateway(s) as gw:
        resp = gw.client.get("/health")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["action_server"]["ok"] is False
    assert body["checks"]["action_server"]["detail"] == "ConnectError"
    assert body["checks"]["rasa"]["ok"] is True and body["checks"]["database"]["ok"] is True


def test_each_rasa_instance_is_checked_on_its_own(settings, services):
    rasa_up, actions_up = services
    with HealthyService() as gone:
        gone_url = gone.url
    s = without(settings, rasa_url=f"{rasa_up.url},{gone_url}",
                action_server_port=_port(actions_up.url))
    with ObservedGateway(s) as gw:
        resp = gw.client.get("/health")
    assert resp.status_code == 503
    checks = resp.json()["checks"]
    assert checks["rasa[0]"]["ok"] is True and checks["rasa[1]"]["ok"] is False


def test_health_reports_a_database_that_cannot_be_reached(settings, services):
    rasa_up, actions_up = services
    s = without(settings, rasa_url=rasa_up.url, action_server_port=_port(actions_up.url))
    broken = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nothing-listens-here")
    with ObservedGateway(s, engine=broken) as gw:
        resp = gw.client.get("/health")
    assert resp.status_code == 503
    assert resp.json()["checks"]["database"] == {
        "ok": False, "detail": "OperationalError",
        "latency_ms": resp.json()["checks"]["database"]["latency_ms"]}


def test_redis_is_checked_when_it_is_the_lock_store(settings, services):
    rasa_up, actions_up = services
    s = without(settings, rasa_url=rasa_up.url, action_server_port=_port(actions_up.url))
    with ObservedGateway(s, redis_url="redis://127.0.0.1:6379/7") as gw:
        assert gw.client.get("/health").json()["checks"]["redis"]["ok"] is True
    with ObservedGateway(s, redis_url="redis://127.0.0.1:1/7") as gw:
        resp = gw.client.get("/health")
        assert resp.status_code == 503
        assert resp.json()["checks"]["redis"]["detail"] == "ConnectionError"


def test_metrics_count_messages_per_channel_and_rasa_latency(settings, twilio_api, rasa):
    with ObservedGateway(settings) as gw:
        before = gw.samples()
        assert gw.sms("what do I owe?", "SM0101").status_code == 200
        gw.idle()
        web = gw.client.post("/webhooks/rest/webhook",
                             json={"sender": "browser-session-0001", "message": "hello"})
        assert web.status_code == 200
        after = gw.samples()
        text = gw.client.get("/metrics").text

    def delta(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("billbot_inbound_messages_total", channel="sms") == 1
    assert delta("billbot_inbound_messages_total", channel="web") == 1
    assert delta("billbot_outbound_messages_total", channel="sms") == 1
    assert delta("billbot_outbound_messages_total", channel="web") == 1
    assert delta("billbot_rasa_latency_seconds_count") == 2
    assert delta("billbot_errors_total", kind="rasa_unavailable") == 0
    assert "what do I owe" not in text and PATIENT_PHONE not in text


def test_metrics_count_rasa_failures_and_the_escalations_they_cause(settings, twilio_api, rasa):
    rasa.close()
    with ObservedGateway(without(settings, rasa_timeout_s=0.5)) as gw:
        before = gw.samples()
        gw.sms("hello?", "SM0102")
        gw.idle()
        after = gw.samples()
    err = ("billbot_errors_total", (("kind", "rasa_unavailable"),))
    esc = ("billbot_escalations_total", (("reason", "assistant_unavailable"),))
    assert after[err] - before.get(err, 0.0) == 1
    assert after[esc] - before.get(esc, 0.0) == 1
    assert after[("billbot_escalations_by_status", (("status", "queued"),))] == 1

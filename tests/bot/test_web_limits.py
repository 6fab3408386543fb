"""The web chat's limits at the gateway: messages per client address and per session answered
with a plain reply (HTTP 429) that never reaches Rasa, the address read from X-Forwarded-For
only behind a trusted proxy, and only a keyed hash of it passed on."""
from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from bot.client_address import BadTrustedProxies, client_address, client_ref, proxy_warning
from clinic.settings import Settings
from tests.gateway_support import Gateway

pytest_plugins = ["tests.gateway_support"]

WAIT = "You're sending messages faster than I can answer. Please wait a minute"


def post(gw: Gateway, session: str, text: str = "hello", headers=None):
    return gw.client.post("/webhooks/rest/webhook", json={"sender": session, "message": text},
                          headers=headers or {})


def test_over_the_per_address_limit_the_patient_is_asked_to_wait(settings, rasa):
    settings = settings.replace(web_messages_per_minute_address=3)
    with Gateway(settings) as gw:
        sessions = [str(uuid.uuid4()) for _ in range(4)]
        assert [post(gw, s).status_code for s in sessions[:3]] == [200, 200, 200]
        refused = post(gw, sessions[3])
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        [reply] = refused.json()
        assert reply["recipient_id"] == sessions[3] and reply["text"].startswith(WAIT)
        assert settings.clinic_phone in reply["text"]
        assert len(gw.messages("in")) == 3
    assert len(rasa.received) == 3  # the refused message never reached the assistant


def test_over_the_per_session_limit_that_session_waits_and_others_do_not(settings, rasa):
    settings = settings.replace(web_messages_per_minute_session=2)
    with Gateway(settings) as gw:
        busy = str(uuid.uuid4())
        assert [post(gw, busy).status_code for _ in range(3)] == [200, 200, 429]
        assert post(gw, str(uuid.uuid4())).status_code == 200


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(settings, rasa):
    settings = settings.replace(web_messages_per_minute_address=1,
                       trusted_proxies="127.0.0.1")
    with Gateway(settings) as gw:
        gw.client = TestClient(gw.app, client=("127.0.0.1", 50000))
        with gw.client:
            one = {"X-Forwarded-For": "203.0.113.7"}
            two = {"X-Forwarded-For": "203.0.113.8"}
            assert post(gw, str(uuid.uuid4()), headers=one).status_code == 200
            assert post(gw, str(uuid.uuid4()), headers=two).status_code == 200
            assert post(gw, str(uuid.uuid4()), headers=one).status_code == 429
    refs = {m["metadata"]["client_ref"] for m in rasa.received}
    assert len(refs) == 2 and not any("203.0.113" in r for r in refs)


def test_from_an_untrusted_peer_x_forwarded_for_is_ignored(settings, rasa):
    settings = settings.replace(web_messages_per_minute_address=1)
    with Gateway(settings) as gw:
        assert post(gw, str(uuid.uuid4()),
                    headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 200
        assert post(gw, str(uuid.uuid4()),
                    headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 429


@pytest.mark.parametrize("peer,forwarded,expected", [
    ("198.51.100.1", "203.0.113.7", "198.51.100.1"),  # peer not a proxy: header ignored
    ("10.0.0.2", "203.0.113.7", "203.0.113.7"),
    ("10.0.0.2", "1.2.3.4, 203.0.113.7, 10.0.0.9", "203.0.113.7"),  # spoofed first hop skipped
    ("10.0.0.2", "", "10.0.0.2"),
    ("10.0.0.2", "10.0.0.3", "10.0.0.3"),  # only proxies: the farthest one
])
def test_the_client_address_comes_from_the_nearest_untrusted_hop(peer, forwarded, expected):
    s = Settings(trusted_proxies="10.0.0.0/8")
    assert client_address(s, peer, forwarded) == expected


def test_a_bad_trusted_proxy_setting_is_named_and_stops_the_gateway(settings):
    with pytest.raises(BadTrustedProxies, match="nginx"):
        client_address(Settings(trusted_proxies="nginx"), "10.0.0.2", "1.2.3.4")
    with pytest.raises(BadTrustedProxies, match="nginx"):
        Gateway(settings.replace(trusted_proxies="10.0.0.1, nginx"))


def test_the_client_ref_is_a_keyed_hash():
    a, b = Settings(session_secret="one"), Settings(session_secret="two")
    assert client_ref(a, "203.0.113.7") == client_ref(a, "203.0.113.7")
    assert client_ref(a, "203.0.113.7") != client_ref(b, "203.0.113.7")
    assert len(client_ref(a, "203.0.113.7")) == 32


def test_a_public_url_behind_a_local_proxy_without_trusted_proxies_is_warned_about():
    behind = Settings(public_base_url="https://billing.example-clinic.org", gateway_host="127.0.0.1")
    assert "TRUSTED_PROXIES" in proxy_warning(behind)
    assert proxy_warning(behind.replace(trusted_proxies="127.0.0.1")) is None
    assert proxy_warning(behind.replace(gateway_host="0.0.0.0")) is None  # reached directly
    assert proxy_warning(Settings(public_base_url="http://localhost:8000")) is None

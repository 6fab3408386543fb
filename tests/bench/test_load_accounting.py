"""The load generator's accounting (bench/openloop.py + bench/accounting.py): a double of the
gateway answers signed SMS webhooks through the Twilio double, and drops, duplicates or
reorders replies on purpose; the audit must find exactly those, and nothing in a clean run."""
from __future__ import annotations

import asyncio
import threading
import uuid

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bench.accounting import audit
from bench.openloop import (
    Mix,
    NotifyingTwilio,
    Patient,
    PatientPool,
    SmsTarget,
    run_stage,
)
from tests.doubles.http import HttpDouble, Recorded, Reply

ACCOUNT_SID = "AC" + "0acc7" * 6 + "ab"
TOKEN = "accounting-" + uuid.uuid4().hex
PUBLIC = "https://bench.test"
WORDS = ("one", "two", "three", "four")


def four_messages(patient, rnd, channel):
    """A conversation that sends four messages whatever the replies say."""
    for word in WORDS:  # noqa: UP028 - a tuple's iterator has no send()
        yield word
    return True


class FaultyGateway(HttpDouble):
    """Answers each SMS with 'reply to <body>' through Twilio's API, except where told:
    faults maps (phone, body) to 'drop', 'retried' (sent twice, the first sid forgotten, as a
    send retried after Twilio had taken it), 'twice' (the whole reply sent and recorded twice,
    as a message processed twice), 'same_parts' (a reply of two equal parts: not a fault) or
    'split_late' (the reply's second part held back until the phone's next message has been
    answered). answers: Twilio sid -> the MessageSid it answers (what the real gateway keeps
    in its messages table)."""

    def __init__(self, twilio: NotifyingTwilio, faults: dict[tuple[str, str], str]):
        self.twilio, self.faults = twilio, faults
        self.answers: dict[str, str] = {}
        self.held: dict[str, list[tuple[str, str]]] = {}
        self.validator = RequestValidator(TOKEN)
        self.http = httpx.Client(base_url=twilio.url)
        self.forms: list[dict] = []
        self.guard = threading.Lock()
        super().__init__()

    def respond(self, rec: Recorded) -> Reply:
        form = rec.params
        url = PUBLIC + rec.path
        if not self.validator.validate(url, form, rec.headers.get("X-Twilio-Signature", "")):
            return Reply(403, {"error": "bad signature"})
        self.forms.append(form)
        threading.Thread(target=self.answer, args=(form,)).start()
        return Reply(200, {})

    def send(self, phone: str, body: str, answers: str, record: bool = True) -> None:
        resp = self.http.post(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
                              data={"To": phone, "From": "+15550100000", "Body": body})
        if record:
            self.answers[resp.json()["sid"]] = answers

    def answer(self, form: dict) -> None:
        phone, body, ref = form["From"], form["Body"], form["MessageSid"]
        fault = self.faults.get((phone, body))
        with self.guard:  # one phone's replies go out in the order decided here
            if fault == "drop":
                return
            if fault == "split_late":
                self.send(phone, f"reply to {body} (1/2)", ref)
                self.held.setdefault(phone, []).append((f"reply to {body} (2/2)", ref))
                return
            if fault == "retried":
                self.send(phone, f"reply to {body}", ref, record=False)
            self.send(phone, f"reply to {body}", ref)
            if fault in ("twice", "same_parts"):
                self.send(phone, f"reply to {body}", ref)
            if fault == "same_parts":
                self.send(phone, "a last part", ref)
            for late_body, late_ref in self.held.pop(phone, []):
                self.send(phone, late_body, late_ref)


PHONES = [f"+1555010{n:04d}" for n in range(1, 9)]


def run(faults: dict[tuple[str, str], str]):
    with NotifyingTwilio(ACCOUNT_SID, TOKEN) as twilio:
        gateway = FaultyGateway(twilio, faults)
        try:
            async def go():
                twilio.loop = asyncio.get_running_loop()
                async with httpx.AsyncClient(base_url=gateway.url) as client:
                    target = SmsTarget(client, twilio, TOKEN, PUBLIC, ACCOUNT_SID,
                                       "+15550100000", reply_timeout_s=2.0)
                    mix = Mix([("four", four_messages, 1.0, 4.0)], [(target, 1.0)])
                    pool = PatientPool(Patient(f"A{i}", "Pat", "01/02/1980", p)
                                       for i, p in enumerate(PHONES))
                    # Arrivals for 2 s at 16 msg/s (about 8 conversations), each patient
                    # once at most since the pool has one patient per conversation.
                    stage = await run_stage("sms", 16.0, 2.0, 0.0, mix, pool, seed=7,
                                            think_s=0.3)
                    return stage, dict(target.sent)
            stage, sent = asyncio.run(go())
        finally:
            gateway.http.close()
            gateway.close()
        return stage, sent, audit(sent, list(twilio.deliveries), gateway.answers), gateway


def test_a_clean_run_is_all_answered_once_in_order():
    stage, sent, result, gateway = run({})
    assert stage.conversations >= 2
    assert result.messages == sum(len(v) for v in sent.values()) == len(gateway.forms)
    assert result.ok, result.line()
    assert all(m.error is None and m.answered_at is not None for m in stage.messages)


@pytest.fixture(scope="module")
def faulty():
    """One run with a drop, two kinds of duplicate, a late second part and a reply of equal
    parts, on five phones."""
    return run({(PHONES[0], "two"): "drop", (PHONES[1], "three"): "retried",
                (PHONES[2], "two"): "split_late", (PHONES[3], "two"): "twice",
                (PHONES[4], "one"): "same_parts"})


def test_the_dropped_reply_is_lost_and_nothing_else(faulty):
    stage, sent, result, _ = faulty
    if PHONES[0] not in sent:
        pytest.fail("the run did not reach the first phone: too few arrivals")
    assert result.lost == [(PHONES[0], sent[PHONES[0]][1])]
    assert sent[PHONES[0]] and len(sent[PHONES[0]]) == 2  # the patient gave up after it
    assert [m.error for m in stage.messages if m.error] == ["no reply"]


def test_a_retried_send_and_a_reply_sent_twice_are_the_duplicates(faulty):
    _, sent, result, _ = faulty
    assert sorted(phone for phone, _ in result.duplicated) == [PHONES[1], PHONES[3]]
    assert len(sent[PHONES[1]]) == len(sent[PHONES[3]]) == 4


def test_equal_parts_of_one_reply_are_not_a_fault(faulty):
    _, sent, result, _ = faulty
    assert len(sent[PHONES[4]]) == 4
    assert not any(phone == PHONES[4] for phone, _ in
                   result.lost + result.duplicated + result.reordered)


def test_the_late_part_is_found_reordered(faulty):
    _, _, result, _ = faulty
    assert [phone for phone, _ in result.reordered] == [PHONES[2]]
    assert not any(phone == PHONES[2] for phone, _ in result.lost + result.duplicated)

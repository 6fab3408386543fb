"""An open-loop load generator of patients' conversations (asyncio).

Patients ARRIVE at a fixed mean rate (a seeded Poisson process: the same seed gives the same
arrival times), whatever the system's latency; so the offered message rate is fixed by the
arrival rate and the conversations' length, not by how fast replies come back. Inside a
conversation a patient behaves as a person does: it sends its next message only after the
reply to the previous one, `think_s` after the reply's first part reached it, and what it
sends depends on what the assistant asked (bench/conversations.py).

Latency runs from each message's SCHEDULED send time (the arrival time for a first message,
the previous reply + think time for the others) to the first part of its reply, so a
generator that falls behind its schedule adds its lag to the figures instead of hiding it
(coordinated omission).

A Target is one way into the system: signed Twilio webhooks with replies at a Twilio double
(SmsTarget), the gateway's web chat (WebTarget), or Rasa's REST channel directly
(RasaTarget, the baseline). Each records what it sent; SmsTarget's record feeds the
exactly-once audit (bench/accounting.py).
"""
from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field

import httpx
from twilio.request_validator import RequestValidator

from bench.accounting import Delivery
from billing.core.sender_key import sender_key
from tests.doubles.http import Recorded, Reply
from tests.doubles.twilio import TwilioDouble


class NoReply(Exception):
    """The message got no reply in time, or an error status."""


@dataclass(frozen=True)
class Patient:
    account_number: str
    first_name: str
    dob: str  # MM/DD/YYYY, as a patient types it
    phone: str  # E.164, unique to this patient in the bench clinic


# A conversation: a generator that yields the patient's messages and is sent each reply
# (the reply's parts joined by newlines); it returns True when it reached its goal.
Script = Callable[[Patient, random.Random, str], Generator[str, str, bool]]


@dataclass
class Message:
    target: str
    conversation: str  # the script's name
    patient: str  # the user (phone or web session), never logged
    scheduled: float
    answered_at: float | None = None
    error: str | None = None

    @property
    def latency(self) -> float | None:
        return None if self.answered_at is None else self.answered_at - self.scheduled


# -- the Twilio double that tells the generator about each reply -----------------------
class NotifyingTwilio(TwilioDouble):
    """Twilio's Messages API double: each accepted send is recorded (phone, sid, body) in
    arrival order and handed to the waiting patient's queue with its arrival time."""

    def __init__(self, account_sid: str, auth_token: str):
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queues: dict[str, asyncio.Queue] = {}
        self.deliveries: list[Delivery] = []
        super().__init__(account_sid, auth_token)

    def respond(self, rec: Recorded) -> Reply:
        reply = super().respond(rec)
        self.requests.clear()  # nothing reads them here; a soak would keep them all
        to, body = rec.params.get("To"), rec.params.get("Body", "")
        if reply.status == 201 and isinstance(reply.body, dict):
            self.delivered(to, reply.body["sid"], body)
        return reply

    def delivered(self, phone: str, sid: str, body: str) -> None:
        at = time.monotonic()
        with self._lock:
            self.deliveries.append(Delivery(phone, sid, body))
        queue = self.queues.get(phone)
        if queue is not None and self.loop is not None:
            self.loop.call_soon_threadsafe(queue.put_nowait, (at, body))


# -- targets -----------------------------------------------------------------------------
class Target:
    name = "target"
    channel = "sms"

    async def exchange(self, user: str, text: str) -> tuple[float, list[str]]:
        """Send one message; (arrival time of the reply's first part, parts so far)."""
        raise NotImplementedError

    def later_parts(self, user: str) -> list[str]:
        """Parts of the last reply that arrived after exchange() returned."""
        return []

    def user_of(self, patient: Patient) -> str:
        return patient.phone


class SmsTarget(Target):
    """Signed POSTs to the gateway's /webhooks/twilio/sms; replies at the Twilio double."""

    name, channel = "sms", "sms"

    def __init__(self, client: httpx.AsyncClient, twilio: NotifyingTwilio, auth_token: str,
                 public_url: str, account_sid: str, to_number: str, reply_timeout_s: float):
        self.client, self.twilio = client, twilio
        self.validator = RequestValidator(auth_token)
        self.url = public_url.rstrip("/") + "/webhooks/twilio/sms"
        self.account_sid, self.to_number = account_sid, to_number
        self.reply_timeout_s = reply_timeout_s
        self.sent: dict[str, list[str]] = defaultdict(list)  # phone -> MessageSids in order

    async def exchange(self, user: str, text: str) -> tuple[float, list[str]]:
        queue = self.twilio.queues.setdefault(user, asyncio.Queue())
        while not queue.empty():  # late parts of an earlier reply (the audit counts them)
            queue.get_nowait()
        sid = "SM" + uuid.uuid4().hex
        form = {"MessageSid": sid, "AccountSid": self.account_sid, "From": user,
                "To": self.to_number, "Body": text, "NumMedia": "0"}
        self.sent[user].append(sid)
        try:
            resp = await self.client.post(
                "/webhooks/twilio/sms", data=form,
                headers={"X-Twilio-Signature": self.validator.compute_signature(self.url, form)})
        except httpx.HTTPError as exc:
            raise NoReply(type(exc).__name__) from exc
        if resp.status_code != 200:
            raise NoReply(f"HTTP {resp.status_code}")
        try:
            at, body = await asyncio.wait_for(queue.get(), self.reply_timeout_s)
        except TimeoutError as exc:
            raise NoReply("no reply") from exc
        return at, [body]

    def later_parts(self, user: str) -> list[str]:
        queue = self.twilio.queues.get(user)
        parts = []
        while queue is not None and not queue.empty():
            parts.append(queue.get_nowait()[1])
        return parts


def _texts(resp: httpx.Response) -> list[str]:
    if resp.status_code != 200:
        raise NoReply(f"HTTP {resp.status_code}")
    texts = [m.get("text") for m in resp.json() if isinstance(m, dict) and m.get("text")]
    if not texts:
        raise NoReply("empty reply")
    return texts


def fake_address(user: str) -> str:
    """A patient's own client address (10.x.y.z), as a proxy in front of the gateway sends
    it in X-Forwarded-For: each patient is its own web client."""
    n = uuid.uuid5(uuid.NAMESPACE_URL, user).int
    return f"10.{n % 250 + 1}.{(n >> 8) % 256}.{(n >> 16) % 250 + 1}"


class WebTarget(Target):
    """The gateway's web chat, /webhooks/rest/webhook: the reply is in the response."""

    name, channel = "web", "web"

    def __init__(self, client: httpx.AsyncClient):
        self.client = client
        self.sessions: dict[str, str] = {}

    def user_of(self, patient: Patient) -> str:
        return "bench" + uuid.uuid4().hex  # a fresh chat page for every conversation

    async def exchange(self, user: str, text: str) -> tuple[float, list[str]]:
        try:
            resp = await self.client.post("/webhooks/rest/webhook",
                                          json={"sender": user, "message": text},
                                          headers={"X-Forwarded-For": fake_address(user)})
        except httpx.HTTPError as exc:
            raise NoReply(type(exc).__name__) from exc
        return time.monotonic(), _texts(resp)


class RasaTarget(Target):
    """Rasa's REST channel straight, with the sender key and metadata the gateway builds:
    the baseline, on the same model, tracker store and action server."""

    def __init__(self, client: httpx.AsyncClient, channel: str):
        self.client, self.channel = client, channel
        self.name = f"rasa-{channel}"

    def user_of(self, patient: Patient) -> str:
        return patient.phone if self.channel == "sms" else "bench" + uuid.uuid4().hex

    async def exchange(self, user: str, text: str) -> tuple[float, list[str]]:
        metadata = {"channel": self.channel, "channel_user": user}
        if self.channel == "web":
            metadata["client_ref"] = uuid.uuid5(uuid.NAMESPACE_URL, user).hex
        try:
            resp = await self.client.post("/webhooks/rest/webhook", json={
                "sender": sender_key(self.channel, user), "message": text,
                "metadata": metadata})
        except httpx.HTTPError as exc:
            raise NoReply(type(exc).__name__) from exc
        return time.monotonic(), _texts(resp)


# -- who talks, over what ---------------------------------------------------------------
@dataclass
class Mix:
    """Conversations weighted as a clinic's traffic, each over a target chosen by weight."""

    scripts: list[tuple[str, Script, float, float]]  # name, script, weight, nominal turns
    targets: list[tuple[Target, float]]  # target, weight

    def mean_turns(self) -> float:
        total = sum(w for _, _, w, _ in self.scripts)
        return sum(w * n for _, _, w, n in self.scripts) / total

    def pick(self, rnd: random.Random) -> tuple[str, Script, Target]:
        name, script, _, _ = rnd.choices(self.scripts, [s[2] for s in self.scripts])[0]
        target = rnd.choices([t for t, _ in self.targets], [w for _, w in self.targets])[0]
        return name, script, target


class PatientPool:
    """Patients not in a conversation now, least recently used first: no patient is in two
    conversations at once, and every patient is used once before any is used again."""

    def __init__(self, patients: Iterable[Patient]):
        self.free = deque(patients)
        self.exhausted = 0

    def take(self) -> Patient | None:
        if not self.free:
            self.exhausted += 1
            return None
        return self.free.popleft()

    def give_back(self, patient: Patient) -> None:
        self.free.append(patient)


@dataclass
class Stage:
    """What one run at one offered rate produced."""

    name: str
    rate: float
    started: float
    window: tuple[float, float]  # the steady part: after the ramp, until arrivals stop
    messages: list[Message] = field(default_factory=list)
    conversations: int = 0
    reached_goal: int = 0
    skipped: int = 0  # arrivals with no free patient (the pool is too small)
    goals: dict[str, list[int]] = field(default_factory=dict)  # script -> [reached, held]

    def in_window(self) -> list[Message]:
        a, b = self.window
        return [m for m in self.messages if a <= m.scheduled < b]

    def row(self) -> dict:
        a, b = self.window
        span = b - a
        window = self.in_window()
        lat = sorted(m.latency for m in window if m.latency is not None)
        answered = sum(1 for m in self.messages if m.answered_at is not None and a <= m.answered_at < b)
        return {
            "stage": self.name, "offered_msgs_per_s": round(len(window) / span, 1),
            "achieved_msgs_per_s": round(answered / span, 1), "messages": len(self.messages),
            "errors": sum(1 for m in self.messages if m.error),
            "p50_ms": pct_ms(lat, 50), "p95_ms": pct_ms(lat, 95), "p99_ms": pct_ms(lat, 99),
            "conversations": self.conversations, "reached_goal": self.reached_goal,
            "skipped": self.skipped, "goals": self.goals,
            "p50_ms_by_target": {
                t: pct_ms(sorted(m.latency for m in window
                                 if m.target == t and m.latency is not None), 50)
                for t in sorted({m.target for m in window})},
        }


def pct_ms(sorted_values: list[float], p: float) -> float | None:
    """The p-th percentile (nearest rank) in milliseconds."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return round(sorted_values[rank - 1] * 1000, 1)


async def _sleep_until(t: float) -> None:
    delay = t - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def converse(stage: Stage, name: str, script: Script, target: Target, patient: Patient,
                   scheduled: float, rnd: random.Random, think_s: float,
                   is_error: Callable[[str], bool]) -> bool:
    """One patient's conversation from its arrival at `scheduled`; True at its goal."""
    user = target.user_of(patient)
    conv = script(patient, rnd, target.channel)
    try:
        text = next(conv)
    except StopIteration as stop:
        return bool(stop.value)
    while True:
        await _sleep_until(scheduled)
        msg = Message(target.name, name, user, scheduled)
        stage.messages.append(msg)
        try:
            at, parts = await target.exchange(user, text)
        except NoReply as exc:
            msg.error = str(exc)
            return False
        msg.answered_at = at
        if is_error(parts[0]):
            msg.error = "unavailable"
            return False
        scheduled = at + think_s * rnd.uniform(0.5, 1.5)
        await _sleep_until(scheduled)  # reading the reply, whose later parts arrive meanwhile
        reply = "\n".join(parts + target.later_parts(user))
        try:
            text = conv.send(reply)
        except StopIteration as stop:
            return bool(stop.value)


async def run_stage(name: str, rate: float, duration_s: float, ramp_s: float, mix: Mix,
                    pool: PatientPool, seed: int, think_s: float = 2.0,
                    is_error: Callable[[str], bool] = lambda _: False) -> Stage:
    """Offer `rate` messages/s for duration_s (patients arriving at rate / mean turns a
    second), then wait for every conversation begun to end."""
    rnd = random.Random(f"{seed}:{rate}")  # both sides of a level: the same arrivals
    arrivals_per_s = rate / mix.mean_turns()
    start = time.monotonic() + 0.2
    stage = Stage(name, rate, start, (start + ramp_s, start + duration_s))
    tasks: set[asyncio.Task] = set()

    async def one(conv_name, script, target, patient, at, conv_rnd):
        try:
            done = await converse(stage, conv_name, script, target, patient, at, conv_rnd,
                                  think_s, is_error)
            stage.reached_goal += int(done)
            tally = stage.goals.setdefault(conv_name, [0, 0])
            tally[0] += int(done)
            tally[1] += 1
        finally:
            pool.give_back(patient)

    t = start
    while True:
        t += rnd.expovariate(arrivals_per_s)
        if t >= start + duration_s:
            break
        conv_name, script, target = mix.pick(rnd)
        conv_rnd = random.Random(rnd.random())
        await _sleep_until(t)
        patient = pool.take()
        if patient is None:
            stage.skipped += 1
            continue
        stage.conversations += 1
        task = asyncio.create_task(one(conv_name, script, target, patient, t, conv_rnd))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*list(tasks))
    return stage

"""End-to-end load through the SMS webhook, against bare Rasa as the baseline.

    .venv/bin/python bench/e2e_bench.py [--levels 1,10,50] [--turns 4] [--workers 1]

Starts the embedded tree (action server, Rasa on models/current, the gateway) on a fresh
SQLite clinic, with a local double as Twilio's API. Each simulated patient sends --turns
messages, one after the other, as signed POSTs to /webhooks/twilio/sms; a message's latency runs
from the POST to the first reply reaching the Twilio double. The same conversations (fresh
senders) then go straight to Rasa's /webhooks/rest/webhook, whose latency is the response time.
Prints messages/s, p50/p95 latency and errors per level, and pipeline/Rasa p50 ratio.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from billing.core.sender_key import SenderKey, sender_key
from bot.pipeline import Replies
from bot.processes import free_port
from bot.supervisor import Supervisor, load_profile
from clinic.settings import Settings
from tests.doubles.http import Recorded, Reply
from tests.doubles.twilio import TwilioDouble

ACCOUNT_SID = "AC" + "be7c4" * 6 + "be"
AUTH_TOKEN = "bench-auth-token-" + uuid.uuid4().hex
PUBLIC = "https://bench.billbot.test"
TURNS = ("hi", "what do I owe", "thanks", "how can I pay", "bye", "hello again")
REPLY_TIMEOUT_S = 60.0


class NotifyingTwilio(TwilioDouble):
    """The Twilio double, telling the benchmark the moment a reply to a phone arrives."""

    def __init__(self, *args):
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiters: dict[str, asyncio.Queue] = {}
        super().__init__(*args)

    def respond(self, rec: Recorded) -> Reply:
        reply = super().respond(rec)
        to = rec.params.get("To")
        if reply.status == 201 and to in self.waiters and self.loop is not None:
            self.loop.call_soon_threadsafe(self.waiters[to].put_nowait,
                                           (time.perf_counter(), rec.params.get("Body", "")))
        return reply


@dataclass
class Level:
    patients: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed_s: float = 0.0

    def row(self) -> dict:
        lat = sorted(self.latencies)
        return {
            "patients": self.patients, "messages": len(lat), "errors": self.errors,
            "msgs_per_s": round(len(lat) / self.elapsed_s, 1) if self.elapsed_s else 0.0,
            "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
            "p95_ms": round(lat[max(0, int(len(lat) * 0.95) - 1)] * 1000, 1) if lat else None,
        }


async def sms_patient(client: httpx.AsyncClient, twilio: NotifyingTwilio, phone: str,
                      turns: int, level: Level, unavailable: str) -> None:
    queue = twilio.waiters[phone]
    validator = RequestValidator(AUTH_TOKEN)
    for i in range(turns):
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": phone,
                "To": "+15550100000", "Body": TURNS[i % len(TURNS)], "NumMedia": "0"}
        sig = validator.compute_signature(PUBLIC + "/webhooks/twilio/sms", form)
        while not queue.empty():  # later parts of the previous reply
            queue.get_nowait()
        started = time.perf_counter()
        try:
            resp = await client.post("/webhooks/twilio/sms", data=form,
                                     headers={"X-Twilio-Signature": sig})
            if resp.status_code != 200:
                level.errors += 1
                continue
            at, body = await asyncio.wait_for(queue.get(), REPLY_TIMEOUT_S)
        except (TimeoutError, httpx.HTTPError):
            level.errors += 1
            continue
        if body == unavailable:
            level.errors += 1
            continue
        level.latencies.append(at - started)
        await asyncio.sleep(0.3)  # let the reply's further parts go out before the next turn


async def rasa_patient(client: httpx.AsyncClient, sender: str, turns: int, level: Level) -> None:
    for i in range(turns):
        started = time.perf_counter()
        try:
            resp = await client.post("/webhooks/rest/webhook", json={
                "sender": sender, "message": TURNS[i % len(TURNS)],
                "metadata": {"channel": "sms", "channel_user": SenderKey.parse(sender).user}})
            ok = resp.status_code == 200 and resp.json()
        except httpx.HTTPError:
            ok = False
        if not ok:
            level.errors += 1
            continue
        level.latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.3)  # the same think time as the SMS patients


async def run_level(kind: str, n: int, turns: int, gateway: str, rasa: str,
                    twilio: NotifyingTwilio, unavailable: str) -> Level:
    level = Level(n)
    phones = [f"+1999{uuid.uuid4().int % 10**7:07d}" for _ in range(n)]
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    started = time.perf_counter()
    if kind == "sms":
        for p in phones:
            twilio.waiters[p] = asyncio.Queue()
        async with httpx.AsyncClient(base_url=gateway, timeout=REPLY_TIMEOUT_S,
                                     limits=limits) as client:
            await asyncio.gather(*(sms_patient(client, twilio, p, turns, level, unavailable)
                                   for p in phones))
    else:
        async with httpx.AsyncClient(base_url=rasa, timeout=REPLY_TIMEOUT_S,
                                     limits=limits) as client:
            await asyncio.gather(*(rasa_patient(client, sender_key("sms", p), turns, level)
                                   for p in phones))
    # Think time is not serving time: throughput counts the time spent waiting for replies.
    level.elapsed_s = time.perf_counter() - started - 0.3 * turns
    return level


async def bench(args, sup: Supervisor, twilio: NotifyingTwilio, unavailable: str) -> dict:
    twilio.loop = asyncio.get_running_loop()
    gateway, rasa = sup.gateway_url, sup.rasa_urls[0]
    # Warm up both paths (model caches, connection pools, SQLite pages).
    await run_level("sms", 2, 2, gateway, rasa, twilio, unavailable)
    await run_level("rasa", 2, 2, gateway, rasa, twilio, unavailable)
    results = {"sms": [], "rasa": []}
    for n in args.levels:
        for kind in ("rasa", "sms"):
            level = await run_level(kind, n, args.turns, gateway, rasa, twilio, unavailable)
            results[kind].append(level.row())
            print(f"{kind:>4} {n:>3} patients: {json.dumps(level.row())}", flush=True)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--levels", default="1,10,50",
                    type=lambda s: [int(x) for x in s.split(",")])
    ap.add_argument("--turns", type=int, default=4)
    ap.add_argument("--workers", type=int, default=1, help="gateway workers")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    ap.add_argument("--model", type=Path, help="a trained dialogue model (default models/current)")
    args = ap.parse_args()

    from billing.db.migrate import upgrade
    from bot.commands.serve import ensure_demo_database
    from bot.rasa_env import current_model

    model = args.model.resolve() if args.model else current_model()
    if model is None or "-nlu-" in model.name:
        print("no trained dialogue model at models/current: run `billbot train`", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="billbot-bench-"))
    db_url = f"sqlite:///{work / 'bench.db'}"
    upgrade(db_url)
    with NotifyingTwilio(ACCOUNT_SID, AUTH_TOKEN) as twilio:
        settings = Settings(
            database_url=db_url, public_base_url=PUBLIC, gateway_port=free_port(),
            action_server_port=free_port(), twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN, twilio_from_number="+15550100000",
            twilio_api_base_url=twilio.url, session_secret=uuid.uuid4().hex, log_level="WARNING",
            rasa_timeout_s=REPLY_TIMEOUT_S)
        ensure_demo_database(settings, out=lambda _: None)
        profile = replace(load_profile("embedded", {
            "RASA_TRACKER_STORE_URL": f"sqlite:///{work / 'rasa-tracker.db'}"}),
            gateway_workers=args.workers, rasa_base_port=free_port(), run_dir=work)
        os.environ.update({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                           "TWILIO_FROM_NUMBER": "+15550100000",
                           "TWILIO_API_BASE_URL": twilio.url, "PUBLIC_BASE_URL": PUBLIC,
                           "SESSION_SECRET": settings.session_secret, "LOG_LEVEL": "WARNING",
                           "RASA_TIMEOUT_S": str(REPLY_TIMEOUT_S)})
        sup = Supervisor(settings, profile, model, out=lambda m: print(m, flush=True),
                         schedule_jobs=False)
        sup.start()
        try:
            results = asyncio.run(bench(args, sup, twilio, Replies(settings).unavailable()))
        finally:
            sup.stop()
    print("\n| patients | SMS msg/s | SMS p50 ms | SMS p95 ms | errors | Rasa msg/s | "
          "Rasa p50 ms | Rasa p95 ms | errors | p50 ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s, r in zip(results["sms"], results["rasa"], strict=True):
        ratio = (s["p50_ms"] / r["p50_ms"]) if s["p50_ms"] and r["p50_ms"] else None
        print(f"| {s['patients']} | {s['msgs_per_s']} | {s['p50_ms']} | {s['p95_ms']} | "
              f"{s['errors']} | {r['msgs_per_s']} | {r['p50_ms']} | {r['p95_ms']} | "
              f"{r['errors']} | {ratio:.2f} |" if ratio else "| - |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

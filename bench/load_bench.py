"""Open-loop load of realistic conversations through the pipeline, against bare Rasa, and a soak.

    .venv/bin/python bench/load_bench.py [--levels 5,10,20,40] [--duration 40] [--soak-minutes 10]
                                         [--soak-rate 10] [--json out.json] [--model PATH]

Starts the embedded tree (action server, Rasa, one gateway worker) on a fresh SQLite bench
clinic (bench/bench_clinic.py: 2,400 generated patients) with a local double as Twilio's API.
At each offered rate, patients arrive (bench/openloop.py) and hold the conversations of
bench/conversations.py, 70% over signed SMS webhooks and 30% over the web chat; then the same
conversations, with the other half of the patients, go straight to Rasa's REST channel at the
same rate (the baseline: same model, tracker store and action server). Per stage: offered and
achieved messages/s, latency p50/p95/p99 from the scheduled send to the reply's first part,
errors, CPU and RSS of each process, and the exactly-once audit of the SMS replies
(bench/accounting.py). The soak then runs the pipeline at --soak-rate for --soak-minutes and
checks the audit and the RSS of every process over time.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import bench_clinic
from bench.accounting import audit, gateway_answers
from bench.conversations import CLINIC_MIX, says
from bench.openloop import (
    Mix,
    NotifyingTwilio,
    PatientPool,
    RasaTarget,
    SmsTarget,
    Stage,
    WebTarget,
    run_stage,
)
from bench.procstats import Sampler
from bot.processes import free_port
from bot.supervisor import Supervisor, load_profile
from clinic.settings import Settings

ACCOUNT_SID = "AC" + "be7c4" * 6 + "be"
AUTH_TOKEN = "bench-auth-token-" + uuid.uuid4().hex
PUBLIC = "https://bench.billbot.test"
FROM = "+15550100000"
GROUPS = ("gateway", "rasa", "actions", "generator")


def unavailable(first_part: str) -> bool:
    """The gateway's own answer when Rasa failed: an error, not a reply."""
    return says(first_part, "gateway.unavailable", "gateway.unavailable_away")


class Bench:
    def __init__(self, args, sup: Supervisor, twilio: NotifyingTwilio, sampler: Sampler,
                 patients, db_url: str):
        self.args, self.sup, self.twilio, self.sampler = args, sup, twilio, sampler
        self.db_url = db_url
        self.pipeline_pool = PatientPool(patients[0::2])
        self.rasa_pool = PatientPool(patients[1::2])
        self.all_patients = patients

    def resources(self, stage: Stage) -> dict:
        a, b = stage.window
        return {"cpu_percent": self.sampler.cpu_percent(a, b),
                "rss_max_mib": self.sampler.rss_max(a, b)}

    async def stage(self, side: str, rate: float, duration: float, ramp: float,
                    pool: PatientPool) -> dict:
        mix = self.mixes[side]
        sms_from = len(self.twilio.deliveries)
        rasa_before = await self.rasa_seconds()
        self.sms.sent = defaultdict(list)
        stage = await run_stage(side, rate, duration, ramp, mix, pool, self.args.seed,
                                think_s=self.args.think,
                                is_error=unavailable if side == "pipeline" else lambda _: False)
        row = {**stage.row(), **self.resources(stage)}
        row["rate"] = rate
        if side == "pipeline":
            rasa_after = await self.rasa_seconds()
            answered = [m.latency for m in stage.messages if m.latency is not None]
            calls = rasa_after[1] - rasa_before[1]
            if answered and calls:
                row["mean_ms"] = round(1000 * sum(answered) / len(answered), 1)
                row["rasa_mean_ms"] = round(1000 * (rasa_after[0] - rasa_before[0]) / calls, 1)
            await self.quiesce()  # replies still owed (after an overload) count as delivered
            result = audit(self.sms.sent, self.twilio.deliveries[sms_from:],
                           gateway_answers(self.db_url))
            row["audit"] = {"messages": result.messages, "lost": len(result.lost),
                            "duplicated": len(result.duplicated),
                            "reordered": len(result.reordered)}
        print(f"{side:>8} {rate:>5} msg/s: {json.dumps(row)}", flush=True)
        await self.quiesce()
        return row

    async def rasa_seconds(self) -> tuple[float, float]:
        """The gateway's own measure of its Rasa calls (sum of seconds, count), /metrics."""
        async with httpx.AsyncClient(base_url=self.sup.gateway_url, timeout=10) as client:
            body = (await client.get("/metrics")).text
        values = {}
        for line in body.splitlines():
            for name in ("billbot_rasa_latency_seconds_sum", "billbot_rasa_latency_seconds_count"):
                if line.startswith(name):
                    values[name] = float(line.rsplit(" ", 1)[1])
        return (values.get("billbot_rasa_latency_seconds_sum", 0.0),
                values.get("billbot_rasa_latency_seconds_count", 0.0))

    async def quiesce(self, timeout_s: float = 300.0) -> None:
        """Before the next stage: wait until the gateway has no message left to process
        (after an overload, patients gave up on replies it still owes), then let Rasa and
        the action server finish what they hold."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and await asyncio.to_thread(  # noqa: ASYNC110
                pending_inbound, self.db_url):
            await asyncio.sleep(1.0)
        await asyncio.sleep(3.0)

    async def run(self) -> dict:
        args = self.args
        self.twilio.loop = asyncio.get_running_loop()
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
        timeout = httpx.Timeout(args.reply_timeout)
        async with httpx.AsyncClient(base_url=self.sup.gateway_url, timeout=timeout,
                                     limits=limits) as gw, \
                httpx.AsyncClient(base_url=self.sup.rasa_urls[0], timeout=timeout,
                                  limits=limits) as rasa:
            self.sms = SmsTarget(gw, self.twilio, AUTH_TOKEN, PUBLIC, ACCOUNT_SID, FROM,
                                 args.reply_timeout)
            web_share = args.web_share
            self.mixes = {
                "pipeline": Mix(CLINIC_MIX, [(self.sms, 1 - web_share),
                                             (WebTarget(gw), web_share)]),
                "rasa": Mix(CLINIC_MIX, [(RasaTarget(rasa, "sms"), 1 - web_share),
                                         (RasaTarget(rasa, "web"), web_share)]),
            }
            pools = {"pipeline": self.pipeline_pool, "rasa": self.rasa_pool}
            results: dict = {"levels": [], "soak": None}
            for side in ("rasa", "pipeline"):  # warm-up: caches, pools, SQLite pages
                await self.stage(side, 5.0, 12.0, 0.0, pools[side])
            for rate in args.levels:
                level = {"rate": rate}
                for side in ("rasa", "pipeline"):
                    if side == "rasa" and args.no_rasa:
                        continue
                    level[side] = await self.stage(side, rate, args.duration, args.ramp,
                                                   pools[side])
                results["levels"].append(level)
            if args.soak_minutes > 0:
                soak_pool = PatientPool(self.all_patients)
                row = await self.stage("pipeline", args.soak_rate, args.soak_minutes * 60,
                                       60.0, soak_pool)
                row["memory"] = memory_trend(self.sampler, args.soak_minutes)
                results["soak"] = row
        return results


def pending_inbound(database_url: str) -> int:
    """Inbound messages the gateway has stored and not finished."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(
                "SELECT count(*) FROM messages WHERE direction = 'in' "
                "AND status IN ('received', 'processing')")).scalar_one()
    finally:
        engine.dispose()


def memory_trend(sampler: Sampler, minutes: float) -> dict:
    """Each group's RSS at the soak's start (after its first minute), middle and end, and
    the slope of a least-squares line through the samples after the first minute."""
    end = sampler.samples[-1].at
    start = end - minutes * 60
    after = [s for s in sampler.samples if s.at >= start + 60]
    out = {}
    for name in GROUPS:
        pts = [(s.at, s.rss_mib.get(name, 0.0)) for s in after]
        if len(pts) < 3:
            continue
        n = len(pts)
        mx = sum(t for t, _ in pts) / n
        my = sum(v for _, v in pts) / n
        var = sum((t - mx) ** 2 for t, _ in pts) or 1.0
        slope = sum((t - mx) * (v - my) for t, v in pts) / var * 60
        out[name] = {"first_mib": round(pts[0][1]), "middle_mib": round(pts[n // 2][1]),
                     "last_mib": round(pts[-1][1]), "max_mib": round(max(v for _, v in pts)),
                     "slope_mib_per_min": round(slope, 2)}
    return out


def fmt(v) -> str:
    return "-" if v is None else f"{v:,.0f}" if isinstance(v, (int, float)) and v >= 100 \
        else str(v)


def tables(results: dict) -> str:
    lines = [("| offered msg/s | pipeline: achieved msg/s | p50 ms | p95 ms | p99 ms | errors |"
              " Rasa: achieved msg/s | p50 ms | p95 ms | p99 ms | errors | p50 ratio |"
              " SMS audit: lost/dup/reordered |"),
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for level in results["levels"]:
        p, r = level.get("pipeline", {}), level.get("rasa", {})
        ratio = (f"{p['p50_ms'] / r['p50_ms']:.2f}" if p.get("p50_ms") and r.get("p50_ms")
                 else "-")
        a = p.get("audit", {})
        lines.append(
            f"| {level['rate']:g} ({p.get('offered_msgs_per_s', '-')}) | "
            f"{p.get('achieved_msgs_per_s', '-')} | {fmt(p.get('p50_ms'))} | "
            f"{fmt(p.get('p95_ms'))} | {fmt(p.get('p99_ms'))} | {p.get('errors', '-')} | "
            f"{r.get('achieved_msgs_per_s', '-')} | {fmt(r.get('p50_ms'))} | "
            f"{fmt(r.get('p95_ms'))} | {fmt(r.get('p99_ms'))} | {r.get('errors', '-')} | "
            f"{ratio} | {a.get('lost', '-')}/{a.get('duplicated', '-')}/"
            f"{a.get('reordered', '-')} of {a.get('messages', '-')} |")
    lines += ["", ("| stage | CPU % gateway | Rasa | actions | generator | RSS MiB gateway | "
                   "Rasa | actions | conversations (goal reached) |"),
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rows = [(f"{side} {lv['rate']:g}/s", lv[side]) for lv in results["levels"]
            for side in ("rasa", "pipeline") if side in lv]
    if results.get("soak"):
        rows.append((f"soak {results['soak']['rate']:g}/s", results["soak"]))
    for name, row in rows:
        cpu, rss = row.get("cpu_percent", {}), row.get("rss_max_mib", {})
        lines.append(
            f"| {name} | {fmt(cpu.get('gateway'))} | {fmt(cpu.get('rasa'))} | "
            f"{fmt(cpu.get('actions'))} | {fmt(cpu.get('generator'))} | "
            f"{fmt(rss.get('gateway'))} | {fmt(rss.get('rasa'))} | {fmt(rss.get('actions'))} | "
            f"{row['conversations']} ({row['reached_goal']}) |")
    soak = results.get("soak")
    if soak:
        a = soak["audit"]
        lines += ["", (f"Soak: {soak['rate']:g} msg/s offered, {soak['achieved_msgs_per_s']} "
                       f"achieved, p50/p95/p99 {soak['p50_ms']}/{soak['p95_ms']}/"
                       f"{soak['p99_ms']} ms, {soak['errors']} errors; SMS audit "
                       f"{a['messages']} messages, {a['lost']} lost, {a['duplicated']} "
                       f"duplicated, {a['reordered']} reordered."), "",
                  "| process | RSS MiB after 1 min | middle | end | max | slope MiB/min |",
                  "|---|---:|---:|---:|---:|---:|"]
        for name, m in soak["memory"].items():
            lines.append(f"| {name} | {fmt(m['first_mib'])} | {fmt(m['middle_mib'])} | "
                         f"{fmt(m['last_mib'])} | {fmt(m['max_mib'])} | "
                         f"{m['slope_mib_per_min']} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--levels", default="5,10,20,40",
                    type=lambda s: [float(x) for x in s.split(",") if x])
    ap.add_argument("--duration", type=float, default=40.0, help="seconds of arrivals a level")
    ap.add_argument("--ramp", type=float, default=10.0,
                    help="seconds at a level's start left out of its figures")
    ap.add_argument("--think", type=float, default=2.0,
                    help="mean seconds a patient reads a reply before answering")
    ap.add_argument("--web-share", type=float, default=0.3)
    ap.add_argument("--soak-minutes", type=float, default=10.0)
    ap.add_argument("--soak-rate", type=float, default=10.0)
    ap.add_argument("--no-rasa", action="store_true", help="skip the bare-Rasa baseline")
    ap.add_argument("--patients", type=int, default=bench_clinic.DEFAULT_PATIENTS)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--reply-timeout", type=float, default=20.0,
                    help="seconds a patient waits for a reply before giving up (an error)")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    ap.add_argument("--model", type=Path, help="a trained dialogue model (default models/current)")
    args = ap.parse_args()

    from bot.rasa_env import current_model

    model = args.model.resolve() if args.model else current_model()
    if model is None or "-nlu-" in model.name:
        print("no trained dialogue model at models/current: run `billbot train`", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="billbot-load-"))
    db_url = f"sqlite:///{work / 'bench.db'}"
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_FROM_NUMBER": FROM, "PUBLIC_BASE_URL": PUBLIC,
           "SESSION_SECRET": uuid.uuid4().hex, "LOG_LEVEL": "WARNING",
           "RASA_TIMEOUT_S": str(args.reply_timeout), "TRUSTED_PROXIES": "127.0.0.1/32"}
    with NotifyingTwilio(ACCOUNT_SID, AUTH_TOKEN) as twilio:
        env["TWILIO_API_BASE_URL"] = twilio.url
        os.environ.update(env)
        settings = Settings(
            database_url=db_url, public_base_url=PUBLIC, gateway_port=free_port(),
            action_server_port=free_port(), twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN, twilio_from_number=FROM,
            twilio_api_base_url=twilio.url, session_secret=env["SESSION_SECRET"],
            log_level="WARNING", rasa_timeout_s=args.reply_timeout,
            trusted_proxies="127.0.0.1/32")
        patients, counts = bench_clinic.build(settings, args.patients, args.seed)
        print(f"bench clinic: {counts} ({db_url})", flush=True)
        profile = replace(load_profile("embedded", {
            "RASA_TRACKER_STORE_URL": f"sqlite:///{work / 'rasa-tracker.db'}"}),
            gateway_workers=1, rasa_base_port=free_port(), run_dir=work)
        sup = Supervisor(settings, profile, model, out=lambda m: print(m, flush=True),
                         schedule_jobs=False)
        sup.start()
        groups = {{"action server": "actions", "rasa[0]": "rasa"}.get(c.name, c.name):
                  c.popen.pid for c in sup.children}
        sampler = Sampler(groups, {"generator": os.getpid()}, interval_s=1.0)
        sampler.start()
        started = time.monotonic()
        try:
            results = asyncio.run(Bench(args, sup, twilio, sampler, patients, db_url).run())
        finally:
            sampler.stop()
            sup.stop()
    results["clinic"] = counts
    results["model"] = model.name
    results["seconds"] = round(time.monotonic() - started)
    print()
    print(tables(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Memory of each process of the tree: RSS of the supervisor, the action server, each Rasa
instance and the gateway (each uvicorn worker), after some traffic.

    .venv/bin/python bench/memory.py [--profile embedded] [--workers 1] [--messages 40]

Starts the tree on a fresh SQLite demo clinic (as `billbot demo` does, on free ports), sends
--messages web chat messages through the gateway, then reads VmRSS from /proc.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from billing.db.migrate import upgrade
from bot.commands.serve import ensure_demo_database
from bot.processes import free_port
from bot.rasa_env import current_model
from bot.supervisor import Supervisor, group_pids, load_profile
from clinic.settings import Settings


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def command(pid: int) -> str:
    args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    text = " ".join(a.decode(errors="replace") for a in args if a)
    return text.replace(str(ROOT) + "/", "")[:70]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--messages", type=int, default=40)
    args = ap.parse_args()
    model = current_model()
    if model is None or "-nlu-" in model.name:
        print("no trained dialogue model at models/current: run `billbot train`", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="billbot-memory-"))
    settings = Settings(database_url=f"sqlite:///{work / 'demo.db'}", gateway_port=free_port(),
                        action_server_port=free_port(), session_secret=uuid.uuid4().hex)
    upgrade(settings.database_url)
    ensure_demo_database(settings, out=lambda _: None)
    profile = replace(load_profile("embedded", {
        "RASA_TRACKER_STORE_URL": f"sqlite:///{work / 'rasa-tracker.db'}"}),
        gateway_workers=args.workers, rasa_base_port=free_port(), run_dir=work)
    os.environ["SESSION_SECRET"] = settings.session_secret
    sup = Supervisor(settings, profile, model, out=lambda _: None, schedule_jobs=False)
    sup.start()
    try:
        with httpx.Client(base_url=sup.gateway_url, timeout=60) as client:
            for i in range(args.messages):
                client.post("/webhooks/rest/webhook", json={
                    "sender": f"memory{i % 8:04d}", "message": ("hi", "what do I owe",
                                                                "thanks", "bye")[i % 4]})
        rows = [("supervisor (billbot serve)", os.getpid(), rss_mib(os.getpid()))]
        for child in sup.children:
            for pid in sorted(group_pids(child.popen.pid)):
                rows.append((f"{child.name}: {command(pid)}", pid, rss_mib(pid)))
    finally:
        sup.stop()
    print("| process | pid | RSS MiB |\n|---|---:|---:|")
    for name, pid, mib in rows:
        print(f"| {name} | {pid} | {mib:.0f} |")
    print(f"| **total** | | **{sum(r[2] for r in rows):.0f}** |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

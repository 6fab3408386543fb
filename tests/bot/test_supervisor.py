"""The process tree: profiles, Rasa's generated endpoints, the scheduled jobs, the gateway run
by uvicorn with several workers over several Rasa URLs, and stopping without orphans."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml

from bot.processes import free_port, wait_healthy
from bot.supervisor import (
    Job,
    Scheduler,
    Supervisor,
    endpoints_yaml,
    gateway_command,
    group_pids,
    load_profile,
    spawn,
    stop_group,
)
from clinic.settings import ROOT, Settings, load_settings
from tests.doubles.http import HttpDouble, Recorded, Reply


# -- profiles and Rasa's endpoints -----------------------------------------------------
def test_embedded_profile_is_one_rasa_on_a_sqlite_tracker_store():
    p = load_profile("embedded", {})
    assert (p.rasa_instances, p.gateway_workers, p.lock_store_url) == (1, 1, "")
    assert p.tracker_store_url.startswith("sqlite:///") and p.tracker_store_url.endswith(
        "var/rasa-tracker.db")
    assert p.retention_days == 90


def test_production_profile_scales_out_on_postgresql_and_redis():
    p = load_profile("production", {"RASA_INSTANCES": "3", "GATEWAY_WORKERS": "4",
                                    "RETENTION_DAYS": "30"})
    assert (p.rasa_instances, p.gateway_workers, p.retention_days) == (3, 4, 30)
    assert p.tracker_store_url == "postgresql://postgres@127.0.0.1:5432/rasa"
    assert p.lock_store_url == "redis://127.0.0.1:6379/1"


@pytest.mark.parametrize("env, message", [
    ({"RASA_INSTANCES": "2", "RASA_TRACKER_STORE_URL": "sqlite:////tmp/x.db",
      "RASA_LOCK_STORE_URL": "redis://127.0.0.1:6379/1"}, "shared SQL tracker store"),
    ({"RASA_INSTANCES": "0"}, "at least 1"),
])
def test_a_profile_that_cannot_scale_out_is_refused(env, message):
    with pytest.raises(ValueError, match=message):
        load_profile("production" if "RASA_LOCK_STORE_URL" in env else "embedded", env)


def test_the_profile_comes_from_the_settings():
    settings = Settings(rasa_instances=3, gateway_workers=2, rasa_base_port=6100,
                        rasa_tracker_store_url="postgresql://rasa:pw@db.internal:5433/tracker",
                        rasa_lock_store_url="redis://cache.internal:6380/2", retention_days=7,
                        reminder_interval_minutes=2.5, retention_interval_hours=1.5)
    p = load_profile("embedded", {"RASA_INSTANCES": "9"}, settings=settings)  # settings win
    assert (p.rasa_instances, p.gateway_workers, p.rasa_base_port) == (3, 2, 6100)
    assert p.tracker_store_url == "postgresql://rasa:pw@db.internal:5433/tracker"
    assert p.lock_store_url == "redis://cache.internal:6380/2"
    assert (p.retention_days, p.reminder_interval_s, p.retention_interval_s) == (7, 150.0, 5400.0)
    assert "pw@" not in repr(settings) and "cache.internal" not in repr(settings)


def test_every_process_tree_variable_is_a_setting_with_load_profiles_defaults():
    env = {"RASA_BASE_PORT": "6000", "REMINDER_INTERVAL_MINUTES": "5",
           "RETENTION_INTERVAL_HOURS": "12", "RETENTION_DAYS": "45", "GATEWAY_WORKERS": "3",
           "RASA_INSTANCES": ""}
    s = load_settings(env)
    assert (s.rasa_base_port, s.reminder_interval_minutes, s.retention_interval_hours,
            s.retention_days, s.gateway_workers, s.rasa_instances) == (6000, 5.0, 12.0, 45, 3, None)
    p = load_profile("embedded", env)
    assert (p.rasa_base_port, p.reminder_interval_s, p.retention_interval_s) == (6000, 300.0, 43200.0)
    default = load_profile("production", {})
    assert (default.rasa_instances, default.gateway_workers, default.rasa_base_port,
            default.retention_days, default.reminder_interval_s,
            default.retention_interval_s) == (2, 2, 5005, 90, 900.0, 86400.0)


def test_env_example_lists_every_setting():
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    assert {name.upper() for name in Settings.model_fields} <= listed


def test_several_instances_without_a_lock_store_are_refused():
    with pytest.raises(ValueError, match="lock store"):
        load_profile("embedded", {"RASA_INSTANCES": "2"})
    with pytest.raises(ValueError, match="unknown profile"):
        load_profile("staging", {})


def test_production_endpoints_name_postgres_tracker_store_and_redis_lock_store():
    doc = yaml.safe_load(endpoints_yaml(
        "http://127.0.0.1:5055/webhook", "postgresql://rasa_user:s3cr%t@db.internal:5433/rasa",
        "redis://127.0.0.1:6379/3"))
    assert doc["action_endpoint"] == {"url": "http://127.0.0.1:5055/webhook"}
    assert doc["tracker_store"] == {
        "type": "SQL", "dialect": "postgresql", "url": "db.internal", "port": 5433,
        "db": "rasa", "login_db": "postgres", "username": "rasa_user", "password": "s3cr%t"}
    assert doc["lock_store"] == {"type": "redis", "url": "127.0.0.1", "port": 6379, "db": 3,
                                 "key_prefix": "billbot"}


def test_embedded_endpoints_keep_the_tracker_in_a_sqlite_file():
    doc = yaml.safe_load(endpoints_yaml("http://127.0.0.1:5055/webhook",
                                        "sqlite:////srv/billbot/var/rasa-tracker.db"))
    assert doc["tracker_store"] == {"type": "SQL", "dialect": "sqlite",
                                    "db": "/srv/billbot/var/rasa-tracker.db"}
    assert "lock_store" not in doc


def test_the_template_in_nlu_matches_the_generated_production_endpoints():
    template = yaml.safe_load((ROOT / "nlu" / "endpoints.production.yml").read_text())
    generated = yaml.safe_load(endpoints_yaml(
        "http://127.0.0.1:5055/webhook", "postgresql://postgres@127.0.0.1:5432/rasa",
        "redis://127.0.0.1:6379/1"))
    assert template == generated


# -- scheduled jobs --------------------------------------------------------------------
def test_scheduler_runs_each_job_at_start_and_survives_a_failing_one():
    seen = []

    def ok(now):
        seen.append(now)
        return "done"

    def broken(now):
        raise RuntimeError("database gone")

    fixed = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    sched = Scheduler([Job("broken", 3600, broken), Job("ok", 0.2, ok)], clock=lambda: fixed)
    sched.start()
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    sched.stop()
    sched.join(5)
    assert not sched.is_alive()
    assert seen[:2] == [fixed, fixed]
    assert sched.runs[0] == ("broken", False)
    assert [r for r in sched.runs if r[0] == "broken"] == [("broken", False)]  # hourly
    assert ("ok", True) in sched.runs


# -- processes -------------------------------------------------------------------------
def test_stopping_a_server_stops_its_children_too(tmp_path):
    script = "import subprocess, sys, time\n" \
             "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n" \
             "time.sleep(600)\n"
    proc = spawn("tree", [sys.executable, "-c", script], dict(os.environ),
                 tmp_path / "tree.log", "")
    deadline = time.monotonic() + 10
    while len(group_pids(proc.popen.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(group_pids(proc.popen.pid)) == 2
    stop_group(proc, timeout=5)
    assert group_pids(proc.popen.pid) == set()


class RasaInstance(HttpDouble):
    """A Rasa REST channel that says which instance answered."""

    def __init__(self, tag: str):
        self.tag = tag
        super().__init__()

    def respond(self, rec: Recorded) -> Reply:
        if rec.path in ("/webhooks/rest/", "/health"):
            return Reply(200, {"status": "ok"})
        if rec.path == "/webhooks/rest/webhook":
            return Reply(200, [{"recipient_id": rec.params["sender"],
                                "text": f"{self.tag}: {rec.params['message']}"}])
        return Reply(404, {"error": "not found"})


def test_gateway_workers_share_the_rasa_instances_and_stop_together(sqlite_url, tmp_path):
    with RasaInstance("a") as a, RasaInstance("b") as b, RasaInstance("actions") as actions:
        port = free_port()
        (tmp_path / "metrics").mkdir()
        env = {**os.environ, "DATABASE_URL": sqlite_url, "RASA_URL": f"{a.url},{b.url}",
               "ACTION_SERVER_PORT": actions.url.rsplit(":", 1)[1],
               "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "SESSION_SECRET": "s" * 32}
        gw = spawn("gateway", gateway_command("127.0.0.1", port, 2), env,
                   tmp_path / "gateway.log", f"http://127.0.0.1:{port}")
        try:
            wait_healthy(gw, f"http://127.0.0.1:{port}/health", 60)
            assert len(group_pids(gw.popen.pid)) >= 3  # the manager, two workers (+ a helper)
            with httpx.Client(base_url=gw.url) as client:
                health = client.get("/health").json()
                assert set(health["checks"]) == {"database", "rasa[0]", "rasa[1]",
                                                 "action_server"}
                replies = [client.post("/webhooks/rest/webhook", json={
                    "sender": f"session{i:04d}", "message": f"hi {i}"}).json()[0]["text"]
                    for i in range(8)]
                metrics = client.get("/metrics").text
        finally:
            stop_group(gw)
        assert sorted(r.split(":")[0] for r in replies).count("a") >= 1
        assert sorted(r.split(":")[0] for r in replies).count("b") >= 1
        assert [r.split(": ", 1)[1] for r in replies] == [f"hi {i}" for i in range(8)]
        assert 'billbot_inbound_messages_total{channel="web"} 8.0' in metrics
        assert group_pids(gw.popen.pid) == set()


@pytest.mark.e2e
def test_billbot_serve_starts_the_tree_and_ctrl_c_leaves_no_process(sqlite_url, tmp_path):
    """The real thing: action server, Rasa and gateway healthy; SIGINT stops all of them."""
    port, actions_port, rasa_port = free_port(), free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": sqlite_url, "GATEWAY_PORT": str(port),
           "ACTION_SERVER_PORT": str(actions_port), "RASA_BASE_PORT": str(rasa_port),
           "RASA_TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
           "SESSION_SECRET": "s" * 32, "REMINDER_INTERVAL_MINUTES": "60"}
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "billbot"), "serve"], env=env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if line.startswith("Press Ctrl-C"):
                break
        assert f"  web chat  http://127.0.0.1:{port}/chat" in lines, lines
        assert f"  console   http://127.0.0.1:{port}/console" in lines
        tree = group_pids_of_children(proc.pid)
        assert len(tree) >= 3  # action server, Rasa, gateway (at least)
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)
        assert health.status_code == 200
        reply = httpx.post(f"http://127.0.0.1:{port}/webhooks/rest/webhook",
                           json={"sender": "e2esession01", "message": "hello"}, timeout=60)
        assert reply.status_code == 200 and reply.json()
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        assert rest.strip().endswith("stopped.")
        for pgid in tree:
            assert group_pids(pgid) == set()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def group_pids_of_children(parent: int) -> set[int]:
    """The process groups of a process's direct children (each server leads its own)."""
    groups = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            groups.add(int(fields[2]))
    return groups


def test_with_a_spanish_model_one_more_rasa_serves_it_and_the_gateway_is_told_where():
    p = load_profile("production", {"RASA_INSTANCES": "2", "RASA_LOCK_STORE_URL": "redis://x",
                                    "RASA_TRACKER_STORE_URL": "postgresql://x/y"})
    settings = Settings()
    english_only = Supervisor(settings, p, Path("models/billbot-x.tar.gz"))
    assert english_only.rasa_url_es == "" and english_only.child_env()["RASA_URL_ES"] == ""
    both = Supervisor(settings, p, Path("models/billbot-x.tar.gz"),
                      model_es=Path("models/billbot-es-x.tar.gz"))
    base = p.rasa_base_port
    assert both.child_env()["RASA_URL"] == f"http://127.0.0.1:{base},http://127.0.0.1:{base + 1}"
    assert both.child_env()["RASA_URL_ES"] == f"http://127.0.0.1:{base + 2}"

"""One process tree for billbot: the action server, one or more Rasa instances, the gateway
(uvicorn, several workers in production) and the scheduled jobs (reminders, retention).

Each server runs in its own process group, is health-checked before the next one starts, and
is stopped (SIGTERM to its group, then SIGKILL) on Ctrl-C or SIGTERM, so nothing is orphaned.
"""
from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from bot import processes
from bot.processes import ManagedProcess, ProcessFailed, wait_healthy
from bot.rasa_env import rasa_environ
from clinic.settings import ROOT, Settings, load_settings

log = logging.getLogger(__name__)

PROFILES = ("embedded", "production")
VAR = ROOT / "var"


@dataclass(frozen=True)
class Profile:
    """How the tree is laid out. Made from the settings by load_profile()."""

    name: str
    rasa_instances: int = 1
    rasa_base_port: int = 5005
    gateway_workers: int = 1
    # Rasa's tracker store: a SQLAlchemy URL (sqlite:////abs/path or postgresql://...)
    tracker_store_url: str = ""
    lock_store_url: str = ""  # redis://host:port/db; empty: Rasa's in-memory lock store
    lock_key_prefix: str = "billbot"  # alphanumeric; Rasa's lock keys start with it
    retention_days: int = 90
    reminder_interval_s: float = 900.0
    retention_interval_s: float = 86400.0
    run_dir: Path = VAR / "run"

    @property
    def redis_url(self) -> str | None:
        return self.lock_store_url or None


def load_profile(name: str, environ: Mapping[str, str] | None = None,
                 settings: Settings | None = None) -> Profile:
    """embedded: one Rasa, one worker, Rasa's tracker store on a SQLite file under var/.
    production: RASA_INSTANCES Rasa instances (default 2) and GATEWAY_WORKERS workers
    (default 2) over RASA_TRACKER_STORE_URL (PostgreSQL) and RASA_LOCK_STORE_URL (Redis).
    Every variable is a Settings field; `settings` defaults to load_settings(environ)."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}: choose {' or '.join(PROFILES)}")
    s = settings if settings is not None else load_settings(environ)
    production = name == "production"
    tracker = s.rasa_tracker_store_url or (
        "postgresql://postgres@127.0.0.1:5432/rasa" if production
        else f"sqlite:///{VAR / 'rasa-tracker.db'}")
    lock = s.rasa_lock_store_url or ("redis://127.0.0.1:6379/1" if production else "")
    profile = Profile(
        name=name,
        rasa_instances=(2 if production else 1) if s.rasa_instances is None
        else s.rasa_instances,
        rasa_base_port=s.rasa_base_port,
        gateway_workers=(2 if production else 1) if s.gateway_workers is None
        else s.gateway_workers,
        tracker_store_url=tracker,
        lock_store_url=lock,
        retention_days=s.retention_days,
        reminder_interval_s=s.reminder_interval_minutes * 60,
        retention_interval_s=s.retention_interval_hours * 3600,
    )
    if profile.rasa_instances < 1 or profile.gateway_workers < 1:
        raise ValueError("RASA_INSTANCES and GATEWAY_WORKERS must be at least 1")
    if profile.rasa_instances > 1 and not profile.lock_store_url:
        raise ValueError("several Rasa instances need a shared lock store: set RASA_LOCK_STORE_URL")
    if profile.rasa_instances > 1 and profile.tracker_store_url.startswith("sqlite"):
        raise ValueError("several Rasa instances need a shared SQL tracker store (PostgreSQL)")
    return profile


# -- Rasa's endpoints ------------------------------------------------------------------
def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tracker_store_yaml(url: str) -> str:
    """Rasa's SQL tracker store section for a SQLAlchemy URL; PostgreSQL databases are
    created on first start (login_db)."""
    if not url:
        return ""
    parts = urlsplit(url)
    dialect = parts.scheme.split("+", 1)[0]
    if dialect == "sqlite":
        path = url.split("///", 1)[1]
        return f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {_q(path)}\n"
    if dialect not in ("postgresql", "postgres"):
        raise ValueError(f"tracker store {dialect!r}: use sqlite or postgresql")
    lines = ["tracker_store:", "  type: SQL", "  dialect: postgresql",
             f"  url: {_q(parts.hostname or '127.0.0.1')}", f"  port: {parts.port or 5432}",
             f"  db: {_q(parts.path.lstrip('/') or 'rasa')}", "  login_db: postgres"]
    if parts.username:
        lines.append(f"  username: {_q(parts.username)}")
    if parts.password:
        lines.append(f"  password: {_q(parts.password)}")
    return "\n".join(lines) + "\n"


def lock_store_yaml(url: str, key_prefix: str = "billbot") -> str:
    """The lock_store section of Rasa's endpoints.yml for a redis:// URL; empty without a URL."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme != "redis":
        raise ValueError("the lock store must be a redis:// URL")
    lines = ["lock_store:", "  type: redis", f"  url: {_q(parts.hostname or '127.0.0.1')}",
             f"  port: {parts.port or 6379}", f"  db: {int(parts.path.lstrip('/') or 1)}",
             f"  key_prefix: {key_prefix}"]
    if parts.password:
        lines.append(f"  password: {_q(parts.password)}")
    return "\n".join(lines) + "\n"


def endpoints_yaml(action_url: str, tracker_store_url: str = "", lock_store_url: str = "",
                   lock_key_prefix: str = "billbot") -> str:
    """Contents of Rasa's endpoints.yml: action server, tracker store and lock store."""
    if not lock_key_prefix.isalnum():
        raise ValueError("Rasa's lock key prefix must be alphanumeric")
    return (f"action_endpoint:\n  url: {_q(action_url)}\n"
            + tracker_store_yaml(tracker_store_url)
            + lock_store_yaml(lock_store_url, lock_key_prefix))


# -- processes -------------------------------------------------------------------------
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it if the supervisor itself is killed."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(name: str, cmd: list[str], env: dict[str, str], log_path: Path, url: str
          ) -> ManagedProcess:
    """A server in its own session (process group), output to its log file."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = open(log_path, "ab")  # noqa: SIM115  (ManagedProcess.stop closes it)
    popen = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True,
                             preexec_fn=_die_with_parent)  # noqa: PLW1509  (no threads yet)
    return ManagedProcess(name, popen, url, log_path, log_file)


def group_pids(pgid: int) -> set[int]:
    """Live members of a process group (zombies excluded), read from /proc."""
    out = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            out.add(int(entry))
    return out


def stop_group(proc: ManagedProcess, timeout: float = 15.0) -> None:
    """Stop a server and wait for every process of its group (uvicorn's workers, Rasa's
    helpers) to be gone; what lingers is killed."""
    pgid = proc.popen.pid
    proc.stop(timeout)
    deadline = time.monotonic() + 5.0
    while group_pids(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if group_pids(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


def start_action_server(port: int, *, env: dict[str, str], run_dir: Path,
                        timeout: float = 60.0) -> ManagedProcess:
    """The rasa-sdk action server on 127.0.0.1:port (as bot.processes starts it, but spawned
    here so it too dies with the supervisor)."""
    env = {**env, "SANIC_HOST": "127.0.0.1"}
    cmd = [sys.executable, "-m", "rasa_sdk", "--actions", processes.ACTIONS_PACKAGE,
           "-p", str(port)]
    proc = spawn("action server", cmd, env, run_dir / "actions.log",
                 f"http://127.0.0.1:{port}/webhook")
    wait_healthy(proc, f"http://127.0.0.1:{port}/health", timeout)
    return proc


def start_rasa_instance(index: int, port: int, *, model: Path, endpoints: Path,
                        credentials: Path, run_dir: Path, timeout: float = 300.0
                        ) -> ManagedProcess:
    """`rasa run` on 127.0.0.1:port, REST channel only; the HTTP API stays off (no
    --enable-api), so the gateway is Rasa's only caller."""
    cmd = [str(processes.RASA_BIN), "run", "--model", str(model), "-i", "127.0.0.1",
           "-p", str(port), "--endpoints", str(endpoints), "--credentials", str(credentials)]
    env = rasa_environ()
    proc = spawn(f"rasa[{index}]", cmd, env, run_dir / f"rasa-{index}.log",
                 f"http://127.0.0.1:{port}")
    wait_healthy(proc, f"http://127.0.0.1:{port}/webhooks/rest/", timeout)
    return proc


def gateway_command(host: str, port: int, workers: int) -> list[str]:
    """The uvicorn command line that runs the gateway with the given host, port and workers."""
    return [sys.executable, "-m", "uvicorn", "--factory", "bot.supervisor:gateway_app",
            "--host", host, "--port", str(port), "--workers", str(workers),
            "--no-access-log", "--timeout-graceful-shutdown", "10"]


def gateway_app():
    """The uvicorn factory: bot.app's gateway, logging configured; several Rasa URLs are
    balanced when RASA_URL lists them."""
    from bot.app import create_app
    from bot.logging import configure_logging

    settings = load_settings()
    configure_logging(settings)
    return create_app(settings)


# -- scheduled jobs --------------------------------------------------------------------
@dataclass
class Job:
    name: str
    interval_s: float
    run: Callable[[datetime], str]  # returns a one-line summary (no patient data)
    next_at: float = 0.0


def reminder_job(settings: Settings) -> Callable[[datetime], str]:
    """A scheduled job that sends the due reminders at a given time and returns a summary."""
    def run(now: datetime) -> str:
        from billing.db.engine import make_engine
        from bot.reminders.run import run_reminders

        engine = make_engine(settings.database_url)
        try:
            report = run_reminders(settings, engine, now, keep_decisions=False)
        finally:
            engine.dispose()
        return ", ".join(f"{k}={v}" for k, v in sorted(report.actions.items())) or "nothing due"

    return run


def autopay_job(settings: Settings) -> Callable[[datetime], str]:
    """A scheduled job that charges the plan installments due (autopay) and returns a summary."""
    def run(now: datetime) -> str:
        from billing.db.engine import make_engine
        from bot.autopay_run import run_autopay

        engine = make_engine(settings.database_url)
        try:
            report = run_autopay(settings, engine, now)
        finally:
            engine.dispose()
        return (f"charged={report.charged} declined={report.declined} "
                f"action_required={report.action_required} delinquent={report.delinquent} "
                f"unknown={report.unknown}")

    return run


def retention_job(settings: Settings, profile: Profile) -> Callable[[datetime], str]:
    """A scheduled job that deletes data past the retention period and returns a summary."""
    def run(now: datetime) -> str:
        from bot.retention import purge

        result = purge(settings.database_url, profile.tracker_store_url, now,
                       profile.retention_days)
        return result.summary()

    return run


class Scheduler(threading.Thread):
    """Runs each job at start and then every interval, one at a time, until stopped."""

    def __init__(self, jobs: list[Job], clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        super().__init__(name="billbot-scheduler", daemon=True)
        self.jobs, self.clock = jobs, clock
        self.stopping = threading.Event()
        self.runs: list[tuple[str, bool]] = []

    def run(self) -> None:
        while not self.stopping.is_set():
            for job in self.jobs:
                if self.stopping.is_set() or time.monotonic() < job.next_at:
                    continue
                job.next_at = time.monotonic() + job.interval_s
                try:
                    summary = job.run(self.clock())
                    log.info("scheduled job done", extra={"reason": job.name, "status": summary})
                    self.runs.append((job.name, True))
                except Exception:  # a failed run is logged and retried at the next interval
                    log.exception("scheduled job failed", extra={"reason": job.name})
                    self.runs.append((job.name, False))
            self.stopping.wait(1.0)

    def stop(self) -> None:
        self.stopping.set()


# -- the tree --------------------------------------------------------------------------
@dataclass
class Supervisor:
    settings: Settings
    profile: Profile
    model: Path
    out: Callable[[str], None] = print
    schedule_jobs: bool = True
    children: list[ManagedProcess] = field(default_factory=list)
    scheduler: Scheduler | None = None
    metrics_dir: Path | None = None
    model_es: Path | None = None  # the Spanish model (models/current-es): one more Rasa

    @property
    def rasa_urls(self) -> list[str]:
        base = self.profile.rasa_base_port
        return [f"http://127.0.0.1:{base + i}" for i in range(self.profile.rasa_instances)]

    @property
    def rasa_url_es(self) -> str:
        """The Spanish model's Rasa, on the port after the English instances ('' without it)."""
        if self.model_es is None:
            return ""
        return f"http://127.0.0.1:{self.profile.rasa_base_port + self.profile.rasa_instances}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.settings.gateway_host}:{self.settings.gateway_port}"

    def child_env(self) -> dict[str, str]:
        """What the gateway and the action server read (the settings' own environment)."""
        s = self.settings
        env = {**os.environ, "DATABASE_URL": s.database_url, "RASA_URL": ",".join(self.rasa_urls),
               "ACTION_SERVER_PORT": str(s.action_server_port),
               "GATEWAY_HOST": s.gateway_host, "GATEWAY_PORT": str(s.gateway_port),
               "RASA_URL_ES": self.rasa_url_es}
        if self.profile.lock_store_url:
            env["RASA_LOCK_STORE_URL"] = self.profile.lock_store_url
        return env

    def start(self) -> None:
        """Start every server in dependency order, each healthy before the next; on a
        failure, stop what was started and raise ProcessFailed."""
        run_dir = self.profile.run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        env = self.child_env()
        try:
            self.out(f"starting the action server on 127.0.0.1:{self.settings.action_server_port}")
            actions = start_action_server(self.settings.action_server_port, env=env,
                                          run_dir=run_dir)
            self.children.append(actions)
            endpoints = run_dir / "endpoints.yml"
            endpoints.write_text(endpoints_yaml(
                actions.url, self.profile.tracker_store_url, self.profile.lock_store_url,
                self.profile.lock_key_prefix))
            credentials = run_dir / "credentials.yml"
            credentials.write_text("rest:\n")
            # The first instance creates the tracker tables; the others start after it.
            for i, url in enumerate(self.rasa_urls):
                self.out(f"starting rasa[{i}] on {url} (model {self.model.name})")
                self.children.append(start_rasa_instance(
                    i, int(url.rsplit(":", 1)[1]), model=self.model, endpoints=endpoints,
                    credentials=credentials, run_dir=run_dir))
            if self.model_es is not None:  # same tracker store: a conversation may move
                self.out(f"starting rasa[es] on {self.rasa_url_es} (model {self.model_es.name})")
                self.children.append(start_rasa_instance(
                    len(self.rasa_urls), int(self.rasa_url_es.rsplit(":", 1)[1]),
                    model=self.model_es, endpoints=endpoints, credentials=credentials,
                    run_dir=run_dir))
            self.out(f"starting the gateway on {self.gateway_url} "
                     f"({self.profile.gateway_workers} worker(s))")
            if self.profile.gateway_workers > 1:
                # Each worker writes its counters here; /metrics adds them up.
                self.metrics_dir = Path(tempfile.mkdtemp(prefix="billbot-metrics-"))
                env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir)}
            gateway = spawn("gateway", gateway_command(
                self.settings.gateway_host, self.settings.gateway_port,
                self.profile.gateway_workers), env, run_dir / "gateway.log", self.gateway_url)
            self.children.append(gateway)
            wait_healthy(gateway, self.gateway_url + "/health", 120.0)
        except BaseException:
            self.stop()
            raise
        if self.schedule_jobs:
            self.scheduler = Scheduler([
                Job("reminders", self.profile.reminder_interval_s, reminder_job(self.settings)),
                Job("retention", self.profile.retention_interval_s,
                    retention_job(self.settings, self.profile)),
                *([Job("autopay", self.settings.autopay_interval_minutes * 60,
                       autopay_job(self.settings))] if self.settings.payments_enabled else []),
            ])
            self.scheduler.start()

    def urls(self) -> dict[str, str]:
        return {"web chat": self.gateway_url + "/chat", "console": self.gateway_url + "/console",
                "health": self.gateway_url + "/health", "metrics": self.gateway_url + "/metrics"}

    def pids(self) -> dict[str, int]:
        return {c.name: c.popen.pid for c in self.children}

    def dead_child(self) -> ManagedProcess | None:
        return next((c for c in self.children if not c.running()), None)

    def wait(self, stop: threading.Event) -> int:
        """Block until stop is set (a signal) or a server dies; 0, or 1 when one died."""
        while not stop.wait(1.0):
            dead = self.dead_child()
            if dead is not None:
                self.out(f"{dead.name} exited with {dead.popen.returncode}; stopping everything "
                         f"(log: {dead.log_path})")
                return 1
        return 0

    def stop(self) -> None:
        """Stop the scheduler, then the servers in reverse order (gateway first)."""
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler.join(timeout=60)
            self.scheduler = None
        while self.children:
            stop_group(self.children.pop())
        if self.metrics_dir is not None:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)
            self.metrics_dir = None


def _safe(out: Callable[[str], None]) -> Callable[[str], None]:
    """Printing must never stop a shutdown (e.g. `billbot demo | tee` whose tee got Ctrl-C)."""
    def write(line: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            out(line)

    return write


def serve(settings: Settings, profile: Profile, model: Path,
          out: Callable[[str], None] = print, after_start: Callable[[], None] | None = None,
          model_es: Path | None = None) -> int:
    """Run the tree until Ctrl-C / SIGTERM (exit 0) or until a server dies (exit 1)."""
    out = _safe(out)
    stop = threading.Event()
    started = threading.Event()

    def on_signal(*_):
        stop.set()
        if not started.is_set():  # interrupt a start that waits on a health check
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    sup = Supervisor(settings, profile, model, out=out, model_es=model_es)
    try:
        try:
            sup.start()
        except ProcessFailed as exc:
            out(f"billbot could not start: {exc}")
            return 1
        except KeyboardInterrupt:
            return 0
        started.set()
        if stop.is_set():
            return 0
        out("")
        out(f"billbot is ready ({profile.name} profile):")
        for name, url in sup.urls().items():
            out(f"  {name:<9} {url}")
        if after_start is not None:
            with contextlib.suppress(OSError, ValueError):
                after_start()
        out("Press Ctrl-C to stop.")
        return sup.wait(stop)
    finally:
        out("stopping billbot...")
        sup.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        out("stopped.")

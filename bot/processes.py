"""Start and stop billbot's two servers as subprocesses, each waited on by a health check:
the rasa-sdk action server (app env) and `rasa run` on the REST channel (Rasa env).
Both bind 127.0.0.1 only; Rasa's HTTP API stays off. Used by the demo and the e2e tests."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.rasa_env import rasa_environ
from clinic.settings import ROOT

RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
ACTIONS_PACKAGE = "actions"


class ProcessFailed(RuntimeError):
    """A server exited or never became healthy; the message ends with its log tail."""


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen
    url: str
    log_path: Path
    _log: object = field(repr=False, default=None)

    def running(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the server's own process group, then SIGKILL it if it lingers."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now, chosen by the operating system."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(name: str, cmd: list[str], env: dict[str, str], log_path: Path, url: str
           ) -> ManagedProcess:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # noqa: SIM115 - held open for the server, closed by stop()
    popen = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    return ManagedProcess(name, popen, url, log_path, log)


def wait_healthy(proc: ManagedProcess, health_url: str, timeout: float) -> None:
    """Poll health_url until it answers 200; raise
    ProcessFailed if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.running():
            raise ProcessFailed(f"{proc.name} exited with {proc.popen.returncode}:\n"
                                f"{proc.log_tail()}")
        try:
            if httpx.get(health_url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.stop()
    raise ProcessFailed(f"{proc.name} not healthy after {timeout:.0f}s:\n{proc.log_tail()}")


def start_action_server(port: int, *, log_path: Path, database_url: str | None = None,
                        extra_env: dict[str, str] | None = None,
                        timeout: float = 60.0) -> ManagedProcess:
    """`python -m rasa_sdk --actions actions` on 127.0.0.1:port (SANIC_HOST binds it)."""
    env = {**os.environ, **(extra_env or {}), "SANIC_HOST": "127.0.0.1"}
    if database_url:
        env["DATABASE_URL"] = database_url
    cmd = [sys.executable, "-m", "rasa_sdk", "--actions", ACTIONS_PACKAGE, "-p", str(port)]
    proc = _spawn("action server", cmd, env, log_path, f"http://127.0.0.1:{port}/webhook")
    wait_healthy(proc, f"http://127.0.0.1:{port}/health", timeout)
    return proc


def write_rasa_config(work_dir: Path, action_url: str, tracker_store: str = ""
                      ) -> tuple[Path, Path]:
    """endpoints.yml (the action server; tracker_store: a tracker_store section, shared when
    several Rasa processes, one per language, serve one conversation) and credentials.yml
    (REST channel only)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    endpoints = work_dir / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "{action_url}"\n{tracker_store}')
    credentials = work_dir / "credentials.yml"
    credentials.write_text("rest:\n")
    return endpoints, credentials


def start_rasa(port: int, *, model: Path, action_url: str, work_dir: Path,
               timeout: float = 180.0, tracker_store: str = "") -> ManagedProcess:
    """`rasa run` on 127.0.0.1:port with the REST channel; no --enable-api."""
    if not Path(model).exists():
        raise ProcessFailed(f"no trained model at {model}: run `billbot train` first")
    endpoints, credentials = write_rasa_config(work_dir, action_url, tracker_store)
    model = Path(model).resolve()  # Rasa only loads a path that ends in .tar.gz, not a link
    cmd = [str(RASA_BIN), "run", "--model", str(model), "-i", "127.0.0.1", "-p", str(port),
           "--endpoints", str(endpoints), "--credentials", str(credentials)]
    env = rasa_environ()
    proc = _spawn("rasa", cmd, env, work_dir / "rasa.log", f"http://127.0.0.1:{port}")
    wait_healthy(proc, f"http://127.0.0.1:{port}/webhooks/rest/", timeout)
    return proc

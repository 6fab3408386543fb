#!/usr/bin/env python3
"""Screenshot the web chat page with headless Chromium (Debian's chromium) after one exchange.

    .venv/bin/python scripts/screenshot_webchat.py [--url URL] [--message TEXT] [--out PATH]

Without --url it starts the gateway itself (settings from the environment, so RASA_URL
decides who answers) on a free port. Chromium is driven over its DevTools protocol.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=480,720", "--remote-debugging-port=0",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextlib.contextmanager
def running_gateway(settings):
    """The gateway on a free local port, served by uvicorn in a thread."""
    import uvicorn

    from bot.gateway import create_app
    from bot.processes import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class DevTools:
    """Just enough of the Chrome DevTools protocol: call a method, wait for its answer."""

    def __init__(self, ws_url: str):
        from websockets.sync.client import connect

        self.ws = connect(ws_url, max_size=None, open_timeout=10)
        self._id = 0

    def call(self, method: str, **params):
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=30))
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def evaluate(self, expression: str):
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return res.get("result", {}).get("value")

    def close(self):
        self.ws.close()


def _devtools_port(proc: subprocess.Popen, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            if proc.poll() is not None:
                raise RuntimeError("chromium exited before DevTools was ready")
            continue
        m = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
        if m:
            return int(m.group(1))
    raise RuntimeError("chromium did not start DevTools in time")


def screenshot_chat(url: str, out: Path, message: str) -> Path:
    chromium = chromium_path()
    if chromium is None:
        raise SystemExit("chromium is not installed (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="billbot-chromium-", ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                 "about:blank"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            port = _devtools_port(proc)
            pages = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
            page = next(p for p in pages if p.get("type") == "page")
            dt = DevTools(page["webSocketDebuggerUrl"])
            try:
                dt.call("Page.enable")
                dt.call("Page.navigate", url=url)
                _wait(dt, "document.readyState === 'complete' && !!document.getElementById('composer')")
                dt.evaluate(
                    "(() => { const i = document.getElementById('message');"
                    f" i.value = {json.dumps(message)};"
                    " document.getElementById('composer').requestSubmit(); })()"
                )
                _wait(dt, "document.querySelectorAll('#log li.bot, #log li.error').length > 0")
                time.sleep(0.3)
                shot = dt.call("Page.captureScreenshot", format="png")
            finally:
                dt.close()
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(base64.b64decode(shot["data"]))
    return out


def _wait(dt: DevTools, expression: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dt.evaluate(expression):
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for: {expression}")


def take_screenshot(settings, out: Path, message: str = "Hi, what do I owe?") -> Path:
    """Start the gateway with these settings and screenshot its chat page."""
    from billing.db.migrate import upgrade

    upgrade(settings.database_url)
    with running_gateway(settings) as base:
        return screenshot_chat(base + "/chat", out, message)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="a running gateway's chat page (default: start one)")
    p.add_argument("--message", default="Hi, what do I owe?")
    p.add_argument("--out", type=Path, default=ROOT / "screenshots" / "webchat.png")
    args = p.parse_args(argv)
    if args.url:
        screenshot_chat(args.url, args.out, args.message)
    else:
        from clinic.settings import load_settings

        take_screenshot(load_settings(), args.out, args.message)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A small threaded HTTP server that records requests; the doubles build on it."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes
    params: dict = field(default_factory=dict)  # form / JSON / multipart fields, values as str
    at: float = 0.0
    query: str = ""  # the raw query string (GET parameters)


@dataclass
class Reply:
    status: int
    body: object
    delay_s: float = 0.0
    headers: dict = field(default_factory=dict)


def parse_params(content_type: str, body: bytes) -> dict:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        data = json.loads(body)
        return data if isinstance(data, dict) else {"_": data}
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(body.decode()).items()}
    if content_type.startswith("multipart/form-data"):
        msg = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        out = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            out[name] = part.get_content() if part.get_content_maintype() == "text" else \
                part.get_payload(decode=True)
        return out
    return {}


class HttpDouble:
    """Subclasses implement respond(recorded) -> Reply."""

    def __init__(self):
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                path = parts.path
                rec = Recorded(self.command, path, dict(self.headers), body,
                               parse_params(self.headers.get("Content-Type", ""), body),
                               time.monotonic(), parts.query)
                with double._lock:
                    double.requests.append(rec)
                reply = double.respond(rec)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                data = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    # One request per connection, so a closed double is really gone.
                    self.send_header("Connection", "close")
                    self.close_connection = True
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        self._closed = False

    def respond(self, rec: Recorded) -> Reply:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

"""A real SMTP server for the email tests: aiosmtpd on 127.0.0.1 that requires STARTTLS with
a certificate from a test CA (trustme), which the client is configured to trust through
SMTP_CA_FILE. It keeps every message it accepts, and refuses the recipients it is told to
(550 5.1.1, as a relay does for an unknown mailbox)."""
from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Self

import trustme
from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.original_content or envelope.content,
                                 policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg,
                                      session.ssl is not None))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpDouble:
    """with SmtpDouble(tmp_path) as smtp: smtp.port, smtp.ca_file, smtp.received."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.ca = trustme.CA()
        self.ca_file = str(folder / "smtp-test-ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self._handler = _Handler()
        self.port = _free_port()
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        self.controller = Controller(self._handler, hostname="127.0.0.1", port=self.port,
                                     tls_context=ctx, require_starttls=True)

    @property
    def received(self) -> list[Received]:
        return self._handler.received

    def refuse(self, address: str) -> None:
        self._handler.refuse.add(address.lower())

    def __enter__(self) -> Self:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

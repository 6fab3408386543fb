"""One email as the clinic sends it: a plain-text and an HTML part of the same words, the
List-Unsubscribe headers of RFC 2369 and RFC 8058 (one-click), and a PDF attached only when
the clinic's settings say so. The words come from the caller (the catalogue's); this module
adds structure, never sentences of its own beyond the catalogue's footer."""
from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from html import escape

from clinic.wording import text

_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)]")


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mimetype: str = "application/pdf"


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    paragraphs: tuple[str, ...]  # the body, one paragraph each (plain text)
    attachment: Attachment | None = None


def _html(paragraphs: list[str]) -> str:
    out = []
    for para in paragraphs:
        parts, last = [], 0
        for m in _URL.finditer(para):
            parts.append(escape(para[last:m.start()]))
            url = escape(m.group(0))
            parts.append(f'<a href="{url}">{url}</a>')
            last = m.end()
        parts.append(escape(para[last:]))
        out.append(f"<p>{''.join(parts)}</p>")
    body = "\n".join(out)
    return ("<!doctype html><html><head><meta charset=\"utf-8\"></head>"
            "<body style=\"font-family: Arial, sans-serif; font-size: 15px; color: #1f2a37; "
            f"max-width: 560px\">\n{body}\n</body></html>\n")


def build(email: OutgoingEmail, *, sender: str, now, unsubscribe_url: str,
          reply_to: str = "", unsubscribe_mailto: str = "", lang: str = "en") -> EmailMessage:
    """The MIME message: multipart/alternative (plain, HTML), in multipart/mixed with the
    attachment when there is one."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = email.to
    msg["Subject"] = email.subject
    msg["Date"] = format_datetime(now)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid(domain=domain)
    if reply_to:
        msg["Reply-To"] = reply_to
    targets = [f"<{unsubscribe_url}>"]
    if unsubscribe_mailto:
        targets.append(f"<mailto:{unsubscribe_mailto}?subject=unsubscribe>")
    msg["List-Unsubscribe"] = ", ".join(targets)
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    paragraphs = [*email.paragraphs, text("email.footer_unsubscribe", lang, link=unsubscribe_url)]
    msg.set_content("\n\n".join(paragraphs) + "\n")
    msg.add_alternative(_html(paragraphs), subtype="html")
    if email.attachment is not None:
        maintype, _, subtype = email.attachment.mimetype.partition("/")
        msg.add_attachment(email.attachment.data, maintype=maintype, subtype=subtype,
                           filename=email.attachment.filename)
    return msg

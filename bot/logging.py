"""Structured JSON logs that keep patient data and secrets out: ids and kinds are logged,
never message text, phone numbers, tokens or exception messages (which may quote data)."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime

from bot.redact import mask_cards
from clinic.settings import Settings

_HANDLER_FLAG = "_billbot_handler"

# Extra fields a log call may carry (logger.info("...", extra={...})); anything else is dropped.
ALLOWED_EXTRA = frozenset(
    {
        "message_id", "channel", "status", "error_code", "update_id", "escalation_id",
        "attempt", "duration_ms", "sender_ref", "http_status", "retry_after", "count",
        "reason", "mode", "parts",
    }
)

_PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")
_BOT_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}")
_STATEMENT = re.compile(r"(/statements/)[^\s\"'?]+")
_SENDER_KEY = re.compile(r"\b(sms|tg|web):[^\s\"',]+")


def sender_ref(sender_key: str) -> str:
    """A stable pseudonym for a sender, to follow one conversation through the logs."""
    return hashlib.sha256(sender_key.encode()).hexdigest()[:12]


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Mask secrets, bot tokens, sender keys, card numbers and phone numbers in a log line."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _BOT_TOKEN.sub("***", text)
    text = _STATEMENT.sub(r"\1***", text)
    text = _SENDER_KEY.sub(lambda m: f"{m.group(1)}:#{sender_ref(m.group(0))}", text)
    text = mask_cards(text).text
    return _PHONE.sub("[number]", text)


class PrivacyFilter(logging.Filter):
    """Rewrites every record: the message scrubbed, the exception reduced to its type and
    frames, extras not on the allowed list removed."""

    def __init__(self, secrets: tuple[str, ...] = ()):
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = scrub(message, self.secrets)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            etype, _, tb = record.exc_info
            frames = [f"{f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(tb)]
            record.exc_summary = {"type": etype.__name__, "frames": frames[-8:]}
            record.exc_info = None
            record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key in ALLOWED_EXTRA:
            if key in record.__dict__:
                entry[key] = record.__dict__[key]
        if getattr(record, "exc_summary", None):
            entry["exception"] = record.exc_summary
        return json.dumps(entry, default=str)


def settings_secrets(settings: Settings) -> tuple[str, ...]:
    """The secret values in settings (tokens, passwords) that scrub() must mask."""
    return settings.secrets()


def configure_logging(settings: Settings, stream=None) -> logging.Handler:
    """Install the JSON handler on the root logger (replacing one installed before)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, _HANDLER_FLAG, False):
            root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_FLAG, True)
    handler.addFilter(PrivacyFilter(settings_secrets(settings)))
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # Client libraries that log request bodies or URLs holding the bot token stay quiet.
    for name in ("twilio.http_client", "httpx", "httpcore", "telegram", "hpack", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler

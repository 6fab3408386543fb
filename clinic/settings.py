"""One settings object, read once from the environment; secrets are masked in repr."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _secret():
    return field(default="", repr=False, metadata={"secret": True})


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{ROOT / 'var' / 'billbot.db'}"
    clinic_name: str = "Riverside Family Clinic"
    clinic_phone: str = "(555) 010-2000"
    clinic_timezone: str = "America/New_York"
    office_hours: str = "Mon-Fri 08:00-17:00"
    payment_link: str = "https://pay.example-clinic.org/billing"
    payment_methods: str = "card, bank transfer (ACH), check, HSA/FSA card"
    assistance_link: str = "https://example-clinic.org/financial-assistance"
    public_base_url: str = "http://localhost:8000"
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_s: float = 10.0
    action_server_port: int = 5055
    twilio_account_sid: str = ""
    twilio_auth_token: str = _secret()
    twilio_from_number: str = ""
    twilio_api_base_url: str = ""  # empty: Twilio's own API
    telegram_bot_token: str = _secret()
    telegram_webhook_secret: str = _secret()
    telegram_api_base_url: str = ""  # empty: Telegram's own API
    # The representatives' Telegram group told of each new escalation; empty: no notices.
    representatives_telegram_chat_id: str = ""
    rasa_jwt_secret: str = _secret()
    session_secret: str = _secret()
    statement_link_ttl_minutes: int = 1440  # how long a statement link in a reply stays valid
    log_level: str = "INFO"
    verification_idle_minutes: int = 30
    verification_lock_minutes: int = 30
    # Guessing limits (docs/security.md). Failed verifications against one account (or one
    # family phone's accounts) from any senders within the window lock that account.
    verification_account_max_failures: int = 5
    verification_account_window_minutes: int = 1440
    verification_account_lock_minutes: int = 1440
    # Web chat, per client address and per session: messages per minute, and failed
    # verifications per address within verification_address_window_minutes.
    web_messages_per_minute_session: int = 20
    web_messages_per_minute_address: int = 60
    web_verification_failures_per_address: int = 10
    verification_address_window_minutes: int = 60
    # Console logins: failures per username and per client address within the window lock
    # that username or address for login_lock_minutes.
    login_max_failures_user: int = 5
    login_max_failures_address: int = 20
    login_window_minutes: int = 15
    login_lock_minutes: int = 15
    # Addresses of the reverse proxies in front of the gateway (comma-separated IPs); only a
    # request from one of them has its X-Forwarded-For read for the client's address.
    trusted_proxies: str = ""
    refund_business_days: int = 10  # a refund not yet issued is expected this many business days after the request
    claim_decision_days: int = 45  # an insurer's decision is expected this many days after the claim is posted
    dispute_review_days: int = 30  # a dispute is expected to be answered this many days after it is opened
    plan_max_income_percent: Decimal = Decimal(5)
    plan_min_monthly_cents: int = 2500
    plan_max_months: int = 24
    # Reminders (empty: the defaults in bot/reminders/policy.py apply; docs/reminders.md)
    reminder_cadence_days: str = ""  # e.g. "1,15,30,60,90"
    reminder_quiet_hours: str = ""  # e.g. "08:00-21:00"
    reminder_state_quiet_hours: str = ""  # e.g. "FL=08:00-20:00,OK=08:00-20:00"
    reminder_cap_days: str = ""  # e.g. "7"
    reminder_review_age_days: str = ""  # e.g. "120"
    reminder_segments_per_second: str = ""  # e.g. "1" (US long code)
    # The process tree (bot/supervisor.py load_profile). None or empty: the profile's default
    # (embedded: 1 Rasa, 1 worker, tracker store on var/rasa-tracker.db, in-memory locks;
    # production: 2 Rasa, 2 workers, PostgreSQL tracker store, Redis lock store).
    rasa_instances: int | None = None
    rasa_base_port: int = 5005  # Rasa instance i listens on rasa_base_port + i
    gateway_workers: int | None = None
    # sqlite:////abs/path or postgresql://...; redis://host:port/db (masked: may hold passwords)
    rasa_tracker_store_url: str = _secret()
    rasa_lock_store_url: str = _secret()
    retention_days: int = 90  # transcripts and tracker events older than this are purged
    reminder_interval_minutes: float = 15.0  # how often the supervisor runs reminders
    retention_interval_hours: float = 24.0  # how often it runs retention
    chargemaster_path: str = str(ROOT / "data" / "chargemaster.csv")
    poverty_table_path: str = str(ROOT / "data" / "poverty_guidelines.csv")

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("secret"):
                value = "***" if value else ""
            parts.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(parts)})"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read every BILLBOT setting from the environment (names are the field names upper-cased);
    `environ` replaces os.environ (tests)."""
    env = os.environ if environ is None else environ
    values = {}
    for f in fields(Settings):
        raw = env.get(f.name.upper())
        if raw is None or raw == "":
            continue
        kind = f.type.removesuffix(" | None")
        if kind == "int":
            values[f.name] = int(raw)
        elif kind == "float":
            values[f.name] = float(raw)
        elif kind == "Decimal":
            values[f.name] = Decimal(raw)
        else:
            values[f.name] = raw
    return Settings(**values)

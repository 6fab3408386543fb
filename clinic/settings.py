"""One settings object, read once from the environment and validated at start-up: a wrong
value names its variable and the problem (SettingsError). Secrets are masked in repr. This is
the only reader of DATABASE_URL and of every other BILLBOT variable (.env.example lists them).

pydantic-settings, the ecosystem's standard: each field is the upper-cased variable, typed, so
PLAN_MAX_MONTHS=abc is refused at start-up rather than failing in the middle of a conversation.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
SECRET = {"secret": True}


class SettingsError(ValueError):
    """A setting that cannot be used: which variable, and why."""


class Settings(BaseSettings):
    """Every setting billbot reads; the field name upper-cased is its environment variable."""

    model_config = SettingsConfigDict(frozen=True, env_ignore_empty=True, extra="ignore",
                                      case_sensitive=False)

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
    # The Spanish model's Rasa (one model per language); empty: Spanish conversations are
    # read by the English model and still answered in Spanish.
    rasa_url_es: str = ""
    rasa_timeout_s: float = 10.0
    action_server_port: int = 5055
    twilio_account_sid: str = ""
    twilio_auth_token: str = Field("", json_schema_extra=SECRET)
    twilio_from_number: str = ""
    twilio_api_base_url: str = ""  # empty: Twilio's own API
    telegram_bot_token: str = Field("", json_schema_extra=SECRET)
    telegram_webhook_secret: str = Field("", json_schema_extra=SECRET)
    telegram_api_base_url: str = ""  # empty: Telegram's own API
    # The representatives' Telegram group told of each new escalation; empty: no notices.
    representatives_telegram_chat_id: str = ""
    rasa_jwt_secret: str = Field("", json_schema_extra=SECRET)
    session_secret: str = Field("", json_schema_extra=SECRET)
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
    rasa_tracker_store_url: str = Field("", json_schema_extra=SECRET)
    rasa_lock_store_url: str = Field("", json_schema_extra=SECRET)
    retention_days: int = 90  # transcripts and tracker events older than this are purged
    reminder_interval_minutes: float = 15.0  # how often the supervisor runs reminders
    retention_interval_hours: float = 24.0  # how often it runs retention
    chargemaster_path: str = str(ROOT / "data" / "chargemaster.csv")
    poverty_table_path: str = str(ROOT / "data" / "poverty_guidelines.csv")
    faq_dir: str = str(ROOT / "clinic" / "faq")  # the clinic's FAQ answers, <language>.yml
    # Financial assistance tiers, as a percent of the federal poverty guideline (FPL): free care
    # at or below the first, a discount of assistance_discount_percent up to the second.
    assistance_free_care_max_fpl_percent: int = Field(200, ge=0)
    assistance_discount_max_fpl_percent: int = Field(400, ge=0)
    assistance_discount_percent: int = Field(60, ge=1, le=99)
    # Payments through Stripe (billing/payments). No secret key: PAYMENT_LINK stays the
    # static link patients are sent, and nothing is charged or refunded by billbot.
    stripe_secret_key: str = Field("", json_schema_extra=SECRET)
    stripe_webhook_secret: str = Field("", json_schema_extra=SECRET)  # whsec_...: /webhooks/stripe
    stripe_api_base: str = ""  # empty: Stripe's own API. Tests point it at a local double.
    # What card statements show after the account's prefix (22 characters at most); empty:
    # the clinic's name.
    stripe_statement_descriptor: str = ""
    payment_link_ttl_minutes: int = 60  # a checkout link expires after this (30 to 1440)
    autopay_retry_days: str = "3,7"  # days after a failed installment charge to try again
    autopay_interval_minutes: float = 60.0  # how often the supervisor runs autopay
    # Statements and letters: the clinic's postal address, lines separated by ";"
    clinic_address: str = "1200 River Road, Suite 100; Springfield, OR 97477"
    # Email (bot/channels/email.py): SMTP to the configured relay, STARTTLS unless turned off;
    # empty SMTP_HOST: no email channel (email reminders and notices wait, pending).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: str = Field("", json_schema_extra=SECRET)
    smtp_ca_file: str = ""  # CA bundle the relay's certificate is checked against; empty: system
    smtp_timeout_s: float = 30.0
    email_from: str = ""  # e.g. "Riverside Family Clinic <billing@example-clinic.org>"
    email_reply_to: str = ""
    email_unsubscribe_mailto: str = ""  # also listed in List-Unsubscribe when set
    email_bounce_webhook_secret: str = Field("", json_schema_extra=SECRET)
    statement_email_attach_pdf: bool = False  # attach the PDF to the notice instead of a link only
    statement_email_show_amount: bool = False  # state the amount due in the notice
    statement_email_link_ttl_days: int = 30  # how long an emailed statement link stays valid


    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _assistance_tiers_in_order(self) -> Settings:
        if self.assistance_free_care_max_fpl_percent > self.assistance_discount_max_fpl_percent:
            raise ValueError("ASSISTANCE_FREE_CARE_MAX_FPL_PERCENT must not exceed "
                             "ASSISTANCE_DISCOUNT_MAX_FPL_PERCENT")
        return self

    @field_validator("clinic_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @field_validator("payment_link_ttl_minutes")
    @classmethod
    def _checkout_lifetime(cls, value: int) -> int:
        if not 30 <= value <= 1440:
            raise ValueError("a checkout link lives 30 to 1440 minutes (Stripe's limits)")
        return value

    @field_validator("autopay_retry_days")
    @classmethod
    def _retry_days(cls, value: str) -> str:
        parts = [p for p in value.replace(" ", "").split(",") if p]
        if not all(p.isdigit() and int(p) >= 1 for p in parts):
            raise ValueError("whole days of 1 or more, comma-separated, e.g. 3,7")
        return value

    @property
    def payments_enabled(self) -> bool:
        """Whether billbot takes payments itself (Stripe) rather than sending PAYMENT_LINK."""
        return bool(self.stripe_secret_key)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: Any,
                                   env_settings: Any, dotenv_settings: Any,
                                   file_secret_settings: Any) -> tuple[Any, ...]:
        """Settings(...) is explicit: the defaults plus what is given. The environment is read
        by load_settings() alone."""
        return (init_settings,)

    def __repr_args__(self) -> Any:
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if (info.json_schema_extra or {}).get("secret"):
                value = "***" if value else ""
            yield name, value

    def secrets(self) -> tuple[str, ...]:
        """The values of the secret settings (logging scrubs them)."""
        return tuple(getattr(self, name) for name, info in type(self).model_fields.items()
                     if (info.json_schema_extra or {}).get("secret"))

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed, validated like the original."""
        return type(self).model_validate({**self.model_dump(), **changes})


def _explain(err: ValidationError) -> SettingsError:
    problems = []
    for e in err.errors():
        field = str(e["loc"][0]) if e["loc"] else ""
        info = Settings.model_fields.get(field)
        secret = info is not None and (info.json_schema_extra or {}).get("secret")
        shown = "***" if secret else repr(e.get("input"))
        problems.append(f"{field.upper() or 'SETTINGS'}: {e['msg']} (got {shown})")
    return SettingsError("; ".join(problems))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting from the environment; `environ` replaces os.environ
    (tests). Raises SettingsError naming each bad variable."""
    try:
        if environ is None:
            return Settings.model_validate(_FromEnvironment().model_dump())
        values = {n: environ[n.upper()] for n in Settings.model_fields
                  if environ.get(n.upper(), "") != ""}
        return Settings.model_validate(values)
    except ValidationError as err:
        raise _explain(err) from None


class _FromEnvironment(Settings):
    """The same fields, read from os.environ by pydantic-settings (names upper-cased)."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: Any,
                                   env_settings: Any, dotenv_settings: Any,
                                   file_secret_settings: Any) -> tuple[Any, ...]:
        return (init_settings, env_settings)

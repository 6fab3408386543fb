"""The settings object: read from the environment once, validated at start-up with the
variable and the problem named, secrets masked, and the only reader of DATABASE_URL."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from clinic.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_values_are_read_typed_from_the_environment():
    s = load_settings({"PLAN_MAX_MONTHS": "12", "RASA_TIMEOUT_S": "2.5", "DATABASE_URL":
                       "postgresql://u@h/db", "GATEWAY_WORKERS": ""})
    assert (s.plan_max_months, s.rasa_timeout_s, s.database_url) == (12, 2.5,
                                                                     "postgresql://u@h/db")
    assert s.gateway_workers is None  # empty means unset


def test_a_bad_value_names_its_variable_and_the_problem():
    with pytest.raises(SettingsError) as err:
        load_settings({"PLAN_MAX_MONTHS": "twelve", "CLINIC_TIMEZONE": "Mars/Olympus",
                       "DATABASE_URL": "mysql://x"})
    text = str(err.value)
    assert "PLAN_MAX_MONTHS" in text and "'twelve'" in text
    assert "CLINIC_TIMEZONE" in text and "not an IANA time zone" in text
    assert "DATABASE_URL" in text


def test_secrets_never_show_in_repr():
    s = Settings(twilio_auth_token="tok-123", session_secret="sess-456")
    assert "tok-123" not in repr(s) and "sess-456" not in repr(s) and "***" in repr(s)


def test_explicit_settings_ignore_the_environment(monkeypatch):
    monkeypatch.setenv("PLAN_MAX_MONTHS", "3")
    assert Settings().plan_max_months == 24
    assert load_settings().plan_max_months == 3
    assert Settings().replace(plan_max_months=6).plan_max_months == 6


def test_the_cli_refuses_a_bad_setting_with_a_plain_message(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PLAN_MAX_MONTHS": "x",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    run = subprocess.run([sys.executable, "-m", "bot.cli", "balance", "A1"], env=env, check=False,
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2
    assert run.stderr.strip() == ("billbot: bad setting: PLAN_MAX_MONTHS: Input should be a "
                                  "valid integer, unable to parse string as an integer "
                                  "(got 'x')")


def test_the_settings_are_the_only_reader_of_database_url():
    readers = []
    for path in [*ROOT.glob("billing/**/*.py"), *ROOT.glob("bot/**/*.py"),
                 *ROOT.glob("actions/**/*.py"), *ROOT.glob("clinic/**/*.py"),
                 ROOT / "migrations" / "env.py"]:
        text = path.read_text()
        if re.search(r"(environ\.get|getenv|environ\[)\(?\s*[\"']DATABASE_URL", text):
            readers.append(str(path.relative_to(ROOT)))
    assert readers == []

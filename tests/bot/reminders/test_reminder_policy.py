"""The reminder rules at fixed instants: cadence, quiet hours across US zones and
daylight-saving changes, the frequency cap, the review flag, consent, wording, retries."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from bot.reminders.policy import (
    DEFER,
    FAIL,
    OPTED_OUT,
    RETRY,
    SEND,
    SKIP,
    STEP_TEXTS,
    UNKNOWN,
    Candidate,
    ReminderConfig,
    ReminderConfigError,
    decide,
    due_step,
    failure_outcome,
    next_allowed,
    reminder_text,
)
from bot.reminders.run import RateLimiter
from bot.segments import GSM7, encoding, segment_count

CONFIG = ReminderConfig()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def cand(**kw) -> Candidate:
    base = {
        "patient_id": 1, "account_number": "A1001", "preferred_channel": "sms", "has_phone": True,
        "sms_consent": True, "sms_opted_out": False, "telegram_linked": False,
        "timezone": "America/New_York", "state": "NY", "open_dispute": False, "active_plan": False,
        "needs_review": False, "oldest_due": date(2026, 5, 1),
    }
    base.update(kw)
    return Candidate(**base)


# 2026-06-15 16:00 UTC is 12:00 in New York: inside every window.
NOON_NY = utc(2026, 6, 15, 16, 0)


def test_cadence_step_is_the_latest_reached():
    assert due_step(0, CONFIG.cadence_days) is None
    assert due_step(1, CONFIG.cadence_days) == 1
    assert due_step(14, CONFIG.cadence_days) == 1
    assert due_step(45, CONFIG.cadence_days) == 30
    assert due_step(400, CONFIG.cadence_days) == 90


def test_due_account_is_sent_now_with_its_step():
    d = decide(cand(oldest_due=date(2026, 5, 31)), NOON_NY, CONFIG)
    assert (d.action, d.step, d.channel, d.days_past_due) == (SEND, 15, "sms", 15)
    assert d.not_before == NOON_NY


def test_not_yet_past_due_in_the_patients_own_date():
    # 02:00 UTC on June 15 is still June 14 in Los Angeles: due June 14 is not past due there.
    at = utc(2026, 6, 15, 2, 0)
    d = decide(cand(oldest_due=date(2026, 6, 14), timezone="America/Los_Angeles"), at, CONFIG)
    assert (d.action, d.reason) == (SKIP, "not yet past due")
    d = decide(cand(oldest_due=date(2026, 6, 14), timezone="America/New_York",
                    state="NY"), utc(2026, 6, 15, 13, 0), CONFIG)
    assert (d.action, d.step) == (SEND, 1)


@pytest.mark.parametrize("kw, reason", [
    ({"sms_consent": False}, "no SMS consent"),
    ({"sms_opted_out": True}, "opted out (STOP)"),
    ({"has_phone": False}, "no phone number"),
    ({"open_dispute": True}, "open dispute"),
    ({"active_plan": True}, "on a payment plan"),
    ({"preferred_channel": "telegram", "telegram_linked": False}, "no Telegram chat linked"),
    ({"preferred_channel": "telegram", "telegram_linked": True, "telegram_opted_out": True},
     "opted out of Telegram reminders (STOP)"),
    ({"timezone": "Mars/Olympus_Mons"}, "unknown time zone"),
])
def test_never_sent(kw, reason):
    d = decide(cand(**kw), NOON_NY, CONFIG)
    assert (d.action, d.reason) == (SKIP, reason)


def test_opted_out_sms_patient_is_not_texted_even_with_consent_on_file():
    d = decide(cand(sms_consent=True, sms_opted_out=True, preferred_channel="web"),
               NOON_NY, CONFIG)
    assert d.action == SKIP


def test_telegram_patient_with_a_linked_chat_gets_telegram_not_sms():
    d = decide(cand(preferred_channel="telegram", telegram_linked=True), NOON_NY, CONFIG)
    assert (d.action, d.channel) == (SEND, "telegram")


def test_web_chat_patient_is_reached_where_they_agreed():
    d = decide(cand(preferred_channel="web", sms_consent=False, telegram_linked=True),
               NOON_NY, CONFIG)
    assert d.channel == "telegram"
    d = decide(cand(preferred_channel="web"), NOON_NY, CONFIG)
    assert d.channel == "sms"


def test_a_step_already_reminded_is_not_sent_again():
    d = decide(cand(oldest_due=date(2026, 5, 31), reminded_step=15), NOON_NY, CONFIG)
    assert (d.action, d.reason) == (SKIP, "step 15 already reminded")


def test_frequency_cap_defers_to_seven_days_after_the_last_reminder():
    last = NOON_NY - timedelta(days=3)
    d = decide(cand(oldest_due=date(2026, 5, 31), last_contact_at=last), NOON_NY, CONFIG)
    assert (d.action, d.reason) == (DEFER, "frequency cap (7 days)")
    assert d.not_before == last + timedelta(days=7)


def test_frequency_cap_end_inside_quiet_hours_moves_to_the_morning():
    last = utc(2026, 6, 10, 2, 30)  # 22:30 in New York on June 9
    d = decide(cand(oldest_due=date(2026, 5, 31), last_contact_at=last), NOON_NY, CONFIG)
    assert d.action == DEFER
    assert d.local_time == datetime(2026, 6, 17, 8, 0, tzinfo=ZoneInfo("America/New_York"))


# One instant, 12:30 UTC on 2026-06-15, across the United States (local time, expected).
US_ZONES = [
    ("America/New_York", "NY", "08:30", None),
    ("America/Chicago", "IL", "07:30", utc(2026, 6, 15, 13, 0)),
    ("America/Denver", "CO", "06:30", utc(2026, 6, 15, 14, 0)),
    ("America/Phoenix", "AZ", "05:30", utc(2026, 6, 15, 15, 0)),  # no daylight saving
    ("America/Los_Angeles", "CA", "05:30", utc(2026, 6, 15, 15, 0)),
    ("America/Anchorage", "AK", "04:30", utc(2026, 6, 15, 16, 0)),
    ("Pacific/Honolulu", "HI", "02:30", utc(2026, 6, 15, 18, 0)),
]


@pytest.mark.parametrize("tz, state, local, deferred_to", US_ZONES)
def test_quiet_hours_in_the_patients_own_zone(tz, state, local, deferred_to):
    at = utc(2026, 6, 15, 12, 30)
    assert at.astimezone(ZoneInfo(tz)).strftime("%H:%M") == local
    d = decide(cand(timezone=tz, state=state), at, CONFIG)
    if deferred_to is None:
        assert d.action == SEND
    else:
        assert (d.action, d.reason, d.not_before) == (DEFER, "quiet hours", deferred_to)
        assert d.local_time.strftime("%H:%M") == "08:00"


def test_evening_is_quiet_from_nine_and_florida_from_eight():
    at = utc(2026, 6, 16, 0, 30)  # 20:30 in New York and Miami
    assert decide(cand(state="NY"), at, CONFIG).action == SEND
    d = decide(cand(state="FL"), at, CONFIG)
    assert (d.action, d.not_before) == (DEFER, utc(2026, 6, 16, 12, 0))  # 08:00 EDT next day
    late = utc(2026, 6, 16, 1, 0)  # 21:00 New York: the window's end is not inside it
    assert decide(cand(state="NY"), late, CONFIG).action == DEFER


def test_spring_forward_2026_03_08_defers_to_eight_local_at_the_new_offset():
    chicago = ZoneInfo("America/Chicago")
    # Saturday 2026-03-07 07:30 CST (UTC-6): 08:00 is 14:00 UTC.
    d = decide(cand(oldest_due=date(2026, 2, 1), timezone="America/Chicago", state="IL"), utc(2026, 3, 7, 13, 30), CONFIG)
    assert d.not_before == utc(2026, 3, 7, 14, 0)
    # Sunday 2026-03-08 07:30 CDT (UTC-5, clocks went forward at 02:00): 08:00 is 13:00 UTC.
    at = utc(2026, 3, 8, 12, 30)
    assert at.astimezone(chicago).strftime("%H:%M %Z") == "07:30 CDT"
    d = decide(cand(oldest_due=date(2026, 2, 1), timezone="America/Chicago", state="IL"), at, CONFIG)
    assert d.not_before == utc(2026, 3, 8, 13, 0)
    assert d.local_time.strftime("%H:%M %Z") == "08:00 CDT"
    # Deferred overnight across the change: 22:00 CST Saturday -> 08:00 CDT Sunday.
    d = decide(cand(oldest_due=date(2026, 2, 1), timezone="America/Chicago", state="IL"), utc(2026, 3, 8, 4, 0), CONFIG)
    assert d.not_before == utc(2026, 3, 8, 13, 0)
    # Arizona keeps MST: 08:00 there is 15:00 UTC on both days.
    d = decide(cand(oldest_due=date(2026, 2, 1), timezone="America/Phoenix", state="AZ"), utc(2026, 3, 8, 12, 30), CONFIG)
    assert d.not_before == utc(2026, 3, 8, 15, 0)


def test_fall_back_2026_11_01_defers_to_eight_local_at_the_new_offset():
    # Saturday 2026-10-31 21:30 PDT (UTC-7) in Los Angeles: quiet; next morning is PST.
    at = utc(2026, 11, 1, 4, 30)
    d = decide(cand(oldest_due=date(2026, 10, 1), timezone="America/Los_Angeles", state="CA"), at, CONFIG)
    assert d.not_before == utc(2026, 11, 1, 16, 0)  # 08:00 PST (UTC-8)
    assert d.local_time.strftime("%Y-%m-%d %H:%M %Z") == "2026-11-01 08:00 PST"
    # 01:30 happens twice in New York that night; either one is quiet until 08:00 EST.
    for first_or_second in (utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)):
        assert first_or_second.astimezone(ZoneInfo("America/New_York")).hour == 1
        d = decide(cand(oldest_due=date(2026, 10, 1)), first_or_second, CONFIG)
        assert d.not_before == utc(2026, 11, 1, 13, 0)


def test_days_past_due_count_calendar_days_across_daylight_saving():
    # Due 2026-03-07; on 2026-03-09 at 09:00 New York it is 2 days past due (not 1.96).
    d = decide(cand(oldest_due=date(2026, 3, 7)), utc(2026, 3, 9, 13, 0), CONFIG)
    assert d.days_past_due == 2


def test_next_allowed_is_the_instant_itself_inside_the_window():
    tz = ZoneInfo("America/New_York")
    assert next_allowed(NOON_NY, tz, (time(8), time(21))) == NOON_NY


def test_aged_account_is_flagged_for_review_and_never_more():
    old = NOON_NY.date() - timedelta(days=120)
    d = decide(cand(oldest_due=old), NOON_NY, CONFIG)
    assert d.flag_review and d.days_past_due == 120
    assert d.action == SEND and d.step == 90  # the last step; nothing is referred anywhere
    assert not decide(cand(oldest_due=old, needs_review=True), NOON_NY, CONFIG).flag_review
    assert not decide(cand(oldest_due=old + timedelta(days=1)), NOON_NY, CONFIG).flag_review
    # an account in dispute or on a plan is being handled already
    assert not decide(cand(oldest_due=old, open_dispute=True), NOON_NY, CONFIG).flag_review


def test_review_age_and_cadence_are_configurable():
    cfg = ReminderConfig.from_settings(SimpleNamespace(
        reminder_cadence_days="3,10", reminder_review_age_days="45",
        reminder_quiet_hours="09:00-20:00", reminder_state_quiet_hours="TX=09:00-21:00",
        reminder_cap_days="5", reminder_segments_per_second="10"))
    assert cfg.cadence_days == (3, 10) and cfg.review_age_days == 45 and cfg.cap_days == 5
    assert cfg.window == (time(9), time(20))
    assert cfg.state_windows["TX"] == (time(9), time(21)) and "FL" in cfg.state_windows
    assert cfg.segments_per_second == 10.0
    assert decide(cand(oldest_due=NOON_NY.date() - timedelta(days=45)), NOON_NY,
                  cfg).flag_review


@pytest.mark.parametrize("bad", [
    {"reminder_cadence_days": "15,1"}, {"reminder_cadence_days": "0,5"},
    {"reminder_cadence_days": "one"}, {"reminder_quiet_hours": "21:00-08:00"},
    {"reminder_quiet_hours": "8am-9pm"}, {"reminder_state_quiet_hours": "Florida"},
    {"reminder_cap_days": "x"},
])
def test_bad_settings_are_refused_clearly(bad):
    with pytest.raises(ReminderConfigError):
        ReminderConfig.from_settings(SimpleNamespace(**bad))


# ---- wording ----------------------------------------------------------------------------

AMOUNT = re.compile(r"\$|\d+\.\d\d|\bUSD\b")
SENSITIVE = re.compile(
    r"\b(dr|doctor|visit|office|lab|x-?ray|surgery|therapy|diagnos\w*|procedure|"
    r"treatment|service|appointment|prescription|clinic visit)\b", re.IGNORECASE)
CLINIC = "Riverside Family Clinic"
LINK = "https://pay.example-clinic.org/billing"


@pytest.mark.parametrize("step", sorted(STEP_TEXTS) + [7])
def test_each_step_is_one_gsm7_segment_with_the_minimum_necessary(step):
    text = reminder_text(step, CLINIC, LINK)
    assert encoding(text) == GSM7 and segment_count(text) == 1 and len(text) <= 160
    assert text.startswith(CLINIC + ":")
    assert "balance" in text
    assert "Reply BAL" in text
    assert text.endswith("Reply STOP to opt out.")
    assert not AMOUNT.search(text), text
    assert not SENSITIVE.search(text.replace(CLINIC, "")), text


def test_the_link_is_left_out_when_it_does_not_fit():
    long_name = "Saint Bartholomew Regional Family Medicine Clinic"
    text = reminder_text(1, long_name, LINK)
    assert LINK not in text and "Reply BAL" in text and segment_count(text) == 1
    assert LINK in reminder_text(1, "Riverside", LINK)


def test_a_clinic_name_too_long_for_one_segment_is_a_configuration_error():
    with pytest.raises(ReminderConfigError):
        reminder_text(90, "X" * 120, LINK)
    with pytest.raises(ReminderConfigError):  # not GSM-7: would be a UCS-2 message
        reminder_text(1, "Clínica Ñandú 🏥", "")


# ---- retries ----------------------------------------------------------------------------

@pytest.mark.parametrize("code, outcome", [
    ("20429", RETRY), ("429", RETRY), ("500", RETRY), ("503", RETRY), ("unreachable", RETRY),
    ("21610", OPTED_OUT), ("21211", FAIL), ("21614", FAIL), ("30003", FAIL), ("30007", FAIL),
    ("20003", FAIL), ("timeout", UNKNOWN), ("99999", FAIL), (None, FAIL),
])
def test_a_failed_send_is_retried_only_when_the_error_says_it_is_safe(code, outcome):
    assert failure_outcome(code) == outcome


def test_rate_limiter_spaces_segments_per_sending_number():
    clock = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        clock[0] += s

    lim = RateLimiter(1.0, monotonic=lambda: clock[0], sleep=sleep)

    def send(key, segments=1, work=0.0):
        lim.wait(key)
        clock[0] += work  # e.g. the claim's commit, between waiting and sending
        lim.spend(key, segments)

    for _ in range(3):
        send("sms:+15550001111")
    send("sms:+15550002222")  # another number has its own budget
    assert slept == [1.0, 1.0]
    send("sms:+15550001111", segments=2, work=0.3)
    assert slept[-1] == 1.0
    send("sms:+15550001111")
    assert slept[-1] == 2.0  # a two-segment message uses two seconds of the budget
    send("sms:+15550001111", work=0.25)
    send("sms:+15550001111")
    assert slept[-1] == 1.0  # measured from the send itself, not from the end of the wait


def test_config_defaults_match_the_issue():
    assert CONFIG.cadence_days == (1, 15, 30, 60, 90)
    assert CONFIG.window == (time(8), time(21))
    assert CONFIG.state_windows["FL"] == (time(8), time(20))
    assert (CONFIG.cap_days, CONFIG.review_age_days, CONFIG.segments_per_second) == (7, 120, 1.0)
    assert replace(CONFIG, cap_days=3).cap_days == 3


# ---- email as a reminder channel ----------------------------------------------------------

from bot.reminders.policy import Candidate as _Candidate
from bot.reminders.policy import choose_channel as _choose


def _email_candidate(**kw) -> _Candidate:
    base = {"patient_id": 1, "account_number": "A1", "preferred_channel": "email", "has_phone": True,
                "sms_consent": False, "sms_opted_out": False, "telegram_linked": False,
                "timezone": "America/New_York", "state": "NY", "open_dispute": False, "active_plan": False,
                "needs_review": False, "oldest_due": date(2026, 1, 1), "has_email": True,
                "email_consent": True}
    return _Candidate(**{**base, **kw})


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, ("email", "")),
    ({"email_opted_out": True}, (None, "unsubscribed from email")),
    ({"email_failing": True}, (None, "email address failing (bounced)")),
    ({"email_consent": False}, (None, "no email consent")),
    ({"has_email": False}, (None, "no email address")),
    ({"email_failing": True, "sms_consent": True}, ("sms", "")),  # as before email existed
    ({"preferred_channel": "sms", "sms_consent": True}, ("sms", "")),
])
def test_an_email_patient_is_reminded_by_email_while_the_address_can_be_used(changes,
                                                                              expected):
    assert _choose(_email_candidate(**changes)) == expected

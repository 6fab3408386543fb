"""One autopay run for `billbot autopay` and the supervisor: charge the installments due
(billing.payments.autopay, claim before charge), stop the reminders of accounts paid up, and
send each notice over the patient's channel, recorded in their transcript like a reminder."""
from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from billing.core.sender_key import SenderKey
from billing.payments.autopay import AutopayPolicy, AutopayReport, charge_due_installments
from billing.payments.config import page_settings, processor_from
from billing.payments.notices import Notice
from billing.payments.processor import PaymentProcessor
from bot import message_store
from bot.channels.base import SendResult
from bot.reminders.run import ChannelSenders, ReminderSender
from bot.reminders.stop import stop_paid_reminders

log = logging.getLogger(__name__)


class PaymentsNotConfigured(RuntimeError):
    """Autopay needs STRIPE_SECRET_KEY."""


def run_autopay(settings, engine: Engine, now: datetime, *,
                processor: PaymentProcessor | None = None,
                sender: ReminderSender | None = None) -> AutopayReport:
    """Charge what is due at `now` (aware) and tell the patients."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    processor = processor or processor_from(settings)
    if processor is None:
        raise PaymentsNotConfigured("set STRIPE_SECRET_KEY to charge plan installments")
    zone = ZoneInfo(settings.clinic_timezone)
    report = charge_due_installments(
        engine=engine, processor=processor, now=now, today=now.astimezone(zone).date(),
        policy=AutopayPolicy.parse(settings.autopay_retry_days), page=page_settings(settings),
        posted=lambda moment: moment.astimezone(zone).date())
    if report.paid_patients:
        with Session(engine) as s, s.begin():
            for patient_id in dict.fromkeys(report.paid_patients):
                stop_paid_reminders(s, patient_id, now.astimezone(zone).date(), now)
    own = sender is None
    senders = sender or ChannelSenders.from_settings(settings)
    try:
        for notice in report.notices:
            deliver_notice(engine, senders, notice, now)
    finally:
        if own:
            senders.close()
    return report


def deliver_notice(engine: Engine, sender: ReminderSender, notice: Notice,
                   now: datetime) -> None:
    """Each text on the notice's channel, stored first and marked with what the channel said;
    an SMS number that opted out gets nothing (the row says suppressed)."""
    key = SenderKey.parse(notice.sender_key)
    for text in notice.texts:
        suppressed = key.channel == "sms" and message_store.is_opted_out(engine, key.user)
        can = getattr(sender, "can_send", None)
        unavailable = can is not None and not can(key.channel)
        oid = message_store.add_outbound(
            engine, channel=key.channel, sender_key=notice.sender_key, text=text,
            status="suppressed" if suppressed else "queued", reply_to_id=None, now=now)
        if suppressed:
            continue
        result = (SendResult("failed", error_code="no_channel") if unavailable
                  else sender.send(key.channel, key.user, text))
        message_store.record_send_result(engine, oid, result, now)
        log.info("payment notice", extra={"message_id": oid, "status": result.status,
                                          "channel": key.channel})

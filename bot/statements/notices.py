"""The words of what billbot emails about statements: a reminder's body and a statement
notice. No more patient data than the message needs: the notice says a statement is ready
and links to it through the signed, expiring statement link (the PDF from there); the amount
only when STATEMENT_EMAIL_SHOW_AMOUNT is set, the PDF only when STATEMENT_EMAIL_ATTACH_PDF is.
"""
from __future__ import annotations

from datetime import datetime

from billing.core.money import fmt
from bot.channels.email_message import Attachment, OutgoingEmail
from bot.statements.content import StatementContent
from clinic.settings import Settings
from clinic.statement_links import email_link_ttl, statement_url
from clinic.wording import day, text


def _link(settings: Settings, patient_id: int, now: datetime, lang: str) -> tuple[str, list[str]]:
    """The statement link and the sentence saying until when it works; the payment link when
    no statement links can be signed (no SESSION_SECRET)."""
    if not settings.session_secret:
        return settings.payment_link, []
    ttl = email_link_ttl(settings)
    expires = day((now + ttl).date(), lang)
    return (statement_url(settings, patient_id, now, ttl),
            [text("email.link_expires", lang, date=expires)])


def _questions(settings: Settings, lang: str) -> str:
    return text("email.questions", lang, clinic_phone=settings.clinic_phone,
                office_hours=settings.office_hours)


def email_reminder_text(settings: Settings, patient_id: int, now: datetime,
                        lang: str = "en") -> str:
    """An overdue-balance reminder by email: paragraphs separated by blank lines."""
    link, expiry = _link(settings, patient_id, now, lang)
    paragraphs = [text("email.reminder.body", lang, clinic=settings.clinic_name, link=link),
                  *expiry, _questions(settings, lang)]
    return "\n\n".join(paragraphs)


def statement_notice(settings: Settings, content: StatementContent, address: str,
                     now: datetime, pdf: bytes | None = None) -> OutgoingEmail:
    """The email telling a patient their statement is ready (the PDF attached when given)."""
    lang = content.lang
    link, expiry = _link(settings, content.patient_id, now, lang)
    when = day(content.statement_date, lang)
    if settings.statement_email_show_amount:
        body = text("email.statement.body_amount", lang, date=when, clinic=settings.clinic_name,
                    amount=fmt(content.due_now), link=link)
    else:
        body = text("email.statement.body", lang, date=when, clinic=settings.clinic_name,
                    link=link)
    paragraphs = [body]
    attachment = None
    if pdf is not None:
        paragraphs.append(text("email.statement.attached", lang))
        attachment = Attachment(text("email.statement.filename", lang,
                                     account_number=content.account_number,
                                     date=content.statement_date.isoformat()), pdf)
    paragraphs += [*expiry, _questions(settings, lang)]
    return OutgoingEmail(address, text("email.statement.subject", lang,
                                       clinic=settings.clinic_name), tuple(paragraphs),
                         attachment)

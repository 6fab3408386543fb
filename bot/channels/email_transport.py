"""Sending email over SMTP to the clinic's relay: STARTTLS with the certificate checked
(against SMTP_CA_FILE or the system's trust store), login when a username is configured,
and the relay's answer turned into a SendResult with a code the reminder rules know:
smtp5xx refused for good (a bounce at the relay: the address is marked failing), smtp4xx
try again later, 'unreachable' when no connection was made, 'timeout' when the message may
have gone (never resent)."""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from bot.channels.base import SendResult
from clinic.settings import Settings

log = logging.getLogger(__name__)


def tls_context(settings: Settings) -> ssl.SSLContext:
    """A client context that checks the relay's certificate and host name."""
    return ssl.create_default_context(cafile=settings.smtp_ca_file or None)


def code_of(smtp_code: int) -> str:
    """'smtp550' for a 550 answer: the form SendResult.error_code carries."""
    return f"smtp{smtp_code}"


class SmtpSender:
    """One SMTP connection per message: a statement run or a reminder run sends a few
    thousand at most, and a fresh connection never inherits a half-failed session."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def send(self, message: EmailMessage) -> SendResult:
        s = self.settings
        message_id = str(message["Message-ID"])
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s) as smtp:
                smtp.ehlo()
                if s.smtp_starttls:
                    smtp.starttls(context=tls_context(s))
                    smtp.ehlo()
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password)
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as err:
            code = next(iter(err.recipients.values()))[0]
            return SendResult("failed", error_code=code_of(code))
        except smtplib.SMTPResponseException as err:  # sender refused, data refused, auth
            return SendResult("failed", error_code=code_of(err.smtp_code))
        except TimeoutError:
            log.warning("smtp timeout", extra={"host": s.smtp_host})
            return SendResult("failed", error_code="timeout")
        except ssl.SSLError:
            log.warning("smtp tls failed", extra={"host": s.smtp_host})
            return SendResult("failed", error_code="tls")
        except (OSError, smtplib.SMTPException):
            log.warning("smtp unreachable", extra={"host": s.smtp_host})
            return SendResult("failed", error_code="unreachable")
        if refused:
            code = next(iter(refused.values()))[0]
            return SendResult("failed", error_code=code_of(code))
        return SendResult("sent", external_id=message_id[:64])

"""The one catalogue of patient wording: every sentence billbot sends a patient, keyed by
message id, in gettext catalogues read with Babel (locale/<lang>/LC_MESSAGES/billbot.po).

    text("verify.verified", first_name="Ana")  ->  "Thanks Ana, you're verified."

Why .po: it is the Python (and translators') standard; Poedit, Weblate or Crowdin edit it,
and a missing or stale translation shows there, not in code review. The ids are keys, not
English source text (msgid "balance.due", msgstr "Hi {first_name}. You owe ..."), so an edit
to the English never orphans a translation. The .po is read at first use (no compiled .mo
to keep in step). Placeholders are str.format fields; a message that needs a condition or a
plural has one id per variant (verify.failed.one / verify.failed.other), chosen by the code
that composes it (actions/templates.py), so a translator always sees whole sentences.

What is patient wording: anything sent to a patient (replies, reminders, the gateway's own
answers, the console's hand-back). Not here: notices to the representatives' group, the
console's own screens, log messages. The Rasa domain has no responses (`utter_` texts): every
reply comes from an action. The patient's web pages (bot/templates/statement.html, chat.html)
use the same catalogue through html(). tests/clinic/test_wording.py fails on a patient sentence
written anywhere else. Money is formatted by billing.core.money.fmt; dates and times here.
"""
from __future__ import annotations

import string
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_time
from babel.messages.pofile import read_po
from markupsafe import Markup, escape

DEFAULT_LANG = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "billbot"
# The language of the conversation being answered (set once per turn by speaking(); an
# explicit lang= wins). A context variable, so concurrent turns in threads or tasks never
# see each other's language.
_CURRENT: ContextVar[str] = ContextVar("billbot_language", default=DEFAULT_LANG)


class UnknownMessage(KeyError):
    """A message id that the English catalogue does not have (a typo in the code)."""


def catalogue_path(lang: str) -> Path:
    """Path of the .po message catalogue for the language lang."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def languages() -> tuple[str, ...]:
    """Codes of the languages that have a message catalogue, sorted."""
    return tuple(sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")))


def current_language() -> str:
    """The language text() writes in when it is given none."""
    return _CURRENT.get()


@contextmanager
def speaking(lang: str | None) -> Iterator[str]:
    """Within the block, text(), day()... write in `lang` (a language without a catalogue,
    or None, is English)."""
    chosen = lang if lang and lang in languages() else DEFAULT_LANG
    token = _CURRENT.set(chosen)
    try:
        yield chosen
    finally:
        _CURRENT.reset(token)


@cache
def messages(lang: str = DEFAULT_LANG) -> dict[str, str]:
    """msgid -> msgstr of one language (untranslated and fuzzy entries left out)."""
    path = catalogue_path(lang)
    if not path.is_file():
        return {}
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    # Plural entries (tuples) are not used: each plural form is its own message id.
    return {m.id: m.string for m in catalog
            if isinstance(m.id, str) and isinstance(m.string, str) and m.id and m.string
            and not m.fuzzy}


def text(msg_id: str, lang: str | None = None, **params: object) -> str:
    """The message in `lang` (default: the conversation's, see speaking(); English where
    it has no translation), its fields filled."""
    lang = lang or _CURRENT.get()
    template = messages(lang).get(msg_id) or messages(DEFAULT_LANG).get(msg_id)
    if template is None:
        raise UnknownMessage(msg_id)
    return template.format(**params)


def html(msg_id: str, lang: str | None = None, **params: object) -> Markup:
    """text() for an HTML page: the message and its fields escaped, except fields that are
    already markup (a link built in the template)."""
    lang = lang or _CURRENT.get()
    template = messages(lang).get(msg_id) or messages(DEFAULT_LANG).get(msg_id)
    if template is None:
        raise UnknownMessage(msg_id)
    return Markup(escape(template)).format(**params)


def fields(msg_id: str, lang: str = DEFAULT_LANG) -> set[str]:
    """The placeholder names of a message (a translation must keep the same ones)."""
    return {name for _, name, _, _ in string.Formatter().parse(messages(lang)[msg_id]) if name}


# ---- dates and times, as the messages write them ----------------------------------------

def day(value: date | None, lang: str | None = None) -> str:
    """'Mar 4, 2026' ('4 de marzo de 2026'); date.none ('no date') without one."""
    lang = lang or _CURRENT.get()
    if value is None:
        return text("date.none", lang)
    return format_date(value, text("format.date", lang), locale=lang)


def weekday(value: date, lang: str | None = None) -> str:
    """'Monday' ('lunes')."""
    lang = lang or _CURRENT.get()
    return format_date(value, "EEEE", locale=lang)


def clock(value: datetime, lang: str | None = None) -> str:
    """'8:00 AM': the wall-clock time of `value` in its own zone."""
    lang = lang or _CURRENT.get()
    return format_time(value.time(), text("format.time", lang), locale=lang)

"""SMS consent keywords: opt-out (words and plain-language revocations), opt-in and HELP.

The rules (decided for issue 4, explained in docs/channels.md):
- A message made only of one keyword plus politeness ("STOP", "stop please", "Cancel.")
  is that keyword, in any case. Opt-out words: STOP, STOPALL, UNSUBSCRIBE, END, QUIT,
  REVOKE, OPTOUT, CANCEL. Opt-in: START, UNSTOP, YES (YES only re-subscribes a number that is
  opted out; otherwise it is an answer for the assistant). HELP, INFO: the help text.
- A longer message opts out only when it plainly revokes texting: it names texts, messages
  or contact as the thing to stop ("stop texting me", "please don't text me anymore",
  "no more messages", "remove me from your list", "unsubscribe me", "opt out please").
  "I want to stop my payment plan" or "cancel my appointment" name something else and go to
  the assistant. A negated request ("I don't want to opt out") is not a revocation.
- Spanish, under the same rule (issue 15): ALTO, PARAR, PARA, CANCELAR, BAJA, DETENER alone
  opt out; "ya no me manden mensajes", "no quiero recibir mensajes", "dejen de mandarme
  mensajes", "denme de baja", "quítenme de su lista" revoke; "cancelar mi cita" does not.
  AYUDA is HELP; COMENZAR opts in again. Twilio's Advanced Opt-Out knows only the English
  words, so billbot confirms a Spanish opt-out itself (in Spanish).
"""
from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Consent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


OPT_OUT_WORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "end", "quit", "revoke", "optout", "cancel"}
)
OPT_IN_WORDS = frozenset({"start", "unstop", "yes"})
HELP_WORDS = frozenset({"help", "info"})
# Words that Twilio's own Advanced Opt-Out handles (and answers) on its own.
CARRIER_KEYWORDS = OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS
SPANISH_OPT_OUT_WORDS = frozenset({"alto", "parar", "para", "cancelar", "baja", "detener",
                                   "basta"})
SPANISH_OPT_IN_WORDS = frozenset({"comenzar"})
SPANISH_HELP_WORDS = frozenset({"ayuda"})
ALL_OPT_OUT = OPT_OUT_WORDS | SPANISH_OPT_OUT_WORDS
ALL_OPT_IN = OPT_IN_WORDS | SPANISH_OPT_IN_WORDS
ALL_HELP = HELP_WORDS | SPANISH_HELP_WORDS
KEYWORDS = ALL_OPT_OUT | ALL_OPT_IN | ALL_HELP

_FILLER = frozenset(
    {"please", "pls", "plz", "now", "thanks", "thank", "you", "thx", "ok", "okay", "it",
     "all", "just", "me", "asap", "already", "sir", "maam",
     "por", "favor", "porfa", "porfavor", "gracias", "ya", "de", "todo", "todos", "ahora"}
)

_MESSAGES = (
    r"(?:text(?:s|ing)?|txt(?:s|ing)?|messag(?:e|es|ing)|sms|contact(?:ing)?|"
    r"reminders?|notifications?|alerts?)"
)
_PHRASES = [
    # stop / quit / cease texting me, stop sending me texts, stop the messages
    (
        rf"\b(?:stop|quit|cease|end|cancel)\s+(?:(?:sending|all|the|these|your|those|my)\s+)*"
        rf"(?:me\s+)?(?:(?:any|the|these|those|your)\s+)?{_MESSAGES}\b"
    ),
    # don't / do not / never text me (again / anymore)
    (
        rf"\b(?:don'?t|do\s+not|dont|never)\s+(?:ever\s+)?(?:send\s+me\s+(?:any\s+)?|"
        rf"{_MESSAGES}\s+me\b)"
    ),
    rf"\b(?:don'?t|do\s+not|dont|never)\s+(?:ever\s+)?{_MESSAGES}\b",
    # no more texts / messages
    rf"\bno\s+more\s+{_MESSAGES}\b",
    # opt out (of texts), opt-out, unsubscribe (me)
    rf"\bopt(?:-|\s)?out\b(?!\s+of\s+(?!(?:the\s+|these\s+|your\s+|all\s+)?{_MESSAGES}\b))",
    r"\bunsubscribe\b",
    # remove me from your list / take me off the list
    (
        r"\b(?:remove|take|delete)\s+(?:me|my\s+(?:number|phone))\s+(?:off|from)\s+"
        r"(?:of\s+)?(?:your|the|this|ur)\s+(?:\w+\s+)?list\b"
    ),
    # I revoke (my) consent / withdraw consent
    r"\b(?:revoke|withdraw)\b.*\bconsent\b",
    r"\b(?:revoke|withdraw)\s+(?:my\s+)?(?:consent|permission)\b",
]
_MENSAJES = (r"(?:mensajes?|msjs?|textos?|sms|recordatorios?|notificaciones?|alertas?|"
             r"avisos?|whats)")
_SEND = r"(?:manden|mande|mandes|envien|envie|envies|escriban|escriba|escribas|textee?n?)"
_PHRASES_ES = [
    # (ya) no me manden (mas) mensajes / no me escriban mas
    (rf"\bno\s+(?:me\s+|nos\s+)?{_SEND}\s+(?:(?:mas|ningun|ningunos|otros|los|sus|estos)\s+)*"
    rf"{_MENSAJES}\b"),
    rf"\bno\s+(?:me\s+|nos\s+)?{_SEND}\s+mas\b",
    # ya no quiero (recibir) mensajes / no quiero recibir mas mensajes
    (rf"\b(?:ya\s+)?no\s+(?:quiero|deseo)\s+(?:recibir\s+)?(?:(?:mas|sus|los|ningun|estos)\s+)*"
    rf"{_MENSAJES}\b"),
    rf"\bya\s+no\s+(?:(?:mas|sus|los)\s+)*{_MENSAJES}\b",
    # dejen de mandarme mensajes / paren de escribirme
    r"\b(?:dejen|deje|dejar|paren|pare)\s+de\s+(?:mandar|enviar|escribir|textear)(?:me|nos)?\b",
    # parar / cancelar / quitar los mensajes
    (rf"\b(?:parar|paren|pare|detener|detengan|cancelar|cancelen|cancele|quitar|quiten|"
    rf"suspender|suspendan)\s+(?:(?:los|las|sus|estos|todos|mis|el|de|me)\s+)*{_MENSAJES}\b"),
    rf"\bno\s+mas\s+{_MENSAJES}\b",
    # darme de baja / denme de baja
    r"\b(?:dar(?:me|nos)?|denme|deme|dame|darse|quiero\s+la)\s+(?:de\s+)?baja\b",
    # quitenme de su lista / saquen mi numero de la lista
    (r"\b(?:quiten|quitenme|quitarme|saquen|saquenme|sacarme|borren|borrenme|eliminen)"
     r"(?:\s+mi\s+numero)?\s+de\s+(?:la|su|sus|esta|esa)\s+(?:\w+\s+)?lista\b"),
    r"\b(?:revoco|retiro|quito|cancelo)\s+(?:mi\s+)?(?:consentimiento|permiso|autorizacion)\b",
]
_PHRASE_RE = [re.compile(p) for p in _PHRASES + _PHRASES_ES]
_NEGATED = re.compile(
    r"\b(?:don'?t|do\s+not|dont|never|not)\s+(?:want\s+to\s+|wanna\s+)?"
    r"(?:stop|opt|unsubscribe|cancel|quit|end|revoke)\b"
    r"|\bno\s+(?:quiero\s+|deseo\s+)?(?:cancelar|parar|detener|dar(?:me)?\s+de\s+baja)\b"
)
_WORD = re.compile(r"[a-z']+")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def _normalise(text: str) -> str:
    text = _plain(text.lower()).replace("\u2019", "'").replace("-", " - ")
    return re.sub(r"\s+", " ", text).strip()


def keyword(text: str) -> str | None:
    """The single keyword a short message consists of (with politeness words), if any."""
    words = [w.strip("'") for w in _WORD.findall(_normalise(text).replace(" - ", ""))]
    words = [w for w in words if w]
    keys = [w for w in words if w in KEYWORDS]
    if len(set(keys)) != 1:
        return None
    if all(w in KEYWORDS or w in _FILLER for w in words):
        return keys[0]
    return None


def revokes_texting(text: str) -> bool:
    """A longer message that plainly asks for no more texts."""
    norm = _normalise(text).replace(" - ", "-")
    if _NEGATED.search(norm) and not re.search(r"\b(?:don'?t|do not|dont|never)\s+"
                                               rf"(?:ever\s+)?{_MESSAGES}", norm):
        return False
    return any(p.search(norm) for p in _PHRASE_RE)


def classify(text: str, *, opted_out: bool = False) -> Consent | None:
    """What an inbound SMS asks for in consent terms, or None for the assistant."""
    word = keyword(text)
    if word in ALL_OPT_OUT:
        return Consent.OPT_OUT
    if word in ALL_OPT_IN:
        if word == "yes" and not opted_out:
            return None
        return Consent.OPT_IN
    if word in ALL_HELP:
        return Consent.HELP
    if revokes_texting(text):
        return Consent.OPT_OUT
    return None


def is_carrier_keyword(text: str) -> bool:
    """True when the message is one of the words Twilio's opt-out handling answers itself
    (the English ones only: a Spanish ALTO is confirmed by billbot)."""
    return keyword(text) in CARRIER_KEYWORDS

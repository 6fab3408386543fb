"""Which language a patient's message is written in, and whether it asks for a language.

Detection: Lingua (lingua-language-detector), restricted to English and Spanish. Chosen
because it is maintained, works offline from models inside its wheel (no download at run
time), and is built for short text: where n-gram detectors such as langdetect or fastText's
lid.176 guess on one or two words, Lingua gives calibrated confidences, so a message too short
to tell comes back as "unknown" instead of a coin toss. In front of it sits a small list of
one-word messages patients send ("hola", "sí", "SALDO", "gracias" / "hi", "BAL", "thanks"),
because a single word is exactly where any statistical detector is weakest. A message that
is neither (a date, "ok", "PLAN", "no") says nothing, and the conversation keeps its language.

Switches: ESPAÑOL / SPANISH / EN ESPAÑOL and ENGLISH / INGLÉS / IN ENGLISH, alone or with
politeness words, in any case, with or without accents.
"""
from __future__ import annotations

import re
import unicodedata
from functools import cache

SPANISH_WORDS = frozenset({
    "hola", "ola", "holaa", "buenas", "buenos", "dias", "tardes", "noches", "si", "gracias",
    "grax", "saldo", "pagar", "pago", "agente", "ayuda", "ayudame", "cuanto", "cuanta", "debo",
    "adios", "chao", "cuenta", "factura", "reembolso", "seguro", "aseguranza", "quiero",
    "necesito", "favor", "porfa", "porfavor", "claro", "dale", "orale", "nel", "tengo",
    "mensualidades", "deducible", "copago", "coseguro", "disputa", "persona", "estado",
    "cobro", "cobros", "cargo", "tambien", "pero", "mi", "usted", "que", "como", "donde",
    "cuando", "por", "para", "gano", "somos", "mes", "meses", "el", "la", "los", "las", "de",
    "del", "esta", "alto", "parar", "baja", "cancelar", "ingles", "espanol",
})
ENGLISH_WORDS = frozenset({
    "hi", "hello", "hey", "yes", "yeah", "yep", "nope", "thanks", "thank", "thx", "bal",
    "balance", "pay", "agent", "help", "bye", "goodbye", "owe", "refund", "insurance",
    "what", "how", "when", "where", "why", "my", "the", "please", "pls", "want", "need", "is",
    "statement", "payment", "you", "your", "can", "do",
})
# "bill", "copay", "plan" are Spanglish too ("el bill", "mi copay"): in neither list.
# Both lists lean on a word count: a message is the list's language when its words are mostly
# from that list; otherwise Lingua decides, above MIN_CONFIDENCE.
MIN_CONFIDENCE = 0.80
MIN_LETTERS_FOR_LINGUA = 8

SWITCH_TO = {"espanol": "es", "spanish": "es", "castellano": "es",
             "english": "en", "ingles": "en"}
_SWITCH_FILLER = frozenset({"en", "in", "please", "por", "favor", "porfa", "pls", "plz",
                            "ok", "quiero", "i", "want", "speak", "hablar", "habla", "hablo",
                            "only", "solo", "me", "a", "al", "cambiar", "change", "to"})
_WORD = re.compile(r"[a-z]+")


def plain(text: str) -> str:
    """Lower case without accents: 'ESPAÑOL' -> 'espanol', 'Sí' -> 'si'."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def words(text: str) -> list[str]:
    """The message's words, plain (see plain())."""
    return _WORD.findall(plain(text))


def switch_request(text: str) -> str | None:
    """'es' or 'en' when the whole message asks for that language, else None."""
    found = words(text)
    targets = {SWITCH_TO[w] for w in found if w in SWITCH_TO}
    if len(targets) != 1 or len(found) > 5:
        return None
    if all(w in SWITCH_TO or w in _SWITCH_FILLER for w in found):
        return targets.pop()
    return None


@cache
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    return (LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.SPANISH)
            .with_preloaded_language_models().build())


def _by_word_list(found: list[str]) -> str | None:
    es = sum(w in SPANISH_WORDS for w in found)
    en = sum(w in ENGLISH_WORDS for w in found)
    if es > en and es * 2 >= len(found):
        return "es"
    if en > es and en * 2 >= len(found):
        return "en"
    return None


def detect(text: str) -> str | None:
    """'es', 'en', or None when the message is too short or mixed to tell."""
    found = words(text)
    if not found:
        return None
    if any(c in text for c in "¿¡ñÑ"):
        return "es"
    if len(found) <= 2:
        return _by_word_list(found)
    if sum(len(w) for w in found) < MIN_LETTERS_FOR_LINGUA:
        return _by_word_list(found)
    from lingua import Language

    values = _detector().compute_language_confidence_values(text)
    best = max(values, key=lambda v: v.value)
    if best.value < MIN_CONFIDENCE:
        return _by_word_list(found)
    return "es" if best.language == Language.SPANISH else "en"

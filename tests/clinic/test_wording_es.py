"""The Spanish catalogue: complete (every English message id, its placeholders kept), plain,
and written as US Spanish writes amounts and dates; speaking() sets a turn's language."""
from __future__ import annotations

import re
from datetime import date

from billing.core.money import fmt
from bot.segments import encoding, segment_count
from clinic import wording


def missing_translations(lang: str) -> list[str]:
    """English message ids that `lang` does not translate, sorted."""
    return sorted(set(wording.messages("en")) - set(wording.messages(lang)))


def test_every_english_message_has_a_spanish_translation():
    missing = missing_translations("es")
    assert not missing, (
        "clinic/wording/locale/es/LC_MESSAGES/billbot.po lacks these msgids (translate each):\n"
        + "\n".join(f"  msgid {m!r}: {wording.messages('en')[m]!r}" for m in missing))


def test_the_completeness_check_names_what_is_missing(tmp_path, monkeypatch):
    (tmp_path / "xx" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "xx" / "LC_MESSAGES" / "billbot.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: xx\\n"\n\nmsgid "goodbye"\nmsgstr "Ciao"\n',
        encoding="utf-8")
    (tmp_path / "en").symlink_to(wording.LOCALE_DIR / "en")
    monkeypatch.setattr(wording, "LOCALE_DIR", tmp_path)
    wording.messages.cache_clear()
    try:
        missing = missing_translations("xx")
        assert "goodbye" not in missing and "greet" in missing
    finally:
        wording.messages.cache_clear()


def test_spanish_keeps_each_placeholder():
    for msg_id in wording.messages("es"):
        assert wording.fields(msg_id, "es") == wording.fields(msg_id), msg_id


def test_spanish_dates_are_written_in_words_and_amounts_as_us_spanish_writes_them():
    assert wording.day(date(2026, 12, 1), "es") == "1 de diciembre de 2026"
    assert wording.weekday(date(2026, 12, 1), "es") == "martes"
    text = wording.text("balance.due_by", "es", first_name="Ana", due_now=fmt(350000),
                        due_date=wording.day(date(2026, 12, 1), "es"))
    assert text == "Hola Ana. Usted debe $3,500.00 ahora. La fecha límite es el 1 de diciembre de 2026."


def test_speaking_sets_the_language_of_text_until_the_block_ends():
    with wording.speaking("es") as lang:
        assert lang == "es"
        assert wording.text("goodbye") == "Gracias por escribirnos. ¡Adiós!"
        assert wording.text("goodbye", "en") == "Thanks for getting in touch. Goodbye!"
    assert wording.text("goodbye") == "Thanks for getting in touch. Goodbye!"
    with wording.speaking("fr"):  # no catalogue: English
        assert wording.current_language() == "en"


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-zÁÉÍÓÚÜÑáéíóúüñ]+", re.sub(r"\{[a-z_]+\}", "", text))


def test_spanish_replies_are_plain_short_sentences():
    """A readability floor for a fifth-grade level: short sentences of short words (the
    Fernández-Huerta formula needs syllables; sentence and word length carry most of it)."""
    for msg_id, text in wording.messages("es").items():
        if msg_id.startswith(("format.", "page.")):
            continue
        for sentence in re.split(r"(?<=[.!?:;])\s+", text):
            assert len(_words(sentence)) <= 30, (msg_id, sentence)
        words = _words(text)
        if len(words) >= 4:  # a label ("aprobado") is a word, not a sentence to read
            assert sum(map(len, words)) / len(words) <= 6.5, msg_id


def test_each_spanish_reminder_fits_one_segment_in_its_encoding_without_an_amount():
    for msg_id, text in wording.messages("es").items():
        if not msg_id.startswith("reminder."):
            continue
        sent = text.format(clinic="Northside Family Clinic", link="https://pay.example.org/p")
        assert segment_count(sent) == 1 or msg_id.endswith(".link"), (msg_id, encoding(sent))
        assert "$" not in sent and "ALTO" in sent and "SALDO" in sent

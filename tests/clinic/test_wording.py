"""The catalogue of patient wording (clinic/wording) is complete and the only place patient
sentences are written.

What counts as patient wording, scanned with ast in the modules that talk to patients
(PATIENT_FACING; bot/reminders/report.py and select.py are the operator's side): a string literal (an f-string's literal parts, placeholders aside) that is
sentence-like, i.e. two words of letters with a space between them; and any literal with a
letter in it handed straight to a call that sends (say, utter_message, deliver, send...).
Not counted: docstrings; the catalogue's own calls (text/_ with a message id); arguments of
log calls, of raised exceptions and of re functions (log messages, errors for operators,
patterns); operator reasons (OPERATOR_REASON); and the short ALLOWED list, each entry with
its reason. Notices to the
representatives' group (bot/escalation_notices.py) and the console's screens are not sent
to patients and are not scanned.

The patient's web pages (PATIENT_PAGES) may show no text outside template expressions, and
the web chat's script no sentence (it reads its two error texts from the page).
"""
from __future__ import annotations

import ast
import re
import string
from datetime import date
from pathlib import Path

import pytest

from clinic import wording
from clinic.settings import ROOT

PATIENT_FACING = [
    "actions",
    "bot/pipeline.py",
    "bot/reminders/policy.py",
    "bot/reminders/run.py",
    "bot/reminders/outbox.py",
    "bot/channels",
    "bot/console/delivery.py",
    "bot/optout.py",
    "clinic/office_hours.py",
    "clinic/statement_links.py",
    "billing/core/explanation.py",
    "billing/core/discrepancies.py",
    "billing/payments/notices.py",
    "billing/payments/checkout.py",
    "bot/statements/pdf.py",
    "bot/statements/notices.py",
    "bot/statements/content.py",
]
SENTENCE = re.compile(r"[A-Za-z]{2,}[ \t]+[A-Za-z]")
LETTER = re.compile(r"[A-Za-z]")
SENDING = {"say", "utter_message", "deliver", "send", "send_message", "send_reply"}
CATALOGUE = {"text", "_"}  # clinic.wording.text, imported as text or _
LOGGING = {"debug", "info", "warning", "error", "exception", "critical"}
# Why a reminder was skipped, postponed or failed: for the operator's report and the outbox
# rows (a keyword argument or a variable with one of these names), never sent to a patient.
OPERATOR_REASON = re.compile(r"^(reason|why)$|_reason$")
# (path, literal): words that are never sent to a patient, with why.
_PATIENT_INPUT = "a word the patient types, read by the parser, never sent"
_SKIP_REASON = "why a reminder is skipped, for the operator's report"
ALLOWED: dict[tuple[str, str], str] = {
    ("actions/forms.py", "never mind"): _PATIENT_INPUT,
    ("actions/forms.py", "forget it"): _PATIENT_INPUT,
    ("actions/forms.py", "no thanks"): _PATIENT_INPUT,
    ("actions/parsing.py", "just me"): _PATIENT_INPUT,
    ("actions/parsing.py", "only me"): _PATIENT_INPUT,
    ("actions/forms.py", "ya no"): _PATIENT_INPUT,
    ("actions/forms.py", "no gracias"): _PATIENT_INPUT,
    ("actions/parsing.py", "solo yo"): _PATIENT_INPUT,
    ("actions/parsing.py", "nomas yo"): _PATIENT_INPUT,
    ("actions/parsing.py", "yo sola"): _PATIENT_INPUT,
    ("actions/parsing.py", "yo solo"): _PATIENT_INPUT,
    ("bot/reminders/policy.py", "no Telegram chat linked"): _SKIP_REASON,
    ("bot/reminders/policy.py", "opted out of Telegram reminders (STOP)"): _SKIP_REASON,
    ("bot/reminders/policy.py", "opted out (STOP)"): _SKIP_REASON,
    ("bot/reminders/policy.py", "no phone number"): _SKIP_REASON,
    ("bot/reminders/policy.py", "no SMS consent"): _SKIP_REASON,
    ("bot/reminders/policy.py", "no email address"): _SKIP_REASON,
    ("bot/reminders/policy.py", "unsubscribed from email"): _SKIP_REASON,
    ("bot/reminders/policy.py", "email address failing (bounced)"): _SKIP_REASON,
    ("bot/reminders/policy.py", "no email consent"): _SKIP_REASON,
    ("bot/reminders/run.py", "quiet hours"): "outbox.postpone's reason, for the operator",
    ("bot/reminders/run.py", "may have been sent: not retried"): "outbox.mark_unknown's reason",
    ("bot/channels/sms.py", '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'):
        "the empty TwiML answer to Twilio's webhook, no message",
    ("bot/channels/email_message.py",
     ('<!doctype html><html><head><meta charset="utf-8"></head><body style="font-family: '
     'Arial, sans-serif; font-size: 15px; color: #1f2a37; max-width: 560px">\n{}\n'
     '</body></html>\n')): "the HTML part's frame, no words",
    ("bot/statements/pdf.py", "<br/><font color='#5b6573'>{}</font>"): "PDF markup, no words",
    ("bot/statements/pdf.py", "<font size='13'><b>{}: {}</b></font>"): "PDF markup, no words",
}


def _files() -> list[Path]:
    files: list[Path] = []
    for entry in PATIENT_FACING:
        path = ROOT / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _exempt_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes whose strings are not patient wording: docstrings, and everything
    inside log calls, raised exceptions, re calls and the catalogue's own calls."""
    exempt: set[int] = set()

    def cover(node: ast.AST) -> None:
        exempt.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)):
            cover(body[0])
        if isinstance(node, ast.Raise) and node.exc is not None:
            cover(node.exc)
        if isinstance(node, ast.keyword) and node.arg and OPERATOR_REASON.search(node.arg):
            cover(node.value)
        if isinstance(node, ast.Assign) and any(
                isinstance(n, ast.Name) and OPERATOR_REASON.search(n.id)
                for target in node.targets for n in ast.walk(target)):
            cover(node.value)
        if isinstance(node, ast.Call):
            name, func = _call_name(node), node.func
            owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
            if (name in LOGGING and owner in {"log", "logger", "logging"}) or owner == "re":
                cover(node)
            elif name in CATALOGUE and node.args and isinstance(node.args[0], ast.Constant):
                cover(node.args[0])
    return exempt


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def patient_literals(source: str, path: str = "<source>") -> list[str]:
    """'path:line: literal' for each patient sentence written in the source."""
    tree = ast.parse(source)
    exempt = _exempt_nodes(tree)
    inside_fstring = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)
                      for v in n.values}
    sent = {id(a) for n in ast.walk(tree) if isinstance(n, ast.Call) and _call_name(n) in SENDING
            for a in [*n.args, *(k.value for k in n.keywords)]}
    found = []
    for node in ast.walk(tree):
        if id(node) in exempt or id(node) in inside_fstring:
            continue
        value = _literal(node)
        if value is None or (path, value) in ALLOWED:
            continue
        if SENTENCE.search(value) or (id(node) in sent and LETTER.search(value)):
            found.append(f"{path}:{node.lineno}: {value!r}")
    return found


def test_no_patient_sentence_is_written_outside_the_catalogue():
    found = []
    for file in _files():
        found += patient_literals(file.read_text(encoding="utf-8"),
                                  file.relative_to(ROOT).as_posix())
    assert not found, ("patient wording belongs in clinic/wording (a message id and "
                       "text(msg_id, ...)):\n" + "\n".join(found))


@pytest.mark.parametrize("source", [
    'turn.say("Hello there, friend")',
    'turn.say("Hello")',
    'def f():\n    return "Your balance is due."',
    'x = f"Hi {name}, you owe {amount}."',
    'self.dispatcher.utter_message(text="Thanks!")',
    'await pipeline.deliver(key, ["Sorry, not now"])',
])
def test_the_scan_finds_a_sentence_written_in_code(source):
    assert patient_literals(source)


@pytest.mark.parametrize("source", [
    'turn.say(t.greet(clinic))',
    'turn.say(text("verify.verified", first_name=name))',
    'log.warning("sms send failed", extra={"code": code})',
    'raise ReminderConfigError(f"cadence must be increasing: {raw!r}")',
    'WORDS = re.compile(r"\\b(fed up|sick of)\\b")',
    'def f():\n    """Say hello to the patient."""',
    'key = "plan_income"',
    'return Decision(action=SKIP, reason="open dispute")',
])
def test_the_scan_leaves_ids_logs_errors_and_docstrings_alone(source):
    assert not patient_literals(source)


# ---- the catalogue itself ---------------------------------------------------------------

def _ids_used_in_code() -> set[str]:
    """Every message id written as a literal first argument of text(...) / _(...), and the
    ids in the module-level tables of ids (REFUND_STATUS, STEP_TEXTS ...)."""
    ids: set[str] = set()
    known = set(wording.messages())
    for file in _files() + [ROOT / "clinic/wording/__init__.py"]:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and _call_name(node) in CATALOGUE and node.args
                    and isinstance(node.args[0], ast.Constant)):
                ids.add(node.args[0].value)
            elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and re.fullmatch(r"[a-z_]+(\.[a-z0-9_]+)+", node.value)
                  and node.value.split(".")[0] in {i.split(".")[0] for i in known}):
                ids.add(node.value)
    for page in PATIENT_PAGES:
        ids.update(re.findall(r"\bt\([\"']([a-z0-9_.]+)[\"']", (ROOT / page).read_text()))
    return ids


def test_every_message_id_in_the_code_is_in_the_english_catalogue():
    missing = _ids_used_in_code() - set(wording.messages())
    assert not missing


def test_every_english_message_is_used():
    unused = set(wording.messages()) - _ids_used_in_code()
    # reminder.*.link ids are built from the step's id (bot/reminders/policy.py WITH_LINK)
    unused = {i for i in unused if not (i.startswith("reminder.") and i.endswith(".link"))}
    assert not unused


def test_each_translation_keeps_the_placeholders_of_the_english():
    english = wording.messages("en")
    for lang in wording.languages():
        for msg_id in wording.messages(lang):
            assert msg_id in english, f"{lang}: {msg_id} is not an English message id"
            assert wording.fields(msg_id, lang) == wording.fields(msg_id), (lang, msg_id)


def test_text_fills_the_fields_and_refuses_an_unknown_id():
    assert wording.text("verify.verified", first_name="Ana") == "Thanks Ana, you're verified."
    with pytest.raises(wording.UnknownMessage):
        wording.text("no.such.message")
    assert "en" in wording.languages()
    assert all(isinstance(v, str) and v for v in wording.messages().values())
    assert all(name.isidentifier() for v in wording.messages().values()
               for _, name, _, _ in string.Formatter().parse(v) if name)


# ---- the patient's web pages ------------------------------------------------------------

PATIENT_PAGES = ["bot/templates/statement.html", "bot/templates/chat.html",
                 "bot/templates/payment_return.html", "bot/templates/unsubscribe.html"]
PATIENT_SCRIPTS = ["bot/static/chat.js"]
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
WORDY_ATTRIBUTE = re.compile(r"""\b(?:aria-label|placeholder|title|alt)=["']([^"']*)["']""")
JS_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'')
JS_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
JS_ALLOWED = {"noopener noreferrer", "use strict"}  # a link's rel attribute, a JS directive


def page_words(html: str) -> list[str]:
    """Words a page shows that do not come from a template expression ({{ t(...) }})."""
    bare = JINJA.sub("", html)
    shown = re.findall(r">([^<]*)<", bare) + WORDY_ATTRIBUTE.findall(bare)
    return [s.strip() for s in shown if LETTER.search(s)]


def script_words(js: str) -> list[str]:
    strings = (a or b for a, b in JS_STRING.findall(JS_COMMENT.sub("", js)))
    return [s for s in strings if SENTENCE.search(s) and s not in JS_ALLOWED]


@pytest.mark.parametrize("page", PATIENT_PAGES)
def test_a_patient_page_shows_only_the_catalogue_words(page):
    assert not page_words((ROOT / page).read_text(encoding="utf-8"))


@pytest.mark.parametrize("script", PATIENT_SCRIPTS)
def test_the_web_chat_script_takes_its_words_from_the_page(script):
    assert not script_words((ROOT / script).read_text(encoding="utf-8"))


def test_the_page_scan_finds_words_written_in_a_page_or_script():
    assert page_words("<p>{{ t('page.chat.intro') }} Call us</p>") == ["Call us"]
    assert page_words('<input placeholder="Type here">') == ["Type here"]
    assert script_words('add("error", "Something went wrong.");') == ["Something went wrong."]


def test_page_words_are_escaped_but_links_are_kept():
    from markupsafe import Markup
    link = Markup('<a href="https://pay.example/">pay</a>')
    html = wording.html("page.statement.pay_online", link=link, methods="cards & checks")
    assert html == 'Pay online at <a href="https://pay.example/">pay</a> (cards &amp; checks).'


def test_a_second_language_is_a_po_file_and_falls_back_to_english(tmp_path, monkeypatch):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(locale="es", domain=wording.DOMAIN)
    catalog.add("verify.verified", "Gracias {first_name}, ya está verificado.")
    (tmp_path / "es" / "LC_MESSAGES").mkdir(parents=True)
    with (tmp_path / "es" / "LC_MESSAGES" / "billbot.po").open("wb") as f:
        write_po(f, catalog)
    (tmp_path / "en").symlink_to(wording.LOCALE_DIR / "en")
    monkeypatch.setattr(wording, "LOCALE_DIR", tmp_path)
    wording.messages.cache_clear()
    try:
        assert wording.languages() == ("en", "es")
        assert wording.text("verify.verified", "es", first_name="Ana") == (
            "Gracias Ana, ya está verificado.")
        assert wording.text("goodbye", "es") == wording.text("goodbye")  # not translated yet
        assert wording.day(date(2026, 3, 4), "es") == "mar 4, 2026"
        assert wording.fields("verify.verified", "es") == wording.fields("verify.verified")
    finally:
        wording.messages.cache_clear()

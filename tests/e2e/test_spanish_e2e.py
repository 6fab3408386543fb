"""Spanish, end to end: the real gateway in front of the trained English and Spanish models,
the action server and the database; SMS through signed Twilio webhooks and the Twilio double.
Amounts are checked to the cent against the database, dates in Spanish words."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from billing.core.money import fmt
from billing.db.models import Patient
from billing.escalations.models import Escalation
from billing.importer import import_sources, source_from_text
from billing.languages.models import ConversationLanguage
from bot.reminders.run import run_reminders
from clinic import wording
from clinic.faq import load_faq
from clinic.settings import Settings
from tests.doubles.twilio import TwilioDouble
from tests.e2e.conftest import SESSION_SECRET
from tests.e2e.expected import balance
from tests.gateway_support import ACCOUNT_SID, AUTH_TOKEN, PUBLIC, Gateway

pytestmark = pytest.mark.e2e

LUCIA_PHONE = "+12125550301"  # Lucía Gómez, A3001, Spanish on file, alone on her number
FAMILY_PHONE = "+12125550302"  # Marta and Pablo Ruiz, Spanish, one phone
OMAR_PHONE = "+12125550304"  # Omar Reyes, A3004, English on file, switches to Spanish
INES_PHONE = "+12125550306"  # Inés Mora, A3006, Spanish on file, writes in English
LUCIA_DOB = date(1975, 3, 15)
MARTA_DOB = date(2010, 4, 3)  # written day first: 03/04/2010
LUCIA_DUE = 150_37 + 89_99  # two visits, odd cents


def _csv(header: str, rows: list[str]) -> str:
    return "\n".join([header, *rows]) + "\n"


def spanish_sources(today: date):
    d = lambda days: (today - timedelta(days=days)).isoformat()
    due = (today + timedelta(days=20)).isoformat()
    patients = _csv(
        "account_number,first_name,last_name,date_of_birth,phone,email,telegram_chat_id,"
        "timezone,preferred_channel,sms_consent,language",
        [f"A3001,Lucia,Gomez,{LUCIA_DOB},{LUCIA_PHONE},,,America/New_York,sms,yes,es",
         f"A3002,Marta,Ruiz,{MARTA_DOB},{FAMILY_PHONE},,,America/New_York,sms,yes,es",
         f"A3003,Pablo,Ruiz,1980-11-30,{FAMILY_PHONE},,,America/New_York,sms,yes,es",
         f"A3004,Omar,Reyes,1969-07-04,{OMAR_PHONE},,,America/New_York,sms,yes,en",
         "A3005,Rita,Vega,1990-01-25,+12125550305,,,America/New_York,sms,yes,es",
         f"A3006,Ines,Mora,1984-09-21,{INES_PHONE},,,America/New_York,sms,yes,es"],
    )
    ledger = _csv(
        "account_number,entry_id,posted_date,service_date,type,amount,cpt_code,description,"
        "provider,claim_id,claim_status,method,due_date",
        [f"A3006,ES-I1,{d(15)},{d(15)},charge,45.50,99212,Office visit short,Dr. Chen,,self_pay,,{due}",
         f"A3001,ES-L1,{d(40)},{d(40)},charge,150.37,99213,Office visit,Dr. Rivera,,self_pay,,{due}",
         f"A3001,ES-L2,{d(30)},{d(30)},charge,89.99,80053,Metabolic panel,Lab,,self_pay,,{due}",
         f"A3002,ES-M1,{d(20)},{d(20)},charge,61.11,99212,Office visit short,Dr. Chen,,self_pay,,{due}",
         f"A3004,ES-O1,{d(20)},{d(20)},charge,75.55,99212,Office visit short,Dr. Chen,,self_pay,,{due}",
         f"A3005,ES-R1,{d(40)},{d(40)},charge,120.00,99212,Office visit short,Dr. Chen,,self_pay,,{d(5)}"],
    )
    return [source_from_text("patients.csv", patients), source_from_text("ledger.csv", ledger)]


@pytest.fixture(scope="module")
def gateway(assistant):
    if not assistant.url_es:
        pytest.fail("no Spanish model at models/current-es: run `billbot train`")
    with assistant.db() as s:
        import_sources(s, spanish_sources(assistant.today))
        s.commit()
    with TwilioDouble(ACCOUNT_SID, AUTH_TOKEN) as twilio:
        settings = Settings(
            database_url=assistant.db_url, public_base_url=PUBLIC,
            twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
            twilio_from_number="+15550100000", twilio_api_base_url=twilio.url,
            rasa_url=assistant.url.removesuffix("/webhooks/rest/webhook"),
            rasa_url_es=assistant.url_es.removesuffix("/webhooks/rest/webhook"),
            rasa_timeout_s=60.0, session_secret=SESSION_SECRET,
        )
        with Gateway(settings) as gw:
            gw.twilio = twilio
            yield gw


SPANISH_PHONES = (LUCIA_PHONE, FAMILY_PHONE, OMAR_PHONE, "+12125550305", INES_PHONE)


@pytest.fixture(autouse=True)
def fresh_spanish_conversations(assistant, gateway):
    """Each test starts these phones' conversations afresh in both models' shared tracker
    store (the conftest does it for the English clinic's senders)."""
    for phone in SPANISH_PHONES:
        assistant.client.post(assistant.url, json={"sender": f"sms:{phone}",
                                                   "message": "/restart"},
                              timeout=60.0).raise_for_status()


class Sms:
    """One phone texting the gateway; say() returns the replies to that message."""

    def __init__(self, gw: Gateway, phone: str):
        self.gw, self.phone, self.n = gw, phone, 0

    def bodies(self) -> list[str]:
        return [p["Body"] for p in self.gw.twilio.sent if p.get("To") == self.phone]

    def say(self, text: str) -> str:
        before = len(self.bodies())
        self.n += 1
        resp = self.gw.sms(text, f"SM{abs(hash((self.phone, text, self.n))):030d}"[:34],
                           self.phone)
        assert resp.status_code == 200, resp.text
        self.gw.idle(60.0)
        return " ".join(self.bodies()[before:])  # SMS parts split at spaces


def test_a_spanish_patient_is_verified_with_a_day_first_date_and_told_the_balance(gateway,
                                                                                 assistant):
    sms = Sms(gateway, LUCIA_PHONE)
    asked = sms.say("Hola, ¿cuánto debo?")
    assert "fecha de nacimiento" in asked and "$" not in asked
    reply = sms.say("15/03/1975")
    with assistant.db() as s:
        b = balance(s, "A3001")
    assert b.due_now == LUCIA_DUE
    assert "Gracias Lucia" in reply
    assert f"Usted debe {fmt(b.due_now)} ahora" in reply
    assert wording.day(b.due_date, "es") in reply and " de " in wording.day(b.due_date, "es")


def test_every_billing_question_in_spanish_is_answered_in_spanish(gateway, assistant):
    sms = Sms(gateway, LUCIA_PHONE)
    sms.say("SALDO")
    sms.say("15 de marzo de 1975")
    with assistant.db() as s:
        due = balance(s, "A3001").due_now
    pay = sms.say("PAGAR")
    assert f"Pague {fmt(due)} seguro aquí: " in pay  # a Stripe link for exactly what is owed
    # how to pay: with payments on (the e2e action server has the Stripe double), the link
    assert f"Pague {fmt(due)} seguro aquí: " in sms.say("aceptan tarjeta de credito?")
    assert "reembolso" in sms.say("donde esta mi reembolso").lower()
    assert "seguro" in sms.say("mi seguro cubre la consulta?").lower()
    statement = sms.say("mandeme mi estado de cuenta")
    assert "Estado de cuenta A3001" in statement and fmt(due) in statement
    explained = sms.say("no entiendo por que debo esto, me lo explica")
    assert f"Así se formó su saldo de {fmt(due)}, visita por visita:" in explained
    assert "el cargo fue de $150.37." in explained and "el cargo fue de $89.99." in explained
    deductible = load_faq(gateway.settings.faq_dir, "es").answers["deductible"].text
    assert deductible[:60] in sms.say("que es un deducible?")
    sms.say("no")
    assert wording.text("autopay.none", "es") in sms.say("quitar el pago automatico")
    plan = sms.say("quiero un plan de pagos")
    assert "cuánto ganan en su casa al mes" in plan
    options = sms.say("gano 2 mil al mes")
    assert "Estos son planes para su saldo de " + fmt(due) in options
    assert "al mes por" in options
    sms.say("olvidalo")  # ends the plan form (CANCELAR would be an opt-out from texts)
    dispute = sms.say("me cobraron dos veces la consulta, esta mal")
    assert "Revisé su cuenta" in dispute
    sms.say("no")
    assist = sms.say("no tengo dinero para pagar, hay ayuda financiera?")
    assert "personas viven en su casa" in assist
    # her income was given for the plan ("gano 2 mil al mes"): it is not asked again
    result = sms.say("somos cuatro")
    assert f"familia de 4 con {fmt(24_000_00)} al año" in result
    assert "guía federal de pobreza" in result
    human = sms.say("quiero hablar con una persona")
    assert "equipo de cobros" in human
    with assistant.db() as s:
        assert s.scalar(select(Escalation).where(Escalation.sender_key == f"sms:{LUCIA_PHONE}"))


def test_a_family_phone_in_spanish_asks_which_patient_and_reads_dates_day_first(gateway):
    sms = Sms(gateway, FAMILY_PHONE)
    asked = sms.say("saldo")
    assert "más de un paciente usa este número" in asked
    reply = sms.say("Marta 03/04/2010")
    assert "Gracias Marta" in reply and f"Usted debe {fmt(61_11)} ahora" in reply


def test_a_switch_mid_conversation_changes_the_language_and_the_verified_patients_record(
        gateway, assistant):
    sms = Sms(gateway, OMAR_PHONE)
    assert "date of birth" in sms.say("what do I owe")
    assert "Thanks Omar" in sms.say("07/04/1969")
    assert "en español" in sms.say("ESPAÑOL")
    assert f"Usted debe {fmt(75_55)} ahora" in sms.say("cuanto debo")
    with assistant.db() as s:
        assert s.scalar(select(Patient.language).where(Patient.account_number == "A3004")) == "es"
        row = s.scalar(select(ConversationLanguage).where(
            ConversationLanguage.sender_key == f"sms:{OMAR_PHONE}"))
        assert (row.lang, row.source) == ("es", "switch")
    assert "in English" in sms.say("ENGLISH")
    assert f"You owe {fmt(75_55)} now" in sms.say("BAL")


def test_an_english_question_from_a_spanish_patient_is_understood_and_answered_in_spanish(
        gateway, assistant):
    sms = Sms(gateway, INES_PHONE)  # her own phone: Lucia's conversation ends with a person
    asked = sms.say("how much do I owe on my account")
    assert "fecha de nacimiento" in asked
    reply = sms.say("21/09/1984")  # day first, as her language writes it
    assert f"Usted debe {fmt(45_50)} ahora" in reply


def test_a_spanish_reminder_is_one_segment_without_an_amount_and_alto_stops_everything(
        gateway, assistant):
    phone = "+12125550305"
    settings = gateway.settings
    noon = datetime.combine(assistant.today, time(12, 0), tzinfo=ZoneInfo("America/New_York"))
    report = run_reminders(settings, gateway.engine, noon)
    assert report.actions["send"] >= 1
    sent = [p for p in gateway.twilio.sent if p.get("To") == phone]
    assert len(sent) == 1
    body = sent[0]["Body"]
    from bot.segments import encoding, segment_count
    assert segment_count(body) == 1 and encoding(body) == "GSM-7"
    assert "ALTO" in body and "SALDO" in body and not re.search(r"\$\d", body)
    sms = Sms(gateway, phone)
    confirm = sms.say("ALTO")
    assert "ya no le mandaremos mensajes" in confirm
    assert sms.say("cuanto debo") == ""
    later = run_reminders(settings, gateway.engine, noon + timedelta(days=20))
    assert [p for p in gateway.twilio.sent if p.get("To") == phone][1:] == [
        p for p in gateway.twilio.sent if p.get("To") == phone and "mandaremos" in p["Body"]]
    assert later.actions["send"] == 0 or all(
        d.patient_id != _pid(assistant, "A3005") for d in later.decisions if d.action == "send")


def _pid(assistant, account: str) -> int:
    with assistant.db() as s:
        return s.scalar(select(Patient.id).where(Patient.account_number == account))

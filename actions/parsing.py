"""Reading what patients type: amounts ('2k', '3,200/month'), household sizes, plan choices.
Entities are used when the extractor found them; the raw text is the fallback."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from billing.core.money import Cents, MoneyError, cents, parse_amount

# An amount is a number standing alone: not inside a date (3/14), a phone number (555-2013),
# an account or reference number (A1042, #88123) or a decimal of something else.
_AMOUNT = re.compile(
    r"(?<![\w/#.,-])\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?!\d|[/.,-]\d)"
    r"\s*(k|thousand|grand|mil)?\b",
    re.IGNORECASE,
)
_YEARLY = re.compile(r"\b(year|yr|annual|annually|yearly|a year|per year|/yr|/year|"
                     r"a(?:ñ|n)o|anual|anuales|al a(?:ñ|n)o|por a(?:ñ|n)o)\b", re.IGNORECASE)
_MONTHLY = re.compile(r"\b(month|mo|monthly|a month|per month|/mo|/month|"
                      r"mes|al mes|por mes|mensual|mensuales|cada mes)\b", re.IGNORECASE)
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    # Spanish ("somos cuatro"); not "once" (11), which English uses for something else
    "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
    "nueve": 9, "diez": 10, "doce": 12,
}
_ALONE = re.compile(r"\b(just me|only me|me only|by myself|myself|i live alone|live alone|"
                    r"single person|no one else|just myself|"
                    r"solo yo|s[oó]lo yo|nom[aá]s yo|yo sol[ao]|vivo sol[ao]|nadie m[aá]s)\b")
_COUNT = r"(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"
# Phrases that state a household size anywhere in a message ("family of four", "5 of us",
# "household of 3", "4 people in my house"); a bare number only counts as a reply to the question.
_HOUSEHOLD_PHRASES = [
    re.compile(rf"\b(?:family|household|house)\s+(?:of|is)\s+{_COUNT}\b"),
    re.compile(rf"\b{_COUNT}\s+(?:of us|people|persons|ppl|in (?:my|our|the) "
               rf"(?:house|household|home|family)|person household|in household)\b"),
    re.compile(rf"\bwe(?:'re| are)\s+{_COUNT}\b"),
    re.compile(rf"\bhousehold(?: size)?\s*(?:is|=|:)?\s*{_COUNT}\b"),
    # Spanish: "somos cuatro", "familia de 5", "cuatro personas", "3 en mi casa"
    re.compile(rf"\bsomos\s+{_COUNT}\b"),
    re.compile(rf"\b(?:familia|hogar|casa)\s+(?:de|es de)\s+{_COUNT}\b"),
    re.compile(rf"\b{_COUNT}\s+(?:personas|de familia|en (?:mi|la|el|nuestra) "
               r"(?:casa|hogar|familia))\b"),
]
_WITH_KIDS = re.compile(rf"\b(?:me|i)\s+and\s+(?:my\s+)?{_COUNT}\s+(?:kids|children|sons|daughters)\b")
_PARTNER_AND_KIDS = re.compile(
    rf"\b(?:wife|husband|partner|spouse)\s+and\s+(?:our\s+|my\s+)?{_COUNT}\s+"
    r"(?:kids|children)\b")
_WITH_KIDS_ES = re.compile(rf"\byo\s+y\s+(?:mis\s+)?{_COUNT}\s+(?:hijos|hijas|niños|ninos|niñas)\b")
_PARTNER_AND_KIDS_ES = re.compile(
    rf"\b(?:esposa|esposo|pareja|marido|señora|senora)\s+y\s+(?:mis\s+|nuestros\s+)?{_COUNT}\s+"
    r"(?:hijos|hijas|niños|ninos)\b")
_ME_AND_ONE = re.compile(r"\b(?:me|i)\s+and\s+my\s+(?:wife|husband|partner|spouse|son|daughter|"
                         r"kid|child|mom|mother|dad|father)\b"
                         r"|\b(?:yo\s+y\s+mi|mi\s+\w+\s+y\s+yo)\b")
_BARE_HOUSEHOLD = re.compile(rf"^\s*(?:there (?:are|is)\s+)?{_COUNT}(?:\s+(?:people|persons|"
                             r"of us|total|in all|including me|personas|en total|"
                             r"conmigo))?\s*[.!]?\s*$")
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "last": -1,
             "primera": 1, "primero": 1, "1ra": 1, "segunda": 2, "segundo": 2, "2da": 2,
             "tercera": 3, "tercero": 3, "3ra": 3, "ultima": -1, "última": -1, "ultimo": -1}
MAX_TEXT = 500


def clean(value: object) -> str:
    """An entity or message value as bounded plain text (injected entities can be anything)."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return ""
    return str(value)[:MAX_TEXT]


def parse_money(text: str) -> Cents | None:
    """The first amount in text, in cents: '2k' -> 200000, '$3,200/month' -> 320000."""
    for match in _AMOUNT.finditer(clean(text)):
        whole, frac, thousands = match.groups()
        try:
            cents = parse_amount(whole + (f".{frac}" if frac else ""))
        except MoneyError:
            continue
        if thousands:
            cents *= 1000
        return cents
    return None


def first_money(*texts: str) -> Cents | None:
    """The first amount found in the first of texts that has one (an entity the extractor cut
    short, say, then the whole message)."""
    for text in texts:
        if text and (value := parse_money(text)) is not None:
            return value
    return None


def income_period(text: str) -> str | None:
    """'year', 'month', or None when the text does not say."""
    text = clean(text)
    if _YEARLY.search(text):
        return "year"
    if _MONTHLY.search(text):
        return "month"
    return None


def monthly_from_annual(cents: Cents) -> Cents:
    """An annual amount in cents divided by 12, rounded half-up to whole cents."""
    return int((Decimal(cents) / 12).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _count(word: str) -> int:
    return _NUMBER_WORDS[word] if word in _NUMBER_WORDS else int(word)


def _sized(size: int) -> int | None:
    return size if 1 <= size <= 20 else None


def household_in(text: str) -> int | None:
    """A household size a message states in words, anywhere in it: 'family of four', 'just me',
    'me and my 2 kids' (3), 'my wife and our 3 kids' (5 with me). Numbers alone don't count."""
    text = clean(text).lower()
    if match := _PARTNER_AND_KIDS.search(text) or _PARTNER_AND_KIDS_ES.search(text):
        return _sized(_count(match.group(1)) + 2)
    if match := _WITH_KIDS.search(text) or _WITH_KIDS_ES.search(text):
        return _sized(_count(match.group(1)) + 1)
    for pattern in _HOUSEHOLD_PHRASES:
        if match := pattern.search(text):
            return _sized(_count(match.group(1)))
    if _ALONE.search(text):
        return 1
    if _ME_AND_ONE.search(text):
        return 2
    return None


def parse_household(text: str) -> int | None:
    """A household size of 1..20 as the answer to 'how many people?': '4', 'four of us',
    'just me', 'family of 5'. A reply that is something else ('A1042 3/14/1985') is None."""
    stated = household_in(text)
    if stated is not None:
        return stated
    match = _BARE_HOUSEHOLD.match(clean(text).lower())
    return _sized(_count(match.group(1))) if match else None


def parse_choice(text: str, months: list[int]) -> int | None:
    """The index of the chosen option: '1', 'option 2', 'the 6 month one', 'second'."""
    text = clean(text).lower()
    by_months = re.search(r"\b(\d{1,2})\s*-?\s*(?:months?|mo|mos|payments?|meses|pagos)\b", text)
    if by_months and int(by_months.group(1)) in months:
        return months.index(int(by_months.group(1)))
    for word, position in _ORDINALS.items():
        if re.search(rf"\b{word}\b", text):
            return len(months) - 1 if position == -1 else (
                position - 1 if position <= len(months) else None)
    numbers = [int(n) for n in re.findall(r"\b(\d{1,2})\b", text)]
    if len(numbers) == 1:
        if 1 <= numbers[0] <= len(months):
            return numbers[0] - 1
        if numbers[0] in months:
            return months.index(numbers[0])
    return None


def find_member_id(text: str) -> str | None:
    """A member-id-looking token: letters and digits, at least one digit, 5+ characters."""
    for token in re.findall(r"[A-Za-z0-9][A-Za-z0-9-]{4,30}", clean(text)):
        if any(ch.isdigit() for ch in token):
            return token
    return None


_PAYER_FILLER = re.compile(
    r"\b(my|new|insurance|insurer|company|is|it's|its|it|now|i|have|got|switched|to|the|"
    r"plan|member|id|number|with|and|carrier|provider|"
    r"mi|nuevo|nueva|seguro|aseguranza|compañía|compania|es|ahora|tengo|cambié|cambie|a|el|la|"
    r"de|número|numero|con|y|miembro)\b", re.IGNORECASE)


def guess_payer(text: str, member_id: str | None) -> str | None:
    """The insurance company named in text, once filler words and the member id are gone."""
    text = clean(text)
    if member_id:
        text = text.replace(member_id, " ")
    rest = " ".join(_PAYER_FILLER.sub(" ", text).replace(",", " ").replace(":", " ").split())
    rest = rest.strip(" .!-")
    if len(rest) < 2 or not re.search(r"[A-Za-z]", rest):
        return None
    return rest[:120]


_INCOME_CUE = re.compile(
    r"\b(make|makes|making|made|earn|earns|earning|income|salary|wage|wages|bring home|take home|"
    r"get paid|paycheck|pension|disability|ssi|ssdi|social security|unemployment|gross|net|"
    r"gano|ganamos|gana|ingreso|ingresos|sueldo|salario|cobro|me pagan|nos pagan|pensión|"
    r"discapacidad|seguro social|desempleo)\b",
    re.IGNORECASE)
_INCOME_SOURCE = re.compile(
    r"^[^,.;]*\b(from|on|of)\s+(disability|ssi|ssdi|social security|unemployment|my job|work|"
    r"pension|income|salary|wages|discapacidad|seguro social|desempleo|mi trabajo)\b"
    r"|^[^,.;]*\b(income|salary|take home|before taxes|after taxes|de ingresos|de sueldo)\b",
    re.IGNORECASE)
_PAY_CUE = re.compile(
    r"\b(pay|paying|do|afford|send|put|manage|handle|offer|give|swing|spare|set up|installments?|"
    r"pagar|pago|pagaría|pagaria|dar|doy|abonar|mandar|puedo|podría|podria|cuotas?)\b",
    re.IGNORECASE)
_PER_MONTH = re.compile(r"^\s*(?:dollars?|bucks|usd|d[oó]lares)?\s*(?:(?:a|per|each|every|/)\s*"
                        r"(?:month|mo)\b|monthly\b|/mo\b|(?:al|por|cada|a)\s+mes\b|mensual(?:es)?\b)",
                        re.IGNORECASE)
ANNUAL_IF_AT_LEAST = 1_500_000  # a bare income of $15,000 or more is read as yearly


@dataclass(frozen=True)
class Details:
    """What a message says about the patient's means and offer, whatever it asks.

    offer_monthly: a monthly amount the patient offers to pay ("can I do 50 a month").
    amount: an amount the patient wants to pay now ("pay 40 now"), not monthly.
    income_annual: the household's income per year, in cents (12 x a monthly one).
    household: the household size, stated in words.
    """

    offer_monthly: Cents | None = None
    amount: Cents | None = None
    income_annual: Cents | None = None
    household: int | None = None


def _amounts(text: str):
    for match in _AMOUNT.finditer(text):
        whole, frac, thousands = match.groups()
        try:
            value = parse_amount(whole + (f".{frac}" if frac else ""))
        except MoneyError:
            continue
        yield match, value * 1000 if thousands else value


def income_annual(value: Cents, period: str | None) -> Cents:
    """An income in cents per year: as said when the text says yearly (or the bare amount is
    $15,000 or more), otherwise twelve months of it."""
    if period is None:
        period = "year" if value >= ANNUAL_IF_AT_LEAST else "month"
    return value if period == "year" else cents(value * 12)


def read_details(text: str, entities: dict[str, str] | None = None) -> Details:
    """The amounts, income and household size a message states, from the extractor's entities
    when it found them and from the words around each number otherwise."""
    text, entities = clean(text), entities or {}
    offer = amount = income = None
    if entities.get("income") and (value := parse_money(entities["income"])) is not None:
        income = income_annual(value, income_period(entities["income"]) or income_period(text))
    for match, value in _amounts(text):
        before = text[max(0, match.start() - 40):match.start()]
        after = text[match.end():match.end() + 20]
        period = income_period(after.split(",")[0])
        income_said = _INCOME_CUE.search(before) or _INCOME_SOURCE.search(
            text[match.end():match.end() + 40])
        if income_said and not _PAY_CUE.search(before[-12:]):
            if income is None:
                income = income_annual(value, period)
        elif _PER_MONTH.search(after) and _PAY_CUE.search(before):
            offer = offer if offer is not None else value
        elif _PAY_CUE.search(before[-20:]) and amount is None and offer is None:
            amount = value
    household = household_in(text)
    if household is None and entities.get("household_size"):
        household = parse_household(entities["household_size"])
    return Details(offer_monthly=offer, amount=amount, income_annual=income, household=household)
_PAY_AMOUNT = re.compile(
    r"(?<![\w/.-])(-\s*)?\$?\s*(-\s*)?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?![\w/])",
    re.IGNORECASE)
_INSTALLMENT = re.compile(r"\b(install?ments?|monthly payment|plan payment|this month'?s payment|"
                          r"cuota|mensualidad|pago mensual|pago del plan|pago de este mes)\b",
                          re.IGNORECASE)


def parse_payment_amount(text: str) -> Cents | None:
    """The amount a patient asks to pay ('pay 40 now' -> 4000, 'pay $12.50', 'pay -5' ->
    -500); None when the message names none ('PAY'). Digits inside a word (an account
    number like A1000) or a date (3/14) are not amounts."""
    match = _PAY_AMOUNT.search(clean(text))
    if match is None:
        return None
    minus, minus_after_sign, whole, frac = match.groups()
    try:
        cents = parse_amount(whole + (f".{frac}" if frac else ""))
    except MoneyError:
        return None
    return -cents if (minus or minus_after_sign) else cents


def wants_installment(text: str) -> bool:
    """'pay the next installment', 'pay my monthly payment'."""
    return bool(_INSTALLMENT.search(clean(text)))

"""Reading what patients type: amounts ('2k', '3,200/month'), household sizes, plan choices.
Entities are used when the extractor found them; the raw text is the fallback."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from billing.core.money import Cents, MoneyError, parse_amount

_AMOUNT = re.compile(
    r"\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s*(k|thousand|grand|mil)?\b", re.IGNORECASE
)
_YEARLY = re.compile(r"\b(year|yr|annual|annually|yearly|a year|per year|/yr|/year|"
                     r"a(?:ñ|n)o|anual|anuales|al a(?:ñ|n)o|por a(?:ñ|n)o)\b", re.IGNORECASE)
_MONTHLY = re.compile(r"\b(month|mo|monthly|a month|per month|/mo|/month|"
                      r"mes|al mes|por mes|mensual|mensuales|cada mes)\b", re.IGNORECASE)
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "just me": 1, "only me": 1, "myself": 1,
    # Spanish ("somos cuatro", "solo yo"); "uno"/"una" alone would also read "una persona"
    "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
    "nueve": 9, "diez": 10, "once": 11, "doce": 12, "solo yo": 1, "nomas yo": 1, "yo sola": 1,
    "yo solo": 1,
}
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


def parse_household(text: str) -> int | None:
    """A household size of 1..20 from '4', 'four of us', 'just me'."""
    text = clean(text).lower()
    for word, size in _NUMBER_WORDS.items():
        if re.search(rf"\b{word}\b", text):
            return size
    match = re.search(r"\b(\d{1,2})\b", text)
    if match and 1 <= int(match.group(1)) <= 20:
        return int(match.group(1))
    return None


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
    r"plan|member|id|number|with|and|carrier|provider)\b", re.IGNORECASE)


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

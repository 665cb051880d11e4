"""Amounts in words: Chinese financial uppercase (大写金额) and English cheque style.

Written by hand rather than with num2words or cn2an: the 大写 rules of DOMAIN.md must hold
exactly for Decimal input, and those libraries differ on the 整 and 零 rules and take floats.

Chinese ("zh"), up to 9999,9999,9999,9999.99 (万亿):
    整 after an amount that ends at 元, none after 角 or 分; one 零 for each run of zeros
    inside the number, also across 万 and 亿 (壹亿零壹元整), but none for a zero just before
    万 or 亿 when the next digit is not zero (壹拾万捌仟元整); 零 between 元 and 分 when 角
    is 0 (壹拾元零伍分); only the fraction below one 元 (叁角贰分); 负 for a negative amount,
    after the currency (人民币负壹佰元整).

English ("en"), up to 999,999,999,999,999.99 (trillions), British cheque style:
    "and" after hundred and before a last group below a hundred (one thousand and nine),
    hyphenated tens (forty-two), singular units (one pound, one penny); with a currency the
    minor units follow "and" ("... pounds and two pence") and are dropped when 0; without
    one the cents are a fraction ("... and 02/100"); "Minus" for a negative amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xl_addin.core.money import quantize


@dataclass(frozen=True, slots=True)
class _Currency:
    zh: str
    major: str
    majors: str
    minor: str
    minors: str


_CURRENCIES: dict[str, _Currency] = {
    "CNY": _Currency("人民币", "yuan", "yuan", "fen", "fen"),
    "USD": _Currency("美元", "US dollar", "US dollars", "cent", "cents"),
    "HKD": _Currency("港币", "Hong Kong dollar", "Hong Kong dollars", "cent", "cents"),
    "EUR": _Currency("欧元", "euro", "euros", "cent", "cents"),
    "GBP": _Currency("英镑", "pound", "pounds", "penny", "pence"),
    "JPY": _Currency("日元", "yen", "yen", "sen", "sen"),
}
_CURRENCY_ALIASES = {"RMB": "CNY"}

_LIMITS = {"zh": Decimal("9999999999999999.99"), "en": Decimal("999999999999999.99")}

_ZH_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_ZH_PLACES = ("", "拾", "佰", "仟")

_EN_ONES = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_SCALES = ("", " thousand", " million", " billion", " trillion")


def amount_in_words(amount: Decimal, lang: str = "en", currency: str | None = None) -> str:
    """Return an amount in words, rounded to the cent: 大写金额 ("zh") or cheque English ("en")."""
    language = _language(lang)
    names = _currency(currency)
    value = _rounded(amount, _LIMITS[language])
    cents = int(value.copy_abs().scaleb(2))
    negative = value < 0  # -0.00 after rounding is zero, not negative
    if language == "zh":
        return (names.zh if names else "") + ("负" if negative else "") + _zh_amount(cents)
    words = _en_amount(cents, names)
    if negative:
        words = "minus " + words
    return words[0].upper() + words[1:]


def _language(lang: object) -> str:
    code = lang.strip().lower() if isinstance(lang, str) else lang
    if code not in _LIMITS:
        raise ValueError(f'unknown language "{lang}" for amounts in words: use "en" or "zh"')
    return code


def _currency(currency: str | None) -> _Currency | None:
    if currency is None or not currency.strip():
        return None
    code = currency.strip().upper()
    code = _CURRENCY_ALIASES.get(code, code)
    if code not in _CURRENCIES:
        known = ", ".join([*_CURRENCIES, *_CURRENCY_ALIASES])
        raise ValueError(f'no words for currency "{currency}": use one of {known}, or none')
    return _CURRENCIES[code]


def _rounded(amount: Decimal, limit: Decimal) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"amount must be a Decimal, not {type(amount).__name__}")
    amount = Decimal(amount)
    if not amount.is_finite():
        raise ValueError(f"{amount} is not an amount that can be written in words")
    # Checked before rounding too: quantize fails on numbers wider than the Decimal context.
    if amount.copy_abs() > limit + 1 or quantize(amount).copy_abs() > limit:
        raise ValueError(f"{amount} is too large to write in words (largest: {limit:,})")
    return quantize(amount)


def _zh_amount(cents: int) -> str:
    if cents == 0:
        return "零元整"
    yuan, fraction = divmod(cents, 100)
    jiao, fen = divmod(fraction, 10)
    words = _zh_integer(yuan) + "元" if yuan else ""
    if jiao:
        words += _ZH_DIGITS[jiao] + "角"
    elif yuan and fen:
        words += "零"
    if fen:
        words += _ZH_DIGITS[fen] + "分"
    elif not jiao:
        words += "整"
    return words


def _zh_integer(number: int) -> str:
    digits = str(number)
    words: list[str] = []
    zero_pending = False
    for i, char in enumerate(digits):
        place = len(digits) - 1 - i
        digit = int(char)
        if digit:
            if zero_pending:
                words.append("零")
                zero_pending = False
            words.append(_ZH_DIGITS[digit] + _ZH_PLACES[place % 4])
        elif place % 4 and words:
            # A zero in a section's units place (just before 万/亿) is not read aloud.
            zero_pending = True
        if place == 8:
            words.append("亿")
        elif place in (4, 12) and (number // 10**place) % 10_000:
            words.append("万")
    return "".join(words)


def _en_amount(cents: int, names: _Currency | None) -> str:
    major, minor = divmod(cents, 100)
    if names is None:
        return f"{_en_integer(major)} and {minor:02d}/100"
    parts = []
    if major or not minor:
        parts.append(f"{_en_integer(major)} {names.major if major == 1 else names.majors}")
    if minor:
        parts.append(f"{_en_integer(minor)} {names.minor if minor == 1 else names.minors}")
    return " and ".join(parts)


def _en_integer(number: int) -> str:
    if number == 0:
        return "zero"
    groups = []
    while number:
        number, group = divmod(number, 1000)
        groups.append(group)
    words = [
        _en_below_thousand(group) + _EN_SCALES[scale]
        for scale, group in reversed(list(enumerate(groups)))
        if group
    ]
    if len(words) > 1 and 0 < groups[0] < 100:
        words.insert(-1, "and")
    return " ".join(words)


def _en_below_thousand(number: int) -> str:
    hundreds, rest = divmod(number, 100)
    words = [f"{_EN_ONES[hundreds]} hundred"] if hundreds else []
    if hundreds and rest:
        words.append("and")
    if rest:
        tens, ones = divmod(rest, 10)
        if rest < 20:
            words.append(_EN_ONES[rest])
        else:
            words.append(_EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else ""))
    return " ".join(words)

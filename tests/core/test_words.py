"""Amounts in words: 大写金额 as the PBoC rules write them, and English cheque style."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xl_addin.core.words import amount_in_words

ZH = [
    ("0", "零元整"),
    ("0.01", "壹分"),
    ("0.05", "伍分"),
    ("0.1", "壹角"),
    ("0.32", "叁角贰分"),
    ("1", "壹元整"),
    ("1.50", "壹元伍角"),
    ("10", "壹拾元整"),
    ("10.05", "壹拾元零伍分"),
    ("11", "壹拾壹元整"),
    ("20", "贰拾元整"),
    ("100", "壹佰元整"),
    ("100.50", "壹佰元伍角"),
    ("101", "壹佰零壹元整"),
    ("110", "壹佰壹拾元整"),
    ("1000", "壹仟元整"),
    ("1001", "壹仟零壹元整"),
    ("1010", "壹仟零壹拾元整"),
    ("10000", "壹万元整"),
    ("10001", "壹万零壹元整"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("100000", "壹拾万元整"),
    ("100800", "壹拾万零捌佰元整"),
    ("108000", "壹拾万捌仟元整"),
    ("1000000.10", "壹佰万元壹角"),
    ("20000000", "贰仟万元整"),
    ("100000000", "壹亿元整"),
    ("100000001", "壹亿零壹元整"),
    ("100010000", "壹亿零壹万元整"),
    ("110000000", "壹亿壹仟万元整"),
    ("1000000008", "壹拾亿零捌元整"),
    ("123456789012.34", "壹仟贰佰叁拾肆亿伍仟陆佰柒拾捌万玖仟零壹拾贰元叁角肆分"),
    ("1000000000000", "壹万亿元整"),
    ("1000000000001", "壹万亿零壹元整"),
    ("1000100000000", "壹万零壹亿元整"),
    ("1000010000000", "壹万亿零壹仟万元整"),
    (
        "9999999999999999.99",
        "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
    ),
    ("1.005", "壹元零壹分"),  # rounded to the cent half away from zero first
    ("0.004", "零元整"),
    ("-1234.5", "负壹仟贰佰叁拾肆元伍角"),
    ("-0.004", "零元整"),  # rounds to zero: no 负
]


@pytest.mark.parametrize(("amount", "expected"), ZH)
def test_chinese_uppercase(amount, expected):
    assert amount_in_words(Decimal(amount), "zh") == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("100", "CNY", "人民币壹佰元整"),
        ("100", "rmb", "人民币壹佰元整"),
        ("-100", "CNY", "人民币负壹佰元整"),
        ("0.32", "RMB", "人民币叁角贰分"),
        ("100", "USD", "美元壹佰元整"),
        ("100", "hkd", "港币壹佰元整"),
        ("100", "EUR", "欧元壹佰元整"),
        ("100", "GBP", "英镑壹佰元整"),
        ("100", "JPY", "日元壹佰元整"),
        ("100", "", "壹佰元整"),  # a blank cell: no currency
    ],
)
def test_chinese_currency_prefix(amount, currency, expected):
    assert amount_in_words(Decimal(amount), "zh", currency) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("16409.02", "GBP", "Sixteen thousand four hundred and nine pounds and two pence"),
        ("16409.02", "USD", "Sixteen thousand four hundred and nine US dollars and two cents"),
        ("16409.02", "CNY", "Sixteen thousand four hundred and nine yuan and two fen"),
        ("16409.02", None, "Sixteen thousand four hundred and nine and 02/100"),
        ("1", "GBP", "One pound"),
        ("0.01", "GBP", "One penny"),
        ("0.02", "GBP", "Two pence"),
        ("1.01", "USD", "One US dollar and one cent"),
        ("2.50", "EUR", "Two euros and fifty cents"),
        ("21", "HKD", "Twenty-one Hong Kong dollars"),
        ("12345", "JPY", "Twelve thousand three hundred and forty-five yen"),
        ("1000000.32", "RMB", "One million yuan and thirty-two fen"),
        ("0", "GBP", "Zero pounds"),
        ("0", None, "Zero and 00/100"),
        ("0.5", None, "Zero and 50/100"),
        ("115", None, "One hundred and fifteen and 00/100"),
        ("1009", "GBP", "One thousand and nine pounds"),
        ("2100", "GBP", "Two thousand one hundred pounds"),
        ("1000001", "GBP", "One million and one pounds"),
        ("1000000000", "USD", "One billion US dollars"),
        ("-5.5", "EUR", "Minus five euros and fifty cents"),
        ("1.005", "GBP", "One pound and one penny"),
        (
            "999999999999999.99",
            None,
            "Nine hundred and ninety-nine trillion nine hundred and ninety-nine billion"
            " nine hundred and ninety-nine million nine hundred and ninety-nine thousand"
            " nine hundred and ninety-nine and 99/100",
        ),
    ],
)
def test_english_cheque_style(amount, currency, expected):
    assert amount_in_words(Decimal(amount), "en", currency) == expected


def test_english_is_the_default_language():
    assert amount_in_words(Decimal("40")) == "Forty and 00/100"


@pytest.mark.parametrize(
    ("amount", "lang"),
    [
        ("10000000000000000", "zh"),
        ("9999999999999999.995", "zh"),  # rounds up past the largest
        ("-10000000000000000", "zh"),
        ("1E+30", "zh"),
        ("1000000000000000", "en"),
        ("NaN", "zh"),
        ("Infinity", "en"),
    ],
)
def test_amounts_that_cannot_be_written(amount, lang):
    with pytest.raises(ValueError, match=r"amount|too large"):
        amount_in_words(Decimal(amount), lang)


def test_unknown_language_and_currency_are_refused():
    with pytest.raises(ValueError, match="language"):
        amount_in_words(Decimal(1), "fr")
    with pytest.raises(ValueError, match="currency"):
        amount_in_words(Decimal(1), "zh", "CHF")


def test_floats_are_refused():
    with pytest.raises(TypeError, match="Decimal"):
        amount_in_words(0.1, "zh")  # type: ignore[arg-type]


_DIGITS = {char: value for value, char in enumerate("零壹贰叁肆伍陆柒捌玖")}
_PLACES = {"拾": 10, "佰": 100, "仟": 1000}


def read_zh(words: str) -> Decimal:
    """Read 大写 back into a number, the way a bank clerk checks a cheque."""
    yi = wan = section = digit = cents = 0
    for char in words:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _PLACES:
            section, digit = section + digit * _PLACES[char], 0
        elif char == "万":
            wan, section, digit = wan + (section + digit) * 10_000, 0, 0
        elif char == "亿":
            yi, wan, section, digit = (yi + wan + section + digit) * 10**8, 0, 0, 0
        elif char == "元":
            cents, yi, wan, section, digit = (yi + wan + section + digit) * 100, 0, 0, 0, 0
        elif char == "角":
            cents, digit = cents + digit * 10, 0
        elif char == "分":
            cents, digit = cents + digit, 0
    return Decimal(cents).scaleb(-2)


amounts = st.decimals(min_value=0, max_value=Decimal(10**15), places=2)


@given(amounts)
def test_zh_words_follow_the_zero_and_zheng_rules(amount):
    words = amount_in_words(amount, "zh")
    assert "零零" not in words
    assert not words.endswith("零")
    assert ("整" in words) == (amount % 1 == 0)


@given(st.decimals(min_value=0, max_value=Decimal("9999999999999999.99"), places=2))
def test_zh_words_read_back_to_the_amount(amount):
    assert read_zh(amount_in_words(amount, "zh")) == amount
    assert amount_in_words(-amount, "zh", "CNY") == (
        "人民币" + ("负" if amount else "") + amount_in_words(amount, "zh")
    )

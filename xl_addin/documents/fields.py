"""Values as a letter or statement shows them: money, dates, the customer and branch blocks.

Contract (DESIGN.md, Documents): money fields are formatted strings in the
document's language (1,234.56) with the raw Decimal beside them as `*_value`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import numpy as np

from xl_addin.core.labels import MONTHS_EN, date_text  # noqa: F401 (fields of the documents)
from xl_addin.core.money import quantize
from xl_addin.core.words import amount_in_words

BRANCH_FIELDS = ("code", "name", "address", "phone", "email", "bank", "tax_id", "signatory")
CUSTOMER_FIELDS = ("id", "name", "contact", "address", "email", "phone", "segment", "currency")


NON_BREAKING_HYPHEN = "\u2011"


def unbroken(code: object) -> str:
    """A reference or document number as a document prints it: never split at a line end.

    Its hyphens become non-breaking (U+2011), which LibreOffice and Word draw with the face's
    own hyphen, so the PDF still reads LDN-STM-20261130-0004 in ASCII; the journal, the file
    names and e-mail keep the plain reference.
    """
    return str(code).replace("-", NON_BREAKING_HYPHEN)


def money_text(value: Decimal | None, lang: str = "en") -> str:
    """1,234.56 in both languages (Chinese accounting uses the same separators); blank for None."""
    if value is None:
        return ""
    return f"{quantize(Decimal(value)):,.2f}"


def money_fields(name: str, value: Decimal, lang: str = "en") -> dict[str, object]:
    return {name: money_text(value, lang), f"{name}_value": quantize(Decimal(value))}


def words(value: Decimal, lang: str, currency: str) -> str:
    """The amount in words: 大写 for Chinese, English words otherwise."""
    return amount_in_words(quantize(Decimal(value)), "zh" if lang == "zh" else "en", currency)


def customer_fields(row: Mapping[str, object]) -> dict[str, str]:
    """The `customer` block from a row of the engine's customer frame."""

    def text(key: str) -> str:
        value = row.get(key)
        return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)

    return {
        "id": text("customer_id"), "name": text("name"), "contact": text("contact"),
        "address": text("address"), "email": text("email"), "phone": text("phone"),
        "segment": text("segment"), "currency": text("currency"),
    }  # fmt: skip


def branch_fields(code: str, profile: Mapping[str, str]) -> dict[str, str]:
    """The `branch` block (letterhead, bank, signatory) from the pack's branch profile."""
    fields = {key: str(profile.get(key, "")) for key in BRANCH_FIELDS}
    fields["code"] = code or fields["code"]
    return fields


def language_of(value: object, default: str = "en") -> str:
    """A customer's document language: zh for Chinese (zh, zh-CN, 中文), else en."""
    text = str(value or default or "en").strip().lower()
    return "zh" if text.startswith("zh") or text in ("中文", "cn", "chinese") else "en"

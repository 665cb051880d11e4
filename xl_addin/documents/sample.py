"""A sample customer's document fields: what `pack validate` renders every template against.

The samples carry every field the issuing services give a template (DESIGN.md,
Documents: add, never rename), per kind of document, with values that take each
template down its fullest path (interest claimed, a promise on the call sheet, a
disputed line on the statement). `known_fields` reads the field names back from
them, so the list of fields a placeholder may use is written once, here; a test
compares it with what letters and statements really pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from xl_addin.documents.fields import (
    branch_fields,
    customer_fields,
    date_text,
    money_fields,
    words,
)

KINDS = ("letter", "call_sheet", "legal_pack", "statement")
AS_OF = dt.date(2026, 11, 30)
_CUSTOMER = {"customer_id": "C001", "name": "Sample & Sons <Ltd>", "contact": "Li Na",
             "address": "88 Jiefang Avenue, Wuhan", "email": "ap@sample.example",
             "phone": "027-8555 0101", "segment": "Standard", "currency": "CNY"}  # fmt: skip
_ITEMS = (
    ("INV-1001", dt.date(2026, 9, 1), dt.date(2026, 10, 1), "10000.00", "9409.02"),
    ("INV-1017", dt.date(2026, 9, 20), dt.date(2026, 10, 20), "7000.00", "7000.00"),
)
_AGING = (("Current", "0"), ("31-60", "9409.02"), ("61-90", "7000.00"))
_TOTAL = Decimal("16409.02")


def sample_context(
    kind: str, lang: str, branch: Mapping[str, str] | None = None, code: str = "HQ"
) -> dict[str, object]:
    """Every field a document of `kind` (letter, call_sheet, legal_pack, statement) gets."""
    if kind not in KINDS:
        raise ValueError(f"no document kind {kind!r}: one of {', '.join(KINDS)}")
    currency = "CNY"
    context: dict[str, object] = {
        "customer": customer_fields(_CUSTOMER),
        "branch": branch_fields(code, branch or {}),
        "currency": currency,
        "reference": f"{code}-LTR-20261130-0001",
        "date": date_text(AS_OF, lang),
        "reply_by": date_text(AS_OF + dt.timedelta(days=10), lang),
        "items": [_item(*item, lang) for item in _ITEMS],
        **money_fields("total_overdue", _TOTAL, lang),
        **money_fields("total_open", _TOTAL, lang),
        "total_in_words": words(_TOTAL, lang, currency),
        **money_fields("interest", Decimal("312.45"), lang),
        **money_fields("compensation", Decimal("80"), lang),
    }
    if kind == "statement":
        return context | _statement(lang, currency)
    context |= {
        "stage": "demand_letter", "stage_name": "催款函" if lang == "zh" else "Demand letter",
        "first_contact": True, "interest_law": "",
    }  # fmt: skip
    if kind == "call_sheet":
        context |= {
            "max_days_overdue": 60, "last_stage": "friendly_reminder",
            "last_contact": date_text(dt.date(2026, 11, 2), lang),
            "promise": f"{date_text(dt.date(2026, 11, 20), lang)} 5,000.00",
        }  # fmt: skip
    return context


def _item(doc_no, doc_date, due_date, amount, open_amount, lang, disputed=None):
    item = {
        "doc_no": doc_no, "doc_date": date_text(doc_date, lang),
        "due_date": date_text(due_date, lang),
        **money_fields("amount", Decimal(amount), lang),
        **money_fields("open_amount", Decimal(open_amount), lang),
        "days_overdue": (AS_OF - due_date).days,
    }  # fmt: skip
    return item if disputed is None else item | {"disputed": disputed}


def _statement(lang: str, currency: str) -> dict[str, object]:
    opening, closing = Decimal("9409.02"), _TOTAL
    line = {"date": date_text(dt.date(2026, 11, 5), lang), "doc_type": "INV",
            "doc_no": "INV-1017", "description": "PO 4471", "disputed": True,
            **money_fields("debit", Decimal("7000.00"), lang),
            **money_fields("credit", Decimal("0"), lang) | {"credit": ""},
            **money_fields("balance", closing, lang)}  # fmt: skip
    return {
        "stage": "statement", "stage_name": "对账单" if lang == "zh" else "Statement of account",
        "period": "2026-11", "period_text": "2026年11月" if lang == "zh" else "November 2026",
        "opening_date": date_text(dt.date(2026, 10, 31), lang),
        "closing_date": date_text(dt.date(2026, 11, 30), lang),
        **money_fields("opening", opening, lang), **money_fields("closing", closing, lang),
        **money_fields("closing_abs", closing, lang), "in_credit": False,
        **money_fields("total_debit", Decimal("7000.00"), lang),
        **money_fields("total_credit", Decimal("0"), lang),
        **money_fields("total_disputed", Decimal("7000.00"), lang),
        **money_fields("total_disputed_overdue", Decimal("7000.00"), lang),
        **money_fields("unapplied", Decimal("0"), lang),
        "total_in_words": words(closing, lang, currency),
        "lines": [line],
        "aging": [{"label": label, **money_fields("amount", Decimal(amount), lang)}
                  for label, amount in _AGING],
        "items": [_item(*item, lang, disputed=n == 1) for n, item in enumerate(_ITEMS)],
    }


def known_fields(kind: str) -> dict[str, frozenset[str] | None]:
    """The fields a template of `kind` may use: each top-level name with the names inside
    it (a block's keys, a list's item keys), None for a plain value."""
    shape: dict[str, frozenset[str] | None] = {}
    for lang in ("en", "zh"):
        for name, value in sample_context(kind, lang).items():
            if isinstance(value, Mapping):
                shape[name] = frozenset(value)
            elif isinstance(value, list) and value and isinstance(value[0], Mapping):
                shape[name] = frozenset().union(*value)
            else:
                shape[name] = None
    return shape

"""Reconciling a customer's reply: each kind of difference, and the remainder to the cent."""

from __future__ import annotations

import numpy as np
import pandas as pd

from xl_addin.core.reconcile import (
    AMOUNT,
    BY_AMOUNT,
    OURS_ONLY,
    THEIRS_ONLY,
    document_key,
    reconcile_balance,
    reconcile_documents,
)


def docs(text: str) -> pd.DataFrame:
    """`doc_no date signed-amount` lines (cents as a decimal amount)."""
    rows = [line.strip().rsplit(maxsplit=2) for line in text.strip().splitlines()]
    return pd.DataFrame(
        {
            "doc_no": [r[0] for r in rows],
            "doc_date": np.array([r[1] for r in rows], dtype="datetime64[D]"),
            "signed_cents": [round(float(r[2]) * 100) for r in rows],
        }
    )


OURS = """
INV-001 2026-10-05 1000.00
INV-002 2026-11-02 500.00
PAY-101 2026-11-10 -800.00
INV-003 2026-11-29 300.00
CRN-201 2026-11-15 -50.00
"""


def test_everything_agrees():
    result = reconcile_documents(docs(OURS), docs(OURS))
    assert result.difference_cents == 0 and len(result.differences) == 0
    assert result.matched == 5


def test_each_kind_of_difference_and_the_remainder():
    theirs = docs("""
inv 001    2026-10-05 1000.00
INV-002    2026-11-02 450.00
PAY-101    2026-11-10 -800.00
X-77       2026-11-16 -50.00
PAY-NEW    2026-12-01 -200.00
DN-9       2026-11-20 30.00
""")
    result = reconcile_documents(docs(OURS), theirs)
    kinds = {(d.kind, d.doc_no or d.their_doc_no): d.effect_cents
             for d in result.differences.itertuples()}  # fmt: skip
    assert kinds == {
        (AMOUNT, "INV-002"): 5000,  # 500.00 ours, 450.00 theirs
        (OURS_ONLY, "INV-003"): 30000,  # invoice not yet received
        (BY_AMOUNT, "CRN-201"): 0,  # their X-77: same amount, a day apart
        (THEIRS_ONLY, "PAY-NEW"): 20000,  # payment in transit after our cut-off
        (THEIRS_ONLY, "DN-9"): -3000,  # their debit note
    }
    assert result.our_balance_cents == 95000
    assert result.their_balance_cents == 43000
    assert result.explained_cents == 52000
    assert result.unexplained_cents == 0
    transit = result.differences[result.differences.their_doc_no == "PAY-NEW"].iloc[0]
    assert "in transit" in transit.explanation and "在途" in transit.explanation_zh


def test_a_stated_balance_that_differs_from_their_own_list_leaves_a_remainder():
    result = reconcile_documents(docs(OURS), docs(OURS), their_balance_cents=94000)
    assert result.difference_cents == 1000 and result.unexplained_cents == 1000


def test_a_payables_ledger_with_the_signs_turned_over_is_read_the_right_way():
    theirs = docs(OURS).assign(signed_cents=lambda f: -f.signed_cents)
    result = reconcile_documents(docs(OURS), theirs)
    assert result.flipped_signs and result.difference_cents == 0 and not len(result.differences)


def test_only_a_balance():
    result = reconcile_balance(95000, 90000)
    assert result.unexplained_cents == 5000 and result.explained_cents == 0


def test_document_numbers_compare_without_case_spaces_or_punctuation():
    assert document_key(" inv-001 ") == document_key("INV001") == document_key("Inv_001")
    assert document_key("发票-001") == "发票001"

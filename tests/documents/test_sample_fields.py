"""The sample `pack validate` renders against has exactly the fields real documents get.

If letters or statements give templates a new field, the sample (documents/sample.py)
must list it too, or validate would call a template using it wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from tests.books import make_book
from xl_addin.documents.sample import known_fields
from xl_addin.services.letters import run_letters
from xl_addin.services.statements import run_statements

HEADERS = ("CustomerID", "Name", "Segment", "Currency", "CreditLimit", "LastStage")
CUSTOMERS = [("C001", "Call Me Ltd", "Standard", "GBP", 50000, ""),  # 20 days: call sheet
             ("C002", "Demand Ltd", "Standard", "GBP", 50000, "")]  # 45 days: demand letter
LEDGER = [
    ("C001", "INV", "INV-1", dt.date(2026, 10, 1), dt.date(2026, 11, 10), 1200, "", ""),
    ("C002", "INV", "INV-2", dt.date(2026, 9, 1), dt.date(2026, 10, 16), 8000, "", ""),
    ("C002", "PAY", "PAY-1", dt.date(2026, 11, 3), None, 500, "INV-2", ""),
]  # fmt: skip
CHARGES = {"interest_value", "compensation_value"}  # only in letters claiming interest


def shape(context: Mapping[str, object]) -> dict[str, frozenset[str] | None]:
    out: dict[str, frozenset[str] | None] = {}
    for name, value in context.items():
        if isinstance(value, Mapping):
            out[name] = frozenset(value)
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            out[name] = frozenset().union(*value)
        elif isinstance(value, list):
            out[name] = None  # an empty list: its item fields are not seen here
        else:
            out[name] = None
    return out


def test_the_sample_fields_are_what_letters_and_statements_pass(tmp_path):
    book = make_book(tmp_path / "b.xlsx", customers=CUSTOMERS, ledger=LEDGER,
                     customer_headers=HEADERS)  # fmt: skip
    letters = run_letters(book, as_of=dt.date(2026, 11, 30), out=tmp_path / "out")
    kinds = {d.planned.kind: d.planned.context for d in letters.issued.documents}
    assert set(kinds) == {"call_sheet", "letter"}
    statements = run_statements(book, period="2026-11", out=tmp_path / "out")
    kinds["statement"] = statements.issued.documents[0].planned.context
    for kind, context in kinds.items():
        real, known = shape(context | {"reference": ""}), known_fields(kind)
        assert set(real) <= set(known), (kind, set(real) - set(known))
        assert set(known) - set(real) <= CHARGES, (kind, set(known) - set(real))
        for name, fields in real.items():
            if fields:
                assert fields == known[name], (kind, name, fields ^ known[name])

"""A realistic branch workbook of about N ledger rows, built once and cached in /tmp."""

from __future__ import annotations

import tempfile
from pathlib import Path

from xl_addin.services.demo import DEFAULT_AS_OF
from xl_addin.services.demo_data import make_demo_data
from xl_addin.workbook.builder import write_credit_workbook

DOCUMENTS_PER_CUSTOMER = 17  # what the demo data gives on average


def branch_workbook(rows: int) -> Path:
    """Return the path of a demo-style workbook with about `rows` ledger rows."""
    path = Path(tempfile.gettempdir()) / f"xl-addin-bench-{rows}.xlsx"
    if not path.exists():
        data = make_demo_data(DEFAULT_AS_OF, customers=max(1, rows // DOCUMENTS_PER_CUSTOMER))
        write_credit_workbook(path, data.settings, data.customers, data.ledger)
    return path

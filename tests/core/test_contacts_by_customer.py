"""Disputes logged in Contacts mark the same ledger rows as the rule read one customer at a
time (core/contacts.py disputed_by_contacts): each customer's latest contact with something
in Dispute decides; Y disputes every item, N or resolved none, anything else names
document numbers.

The function marks every customer's rows in one pass over the ledger (a pass per disputing
customer cost seconds per hundred of them on a million rows). The reference below is that
per-customer reading, kept only as the oracle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_addin.core.contacts import _NO_DISPUTE, _SEPARATORS, _YES, disputed_by_contacts

CUSTOMERS = ("A", "B", "C", "D")
DOCUMENTS = ("I1", "I2", "I3", "P1")
WORDS = ("", "Y", "yes", "全部", "N", "resolved", "已解决", "I1", "I2, I3", "I3；P1", "I9", " I1 ")


def reference(ledger: pd.DataFrame, contacts: pd.DataFrame) -> np.ndarray:
    marked = contacts[contacts["dispute"] != ""]
    out = np.zeros(len(ledger), dtype=bool)
    latest = marked.sort_values("date", kind="stable").groupby("customer_id").tail(1)
    customer = ledger["customer_id"].to_numpy(dtype=object)
    doc_no = ledger["doc_no"].to_numpy(dtype=object)
    for customer_id, dispute in zip(latest["customer_id"], latest["dispute"], strict=True):
        word = dispute.strip().casefold()
        if word in _NO_DISPUTE:
            continue
        mine = customer == customer_id
        if word in _YES:
            out |= mine
        else:
            named = {d for d in _SEPARATORS.split(dispute.strip()) if d}
            out |= mine & np.isin(doc_no, list(named))
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(CUSTOMERS), st.sampled_from(DOCUMENTS)), max_size=25),
    st.lists(st.tuples(st.sampled_from(CUSTOMERS), st.integers(0, 5), st.sampled_from(WORDS)),
             max_size=12),
)  # fmt: skip
def test_disputes_mark_the_rows_the_per_customer_rule_marks(rows, logged):
    ledger = pd.DataFrame(rows or None, columns=["customer_id", "doc_no"], dtype=object)
    contacts = pd.DataFrame(
        [(c, np.datetime64("2026-11-01") + np.timedelta64(d, "D"), w) for c, d, w in logged]
        or None, columns=["customer_id", "date", "dispute"])  # fmt: skip
    contacts["dispute"] = contacts["dispute"].astype(object)
    found = disputed_by_contacts(ledger, contacts)
    assert found.dtype == bool
    assert found.tolist() == reference(ledger, contacts).tolist()

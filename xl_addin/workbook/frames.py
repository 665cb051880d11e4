"""Normalised tables as the engine takes them: money in whole cents, currencies filled in."""

from __future__ import annotations

import numpy as np
import pandas as pd

from xl_addin.core.interest import parse_contract_rate


def engine_customers(frame: pd.DataFrame, base_currency: str) -> pd.DataFrame:
    """The Customers table for the engine: limits and orders in cents, a currency everywhere.

    The contract rate as read stays beside its parsed form: `contract_rate_value` (a
    fraction a year, or a day where `contract_rate_per_day`; NaN for none or a bad cell,
    which validation reports).
    """
    out = frame.copy()
    out["currency"] = [c.upper() if c else base_currency for c in out["currency"]]
    for field in ("credit_limit_cents", "open_orders_cents"):
        out[field] = np.nan_to_num(out[field].to_numpy(dtype=np.float64)).astype(np.int64)
    blank = [None] * len(out)
    rates = [
        parse_contract_rate(value, per)[0]
        for value, per in zip(out.get("contract_rate", blank), out.get("contract_rate_per", blank))
    ]
    out["contract_rate_value"] = np.array(
        [np.nan if rate is None else float(rate.rate) for rate in rates], dtype=np.float64
    )
    out["contract_rate_per_day"] = np.array(
        [rate is not None and rate.per_day for rate in rates], dtype=bool
    )
    out.attrs = dict(frame.attrs)
    return out


def engine_ledger(frame: pd.DataFrame, customers: pd.DataFrame, base_currency: str):
    """The Ledger for the engine: amounts in cents; a blank currency is the customer's."""
    out = frame.copy()
    currency_of = dict(zip(customers["customer_id"], customers["currency"], strict=True))
    out["currency"] = [
        c.upper() if c else currency_of.get(cid, base_currency)
        for c, cid in zip(out["currency"], out["customer_id"], strict=True)
    ]
    out["amount_cents"] = np.nan_to_num(out["amount_cents"].to_numpy(np.float64)).astype(np.int64)
    out.attrs = dict(frame.attrs)
    return out

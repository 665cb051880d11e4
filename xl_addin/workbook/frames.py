"""Normalised tables as the engine takes them: money in whole cents, currencies filled in."""

from __future__ import annotations

import numpy as np
import pandas as pd


def engine_customers(frame: pd.DataFrame, base_currency: str) -> pd.DataFrame:
    """The Customers table for the engine: limits and orders in cents, a currency everywhere."""
    out = frame.copy()
    out["currency"] = [c.upper() if c else base_currency for c in out["currency"]]
    for field in ("credit_limit_cents", "open_orders_cents"):
        out[field] = np.nan_to_num(out[field].to_numpy(dtype=np.float64)).astype(np.int64)
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

"""Credit headroom and credit status."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

OK, NEAR_LIMIT, OVER_LIMIT, HOLD = "OK", "Near limit", "Over limit", "Hold"
CREDIT_STATUS_ZH = {OK: "正常", NEAR_LIMIT: "接近额度", OVER_LIMIT: "超出额度", HOLD: "停止供货"}


def credit_headroom(
    limit_cents: np.ndarray, balance_cents: np.ndarray, open_orders_cents: np.ndarray
) -> np.ndarray:
    """Return limit - balance - open orders, in cents (negative: over the limit)."""
    return np.asarray(limit_cents) - np.asarray(balance_cents) - np.asarray(open_orders_cents)


def credit_status(
    limit_cents: np.ndarray,
    balance_cents: np.ndarray,
    open_orders_cents: np.ndarray,
    hold: np.ndarray,
    near_limit_share: Decimal,
) -> np.ndarray:
    """Return OK / Near limit / Over limit / Hold per customer; the first that applies wins.

    Hold: the customer's stage is the policy's hold stage or later. Over limit:
    balance + open orders above the limit. Near limit: that exposure at or above
    `near_limit_share` of a positive limit.
    """
    limit = np.asarray(limit_cents, dtype=np.int64)
    exposure = np.asarray(balance_cents, dtype=np.int64) + np.asarray(
        open_orders_cents, dtype=np.int64
    )
    share = near_limit_share.as_integer_ratio()
    near = (limit > 0) & (exposure * share[1] >= limit * share[0])  # exact: no float share
    return np.select(
        [np.asarray(hold, dtype=bool), exposure > limit, near],
        [HOLD, OVER_LIMIT, NEAR_LIMIT],
        default=OK,
    ).astype(object)

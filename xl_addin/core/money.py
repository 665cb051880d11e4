"""Money: integer minor units (cents) for vector work, Decimal for everything a person reads.

Amounts are held as int64 cents inside the engine, so sums are exact and fast;
`to_decimal` is the one place cents become a Decimal shown to a user.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np

CENT = Decimal("0.01")
# 1,234.56 / 1234.56 / -1234 / (1,234.56); thousands separators must be whole groups of three.
_AMOUNT_TEXT = re.compile(r"^(?P<neg>-)?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)$")
_CURRENCY_MARKS = str.maketrans("", "", " \u00a0¥￥$£€")
_INT64_MAX = 2**63 - 1
# The largest amount accepted in a cell (either sign); Settings.AmountLimit changes it. Far
# beyond any invoice, far inside int64 cents (9.2e16), so sums of a ledger never wrap.
AMOUNT_LIMIT = Decimal(10**12)


def quantize(value: Decimal) -> Decimal:
    """Round a Decimal to the cent, half away from zero (as on an invoice)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(cents: int | np.integer) -> Decimal:
    """Return a whole number of cents as a Decimal amount with two places."""
    return Decimal(int(cents)).scaleb(-2)


def decimal_to_cents(value: Decimal) -> int:
    """Return a Decimal amount as whole cents, rounded half away from zero."""
    return int(quantize(value).scaleb(2))


def parse_amount_text(text: str) -> Decimal | None:
    """Parse an amount typed as text (`1,234.50`, `(12.00)`, `¥3,000`); None if it is not one."""
    cleaned = text.strip().translate(_CURRENCY_MARKS)
    negative = False
    if cleaned.startswith("(") and cleaned.endswith(")"):
        negative, cleaned = True, cleaned[1:-1]
    match = _AMOUNT_TEXT.match(cleaned)
    if not match:
        return None
    try:
        value = Decimal(match["num"].replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return None
    return -value if negative or match["neg"] else value


def floats_to_cents(values: np.ndarray) -> np.ndarray:
    """Convert float amounts to int64 cents, half away from zero as Excel displays them.

    Amounts with at most two decimals (nearly every ledger row) take the vector
    path; the rare amount with more decimals goes through Decimal of its shortest
    repr, so 1.005 becomes 1.01 as the user sees it, not 1.00 as binary floats say.
    """
    scaled = np.asarray(values, dtype=np.float64) * 100.0
    cents = np.rint(scaled)
    off = np.abs(scaled - cents) > 1e-6 * np.maximum(1.0, np.abs(scaled))
    result = cents.astype(np.int64)
    for i in np.flatnonzero(off):
        result[i] = decimal_to_cents(Decimal(repr(float(values[i]))))
    return result


def scale_half_up(factors: Sequence[np.ndarray | int], denominator: int) -> np.ndarray:
    """Return round(product of the factors / denominator), half away from zero, exactly.

    Interest (cents x rate x days / basis) and provisions (cents x rate) are
    computed this way in integers, never in floats. Python ints (object arrays)
    are used only where int64 could overflow.
    """
    bound = 2 * math.prod(int(np.max(np.abs(f), initial=0)) for f in factors) + denominator
    kind = np.int64 if bound <= _INT64_MAX else object
    product = np.ones(1, dtype=kind)
    for factor in factors:
        product = product * np.asarray(factor).astype(kind)
    magnitude = (2 * np.abs(product) + denominator) // (2 * denominator)
    return np.where(product < 0, -magnitude, magnitude).astype(np.int64)

"""The collection ladder: the Stage each item and customer has reached.

Stage is where a debt stands, worked out from days overdue alone: no contact
history, no caps (those shape NextAction, see core.next_action). Stages are held
as integer codes into `policy.stages` (0 = the first step), with negative codes
for the states that are not steps: a disputed item is on hold, and a blank input
gives a blank stage.

The pre-due window is measured on the real due date; a segment's offset moves
only the overdue steps (a Strategic customer hears the phone call 15 days
later), and an overdue item never counts as less than the first overdue step.
"""

from __future__ import annotations

import numpy as np

from xl_addin.core.policy import ON_HOLD, Policy

ON_HOLD_CODE = -1
BLANK_CODE = -9


def ladder_index(days: np.ndarray, policy: Policy) -> np.ndarray:
    """Return the ladder step reached at each number of days overdue (NaN gives 0)."""
    starts = np.array([s.from_days for s in policy.stages[1:]], dtype=np.float64)
    values = np.nan_to_num(np.asarray(days, dtype=np.float64), nan=-np.inf)
    return np.searchsorted(starts, values, side="right").astype(np.int64)


def first_overdue_days(policy: Policy) -> int:
    """The days overdue at which the first overdue step starts (1 by default)."""
    return min((s.from_days for s in policy.stages[1:] if s.from_days >= 1), default=1)


def ladder_days(days: np.ndarray, days_offset: np.ndarray | int, policy: Policy) -> np.ndarray:
    """Return the days that place each row on the ladder: the segment offset moves only
    overdue rows, and an overdue row stays at least at the first overdue step."""
    days = np.asarray(days, dtype=np.float64)
    offset = np.asarray(days_offset, dtype=np.float64)
    shifted = np.maximum(days + offset, first_overdue_days(policy))
    return np.where(days >= 1, shifted, days)


def stage_codes(
    days: np.ndarray,
    policy: Policy,
    *,
    days_offset: np.ndarray | int = 0,
    disputed: np.ndarray | bool = False,
    amount_cents: np.ndarray | None = None,
) -> np.ndarray:
    """Return the Stage code of each row: days overdue after the segment offset.

    `days_offset` comes from the segment (Strategic -15: overdue steps 15 days
    later); a disputed row is ON_HOLD; `amount_cents` (NaN: not given) of zero or
    less means nothing is owed (the first step). NaN days give BLANK_CODE.
    """
    days = np.asarray(days, dtype=np.float64)
    code = ladder_index(ladder_days(days, days_offset, policy), policy)
    if amount_cents is not None:
        code = np.where(np.asarray(amount_cents, dtype=np.float64) <= 0, 0, code)
    code = np.where(np.asarray(disputed, dtype=bool), ON_HOLD_CODE, code)
    return np.where(np.isnan(days), BLANK_CODE, code).astype(np.int64)


def stage_names(codes: np.ndarray, policy: Policy, lang: str = "en") -> np.ndarray:
    """Return the stage name of each code, in English or Chinese (None for blank)."""
    zh = lang == "zh"
    names = [s.name_zh if zh and s.name_zh else s.name for s in policy.stages]
    table = np.array([*names, ON_HOLD.name_zh if zh else ON_HOLD.name, None], dtype=object)
    return table[_positions(codes, len(names))]


def stage_keys(codes: np.ndarray, policy: Policy) -> np.ndarray:
    """Return the template key of each code (None for blank)."""
    table = np.array([*(s.key for s in policy.stages), ON_HOLD.key, None], dtype=object)
    return table[_positions(codes, len(policy.stages))]


def _positions(codes: np.ndarray, steps: int) -> np.ndarray:
    codes = np.asarray(codes, dtype=np.int64)
    return np.select([codes == ON_HOLD_CODE, codes < 0], [steps, steps + 1], default=codes)

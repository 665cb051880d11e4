"""The collection ladder: which step each item and customer has reached.

Stages are held as integer codes into `policy.stages` (0 = the first step), with
negative codes for the states that are not steps: a disputed item is on hold,
an amount under the policy minimum gets no letter, and a blank input gives a
blank stage.
"""

from __future__ import annotations

import numpy as np

from xl_addin.core.policy import BELOW_MINIMUM, ON_HOLD, Policy

ON_HOLD_CODE = -1
BELOW_MINIMUM_CODE = -2
BLANK_CODE = -9


def ladder_index(days: np.ndarray, policy: Policy) -> np.ndarray:
    """Return the ladder step reached at each number of days overdue (NaN gives 0)."""
    starts = np.array([s.from_days for s in policy.stages[1:]], dtype=np.float64)
    values = np.nan_to_num(np.asarray(days, dtype=np.float64), nan=-np.inf)
    return np.searchsorted(starts, values, side="right").astype(np.int64)


def escalation_codes(
    days: np.ndarray,
    policy: Policy,
    *,
    amount_cents: np.ndarray | None = None,
    days_offset: np.ndarray | int = 0,
    disputed: np.ndarray | bool = False,
    promise_broken: np.ndarray | bool = False,
    last_index: np.ndarray | None = None,
) -> np.ndarray:
    """Return the stage code of each row after the policy's modifiers.

    `days_offset` comes from the segment (Strategic -15: reached 15 days later);
    a broken promise moves one step up; `last_index` is the step last used with
    the customer (-1: never contacted): once contact has started the ladder rises
    at most `max_steps_per_run`, and the first contact is at most the policy's
    first-contact stage. `amount_cents` (NaN: not given) of zero or less means
    nothing is owed (the first step); under the minimum amount, BELOW_MINIMUM.
    """
    days = np.asarray(days, dtype=np.float64)
    rules = policy.rules
    top = len(policy.stages) - 1
    code = ladder_index(days + np.asarray(days_offset, dtype=np.float64), policy)
    code = np.minimum(code + np.asarray(promise_broken, dtype=np.int64), top)
    if last_index is not None:
        last = np.asarray(last_index, dtype=np.int64)
        first_cap = policy.stage_index(rules.first_contact_max_stage)
        contacted = last >= 1  # the first step is "no action": it is not a contact
        cap = np.where(contacted, last + rules.max_steps_per_run, first_cap)
        code = np.minimum(code, cap)
    if amount_cents is not None:
        amount = np.asarray(amount_cents, dtype=np.float64)
        minimum = float(rules.minimum_amount * 100)
        code = np.where(amount <= 0, 0, code)
        code = np.where((amount > 0) & (amount < minimum), BELOW_MINIMUM_CODE, code)
    code = np.where(np.asarray(disputed, dtype=bool), ON_HOLD_CODE, code)
    return np.where(np.isnan(days), BLANK_CODE, code).astype(np.int64)


def stage_names(codes: np.ndarray, policy: Policy, lang: str = "en") -> np.ndarray:
    """Return the stage name of each code, in English or Chinese (None for blank)."""
    zh = lang == "zh"
    names = [s.name_zh if zh and s.name_zh else s.name for s in policy.stages]
    specials = {
        ON_HOLD_CODE: ON_HOLD.name_zh if zh else ON_HOLD.name,
        BELOW_MINIMUM_CODE: BELOW_MINIMUM.name_zh if zh else BELOW_MINIMUM.name,
        BLANK_CODE: None,
    }
    table = np.array([*names, *specials.values()], dtype=object)
    lookup = {code: len(names) + i for i, code in enumerate(specials)}
    codes = np.asarray(codes, dtype=np.int64)
    positions = codes.copy()
    for code, position in lookup.items():
        positions[codes == code] = position
    return table[positions]


def stage_keys(codes: np.ndarray, policy: Policy) -> np.ndarray:
    """Return the template key of each code (None for blank)."""
    keys = np.array([*(s.key for s in policy.stages), ON_HOLD.key, BELOW_MINIMUM.key, None])
    codes = np.asarray(codes, dtype=np.int64)
    positions = np.select(
        [codes == ON_HOLD_CODE, codes == BELOW_MINIMUM_CODE, codes == BLANK_CODE],
        [len(policy.stages), len(policy.stages) + 1, len(policy.stages) + 2],
        default=codes,
    )
    return keys.astype(object)[positions]

"""What one document of a run may cost to render: seconds and megabytes of XML.

Each limit is taken, on its own, from the first place that gives it:

1. the command line (`--render-time-limit SECONDS`, `--render-size-limit MB`);
2. the workbook's Settings (`RenderTimeLimit`, `RenderSizeLimit`; 生成时限, 生成大小上限);
3. the template pack's pack.toml (`[render] time_limit`, `size_limit`);
4. the defaults, 5 s and 5 MB (documents.render.DEFAULT_LIMITS).

A branch may thus give itself more room than head office's pack (a branch with long
statements), and a person running one command more than the workbook. Every value given
anywhere is checked, even one a higher place overrides: a bad value is a mistake to fix
where it is written, located (Settings!B12, pack.toml, --render-time-limit).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from xl_addin.core.problems import Problem, Source
from xl_addin.documents.render import (
    DEFAULT_LIMITS,
    MEGABYTE,
    MEGABYTES_RANGE,
    SECONDS_RANGE,
    RenderLimits,
)
from xl_addin.packs.lookup import Pack


@dataclass(frozen=True, slots=True)
class _Limit:
    """One limit and where each place writes it."""

    setting: str  # the Settings attribute (workbook.reader.Settings)
    key: str  # the Settings key
    option: str  # the command line's
    pack_key: str  # pack.toml's, under [render]
    unit: str
    bounds: tuple[float, float]
    default: float


TIME = _Limit("render_time_limit", "RenderTimeLimit", "--render-time-limit", "time_limit",
              "seconds", SECONDS_RANGE, DEFAULT_LIMITS.seconds)  # fmt: skip
SIZE = _Limit("render_size_limit", "RenderSizeLimit", "--render-size-limit", "size_limit", "MB",
              MEGABYTES_RANGE, DEFAULT_LIMITS.max_bytes / MEGABYTE)  # fmt: skip
PACK_KEYS = (TIME.pack_key, SIZE.pack_key)


def render_limits(
    settings, pack: Pack | None, *, seconds: float | None = None,
    megabytes: float | None = None,
) -> tuple[RenderLimits, tuple[Problem, ...]]:  # fmt: skip
    """The run's limits and every problem with a value given for them (see the module)."""
    problems: list[Problem] = list(pack_render_problems(pack)) if pack is not None else []
    in_pack = dict(pack.render) if pack is not None else {}
    chosen = []
    for limit, given in ((TIME, seconds), (SIZE, megabytes)):
        typed = str(getattr(settings, limit.setting, "") or "").strip()
        places = [(given, Source(limit.option), limit.option),
                  (typed or None, settings.source(limit.setting), limit.key),
                  (in_pack.get(limit.pack_key), None, "")]  # fmt: skip
        value = None
        for raw, where, label in places:
            if raw is None:
                continue
            number, message = limit_value(raw, label, limit.unit, limit.bounds)
            if message and where is not None:  # the pack's: pack_render_problems
                problems.append(Problem(where, message))
            if value is None and number is not None:
                value = number
        chosen.append(limit.default if value is None else value)
    limits = RenderLimits(seconds=chosen[0], max_bytes=int(chosen[1] * MEGABYTE))
    return limits, tuple(dict.fromkeys(problems))


def pack_render_problems(pack: Pack) -> tuple[Problem, ...]:
    """pack.toml's [render] values that are not numbers within bounds, or unknown keys."""
    where = Source(pack.shown(pack.root / "pack.toml"))
    problems = []
    for key, raw in pack.render:
        limit = next((limit for limit in (TIME, SIZE) if limit.pack_key == key), None)
        if limit is not None:
            problems.append(limit_value(raw, f"[render] {key}", limit.unit, limit.bounds)[1])
        elif key == "":
            problems.append("render must be a table ([render] time_limit, size_limit)")
        else:
            problems.append(f'[render] has no key "{key}": it takes {", ".join(PACK_KEYS)}')
    return tuple(Problem(where, message) for message in problems if message)


def limit_value(
    raw: object, label: str, unit: str, bounds: Sequence[float]
) -> tuple[float | None, str]:
    """A limit as a number within `bounds`, or None and why not (naming `label`)."""
    low, high = bounds
    try:
        if isinstance(raw, bool):
            raise ValueError
        number = float(str(raw).strip().removesuffix(unit).strip()) if isinstance(raw, str) \
            else float(raw)  # fmt: skip
    except (TypeError, ValueError):
        return None, f'{label} "{raw}" is not a number of {unit}'
    if not math.isfinite(number) or not low <= number <= high:
        return None, f'{label} "{raw}" is outside {low:g} to {high:g} {unit}'
    return number, ""

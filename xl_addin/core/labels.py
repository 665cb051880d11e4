"""The words a workbook shows for computed values, in its language (en or zh).

The engine names things in English (stage names, credit statuses, bucket labels); a
Chinese workbook shows 催款函, 超出额度 and 31-60天 in the same cells. One map does it
for every place the workbook shows them (the computed columns, the Live blocks, the
Aging sheet), so the cells, Refresh and Lite agree. Reading back takes either language:
stages through `Policy.stage_index`, which knows both names.

JSON output is a contract for machines and stays English (with keys beside the names).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from xl_addin.core.policy import ON_HOLD, Policy, bucket_labels

DOC_TYPE_NAMES = {
    "en": {"INV": "Invoice", "CRN": "Credit note", "PAY": "Payment", "ADJ": "Adjustment"},
    "zh": {"INV": "发票", "CRN": "贷项", "PAY": "收款", "ADJ": "调整"},
}  # what a document type code is called where a person reads it
CREDIT_STATUS_ZH = {"OK": "正常", "Near limit": "接近额度", "Over limit": "超出额度",
                    "Hold": "停止供货"}  # fmt: skip


def bucket_text(label: str, lang: str) -> str:
    """A bucket label in the language: 未到期, 1-30天, 365天以上 in Chinese."""
    if lang != "zh" or not isinstance(label, str):
        return label
    if label == "Current":
        return "未到期"
    if label.startswith(">"):
        return f"{label[1:]}天以上"
    if label.startswith("<="):
        return f"{label[2:]}天以内"
    return f"{label}天"


def translator(policy: Policy, lang: str) -> Callable[[object], object]:
    """A function giving each English label (stage name, credit status, bucket label) in
    `lang`; anything else (blanks, numbers, a label it does not know) unchanged."""
    if lang != "zh":
        return lambda value: value
    words: dict[str, str] = dict(CREDIT_STATUS_ZH)
    for stage in (*policy.stages, ON_HOLD):
        if stage.name_zh:
            words[stage.name] = stage.name_zh
    for label in bucket_labels(policy.bounds):
        words.setdefault(label, bucket_text(label, lang))

    def translate(value: object) -> object:
        return words.get(value, value) if isinstance(value, str) else value

    return translate


MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip


def date_text(value: dt.date | np.datetime64 | None, lang: str = "en") -> str:
    """30 November 2026, or 2026年11月30日; blank for a missing date."""
    if value is None or (isinstance(value, np.datetime64) and np.isnat(value)) or value is pd.NaT:
        return ""
    if isinstance(value, np.datetime64 | pd.Timestamp):
        value = pd.Timestamp(value).date()
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"

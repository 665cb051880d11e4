"""Month-end snapshots in the journal, on SQLite and on a real PostgreSQL server: a month
recorded again replaces its rows (never duplicates), per branch."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from tests.journal.postgres import postgres  # noqa: F401 (the fixture)
from xl_addin.journal.store import Journal

OCTOBER = [
    {"customer_id": "A", "currency": "CNY", "ladder": "policy", "bucket": "Current",
     "cents": 50000},
    {"customer_id": "A", "currency": "CNY", "ladder": "months", "bucket": "61-90",
     "cents": 12_345_678_901_234},  # beyond 32 bits: kept whole
    {"customer_id": "B", "currency": "GBP", "ladder": "policy", "bucket": "Unapplied",
     "cents": -5000},
]  # fmt: skip
END = dt.date(2026, 10, 31)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'j.sqlite'}"
    return request.getfixturevalue("postgres").new_database()


def stored(journal, branch="SH"):
    return sorted((r["period"], r["customer_id"], r["ladder"], r["bucket"], r["cents"])
                  for r in journal.month_end_rows(branch))  # fmt: skip


def test_recording_a_month_twice_leaves_one_set_of_rows(url):
    with Journal.open(url) as journal:
        assert journal.record_month_end("SH", "2026-10", END, OCTOBER, "close") == 3
        first = stored(journal)
        journal.record_month_end("SH", "2026-10", END, OCTOBER, "statements")
        assert stored(journal) == first and len(first) == 3
        assert journal.recorded_month_ends("SH") == {"2026-10": "statements"}
        # Again with one row fewer: the month is replaced, not added to.
        journal.record_month_end("SH", "2026-10", END, OCTOBER[:1], "close")
        assert stored(journal) == [("2026-10", "A", "policy", "Current", 50000)]


def test_months_and_branches_are_kept_apart(url):
    with Journal.open(url) as journal:
        journal.record_month_end("SH", "2026-10", END, OCTOBER, "close")
        journal.record_month_end("SH", "2026-09", dt.date(2026, 9, 30), OCTOBER[:1],
                                 "reconstructed")  # fmt: skip
        journal.record_month_end("LDN", "2026-10", END, OCTOBER[2:], "close")
        assert journal.recorded_month_ends("SH") == {"2026-09": "reconstructed",
                                                     "2026-10": "close"}  # fmt: skip
        assert len(stored(journal, "SH")) == 4 and len(stored(journal, "LDN")) == 1
        assert [r["period"] for r in journal.month_end_rows("SH", ladder="months")] == ["2026-10"]
        assert len(journal.month_end_rows("SH", periods=["2026-09"])) == 1


def test_two_runs_recording_the_same_month_at_once_leave_one_set(url):
    Journal.open(url).close()
    errors = []

    def run(source):
        try:
            with Journal.open(url) as journal:
                for _ in range(5):
                    journal.record_month_end("SH", "2026-10", END, OCTOBER, source)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(s,)) for s in ("close", "statements")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    with Journal.open(url) as journal:
        assert len(stored(journal)) == 3


def test_the_database_sums_a_month_end_over_the_customers(url):
    """What close and report read: sums per bucket, and each customer's balance, added up by
    the database (a year of a million-row ledger's month-ends is millions of rows)."""
    more = [{"customer_id": "C", "currency": "CNY", "ladder": "policy", "bucket": "Current",
             "cents": 25},
            {"customer_id": "C", "currency": "CNY", "ladder": "policy", "bucket": "1-30",
             "cents": 2**40},
            {"customer_id": "A", "currency": "CNY", "ladder": "policy", "bucket": "1-30",
             "cents": -7}]  # fmt: skip
    with Journal.open(url) as journal:
        journal.record_month_end("SH", "2026-10", END, OCTOBER + more, "close")
        journal.record_month_end("SH", "2026-09", dt.date(2026, 9, 30), more[:1], "close")
        journal.record_month_end("LDN", "2026-10", END, OCTOBER, "close")
        assert journal.month_end_totals("SH") == [
            ("2026-09", "CNY", "policy", "Current", 25),
            ("2026-10", "CNY", "months", "61-90", 12_345_678_901_234),
            ("2026-10", "CNY", "policy", "1-30", 2**40 - 7),
            ("2026-10", "CNY", "policy", "Current", 50025),
            ("2026-10", "GBP", "policy", "Unapplied", -5000),
        ]
        assert journal.month_end_totals("SH", "months") == [
            ("2026-10", "CNY", "months", "61-90", 12_345_678_901_234)]
        assert journal.month_end_totals("SH", "policy", ["2026-09"]) == [
            ("2026-09", "CNY", "policy", "Current", 25)]
        balances = journal.month_end_balances("SH", "policy")
        assert {key: sorted(value) for key, value in balances.items()} == {
            ("2026-09", "CNY"): [25],
            ("2026-10", "CNY"): [49993, 2**40 + 25],
            ("2026-10", "GBP"): [-5000],
        }
        assert journal.month_end_totals("XX") == []
        assert journal.month_end_balances("XX", "policy") == {}

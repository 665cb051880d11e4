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
        balances = journal.month_end_balances("SH", "policy")
        assert {key: sorted(value) for key, value in balances.items()} == {
            ("2026-09", "CNY"): [25],
            ("2026-10", "CNY"): [49993, 2**40 + 25],
            ("2026-10", "GBP"): [-5000],
        }
        assert journal.month_end_totals("XX") == []
        assert journal.month_end_balances("XX", "policy") == {}


def test_a_month_end_is_stored_as_sqlalchemy_would_store_it(url):
    """The rows go in through the driver's executemany (a month-end of a million-row ledger
    is 150,000 rows): the same values, text and times as an insert through SQLAlchemy."""
    from sqlalchemy import insert, select

    from xl_addin.journal.store import month_ends

    rows = [{"customer_id": "上海华信", "currency": "CNY", "ladder": "policy",
             "bucket": "1-30", "cents": -(2**62)},
            {"customer_id": "O'Brien; DROP TABLE month_ends", "currency": "GBP",
             "ladder": "months", "bucket": "Over 12 months", "cents": 7}]  # fmt: skip
    with Journal.open(url) as journal:
        journal.record_month_end("SH", "2026-10", END, rows, "close", "分行.xlsm")
        with journal.engine.begin() as connection:
            (when,) = connection.execute(select(month_ends.c.recorded_at).limit(1)).one()
            connection.execute(insert(month_ends), [{
                **rows[0], "branch": "BY-SQLALCHEMY", "period": "2026-10",
                "as_of": END.isoformat(), "source": "close", "workbook": "分行.xlsm",
                "recorded_at": when}])  # fmt: skip
            stored = connection.execute(select(month_ends).order_by(month_ends.c.id)).all()
            raw = connection.exec_driver_sql(
                "SELECT CAST(recorded_at AS VARCHAR(40)) FROM month_ends ORDER BY id").all()
    assert isinstance(when, dt.datetime) and abs(dt.datetime.now() - when) < dt.timedelta(
        minutes=5)
    mine, theirs = stored[0], stored[2]
    assert mine._mapping["branch"] == "SH" and theirs._mapping["branch"] == "BY-SQLALCHEMY"
    compared = [c.key for c in month_ends.c if c.key not in ("id", "branch")]
    assert [mine._mapping[k] for k in compared] == [theirs._mapping[k] for k in compared]
    assert stored[1]._mapping["customer_id"] == "O'Brien; DROP TABLE month_ends"
    assert stored[1]._mapping["cents"] == 7 and mine._mapping["cents"] == -(2**62)
    assert raw[0] == raw[2]  # the time stored in the same form

"""Demo data: deterministic, consistent, and as mixed as a real bilingual customer base."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pandas as pd
import pytest

from xl_addin.core.policy import DEFAULT_POLICY
from xl_addin.services.book import LoadedBook, load_book
from xl_addin.services.demo_data import DemoData, make_demo_data
from xl_addin.workbook.builder import write_credit_workbook
from xl_addin.workbook.schema import CUSTOMERS, LEDGER

AS_OF = dt.date(2026, 11, 30)
CHINESE_COMPANY = re.compile(r"^[\u4e00-\u9fff]+有限公司$")


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return make_demo_data(AS_OF)


@pytest.fixture(scope="module")
def open_invoices(demo) -> pd.DataFrame:
    """Invoices with something left after the payments and credit notes applied to them."""
    ledger = demo.ledger
    settled = ledger[ledger["AppliesTo"] != ""].groupby("AppliesTo")["Amount"].sum()
    invoices = ledger[ledger["DocType"] == "INV"]
    paid = invoices["DocNo"].map(settled).fillna(Decimal(0))
    return invoices[invoices["Amount"] > paid]


def test_the_same_seed_gives_the_same_data(demo):
    again = make_demo_data(AS_OF)
    pd.testing.assert_frame_equal(demo.customers, again.customers)
    pd.testing.assert_frame_equal(demo.ledger, again.ledger)
    assert demo.settings == again.settings
    other = make_demo_data(AS_OF, seed=7)
    assert list(other.customers["Name"]) != list(demo.customers["Name"])


def test_settings():
    assert make_demo_data(dt.date(2026, 3, 31), customers=5).settings == {
        "AsOfDate": dt.date(2026, 3, 31),
        "Language": "zh",
        "BaseCurrency": "CNY",
        "Branch": "SH",
        "StatementPeriod": "2026-03",
        "OutputFolder": "",
        "Journal": "",
        "TemplatePack": "",
        "PackVersion": "",
    }


def test_columns_are_the_workbook_columns_without_computed_ones(demo):
    assert list(demo.customers.columns) == [c.header for c in CUSTOMERS.columns]
    assert list(demo.ledger.columns) == [c.header for c in LEDGER.columns]


def test_ids_numbers_and_references_hold_together(demo):
    customers, ledger = demo.customers, demo.ledger
    assert len(customers) == 300
    assert list(customers["CustomerID"][:3]) == ["C0001", "C0002", "C0003"]
    assert customers["CustomerID"].is_unique and ledger["DocNo"].is_unique
    assert set(ledger["CustomerID"]) <= set(customers["CustomerID"])
    assert all(re.fullmatch(r"(INV|CRN|PAY|ADJ)-20\d\d-\d{6}", n) for n in ledger["DocNo"])
    invoice_of = ledger[ledger["DocType"] == "INV"].set_index("DocNo")["CustomerID"]
    applied = ledger[ledger["AppliesTo"] != ""]
    assert set(applied["DocType"]) <= {"PAY", "CRN"}
    assert all(
        invoice_of.get(target) == customer
        for target, customer in zip(applied["AppliesTo"], applied["CustomerID"], strict=True)
    )


def test_amounts_dates_and_currencies(demo):
    customers, ledger = demo.customers, demo.ledger
    assert all(isinstance(a, Decimal) and a.as_tuple().exponent == -2 for a in ledger["Amount"])
    positive = ledger[ledger["DocType"] != "ADJ"]["Amount"]
    assert (positive > 0).all()
    adjustments = ledger[ledger["DocType"] == "ADJ"]["Amount"]
    assert (adjustments > 0).any() and (adjustments < 0).any()
    currency_of = customers.set_index("CustomerID")["Currency"]
    assert (ledger["Currency"] == ledger["CustomerID"].map(currency_of)).all()
    dated = ledger[ledger["DueDate"].notna()]
    assert (dated["DueDate"] >= dated["DocDate"]).all()
    assert set(dated["DocType"]) == {"INV"}
    assert ledger[ledger["DocType"] == "INV"]["DueDate"].isna().any()  # default terms apply


def test_payments_settle_no_more_than_their_invoice(demo):
    ledger = demo.ledger
    settled = ledger[ledger["AppliesTo"] != ""].groupby("AppliesTo")["Amount"].sum()
    amount_of = ledger.set_index("DocNo")["Amount"]
    assert all(total <= amount_of[doc_no] for doc_no, total in settled.items())


def test_a_bilingual_customer_base(demo):
    customers = demo.customers
    chinese = customers[customers["Language"] == "zh"]
    english = customers[customers["Language"] == "en"]
    assert 0.5 < len(chinese) / len(customers) < 0.7
    assert all(CHINESE_COMPANY.match(name) for name in chinese["Name"])
    assert set(chinese["Currency"]) == {"CNY"}
    assert set(english["Currency"]) == {"GBP", "USD"}
    assert (english["Currency"] == "GBP").mean() > 0.6
    assert english["Name"].str.contains("&").any() and english["Name"].str.contains("'").any()
    assert customers["Name"].is_unique
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", c) for c in chinese["Contact"])
    assert all("@" in e for e in customers["Email"])


def test_segments_terms_and_limits(demo):
    customers = demo.customers
    shares = customers["Segment"].value_counts(normalize=True)
    assert set(shares.index) == {"Strategic", "Standard", "Watch"}
    assert 0.6 < shares["Standard"] < 0.8
    assert set(customers["PaymentTermsDays"]) <= {30, 45, 60, 90}
    assert all(limit == int(limit) for limit in customers["CreditLimit"])
    assert customers["OpenOrders"].notna().any()
    assert (customers["DunningBlock"] == "Y").sum() in range(1, 16)


def test_promises_and_contacts(demo):
    customers = demo.customers
    promised = customers[customers["PromiseDate"].notna()]
    assert 0.05 < len(promised) / len(customers) < 0.15
    assert (promised["PromiseDate"] < AS_OF).any() and (promised["PromiseDate"] >= AS_OF).any()
    assert promised["PromiseAmount"].notna().all()
    contacted = customers[customers["LastStage"] != ""]
    assert 0.2 < len(contacted) / len(customers) < 0.4
    assert all(DEFAULT_POLICY.stage_index(s) is not None for s in contacted["LastStage"])
    assert contacted["LastContactDate"].notna().all()


def test_a_ledger_with_everything_credit_control_meets(demo, open_invoices):
    customers, ledger = demo.customers, demo.ledger
    assert 12 < len(ledger) / len(customers) < 20
    invoices = ledger[ledger["DocType"] == "INV"]
    assert 0.01 < (invoices["Disputed"] == "Y").mean() < 0.05
    payments = ledger[ledger["DocType"] == "PAY"]
    assert (payments["AppliesTo"] == "").any()  # unapplied cash
    credits = ledger[ledger["DocType"] == "CRN"]
    assert (credits["AppliesTo"] == "").any() and (credits["AppliesTo"] != "").any()
    assert (ledger["DocDate"] > AS_OF).any()  # next month's documents
    assert min(ledger["DocDate"]) < AS_OF - dt.timedelta(days=700)
    long_overdue = open_invoices["DueDate"].dropna() < AS_OF - dt.timedelta(days=365)
    assert long_overdue.any()
    assert set(customers["CustomerID"]) - set(ledger["CustomerID"])  # customers without documents


def test_some_customers_are_over_their_limit(demo):
    ledger = demo.ledger[demo.ledger["DocDate"] <= AS_OF]
    sign = ledger["DocType"].map({"INV": 1, "ADJ": 1, "PAY": -1, "CRN": -1})
    balance = (ledger["Amount"] * sign).groupby(ledger["CustomerID"]).sum()
    limit = demo.customers.set_index("CustomerID")["CreditLimit"]
    assert (balance > limit.reindex(balance.index)).sum() >= 10


def test_the_demo_reads_back_from_a_workbook_without_problems(tmp_path):
    demo = make_demo_data(AS_OF, customers=40)
    path = tmp_path / "demo.xlsx"
    write_credit_workbook(path, demo.settings, demo.customers, demo.ledger, language="zh")
    loaded = load_book(path)
    assert isinstance(loaded, LoadedBook), [str(p) for p in loaded]
    assert len(loaded.ledger) == len(demo.ledger)
    assert loaded.book.settings.as_of == AS_OF


@pytest.mark.parametrize("count", [0, 1, 2])
def test_tiny_customer_bases(count):
    demo = make_demo_data(AS_OF, customers=count)
    assert len(demo.customers) == count
    assert set(demo.ledger["CustomerID"]) <= set(demo.customers["CustomerID"])

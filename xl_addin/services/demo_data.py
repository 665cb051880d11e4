"""Make realistic, bilingual demo data: customers and two years of their documents.

About 60% of the customers are Chinese companies (CNY, zh), the rest British or
American (GBP or USD, en). Each customer pays promptly, slowly or poorly, so the
ledger holds paid, part-paid, overdue and long-overdue invoices, unapplied cash,
credit notes, adjustments and disputes; a few customers are over their limit,
have broken a promise, have documents dated after the as-of date, or have no
documents at all. The same seed gives the same data.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd

from xl_addin.core.money import to_decimal
from xl_addin.core.policy import DEFAULT_STAGES
from xl_addin.workbook.schema import CUSTOMERS, LEDGER

DEFAULT_SEED = 20261130
HISTORY_DAYS = 730  # documents span about two years before the as-of date


@dataclass(frozen=True, slots=True)
class DemoData:
    """Settings, customers and ledger in the workbook's column names (no computed columns)."""

    settings: dict[str, object]
    customers: pd.DataFrame
    ledger: pd.DataFrame


# --- vocabulary --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _City:
    prefix: str  # as in a company name: 上海华信…, 深圳市德森…
    address: str
    area_code: str
    districts: tuple[str, ...]


CITIES = (
    _City("上海", "上海市", "021", ("浦东新区", "闵行区", "徐汇区", "嘉定区")),
    _City("深圳市", "广东省深圳市", "0755", ("南山区", "福田区", "宝安区", "龙岗区")),
    _City("北京", "北京市", "010", ("朝阳区", "海淀区", "丰台区")),
    _City("广州", "广东省广州市", "020", ("天河区", "番禺区", "白云区")),
    _City("杭州", "浙江省杭州市", "0571", ("西湖区", "余杭区", "滨江区")),
    _City("苏州", "江苏省苏州市", "0512", ("工业园区", "吴中区", "相城区")),
    _City("南京", "江苏省南京市", "025", ("江宁区", "鼓楼区")),
    _City("宁波", "浙江省宁波市", "0574", ("鄞州区", "北仑区")),
    _City("成都", "四川省成都市", "028", ("高新区", "武侯区")),
    _City("武汉", "湖北省武汉市", "027", ("江汉区", "洪山区")),
    _City("天津", "天津市", "022", ("滨海新区", "河西区")),
    _City("厦门", "福建省厦门市", "0592", ("思明区", "湖里区")),
    _City("青岛", "山东省青岛市", "0532", ("黄岛区", "市南区")),
    _City("东莞市", "广东省东莞市", "0769", ("长安镇", "虎门镇")),
    _City("佛山市", "广东省佛山市", "0757", ("顺德区", "南海区")),
    _City("无锡", "江苏省无锡市", "0510", ("新吴区", "滨湖区")),
)
TRADE_NAMES = (
    ("华信", "huaxin"), ("德森", "desen"), ("恒通", "hengtong"), ("永安", "yongan"),
    ("鼎盛", "dingsheng"), ("金桥", "jinqiao"), ("宏达", "hongda"), ("瑞丰", "ruifeng"),
    ("新元", "xinyuan"), ("嘉禾", "jiahe"), ("汇通", "huitong"), ("天成", "tiancheng"),
    ("安泰", "antai"), ("博远", "boyuan"), ("信诚", "xincheng"), ("顺发", "shunfa"),
    ("联创", "lianchuang"), ("海德", "haide"), ("益民", "yimin"), ("同力", "tongli"),
    ("富源", "fuyuan"), ("康达", "kangda"), ("隆兴", "longxing"), ("远航", "yuanhang"),
    ("明德", "mingde"), ("泰和", "taihe"), ("祥瑞", "xiangrui"), ("万通", "wantong"),
    ("华庭", "huating"), ("锦程", "jincheng"), ("宏图", "hongtu"), ("和信", "hexin"),
)  # fmt: skip
INDUSTRIES_ZH = (
    ("贸易", "trading"), ("电子科技", "tech"), ("机械制造", "machinery"), ("化工", "chem"),
    ("物流", "logistics"), ("建材", "materials"), ("食品", "food"), ("医疗器械", "medical"),
    ("纺织", "textile"), ("包装材料", "packaging"), ("环保科技", "enviro"),
    ("汽车零部件", "autoparts"), ("信息技术", "it"), ("供应链管理", "supply"),
    ("五金制品", "hardware"), ("家具", "furniture"),
)  # fmt: skip
SURNAMES_ZH = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN_NAMES_ZH = (
    "丽", "建国", "伟", "芳", "敏", "静", "强", "磊", "军", "洋", "勇", "艳",
    "杰", "娟", "涛", "明", "超", "秀英", "华", "平", "志强", "海燕", "晓东", "雪梅",
)  # fmt: skip
ROADS_ZH = ("人民路", "中山路", "解放路", "建设路", "长江路", "科技园路", "工业大道", "滨江大道")

WORDS_EN = (
    "Northwind", "Harbour", "Blackwood", "Kingsley", "Ashford", "Meridian", "Oakridge",
    "Pennine", "Riverside", "Albion", "Westbrook", "Lakeland", "Granite", "Thistle",
    "Kestrel", "Beacon", "Brightwater", "Redfern", "Sterling", "Calder",
)  # fmt: skip
SURNAMES_EN = (
    "O'Neill", "O'Brien", "Carter", "Hughes", "Patel", "Walker", "Davies", "Evans", "Murphy",
    "Thompson", "Wright", "Robinson", "Clarke", "Khan", "Taylor", "Bennett", "D'Souza", "Fenwick",
)  # fmt: skip
FIRST_NAMES_EN = (
    "Sarah", "James", "Emma", "David", "Priya", "Michael", "Sophie", "Daniel", "Aisha",
    "Thomas", "Hannah", "Oliver", "Grace", "Liam", "Chloe", "Ryan",
)  # fmt: skip
INDUSTRIES_EN = (
    "Traders", "Engineering", "Logistics", "Foods", "Supplies", "Electronics", "Textiles",
    "Packaging", "Builders Merchants", "Marine Services", "Print & Design", "Catering",
)  # fmt: skip
TOWNS_UK = (
    ("London", "EC2A"), ("Leeds", "LS1"), ("Manchester", "M2"), ("Bristol", "BS1"),
    ("Glasgow", "G2"), ("Birmingham", "B3"), ("Southampton", "SO14"), ("Newcastle", "NE1"),
)  # fmt: skip
TOWNS_US = (("Boston, MA", "02110"), ("Chicago, IL", "60601"), ("Seattle, WA", "98101"))
STREETS_EN = (
    "Mill Lane",
    "High Street",
    "Station Road",
    "Quayside",
    "Market Street",
    "King's Road",
)

TEXT = {
    "zh": {
        "payment": "银行转账",
        "on_account": "预收货款",
        "credit": "退货折让",
        "rebate": "年度返利",
        "adjust_up": "银行手续费",
        "adjust_down": "尾差调整",
        "order": "合同",
        "disputes": ("质量异议，待检验", "数量不符", "价格争议"),
        "block": "破产重整中，暂停催收",
        "notes": ("月结客户", "需开增值税专用发票", "对账请联系财务部"),
    },
    "en": {
        "payment": "BACS",
        "on_account": "Payment on account",
        "credit": "Returned goods",
        "rebate": "Volume rebate",
        "adjust_up": "Bank charges",
        "adjust_down": "Small balance write-off",
        "order": "PO",
        "disputes": ("Quality complaint", "Short delivery", "Price query"),
        "block": "In administration: do not chase",
        "notes": ("Pays on the last Friday of the month", "PO number required", "Remit to AP"),
    },
}

SEGMENTS = ("Strategic", "Standard", "Watch")
SEGMENT_SHARES = (0.15, 0.70, 0.15)
LIMITS = {
    "CNY": (50_000, 100_000, 200_000, 300_000, 500_000, 800_000, 1_000_000, 1_500_000, 2_000_000),
    "GBP": (10_000, 15_000, 20_000, 25_000, 50_000, 75_000, 100_000, 150_000, 250_000),
    "USD": (15_000, 25_000, 50_000, 100_000, 200_000, 300_000),
}
TERMS = (30, 45, 60, 90)
TERM_SHARES = (0.4, 0.25, 0.25, 0.1)

# How customers pay: chance by segment, days paid after the due date, chance of never paying.
BEHAVIOURS = ("prompt", "slow", "poor")
BEHAVIOUR_SHARES = {
    "Strategic": (0.7, 0.25, 0.05),
    "Standard": (0.55, 0.33, 0.12),
    "Watch": (0.2, 0.4, 0.4),
}
PAYMENT_DELAY = {"prompt": (-5, 8), "slow": (10, 75), "poor": (30, 240)}
NEVER_PAID = {"prompt": 0.005, "slow": 0.02, "poor": 0.1}


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _some(rng: np.random.Generator, pool: np.ndarray, size: int) -> np.ndarray:
    """Pick `size` distinct members of `pool` (all of them if it is smaller), in order."""
    return np.sort(rng.choice(pool, size=min(size, len(pool)), replace=False))


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=int(n))


# --- customers ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Party:
    """Who a customer is: names and addresses in its own language."""

    name: str
    language: str
    currency: str
    contact: str
    email: str
    phone: str
    address: str


def _chinese_party(rng: np.random.Generator) -> _Party:
    city, (word, pinyin), (industry, slug) = (
        _pick(rng, CITIES),
        _pick(rng, TRADE_NAMES),
        _pick(rng, INDUSTRIES_ZH),
    )
    company = "股份有限公司" if rng.random() < 0.1 else "有限公司"
    street = f"{_pick(rng, ROADS_ZH)}{rng.integers(1, 999)}号"
    return _Party(
        name=f"{city.prefix}{word}{industry}{company}",
        language="zh",
        currency="CNY",
        contact=_pick(rng, SURNAMES_ZH) + _pick(rng, GIVEN_NAMES_ZH),
        email=f"caiwu@{pinyin}-{slug}.com.cn",
        phone=f"{city.area_code}-{rng.integers(5_000_0000, 8_999_9999)}",
        address=f"{city.address}{_pick(rng, city.districts)}{street}",
    )


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _english_party(rng: np.random.Generator) -> _Party:
    american = rng.random() < 0.2
    word, surname, industry = (
        _pick(rng, WORDS_EN),
        _pick(rng, SURNAMES_EN),
        _pick(rng, INDUSTRIES_EN),
    )
    if american:
        name = f"{word} {industry} {_pick(rng, ('Inc.', 'LLC'))}"
        town, code = _pick(rng, TOWNS_US)
        address = f"{rng.integers(10, 990)} {_pick(rng, STREETS_EN)}, {town} {code}"
        phone = f"+1 617 555 01{rng.integers(0, 100):02d}"
    else:
        name = _pick(
            rng,
            (
                f"{word} {industry} Ltd",
                f"{surname} & Sons {industry}",
                f"{_possessive(surname)} {industry} Ltd",
            ),
        )
        town, district = _pick(rng, TOWNS_UK)
        postcode = f"{district} {rng.integers(1, 9)}{_pick(rng, 'ABDEFGHJLNPQRSTUWXYZ')}Q"
        address = f"{rng.integers(1, 240)} {_pick(rng, STREETS_EN)}, {town} {postcode}"
        phone = f"+44 20 7946 0{rng.integers(0, 1000):03d}"
    words = [w for w in name.lower().replace("'s", "").split() if w not in ("ltd", "inc.", "llc")]
    domain = "-".join("".join(ch for ch in w if ch.isalpha()) for w in words if w != "&")
    return _Party(
        name=name,
        language="en",
        currency="USD" if american else "GBP",
        contact=f"{_pick(rng, FIRST_NAMES_EN)} {_pick(rng, SURNAMES_EN)}",
        email=f"accounts@{domain}{'.com' if american else '.co.uk'}",
        phone=phone,
        address=address,
    )


def _parties(rng: np.random.Generator, count: int) -> list[_Party]:
    """Make `count` parties with distinct names (a few retries, then a repeat is allowed)."""
    chinese = rng.random(count) < 0.6
    seen: set[str] = set()
    parties = []
    for is_chinese in chinese:
        make = _chinese_party if is_chinese else _english_party
        party = make(rng)
        for _ in range(20):
            if party.name not in seen:
                break
            party = make(rng)
        seen.add(party.name)
        parties.append(party)
    return parties


def _tax_id(name: str, currency: str) -> str:
    """A made-up tax id, the same for the same company name: a 统一社会信用代码 shape (18
    characters) for Chinese companies, a GB VAT number otherwise."""
    digits = f"{zlib.crc32(name.encode('utf-8')):010d}"
    return f"91310000{digits}" if currency == "CNY" else f"GB{digits[:9]}"


def _customers(rng: np.random.Generator, count: int) -> pd.DataFrame:
    """Customers' master data; promises, contacts and some limits follow from their ledger."""
    parties = _parties(rng, count)
    segments = rng.choice(SEGMENTS, size=count, p=SEGMENT_SHARES)
    limits = [Decimal(_pick(rng, LIMITS[p.currency])) for p in parties]
    open_orders = [
        Decimal(int(limit * Decimal(rng.uniform(0.05, 0.4))) // 1000 * 1000)
        if rng.random() < 0.25
        else None
        for limit in limits
    ]
    notes = [_pick(rng, TEXT[p.language]["notes"]) if rng.random() < 0.15 else "" for p in parties]
    frame = pd.DataFrame(
        {
            "CustomerID": [f"C{i:04d}" for i in range(1, count + 1)],
            "Name": [p.name for p in parties],
            "Segment": segments.astype(object),
            "Language": [p.language for p in parties],
            "Currency": [p.currency for p in parties],
            "CreditLimit": limits,
            "PaymentTermsDays": rng.choice(TERMS, size=count, p=TERM_SHARES).astype(int),
            "OpenOrders": open_orders,
            "Contact": [p.contact for p in parties],
            "Email": [p.email for p in parties],
            "Phone": [p.phone for p in parties],
            "Address": [p.address for p in parties],
            "DunningBlock": "N",
            "PromiseDate": None,
            "PromiseAmount": None,
            "LastStage": "",
            "LastContactDate": None,
            "Notes": notes,
            "ContractRate": None,  # statutory interest only (docs/interest.md)
            "ContractRatePer": "",
            "TaxID": [_tax_id(p.name, p.currency) for p in parties],
        }
    )
    return frame[[c.header for c in CUSTOMERS.columns]].astype(
        {"PromiseDate": object, "PromiseAmount": object, "LastContactDate": object}
    )


# --- ledger ------------------------------------------------------------------------------


class _Documents:
    """Documents as they are made; numbers are given at the end, in date order."""

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []

    def add(self, customer, kind: str, date: dt.date, cents: int, **fields) -> int:
        """Add a document; `applies_to` names another by the index `add` returned for it."""
        self.rows.append(
            {
                "CustomerID": customer["CustomerID"],
                "DocType": kind,
                "DocDate": date,
                "DueDate": fields.get("due"),
                "cents": int(cents),
                "applies_to": fields.get("applies_to", -1),
                "Currency": customer["Currency"],
                "Reference": fields.get("reference", ""),
                "Disputed": fields.get("disputed", ""),
                "Notes": fields.get("notes", ""),
            }
        )
        return len(self.rows) - 1

    def frame(self) -> pd.DataFrame:
        """Return the ledger: numbered per type and year in date order, sorted by customer."""
        headers = [c.header for c in LEDGER.columns]
        if not self.rows:
            return pd.DataFrame(columns=headers)
        frame = pd.DataFrame(self.rows)
        frame["made"] = np.arange(len(frame))
        frame = frame.sort_values(["DocDate", "made"], kind="stable")
        year = pd.Series([d.year for d in frame["DocDate"]], index=frame.index)
        sequence = frame.groupby([frame["DocType"], year]).cumcount() + 1
        frame["DocNo"] = [
            f"{kind}-{y}-{n:06d}"
            for kind, y, n in zip(frame["DocType"], year, sequence, strict=True)
        ]
        number_of = dict(zip(frame["made"], frame["DocNo"], strict=True))
        frame["AppliesTo"] = [number_of[i] if i >= 0 else "" for i in frame["applies_to"]]
        frame["Amount"] = [to_decimal(c) for c in frame["cents"]]
        frame = frame.sort_values(["CustomerID", "DocDate", "made"], kind="stable")
        return frame[headers].reset_index(drop=True)


@dataclass(frozen=True, slots=True)
class _Invoice:
    key: int  # what `_Documents.add` returned for it
    date: dt.date
    due: dt.date
    cents: int


def _invoice_history(rng, docs: _Documents, customer, behaviour: str, as_of: dt.date) -> None:
    """Invoices over two years and how they were settled: paid, part-paid, credited or open."""
    text = TEXT[customer["Language"]]
    count = 1 + int(rng.poisson(7.5))
    ages = np.sort(rng.integers(0, HISTORY_DAYS + 1, size=count))[::-1]
    limit_cents = int(customer["CreditLimit"]) * 100
    for age in ages:
        date = as_of - _days(age)
        cents = max(5_000, int(limit_cents * rng.uniform(0.005, 0.09)) + int(rng.integers(100)))
        due = date + _days(customer["PaymentTermsDays"])
        disputed = age < 300 and rng.random() < 0.07  # old disputes have been settled
        key = docs.add(
            customer,
            "INV",
            date,
            cents,
            due=None if rng.random() < 0.02 else due,  # blank: the default terms apply
            reference=f"{text['order']} {rng.integers(10_000, 99_999)}",
            disputed="Y" if disputed else "N",
            notes=_pick(rng, text["disputes"]) if disputed else "",
        )
        invoice = _Invoice(key, date, due, cents)
        credited = _credit_note(rng, docs, customer, invoice, as_of)
        if not disputed:
            _payments(rng, docs, customer, invoice, invoice.cents - credited, behaviour, as_of)


def _credit_note(rng, docs: _Documents, customer, invoice: _Invoice, as_of: dt.date) -> int:
    """Now and then credit part of an invoice; return the cents credited."""
    when = invoice.date + _days(rng.integers(5, 40))
    if rng.random() >= 0.06 or when > as_of:
        return 0
    credited = int(invoice.cents * rng.uniform(0.05, 0.3))
    reference = TEXT[customer["Language"]]["credit"]
    docs.add(customer, "CRN", when, credited, applies_to=invoice.key, reference=reference)
    return credited


def _payments(rng, docs, customer, invoice: _Invoice, cents: int, behaviour: str, as_of) -> None:
    """Pay `cents` of an invoice as the customer does: in full, in part, late or not yet."""
    low, high = PAYMENT_DELAY[behaviour]
    paid_on = max(invoice.due + _days(rng.integers(low, high + 1)), invoice.date + _days(1))
    if rng.random() < NEVER_PAID[behaviour] or paid_on > as_of:
        return
    reference = TEXT[customer["Language"]]["payment"]
    if rng.random() < 0.1:  # part payment; the rest later, or still open
        part = int(cents * rng.uniform(0.3, 0.8)) // 100 * 100
        docs.add(customer, "PAY", paid_on, part, applies_to=invoice.key, reference=reference)
        paid_on, cents = paid_on + _days(rng.integers(15, 60)), cents - part
        if rng.random() < NEVER_PAID[behaviour] * 2 or paid_on > as_of:
            return
    docs.add(customer, "PAY", paid_on, cents, applies_to=invoice.key, reference=reference)


def _extras(rng, docs: _Documents, customer, as_of: dt.date) -> None:
    """Unapplied cash and credits, and adjustments either way, for some customers."""
    text = TEXT[customer["Language"]]
    size = int(customer["CreditLimit"]) * 100
    if rng.random() < 0.15:
        date = as_of - _days(rng.integers(0, 60))
        cents = int(size * rng.uniform(0.01, 0.05)) // 10_000 * 10_000 + 10_000
        docs.add(customer, "PAY", date, cents, reference=text["on_account"])
    if rng.random() < 0.05:
        date = as_of - _days(rng.integers(0, 200))
        cents = int(size * rng.uniform(0.002, 0.01))
        docs.add(customer, "CRN", date, cents, reference=text["rebate"])
    if rng.random() < 0.04:
        date = as_of - _days(rng.integers(0, 365))
        up = rng.random() < 0.5
        cents = int(rng.integers(500, 20_000)) * (1 if up else -1)
        docs.add(customer, "ADJ", date, cents, reference=text["adjust_up" if up else "adjust_down"])


def _next_month(rng, docs: _Documents, customer, as_of: dt.date) -> None:
    """Invoices dated after the as-of date, as when the ledger is exported late."""
    text = TEXT[customer["Language"]]
    for _ in range(int(rng.integers(1, 4))):
        date = as_of + _days(rng.integers(1, 31))
        cents = int(int(customer["CreditLimit"]) * 100 * rng.uniform(0.005, 0.05))
        due = date + _days(customer["PaymentTermsDays"])
        reference = f"{text['order']} {rng.integers(10_000, 99_999)}"
        docs.add(customer, "INV", date, cents, due=due, reference=reference, disputed="N")


def _ledger(rng, customers: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Every customer's documents, but for a few quiet customers with none."""
    count = len(customers)
    everyone = np.arange(count)
    quiet = set(_some(rng, everyone, max(1, count // 50) if count > 1 else 0).tolist())
    late = set(_some(rng, everyone, max(1, count // 30)).tolist())
    docs = _Documents()
    for i, customer in enumerate(customers.to_dict("records")):
        if i in quiet:
            continue
        shares = BEHAVIOUR_SHARES[customer["Segment"]]
        behaviour = BEHAVIOURS[int(rng.choice(len(BEHAVIOURS), p=shares))]
        _invoice_history(rng, docs, customer, behaviour, as_of)
        _extras(rng, docs, customer, as_of)
        if i in late:
            _next_month(rng, docs, customer, as_of)
    return docs.frame()


# --- what follows from the ledger ----------------------------------------------------------


def _balances(customers: pd.DataFrame, ledger: pd.DataFrame, as_of: dt.date) -> pd.Series:
    """Gross balance per customer from documents up to the as-of date (debits less credits)."""
    sign = ledger["DocType"].map({"INV": 1, "ADJ": 1, "PAY": -1, "CRN": -1})
    dated = np.array([d <= as_of for d in ledger["DocDate"]], dtype=bool)
    amounts = (ledger["Amount"] * sign)[dated]
    by_customer = amounts.groupby(ledger["CustomerID"][dated]).sum()
    return by_customer.reindex(customers["CustomerID"], fill_value=Decimal(0))


def _nice(amount: Decimal, up: bool = False) -> Decimal:
    """Round to two significant figures, down or up (123,456.78 -> 120,000 or 130,000)."""
    if amount <= 0:
        return Decimal(0)
    step = Decimal(10) ** max(len(str(int(amount))) - 2, 0)
    return (amount / step).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR) * step


def _follow_up(rng, customers: pd.DataFrame, balances: pd.Series, as_of: dt.date) -> pd.DataFrame:
    """Customers over or near their limit, promises (some broken), contacts, dunning blocks."""
    customers = customers.copy()
    balance = balances.to_numpy()
    owing = np.flatnonzero(balance > 0)
    limits = customers["CreditLimit"].to_numpy()

    def some(share: float, pool: np.ndarray = owing) -> np.ndarray:
        return _some(rng, pool, max(1, round(len(customers) * share)))

    for i in some(0.10, np.flatnonzero(balance > limits / 10)):
        over = rng.random() < 0.5  # else near the limit
        used = round(rng.uniform(1.1, 1.6) if over else rng.uniform(0.85, 0.95), 2)
        customers.at[i, "CreditLimit"] = _nice(balance[i] / Decimal(str(used)), up=not over)
    for i in some(0.10):
        customers.at[i, "PromiseDate"] = as_of + _days(rng.integers(-25, 15))
        customers.at[i, "PromiseAmount"] = max(_nice(balance[i] * Decimal("0.5")), Decimal(100))
    ladder = DEFAULT_STAGES[2:7]
    for i in some(0.30):
        stage = _pick(rng, ladder)
        customers.at[i, "LastStage"] = stage.name_zh  # the workbook's language (Settings: zh)
        customers.at[i, "LastContactDate"] = as_of - _days(rng.integers(1, 45))
    for i in some(0.02, np.arange(len(customers))):
        customers.at[i, "DunningBlock"] = "Y"
        customers.at[i, "Notes"] = TEXT[customers.at[i, "Language"]]["block"]
    return customers


def make_demo_data(as_of: dt.date, customers: int = 300, seed: int = DEFAULT_SEED) -> DemoData:
    """Return demo settings, customers and ledger for `as_of`; the same seed gives the same data."""
    rng = np.random.default_rng(seed)
    master = _customers(rng, customers)
    ledger = _ledger(rng, master, as_of)
    master = _follow_up(rng, master, _balances(master, ledger, as_of), as_of)
    settings: dict[str, object] = {
        "AsOfDate": as_of,
        "Language": "zh",
        "BaseCurrency": "CNY",
        "Branch": "SH",
        "StatementPeriod": f"{as_of:%Y-%m}",
        "OutputFolder": "",
        "Journal": "",
        "TemplatePack": "",
        "PackVersion": "",
    }
    return DemoData(settings, master, ledger)

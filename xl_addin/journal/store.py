"""The journal: every run and every document issued, in SQLite or any SQLAlchemy database.

Order of issuing documents, so that nothing is lost or silently issued twice:

1. `reserve_references` takes the next numbers of the day for a batch of documents
   in one transaction and records a reservation for each with the file it will name:
   a number is never given twice, even to two runs at once, and never reused;
2. the documents are written (documents.files.write_new, never over a file) and their
   bytes synced to disk;
3. `record_batch` stores the documents and closes their reservations in one transaction.

A run that dies between 1 and 3 leaves reservations with (perhaps) files and no
document; the next run into the same folder finds them (`unrecorded`) and sets the
files aside, so that no unrecorded letter can be sent by mistake. A batch costs two transactions
(each synced by the database) whatever its size: a run of thousands of documents does
not wait on the disk thousands of times.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from operator import itemgetter

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)

from xl_addin.errors import JournalError
from xl_addin.journal.location import (  # noqa: F401 (journal_url: named here too)
    current_user,
    journal_url,
    sqlite_file,
)

KIND_CODES = {"letter": "LTR", "call_sheet": "CALL", "legal_pack": "LEGAL", "statement": "STM"}

# What makes a document the same document: its branch, kind, customer, key (the as-of date
# or period) and revision. Journals made before the branch was part of it are upgraded
# when opened (`_upgrade`).
DOCUMENT_IDENTITY = ("branch", "kind", "customer_id", "key", "revision")

metadata = MetaData()
runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("as_of", String(10)),
    Column("period", String(7)),
    Column("user", String(100)),
    Column("branch", String(20)),
    Column("pack_version", String(50)),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("status", String(20), nullable=False),
)  # fmt: skip
documents = Table(
    "documents", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("customer_id", String(100), nullable=False),
    Column("stage", String(40), nullable=False),
    Column("key", String(20), nullable=False),
    Column("reference", String(60), nullable=False, unique=True),
    Column("revision", Integer, nullable=False),
    Column("file", String(500), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("amount", String(40), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("issued_at", DateTime, nullable=False),
    Column("user", String(100)),
    Column("branch", String(20), nullable=False, server_default=""),
    Column("pack_version", String(50)),
    Column("opening", String(40)),
    Column("closing", String(40)),
    # A document's identity: branches sharing a journal may share CustomerIDs (schema.py).
    UniqueConstraint(*DOCUMENT_IDENTITY, name="documents_identity"),
    # A customer's documents in order (history, legal packs) without reading every one.
    Index("documents_branch_customer_issued", "branch", "customer_id", "issued_at", "id"),
    # A branch's documents in order (History, the contact log), from any one, unsorted:
    # a year of a big branch's is 450,000, which took 0.7 s to sort before each read.
    Index("documents_branch_issued", "branch", "issued_at", "id"),
)  # fmt: skip
# Indexes of earlier versions that those above replace: left, SQLite would walk a
# customer's documents by this one and sort them, or a branch's all to find them.
_REPLACED_INDEXES = ("documents_branch_customer",)
sequences = Table(
    "sequences", metadata,
    Column("prefix", String(60), primary_key=True),
    Column("last", Integer, nullable=False),
)  # fmt: skip
reservations = Table(
    "reservations", metadata,
    Column("reference", String(60), primary_key=True),
    Column("run_id", Integer, nullable=False),
    Column("file", String(500), nullable=False),
    Column("reserved_at", DateTime, nullable=False),
    Column("done", Integer, nullable=False, default=0),
)  # fmt: skip
run_locks = Table(  # who holds an output folder's advisory lock, for the second run's message
    "run_locks", metadata,
    Column("scope", String(1000), primary_key=True),
    Column("holder", Text, nullable=False),
)  # fmt: skip
# What a recorded document still needs from its run: PDF, e-mail draft, run summary and the
# workbook's Contacts, LastStage and LastContactDate. Written in the transaction that
# records the document, removed once the workbook is written: a run killed in between
# leaves rows here that the next run of the same command on that workbook completes.
unfinished = Table(
    "unfinished", metadata,
    Column("reference", String(60), primary_key=True),
    Column("run_id", Integer, nullable=False),
    Column("command", String(20), nullable=False),
    Column("workbook", String(1000), nullable=False),
    Column("pdf", Integer, nullable=False, default=0),
    Column("email_to", String(500), nullable=False, default=""),
    Column("subject", Text, nullable=False, default=""),
    Column("body", Text, nullable=False, default=""),
    Column("sender", String(500), nullable=False, default=""),
    Column("summary", String(300), nullable=False, default=""),
    Column("summary_title", String(300), nullable=False, default=""),
)  # fmt: skip
# Month-end snapshots: per branch and month (YYYY-MM), each customer's open amount per aging
# bucket on the month's last day (core/snapshots.py: the Policy's ladder and the month-wide
# one). A month is recorded again by replacing all its rows, in one transaction.
month_ends = Table(
    "month_ends", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch", String(100), nullable=False),
    Column("period", String(7), nullable=False),
    Column("as_of", String(10), nullable=False),
    Column("customer_id", String(100), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("ladder", String(10), nullable=False),
    Column("bucket", String(20), nullable=False),
    Column("cents", BigInteger, nullable=False),
    Column("source", String(20), nullable=False),  # close, statements or reconstructed
    Column("workbook", String(1000), nullable=False, default=""),
    Column("recorded_at", DateTime, nullable=False),
    UniqueConstraint("branch", "period", "customer_id", "ladder", "bucket"),
    Index("month_ends_branch_period", "branch", "period"),
)  # fmt: skip
# The History sheet a run last wrote into a workbook file (services.history_sheet): its
# part's CRC-32 and size, the documents it lists and the last of them, and a digest of how
# they were named. A workbook whose part still has them needs no reading before the next
# run; a part written again by anyone else (Excel saving it) has another CRC.
history_marks = Table(
    "history_marks", metadata,
    Column("workbook", String(1000), primary_key=True),
    Column("part_crc", BigInteger, nullable=False),
    Column("part_size", BigInteger, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("last", String(60), nullable=False),
    Column("naming", String(64), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
)  # fmt: skip
MONTH_END_FIELDS = ("customer_id", "currency", "ladder", "bucket", "cents")


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    kind: str
    customer_id: str
    stage: str
    key: str
    reference: str
    revision: int
    file: str
    sha256: str
    amount: Decimal
    currency: str
    issued_at: dt.datetime
    user: str
    branch: str
    pack_version: str
    opening: Decimal | None = None
    closing: Decimal | None = None
    run_id: int | None = None


_RECORD_FIELDS = tuple(f.name for f in fields(DocumentRecord))
# A document as the History sheet lists it (services.issuing.history_sheet).
HISTORY_FIELDS = ("issued_at", "kind", "customer_id", "stage", "reference", "revision", "file",
                  "amount", "currency")  # fmt: skip
_AMOUNT, _OPENING = _RECORD_FIELDS.index("amount"), _RECORD_FIELDS.index("opening")
assert _RECORD_FIELDS[_OPENING:] == ("opening", "closing", "run_id")


def journal_name(url: str) -> str:
    """The journal as a person names it: the file of a SQLite journal, else the URL
    without its password."""
    file = sqlite_file(url)
    if file is not None:
        return str(file)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


class Journal:
    """Runs and documents; open with Journal.open(url)."""

    def __init__(self, engine):
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Journal:
        """Open the journal at `url` (a SQLite file is made if missing, and checked if not:
        `_check_sqlite`); JournalError naming it if it cannot be opened or is damaged."""
        try:
            engine = create_engine(url, future=True)
            event.listen(engine, "handle_error", _journal_errors(url))
            file = sqlite_file(url)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
                if file is not None and file.exists():
                    _check_sqlite(engine, url)
            _create_tables(engine)
        except SQLAlchemyError as error:
            raise JournalError(f"the journal {journal_name(url)} cannot be opened "
                               f"({_driver_message(error)})") from error  # fmt: skip
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start_run(self, kind, as_of, period, user, branch, pack_version) -> int:
        row = {"kind": kind, "as_of": str(as_of or ""), "period": period or "",
               "user": user or current_user(), "branch": branch, "pack_version": pack_version,
               "started_at": now(), "status": "running"}  # fmt: skip
        with self._write() as connection:
            return int(connection.execute(insert(runs).values(**row)).inserted_primary_key[0])

    def finish_run(self, run_id: int, status: str) -> None:
        with self._write() as connection:
            connection.execute(
                update(runs).where(runs.c.id == run_id).values(finished_at=now(), status=status)
            )

    def reserve_reference(
        self, run_id: int, branch: str, kind: str, day: dt.date, file: str
    ) -> str:
        """Take the next reference of the day (BR-LTR-20261130-0001) for a planned file."""
        return self.reserve_references(run_id, branch, day, [(kind, file)])[0]

    def reserve_references(
        self, run_id: int, branch: str, day: dt.date, planned: Sequence[tuple[str, str]]
    ) -> list[str]:
        """Take the next references of the day for planned (kind, file)s, in one transaction.

        Numbers follow the order of `planned` within each kind; a run racing for the same
        day's numbers makes this transaction start again, never share a number.
        """
        by_prefix: dict[str, list[int]] = {}
        for position, (kind, _) in enumerate(planned):
            by_prefix.setdefault(reference_prefix(branch, kind, day), []).append(position)
        for _ in range(20):
            try:
                with self._write() as connection:
                    references = [""] * len(planned)
                    for prefix, positions in by_prefix.items():
                        first = _take_numbers(connection, prefix, len(positions))
                        for number, position in enumerate(positions, first):
                            references[position] = f"{prefix}-{number:04d}"
                    if planned:
                        reserved_at = now()
                        connection.execute(insert(reservations), [
                            {"reference": reference, "run_id": run_id, "file": file,
                             "reserved_at": reserved_at, "done": 0}
                            for reference, (_, file) in zip(references, planned, strict=True)
                        ])  # fmt: skip
                    return references
            except (IntegrityError, OperationalError):
                continue  # another run took them: try the next numbers
        prefixes = ", ".join(by_prefix)
        raise JournalError(f"could not take a reference for {prefixes}: the journal is busy")

    def record(self, run_id: int, document: DocumentRecord) -> None:
        """Store an issued document and close its reservation, in one transaction."""
        self.record_batch(run_id, [document])

    def record_batch(
        self, run_id: int, batch: Sequence[DocumentRecord], work: Sequence[Mapping] = ()
    ) -> None:
        """Store issued documents and close their reservations, all in one transaction,
        with what each still needs from its run (`work`: rows of the unfinished table)."""
        if not batch:
            return
        rows = []
        for document in batch:
            row = {f.name: getattr(document, f.name) for f in fields(DocumentRecord)}
            row |= {"run_id": run_id, "amount": str(document.amount),
                    "opening": _text(document.opening),
                    "closing": _text(document.closing)}  # fmt: skip
            rows.append(row)
        references = [document.reference for document in batch]
        try:
            with self._write() as connection:
                connection.execute(insert(documents), rows)
                if work:
                    connection.execute(insert(unfinished), [dict(w) for w in work])
                for start in range(0, len(references), 500):
                    connection.execute(
                        update(reservations)
                        .where(reservations.c.reference.in_(references[start : start + 500]))
                        .values(done=1)
                    )
        except IntegrityError as error:
            recorded = self.recorded_references(references)
            named = next((r for r in references if r in recorded), references[0])
            raise JournalError(f"{named}: already in the journal ({error.orig})") from error

    def unfinished_work(self, workbook: str, command: str) -> list[dict[str, object]]:
        """What documents recorded by `command` runs on `workbook` still need (rows of the
        unfinished table, each with its document's record under "record"), oldest first."""
        query = select(unfinished).where(
            unfinished.c.workbook == workbook, unfinished.c.command == command
        ).order_by(unfinished.c.run_id, unfinished.c.reference)
        with self.engine.connect() as connection:
            rows = [dict(row) for row in connection.execute(query).mappings()]
        if not rows:
            return []
        wanted = [str(row["reference"]) for row in rows]
        records = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for record in self._records(select(documents).where(documents.c.reference.in_(chunk))):
                records[record.reference] = record
        return [row | {"record": records[row["reference"]]} for row in rows
                if row["reference"] in records]  # fmt: skip

    def finish_work(self, references: Sequence[str]) -> None:
        """Forget the unfinished work of documents whose run is now complete."""
        wanted = list(dict.fromkeys(references))
        with self._write() as connection:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                connection.execute(delete(unfinished).where(unfinished.c.reference.in_(chunk)))

    @contextlib.contextmanager
    def scope_lock(self, scope: str, holder: str) -> Iterator[str | None]:
        """Hold `scope` (an output folder) on a database server for a run: yield None, or
        the holder text of the live run that has it.

        A session advisory lock: the server drops it the moment the holder's connection
        goes, so a killed run never leaves it behind. A SQLite journal has no server
        to ask: the output folder's lock file does the same there (services.run_lock).
        """
        if self.engine.dialect.name != "postgresql":
            yield None
            return
        key = _lock_key(scope)
        connection = self.engine.connect()
        try:
            held = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
            got = bool(held.scalar())
            connection.commit()
            if not got:
                query = select(run_locks.c.holder).where(run_locks.c.scope == scope)
                with self.engine.connect() as reader:
                    yield str(reader.execute(query).scalar() or "another run")
                return
            with self._write() as writer:
                writer.execute(delete(run_locks).where(run_locks.c.scope == scope))
                writer.execute(insert(run_locks).values(scope=scope, holder=holder))
            try:
                yield None
            finally:
                with contextlib.suppress(SQLAlchemyError):
                    with self._write() as writer:
                        writer.execute(delete(run_locks).where(run_locks.c.scope == scope))
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    connection.commit()
        finally:
            connection.close()

    def recorded_references(self, references: Sequence[str]) -> set[str]:
        """Those of `references` recorded as issued documents."""
        wanted = list(dict.fromkeys(references))
        found: set[str] = set()
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), 500):
                query = select(documents.c.reference).where(
                    documents.c.reference.in_(wanted[start : start + 500])
                )
                found.update(connection.execute(query).scalars())
        return found

    def known_references(self, references: Sequence[str]) -> set[str]:
        """Those of `references` that the journal has issued or reserved."""
        wanted = list(dict.fromkeys(references))
        found: set[str] = set()
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                for table in (documents, reservations):
                    query = select(table.c.reference).where(table.c.reference.in_(chunk))
                    found.update(connection.execute(query).scalars())
        return found

    def issued(
        self, kind: str, customer_id: str, key: str, *, branch: str | None = None
    ) -> list[DocumentRecord]:
        """The revisions of a document issued (branch None: of every branch)."""
        query = _of_branch(select(documents).where(
            documents.c.kind == kind, documents.c.customer_id == customer_id,
            documents.c.key == key,
        ), branch).order_by(documents.c.revision)  # fmt: skip
        return self._records(query)

    def issued_keys(
        self, kinds: tuple[str, ...], key: str, *, branch: str | None = None
    ) -> dict[str, int]:
        """customer -> highest revision the branch already issued for `key` (one query for
        a whole run); branch None: any branch (a journal of one branch)."""
        query = _of_branch(select(documents.c.customer_id, documents.c.revision).where(
            documents.c.kind.in_(kinds), documents.c.key == key
        ), branch)  # fmt: skip
        found: dict[str, int] = {}
        with self.engine.connect() as connection:
            for customer, revision in connection.execute(query):
                found[customer] = max(found.get(customer, -1), revision)
        return found

    def contact_documents(self, kinds: tuple[str, ...], *, branch: str | None = None,
                          start: int = 0) -> list:  # fmt: skip
        """The documents of `kinds` issued, oldest first, from the `start`th (0-based), each
        with only what the contact log needs (.kind, .customer_id, .stage, .key,
        .reference): every run reads them all, and a year of a big branch's letters,
        whole, would be hundreds of megabytes."""
        query = _of_branch(select(documents.c.kind, documents.c.customer_id,
                                  documents.c.stage, documents.c.key, documents.c.reference)
                           .where(documents.c.kind.in_(kinds)), branch).order_by(
            documents.c.issued_at, documents.c.id).offset(start)  # fmt: skip
        with self.engine.connect() as connection:
            return connection.execute(query).all()

    def documents(
        self, customer_id: str | None = None, kind: str | None = None, *,
        branch: str | None = None,
    ) -> list[DocumentRecord]:  # fmt: skip
        """The documents issued, oldest first: a customer's, a kind's, a branch's (None: all).

        Branches sharing a journal may share CustomerIDs: whatever is asked for one
        branch's customer gives the branch."""
        query = _of_branch(select(documents), branch).order_by(
            documents.c.issued_at, documents.c.id
        )
        if customer_id is not None:
            query = query.where(documents.c.customer_id == customer_id)
        if kind is not None:
            query = query.where(documents.c.kind == kind)
        return self._records(query)

    def listed(self, branch: str | None, start: int = 0) -> Iterator[tuple]:
        """What the workbook's History sheet lists of each of `branch`'s documents
        (`HISTORY_FIELDS`), oldest first as `documents` gives them, from the `start`th
        (0-based): streamed, a year of a big branch's documents being 450,000. Close the
        iterator when not read to its end."""
        query = _of_branch(select(*(documents.c[name] for name in HISTORY_FIELDS)), branch)
        query = query.order_by(documents.c.issued_at, documents.c.id).offset(start)
        with self.engine.connect() as connection:
            result = connection.execution_options(yield_per=10_000).execute(query)
            try:
                yield from result
            finally:  # read to the end or not (a server-side cursor on PostgreSQL)
                result.close()

    def mark_history(self, workbook: str, part_crc: int, part_size: int, rows: int,
                     last: str, naming: str) -> None:  # fmt: skip
        """Record the History sheet just written into `workbook` (see `history_marks`)."""
        with self._write() as connection:
            connection.execute(delete(history_marks).where(history_marks.c.workbook == workbook))
            connection.execute(insert(history_marks).values(
                workbook=workbook, part_crc=part_crc, part_size=part_size, rows=rows,
                last=last, naming=naming, recorded_at=now()))  # fmt: skip

    def history_mark(self, workbook: str):
        """The History sheet last written into `workbook` (a row of `history_marks`), or None."""
        query = select(history_marks).where(history_marks.c.workbook == workbook)
        with self.engine.connect() as connection:
            return connection.execute(query).first()

    def unrecorded(self) -> list[tuple[str, str]]:
        """(reference, file) of reservations whose document was never recorded."""
        query = select(reservations.c.reference, reservations.c.file).where(
            reservations.c.done == 0
        )
        with self.engine.connect() as connection:
            return [(r, f) for r, f in connection.execute(query)]

    def set_aside(self, references: str | Sequence[str]) -> None:
        """Close reservations whose document was never recorded (its file set aside)."""
        wanted = [references] if isinstance(references, str) else list(references)
        with self._write() as connection:
            for start in range(0, len(wanted), 500):
                connection.execute(
                    update(reservations)
                    .where(reservations.c.reference.in_(wanted[start : start + 500]))
                    .values(done=2)
                )

    def record_month_end(self, branch: str, period: str, as_of: dt.date,
                         rows: Sequence[Mapping[str, object]], source: str,
                         workbook: str = "") -> int:  # fmt: skip
        """Record a branch's month-end snapshot (rows with MONTH_END_FIELDS), replacing what
        was recorded for that month before, in one transaction; return the rows recorded.

        On a server the month is locked for the transaction, so that two runs recording the
        same month one after the other leave one run's rows, never both.
        """
        fixed = {"branch": branch, "period": period, "as_of": as_of.isoformat(),
                 "source": source, "workbook": workbook, "recorded_at": now()}  # fmt: skip
        values = [(row["customer_id"], row["currency"], row["ladder"], row["bucket"],
                   int(row["cents"])) for row in rows]  # fmt: skip
        for _ in range(20):
            try:
                with self._write() as connection:
                    if self.engine.dialect.name == "postgresql":
                        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                           {"key": _lock_key(f"month-end:{branch}:{period}")})
                    connection.execute(delete(month_ends).where(
                        month_ends.c.branch == branch, month_ends.c.period == period))
                    if values:
                        _insert_many(connection, month_ends, fixed, MONTH_END_FIELDS, values)
                    return len(values)
            except (IntegrityError, OperationalError):
                continue  # another run recorded the month at the same moment: again
        raise JournalError(f"could not record the month-end {period} of {branch}: "
                           "the journal is busy")  # fmt: skip

    def recorded_month_ends(self, branch: str) -> dict[str, str]:
        """period -> how it was recorded (close, statements or reconstructed), oldest first."""
        query = select(month_ends.c.period, month_ends.c.source).where(
            month_ends.c.branch == branch).distinct().order_by(month_ends.c.period)
        with self.engine.connect() as connection:
            return {period: source for period, source in connection.execute(query)}

    def month_end_rows(
        self, branch: str, ladder: str | None = None, periods: Sequence[str] | None = None
    ) -> list[dict[str, object]]:
        """The recorded snapshot rows of a branch (period and MONTH_END_FIELDS), by period."""
        query = select(month_ends.c.period, *(month_ends.c[n] for n in MONTH_END_FIELDS)).where(
            month_ends.c.branch == branch).order_by(month_ends.c.period, month_ends.c.id)
        if ladder is not None:
            query = query.where(month_ends.c.ladder == ladder)
        if periods is not None:
            query = query.where(month_ends.c.period.in_(list(periods)))
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def month_end_totals(self, branch: str) -> list[tuple[str, str, str, str, int]]:
        """(period, currency, ladder, bucket, cents) of a branch's month-ends, the cents summed
        over the customers by the database, by period.

        A month-end of a million-row ledger holds some 150,000 rows; a year of them read row
        by row would cost a gigabyte of Python objects to add up to a few hundred sums.
        """
        cents = cast(func.sum(month_ends.c.cents), BigInteger)  # PostgreSQL sums to numeric
        keys = (month_ends.c.period, month_ends.c.currency, month_ends.c.ladder,
                month_ends.c.bucket)  # fmt: skip
        query = select(*keys, cents).where(month_ends.c.branch == branch).group_by(
            *keys).order_by(*keys)
        with self.engine.connect() as connection:
            return [(p, c, lad, b, int(s)) for p, c, lad, b, s in connection.execute(query)]

    def month_end_balances(self, branch: str, ladder: str) -> dict[tuple[str, str], list[int]]:
        """(period, currency) -> each customer's cents summed over the ladder's buckets (in no
        particular order), summed by the database and read as a stream."""
        keys = (month_ends.c.period, month_ends.c.currency, month_ends.c.customer_id)
        query = select(month_ends.c.period, month_ends.c.currency,
                       cast(func.sum(month_ends.c.cents), BigInteger)).where(
            month_ends.c.branch == branch, month_ends.c.ladder == ladder).group_by(*keys)
        out: dict[tuple[str, str], list[int]] = {}
        with self.engine.connect() as connection:
            rows = connection.execution_options(stream_results=True, yield_per=10_000).execute(
                query)
            for period, currency, cents in rows:
                out.setdefault((period, currency), []).append(int(cents))
        return out

    def _records(self, query) -> list[DocumentRecord]:
        """The documents a query of the documents table finds. Its columns are replaced by
        the record's fields, in their order: a year of a big branch's letters is hundreds
        of thousands of rows, read on every run (9 µs a row this way, 18 µs by name)."""
        query = query.with_only_columns(*(documents.c[name] for name in _RECORD_FIELDS))
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            DocumentRecord(*row[:_AMOUNT], Decimal(row[_AMOUNT]), *row[_AMOUNT + 1 : _OPENING],
                           _decimal(row[_OPENING]), _decimal(row[_OPENING + 1]), row[-1])
            for row in rows
        ]  # fmt: skip

    def _write(self):
        try:
            return self.engine.begin()
        except SQLAlchemyError as error:
            raise JournalError(f"the journal {journal_name(str(self.engine.url))} cannot be "
                               f"written ({_driver_message(error)})") from error  # fmt: skip


def _of_branch(query, branch: str | None):
    """`query` narrowed to one branch's documents (None: every branch's)."""
    return query if branch is None else query.where(documents.c.branch == branch)


def reference_prefix(branch: str, kind: str, day: dt.date) -> str:
    """The part of a reference before its number: branch, kind and day (SH-LTR-20261130)."""
    return f"{branch or 'XX'}-{KIND_CODES.get(kind, kind.upper())}-{day:%Y%m%d}"


def _take_numbers(connection, prefix: str, count: int) -> int:
    """Move the prefix's sequence on by `count`; return the first number taken.

    The update only succeeds if no other run moved the sequence since it was read
    (IntegrityError otherwise: the caller's transaction starts again).
    """
    last = connection.execute(select(sequences.c.last).where(sequences.c.prefix == prefix)).scalar()
    if last is None:
        connection.execute(insert(sequences).values(prefix=prefix, last=count))
        return 1
    done = connection.execute(
        update(sequences)
        .where(sequences.c.prefix == prefix, sequences.c.last == last)
        .values(last=last + count)
    )
    if done.rowcount != 1:
        raise IntegrityError("taken", None, Exception("raced"))
    return last + 1


SCHEMA_LOCK = 0x63632D6A6F75726E  # the advisory lock under which tables are created ("cc-journ")


def _create_tables(engine) -> None:
    """Create the tables a journal lacks and upgrade an older journal's (`_upgrade`). Two
    runs opening a new journal at once take turns: on a server under an advisory lock, in
    SQLite by trying again once the other's tables exist (its CREATE TABLE then finds
    them); an upgrade holds SQLite's write lock and looks again under it."""
    for attempt in range(10):
        try:
            with engine.begin() as connection:
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                       {"key": SCHEMA_LOCK})  # fmt: skip
                if _outdated(connection):
                    if engine.dialect.name == "sqlite":  # DDL inside the transaction
                        connection.exec_driver_sql("BEGIN IMMEDIATE")
                    if _outdated(connection):  # another run may have upgraded it meanwhile
                        _upgrade(connection)
                metadata.create_all(connection)
                for index in documents.indexes:  # a journal made before the index had it not
                    index.create(connection, checkfirst=True)
                found = {i["name"] for i in inspect(connection).get_indexes("documents")}
                for name in set(_REPLACED_INDEXES) & found:
                    connection.execute(text(f'DROP INDEX "{name}"'))
            return
        except (IntegrityError, OperationalError, ProgrammingError):
            if attempt == 9:
                raise
            time.sleep(0.05 * (attempt + 1))


# Upgrades of journals made by earlier versions, all here. Each looks at the schema it
# finds, so running one twice, or on a journal already upgraded, changes nothing; each
# runs in the opening transaction (rolled back whole on any error).


def _outdated(connection) -> bool:
    """Whether the journal has a documents table of an earlier schema: no branch in a
    document's identity (journals before branches could share CustomerIDs)."""
    found = inspect(connection)
    if not found.has_table("documents"):
        return False
    columns = {c["name"]: c for c in found.get_columns("documents")}
    identities = {tuple(u["column_names"]) for u in found.get_unique_constraints("documents")}
    return ("branch" not in columns or columns["branch"]["nullable"]
            or DOCUMENT_IDENTITY not in identities
            or ("kind", "customer_id", "key", "revision") in identities)  # fmt: skip


def _upgrade(connection) -> None:
    """Make the branch part of a document's identity: add the column if missing, give
    each document without one its run's branch, and replace the unique constraint
    (SQLite cannot drop one: the table is rebuilt, in the same transaction)."""
    columns = {c["name"] for c in inspect(connection).get_columns("documents")}
    if "branch" not in columns:
        connection.execute(text("ALTER TABLE documents ADD COLUMN branch VARCHAR(20) "
                                "DEFAULT ''"))  # fmt: skip
        columns.add("branch")
    run_branch = select(runs.c.branch).where(runs.c.id == documents.c.run_id).scalar_subquery()
    connection.execute(
        update(documents)
        .where(or_(documents.c.branch.is_(None), documents.c.branch == ""))
        .values(branch=func.coalesce(run_branch, ""))
    )
    if connection.dialect.name == "sqlite":
        staging = documents.to_metadata(MetaData(), name="documents_upgrade")
        staging.create(connection)
        kept = ", ".join(f'"{c.name}"' for c in documents.columns if c.name in columns)
        connection.execute(text(f"INSERT INTO documents_upgrade ({kept}) "
                                f"SELECT {kept} FROM documents"))  # fmt: skip
        connection.execute(text("DROP TABLE documents"))
        connection.execute(text("ALTER TABLE documents_upgrade RENAME TO documents"))
        return
    identities = {tuple(u["column_names"]): u["name"]
                  for u in inspect(connection).get_unique_constraints("documents")}  # fmt: skip
    for columns_of, name in identities.items():
        if "reference" not in columns_of and columns_of != DOCUMENT_IDENTITY:  # the old one
            connection.execute(text(f'ALTER TABLE documents DROP CONSTRAINT "{name}"'))
    connection.execute(text("ALTER TABLE documents ALTER COLUMN branch SET DEFAULT ''"))
    connection.execute(text("ALTER TABLE documents ALTER COLUMN branch SET NOT NULL"))
    if DOCUMENT_IDENTITY not in identities:
        connection.execute(text(f"ALTER TABLE documents ADD CONSTRAINT documents_identity "
                                f"UNIQUE ({', '.join(DOCUMENT_IDENTITY)})"))  # fmt: skip


def _lock_key(scope: str) -> int:
    """A signed 64-bit advisory lock key for a scope."""
    return int.from_bytes(hashlib.sha256(scope.encode()).digest()[:8], "big", signed=True)


# SQLite's result codes (the low byte of an extended one) of a journal that is damaged, or
# that cannot be read or written at all: no run can go on on it. The busy and locked codes
# are not among them: the store waits for those and tries again; nor is "cannot open",
# which Journal.open words itself.
SQLITE_DAMAGED = {11: "corrupt", 26: "not a database"}
SQLITE_BROKEN = {3: "permission", 8: "read-only", 10: "I/O error", 13: "disk full"}


def _check_sqlite(engine, url: str) -> None:
    """JournalError when SQLite's quick check finds the journal file damaged, before a run
    reads or writes anything in it: a damaged page may be met only halfway through a run,
    or never by its writes, which would go on into a damaged file. It reads the whole file
    (0.17 s for a year of a big branch's documents, 130 MB). Runs opening an older journal
    at the same instant take turns as `_create_tables` does: switching it to WAL on connect
    wants it alone, and SQLite answers "locked" at once rather than wait."""
    for attempt in range(10):
        try:
            with engine.connect() as connection:
                found = connection.exec_driver_sql("PRAGMA quick_check(1)").scalar()
            break
        except OperationalError:  # busy or locked (damage is a JournalError: _journal_errors)
            if attempt == 9:
                raise
            time.sleep(0.05 * (attempt + 1))
    if found != "ok":
        detail = str(found).strip().splitlines()[-1]
        raise JournalError(f"the journal {journal_name(url)} is damaged (SQLite's check of it "
                           f"says: {detail}); nothing was done: {RESTORE}")  # fmt: skip


RESTORE = "restore the file from a copy (a backup) and run again"


def _journal_errors(url: str):
    """A handle_error listener: a database error that leaves no run a way on (a damaged
    or unreadable SQLite file, a lost connection) becomes a JournalError naming the journal,
    in the driver's words only; the store handles the others (a busy journal, a race)."""
    name = journal_name(url)

    def handle(context) -> None:
        error = context.original_exception
        code = getattr(error, "sqlite_errorcode", None)
        code = None if code is None else code & 0xFF
        message = _driver_message(error)
        if code in SQLITE_DAMAGED:
            raise JournalError(f"the journal {name} is damaged ({message}): {RESTORE}")
        if code in SQLITE_BROKEN or context.is_disconnect:
            raise JournalError(f"the journal {name} cannot be read or written ({message})")

    return handle


def _driver_message(error: BaseException) -> str:
    """What the database driver said, without SQLAlchemy's statement, parameters and link."""
    error = getattr(error, "orig", None) or error
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 30000")  # two runs at once wait for each other
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _insert_many(connection, table: Table, fixed: Mapping[str, object],
                 names: Sequence[str], rows: Sequence[tuple]) -> None:  # fmt: skip
    """Insert `rows` (tuples of the `names` columns' values: text and integers, which their
    types pass to the driver as they are), each with the values `fixed`, through the
    driver's executemany.

    SQLAlchemy's own executemany builds and processes a parameter set per row in Python,
    some 17 µs a row: 2.5 s for the 150,000 rows of a million-row ledger's month-end, three
    times what the driver and the database take. Here only the fixed values go through the
    columns' types (a date and time as the dialect stores it); the statement is SQLAlchemy's,
    compiled for the connection's dialect.
    """
    dialect = connection.dialect
    for name in names:
        if table.c[name].type.dialect_impl(dialect).bind_processor(dialect) is not None:
            raise TypeError(f"{table.name}.{name} needs its type's processing per row")
    bound = {}
    for name, value in fixed.items():
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        bound[name] = value if process is None else process(value)
    statement = insert(table).compile(dialect=dialect, column_keys=[*fixed, *names])
    if statement.positional:  # (SQLite) a tuple per row, in the statement's column order
        given = [*bound, *names]
        pick = itemgetter(*(given.index(key) for key in statement.positiontup))
        constants = tuple(bound.values())
        parameters = [pick(constants + row) for row in rows]
    else:
        parameters = [{**bound, **dict(zip(names, row, strict=True))} for row in rows]
    connection.exec_driver_sql(str(statement), parameters)


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value in (None, "") else Decimal(value)

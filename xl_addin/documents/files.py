"""File names safe on every system, and writing a document without ever replacing one.

A document is synced to disk before the journal records it. One document at a time,
`write_new` syncs it; a run writing many (`write_new(..., sync=False)`) syncs a batch
at once with `sync_files`, which lets the disk take the batch's flushes together
instead of waiting for each in turn.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from xl_addin.errors import DocumentError

# Bidirectional controls go too: a right-to-left override shows "invoice\u202efdp.exe" as
# "invoiceexe.pdf", a file name that lies about its type.
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+')
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
             *(f"lpt{i}" for i in range(1, 10))}  # fmt: skip


def safe_file_name(text: str, max_length: int = 120) -> str:
    """A file name stem from free text: no path tricks, no characters Windows refuses.

    Chinese and other letters are kept; separators, control characters, leading
    dots and trailing dots or spaces go; Windows' reserved names get a suffix.
    """
    name = _UNSAFE.sub("_", text)
    name = re.sub(r"\s+", " ", name).strip(" .")
    name = re.sub(r"_+", "_", name).lstrip("._") or "document"
    if name.split(".")[0].casefold() in _RESERVED:
        name += "_"
    encoded = name.encode("utf-8")[:max_length]  # file systems count bytes
    return encoded.decode("utf-8", errors="ignore").rstrip(" .") or "document"


CUSTOMER_NAME_BYTES = 48  # of a file name's 120: the reference and the step always fit


def document_stem(customer_id: str, name: str, what: str) -> str:
    """The name a document's file carries after its reference: `C009 Acme Ltd Demand letter`,
    `C001 上海华信贸易有限公司 催款函`: the customer, then what the document is, named in
    its language. A long customer name is shortened, never the step's name."""
    short = name.encode("utf-8")[:CUSTOMER_NAME_BYTES].decode("utf-8", errors="ignore")
    return " ".join(part for part in (customer_id, short.strip(), what) if part)


def write_new(path: Path, data: bytes, *, sync: bool = True) -> Path:
    """Write `path` complete or not at all, and never over an existing file (DocumentError).

    With sync=False the bytes are not flushed to disk: the caller syncs them
    (`sync_files`) before relying on them. Until then a power cut may leave the file
    short, never another file replaced.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # fails if `path` exists: nothing issued is replaced
        except FileExistsError as error:
            raise DocumentError(f"{path} already exists; it was not replaced") from error
        except OSError:  # file systems without hard links
            if path.exists():
                raise DocumentError(f"{path} already exists; it was not replaced") from None
            os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


SYNC_THREADS = 8  # flushes in flight at once: the disk commits them together


def sync_files(paths: Iterable[Path]) -> None:
    """Flush the files' bytes and their folders' entries to disk (OSError if one fails)."""
    paths = list(paths)
    if not paths:
        return
    folders = list(dict.fromkeys(Path(p).parent for p in paths))
    with ThreadPoolExecutor(min(SYNC_THREADS, len(paths))) as pool:
        list(pool.map(_sync_file, paths))  # list(): an error in any thread is raised here
    for folder in folders:
        _sync_folder(folder)


def _sync_file(path: Path) -> None:
    # Opened for writing: Windows flushes only handles that may write.
    descriptor = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync_folder(folder: Path) -> None:
    """Make the folder's new entries durable (POSIX; Windows has no folder handle to flush)."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

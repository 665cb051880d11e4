"""File names safe on every system, and writing a document without ever replacing one."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from xl_addin.errors import DocumentError

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')
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


def write_new(path: Path, data: bytes) -> Path:
    """Write `path` complete or not at all, and never over an existing file (DocumentError)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as handle:
            handle.write(data)
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

"""PDF through LibreOffice headless, when it is installed: many files per call, a worker per core.

Each worker runs its own soffice with its own profile folder, because two
instances sharing a profile refuse to start. Without LibreOffice the .docx files
stay and DocumentError says so.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from xl_addin.errors import DocumentError

TIMEOUT_PER_FILE = 60  # seconds
_CANDIDATES = (
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
)


def soffice() -> str | None:
    """The LibreOffice program, or None."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    return found or next((c for c in _CANDIDATES if Path(c).exists()), None)


RESTART = 81  # soffice.bin's "start me again" (what oosplash does for it)


def _office_binary(program: str) -> str:
    """LibreOffice's own program beside its launcher, where there is one (Linux): `soffice`
    is a script that starts `oosplash`, which starts `soffice.bin` as a child of its own;
    run directly, soffice.bin itself dies with the run (see `_die_with_parent`), so a
    killed run leaves no converter writing into (and re-creating) its output folder."""
    binary = Path(os.path.realpath(program)).with_name("soffice.bin")
    return str(binary) if sys.platform.startswith("linux") and binary.is_file() else program


def to_pdf(
    paths: Sequence[Path],
    out_dir: Path,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Path]:
    """Convert .docx files to PDF in `out_dir`; return the PDFs in the order given."""
    program = soffice()
    if program is None:
        raise DocumentError(
            "PDF needs LibreOffice, which is not installed; the .docx files are kept "
            "(install LibreOffice, or print them to PDF from Word)"
        )
    if not paths:
        return []
    program = _office_binary(program)
    workers = max(1, min(workers or os.cpu_count() or 1, len(paths)))
    batches = [list(paths[i::workers]) for i in range(workers)]

    def convert(batch: list[Path]) -> None:
        # LibreOffice writes into a hidden folder beside the PDFs; each finished PDF then
        # takes its name at once: a run killed mid-conversion leaves no half-written PDF
        # under a PDF's name (the next run removes the folder: services.issuing).
        with tempfile.TemporaryDirectory(prefix="xl-addin-lo-") as profile, \
                tempfile.TemporaryDirectory(prefix=".~pdf-", dir=out_dir) as made:  # fmt: skip
            command = [
                program, "--headless", "--norestore",
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--convert-to", "pdf", "--outdir", made, *map(str, batch),
            ]  # fmt: skip
            try:
                for _ in range(3):  # soffice.bin asks to be started again (81) on a new profile
                    done = subprocess.run(command, capture_output=True, check=False,
                                          timeout=TIMEOUT_PER_FILE * len(batch) + 60,
                                          preexec_fn=_die_with_parent())  # fmt: skip
                    if done.returncode != RESTART:
                        break
            except subprocess.TimeoutExpired as error:
                raise DocumentError(
                    f"LibreOffice did not finish converting {batch[0].name} ..."
                ) from error
            for path in batch:
                pdf = Path(made) / (path.stem + ".pdf")
                if pdf.exists():
                    _sync(pdf)
                    os.replace(pdf, out_dir / pdf.name)
        if progress:
            progress(len(batch))

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(convert, batches))
    pdfs = [out_dir / (p.stem + ".pdf") for p in paths]
    missing = [p.name for p in pdfs if not p.exists()]
    if missing:
        raise DocumentError(f"LibreOffice made no PDF of {', '.join(missing[:5])}")
    return pdfs


def _sync(path: Path) -> None:
    """Flush a PDF's bytes before it takes its name (a power cut leaves it whole or absent)."""
    descriptor = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _die_with_parent():
    """On Linux, a LibreOffice that is killed with the run that started it (a run killed
    mid-conversion must not leave a converter writing into the folder the next run
    cleans); elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None

    def set_death_signal() -> None:
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    return set_death_signal

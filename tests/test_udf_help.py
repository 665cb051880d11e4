"""What Excel's Insert Function dialog is given: a description for every function, help for
every argument.

xlwings turns a UDF's docstring into its description and each `@xw.arg(..., doc=...)` into
its argument's help (Application.MacroOptions, 255 characters each, when it imports the
functions). Its decorators only record them on Windows with pywin32, so the metadata is
read in a process of its own under xlwings' real decorators (xl_addin.vba_wrapper).
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

from xl_addin import udfs

DUMP = """
import json
from xl_addin.vba_wrapper import decorated_udfs
module = decorated_udfs()
print(json.dumps({
    f.__xlfunc__["name"]: {
        "description": f.__xlfunc__["ret"]["doc"],
        "args": {a["name"]: a["doc"] for a in f.__xlfunc__["args"] if not a["vba"]},
    }
    for f in vars(module).values() if hasattr(f, "__xlfunc__")
}))
"""
CONTRACT = {"age_days", "age_bucket", "credit_headroom", "credit_status", "escalation_stage",
            "late_interest", "expected_recovery", "amount_in_words"}  # fmt: skip
MACRO_OPTIONS_LIMIT = 255


@pytest.fixture(scope="module")
def functions() -> dict[str, dict]:
    done = subprocess.run([sys.executable, "-c", DUMP], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_every_function_excel_gets_has_a_description(functions):
    assert functions.keys() >= CONTRACT
    for name, function in functions.items():
        description = function["description"]
        assert not description.startswith("Python function "), name  # xlwings' stand-in text
        assert description.strip() and "\n" not in description.strip(), name
        assert len(description) <= MACRO_OPTIONS_LIMIT, name


def test_every_argument_has_help_and_they_are_the_functions_own(functions):
    for name, function in functions.items():
        parameters = list(inspect.signature(getattr(udfs, name)).parameters)
        assert list(function["args"]) == parameters, name
        for argument, doc in function["args"].items():
            assert not doc.startswith("Positional argument"), (name, argument)  # xlwings' default
            assert doc.strip() and len(doc) <= MACRO_OPTIONS_LIMIT, (name, argument)

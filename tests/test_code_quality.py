"""The house rule "ruff and mypy clean", checked on the whole tree so a lapse fails the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The tools installed next to the interpreter running the tests: the project's venv.
BIN = Path(sys.executable).parent


def _assert_clean(tool: str, *args: str) -> None:
    executable = BIN / tool
    assert executable.exists(), f"{tool} is not installed in {BIN}"
    # Under the suite's 300 s per-test timeout, so a hang reports as this tool's.
    result = subprocess.run([str(executable), *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=280, check=False)
    if result.returncode != 0:
        pytest.fail(f"{tool} {' '.join(args)}: not clean\n{result.stdout}{result.stderr}",
                    pytrace=False)


def test_ruff_finds_nothing() -> None:
    _assert_clean("ruff", "check", ".")


@pytest.mark.slow
def test_mypy_finds_nothing() -> None:
    _assert_clean("mypy", "core", "plugins", "kiosk", "loadtests", "tests")

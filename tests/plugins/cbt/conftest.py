"""Fixtures of the CBT tests: the ``ruang`` command run in-process on the test instance."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import point_cli_at

DATA = Path(__file__).parent / "data"


@pytest.fixture
def ruang_cli(instance: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """``ruang_cli("cbt", "import", ...)`` runs the real command line on the test instance."""
    from core.cli import cli

    point_cli_at(instance, monkeypatch)
    monkeypatch.setenv("RUANG_JOBS", "false")
    cli._app = None

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    try:
        yield run
    finally:
        if cli._app is not None:
            cli._app.extensions["ruang"].db.dispose()
        cli._app = None

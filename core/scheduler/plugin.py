"""Background jobs as a core plugin: the ``job_leases`` table and the ``jobs`` command.

The loop itself lives in :mod:`core.jobs`; this plugin owns the table it claims runs in.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.plugins import hookimpl
from core.scheduler.models import JobLease

HERE = Path(__file__).parent


@hookimpl
def ruang_models() -> Sequence[type]:
    return [JobLease]


@hookimpl
def ruang_migrations() -> str:
    return str(HERE / "migrations")


@hookimpl
def ruang_cli_commands() -> Sequence[Any]:
    from core.scheduler.cli import jobs

    return [jobs]

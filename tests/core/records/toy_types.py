"""A plugin that declares record types the way procedure plugins do, for the records tests.

It lives in a module of its own so that worker processes started with ``spawn`` can
import it and build the same app as the test.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.contracts import RecordType
from core.plugins import hookimpl

TYPES = (
    RecordType("BA", "Berita acara", "BA-{seq:02d}/{unit}/{year}", "yearly"),
    RecordType("TIKET", "Nomor tiket", "T{year}{month:02d}-{seq:04d}", "monthly"),
    RecordType("SRT", "Surat pengajuan", "{seq:03d}/{unit}/{roman_month}/{year}", "monthly"),
    RecordType("SOP", "Dokumen SOP", "SOP-{seq}", "never"),
)


class RecordTypesPlugin:
    RUANG_PLUGIN_NAME = "toyrecords"

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def ruang_record_types(self) -> Sequence[RecordType]:
        self.calls += 1
        return list(TYPES)


def make_app(instance: str | Path, database_url: str = "") -> Any:
    """The app a test (or a worker process) uses: the real core plus this plugin."""
    from core.app import create_app
    from tests.conftest import make_settings, prepare_test_app

    overrides = {"database_url": database_url} if database_url else {}
    settings = make_settings(Path(instance), **overrides)
    return prepare_test_app(create_app(settings, extra_plugins=[RecordTypesPlugin()]))

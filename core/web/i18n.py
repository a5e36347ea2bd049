"""Babel catalogues: the core's and each plugin's, compiled to ``.mo`` when they change.

Compiled catalogues are build products, so they are written to the instance folder rather
than committed; a catalogue is recompiled only when its ``.po`` is newer than its ``.mo``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core.config import Settings
from core.plugins import PluginHost

CORE_TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def compiled_translation_dirs(settings: Settings, host: PluginHost) -> list[str]:
    sources: list[tuple[str, Path]] = [("core", CORE_TRANSLATIONS)]
    for impl in host.all_hook.ruang_translations.get_hookimpls():
        folder = impl.function()
        if folder:
            sources.append((impl.plugin_name, Path(folder)))
    out: list[str] = []
    for name, src in sources:
        if not src.is_dir():
            continue
        dest = settings.instance / "i18n" / name
        for po_path in src.glob("*/LC_MESSAGES/*.po"):
            mo_path = dest / po_path.relative_to(src).with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as fh:
                catalog = read_po(fh)
            # Several server processes may start at once: each writes its own temporary
            # file and renames it into place, so none ever reads a half-written catalogue.
            fd, tmp_name = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
            with os.fdopen(fd, "wb") as fh:
                write_mo(fh, catalog)
            Path(tmp_name).replace(mo_path)
        if dest.is_dir():
            out.append(str(dest))
    return out


def N_(message: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """Mark ``message`` for translation without translating it yet.

    For strings defined at import time (setting descriptions, labels in constants) and
    translated with ``_()`` where they are shown; ``scripts/i18n-update`` extracts them.
    """
    return message

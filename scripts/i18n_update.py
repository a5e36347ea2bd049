"""Extract UI messages and update the Babel catalogues (``id`` and ``en``).

Run through ``scripts/i18n-update [NAME...]``. Each catalogue covers one source folder:

* ``core`` -> ``core/translations``: everything under ``core/`` except the areas that keep
  their own catalogue (a folder with ``translations/``, such as ``core/records``);
* every ``core/<area>/translations`` and ``plugins/<name>/translations``.

Messages are English msgids; Indonesian is the default language, so after an update the
script lists the Indonesian entries still untranslated. Compiling is not needed: Ruang
compiles ``.po`` files into the instance folder when it starts.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("id", "en")
KEYWORDS = ("_", "gettext", "ngettext:1,2", "lazy_gettext", "_l", "N_")


@dataclass(frozen=True)
class Catalogue:
    name: str
    source: Path
    translations: Path
    ignore: tuple[str, ...] = ()


def catalogues() -> list[Catalogue]:
    own = sorted(p.parent for p in (ROOT / "core").glob("*/translations") if p.is_dir())
    found = [Catalogue("core", ROOT / "core", ROOT / "core" / "translations",
                       tuple(f"{p.name}/**" for p in own))]
    found += [Catalogue(p.name, p, p / "translations") for p in own]
    plugins = sorted(p.parent for p in (ROOT / "plugins").glob("*/translations") if p.is_dir())
    found += [Catalogue(p.name, p, p / "translations") for p in plugins]
    return found


def pybabel(*args: str) -> None:
    exe = Path(sys.executable).parent / "pybabel"
    subprocess.run([str(exe), "-q", *args], check=True, cwd=ROOT)  # noqa: S603 - our own arguments


def update(cat: Catalogue) -> list[str]:
    """Extract, then update or create each language; return the untranslated msgids."""
    base = (ROOT / "babel.cfg").read_text(encoding="utf-8")
    extra = "".join(f"[ignore: {pattern}]\n" for pattern in cat.ignore)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "babel.cfg"
        # Ignore sections must come before the patterns that would match the same files.
        cfg.write_text(extra + base, encoding="utf-8")
        pot = Path(tmp) / "messages.pot"
        keywords = [arg for kw in KEYWORDS for arg in ("-k", kw)]
        pybabel("extract", "-F", str(cfg), *keywords, "--no-location", "--sort-output",
                "--project", "ruang", "--msgid-bugs-address", "bpti@localhost",
                "-o", str(pot), str(cat.source))
        for lang in LANGUAGES:
            po = cat.translations / lang / "LC_MESSAGES" / "messages.po"
            if po.exists():
                pybabel("update", "-i", str(pot), "-d", str(cat.translations), "-l", lang,
                        "--no-fuzzy-matching", "--ignore-obsolete", "--no-wrap")
            else:
                pybabel("init", "-i", str(pot), "-d", str(cat.translations), "-l", lang,
                        "--no-wrap")
    po = cat.translations / "id" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh)
    return [str(m.id) for m in catalog if m.id and (not m.string or m.fuzzy)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="catalogues to update (default: all)")
    args = parser.parse_args()
    known = {c.name: c for c in catalogues()}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown catalogue(s) {', '.join(unknown)}; known: {', '.join(known)}")
    missing_total = 0
    for name in args.names or list(known):
        cat = known[name]
        missing = update(cat)
        missing_total += len(missing)
        rel = cat.translations.relative_to(ROOT)
        print(f"{name}: {rel} updated, {len(missing)} Indonesian entries to translate")
        for msgid in missing:
            print(f"    {msgid!r}")
    return 1 if missing_total else 0


if __name__ == "__main__":
    sys.exit(main())

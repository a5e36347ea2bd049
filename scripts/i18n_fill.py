"""Fill a catalogue's empty translations from a Python dict file: for translators' batches.

    .venv/bin/python scripts/i18n_fill.py core/translations/id/LC_MESSAGES/messages.po T.py

``T.py`` defines ``T = {msgid: translation}``. Existing translations are kept unless
``--overwrite``; placeholders (``%(name)s``) must match or the entry is refused.
"""

from __future__ import annotations

import argparse
import re
import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*[^}]*\}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("po", type=Path)
    parser.add_argument("table", type=Path)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    table: dict[str, str] = runpy.run_path(str(args.table))["T"]
    with args.po.open("rb") as fh:
        catalog = read_po(fh)
    bad = 0
    for message in catalog:
        if not message.id or message.id not in table:
            continue
        new = table[message.id]
        if sorted(PLACEHOLDER.findall(str(message.id))) != sorted(PLACEHOLDER.findall(new)):
            print(f"placeholders differ, skipped: {message.id!r} -> {new!r}", file=sys.stderr)
            bad += 1
            continue
        if message.string and not args.overwrite:
            continue
        message.string = new
        message.flags.discard("fuzzy")
    with args.po.open("wb") as fh:
        write_po(fh, catalog, width=0, omit_header=False)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``ruang`` console script.

``ruang serve`` must monkey-patch the standard library for gevent (or eventlet) before
anything else imports it, so this module imports nothing of Ruang until it has decided.
"""

from __future__ import annotations

import os
import sys


def _patch_for_async_mode() -> None:
    mode = os.environ.get("RUANG_ASYNC_MODE", "gevent")
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    elif mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        _patch_for_async_mode()
    from core.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()

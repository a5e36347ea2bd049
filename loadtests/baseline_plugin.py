"""The acknowledge-only handler: the socket stack's own limit, for the load test's baseline.

A plugin like any third party's, found through the ``ruang.plugins`` entry-point group only
when the load test puts :func:`install` 's site folder on ``PYTHONPATH`` of the server it
starts; nothing in the product imports it. It registers one event, ``loadtest_ack``, on
the exam namespace the kiosks are connected to (same connections, same Socket.IO server,
same core gate: plugin enabled, payload validated), and acknowledges without doing
anything else. The load test sends it the
same payloads and the same number of kiosks as the answers, so the ratio of the two
throughputs says how much of the stack's capacity the answer path leaves unused.

The namespace is the exam protocol's, ``/exam``, unless ``RUANG_LOADTEST_NAMESPACE`` names
another.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.contracts import SocketHandler
from core.plugins import hookimpl

EVENT = "loadtest_ack"
DIST_NAME = "ruang-loadtest-baseline"
VERSION = "1.0"


class AckIn(BaseModel):
    """Shaped like an answer message: validation costs the same order as the real one."""

    model_config = ConfigDict(extra="allow")

    seq: int = Field(default=0, ge=0)


class BaselinePlugin:
    RUANG_PLUGIN_NAME = "loadtest_baseline"
    VERSION = VERSION

    @hookimpl
    def ruang_socket_handlers(self) -> Sequence[SocketHandler]:
        namespace = os.environ.get("RUANG_LOADTEST_NAMESPACE", "/exam")
        return [SocketHandler(EVENT, self._ack, namespace=namespace, schema=AckIn)]

    def _ack(self, payload: AckIn) -> dict[str, Any]:
        return {"ok": True, "seq": payload.seq}


plugin = BaselinePlugin()


def install(site: Path) -> Path:
    """Write the distribution's metadata into ``site`` (what ``pip install`` would leave) and
    return ``site``; put it and the repository on the server's ``PYTHONPATH``."""
    info = site / f"{DIST_NAME.replace('-', '_')}-{VERSION}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {DIST_NAME}\nVersion: {VERSION}\n")
    (info / "entry_points.txt").write_text(
        "[ruang.plugins]\nloadtest_baseline = loadtests.baseline_plugin:plugin\n")
    return site

"""Background jobs: placeholder until the scheduler lands."""

from __future__ import annotations

from typing import Any


def start_scheduler(app: Any) -> None:
    """Start the periodic job runner in this process."""

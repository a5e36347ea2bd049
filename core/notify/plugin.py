"""The notify area as a core plugin."""

from __future__ import annotations

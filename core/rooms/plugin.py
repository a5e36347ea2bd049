"""The rooms area as a core plugin."""

from __future__ import annotations

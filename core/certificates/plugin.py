"""Certificates as a core plugin: the register of issued certificates and the public check."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.certificates.models import MODELS
from core.plugins import hookimpl

HERE = Path(__file__).parent


@hookimpl
def ruang_models() -> Sequence[type]:
    return MODELS


@hookimpl
def ruang_migrations() -> str:
    return str(HERE / "migrations")


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from core.certificates.views import bp

    return [bp]


@hookimpl
def ruang_translations() -> str:
    return str(HERE / "translations")

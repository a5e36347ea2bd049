"""placeholder"""
from typing import Any


def widgets(user: Any, session: Any) -> list[Any]:
    return []

"""The plugin API stays documented and tested: a hook without either fails here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core import hookdocs, hookspecs

TESTS = Path(__file__).resolve().parent.parent


def _test_names() -> set[str]:
    names: set[str] = set()
    for path in TESTS.rglob("test_*.py"):
        names.update(re.findall(r"^def (test_hook_\w+)", path.read_text(encoding="utf-8"), re.M))
    return names


@pytest.mark.parametrize("name", hookspecs.HOOK_NAMES)
def test_every_hook_is_typed_and_says_when_it_fires(name):
    fn = getattr(hookspecs, name)
    doc = inspect.cleandoc(fn.__doc__ or "")
    assert len(doc) > 80, f"{name} needs a docstring that says when it fires and what it returns"
    assert re.search(r"\b(Fires|Called)\b", doc), f"{name}'s docstring must say when it fires"
    sig = inspect.signature(fn)
    assert sig.return_annotation is not inspect.Signature.empty, f"{name} has no return type"
    for param in sig.parameters.values():
        assert param.annotation is not inspect.Parameter.empty, f"{name}({param.name}) untyped"


def test_docs_hook_reference_matches_the_code():
    text = hookdocs.DOC.read_text(encoding="utf-8")
    assert hookdocs.current_section(text) == hookdocs.render(), (
        "docs/plugins.md is out of date: run `python -m core.hookdocs --write`"
    )


@pytest.mark.parametrize("name", hookspecs.HOOK_NAMES)
def test_every_hook_has_a_test(name):
    assert f"test_hook_{name}" in _test_names(), (
        f"write a test named test_hook_{name} that shows {name} working"
    )

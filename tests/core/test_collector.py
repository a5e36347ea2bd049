"""The server's garbage collection on a clock: what was built at start is frozen, the
allocator no longer collects the oldest generation, and the pacer does, when it is due."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from core.collector import NEVER, CollectionPacer, pace


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector can free it


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_cycles_in_the_oldest_generation_wait_for_the_pacer(restore_gc):
    pacer = CollectionPacer(full_every_s=300)
    pacer.take_over()
    assert gc.get_freeze_count() > 0 and gc.get_threshold()[2] == NEVER

    node = Node()
    gone = weakref.ref(node)
    gc.collect(1)  # survives twice while referenced: now in the oldest generation
    gc.collect(1)
    del node
    gc.collect(1)  # a young collection does not look at it
    assert gone() is not None

    assert not pacer.tick(now=pacer.last_full + 299)  # not yet due
    assert gone() is not None
    assert pacer.tick(now=pacer.last_full + 300)
    assert gone() is None and pacer.full_collections == 1


def test_zero_keeps_cpythons_own_schedule(restore_gc):
    before = gc.get_threshold()
    started: list[object] = []
    assert pace(0, started.append, lambda s: None) is None
    assert gc.get_threshold() == before and not started


def test_pace_starts_its_loop_on_the_event_loop(restore_gc):
    started: list[object] = []
    pacer = pace(60, started.append, lambda s: None)
    assert pacer is not None and len(started) == 1 and callable(started[0])
    assert gc.get_threshold()[2] == NEVER

"""The import's two helper threads (gateway/registry/pipeline.py): reading ahead keeps order, hands the
source's error over and stops when left early; the writer writes in order and, after a failure, drops
the rest and raises it to the caller (whose transaction then rolls back)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from gateway.registry.pipeline import Prefetched, Writer


def test_reading_ahead_keeps_the_order_and_raises_the_sources_error() -> None:
    with Prefetched(iter(range(50)), depth=2) as items:
        assert list(items) == list(range(50))

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("row 2 unreadable")

    seen: list[int] = []
    with pytest.raises(ValueError, match="row 2"), Prefetched(failing()) as items:
        seen.extend(items)
    assert seen == [1]


def test_leaving_early_stops_the_reading_thread() -> None:
    produced: list[int] = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    before = threading.active_count()
    with Prefetched(endless(), depth=2) as items:
        for item in items:
            if item == 3:
                break
    assert threading.active_count() == before  # joined on leaving
    assert len(produced) <= 4 + 2 + 1  # read ahead by the queue's depth and one more at most


def test_the_writer_writes_in_order_and_raises_the_first_failure() -> None:
    written: list[int] = []
    writer: Writer[int] = Writer(written.append)
    for n in range(20):
        writer.submit(n)
    writer.finish()
    assert written == list(range(20))

    def write(n: int) -> None:
        if n == 2:
            raise RuntimeError("unique violation")
        written.append(n)

    written.clear()
    failing: Writer[int] = Writer(write)
    with pytest.raises(RuntimeError, match="unique"):
        for n in range(100):
            failing.submit(n)  # raises once the writer has met its failure
        failing.finish()
    failing.close()
    assert written == [0, 1]  # nothing written after the failure

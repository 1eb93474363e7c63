"""Overlapping a teacher import's work with PostgreSQL's: a thread that reads and hashes the next
chunks of the file while this one is checked, and a thread that writes a checked chunk (COPY, on the
import's one write transaction) while the next is checked on a second, read-only connection. Python
holds one core, PostgreSQL the other; each waits for the other only when a bounded queue is empty or
full."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")
_END = object()


class Prefetched(Generic[T]):
    """Iterate `source` on a thread, at most `depth` items ahead of the consumer. An error of the
    source is raised to the consumer in its place; leaving the `with` early stops the thread (it checks
    before each hand-over, and the queue is drained so a blocked hand-over returns: at most one more)."""

    def __init__(self, source: Iterator[T], depth: int = 2) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(source,), name="registry-read", daemon=True)

    def _run(self, source: Iterator[T]) -> None:
        try:
            for item in source:
                if self._stop.is_set():
                    return
                self._queue.put(item)
        except BaseException as exc:  # handed to the consumer, raised there
            self._error = exc
        if not self._stop.is_set():
            self._queue.put(_END)

    def __enter__(self) -> Prefetched[T]:
        self._thread.start()
        return self

    def __iter__(self) -> Iterator[T]:
        while (item := self._queue.get()) is not _END:
            yield item  # type: ignore[misc]
        if self._error is not None:
            raise self._error

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        while True:  # free a hand-over blocked on a full queue; the thread then sees the stop
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join()


class Writer(Generic[T]):
    """Run `write` on each submitted item on one thread, in order, at most one item queued behind the
    one being written. After a failure the rest are dropped and the error is raised by the next
    `submit` or by `finish`, so the caller's transaction rolls back."""

    def __init__(self, write: Callable[[T], None]) -> None:
        self._write = write
        self._queue: queue.Queue[object] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="registry-write", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not _END:
            if self._error is None:
                try:
                    self._write(item)  # type: ignore[arg-type]
                except BaseException as exc:  # raised in the caller's thread
                    self._error = exc

    def submit(self, item: T) -> None:
        self._raise()
        self._queue.put(item)

    def finish(self) -> None:
        """Wait for every submitted item to be written (or the first failure, raised here)."""
        self.close()
        self._raise()

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_END)
            self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

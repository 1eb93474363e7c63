"""A bounded, thread-safe memo of values computed from hashable inputs: the least recently used out past
`size`. The inputs are the whole key: a value computed from other inputs is computed again, so nothing
has to be invalidated (the suppression patterns, the published coverage answers)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class _Key:
    """Inputs hashed once (a lookup and the LRU's reordering would hash them again)."""

    __slots__ = ("inputs", "hashed")

    def __init__(self, inputs: Hashable) -> None:
        self.inputs, self.hashed = inputs, hash(inputs)

    def __hash__(self) -> int:
        return self.hashed

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and self.hashed == other.hashed and self.inputs == other.inputs


class Lru(Generic[T]):
    """Values by the inputs they were computed from. Shared by the threads of the process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[_Key, T] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, inputs: Hashable, compute: Callable[[], T]) -> T:
        key = _Key(inputs)
        with self._lock:
            found = self._values.get(key)
            if found is not None:
                self._values.move_to_end(key)
                self.hits += 1
                return found
        value = compute()  # outside the lock: two threads may compute the same value, alike
        with self._lock:
            self.misses += 1
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self.hits = self.misses = 0

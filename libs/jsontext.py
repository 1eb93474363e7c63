"""The one way JSON from outside is parsed: a depth limit before `json.loads`, so a body nested
thousands deep is a clear error instead of a RecursionError, and nothing deeper than any real
document (a course, a statement, a credential) is stored for a later reader to choke on."""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 32  # the deepest real documents (a course draft, an xAPI statement) nest about 10 levels
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


class TooDeep(ValueError):
    """The document nests arrays and objects deeper than allowed."""


def depth(text: str | bytes) -> int:
    """How deep arrays and objects nest, brackets inside strings not counted (linear, no recursion)."""
    raw = text.encode() if isinstance(text, str) else text
    brackets = _STRING.sub(b"", raw).translate(None, delete=_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads` refusing documents nested deeper than `max_depth` (TooDeep, a ValueError, like
    any other JSON that cannot be read)."""
    found = depth(text)
    if found > max_depth:
        raise TooDeep(f"it nests {found} levels deep; at most {max_depth} are allowed")
    return json.loads(text)

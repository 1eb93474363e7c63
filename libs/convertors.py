"""Path convertors of every route (registered when `libs` is imported, before any route is built).

- `int` is Starlette's, bounded to nine digits: `/versions/36893488147419103231` matches no route
  (404) instead of overflowing a database integer (a 500 the fuzz run found).
- `path_choice(name, choices)` registers a segment that is one of a few names, so a route
  `/x/{kind}` (POST) and its sibling `/x/{id}` (GET) answer different URLs, each URL one set of methods.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.convertors import IntegerConvertor, StringConvertor, register_url_convertor

INT_DIGITS = 9
INT_MAX = 10**INT_DIGITS - 1


class BoundedIntegerConvertor(IntegerConvertor):
    regex = f"[0-9]{{1,{INT_DIGITS}}}"


class ChoiceConvertor(StringConvertor):
    choices: tuple[str, ...] = ()


def path_choice(name: str, choices: Sequence[str]) -> str:
    """Register a ChoiceConvertor: `{kind:<name>}` in a route's path matches only `choices`."""
    regex = "|".join(re.escape(c) for c in choices)
    convertor = type(f"{name}_convertor", (ChoiceConvertor,), {"regex": regex, "choices": tuple(choices)})
    register_url_convertor(name, convertor())
    return name


register_url_convertor("int", BoundedIntegerConvertor())

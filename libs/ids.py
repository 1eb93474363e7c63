"""One rule for identifiers that reach another service's URL or a query: course, version, lesson and
quiz ids, framework codes, institute ids, key ids. Letters, digits and `_ ~ : @ + = , . -`, 1 to
200 characters, never `.` or `..`: nothing that changes a URL's structure (no `/`, `?`, `#`, `%`),
no white space, no control character."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

from libs.errors import NotFound

PATTERN = r"^[A-Za-z0-9_~:@+=,.-]{1,200}$"
_ID = re.compile(PATTERN)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
Identifier = Annotated[str, StringConstraints(pattern=PATTERN)]


class InvalidIdentifier(NotFound):
    """No resource can have this id, so there is nothing at a path built from it."""


def is_identifier(value: str) -> bool:
    return bool(_ID.fullmatch(value)) and value not in (".", "..")


def identifier(value: str, what: str = "id") -> str:
    """`value` if it is an identifier, else a 404 problem naming `what`."""
    if not is_identifier(value):
        raise InvalidIdentifier(f"There is no {what} {value[:80]!r}.")
    return value


def has_control_characters(text: str) -> bool:
    """C0 and C1 controls, DEL and lone surrogates: nothing a real path or id holds (PostgreSQL refuses
    NUL outright, and a tab or a newline in a path is how the redirect and log-forging tricks start)."""
    return _CONTROL.search(text) is not None

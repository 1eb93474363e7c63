"""xAPI 1.0.3 data types as pure checks (Data 4): IRIs, UUIDs, language tags, timestamps, durations,
mailto IRIs, SHA-1/SHA-2 sums, Internet media types. Each returns a bool or a parsed value."""

from __future__ import annotations

import functools
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

SCHEME_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
UUID_FORM = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAILTO = re.compile(r"^mailto:[^@\s:/]+@[^@\s/]+\.[^@\s/]+$|^mailto:[^@\s:/]+@[^@\s/.]+$")
SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
SHA2 = re.compile(r"^[0-9a-fA-F]{56}$|^[0-9a-fA-F]{64}$|^[0-9a-fA-F]{96}$|^[0-9a-fA-F]{128}$")
MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+\-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+\-]*(\s*;.*)?$")
VERSION = re.compile(r"^1\.0(\.\d+)?$")

# RFC 5646 language tags (the "langtag" production, plus private use and the grandfathered forms).
_LANGTAG = (
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4}|[A-Za-z]{5,8})"  # language (+ extlang)
    r"(?:-[A-Za-z]{4})?"  # script
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"  # variants
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[A-Za-z0-9]{1,8})+)?"  # private use
)
LANGUAGE_TAG = re.compile(rf"^(?:{_LANGTAG}|x(?:-[A-Za-z0-9]{{1,8}})+|i-[A-Za-z]{{2,8}})$")

TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$"
    r"|^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(?:(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?:\d{2})?)?$"
)
_NUMBER = r"\d+(?:[.,]\d+)?"
DURATION = re.compile(
    rf"^P(?!$)(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}D)?(?:T(?=\d)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$"
    rf"|^P{_NUMBER}W$"
)


# Verbs, activities, language tags and mailboxes repeat from statement to statement: the checks of
# the last few thousand short strings are kept (pure functions of the string; longer ones are not
# remembered, so a client cannot fill the memory with them).
MEMO_CHARS = 512


class _Remembered:
    """`pattern` matched against a string, the answers for the last `size` short strings kept."""

    def __init__(self, pattern: re.Pattern[str], size: int) -> None:
        self.pattern = pattern
        self.short = functools.lru_cache(maxsize=size)(self._match)

    def _match(self, value: str) -> bool:
        return bool(self.pattern.match(value))

    def __call__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        return self.short(value) if len(value) <= MEMO_CHARS else self._match(value)


is_iri = _Remembered(SCHEME_IRI, 8192)
is_language_tag = _Remembered(LANGUAGE_TAG, 1024)
is_mailto = _Remembered(MAILTO, 8192)


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and bool(UUID_FORM.match(value))


def canonical_uuid(value: str) -> str:
    if UUID_FORM.match(value):  # the standard form (all is_uuid accepts): its lower case
        return value.lower()
    return str(uuid.UUID(value))


def is_sha1(value: object) -> bool:
    return isinstance(value, str) and bool(SHA1.match(value))


def is_sha2(value: object) -> bool:
    return isinstance(value, str) and bool(SHA2.match(value))


def is_media_type(value: object) -> bool:
    return isinstance(value, str) and bool(MEDIA_TYPE.match(value))


def is_duration(value: object) -> bool:
    return isinstance(value, str) and bool(DURATION.match(value))


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime for an ISO 8601 date-time (extended or basic), else None. A missing offset
    is UTC; the offsets -00, -0000 and -00:00 mean "unknown" in RFC 3339 and are refused (Data 4.5)."""
    if not isinstance(value, str):
        return None
    match = TIMESTAMP.match(value)
    if match is None:
        return None
    groups = match.groups()
    year, month, day, hour, minute, second, fraction, offset = (
        groups[:8] if groups[0] is not None else groups[8:]
    )
    if offset and offset.startswith("-") and set(offset[1:].replace(":", "")) == {"0"}:
        return None
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int(((fraction or "") + "000000")[:6]),
            tzinfo=_zone(offset),
        )
    except ValueError:
        return None
    return moment.astimezone(UTC)


def _zone(offset: str | None) -> timezone:
    if not offset or offset == "Z":
        return UTC
    digits = offset[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    return timezone(delta if offset[0] == "+" else -delta)


def iso(moment: datetime) -> str:
    """UTC in ISO 8601 with the moment's full precision (microseconds when it has them), as the LRS
    writes `stored`."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

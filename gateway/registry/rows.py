"""What both imports share: a rejected row (row number, column, reason), an import's outcome and its
one summary line, and the field checks (names, codes, e-mail, phone)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

ERRORS_KEPT = 10_000  # rejected rows kept in full per run; the counts are always complete
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
# Letters of any script, with the spaces, hyphens, apostrophes and dots names have; never a leading
# = + - @, so no cell of an export can be read as a spreadsheet formula.
NAME = re.compile(r"[^\W\d_](?:[^\W\d_]|[ .'’-])*", re.UNICODE)
EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")
PHONE = re.compile(r"\+?[0-9]{7,15}")
SUBJECT = re.compile(r"[^\W_](?:[\w .'’/-])*", re.UNICODE)
_PHONE_NOISE = re.compile(r"[\s()\-.]")
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{1,79}")
Progress = Callable[[str, int, int], None]


def no_progress(phase: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str
    code: str = "invalid"  # invalid | duplicate | unknown | conflict

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "reason": self.reason, "code": self.code}


@dataclass
class Outcome:
    """What an import did (or, for a dry run, would do). When any row is rejected nothing is written:
    then created/updated/unchanged are 0 and `would` says what the other rows would have done."""

    kind: str
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    would: dict[str, int] = field(default_factory=dict)
    problem: str | None = None  # the file as a whole was refused

    def reject(self, error: RowError) -> None:
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(error)

    def summary(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"rejected {self.rejected}"
        )

    def nothing_written(self) -> None:
        """Rows were rejected: keep what the others would have done, and report that nothing was."""
        self.would = {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}
        self.created = self.updated = self.unchanged = 0


def cell(cells: list[str], index: dict[str, int], column: str) -> str:
    position = index.get(column)
    if position is None or position >= len(cells):
        return ""
    return cells[position].strip()


def check_name(value: str, column: str, row: int, required: bool, errors: list[RowError]) -> str:
    if not value:
        if required:
            errors.append(RowError(row, column, "is required"))
        return value
    if value.isalpha() and len(value) <= 100:
        return value  # one word of letters: NAME matches it (letters are neither digits nor "_")
    value = " ".join(value.split())
    if len(value) > 100:
        errors.append(RowError(row, column, "is longer than 100 characters"))
    elif not NAME.fullmatch(value):
        errors.append(RowError(row, column, "may hold letters, spaces, hyphens, apostrophes and dots only"))
    return value


def normalize_phone(value: str) -> str:
    return value if value.isdigit() else _PHONE_NOISE.sub("", value)

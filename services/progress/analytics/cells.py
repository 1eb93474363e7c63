"""What one enrolment and one teacher contribute to the rollup cells: pure functions of their facts.

- an enrolment contributes, for each funnel stage it reached, 1 to the cell (org unit, institute,
  course, language, week of that stage, stage) of *every* org unit on its path (country, region,
  district, school); `started` = the first statement about the course (or the completion, if
  earlier), `completed` = the completion row, `certified` = the first certificate issued for the
  (teacher, course). Its days to completion go into `rollup_durations` the same way;
- a teacher contributes 1 to each stage any of their enrolments reached, at every level of the
  path of their latest enrolment (`rollup_funnel_totals`: distinct teachers);
- a teacher contributes, for each indicator with graded evidence, 1 to (org unit, indicator,
  rating) on every level of their org path (the path of the enrolment of their latest graded
  submission), and for each competency (the indicator code without its last ".n" part: the
  framework's code convention) the weakest rating of its evidenced indicators.

rollups.py moves the difference between what was counted and what is wanted into the tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypedDict

from libs.db import as_utc
from services.progress import competency
from services.progress.analytics.schemas import STAGES

CellKey = tuple[Any, ...]
Cell = tuple[CellKey, int]  # (key, level of its org unit)
FUNNEL_KEY = ("org_unit", "institute_id", "course_id", "language", "week", "stage")
MONTH_KEY = ("org_unit", "institute_id", "course_id", "language", "month", "stage")
TOTALS_KEY = ("org_unit", "stage")
DURATION_KEY = ("org_unit", "institute_id", "course_id", "days")
ATTAINMENT_KEY = ("org_unit", "kind", "code", "rating")
KEYS = {
    "funnel": FUNNEL_KEY,
    "months": MONTH_KEY,
    "totals": TOTALS_KEY,
    "durations": DURATION_KEY,
    "attainment": ATTAINMENT_KEY,
}
DAYS = tuple(f"{stage}_on" for stage in STAGES)  # the day (UTC) of each stage
FACT_FIELDS = ("org_path", "institute_id", "course_id", "language", *STAGES, "days_to_complete", *DAYS)


class EnrolmentLike(Protocol):
    """An enrolment row or the columns of one (recompute reads columns, not objects)."""

    @property
    def id(self) -> str: ...
    @property
    def org_path(self) -> str: ...
    @property
    def institute_id(self) -> str: ...
    @property
    def course_id(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def enrolled_at(self) -> datetime: ...


class Facts(TypedDict):
    """What the rollups count for one enrolment (a row of `rollup_enrolment_facts`)."""

    org_path: str
    institute_id: str
    course_id: str
    language: str
    enrolled: date | None
    started: date | None
    completed: date | None
    certified: date | None
    days_to_complete: int | None
    enrolled_on: date | None
    started_on: date | None
    completed_on: date | None
    certified_on: date | None


class TeacherTotals(TypedDict):
    """What the totals count for one teacher (a row of `rollup_teacher_facts`)."""

    org_path: str
    enrolled: bool
    started: bool
    completed: bool
    certified: bool


def _aware(moment: Any) -> datetime | None:
    return None if moment is None else as_utc(moment)


def week_of(moment: datetime) -> date:
    """The Monday (UTC) of the ISO week of `moment`."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def day_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def month_of(day: date) -> date:
    """The first day of the calendar month of `day`."""
    return day.replace(day=1)


def units_of(org_path: str) -> list[tuple[str, int]]:
    """(code, level) of every org unit on a path, country first."""
    return [(code, level) for level, code in enumerate(org_path.split("/")) if code]


def enrolment_facts(
    enrolment: EnrolmentLike,
    started_at: datetime | None,
    completed_at: datetime | None,
    certified_at: datetime | None,
) -> Facts:
    enrolled_at = as_utc(enrolment.enrolled_at)
    started_at, completed_at, certified_at = _aware(started_at), _aware(completed_at), _aware(certified_at)
    if completed_at is not None and (started_at is None or completed_at < started_at):
        started_at = completed_at
    days = max(0, (completed_at - enrolled_at).days) if completed_at is not None else None
    return {
        "org_path": enrolment.org_path,
        "institute_id": enrolment.institute_id,
        "course_id": enrolment.course_id,
        "language": enrolment.language,
        "enrolled": week_of(enrolled_at),
        "started": week_of(started_at) if started_at else None,
        "completed": week_of(completed_at) if completed_at else None,
        "certified": week_of(certified_at) if certified_at else None,
        "days_to_complete": days,
        "enrolled_on": day_of(enrolled_at),
        "started_on": day_of(started_at) if started_at else None,
        "completed_on": day_of(completed_at) if completed_at else None,
        "certified_on": day_of(certified_at) if certified_at else None,
    }


def funnel_cells(facts: Facts) -> Iterator[Cell]:
    for code, level in units_of(facts["org_path"]):
        for stage in STAGES:
            week = facts[stage]
            if week is not None:
                yield (code, facts["institute_id"], facts["course_id"], facts["language"], week, stage), level


def month_cells(facts: Mapping[str, Any]) -> Iterator[Cell]:
    """The calendar-month cells of an enrolment (none for facts counted before days were kept)."""
    for code, level in units_of(facts["org_path"]):
        for stage in STAGES:
            day = facts.get(f"{stage}_on")
            if day is not None:
                yield (
                    (
                        code,
                        facts["institute_id"],
                        facts["course_id"],
                        facts["language"],
                        month_of(day),
                        stage,
                    ),
                    level,
                )


def teacher_totals(
    enrolments: Sequence[EnrolmentLike], facts: Sequence[Mapping[str, object]]
) -> TeacherTotals | None:
    """One teacher's contribution to the totals: the path of their latest enrolment (by time, then
    id) and, per stage, whether any of their counted enrolments reached it."""
    if not enrolments:
        return None
    latest = max(enrolments, key=lambda e: (as_utc(e.enrolled_at), e.id))
    return {
        "org_path": latest.org_path,
        "enrolled": any(f["enrolled"] is not None for f in facts),
        "started": any(f["started"] is not None for f in facts),
        "completed": any(f["completed"] is not None for f in facts),
        "certified": any(f["certified"] is not None for f in facts),
    }


def total_cells(teacher: TeacherTotals | None) -> Iterator[Cell]:
    if teacher is None:
        return
    for code, level in units_of(teacher["org_path"]):
        for stage in STAGES:
            if teacher[stage]:
                yield (code, stage), level


def duration_cells(facts: Facts) -> Iterator[Cell]:
    if facts["days_to_complete"] is None:
        return
    for code, level in units_of(facts["org_path"]):
        yield (code, facts["institute_id"], facts["course_id"], facts["days_to_complete"]), level


def competency_of(indicator: str) -> str:
    return indicator.rsplit(".", 1)[0]


def teacher_ratings(found: dict[str, list[bool]]) -> dict[tuple[str, str], str]:
    """(kind, code) -> rating, for indicators with evidence and their competencies."""
    out: dict[tuple[str, str], str] = {}
    for code, results in found.items():
        if not results:
            continue
        rating = competency.rate(results)
        out[("indicator", code)] = rating
        key = ("competency", competency_of(code))
        if key not in out or competency.ORDER[rating] < competency.ORDER[out[key]]:
            out[key] = rating
    return out


def attainment_cells(org_path: str, ratings: dict[tuple[str, str], str]) -> Iterator[Cell]:
    for code, level in units_of(org_path):
        for (kind, item), rating in ratings.items():
            yield (code, kind, item, rating), level


class Deltas:
    """Count changes per table and cell: what to add to each cell's count."""

    def __init__(self) -> None:
        self.by_table: dict[str, dict[CellKey, list[int]]] = defaultdict(dict)

    def add(self, table: str, cells: Iterable[Cell], sign: int) -> None:
        target = self.by_table[table]
        for key, level in cells:
            entry = target.setdefault(key, [level, 0])
            entry[1] += sign

    def rows(self, table: str, *, ordered: bool = False) -> list[dict[str, Any]]:
        """The non-zero changes as rows of the table ({key columns, level, count}); `ordered` by key,
        so concurrent writers lock cells in the same order."""
        cells: Iterable[tuple[CellKey, list[int]]] = self.by_table[table].items()
        if ordered:
            cells = sorted(cells, key=lambda item: tuple(map(str, item[0])))
        key = KEYS[table]
        return [
            {**dict(zip(key, k, strict=True)), "level": level, "count": delta}
            for k, (level, delta) in cells
            if delta
        ]

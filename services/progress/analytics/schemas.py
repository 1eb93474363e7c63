"""The analytics API's query and reports. A count that would identify fewer than the minimum of
teachers (10) is `null` with `suppressed: true` (shown as "<10"); a count hidden only so that such a
count cannot be worked out is `null` too, and named in `protected` (shown as "*"); see privacy.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

EARLIEST = date(2000, 1, 1)
LONGEST_RANGE = timedelta(days=366 * 10)
Stage = Literal["enrolled", "started", "completed", "certified"]
Rating = Literal["not_yet", "developing", "proficient"]
GroupBy = Literal["org_unit", "course", "language", "institute"]
Table = Literal["funnel", "attainment", "trends", "completion_time", "behind"]
STAGES: tuple[Stage, ...] = get_args(Stage)
RATINGS: tuple[Rating, ...] = get_args(Rating)
CODE = r"^[A-Za-z0-9._-]+$"


class AnalyticsQuery(BaseModel):
    """Filters every analytics endpoint takes. Unknown parameters are refused (422), so a typo in a
    filter never silently widens an answer."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    org: str | None = Field(
        None, max_length=40, pattern=CODE, description="Org-unit code (default: your scope's)"
    )
    course: str | None = Field(None, max_length=36)
    language: str | None = Field(None, max_length=10)
    institute: str | None = Field(None, max_length=36)
    start: date | None = Field(None, alias="from", description="First day of a calendar month")
    end: date | None = Field(None, alias="to", description="Last day of a calendar month")
    group_by: GroupBy = "org_unit"
    interval: Literal["week", "month"] = "month"
    kind: Literal["indicator", "competency"] = "competency"
    level: Literal["region", "district", "school"] = "district"
    limit: int = Field(20, ge=1, le=1_000_000)
    table: Table = "funnel"
    format: Literal["csv", "xlsx"] = "csv"

    @model_validator(mode="after")
    def _range(self) -> AnalyticsQuery:
        latest = datetime.now(UTC).date() + timedelta(days=366)
        for name, value in (("from", self.start), ("to", self.end)):
            if value is not None and not EARLIEST <= value <= latest:
                raise ValueError(f"'{name}' must be between {EARLIEST} and {latest}")
        if self.start is not None and self.start.day != 1:
            raise ValueError(
                f"'from' must be the first day of a month ({self.start.replace(day=1)}): answers are "
                "counted by whole calendar months"
            )
        if self.end is not None and (self.end + timedelta(days=1)).day != 1:
            raise ValueError(
                f"'to' must be the last day of a month ({month_end(self.end)}): answers are counted by "
                "whole calendar months"
            )
        if self.interval == "week":
            raise ValueError(
                "trends are counted by calendar month (interval=month): weeks run over month ends, "
                "and weekly and monthly answers together would single out the days in between"
            )
        if self.start and self.end:
            if self.end < self.start:
                raise ValueError("the date range is inverted: 'to' is before 'from'")
            if self.end - self.start > LONGEST_RANGE:
                raise ValueError("the date range is longer than ten years")
        return self


class CompareQuery(AnalyticsQuery):
    """The comparison's filters: the funnel's, grouped by anything but org units (the funnel's own)."""

    group_by: Literal["course", "language", "institute"] = "course"


def month_end(day: date) -> date:
    """The last day of `day`'s calendar month."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


class Dated(BaseModel):
    """What every report says about its freshness."""

    as_of: datetime | None = Field(
        None,
        description="Data as of: the latest moment the counts are known to include (the newest event "
        "the rollups counted, or the start of the last full recompute, whichever is later); null before "
        "anything was counted",
    )


class UnitRef(BaseModel):
    code: str
    name: str
    kind: str
    level: int


class OrgUnitInfo(UnitRef):
    path: str
    parent: str | None
    ancestors: list[UnitRef] = Field(description="From the top of your jurisdiction down to the parent")
    children: list[UnitRef]


class FunnelRow(BaseModel):
    key: str = Field(
        description="Child org-unit code, course id, language or institute id; '_direct' = in the "
        "unit itself, not in a child unit"
    )
    name: str
    counts: dict[str, int | None]
    suppressed: bool
    protected: list[str] = Field(
        default_factory=list,
        description="stages hidden only so that a small group elsewhere cannot be worked out "
        "(complementary suppression: the count itself is not small); the other hidden ones are under "
        "the minimum cell",
    )
    completion_rate: float | None = Field(description="completed / enrolled, when both are shown")
    drillable: bool = False


class FunnelReport(Dated):
    unit: UnitRef
    group_by: str
    total: dict[str, int | None]
    total_protected: list[str] = Field(
        default_factory=list, description="stages of the total hidden only to protect a small group"
    )
    rows: list[FunnelRow]
    min_cell: int


class AttainmentCellOut(BaseModel):
    org_unit: str
    counts: dict[str, int | None]
    total: int | None
    proficient_share: float | None
    suppressed: bool
    protected: list[str] = Field(
        default_factory=list, description="ratings (or 'total') hidden only to protect a small group"
    )


class AttainmentRow(BaseModel):
    code: str
    cells: list[AttainmentCellOut]
    total: AttainmentCellOut


class AttainmentReport(Dated):
    unit: UnitRef
    kind: str
    units: list[UnitRef]
    rows: list[AttainmentRow]
    min_cell: int


class TrendPoint(BaseModel):
    period: date = Field(description="The first day of the calendar month")
    counts: dict[str, int | None]
    protected: list[str] = Field(
        default_factory=list, description="stages hidden only to protect a small group"
    )


class TrendReport(Dated):
    unit: UnitRef
    interval: str
    start: date
    end: date
    points: list[TrendPoint]
    suppressed: bool
    min_cell: int


class CompletionTimeRow(BaseModel):
    key: str
    name: str
    completed: int | None
    median_days: float | None
    p75_days: float | None
    suppressed: bool
    protected: bool = Field(False, description="completions hidden only to protect a small group")


class CompletionTimeReport(Dated):
    unit: UnitRef
    group_by: str
    total: CompletionTimeRow
    rows: list[CompletionTimeRow]
    min_cell: int


class BehindRow(BaseModel):
    unit: UnitRef
    parent: str | None
    enrolled: int
    completed: int | None
    completion_rate: float | None
    not_completed: int | None


class BehindReport(Dated):
    unit: UnitRef
    level: str
    rows: list[BehindRow]
    left_out: int = Field(
        description="Units not ranked because a count of theirs would be under the minimum cell"
    )
    min_cell: int


Report = FunnelReport | AttainmentReport | TrendReport | CompletionTimeReport | BehindReport

"""The analytics API's query and reports. A count that would identify fewer than the minimum of
teachers (10) is `null` with `suppressed: true` (shown as "<10"); see privacy.py."""

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
    start: date | None = Field(None, alias="from", description="First day (whole ISO weeks are counted)")
    end: date | None = Field(None, alias="to", description="Last day")
    group_by: GroupBy = "org_unit"
    interval: Literal["week", "month"] = "week"
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
        if self.start and self.end:
            if self.end < self.start:
                raise ValueError("the date range is inverted: 'to' is before 'from'")
            if self.end - self.start > LONGEST_RANGE:
                raise ValueError("the date range is longer than ten years")
        return self


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
    rows: list[FunnelRow]
    min_cell: int


class AttainmentCellOut(BaseModel):
    org_unit: str
    counts: dict[str, int | None]
    total: int | None
    proficient_share: float | None
    suppressed: bool


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
    period: date
    counts: dict[str, int | None]
    protected: list[str] = Field(
        default_factory=list,
        description="stages hidden in this period only so that a small period elsewhere cannot be "
        "worked out (the count itself is not small); the other hidden ones are under the minimum cell",
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

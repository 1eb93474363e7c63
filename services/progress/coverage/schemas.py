"""Bodies of the programme and coverage API (read by gateway/web) and of the EMIS export."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.events import EventPayload
from services.progress.analytics.schemas import UnitRef

MEASURES = ("population", "enrolled", "not_started", "completed", "certified")


class ProgrammeFilter(BaseModel):
    """The target population: registry teachers of an org-unit subtree, a subject, an employment (all
    optional; active teachers only). Any other field is a 422."""

    model_config = ConfigDict(extra="forbid")
    org: str | None = Field(default=None, max_length=40, description="org-unit code: its whole subtree")
    subject: str | None = Field(default=None, min_length=1, max_length=60)
    employment: Literal["in_service", "pre_service"] | None = None


class ProgrammeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    course_ids: list[str] = Field(min_length=1, max_length=20)
    target: ProgrammeFilter = Field(default_factory=ProgrammeFilter)
    target_percent: int = Field(default=100, ge=1, le=100)
    deadline: date

    @field_validator("course_ids")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value) or any(not c or len(c) > 36 for c in value):
            raise ValueError("course ids must be distinct and 1-36 characters")
        return value


class ProgrammeView(BaseModel):
    id: str
    title: str
    course_ids: list[str]
    target: ProgrammeFilter
    target_percent: int
    deadline: date
    created_at: datetime
    computed_at: datetime | None


class ProgrammeList(BaseModel):
    items: list[ProgrammeView]


class CoverageRow(BaseModel):
    """One org unit's counts; None = hidden (a group under the privacy threshold, or its complement)."""

    unit: UnitRef
    population: int | None
    enrolled: int | None
    not_started: int | None
    completed: int | None
    certified: int | None
    coverage: float | None = Field(description="completed / population, 0-1")
    remaining: int | None = Field(description="completions still needed to reach the target")


class WeekPoint(BaseModel):
    week: date
    completed: int | None  # completions that week (None: hidden)
    cumulative: int | None


class CoverageReport(BaseModel):
    programme: ProgrammeView
    unit: UnitRef
    total: CoverageRow
    rows: list[CoverageRow]  # the unit's children, in order
    behind: list[CoverageRow]  # the children ranked by coverage, furthest behind first (shown ones)
    trend: list[WeekPoint]
    target: int | None  # teachers who must have completed by the deadline
    per_week_needed: float | None  # completions a week from now to the deadline to reach the target
    weekly_rate: float | None  # completions a week over the last RATE_WEEKS weeks
    projected: date | None  # when the target is reached at that rate (None: never, or hidden)
    on_track: bool | None
    as_of: datetime | None
    threshold: int


class ProgrammeDefined(EventPayload):
    """A programme was defined: compute its coverage now (then every refresh)."""

    topic: ClassVar[str] = "programme.defined"
    programme_id: str


# -- the EMIS export ---------------------------------------------------------------------------------


class TrainingRecord(BaseModel):
    """One completed course of one registry teacher, as the EMIS export gives it (the gateway adds the
    national ID; progress never holds it)."""

    person_id: str
    org_path: str
    course_id: str
    course_title: str
    version: int
    completed_at: datetime
    score: float | None
    certificate_id: str | None
    hours: float | None


class TrainingRecords(BaseModel):
    items: list[TrainingRecord]
    next: str  # `since` for the next page
    more: bool

"""Bodies of the professional-learning API (docs/practice.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, UrlConstraints, model_validator

from libs.events import EventPayload

Text = Field(default="", max_length=4000)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- coaching ---------------------------------------------------------------------------------------


class CoachAppoint(Strict):
    """Appoint a coach (a coordinator: an experienced teacher; an institute admin: a teacher educator)
    and assign them the teachers of a school inside your jurisdiction."""

    user_id: str = Field(min_length=1, max_length=80)
    name: str = Field(default="", max_length=200)
    school: str | None = Field(default=None, min_length=1, max_length=40)
    course_id: str | None = Field(
        default=None, min_length=1, max_length=36, description="a cohort: the teachers enrolled in it"
    )

    @model_validator(mode="after")
    def _one_of(self) -> CoachAppoint:
        if (self.school is None) == (self.course_id is None):
            raise ValueError("name a school or a course (its cohort), not both")
        return self


class CoachPublic(BaseModel):
    user_id: str
    name: str
    kind: str
    schools: list[str]
    courses: list[str] = Field(default_factory=list, description="the cohorts (courses) coached")


class MemberPublic(BaseModel):
    user_id: str
    name: str
    school: str


class MyTeachers(BaseModel):
    """The teachers a coach works with (those of their schools seen by practice)."""

    coach: CoachPublic
    teachers: list[MemberPublic]


class PlanIn(Strict):
    indicators: list[str] = Field(max_length=20)


class Step(Strict):
    text: str = Field(min_length=1, max_length=500)
    due: datetime


class SessionIn(Strict):
    held_on: datetime
    indicators: list[str] = Field(default_factory=list, max_length=20)
    notes: str = Text
    steps: list[Step] = Field(default_factory=list, max_length=10)


class CommentIn(Strict):
    text: str = Field(min_length=1, max_length=2000)


class CommentPublic(BaseModel):
    author_id: str
    text: str
    created_at: datetime


class SessionPublic(BaseModel):
    id: str
    coach_id: str
    held_on: datetime
    indicators: list[str]
    notes: str
    steps: list[Step]
    comments: list[CommentPublic] = []


class PlanPublic(BaseModel):
    teacher_id: str
    coach_id: str | None
    indicators: list[str]
    suggested: list[str] = Field(description="the competency profile's weakest indicators")
    sessions: list[SessionPublic]
    observations: list[ObservationPublic]


# -- observation ------------------------------------------------------------------------------------


class RubricRow(Strict):
    indicator: str = Field(min_length=1, max_length=80)
    title: str = Field(default="", max_length=300)
    levels: list[str] = Field(min_length=2, max_length=6, description="descriptor of level 1, 2, ...")


class FormIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    framework: str = Field(default="UNESCO-ICT-CFT-3", max_length=80)
    rows: list[RubricRow] = Field(min_length=1, max_length=60)
    fields: list[str] = Field(default_factory=list, max_length=10)


class FormPublic(BaseModel):
    id: str
    title: str
    framework: str
    rows: list[RubricRow]
    fields: list[str]


class ObservationIn(Strict):
    """One filled form as a phone queues it: `id` is made on the phone (the idempotency key)."""

    id: uuid.UUID
    form_id: str = Field(max_length=36)
    teacher_id: str = Field(max_length=80)
    observed_on: datetime
    ratings: dict[str, int] = Field(description="indicator -> level (1-based)")
    notes: dict[str, str] = Field(default_factory=dict)


class ObservationPublic(BaseModel):
    id: str
    form_id: str
    teacher_id: str
    observer_id: str
    observer_name: str
    observed_on: datetime
    ratings: dict[str, int]
    notes: dict[str, str]
    follow_up: list[str] = Field(description="low-rated indicators: a coaching step or a course proposed")
    acknowledged_at: datetime | None
    comments: list[CommentPublic] = []


class ObservationsStored(BaseModel):
    ids: list[str]
    new: list[str]


# -- portfolio --------------------------------------------------------------------------------------


class EvidencePublic(BaseModel):
    id: str
    teacher_id: str
    indicator: str
    kind: str
    text: str
    has_image: bool
    consent: bool
    signed_off_by: str | None
    signed_off_at: datetime | None
    created_at: datetime


class Portfolio(BaseModel):
    items: list[EvidencePublic]


# -- webinars and the CPD record --------------------------------------------------------------------


Link = Annotated[HttpUrl, UrlConstraints(max_length=500)]  # http(s) only; practice_webinars' 500


class WebinarIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    starts_at: datetime
    minutes: int = Field(ge=10, le=600)
    link: Link
    recording: Link | None = None


class WebinarPublic(BaseModel):
    id: str
    title: str
    starts_at: datetime
    minutes: int
    link: str
    recording: str
    registered: bool = False
    attended: bool = False


class WebinarList(BaseModel):
    items: list[WebinarPublic]


class RecordingIn(Strict):
    recording: Link


class WebinarRecordingAdded(EventPayload):
    """A past webinar's recording link was added or changed (not emitted when set to the same link):
    its registrants get a notice (progress.notify_webinar_recording), once per link."""

    topic: ClassVar[str] = "webinar.recording_added"
    webinar_id: str
    title: str
    recording: str


class AttendanceIn(Strict):
    user_ids: list[str] = Field(min_length=1, max_length=2000)


class CpdLine(BaseModel):
    kind: str
    title: str
    hours: float
    at: datetime


class Transcript(BaseModel):
    """A teacher's CPD record in the current attestation cycle: hours per activity type."""

    user_id: str
    cycle_start: datetime
    cycle_end: datetime
    required_hours: float
    total_hours: float
    by_kind: dict[str, float]
    lines: list[CpdLine]


class TranscriptFigures(BaseModel):
    """What a signed transcript states (frozen when it was issued)."""

    id: str
    name: str
    issued_at: datetime
    cycle_start: datetime
    cycle_end: datetime
    required_hours: float
    total_hours: float
    by_kind: dict[str, float]


class TranscriptCheck(Strict):
    """What a verifier has: the QR code's signed form, and/or the SHA-256 of a PDF they were given."""

    token: str | None = Field(default=None, max_length=4000)
    pdf_sha256: str | None = Field(default=None, pattern="^[0-9a-f]{64}$")


class TranscriptVerdict(BaseModel):
    status: Literal["valid", "invalid", "unknown"]
    reason: str = Field(description="signature, altered_file, not_issued, issued, signed, unknown")
    transcript: TranscriptFigures | None = Field(
        default=None, description="the figures as issued (also for an altered file: compare them)"
    )


class CpdRecord(BaseModel):
    """One teacher's CPD hours in an attestation cycle, as the EMIS export gives it (the gateway puts
    the national ID in place of the person)."""

    person_id: str
    org_path: str
    hours: dict[str, float] = Field(description="hours per activity type")
    total_hours: float
    met: bool = Field(description="the cycle's required hours reached")


class CpdRecords(BaseModel):
    cycle_start: datetime
    cycle_end: datetime
    required_hours: float
    items: list[CpdRecord]
    next: str = Field(description="`after` for the next page")
    more: bool


# -- communities ------------------------------------------------------------------------------------


class ThreadIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1, max_length=8000)
    language: str = Field(default="ru", max_length=10)


class PostIn(Strict):
    text: str = Field(min_length=1, max_length=8000)
    language: str = Field(default="ru", max_length=10)


class ModerateIn(Strict):
    action: Literal["hide", "lock", "unlock", "feature", "report", "suspend"]
    reason: str = Field(default="", max_length=500)


class MemberModerateIn(Strict):
    action: Literal["suspend", "reinstate"]
    reason: str = Field(default="", max_length=500)


class PostPublic(BaseModel):
    id: str
    author_id: str = Field(default="", description="for moderators only (to suspend the author)")
    author_name: str
    language: str
    text: str
    hidden: bool
    created_at: datetime


class ThreadPublic(BaseModel):
    id: str
    space_id: str
    title: str
    locked: bool
    featured: bool
    posts: list[PostPublic] = []


class SpaceListed(BaseModel):
    id: str
    kind: str
    title: str
    threads: int
    featured: int
    last_at: datetime


class SpaceIndex(BaseModel):
    items: list[SpaceListed]


class SpacePublic(BaseModel):
    id: str
    kind: str
    title: str
    threads: list[ThreadPublic]


# -- the coordinator's dashboard --------------------------------------------------------------------


class CoachingCoverageRow(BaseModel):
    unit: str
    teachers: int | None = Field(description="None: suppressed (a small cell)")
    with_coach: int | None
    sessions_by_month: dict[str, int | None]


class CoachingCoverage(BaseModel):
    scope: str
    rows: list[CoachingCoverageRow]
    min_cell: int


PlanPublic.model_rebuild()


class ObservationCell(BaseModel):
    unit: str
    indicator: str
    observed: int | None = Field(description="teachers observed on the indicator (None: suppressed)")
    met: int | None = Field(description="of them, met it in their latest observation (None: suppressed)")


class ObservationResults(BaseModel):
    scope: str
    cells: list[ObservationCell]
    min_cell: int


class CpdUnitRow(BaseModel):
    unit: str
    teachers: int | None = Field(description="teachers known in the unit (None: suppressed)")
    met: int | None = Field(description="of them, reached the cycle's required hours (None: suppressed)")
    not_met: int | None
    mean_hours: float | None = Field(description="mean CPD hours in the cycle (None: a small unit)")


class CpdByUnit(BaseModel):
    """CPD hours by org unit against the attestation cycle's requirement."""

    scope: str
    cycle_start: datetime
    cycle_end: datetime
    required_hours: float
    rows: list[CpdUnitRow]
    min_cell: int

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from libs.events import EventPayload


class EnrolmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    course_id: str = Field(min_length=1, max_length=36)


class CohortFilter(BaseModel):
    """Registry teachers to enrol by filter: an org-unit subtree (a unit code), a subject, an employment.
    Only active teachers are enrolled; a field the registry does not have is a 422."""

    model_config = ConfigDict(extra="forbid")
    org: str | None = Field(default=None, max_length=40, description="org-unit code: its whole subtree")
    subject: str | None = Field(default=None, max_length=60)
    employment: Literal["in_service", "pre_service"] | None = None


class CohortCreate(BaseModel):
    """A cohort of registry teachers (docs/progress.md, "Cohorts"): by national IDs or by a filter, never
    by names or org units (those come from the registry)."""

    model_config = ConfigDict(extra="forbid")
    course_id: str = Field(min_length=1, max_length=36)
    national_ids: list[str] | None = Field(default=None, min_length=1, max_length=10_000)
    filter: CohortFilter | None = None
    deadline: datetime | None = None
    require_lessons: bool = True

    @field_validator("national_ids")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("a national ID is listed twice")
        return value

    @field_validator("deadline")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("the deadline needs a time zone offset")
        return value.astimezone(UTC) if value is not None else None

    @model_validator(mode="after")
    def _one_of(self) -> CohortCreate:
        if (self.national_ids is None) == (self.filter is None):
            raise ValueError("give either national_ids or filter")
        return self


class CohortMember(BaseModel):
    """A registry teacher as a cohort enrols them: the person (account or registry id), their name and
    org path as the registry has them."""

    person_id: str
    name: str
    org_path: str


class CohortResult(BaseModel):
    course_id: str
    version: int
    deadline: datetime | None
    enrolled: list[str]
    already_enrolled: list[str]


class EnrolmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    course_id: str
    version: int
    course_title: str
    language: str
    status: str
    enrolled_at: datetime
    completed_at: datetime | None
    deadline: datetime | None
    require_lessons: bool = False


class EnrolmentList(BaseModel):
    items: list[EnrolmentPublic]


Answer = str | bool | float | list[str]


class SubmissionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(
        None,
        description="Client-made UUID: resending the same submission is a no-op",
        pattern=r"^[0-9a-fA-F-]{36}$",
    )
    course_id: str = Field(min_length=1, max_length=36)
    quiz_id: str = Field(min_length=1, max_length=80)
    answers: dict[str, Answer] = Field(min_length=1, max_length=200)
    attempt: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="The attempt the answers are for (GET .../attempt gave it with the drawn questions): "
        "409 if that attempt was submitted meanwhile",
    )

    @field_validator("answers")
    @classmethod
    def _not_empty(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("at least one answer is needed")
        return value


class DrawnQuestion(BaseModel):
    """A question an attempt shows, with its options in the order shown."""

    id: str
    options: list[str] = []


class AnswerShown(BaseModel):
    """A question's correct answer, shown only where the quiz's policy allows."""

    correct: list[str] = []  # option ids; "true"/"false"
    value: float | None = None
    tolerance: float = 0.0
    accepted: list[str] = []


class ChosenExplanation(BaseModel):
    option: str
    explanation: str


class QuestionFeedback(BaseModel):
    id: str
    correct: bool
    explanation: str = ""
    chosen: list[ChosenExplanation] = []  # the author's explanation of each option the teacher chose
    answer: AnswerShown | None = None


class AttemptState(BaseModel):
    """A teacher's attempts at one quiz: the next attempt's number and drawn questions, or why none may
    start now (`available_at`: the cool-down ends; `attempts_left` 0: none left)."""

    course_id: str
    quiz_id: str
    attempt: int | None  # the next attempt's number (None: the quiz does not number attempts)
    attempts_used: int
    max_attempts: int | None
    attempts_left: int | None
    available_at: datetime | None
    can_submit: bool
    feedback: str
    questions: list[DrawnQuestion]


class SubmissionPublic(BaseModel):
    """A submission and, once graded, its result as far as the quiz's feedback policy allows: `results`
    and `questions` are None while the policy shows the score only."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    enrolment_id: str
    quiz_id: str
    status: str
    score: float | None
    passed: bool | None
    results: dict[str, Any] | None
    submitted_at: datetime
    graded_at: datetime | None
    attempt: int | None = None
    max_attempts: int | None = None
    attempts_left: int | None = None
    available_at: datetime | None = None
    pass_mark: float | None = None
    feedback: str = "each_attempt"
    questions: list[QuestionFeedback] | None = None


class EvidenceSource(BaseModel):
    """Where a piece of an indicator's evidence came from (shown on the competency profile)."""

    kind: Literal["observation", "evidence"]
    id: str
    by: str = Field(description="the observer, or who signed the evidence off")
    on: datetime
    met: bool


class IndicatorRating(BaseModel):
    code: str
    title: str
    competency: str | None
    aspect: str | None
    rating: Literal["not_yet", "developing", "proficient"]
    evidence: int = Field(description="questions answered that map to this indicator (latest answer each)")
    correct: int
    sources: list[EvidenceSource] = Field(
        default_factory=list, description="observations and signed-off evidence counted (docs/practice.md)"
    )


class NextCourse(BaseModel):
    course_id: str
    title: str
    covers: list[str] = Field(description="indicators, not yet proficient, that the course covers")


class CompetencyProfile(BaseModel):
    framework: str
    title: str
    indicators: list[IndicatorRating]
    competencies: dict[str, str] = Field(description="competency code -> rating of its weakest indicator")
    covered: int
    total: int
    proficient: int
    developing: int
    not_yet: int
    next: list[NextCourse]


Rule = Literal["inactive", "deadline", "certificate", "coaching_step", "webinar", "community_digest", "all"]
Channel = Literal["email", "sms"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")


class ReminderPreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: str | None = Field(None, max_length=10, description="defaults to your account's language")
    time_zone: str = Field("Asia/Almaty", max_length=60)
    quiet_start: str = Field("21:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    quiet_end: str = Field("08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(None, pattern=r"^\+[1-9]\d{6,14}$", description="E.164, e.g. +77011234567")
    channels: list[Channel] = Field(default_factory=lambda: list(CHANNELS), max_length=2)
    unsubscribed: list[Rule] = Field(default_factory=list, max_length=7)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Almaty)") from exc
        return value


class ReminderPreferencesPublic(ReminderPreferencesIn):
    model_config = ConfigDict(from_attributes=True)
    language: str | None = None


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    channel: str
    status: str
    attempts: int
    sent_at: datetime | None


class InboxItem(BaseModel):
    id: str
    rule: str
    course_id: str
    subject: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None
    deliveries: list[DeliveryPublic]


class InboxPage(BaseModel):
    items: list[InboxItem]
    unread: int


class UnsubscribeQuery(BaseModel):
    token: str = Field(min_length=1, max_length=2000, description="The signed token of the reminder's link")


class Unsubscribed(BaseModel):
    user_id: str
    unsubscribed: list[str]


class CourseProgress(BaseModel):
    enrolment: EnrolmentPublic
    lessons_total: int
    lessons_viewed: int
    quizzes_total: int
    quizzes_passed: int
    percent: int
    results: list[SubmissionPublic] = Field(description="your submissions in this course, newest first")


class MyProgress(BaseModel):
    items: list[CourseProgress]


class TeacherProgress(BaseModel):
    user_id: str
    name: str
    org_path: str
    status: str
    percent: int
    lessons_viewed: int
    quizzes_passed: int
    deadline: datetime | None
    completed_at: datetime | None
    enrolled_by: str | None


class CohortProgress(BaseModel):
    course_id: str
    lessons_total: int
    quizzes_total: int
    teachers: list[TeacherProgress]


# -- event payloads this service emits (libs/events.py: who consumes them) -------------------------


class SubmissionReceived(EventPayload):
    topic: ClassVar[str] = "submission.received"
    submission_id: str
    requeued: bool = False


class SubmissionGraded(EventPayload):
    topic: ClassVar[str] = "submission.graded"
    submission_id: str
    user_id: str
    course_id: str
    version: int
    quiz_id: str
    score: float
    passed: bool
    org_path: str
    graded_at: datetime


class EnrolmentCreated(EventPayload):
    topic: ClassVar[str] = "enrolment.created"
    enrolment_id: str
    course_id: str
    user_id: str
    org_path: str
    enrolled_by: str | None = None


class EnrolmentStarted(EventPayload):
    """The teacher's earliest learning record of a course (docs/analytics.md)."""

    topic: ClassVar[str] = "enrolment.started"
    user_id: str
    course_id: str
    stored: datetime


class CourseCompleted(EventPayload):
    topic: ClassVar[str] = "course.completed"
    enrolment_id: str
    user_id: str
    user_name: str = ""
    course_id: str
    version: int
    course_title: str
    language: str
    institute_id: str
    org_path: str
    indicators: list[str] = []
    framework: str = ""  # the competency framework (its code) the indicators are from, if known
    completed_at: datetime

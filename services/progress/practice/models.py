"""Tables of professional learning (docs/practice.md), in the progress service's metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field

from libs.db import UTCDateTime
from libs.outbox import utcnow
from services.progress.models import Base, new_id


def _at() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Member(Base, table=True):
    """A teacher as practice knows them: their school and org path, copied from their token whenever
    they use practice (tokens carry the registry's path; no other service's table is read)."""

    __tablename__ = "practice_members"
    user_id: str = Field(primary_key=True, max_length=80)
    name: str = Field(default="", max_length=200)
    school: str = Field(index=True, max_length=40)
    org_path: str = Field(index=True, max_length=400)
    seen_at: datetime = _at()


class Coach(Base, table=True):
    """A coach: an institute's teacher educator, or an experienced teacher a coordinator appointed."""

    __tablename__ = "practice_coaches"
    user_id: str = Field(primary_key=True, max_length=80)
    name: str = Field(default="", max_length=200)
    kind: str = Field(max_length=20)  # educator | teacher
    institute_id: str | None = Field(default=None, max_length=36)
    appointed_by: str = Field(max_length=80)
    appointed_at: datetime = _at()


class Assignment(Base, table=True):
    """A coach works with the teachers of a school (by its org-unit code)."""

    __tablename__ = "practice_assignments"
    __table_args__ = (UniqueConstraint("coach_id", "school"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    coach_id: str = Field(index=True, max_length=80)
    school: str = Field(index=True, max_length=40)
    org_path: str = Field(index=True, max_length=400)  # the school's path (for the coordinator's scope)
    assigned_by: str = Field(max_length=80)
    assigned_at: datetime = _at()


class Plan(Base, table=True):
    """A teacher's coaching plan: the indicators to work on."""

    __tablename__ = "practice_plans"
    teacher_id: str = Field(primary_key=True, max_length=80)
    coach_id: str = Field(max_length=80)
    indicators: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _at()


class CoachingSession(Base, table=True):
    __tablename__ = "practice_sessions"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    teacher_id: str = Field(index=True, max_length=80)
    coach_id: str = Field(index=True, max_length=80)
    held_on: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    indicators: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    notes: str = Field(default="", max_length=4000)
    # [{text, due}] agreed next steps; each becomes a reminder for the teacher and the coach
    steps: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _at()


class Comment(Base, table=True):
    """The teacher's (or coach's) comment on something written about the teacher."""

    __tablename__ = "practice_comments"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    subject: str = Field(index=True, max_length=60)  # session:<id> | observation:<id> | evidence:<id>
    author_id: str = Field(max_length=80)
    text: str = Field(max_length=2000)
    created_at: datetime = _at()


class ObservationForm(Base, table=True):
    """An institute's rubric: rows are framework indicators with level descriptors; free-text fields."""

    __tablename__ = "practice_forms"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    institute_id: str | None = Field(default=None, max_length=36)
    title: str = Field(max_length=300)
    framework: str = Field(max_length=80)
    # [{indicator, title, levels: [descriptor, ...]}] (level n is the n-th descriptor, 1-based)
    rows: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=80)
    created_at: datetime = _at()


class Observation(Base, table=True):
    """A submitted observation; its id is the phone's (stored once however often it is resent)."""

    __tablename__ = "practice_observations"
    id: str = Field(primary_key=True, max_length=36)
    form_id: str = Field(index=True, max_length=36)
    teacher_id: str = Field(index=True, max_length=80)
    observer_id: str = Field(index=True, max_length=80)
    observer_name: str = Field(default="", max_length=200)
    observed_on: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ratings: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))  # indicator -> level
    notes: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    digest: str = Field(max_length=64)
    follow_up: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    stored: datetime = _at()


class Evidence(Base, table=True):
    """A portfolio item a teacher attaches to an indicator; counts once a coach or assessor signs off."""

    __tablename__ = "practice_evidence"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    teacher_id: str = Field(index=True, max_length=80)
    indicator: str = Field(max_length=80)
    kind: str = Field(max_length=20)  # reflection | lesson_plan | photo
    text: str = Field(default="", max_length=8000)
    image: bytes | None = None  # re-encoded JPEG, small for 2G
    consent: bool = False  # the teacher confirmed consent for an image of students
    signed_off_by: str | None = Field(default=None, max_length=80)
    signed_off_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = _at()


class Webinar(Base, table=True):
    __tablename__ = "practice_webinars"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    institute_id: str | None = Field(default=None, max_length=36)
    title: str = Field(max_length=300)
    starts_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    minutes: int
    link: str = Field(max_length=500)  # the deployment's BigBlueButton or Jitsi room
    recording: str = Field(default="", max_length=500)
    created_by: str = Field(max_length=80)


class Registration(Base, table=True):
    __tablename__ = "practice_registrations"
    webinar_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(primary_key=True, max_length=80)
    attended: bool = False
    language: str = Field(default="", max_length=10)  # the teacher's, for the reminder before the start
    registered_at: datetime = _at()


class CpdEntry(Base, table=True):
    """One activity counted in the CPD record; its key makes each activity count once."""

    __tablename__ = "practice_cpd"
    key: str = Field(primary_key=True, max_length=120)  # e.g. webinar:<id>, observation:<id>
    user_id: str = Field(index=True, max_length=80)
    kind: str = Field(max_length=30)  # course | webinar | observation | evidence | featured
    title: str = Field(max_length=300)
    hours: float
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Space(Base, table=True):
    __tablename__ = "practice_spaces"
    id: str = Field(primary_key=True, max_length=120)  # <kind>:<ref>, e.g. competency:TL.KA
    kind: str = Field(max_length=20)  # course | competency | cluster
    title: str = Field(max_length=300)


class Thread(Base, table=True):
    __tablename__ = "practice_threads"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    space_id: str = Field(index=True, max_length=120)
    title: str = Field(max_length=300)
    author_id: str = Field(max_length=80)
    locked: bool = False
    featured: bool = False  # a moderator featured it as best practice
    created_at: datetime = _at()


class Post(Base, table=True):
    __tablename__ = "practice_posts"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    thread_id: str = Field(index=True, max_length=36)
    author_id: str = Field(max_length=80)
    author_name: str = Field(default="", max_length=200)
    language: str = Field(default="en", max_length=10)
    text: str = Field(max_length=8000)
    hidden: bool = False
    reports: int = 0
    created_at: datetime = _at()


class ModerationEntry(Base, table=True):
    """The audit trail of moderation: who reported, hid, locked or featured what, and when."""

    __tablename__ = "practice_moderation"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    actor_id: str = Field(max_length=80)
    action: str = Field(max_length=20)  # report | hide | lock | unlock | feature | suspend | reinstate
    target: str = Field(max_length=100)  # thread:<id> | post:<id> | member:<user id>
    reason: str = Field(default="", max_length=500)
    at: datetime = _at()


class TranscriptRecord(Base, table=True):
    """A signed CPD transcript as issued (its figures frozen): what its verification link answers."""

    __tablename__ = "practice_transcripts"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    user_id: str = Field(index=True, max_length=80)
    name: str = Field(default="", max_length=200)
    digest: str = Field(max_length=64)  # of the figures: the same figures again reuse the record
    cycle_start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    cycle_end: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    required_hours: float
    total_hours: float
    by_kind: dict[str, float] = Field(sa_column=Column(JSON, nullable=False))
    token: str = Field(max_length=4000)  # the figures signed (EdDSA JWS): the QR code's payload
    issued_at: datetime = _at()


class TranscriptFile(Base, table=True):
    """The SHA-256 of each PDF rendered of a transcript (one per language): an uploaded PDF verifies
    only if it is byte for byte one of them."""

    __tablename__ = "practice_transcript_files"
    sha256: str = Field(primary_key=True, max_length=64)
    transcript_id: str = Field(index=True, max_length=36)


class Suspension(Base, table=True):
    """A member a moderator suspended from the communities: they read, but cannot post (403)."""

    __tablename__ = "practice_suspensions"
    user_id: str = Field(primary_key=True, max_length=80)
    by: str = Field(max_length=80)
    reason: str = Field(default="", max_length=500)
    at: datetime = _at()


class CohortAssignment(Base, table=True):
    """A coach works with a cohort: the teachers an institute enrolled in one of its courses."""

    __tablename__ = "practice_cohort_assignments"
    __table_args__ = (UniqueConstraint("coach_id", "course_id"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    coach_id: str = Field(index=True, max_length=80)
    course_id: str = Field(index=True, max_length=36)
    institute_id: str = Field(max_length=36)  # the course's institute: its enrolments are the cohort
    assigned_by: str = Field(max_length=80)
    assigned_at: datetime = _at()

"""Enrolments, quiz submissions and completions. A teacher's enrolment pins a course version."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Index, Table, Text, UniqueConstraint, false, inspect, text
from sqlmodel import Field, SQLModel

from libs.db import UTCDateTime, table_registry
from libs.outbox import outbox_tables, utcnow


class Base(SQLModel, registry=table_registry()):
    """This service's tables, in their own metadata: one service's tables never leak into another's."""


outbox, processed_events = outbox_tables(Base.metadata)


def table_of(model: type[Base]) -> Table:
    """The Core table of a table class, for bulk statements (SQLModel hides `__table__` from the checker)."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


def new_id() -> str:
    return str(uuid.uuid4())


class Enrolment(Base, table=True):
    __tablename__ = "enrolments"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    user_id: str = Field(index=True, max_length=80)
    user_name: str = Field(default="", max_length=200)
    course_id: str = Field(index=True, max_length=36)
    version: int
    course_title: str = Field(max_length=300)
    language: str = Field(max_length=10)
    institute_id: str = Field(index=True, max_length=36)
    # The teacher's org-unit codes from the country down, joined by "/", copied from the token at
    # enrolment: dashboards aggregate by it without reading the gateway's tables.
    org_path: str = Field(index=True, max_length=400)
    status: str = Field(default="active", max_length=20)  # active | completed
    enrolled_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    deadline: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Completion rule: every lesson of the pinned version viewed (an `experienced` statement) as
    # well as every quiz passed. Cohort enrolments set it; self-enrolment takes the setting.
    require_lessons: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    enrolled_by: str | None = Field(default=None, max_length=80)  # the institute admin of a cohort enrolment

    __table_args__ = (UniqueConstraint("user_id", "course_id"),)


class AnswerKeyCache(Base, table=True):
    """Answer keys fetched from the courses service, once per immutable (course, version)."""

    __tablename__ = "answer_keys"
    course_id: str = Field(primary_key=True, max_length=36)
    version: int = Field(primary_key=True)
    key: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class Submission(Base, table=True):
    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_pending", "status", "submitted_at"),
        # A quiz with a policy numbers its attempts (ADR 0022): one row per number, so concurrent
        # submissions cannot exceed the limit; the attempts of one quiz are one index range.
        UniqueConstraint("enrolment_id", "quiz_id", "attempt", name="uq_submissions_attempt"),
    )
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    enrolment_id: str = Field(foreign_key="enrolments.id", index=True, max_length=36)
    user_id: str = Field(index=True, max_length=80)
    quiz_id: str = Field(max_length=80)
    # 1, 2, ... for a quiz whose policy limits attempts, has a cool-down or draws per attempt; None
    # otherwise (NULLs never collide in the unique constraint).
    attempt: int | None = None
    answers: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="received", max_length=20)  # received | graded
    score: float | None = None
    passed: bool | None = None
    results: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    submitted_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    graded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Last time the sweeper re-enqueued it (a worker died holding its message); see requeue_stale.
    requeued_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class Completion(Base, table=True):
    __tablename__ = "completions"
    enrolment_id: str = Field(foreign_key="enrolments.id", primary_key=True, max_length=36)
    user_id: str = Field(index=True, max_length=80)
    course_id: str = Field(index=True, max_length=36)
    version: int
    org_path: str = Field(index=True, max_length=400)
    completed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Statement(Base, table=True):
    """One xAPI 1.0.3 statement, append-only: rows are never updated except `voided`, which a later
    voiding statement sets (the voiding statement itself is the record of that change). The one store
    of the LRS (/xapi, docs/lrs.md) and of the phone pages' records alike."""

    __tablename__ = "statements"
    id: str = Field(primary_key=True, max_length=36)
    # The store: the institute whose LRS clients wrote or may read it ("" for the platform's own).
    store: str = Field(default="", max_length=36, sa_column_kwargs={"server_default": ""})
    # The teacher it is about (docs/lrs.md "Attribution"); None for an actor the platform does not know.
    user_id: str | None = Field(default=None, max_length=80)
    course_id: str | None = Field(default=None, max_length=36)
    verb: str = Field(sa_column=Column(Text, nullable=False))
    activity_id: str = Field(sa_column=Column(Text, nullable=False))  # the object's id
    # The statement as stored and returned: the client's, plus `stored`, `authority` and `version`.
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # sha256 of the client's part: a resent id with the same digest is a no-op, another is 409.
    digest: str = Field(max_length=64)
    timestamp: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    stored: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    future_timestamp: bool = False
    voided: bool = False
    voids: str | None = Field(default=None, max_length=36)
    ref_id: str | None = Field(default=None, max_length=36)  # a StatementRef object's target
    registration: str | None = Field(default=None, max_length=36)
    # Who wrote it: "phone" (the teacher's pages), "grader", or "client:<LRS client id>".
    source: str = Field(default="phone", max_length=50, sa_column_kwargs={"server_default": "phone"})

    # (user, course, stored): an enrolment's first record is one index probe (rollups), where the
    # course index alone made SQLite read every statement of the course. The teacher indexes are
    # partial: most statements an LRS stores are about nobody on the platform and cost them nothing.
    __table_args__ = (
        Index(
            "ix_statements_user_stored",
            "user_id",
            "stored",
            "id",
            postgresql_where=text("user_id IS NOT NULL"),
            sqlite_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "ix_statements_user_course_stored",
            "user_id",
            "course_id",
            "stored",
            postgresql_where=text("user_id IS NOT NULL"),
            sqlite_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "ix_statements_course_id",
            "course_id",
            postgresql_where=text("course_id IS NOT NULL"),
            sqlite_where=text("course_id IS NOT NULL"),
        ),
        Index("ix_statements_store_stored", "store", "stored", "id"),
        Index(
            "ix_statements_ref",
            "ref_id",
            postgresql_where=text("ref_id IS NOT NULL"),
            sqlite_where=text("ref_id IS NOT NULL"),
        ),
    )


class ReminderPreferences(Base, table=True):
    """How a teacher wants reminders: language, time zone and quiet hours, contacts, opt-outs."""

    __tablename__ = "reminder_preferences"
    user_id: str = Field(primary_key=True, max_length=80)
    language: str = Field(default="en", max_length=10)
    time_zone: str = Field(default="Asia/Almaty", max_length=60)
    quiet_start: str = Field(default="21:00", max_length=5)  # local HH:MM; may wrap past midnight
    quiet_end: str = Field(default="08:00", max_length=5)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    channels: list[str] = Field(
        default_factory=lambda: ["email", "sms"], sa_column=Column(JSON, nullable=False)
    )
    unsubscribed: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Reminder(Base, table=True):
    """One reminder: it is the in-app inbox message, and its deliveries go out by e-mail and SMS.
    The unique key makes "at most one per rule per period" a database fact."""

    __tablename__ = "reminders"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    user_id: str = Field(index=True, max_length=80)
    rule: str = Field(max_length=20)  # inactive | deadline | certificate
    course_id: str = Field(default="", max_length=36)
    period: str = Field(max_length=40)
    language: str = Field(max_length=10)
    subject: str = Field(max_length=300)
    body: str = Field(max_length=2000)
    link: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))

    __table_args__ = (UniqueConstraint("user_id", "rule", "course_id", "period"),)


class Delivery(Base, table=True):
    """The message outbox: one row per reminder and external channel, with its delivery status."""

    __tablename__ = "deliveries"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    reminder_id: str = Field(foreign_key="reminders.id", max_length=36)
    channel: str = Field(max_length=10)  # email | sms
    address: str = Field(max_length=254)
    status: str = Field(default="pending", max_length=10)  # pending | sending | sent | failed
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))

    __table_args__ = (
        UniqueConstraint("reminder_id", "channel"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )


# -- analytics: the org-unit read model, raw certificate facts and the rollups (docs/analytics.md) ----


class OrgUnitView(Base, table=True):
    """The gateway's org-unit tree, copied here (ADR 0011): names, levels and children for dashboards."""

    __tablename__ = "org_units"
    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # country | region | district | school
    parent_code: str | None = Field(default=None, index=True, max_length=40)
    path: str = Field(index=True, max_length=400)
    level: int  # 0 = country, 1 = region, 2 = district, 3 = school
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class CertificateFact(Base, table=True):
    """A certificate the certificates service issued (from `certificate.issued`): the raw record the
    `certified` funnel stage is recomputed from."""

    __tablename__ = "certificate_facts"
    certificate_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(max_length=80)
    course_id: str = Field(max_length=36)
    issued_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

    __table_args__ = (Index("ix_certificate_facts_user_course", "user_id", "course_id"),)


class EnrolmentFacts(Base, table=True):
    """What the rollups last counted for one enrolment: the week (Monday) and the day (UTC) of each
    funnel stage it reached, and its days to completion. A refresh compares this with the raw tables
    and moves the difference into the rollup cells, so an enrolment is counted once per stage whatever
    the events. (Rows counted before the days were kept have no days, and no month cells, until the
    nightly recompute.)"""

    __tablename__ = "rollup_enrolment_facts"
    enrolment_id: str = Field(primary_key=True, max_length=36)
    org_path: str = Field(max_length=400)
    institute_id: str = Field(max_length=36)
    course_id: str = Field(max_length=36)
    language: str = Field(max_length=10)
    enrolled: date | None = None
    started: date | None = None
    completed: date | None = None
    certified: date | None = None
    days_to_complete: int | None = None
    enrolled_on: date | None = None
    started_on: date | None = None
    completed_on: date | None = None
    certified_on: date | None = None


class FunnelCell(Base, table=True):
    """Enrolments reaching `stage` in the ISO week starting `week`, for one org unit at one level
    of the tree (every ancestor of the teacher's unit has its own cell), institute, course and language."""

    __tablename__ = "rollup_funnel"
    org_unit: str = Field(primary_key=True, max_length=40)
    institute_id: str = Field(primary_key=True, max_length=36)
    course_id: str = Field(primary_key=True, max_length=36)
    language: str = Field(primary_key=True, max_length=10)
    week: date = Field(primary_key=True)
    stage: str = Field(primary_key=True, max_length=10)  # enrolled | started | completed | certified
    level: int
    count: int = 0


class MonthCell(Base, table=True):
    """Enrolments reaching `stage` in the calendar month starting `month` (UTC), for one org unit at
    one level of the tree, institute, course and language: what trends and date filters count."""

    __tablename__ = "rollup_funnel_months"
    org_unit: str = Field(primary_key=True, max_length=40)
    institute_id: str = Field(primary_key=True, max_length=36)
    course_id: str = Field(primary_key=True, max_length=36)
    language: str = Field(primary_key=True, max_length=10)
    month: date = Field(primary_key=True)
    stage: str = Field(primary_key=True, max_length=10)  # enrolled | started | completed | certified
    level: int
    count: int = 0


class TeacherFacts(Base, table=True):
    """What the totals last counted for one teacher: the org path of their latest enrolment and
    whether any of their enrolments reached each stage."""

    __tablename__ = "rollup_teacher_facts"
    user_id: str = Field(primary_key=True, max_length=80)
    org_path: str = Field(max_length=400)
    enrolled: bool = False
    started: bool = False
    completed: bool = False
    certified: bool = False


class FunnelTotal(Base, table=True):
    """Distinct *teachers* per org unit (every level) and stage, whatever the course: a teacher
    counts once, at the unit of their latest enrolment, in each stage any of their enrolments
    reached. What unfiltered dashboards read."""

    __tablename__ = "rollup_funnel_totals"
    org_unit: str = Field(primary_key=True, max_length=40)
    stage: str = Field(primary_key=True, max_length=10)
    level: int
    count: int = 0


class DurationCell(Base, table=True):
    """Completed enrolments by whole days from enrolment to completion (median and p75 come from it)."""

    __tablename__ = "rollup_durations"
    org_unit: str = Field(primary_key=True, max_length=40)
    institute_id: str = Field(primary_key=True, max_length=36)
    course_id: str = Field(primary_key=True, max_length=36)
    days: int = Field(primary_key=True)
    level: int
    count: int = 0


class TeacherRating(Base, table=True):
    """The rating the rollups last counted for one teacher and indicator or competency."""

    __tablename__ = "rollup_teacher_ratings"
    user_id: str = Field(primary_key=True, max_length=80)
    kind: str = Field(primary_key=True, max_length=12)  # indicator | competency
    code: str = Field(primary_key=True, max_length=80)
    org_path: str = Field(max_length=400)
    rating: str = Field(max_length=12)


class AttainmentCell(Base, table=True):
    """Teachers with graded evidence per indicator or competency and rating, by org unit."""

    __tablename__ = "rollup_attainment"
    org_unit: str = Field(primary_key=True, max_length=40)
    kind: str = Field(primary_key=True, max_length=12)
    code: str = Field(primary_key=True, max_length=80)
    rating: str = Field(primary_key=True, max_length=12)  # not_yet | developing | proficient
    level: int
    count: int = 0


class RollupWatermark(Base, table=True):
    """How fresh a group of rollup tables is ("data as of"): the latest moment they are known to
    include — the newest event the rollup consumers counted, or the start of the last full recompute,
    whichever is later. `funnel` covers the funnel, totals and durations; `attainment` the heat table."""

    __tablename__ = "rollup_watermarks"
    name: str = Field(primary_key=True, max_length=20)
    as_of: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PatternRun(Base, table=True):
    """One decision of every level's enrolment tables off the request path (`progress.decide_patterns`,
    analytics/stored.py, ADR 0019): the rollups as of `as_of` (the funnel watermark when they were read),
    the populations (`leaves`) and months they had, the threshold. Answers read the newest complete run's
    cells, with its "data as of"; without one they decide on the request path."""

    __tablename__ = "pattern_runs"
    id: int | None = Field(default=None, primary_key=True)
    root: str = Field(index=True, max_length=40)  # the top of the tree the run decided (the country)
    as_of: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    threshold: int
    leaves: list[list[str]] = Field(sa_column=Column(JSON, nullable=False))
    months: list[str] = Field(sa_column=Column(JSON, nullable=False))
    decided_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    complete: bool = False


class PatternCell(Base, table=True):
    """A unit's counts of one population in a run and whether each is shown, as decided in its parent's
    table (`parent`; "" for the top): `cells` lists [period ("all" or a month's first day), stage,
    count, 1 if hidden + 2 if protected]. Only counts that are not zero, or are hidden, are listed;
    anything else is a shown zero. One row per unit and population, so a table is read in a few rows."""

    __tablename__ = "pattern_cells"
    __table_args__ = (Index("ix_pattern_cells_unit", "run_id", "unit", "population"),)
    run_id: int = Field(primary_key=True)
    parent: str = Field(primary_key=True, max_length=40)
    population: str = Field(primary_key=True, max_length=200)
    unit: str = Field(primary_key=True, max_length=40)
    cells: list[list[Any]] = Field(sa_column=Column(JSON, nullable=False))


# -- programmes and coverage (services/progress/coverage, ADR 0020) ---------------------------------


class RegistryPerson(Base, table=True):
    """The gateway's teacher registry as coverage needs it (no names, no national IDs): who is registered
    where, teaching what. Copied from the registry's change feed by `progress.coverage_refresh`."""

    __tablename__ = "registry_people"
    registry_id: str = Field(primary_key=True, max_length=36)
    person_id: str = Field(index=True, max_length=80)  # the account once activated, else the registry id
    org_path: str = Field(index=True, max_length=400)
    subjects: str = Field(default=";", max_length=1000)  # ";a;b;": a subject matches LIKE '%;a;%'
    employment: str = Field(max_length=20)
    status: str = Field(max_length=10)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class SyncCursor(Base, table=True):
    """Where a copy of another service's data stands (the registry feed's `next`)."""

    __tablename__ = "sync_cursors"
    name: str = Field(primary_key=True, max_length=40)
    cursor: str = Field(default="", max_length=200)
    synced_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class Programme(Base, table=True):
    """A ministry's training programme: courses, the target population (a filter over the registry), the
    share of it that must complete, and a deadline."""

    __tablename__ = "programmes"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    title: str = Field(max_length=200)
    course_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    target_filter: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    target_percent: int = 100
    deadline: date
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    computed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class CoverageCell(Base, table=True):
    """A programme's target population in one org unit (every level; a unit counts its subtree) and how
    far it got: enrolled in, started, completed and certified in every course of the programme."""

    __tablename__ = "coverage_cells"
    programme_id: str = Field(primary_key=True, max_length=36)
    org_unit: str = Field(primary_key=True, max_length=40)
    level: int
    population: int = 0
    enrolled: int = 0
    started: int = 0
    completed: int = 0
    certified: int = 0


class CoverageWeek(Base, table=True):
    """Teachers of the target who completed the programme in the ISO week starting `week`, per org unit."""

    __tablename__ = "coverage_weeks"
    programme_id: str = Field(primary_key=True, max_length=36)
    org_unit: str = Field(primary_key=True, max_length=40)
    week: date = Field(primary_key=True)
    completed: int = 0


# The LRS's own tables (documents, attachments, clients, the filter index, ...) share this metadata.
from services.progress.lrs import models as _lrs_models  # noqa: E402, F401

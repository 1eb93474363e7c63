"""The LRS's tables beside `statements` (services/progress/models.py): the filter index, documents,
attachments, agents and activities seen, Basic-auth clients, launch registrations, teacher
identities and the activity mapping. Imported by models.py so one metadata holds every table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, Text
from sqlmodel import Field

from libs.db import UTCDateTime
from libs.outbox import utcnow
from services.progress.models import Base, new_id


class StatementFacet(Base, table=True):
    """One filterable fact of a statement (docs/lrs.md "Queries"): `key` hashes (store, kind, value),
    e.g. (institute, "verb", IRI). Every statement filter is one range scan of this primary key in
    `stored` order, and every further filter a point lookup of it; a statement referencing another
    (StatementRef) carries its target's facets too, so filters match it as xAPI requires."""

    __tablename__ = "statement_facets"
    key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    stored: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    statement_id: str = Field(primary_key=True, max_length=36)


class Document(Base, table=True):
    """A State, Activity Profile or Agent Profile document (Communication 2.3, 2.6, 2.7), in a store."""

    __tablename__ = "lrs_documents"
    store: str = Field(primary_key=True, max_length=36)
    kind: str = Field(primary_key=True, max_length=16)  # state | activity_profile | agent_profile
    # sha256 of (activityId, agent's IFI, registration): every document of one scope in one range.
    scope_key: str = Field(primary_key=True, max_length=64)
    doc_key: str = Field(primary_key=True, max_length=64)  # sha256 of the stateId / profileId
    doc_id: str = Field(sa_column=Column(Text, nullable=False))
    activity_id: str | None = Field(default=None, sa_column=Column(Text))
    agent: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    registration: str | None = Field(default=None, max_length=36)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    content_type: str = Field(max_length=200)
    etag: str = Field(max_length=64)
    updated: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

    __table_args__ = (Index("ix_lrs_documents_scope_updated", "store", "kind", "scope_key", "updated"),)


class Attachment(Base, table=True):
    """Attachment content received in multipart/mixed, by its SHA-2 (Data 2.4.11)."""

    __tablename__ = "lrs_attachments"
    store: str = Field(primary_key=True, max_length=36)
    sha2: str = Field(primary_key=True, max_length=128)
    content_type: str = Field(max_length=200)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class AgentSeen(Base, table=True):
    """An agent a store's statements named (for /agents: the Person object)."""

    __tablename__ = "lrs_agents"
    store: str = Field(primary_key=True, max_length=36)
    ifi_key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    ifi: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    name: str | None = Field(default=None, sa_column=Column(Text))
    user_id: str | None = Field(default=None, max_length=80)


class ActivitySeen(Base, table=True):
    """An activity a store's statements named, with its latest definition (for /activities)."""

    __tablename__ = "lrs_activities"
    store: str = Field(primary_key=True, max_length=36)
    activity_key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    activity_id: str = Field(sa_column=Column(Text, nullable=False))
    definition: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    updated: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class LrsClient(Base, table=True):
    """A Basic-auth client of an institute: the key is public, the secret is kept only as its argon2
    hash (shown once at creation); a revoked client is refused (401)."""

    __tablename__ = "lrs_clients"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    key: str = Field(max_length=80, sa_column_kwargs={"unique": True})
    secret_hash: str = Field(max_length=200)
    institute_id: str = Field(index=True, max_length=36)
    name: str = Field(max_length=200)
    rate_limit: int = 6000  # requests per minute
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class LaunchRegistration(Base, table=True):
    """A launch of content for a teacher (cmi5, SCORM, a link): statements carrying this registration
    are the teacher's, whatever actor the content wrote."""

    __tablename__ = "lrs_registrations"
    registration: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(index=True, max_length=80)
    course_id: str | None = Field(default=None, max_length=36)
    activity_id: str = Field(sa_column=Column(Text, nullable=False))
    store: str = Field(max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class TeacherIdentity(Base, table=True):
    """An actor identifier known to be a platform teacher's (an mbox or mbox_sha1sum from the teacher
    registry): the seam the registry's change feed fills (docs/lrs.md "Attribution")."""

    __tablename__ = "lrs_teacher_identities"
    ifi_key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    ifi: str = Field(sa_column=Column(Text, nullable=False))
    user_id: str = Field(index=True, max_length=80)
    updated: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ActivityMapping(Base, table=True):
    """What an activity of a course counts as: an item of the course (a lesson viewed, a quiz passed)
    and the competency indicators its result is evidence for. Set by the course's authors."""

    __tablename__ = "lrs_activity_map"
    course_id: str = Field(primary_key=True, max_length=36)
    activity_key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    activity_id: str = Field(sa_column=Column(Text, nullable=False))
    item_id: str | None = Field(default=None, max_length=80)
    indicators: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    pass_mark: float = 0.8  # a scaled score at or above it, or success true, is "passed"
    updated_by: str = Field(default="", max_length=80)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

    __table_args__ = (Index("ix_lrs_activity_map_activity", "activity_key"),)


class ItemResult(Base, table=True):
    """What a teacher's statement from an LRS client said about an item of a course they are enrolled
    in (docs/lrs.md "Attribution"): the item viewed, passed or failed (with its scaled score). Completion
    reads these beside quiz submissions and lesson views; the competency profile reads the results of
    mapped activities as evidence for their indicators."""

    __tablename__ = "lrs_item_results"
    enrolment_id: str = Field(primary_key=True, max_length=36)
    statement_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(index=True, max_length=80)
    course_id: str = Field(max_length=36)
    item_id: str | None = Field(default=None, max_length=80)
    activity_id: str = Field(sa_column=Column(Text, nullable=False))
    outcome: str = Field(max_length=10)  # viewed | passed | failed
    scaled: float | None = None
    stored: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ContentPackage(Base, table=True):
    """An imported cmi5 course or SCORM 1.2 / 2004 package: course content of an institute standing
    for one item of a course (docs/lrs.md "Packages"). `units` holds the launchable AUs / SCOs as the
    package declared them (activity id, title, href, moveOn, mastery score, launch parameters)."""

    __tablename__ = "lrs_packages"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    course_id: str = Field(index=True, max_length=36)
    item_id: str = Field(max_length=80)
    store: str = Field(max_length=36)
    kind: str = Field(max_length=10)  # cmi5 | scorm12 | scorm2004
    title: str = Field(max_length=300)
    course_activity_id: str = Field(sa_column=Column(Text, nullable=False))
    units: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class PackageFile(Base, table=True):
    """One file of a package, served to the launched content under its launch's address."""

    __tablename__ = "lrs_package_files"
    package_id: str = Field(primary_key=True, max_length=36)
    path: str = Field(primary_key=True, max_length=500)
    content_type: str = Field(max_length=100)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class LaunchSession(Base, table=True):
    """A teacher's launch of one unit of a package. `id` (random) is the capability in the content's
    address; cmi5's fetch URL hands out `token` once (its SHA-256 is kept) as the AU's Basic
    credential. `state` follows the cmi5 session (initialized, completed, passed, failed,
    terminated) and the SCORM run (its cmi status); `satisfied` once the unit's moveOn is met."""

    __tablename__ = "lrs_launches"
    id: str = Field(primary_key=True, max_length=64)
    package_id: str = Field(index=True, max_length=36)
    unit: str = Field(sa_column=Column(Text, nullable=False))  # the unit's activity id
    registration: str = Field(index=True, max_length=36)
    user_id: str = Field(index=True, max_length=80)
    token_hash: str = Field(default="", max_length=64)
    fetched: bool = False
    state: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    satisfied: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

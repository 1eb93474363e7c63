"""Competency frameworks and courses. A published version is an immutable JSON snapshot keyed by
(course_id, version): readers, graders and caches all key on that pair."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from libs.db import UTCDateTime, table_registry
from libs.outbox import outbox_tables, utcnow


class Base(SQLModel, registry=table_registry()):
    """This service's tables, in their own metadata: one service's tables never leak into another's."""


outbox, processed_events = outbox_tables(Base.metadata)
# The full-text index is made by a migration: an FTS5 table `courses_fts` (and its shadow tables) on
# SQLite, a GIN expression index `courses_fts_gin` on PostgreSQL.
Base.metadata.info["unmanaged"] = ("courses_fts",)


def new_id() -> str:
    return str(uuid.uuid4())


class Framework(Base, table=True):
    __tablename__ = "frameworks"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    code: str = Field(unique=True, max_length=60)
    title: str = Field(max_length=300)
    language: str = Field(default="en", max_length=10)
    derived_from_id: str | None = Field(default=None, foreign_key="frameworks.id", max_length=36)
    note: str = ""


class FrameworkItem(Base, table=True):
    """Aspect, competency or indicator (CASE CFItem). Competencies sit under an aspect at a level."""

    __tablename__ = "framework_items"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    framework_id: str = Field(foreign_key="frameworks.id", index=True, max_length=36)
    parent_id: str | None = Field(default=None, foreign_key="framework_items.id", index=True, max_length=36)
    kind: str = Field(max_length=20)  # aspect | competency | indicator
    code: str = Field(max_length=40)
    title: str = Field(max_length=500)
    level: str | None = Field(default=None, max_length=60)
    position: int = 0
    retired: bool = False
    derived_from_id: str | None = Field(default=None, max_length=36)

    __table_args__ = (UniqueConstraint("framework_id", "code"),)


class Course(Base, table=True):
    __tablename__ = "courses"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    slug: str = Field(unique=True, max_length=120)
    title: str = Field(max_length=300)
    summary: str = ""
    language: str = Field(max_length=10, index=True)
    institute_id: str = Field(max_length=36, index=True)
    status: str = Field(default="draft", max_length=20)  # draft | in_review | published | archived
    translation_of: str | None = Field(default=None, foreign_key="courses.id", max_length=36)
    latest_version: int | None = None
    level: str = Field(default="", max_length=60, index=True)  # of the latest version, for the catalogue
    # The editable working copy (a CourseDraft as JSON); published versions are never edited.
    draft: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    review_comment: str | None = None
    author_id: str | None = Field(default=None, max_length=36)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # Bumped by every change of the draft or of the workflow state: the draft's ETag (If-Match on PUT).
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Bumped by every submission: the comments of a review decision belong to its round.
    review_round: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class CourseVersion(Base, table=True):
    __tablename__ = "course_versions"
    course_id: str = Field(foreign_key="courses.id", primary_key=True, max_length=36)
    version: int = Field(primary_key=True)
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    published_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class CourseIndicator(Base, table=True):
    """Indicator codes the latest published version maps to, for the catalogue's competency filter."""

    __tablename__ = "course_indicators"
    course_id: str = Field(foreign_key="courses.id", primary_key=True, max_length=36)
    code: str = Field(primary_key=True, max_length=40, index=True)


class CourseComment(Base, table=True):
    """A reviewer's comment, on the whole course (`item_id` None) or one lesson or quiz of the draft."""

    __tablename__ = "course_comments"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    course_id: str = Field(foreign_key="courses.id", index=True, max_length=36)
    round: int
    item_id: str | None = Field(default=None, max_length=80)
    body: str
    decision: str = Field(max_length=20)
    reviewer_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Image(Base, table=True):
    """An image re-encoded for phones, keyed by the SHA-256 of its bytes: never changed or deleted, so a
    published version that shows it stays as it was."""

    __tablename__ = "images"
    sha256: str = Field(primary_key=True, max_length=64)
    media_type: str = Field(max_length=40)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    width: int
    height: int
    byte_size: int
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class CourseImage(Base, table=True):
    """An image uploaded for a course, with the alt text its author gave it."""

    __tablename__ = "course_images"
    course_id: str = Field(foreign_key="courses.id", primary_key=True, max_length=36)
    sha256: str = Field(foreign_key="images.sha256", primary_key=True, max_length=64)
    alt: str = Field(max_length=300)
    uploaded_by: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

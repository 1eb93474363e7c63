"""xAPI 1.0.3 statement shape, as far as Ustaz uses it, and the activity IRIs of courses.

Actors are identified by an account whose `name` is the platform user id (no mbox: phone numbers
and e-mail addresses stay out of the learning record). Verbs come from a closed ADL vocabulary;
an unknown verb is a 422. Attachments and signed statements are not supported (422).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {
    name: ADL + name
    for name in (
        "experienced",
        "attempted",
        "answered",
        "completed",
        "passed",
        "failed",
        "progressed",
        "initialized",
        "terminated",
        "voided",
    )
}
KNOWN_VERBS = frozenset(VERBS.values())
VIEWED = (VERBS["experienced"], VERBS["completed"])  # verbs that count as a lesson viewed
IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
ACTIVITY = re.compile(
    r"^urn:ustaz:course:(?P<course>[A-Za-z0-9_-]{1,36})(?:/item/(?P<item>[A-Za-z0-9_.-]{1,80}))?$"
)
DURATION = re.compile(r"^P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
LANGUAGE_MAP = dict[str, str]


def course_activity(course_id: str, item_id: str | None = None) -> str:
    return f"urn:ustaz:course:{course_id}" + (f"/item/{item_id}" if item_id else "")


def parse_activity(iri: str) -> tuple[str, str | None] | None:
    """(course_id, item_id or None) for an Ustaz activity IRI, else None."""
    match = ACTIVITY.match(iri)
    return (match["course"], match["item"]) if match else None


def _iri(value: str) -> str:
    if not IRI.match(value):
        raise ValueError("must be an absolute IRI (scheme:...)")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Account(Strict):
    homePage: str = Field(max_length=500)
    name: str = Field(min_length=1, max_length=80)

    _home = field_validator("homePage")(_iri)


class Agent(Strict):
    objectType: Literal["Agent"] = "Agent"
    name: str | None = Field(None, max_length=200)
    account: Account


class Verb(Strict):
    id: str = Field(max_length=200)
    display: LANGUAGE_MAP | None = None

    @field_validator("id")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in KNOWN_VERBS:
            raise ValueError(f"unknown verb {value!r}; known verbs: {', '.join(sorted(KNOWN_VERBS))}")
        return value


class ActivityDefinition(Strict):
    name: LANGUAGE_MAP | None = None
    description: LANGUAGE_MAP | None = None
    type: str | None = Field(None, max_length=300)
    extensions: dict[str, Any] | None = None


class StatementObject(Strict):
    """An Activity, or a StatementRef (the target of a voiding statement)."""

    objectType: Literal["Activity", "StatementRef"] = "Activity"
    id: str = Field(max_length=500)
    definition: ActivityDefinition | None = None

    @model_validator(mode="after")
    def _id_fits_type(self) -> StatementObject:
        if self.objectType == "StatementRef":
            self.id = str(uuid.UUID(self.id))
            if self.definition is not None:
                raise ValueError("a StatementRef has no definition")
        else:
            _iri(self.id)
        return self


class Score(Strict):
    scaled: float | None = Field(None, ge=-1, le=1)
    raw: float | None = None
    min: float | None = None
    max: float | None = None


class Result(Strict):
    score: Score | None = None
    success: bool | None = None
    completion: bool | None = None
    response: str | None = Field(None, max_length=4000)
    duration: str | None = Field(None, max_length=60)
    extensions: dict[str, Any] | None = None

    @field_validator("duration")
    @classmethod
    def _iso_duration(cls, value: str | None) -> str | None:
        if value is not None and (not DURATION.match(value) or value in ("P", "PT") or value.endswith("T")):
            raise ValueError("must be an ISO 8601 duration such as PT1M30S")
        return value


class ActivityRef(Strict):
    objectType: Literal["Activity"] = "Activity"
    id: str = Field(max_length=500)

    _id = field_validator("id")(_iri)


class ContextActivities(Strict):
    parent: list[ActivityRef] | None = Field(None, max_length=10)
    grouping: list[ActivityRef] | None = Field(None, max_length=10)
    category: list[ActivityRef] | None = Field(None, max_length=10)
    other: list[ActivityRef] | None = Field(None, max_length=10)


class Context(Strict):
    registration: uuid.UUID | None = None
    contextActivities: ContextActivities | None = None
    platform: str | None = Field(None, max_length=200)
    language: str | None = Field(None, max_length=35)
    extensions: dict[str, Any] | None = None


class Statement(Strict):
    """A statement as a client sends it; `stored`, `authority` and `version` are the server's."""

    id: uuid.UUID | None = None
    actor: Agent
    verb: Verb
    object: StatementObject
    result: Result | None = None
    context: Context | None = None
    timestamp: datetime | None = None

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("the timestamp needs a time zone offset (ISO 8601, e.g. 2026-01-31T09:00:00Z)")
        return value.astimezone(UTC) if value is not None else None

    @model_validator(mode="after")
    def _voiding_targets_a_statement(self) -> Statement:
        voiding = self.verb.id == VERBS["voided"]
        if voiding != (self.object.objectType == "StatementRef"):
            raise ValueError("the voided verb, and only it, takes a StatementRef object")
        return self

    def course_ref(self) -> tuple[str, str | None] | None:
        """The course (and item) this statement is about: its object, else a context activity."""
        found = parse_activity(self.object.id) if self.object.objectType == "Activity" else None
        if found:
            return found
        groups = self.context.contextActivities if self.context else None
        for refs in (groups.parent, groups.grouping) if groups else ():
            for ref in refs or []:
                found = parse_activity(ref.id)
                if found:
                    return found[0], None
        return None


class StatementResult(BaseModel):
    """A page of statements; `more` is the URL of the next page, empty at the end."""

    statements: list[dict[str, Any]]
    more: str
    flagged: list[str] = Field(default_factory=list, description="ids in this page with a future timestamp")


class StatementsStored(BaseModel):
    ids: list[str]
    flagged: list[str] = Field(default_factory=list, description="ids stored with a timestamp in the future")


class StatementQuery(Strict):
    statementId: uuid.UUID | None = None
    voidedStatementId: uuid.UUID | None = None
    agent: str | None = Field(None, max_length=1000, description="JSON of an Agent, as in xAPI")
    verb: str | None = Field(None, max_length=200)
    activity: str | None = Field(None, max_length=500)
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(100, ge=1, le=500)
    ascending: bool = False
    cursor: str | None = Field(None, max_length=200)

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone offset")
        return value.astimezone(UTC) if value is not None else None

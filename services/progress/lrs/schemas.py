"""Bodies of the LRS's administration API (/api/v1/progress/lrs/...): clients, activity mappings,
launch registrations. The xAPI resources themselves speak xAPI's JSON (validate.py)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.progress.lrs import formats


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, description="which tool or server uses it")
    rate_limit: int | None = Field(None, ge=1, le=100_000, description="requests per minute")


class ClientPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    key: str
    name: str
    institute_id: str
    rate_limit: int
    created_at: datetime
    revoked_at: datetime | None


class ClientCreated(ClientPublic):
    secret: str = Field(description="shown this once; only its hash is kept")
    endpoint: str = Field(description="the LRS endpoint to give the tool")


class ClientList(BaseModel):
    items: list[ClientPublic]
    endpoint: str


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activity_id: str = Field(min_length=1, max_length=2000)
    item_id: str | None = Field(
        None, max_length=80, description="the lesson or quiz of the course it counts as"
    )
    indicators: list[str] = Field(default_factory=list, max_length=50)
    pass_mark: float = Field(0.8, ge=0, le=1)

    @field_validator("activity_id")
    @classmethod
    def _iri(cls, value: str) -> str:
        if not formats.is_iri(value):
            raise ValueError("must be an IRI")
        return value


class MappingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    course_id: str
    activity_id: str
    item_id: str | None
    indicators: list[str]
    pass_mark: float


class MappingList(BaseModel):
    items: list[MappingPublic]


class RegistrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    course_id: str = Field(min_length=1, max_length=36)
    activity_id: str = Field(min_length=1, max_length=2000)


class RegistrationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    registration: str
    course_id: str | None
    activity_id: str


class PackageUnit(BaseModel):
    """A launchable unit of a package: a cmi5 AU or a SCORM SCO (or asset)."""

    activity_id: str
    title: str
    href: str
    move_on: str
    mastery_score: float | None
    launch_parameters: str
    scorm_type: str


class PackagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    course_id: str
    item_id: str
    kind: str  # cmi5 | scorm12 | scorm2004
    title: str
    course_activity_id: str
    units: list[PackageUnit]


class PackageList(BaseModel):
    items: list[PackagePublic]


class LaunchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: str | None = Field(None, max_length=2000)  # an AU's / SCO's activity id; the first if absent


class LaunchOut(BaseModel):
    """Open `url` (cmi5: the AU with endpoint, fetch, registration, activityId and actor; SCORM: the
    runtime page with the API / API_1484_11 object and the SCO in it)."""

    url: str
    registration: str
    launch_id: str
    kind: str
    unit: str


class ScormCommit(BaseModel):
    """What the SCORM runtime sends on Commit / Finish: the cmi data model's values by element."""

    model_config = ConfigDict(extra="forbid")
    cmi: dict[str, str] = Field(max_length=2000)
    finished: bool = False

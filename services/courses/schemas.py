"""Course content as published (the JSON snapshot) and the API's request/response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["en", "ru", "kk", "ky", "uz", "uz-Cyrl", "tg", "mn"]
Licence = Literal[
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-4.0",
    "CC-BY-NC-ND-4.0",
    "CC0-1.0",
]
LANGUAGES: tuple[str, ...] = get_args(Language)
LICENCES: tuple[str, ...] = get_args(Licence)


class AnswerKey(BaseModel):
    """Everything a learner must not see before answering: the key and the author's explanations."""

    correct: list[str] = []  # option ids; "true"/"false" for true_false
    value: float | None = None  # numeric
    tolerance: float = 0.0
    accepted: list[str] = []  # short_text, compared case- and space-insensitively
    explanation: str = Field("", max_length=4000)  # why the answer is what it is (feedback after an attempt)
    # Per option id ("true"/"false" for true_false): why choosing it is right or wrong.
    explanations: dict[str, str] = {}


class Option(BaseModel):
    id: str
    text: str


class Question(BaseModel):
    id: str
    kind: Literal["single", "multiple", "true_false", "numeric", "short_text"]
    prompt: str
    options: list[Option] = []
    indicators: list[str] = []
    answer: AnswerKey | None = None


class Lesson(BaseModel):
    type: Literal["lesson"] = "lesson"
    id: str
    title: str
    markdown: str
    html: str = ""
    indicators: list[str] = []


class Quiz(BaseModel):
    type: Literal["quiz"] = "quiz"
    id: str
    title: str
    questions: list[Question]


Item = Annotated[Lesson | Quiz, Field(discriminator="type")]


class Module(BaseModel):
    id: str
    title: str
    items: list[Item]


class Audience(BaseModel):
    stage: Literal["pre-service", "in-service", "any"] = "in-service"
    subject: str = Field("", max_length=100)
    grade_band: str = Field("", max_length=40)


class CompletionRule(BaseModel):
    """A course is complete when every lesson is read (if asked) and the quizzes reach the pass mark."""

    all_lessons: bool = True
    quizzes_passed: bool = True


class CourseMeta(BaseModel):
    """What an author writes: everything of a version except its identity."""

    title: str = Field(min_length=1, max_length=300)
    summary: str = Field("", max_length=2000)
    framework: str = Field(max_length=60)
    pass_mark: float = Field(0.7, ge=0, le=1)
    estimated_minutes: int = Field(30, ge=1, le=10000)
    level: str = Field("Knowledge Acquisition", max_length=60)
    licence: Licence = "CC-BY-4.0"
    audience: Audience = Audience()
    completion: CompletionRule = CompletionRule()
    modules: list[Module]


class CourseContent(CourseMeta):
    course_id: str
    version: int
    language: str
    institute_id: str

    def items(self) -> list[Lesson | Quiz]:
        return [item for module in self.modules for item in module.items]


class CourseDraft(CourseMeta):
    """Body of POST /courses and PUT /courses/{id}/draft."""

    model_config = ConfigDict(extra="forbid")
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,118}$")
    language: Language
    translation_of: str | None = Field(None, max_length=36)


class ItemComment(BaseModel):
    """A reviewer's comment on one lesson or quiz of the draft (its id)."""

    model_config = ConfigDict(extra="forbid")
    item_id: str = Field(max_length=80)
    body: str = Field(max_length=4000)


class ReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "send_back"]
    comment: str = Field("", max_length=4000)
    comments: list[ItemComment] = Field([], max_length=500)


class ReviewComment(BaseModel):
    """A stored comment of a review decision: `item_id` None is about the whole course."""

    item_id: str | None
    body: str
    decision: str
    reviewer_id: str | None
    created_at: datetime


class AuthoringView(BaseModel):
    """A course as its authors and reviewers see it: workflow state and the full draft. `etag` is the
    draft's ETag (also the ETag header): send it back as If-Match when replacing the draft."""

    id: str
    slug: str
    status: str
    language: str
    institute_id: str
    translation_of: str | None
    latest_version: int | None
    review_comment: str | None
    draft: dict[str, Any] | None
    etag: str = ""
    # The comments of the last send-back, per item: shown to the author until the next submission.
    comments: list[ReviewComment] = []


class TranslationRequest(BaseModel):
    """Body of POST /courses/{id}/translations: a new draft in another language, linked to the original."""

    model_config = ConfigDict(extra="forbid")
    language: Language
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,118}$")


class FieldChange(BaseModel):
    """One changed field, both sides as text (lists one entry a line, mappings as `key: value` lines)."""

    name: str
    before: str
    after: str


class ItemDiff(BaseModel):
    id: str
    type: str
    title: str
    change: Literal["added", "removed", "changed"]
    fields: list[FieldChange] = []


class DraftDiff(BaseModel):
    """The draft against the latest published version, with both sides of every change (answer keys
    included: only the course's institute may read it). `base_version` None: nothing published yet."""

    course_id: str
    base_version: int | None
    metadata: list[FieldChange]
    items: list[ItemDiff]
    questions: list[ItemDiff]


class ImageInfo(BaseModel):
    """An uploaded image as stored: re-encoded for phones, content-addressed, immutable."""

    sha256: str
    url: str
    media_type: str
    width: int
    height: int
    bytes: int
    alt: str
    markdown: str


class PreviewImage(BaseModel):
    src: str
    alt: str
    bytes: int | None  # None: not an image of this platform (size unknown)


class MarkdownProblem(BaseModel):
    line: int
    code: str  # image_no_alt | image_scheme | too_many_images
    message: str


class LessonPreview(BaseModel):
    html: str
    problems: list[MarkdownProblem]
    images: list[PreviewImage]
    image_max_bytes: int
    image_max_width: int


class IndicatorMatch(BaseModel):
    code: str
    title: str
    kind: str
    level: str | None
    parent_code: str | None
    parent_title: str | None
    retired: bool


class IndicatorList(BaseModel):
    framework: str
    items: list[IndicatorMatch]


class IndicatorQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str = Field("", max_length=200)
    codes: str = Field("", max_length=4000)  # comma-separated exact codes (labels for chosen ones)
    limit: int = Field(50, ge=1, le=500)


class ItemChange(BaseModel):
    id: str
    type: str
    title: str
    change: Literal["added", "removed", "changed"]
    fields: list[str] = []


class VersionDiff(BaseModel):
    course_id: str
    from_version: int
    to_version: int
    metadata: list[str]
    items: list[ItemChange]
    questions: list[ItemChange]


class CourseSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    slug: str
    title: str
    summary: str
    language: str
    institute_id: str
    latest_version: int | None
    level: str = ""
    translation_of: str | None = None


class CataloguePage(BaseModel):
    items: list[CourseSummary]
    next_cursor: str | None


class CatalogueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lang: str | None = Field(None, max_length=10)
    q: str | None = Field(None, max_length=200)
    competency: str | None = Field(None, max_length=40)
    level: str | None = Field(None, max_length=60)
    institute: str | None = Field(None, max_length=36)
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(20, ge=1, le=100)


class LessonPage(BaseModel):
    course_id: str
    version: int
    language: str
    course_title: str
    id: str
    title: str
    html: str
    indicators: list[str]
    previous_id: str | None
    next_id: str | None
    previous_type: Literal["lesson", "quiz"] | None = None
    next_type: Literal["lesson", "quiz"] | None = None
    next_title: str | None = None


class QuizKey(BaseModel):
    """What a grader needs for one quiz of one version: never sent to learners."""

    quiz_id: str
    pass_mark: float
    questions: list[Question]


class AnswerKeyDocument(BaseModel):
    course_id: str
    version: int
    pass_mark: float
    lessons: list[str]
    quizzes: list[QuizKey]


def learner_view(content: CourseContent) -> dict[str, Any]:
    """The published content without answer keys (and so without explanations) or lesson source."""
    data = content.model_dump(mode="json")
    for module in data["modules"]:
        for item in module["items"]:
            item.pop("markdown", None)
            for question in item.get("questions", []):
                question.pop("answer", None)
    return data


# -- bodies other services read ----------------------------------------------------------------------
# What another service receives from this one: the producing route serialises through these models and
# the consumer validates with `libs.service_client.ServiceClient.get_model` (so do `AnswerKeyDocument`
# and `CataloguePage` above). Unknown fields are ignored, so a field can be added here before every
# consumer reads it.


class OutlineQuestion(BaseModel):
    """A question as learners see it: no answer key."""

    id: str
    kind: Literal["single", "multiple", "true_false", "numeric", "short_text"]
    prompt: str
    options: list[Option] = []
    indicators: list[str] = []


class OutlineLesson(BaseModel):
    """A lesson as learners see it: rendered, without its Markdown source."""

    type: Literal["lesson"] = "lesson"
    id: str
    title: str
    html: str = ""
    indicators: list[str] = []


class OutlineQuiz(BaseModel):
    type: Literal["quiz"] = "quiz"
    id: str
    title: str
    questions: list[OutlineQuestion]


OutlineItem = Annotated[OutlineLesson | OutlineQuiz, Field(discriminator="type")]


class OutlineModule(BaseModel):
    id: str
    title: str
    items: list[OutlineItem]


class LearnerContent(BaseModel):
    """A published version as `learner_view` gives it (the fields of `CourseContent`, same order)."""

    title: str
    summary: str = ""
    framework: str
    pass_mark: float
    estimated_minutes: int
    level: str
    licence: Licence
    audience: Audience
    completion: CompletionRule
    modules: list[OutlineModule]
    course_id: str
    version: int
    language: str
    institute_id: str


class CourseDetail(CourseSummary):
    """GET /courses/{id}: a published course and its latest version's outline. Progress enrols from
    it and reads the indicators each course covers."""

    content: LearnerContent


class CaseLink(BaseModel):
    """A CASE LinkURI."""

    title: str
    identifier: str
    uri: str


class CaseDocumentUstaz(BaseModel):
    code: str
    derivedFrom: str | None = None


class CaseDocumentExtensions(BaseModel):
    ustaz: CaseDocumentUstaz


class CaseExportDocument(BaseModel):
    identifier: str
    uri: str
    creator: str
    title: str
    lastChangeDateTime: str
    language: str
    notes: str | None = None
    extensions: CaseDocumentExtensions


class CaseItemUstaz(BaseModel):
    level: str | None = None
    position: int = 0


class CaseItemExtensions(BaseModel):
    ustaz: CaseItemUstaz


class CaseExportItem(BaseModel):
    identifier: str
    uri: str
    fullStatement: str
    humanCodingScheme: str
    CFItemType: Literal["Aspect", "Competency", "Indicator"]
    language: str
    lastChangeDateTime: str
    CFDocumentURI: CaseLink
    extensions: CaseItemExtensions
    statusEndDate: str | None = None  # present (and only then) when the item is retired


class CaseExportAssociation(BaseModel):
    identifier: str
    uri: str
    associationType: Literal["isChildOf", "isDerivedFrom"]
    originNodeURI: CaseLink
    destinationNodeURI: CaseLink
    lastChangeDateTime: str
    sequenceNumber: int | None = None  # isChildOf only
    CFDocumentURI: CaseLink


class CaseExport(BaseModel):
    """GET /courses/frameworks/{code}: a framework as a CASE 1.1 CFPackage, as this service writes it
    (case.py's `CFPackage` is the wider shape it accepts on import). Progress rates teachers against it.
    Dump it with `exclude_unset=True`: the optional fields are absent, not null, when they do not apply."""

    CFDocument: CaseExportDocument
    CFItems: list[CaseExportItem]
    CFAssociations: list[CaseExportAssociation]

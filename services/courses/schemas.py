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


Feedback = Literal["each_attempt", "after_last", "score_only"]


class QuizPolicy(BaseModel):
    """How a quiz may be taken and what a teacher learns from an attempt (docs/adr/0022-quiz-policy.md).
    Part of the content, so frozen with each published version.

    feedback: `each_attempt` shows after every attempt which questions were wrong, with the author's
    explanations; `after_last` shows only the score until the last attempt is used, then everything;
    `score_only` never shows more than the score. The correct answers are shown only once no attempt
    is left, or with `each_attempt` and `show_answers`."""

    model_config = ConfigDict(extra="forbid")
    max_attempts: int | None = Field(None, ge=1, le=100)  # None: unlimited
    cooldown_seconds: int = Field(0, ge=0, le=30 * 86400)  # between the end of one attempt and the next
    feedback: Feedback = "each_attempt"
    show_answers: bool = False
    draw: int | None = Field(None, ge=1, le=200)  # questions drawn from the pool per attempt; None: all
    shuffle_questions: bool = False
    shuffle_options: bool = False

    def restricted(self) -> bool:
        """Whether submissions need their attempt number (a limit, a cool-down or a per-attempt draw)."""
        return bool(
            self.max_attempts
            or self.cooldown_seconds
            or self.draw
            or self.shuffle_questions
            or self.shuffle_options
        )


class Quiz(BaseModel):
    type: Literal["quiz"] = "quiz"
    id: str
    title: str
    questions: list[Question]
    policy: QuizPolicy = QuizPolicy()


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
    # The licence lets other institutes have the answer keys in an exported package (otherwise only
    # the course's own institute exports them; others get the package without keys).
    answer_keys_shared: bool = False
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
    translation_of: str | None = Field(
        None, max_length=36, description="a course of the author's own institute this one translates"
    )
    adapted_from: str | None = Field(
        None,
        max_length=36,
        description="a published course (of any institute) this one adapts, as its licence allows: the "
        "adaptation is a course of its own, shown with the original's attribution",
    )


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
    adapted_from: str | None = None
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


class Attribution(BaseModel):
    """What an adaptation credits (the licence's attribution): the original's title, institute (by id:
    the gateway names institutes), licence and language."""

    course_id: str
    title: str
    institute_id: str
    licence: str
    language: str


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
    adapted_from: Attribution | None = Field(
        None, description="the course this one adapts, as its licence asks to credit it; null for others"
    )


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
    policy: QuizPolicy = QuizPolicy()


class AnswerKeyDocument(BaseModel):
    course_id: str
    version: int
    framework: str = ""  # the version's competency framework (its code): certificates align to it
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
    policy: QuizPolicy = QuizPolicy()


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
    answer_keys_shared: bool = False
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
    """A CASE LinkURI / LinkGenURI."""

    model_config = ConfigDict(extra="allow")
    title: str
    identifier: str
    uri: str


class CaseDocumentUstaz(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str | None = None
    derivedFrom: str | None = None


class CaseDocumentExtensions(BaseModel):
    model_config = ConfigDict(extra="allow")
    ustaz: CaseDocumentUstaz | None = None


class CaseExportDocument(BaseModel):
    model_config = ConfigDict(extra="allow")
    identifier: str
    uri: str
    creator: str
    title: str
    lastChangeDateTime: str
    language: str | None = None
    notes: str | None = None
    extensions: CaseDocumentExtensions | None = None


class CaseItemUstaz(BaseModel):
    model_config = ConfigDict(extra="allow")
    level: str | None = None
    position: int = 0


class CaseItemExtensions(BaseModel):
    model_config = ConfigDict(extra="allow")
    ustaz: CaseItemUstaz | None = None


class CaseExportItem(BaseModel):
    """A CFItem as exported: ours carry humanCodingScheme, CFItemType and extensions.ustaz; an imported
    one is what its package said (CFItemType free text, or none)."""

    model_config = ConfigDict(extra="allow")
    identifier: str
    uri: str
    fullStatement: str
    humanCodingScheme: str | None = None
    CFItemType: str | None = None
    language: str | None = None
    lastChangeDateTime: str
    extensions: CaseItemExtensions | None = None
    statusEndDate: str | None = None  # present (and only then) when the item is retired

    @property
    def code(self) -> str:
        """The item's code on Ustaz (what courses name): its humanCodingScheme, else its identifier
        (services/courses/case_import.py)."""
        return self.humanCodingScheme or self.identifier


class CaseExportAssociation(BaseModel):
    model_config = ConfigDict(extra="allow")
    identifier: str
    uri: str
    associationType: str  # every CASE 1.1 type and ext: ones
    originNodeURI: CaseLink
    destinationNodeURI: CaseLink
    lastChangeDateTime: str
    sequenceNumber: int | None = None


class CaseExport(BaseModel):
    """GET /courses/frameworks/{code}: a framework as a CASE 1.1 CFPackage, valid against 1EdTech's
    package schema (case_export.py; case.py's `CFPackage` is the shape it accepts on import). Progress
    rates teachers against it. Dump it with `exclude_unset=True`: optional fields are absent, not
    null, when they do not apply."""

    model_config = ConfigDict(extra="allow")
    CFDocument: CaseExportDocument
    CFItems: list[CaseExportItem]
    CFAssociations: list[CaseExportAssociation]

"""Course content as published (the JSON snapshot) and the API's request/response models."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

LANGUAGES = ("en", "ru", "kk", "ky", "uz", "uz-Cyrl", "tg", "mn")


class AnswerKey(BaseModel):
    correct: list[str] = []  # option ids; "true"/"false" for true_false
    value: float | None = None  # numeric
    tolerance: float = 0.0
    accepted: list[str] = []  # short_text, compared case- and space-insensitively


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


class CourseContent(BaseModel):
    course_id: str
    version: int
    title: str
    summary: str
    language: str
    institute_id: str
    framework: str
    pass_mark: float = Field(0.7, ge=0, le=1)
    estimated_minutes: int = 30
    level: str = "Knowledge Acquisition"
    licence: str = "CC-BY-4.0"
    modules: list[Module]

    def items(self) -> list[Lesson | Quiz]:
        return [item for module in self.modules for item in module.items]


class CourseSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    slug: str
    title: str
    summary: str
    language: str
    institute_id: str
    latest_version: int | None
    translation_of: str | None = None


class CataloguePage(BaseModel):
    items: list[CourseSummary]
    next_cursor: str | None


class CatalogueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lang: str | None = Field(None, max_length=10)
    q: str | None = Field(None, max_length=200)
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
    """The published content without answer keys or lesson source."""
    data = content.model_dump(mode="json")
    for module in data["modules"]:
        for item in module["items"]:
            item.pop("markdown", None)
            for question in item.get("questions", []):
                question.pop("answer", None)
    return data

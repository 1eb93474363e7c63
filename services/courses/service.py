"""Course rules: catalogue, learner views without answer keys, lesson rendering, publishing."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from sqlmodel import Session

from libs.errors import Conflict, NotFound
from libs.outbox import utcnow
from services.courses import repository
from services.courses.models import Course, CourseVersion
from services.courses.schemas import (
    AnswerKeyDocument,
    CataloguePage,
    CourseContent,
    CourseSummary,
    Lesson,
    LessonPage,
    Quiz,
    QuizKey,
    learner_view,
)

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
ALLOWED_TAGS = {"h1", "h2", "h3", "h4", "p", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote",
                "a", "img", "table", "thead", "tbody", "tr", "th", "td", "hr", "br"}


def render_markdown(source: str) -> str:
    """Markdown to HTML that is safe to inline: raw HTML is not rendered, and the result is sanitised
    again (no scripts, event handlers, iframes or javascript: links)."""
    return nh3.clean(_markdown.render(source), tags=ALLOWED_TAGS,
                     attributes={"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
                                 "th": {"align"}, "td": {"align"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener nofollow")


def catalogue(session: Session, *, lang: str | None, q: str | None, cursor: str | None, limit: int) -> CataloguePage:
    rows = repository.published_courses(session, lang=lang, q=q, after=cursor, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return CataloguePage(items=[CourseSummary.model_validate(c) for c in rows],
                         next_cursor=rows[-1].id if more else None)


def _course(session: Session, course_id: str) -> Course:
    course = repository.course(session, course_id)
    if course is None or course.latest_version is None:
        raise NotFound(f"No published course {course_id}.")
    return course


def _content(session: Session, course_id: str, version: int) -> CourseContent:
    row = repository.version(session, course_id, version)
    if row is None:
        raise NotFound(f"Course {course_id} has no version {version}.")
    return CourseContent.model_validate(row.content)


def course_detail(session: Session, course_id: str) -> dict[str, object]:
    course = _course(session, course_id)
    assert course.latest_version is not None
    return {**CourseSummary.model_validate(course).model_dump(),
            "content": learner_view(_content(session, course_id, course.latest_version))}


def version_for_learner(session: Session, course_id: str, version: int) -> dict[str, object]:
    return learner_view(_content(session, course_id, version))


def lesson_page(session: Session, course_id: str, version: int, lesson_id: str) -> LessonPage:
    content = _content(session, course_id, version)
    items = content.items()
    for index, item in enumerate(items):
        if item.id == lesson_id and isinstance(item, Lesson):
            return LessonPage(course_id=course_id, version=version, language=content.language,
                              course_title=content.title, id=item.id, title=item.title, html=item.html,
                              indicators=item.indicators,
                              previous_id=items[index - 1].id if index > 0 else None,
                              next_id=items[index + 1].id if index + 1 < len(items) else None)
    raise NotFound(f"Version {version} of course {course_id} has no lesson {lesson_id}.")


def answer_key(session: Session, course_id: str, version: int) -> AnswerKeyDocument:
    content = _content(session, course_id, version)
    items = content.items()
    return AnswerKeyDocument(
        course_id=course_id, version=version, pass_mark=content.pass_mark,
        lessons=[i.id for i in items if isinstance(i, Lesson)],
        quizzes=[QuizKey(quiz_id=i.id, pass_mark=content.pass_mark, questions=i.questions)
                 for i in items if isinstance(i, Quiz)])


def publish(session: Session, course: Course, content: CourseContent) -> CourseVersion:
    """Freeze `content` as the next numbered version. Versions are never edited afterwards."""
    number = (course.latest_version or 0) + 1
    if repository.version(session, course.id, number) is not None:
        raise Conflict(f"Version {number} of course {course.id} already exists.")
    for item in content.items():
        if isinstance(item, Lesson):
            item.html = render_markdown(item.markdown)
    content = content.model_copy(update={"course_id": course.id, "version": number})
    row = CourseVersion(course_id=course.id, version=number, content=content.model_dump(mode="json"))
    course.latest_version = number
    course.status = "published"
    course.updated_at = utcnow()
    session.add(row)
    session.add(course)
    return row

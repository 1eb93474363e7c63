"""Course rules: catalogue, learner views without answer keys, lesson rendering, publishing (the
authoring workflow is in authoring.py)."""

from __future__ import annotations

from typing import Any, Literal

from sqlmodel import Session

from libs.errors import (
    Conflict,
    NotFound,
)
from libs.outbox import utcnow
from services.courses import repository
from services.courses.markdown import image_sources, markdown_issues, render_markdown, sha_of
from services.courses.models import Course, CourseVersion, FrameworkItem
from services.courses.schemas import (
    AnswerKeyDocument,
    CataloguePage,
    CatalogueQuery,
    CourseContent,
    CourseDetail,
    CourseSummary,
    IndicatorList,
    IndicatorMatch,
    IndicatorQuery,
    Lesson,
    LessonPage,
    LessonPreview,
    MarkdownProblem,
    PreviewImage,
    Quiz,
    QuizKey,
    learner_view,
)


def catalogue(session: Session, query: CatalogueQuery) -> CataloguePage:
    rows = repository.published_courses(
        session,
        lang=query.lang,
        q=query.q,
        competency=query.competency,
        level=query.level,
        institute=query.institute,
        after=query.cursor,
        limit=query.limit + 1,
    )
    limit = query.limit
    more = len(rows) > limit
    rows = rows[:limit]
    return CataloguePage(
        items=[CourseSummary.model_validate(c) for c in rows], next_cursor=rows[-1].id if more else None
    )


def framework_list(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "id": f.id,
            "code": f.code,
            "title": f.title,
            "language": f.language,
            "derived_from_id": f.derived_from_id,
        }
        for f in repository.frameworks(session)
    ]


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


def published_content(session: Session, course_id: str, version: int) -> CourseContent:
    return _content(session, course_id, version)


def course_detail(session: Session, course_id: str) -> CourseDetail:
    course = _course(session, course_id)
    assert course.latest_version is not None
    return CourseDetail.model_validate(
        {
            **CourseSummary.model_validate(course).model_dump(),
            "content": learner_view(_content(session, course_id, course.latest_version)),
        }
    )


def version_for_learner(session: Session, course_id: str, version: int) -> dict[str, object]:
    return learner_view(_content(session, course_id, version))


def _kind(item: object | None) -> Literal["lesson", "quiz"] | None:
    return None if item is None else "lesson" if isinstance(item, Lesson) else "quiz"


def lesson_page(session: Session, course_id: str, version: int, lesson_id: str) -> LessonPage:
    content = _content(session, course_id, version)
    items = content.items()
    for index, item in enumerate(items):
        if item.id == lesson_id and isinstance(item, Lesson):
            before = items[index - 1] if index > 0 else None
            after = items[index + 1] if index + 1 < len(items) else None
            return LessonPage(
                course_id=course_id,
                version=version,
                language=content.language,
                course_title=content.title,
                id=item.id,
                title=item.title,
                html=item.html,
                indicators=item.indicators,
                previous_id=before.id if before else None,
                next_id=after.id if after else None,
                previous_type=_kind(before),
                next_type=_kind(after),
                next_title=after.title if after else None,
            )
    raise NotFound(f"Version {version} of course {course_id} has no lesson {lesson_id}.")


def answer_key(session: Session, course_id: str, version: int) -> AnswerKeyDocument:
    content = _content(session, course_id, version)
    items = content.items()
    return AnswerKeyDocument(
        course_id=course_id,
        version=version,
        pass_mark=content.pass_mark,
        lessons=[i.id for i in items if isinstance(i, Lesson)],
        quizzes=[
            QuizKey(quiz_id=i.id, pass_mark=content.pass_mark, questions=i.questions)
            for i in items
            if isinstance(i, Quiz)
        ],
    )


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
    course.level = content.level
    course.status = "published"
    course.updated_at = utcnow()
    session.add(row)
    session.add(course)
    session.flush()
    codes = {code for item in content.items() if isinstance(item, Lesson) for code in item.indicators} | {
        code
        for item in content.items()
        if isinstance(item, Quiz)
        for q in item.questions
        for code in q.indicators
    }
    repository.index_course(session, course, codes)
    return row


def refuse_version_edit(session: Session, course_id: str, version: int) -> None:
    _content(session, course_id, version)
    raise Conflict(
        f"Version {version} of course {course_id} is published and cannot change; "
        "edit the draft and publish a new version."
    )


def translations(session: Session, course_id: str) -> list[CourseSummary]:
    course = repository.course(session, course_id)
    if course is None:
        raise NotFound(f"No course {course_id}.")
    root = course.translation_of or course.id
    return [
        CourseSummary.model_validate(c)
        for c in repository.translation_family(session, root)
        if c.id != course.id and c.latest_version is not None and c.status != "archived"
    ]


def search_indicators(session: Session, framework_code: str, query: IndicatorQuery) -> IndicatorList:
    """Indicators of a framework for the editor's competency picker: every word of `q` must start the
    code (`ii.ka`) or occur in the title or its competency's title (any case, any script); `codes`
    asks for exact codes (retired ones included, so a page can label what a draft already has)."""
    framework = repository.framework_by_code(session, framework_code)
    if framework is None:
        raise NotFound(f"No competency framework {framework_code!r}.")
    rows = repository.framework_items(session, framework.id)
    by_id = {r.id: r for r in rows}
    wanted = {c.strip() for c in query.codes.split(",") if c.strip()}
    words = query.q.casefold().split()

    def parent(row: FrameworkItem) -> FrameworkItem | None:
        return by_id.get(row.parent_id) if row.parent_id else None

    def matches(row: FrameworkItem) -> bool:
        if wanted:
            return row.code in wanted
        if row.kind != "indicator" or row.retired:
            return False
        up = parent(row)
        text = f"{row.title} {up.title if up else ''}".casefold()
        return all(row.code.casefold().startswith(w) or w in text for w in words)

    found = [r for r in rows if matches(r)][: query.limit]
    return IndicatorList(
        framework=framework.code,
        items=[
            IndicatorMatch(
                code=r.code,
                title=r.title,
                kind=r.kind,
                level=r.level,
                parent_code=p.code if (p := parent(r)) else None,
                parent_title=p.title if p else None,
                retired=r.retired,
            )
            for r in found
        ],
    )


def lesson_preview(
    session: Session, markdown: str, *, max_images: int, image_max_bytes: int, image_max_width: int
) -> LessonPreview:
    """Lesson Markdown as the reader will show it, the problems to fix, and each image with its size
    (images of this platform; None for others), so the editor can show what the lesson weighs."""
    sources = image_sources(markdown)
    sizes = repository.image_sizes(session, [s for src, _ in sources if (s := sha_of(src))])
    return LessonPreview(
        html=render_markdown(markdown),
        problems=[
            MarkdownProblem(line=line, code=code, message=message)
            for line, code, message in markdown_issues(markdown, max_images=max_images)
        ],
        images=[PreviewImage(src=src, alt=alt, bytes=sizes.get(sha_of(src) or "")) for src, alt in sources],
        image_max_bytes=image_max_bytes,
        image_max_width=image_max_width,
    )

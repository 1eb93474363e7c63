"""Course rules: catalogue, learner views without answer keys, lesson rendering, publishing."""

from __future__ import annotations

from typing import Any, Literal

import nh3
from markdown_it import MarkdownIt
from pydantic import BaseModel
from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, Unprocessable
from libs.outbox import utcnow
from services.courses import repository
from services.courses.models import Course, CourseVersion
from services.courses.schemas import (
    AnswerKeyDocument,
    AuthoringView,
    CataloguePage,
    CatalogueQuery,
    CourseContent,
    CourseDetail,
    CourseDraft,
    CourseSummary,
    ItemChange,
    Lesson,
    LessonPage,
    Quiz,
    QuizKey,
    ReviewDecision,
    VersionDiff,
    learner_view,
)

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
ALLOWED_TAGS = {
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "br",
}


def render_markdown(source: str) -> str:
    """Markdown to HTML that is safe to inline: raw HTML is not rendered, and the result is sanitised
    again (no scripts, event handlers, iframes or javascript: links)."""
    return nh3.clean(
        _markdown.render(source),
        tags=ALLOWED_TAGS,
        attributes={
            "a": {"href", "title"},
            "img": {"src", "alt", "title", "width", "height"},
            "th": {"align"},
            "td": {"align"},
        },
        set_tag_attribute_values={"img": {"loading": "lazy", "decoding": "async"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow",
    )


def markdown_problems(source: str, *, max_images: int) -> list[tuple[int, str]]:
    """(line, message) for what an author must fix: an image without alt text (a teacher on a screen
    reader or with images off must still get the point), an image that is not http(s), too many images
    for a 2G phone. The same checks serve the draft API and package import."""
    problems: list[tuple[int, str]] = []
    images = 0
    for token in _markdown.parse(source):
        line = (token.map[0] + 1) if token.map else 1
        for child in token.children or []:
            if child.type != "image":
                continue
            images += 1
            src = str(child.attrGet("src") or "")
            if not child.content.strip():
                problems.append((line, f"image {src!r} has no alt text"))
            first = src.split("/", 1)[0]
            if ":" in first and first.split(":", 1)[0].lower() not in ("http", "https"):
                problems.append((line, f"image {src[:40]!r} must be an http(s) URL or a file of the package"))
            if images == max_images + 1:
                problems.append((line, f"more than {max_images} images in one lesson"))
    return problems


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


# --- Authoring workflow: draft -> in_review -> published -> archived ---------------------------------

EDITORS = ("author", "institute_admin")


def _own_course(session: Session, course_id: str, user: Principal) -> Course:
    """The course, if `user` belongs to its institute (403 for another institute's course)."""
    course = repository.course(session, course_id)
    if course is None:
        raise NotFound(f"No course {course_id}.")
    if user.institute != course.institute_id:
        raise Forbidden("This course belongs to another institute.")
    return course


def check_lessons(draft: CourseDraft, *, max_bytes: int, max_images: int) -> None:
    """413 for a lesson whose Markdown is larger than the cap; 422 naming lesson and line for Markdown
    an author must fix (see `markdown_problems`)."""
    errors = []
    for module in draft.modules:
        for item in module.items:
            if not isinstance(item, Lesson):
                continue
            if len(item.markdown.encode()) > max_bytes:
                raise PayloadTooLarge(
                    f"Lesson {item.id} is {len(item.markdown.encode())} bytes; the limit is {max_bytes}.",
                    item=item.id,
                )
            errors += [
                {"field": f"lesson {item.id} line {line}", "message": message}
                for line, message in markdown_problems(item.markdown, max_images=max_images)
            ]
    if errors:
        raise Unprocessable(f"{len(errors)} problem(s) in lesson Markdown", errors=errors)


def _draft_json(draft: CourseDraft) -> dict[str, Any]:
    return draft.model_dump(mode="json", exclude={"slug", "language", "translation_of"})


def authoring_view(course: Course) -> AuthoringView:
    return AuthoringView(
        id=course.id,
        slug=course.slug,
        status=course.status,
        language=course.language,
        institute_id=course.institute_id,
        translation_of=course.translation_of,
        latest_version=course.latest_version,
        review_comment=course.review_comment,
        draft=course.draft,
    )


def create_draft(session: Session, user: Principal, draft: CourseDraft) -> AuthoringView:
    if not user.institute:
        raise Forbidden("Only members of an institute can author courses.")
    if repository.course_by_slug(session, draft.slug) is not None:
        raise Conflict(f"A course with the slug {draft.slug!r} already exists.")
    if draft.translation_of is not None:
        original = repository.course(session, draft.translation_of)
        if original is None:
            raise Unprocessable(
                "translation_of names no course.",
                errors=[{"field": "translation_of", "message": "no such course"}],
            )
        if original.language == draft.language:
            raise Unprocessable(
                "A translation must be in another language than its original.",
                errors=[{"field": "language", "message": "same language as the original"}],
            )
    course = Course(
        slug=draft.slug,
        title=draft.title,
        summary=draft.summary,
        language=draft.language,
        institute_id=user.institute,
        translation_of=draft.translation_of,
        status="draft",
        draft=_draft_json(draft),
        author_id=user.id,
    )
    session.add(course)
    session.flush()
    return authoring_view(course)


def institute_courses(session: Session, user: Principal) -> list[AuthoringView]:
    if not user.institute:
        return []
    return [authoring_view(c) for c in repository.institute_courses(session, user.institute)]


def get_draft(session: Session, user: Principal, course_id: str) -> AuthoringView:
    """The working copy; for a published course without one, a copy of its latest version to start from."""
    course = _own_course(session, course_id, user)
    view = authoring_view(course)
    if course.draft is None and course.latest_version is not None:
        content = _content(session, course_id, course.latest_version)
        draft = content.model_dump(mode="json", exclude={"course_id", "version", "institute_id", "language"})
        for module in draft["modules"]:
            for item in module["items"]:
                item.pop("html", None)
        view.draft = draft
    return view


def update_draft(session: Session, user: Principal, course_id: str, draft: CourseDraft) -> AuthoringView:
    """Authors edit the working copy while it is a draft. After publishing, editing starts a new draft
    (the published versions stay as they are); while in review the copy is locked (409)."""
    course = _own_course(session, course_id, user)
    if course.status == "in_review":
        raise Conflict("The course is in review; wait for the decision before editing.")
    if course.status == "archived":
        raise Conflict("The course is archived.")
    if (
        draft.slug != course.slug
        or draft.language != course.language
        or draft.translation_of != course.translation_of
    ):
        raise Unprocessable(
            "slug, language and translation_of cannot change.",
            errors=[{"field": "slug", "message": "fixed once the course exists"}],
        )
    course.draft = _draft_json(draft)
    course.status = "draft"
    course.updated_at = utcnow()
    session.add(course)
    return authoring_view(course)


def submit_for_review(session: Session, user: Principal, course_id: str) -> AuthoringView:
    course = _own_course(session, course_id, user)
    if course.status != "draft" or course.draft is None:
        raise Conflict(f"Only a draft can be submitted; the course is {course.status}.")
    course.status = "in_review"
    course.review_comment = None
    course.updated_at = utcnow()
    session.add(course)
    return authoring_view(course)


def review(session: Session, user: Principal, course_id: str, decision: ReviewDecision) -> AuthoringView:
    """An institute admin approves (which publishes the next version) or sends back with comments."""
    course = _own_course(session, course_id, user)
    if course.status != "in_review":
        raise Conflict(f"The course is not in review; it is {course.status}.")
    if decision.decision == "send_back":
        if not decision.comment.strip():
            raise Unprocessable(
                "Say what to change when sending a course back.",
                errors=[{"field": "comment", "message": "required when sending back"}],
            )
        course.status = "draft"
        course.review_comment = decision.comment
        course.updated_at = utcnow()
        session.add(course)
        return authoring_view(course)
    assert course.draft is not None
    content = CourseContent.model_validate(
        {
            **course.draft,
            "course_id": course.id,
            "version": 0,
            "language": course.language,
            "institute_id": course.institute_id,
        }
    )
    course.title, course.summary = content.title, content.summary
    publish(session, course, content)
    course.review_comment = decision.comment or None
    course.draft = None
    return authoring_view(course)


def archive(session: Session, user: Principal, course_id: str) -> AuthoringView:
    course = _own_course(session, course_id, user)
    if course.status == "archived":
        raise Conflict("The course is already archived.")
    course.status = "archived"
    course.updated_at = utcnow()
    session.add(course)
    return authoring_view(course)


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


def _fields(a: BaseModel, b: BaseModel, skip: set[str]) -> list[str]:
    da, db = a.model_dump(mode="json", exclude=skip), b.model_dump(mode="json", exclude=skip)
    return sorted(k for k in da.keys() | db.keys() if da.get(k) != db.get(k))


def diff_versions(session: Session, course_id: str, old: int, new: int) -> VersionDiff:
    """What changed between two versions: metadata fields, lessons and quizzes, questions."""
    a, b = _content(session, course_id, old), _content(session, course_id, new)
    metadata = _fields(a, b, {"modules", "version", "course_id"})

    def changes(before: dict[str, Any], after: dict[str, Any], skip: set[str]) -> list[ItemChange]:
        out = []
        for key in [*after, *(k for k in before if k not in after)]:
            item = after.get(key) or before[key]
            kind = getattr(item, "type", "question")
            title = getattr(item, "title", None) or getattr(item, "prompt", "")
            if key not in before or key not in after:
                out.append(
                    ItemChange(
                        id=key, type=kind, title=title, change="added" if key not in before else "removed"
                    )
                )
            elif fields := _fields(before[key], item, skip):
                out.append(ItemChange(id=key, type=kind, title=title, change="changed", fields=fields))
        return out

    items_a = {i.id: i for i in a.items()}
    items_b = {i.id: i for i in b.items()}
    questions_a = {f"{i.id}/{q.id}": q for i in a.items() if isinstance(i, Quiz) for q in i.questions}
    questions_b = {f"{i.id}/{q.id}": q for i in b.items() if isinstance(i, Quiz) for q in i.questions}
    return VersionDiff(
        course_id=course_id,
        from_version=old,
        to_version=new,
        metadata=metadata,
        items=changes(items_a, items_b, {"html", "questions"}),
        questions=changes(questions_a, questions_b, set()),
    )

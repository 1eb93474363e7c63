"""The authoring workflow: draft -> in_review -> published -> archived. Drafts carry an ETag (If-Match on
every replacement), reviews carry comments per item, translations start from a published original."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Unprocessable,
)
from libs.outbox import utcnow
from services.courses import checks, repository
from services.courses.models import Course, CourseComment
from services.courses.schemas import (
    AuthoringView,
    CourseContent,
    CourseDraft,
    CourseMeta,
    ReviewComment,
    ReviewDecision,
    TranslationRequest,
)
from services.courses.service import publish, published_content

EDITORS = ("author", "institute_admin")


def own_course(session: Session, course_id: str, user: Principal) -> Course:
    """The course, if `user` belongs to its institute (403 for another institute's course)."""
    course = repository.course(session, course_id)
    if course is None:
        raise NotFound(f"No course {course_id}.")
    if user.institute != course.institute_id:
        raise Forbidden("This course belongs to another institute.")
    return course


def _draft_json(draft: CourseDraft) -> dict[str, Any]:
    return draft.model_dump(mode="json", exclude={"slug", "language", "translation_of"})


def draft_etag(course: Course) -> str:
    return f'"draft-{course.revision}"'


def _touch(course: Course) -> None:
    """Every change of the draft or its workflow state gives the draft a new ETag."""
    course.revision = (course.revision or 0) + 1
    course.updated_at = utcnow()


def check_if_match(course: Course, if_match: str | None, *, required: bool) -> None:
    """428 without If-Match (when `required`), 412 when it names another state than the current one:
    two authors editing one draft get a conflict, never a silent overwrite."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                "Send If-Match with the ETag of the draft you edited (GET the draft first).",
                etag=draft_etag(course),
            )
        return
    wanted = [tag.strip() for tag in if_match.split(",")]
    if "*" not in wanted and draft_etag(course) not in wanted:
        raise PreconditionFailed(
            "Someone else changed this draft after you read it.", etag=draft_etag(course)
        )


def authoring_view(course: Course, comments: list[CourseComment] | None = None) -> AuthoringView:
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
        etag=draft_etag(course),
        comments=[
            ReviewComment(
                item_id=c.item_id,
                body=c.body,
                decision=c.decision,
                reviewer_id=c.reviewer_id,
                created_at=c.created_at,
            )
            for c in comments or []
        ],
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
    checks.check_draft(session, draft)
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
    # A draft sent back carries its comments, so the author's home can list it under "sent back".
    courses = repository.institute_courses(session, user.institute)
    return [authoring_view(c, _sent_back_comments(session, c)) for c in courses]


def draft_of(session: Session, course: Course) -> CourseMeta | None:
    """The working copy, else the latest published version to start from (None: neither)."""
    if course.draft is not None:
        return CourseMeta.model_validate(course.draft)
    if course.latest_version is not None:
        return published_content(session, course.id, course.latest_version)
    return None


def _sent_back_comments(session: Session, course: Course) -> list[CourseComment]:
    if course.status != "draft":
        return []
    return [
        c for c in repository.comments(session, course.id, course.review_round) if c.decision == "send_back"
    ]


def get_draft(session: Session, user: Principal, course_id: str) -> AuthoringView:
    """The working copy; for a published course without one, a copy of its latest version to start from."""
    course = own_course(session, course_id, user)
    view = authoring_view(course, _sent_back_comments(session, course))
    if course.draft is None and course.latest_version is not None:
        content = published_content(session, course_id, course.latest_version)
        draft = content.model_dump(mode="json", exclude={"course_id", "version", "institute_id", "language"})
        for module in draft["modules"]:
            for item in module["items"]:
                item.pop("html", None)
        view.draft = draft
    return view


def update_draft(
    session: Session, user: Principal, course_id: str, draft: CourseDraft, if_match: str | None = None
) -> AuthoringView:
    """Authors edit the working copy while it is a draft. After publishing, editing starts a new draft
    (the published versions stay as they are); while in review the copy is locked (409). The caller
    names the state it edited (If-Match): 428 without it, 412 if someone else saved in between."""
    course = own_course(session, course_id, user)
    check_if_match(course, if_match, required=True)
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
    checks.check_draft(session, draft)
    course.draft = _draft_json(draft)
    course.status = "draft"
    _touch(course)
    session.add(course)
    return authoring_view(course, _sent_back_comments(session, course))


def submit_for_review(
    session: Session, user: Principal, course_id: str, if_match: str | None = None
) -> AuthoringView:
    """The draft goes to review if it is a whole course (422 naming what is missing otherwise)."""
    course = own_course(session, course_id, user)
    check_if_match(course, if_match, required=False)
    if course.status != "draft" or course.draft is None:
        raise Conflict(f"Only a draft can be submitted; the course is {course.status}.")
    draft = CourseMeta.model_validate(course.draft)
    checks.check_ready(draft)
    checks.check_draft(session, draft)
    course.status = "in_review"
    course.review_comment = None
    course.review_round = (course.review_round or 0) + 1
    _touch(course)
    session.add(course)
    return authoring_view(course)


def _review_comments(course: Course, user: Principal, decision: ReviewDecision) -> list[CourseComment]:
    """The decision's comments as rows (422 for a comment on an item the draft does not have)."""
    assert course.draft is not None
    items = {i.id for m in CourseMeta.model_validate(course.draft).modules for i in m.items}
    unknown = [c.item_id for c in decision.comments if c.item_id not in items]
    if unknown:
        raise Unprocessable(
            "A comment is about an item the draft does not have.",
            errors=[{"field": "comments", "message": f"no item {i!r}", "value": i} for i in unknown],
        )
    pairs = [(None, decision.comment)] + [(c.item_id, c.body) for c in decision.comments]
    return [
        CourseComment(
            course_id=course.id,
            round=course.review_round,
            item_id=item_id,
            body=body.strip(),
            decision=decision.decision,
            reviewer_id=user.id,
        )
        for item_id, body in pairs
        if body.strip()
    ]


def review(session: Session, user: Principal, course_id: str, decision: ReviewDecision) -> AuthoringView:
    """An institute admin approves (which publishes the next version) or sends back with comments, on
    the whole course and on single lessons and quizzes; the author sees them until the next submission."""
    course = own_course(session, course_id, user)
    if course.status != "in_review":
        raise Conflict(f"The course is not in review; it is {course.status}.")
    comments = _review_comments(course, user, decision)
    session.add_all(comments)
    _touch(course)
    if decision.decision == "send_back":
        if not comments:
            raise Unprocessable(
                "Say what to change when sending a course back.",
                errors=[{"field": "comment", "message": "required when sending back"}],
            )
        course.status = "draft"
        course.review_comment = decision.comment.strip() or None
        session.add(course)
        return authoring_view(course, comments)
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
    course = own_course(session, course_id, user)
    if course.status == "archived":
        raise Conflict("The course is already archived.")
    course.status = "archived"
    _touch(course)
    session.add(course)
    return authoring_view(course)


def source_content(session: Session, user: Principal, course_id: str) -> CourseContent:
    """The latest published version with lesson sources and answer keys, for the course's institute
    (the original a translator works from, side by side)."""
    course = own_course(session, course_id, user)
    if course.latest_version is None:
        raise NotFound(f"Course {course_id} has no published version yet.")
    return published_content(session, course.id, course.latest_version)


def create_translation(
    session: Session, user: Principal, course_id: str, body: TranslationRequest
) -> AuthoringView:
    """A draft in another language that starts as a copy of the published original (same ids, answer
    keys and indicators, so each item lines up with its original) and is linked to it. Only the
    original's institute links translations to its course; a family has one course per language."""
    source = own_course(session, course_id, user)
    if source.latest_version is None:
        raise Conflict("Only a published course can be translated.")
    root = source.translation_of or source.id
    family = repository.translation_family(session, root)
    if body.language in {c.language for c in family}:
        raise Conflict(f"This course already has a version in {body.language}.", language=body.language)
    content = published_content(session, source.id, source.latest_version)
    data = content.model_dump(mode="json", exclude={"course_id", "version", "institute_id", "language"})
    for module in data["modules"]:
        for item in module["items"]:
            item.pop("html", None)
    draft = CourseDraft.model_validate(
        {**data, "slug": body.slug, "language": body.language, "translation_of": root}
    )
    return create_draft(session, user, draft)

"""All queries on the courses service's tables."""

from __future__ import annotations

import re

from sqlalchemy import delete, text
from sqlmodel import Session, col, select

from services.courses.models import (
    Course,
    CourseComment,
    CourseImage,
    CourseIndicator,
    CourseVersion,
    Framework,
    FrameworkItem,
    Image,
)


def search_terms(q: str) -> list[str]:
    """Words of a search box, each matched as a prefix (a phone user types a few letters)."""
    return re.findall(r"\w+", q.lower())[:8]


def published_courses(
    session: Session,
    *,
    lang: str | None,
    q: str | None,
    competency: str | None,
    level: str | None,
    institute: str | None,
    after: str | None,
    limit: int,
) -> list[Course]:
    query = select(Course).where(col(Course.latest_version).is_not(None), Course.status != "archived")
    if lang:
        query = query.where(Course.language == lang)
    if level:
        query = query.where(Course.level == level)
    if institute:
        query = query.where(Course.institute_id == institute)
    if competency:
        # Indexed equality: course_indicators holds every indicator code and each of its ancestors.
        query = query.where(
            col(Course.id).in_(select(CourseIndicator.course_id).where(CourseIndicator.code == competency))
        )
    terms = search_terms(q or "")
    if terms:
        if session.get_bind().dialect.name == "sqlite":
            match = " ".join(f'"{t}"*' for t in terms)
            query = query.where(
                col(Course.id).in_(
                    select(text("course_id"))
                    .select_from(text("courses_fts"))
                    .where(text("courses_fts MATCH :match"))
                )
            ).params(match=match)
        else:
            # Literally the expression of the GIN index (migration c4d2b3e5f6a7), so the index is used.
            query = query.where(
                text(
                    "to_tsvector('simple', coalesce(courses.title, '') || ' ' || "
                    "coalesce(courses.summary, '')) @@ to_tsquery('simple', :tsq)"
                )
            ).params(tsq=" & ".join(f"{t}:*" for t in terms))
    if after:
        query = query.where(Course.id > after)
    return list(session.exec(query.order_by(Course.id).limit(limit)))


def with_ancestors(codes: set[str]) -> set[str]:
    """II.KA.1 -> {II, II.KA, II.KA.1}: a filter on an aspect or competency is then one indexed lookup."""
    return {".".join(code.split(".")[:n]) for code in codes for n in range(1, code.count(".") + 2)}


def index_course(session: Session, course: Course, indicator_codes: set[str]) -> None:
    """Keep the catalogue's search index and competency filter in step with the latest version."""
    session.exec(delete(CourseIndicator).where(col(CourseIndicator.course_id) == course.id))
    session.add_all(
        CourseIndicator(course_id=course.id, code=code) for code in sorted(with_ancestors(indicator_codes))
    )
    if session.get_bind().dialect.name == "sqlite":
        session.exec(text("DELETE FROM courses_fts WHERE course_id = :id").bindparams(id=course.id))  # type: ignore[call-overload]
        session.exec(
            text(
                "INSERT INTO courses_fts (course_id, title, summary) VALUES (:id, :title, :summary)"
            ).bindparams(id=course.id, title=course.title, summary=course.summary)  # type: ignore[call-overload]
        )


def course(session: Session, course_id: str) -> Course | None:
    return session.get(Course, course_id)


def course_by_slug(session: Session, slug: str) -> Course | None:
    return session.exec(select(Course).where(Course.slug == slug)).first()


def version(session: Session, course_id: str, number: int) -> CourseVersion | None:
    return session.get(CourseVersion, (course_id, number))


def framework_by_code(session: Session, code: str) -> Framework | None:
    return session.exec(select(Framework).where(Framework.code == code)).first()


def frameworks(session: Session) -> list[Framework]:
    return list(session.exec(select(Framework).order_by(Framework.code)))


def framework_items(session: Session, framework_id: str) -> list[FrameworkItem]:
    return list(
        session.exec(
            select(FrameworkItem)
            .where(FrameworkItem.framework_id == framework_id)
            .order_by(col(FrameworkItem.position))
        )
    )


def translation_family(session: Session, root_id: str) -> list[Course]:
    """A course and every translation of it (translations link to the original, never to each other)."""
    return list(
        session.exec(
            select(Course)
            .where((Course.id == root_id) | (Course.translation_of == root_id))
            .order_by(Course.language)
        )
    )


def framework(session: Session, framework_id: str) -> Framework | None:
    return session.get(Framework, framework_id)


def framework_items_by_ids(session: Session, ids: list[str]) -> dict[str, FrameworkItem]:
    if not ids:
        return {}
    return {i.id: i for i in session.exec(select(FrameworkItem).where(col(FrameworkItem.id).in_(ids)))}


def institute_courses(session: Session, institute_id: str) -> list[Course]:
    return list(
        session.exec(
            select(Course).where(Course.institute_id == institute_id).order_by(col(Course.updated_at).desc())
        )
    )


def comments(session: Session, course_id: str, round_: int) -> list[CourseComment]:
    return list(
        session.exec(
            select(CourseComment)
            .where(CourseComment.course_id == course_id, CourseComment.round == round_)
            .order_by(col(CourseComment.created_at))
        )
    )


def image(session: Session, sha256: str) -> Image | None:
    return session.get(Image, sha256)


def image_sizes(session: Session, shas: list[str]) -> dict[str, int]:
    if not shas:
        return {}
    rows = session.exec(select(Image.sha256, Image.byte_size).where(col(Image.sha256).in_(shas)))
    return dict(rows.all())


def course_image(session: Session, course_id: str, sha256: str) -> CourseImage | None:
    return session.get(CourseImage, (course_id, sha256))


def course_images(session: Session, course_id: str) -> list[tuple[CourseImage, Image]]:
    rows = session.exec(
        select(CourseImage, Image)
        .join(Image, col(Image.sha256) == col(CourseImage.sha256))
        .where(CourseImage.course_id == course_id)
        .order_by(col(CourseImage.created_at))
    )
    return [(link, row) for link, row in rows.all()]

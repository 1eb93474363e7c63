"""All queries on the courses service's tables."""

from __future__ import annotations

from sqlmodel import Session, col, select

from services.courses.models import Course, CourseVersion, Framework, FrameworkItem


def published_courses(session: Session, *, lang: str | None, q: str | None, after: str | None,
                      limit: int) -> list[Course]:
    query = select(Course).where(col(Course.latest_version).is_not(None), Course.status != "archived")
    if lang:
        query = query.where(Course.language == lang)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(col(Course.title).ilike(like) | col(Course.summary).ilike(like))
    if after:
        query = query.where(Course.id > after)
    return list(session.exec(query.order_by(Course.id).limit(limit)))


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
    return list(session.exec(select(FrameworkItem).where(FrameworkItem.framework_id == framework_id)
                             .order_by(FrameworkItem.position)))


def translation_family(session: Session, root_id: str) -> list[Course]:
    """A course and every translation of it (translations link to the original, never to each other)."""
    return list(session.exec(select(Course).where((Course.id == root_id) | (Course.translation_of == root_id))
                             .order_by(Course.language)))


def framework(session: Session, framework_id: str) -> Framework | None:
    return session.get(Framework, framework_id)


def framework_items_by_ids(session: Session, ids: list[str]) -> dict[str, FrameworkItem]:
    if not ids:
        return {}
    return {i.id: i for i in session.exec(select(FrameworkItem).where(col(FrameworkItem.id).in_(ids)))}

"""What changed between two versions (public: field names only, never answers) and between the draft
and the latest published version (for the course's institute: both sides of every change as text)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel import Session

from libs.auth import Principal
from services.courses.authoring import EDITORS, draft_of, own_course
from services.courses.schemas import (
    CourseMeta,
    DraftDiff,
    FieldChange,
    ItemChange,
    ItemDiff,
    Lesson,
    Question,
    Quiz,
    VersionDiff,
)
from services.courses.service import published_content

C = TypeVar("C", ItemChange, ItemDiff)
ITEM_SKIP = {"html", "questions", "type"}
META_SKIP = {"modules", "version", "course_id", "institute_id", "language"}


def _fields(a: BaseModel, b: BaseModel, skip: set[str]) -> list[str]:
    da, db = a.model_dump(mode="json", exclude=skip), b.model_dump(mode="json", exclude=skip)
    return sorted(k for k in da.keys() | db.keys() if da.get(k) != db.get(k))


def _items(content: CourseMeta) -> dict[str, Lesson | Quiz]:
    return {i.id: i for m in content.modules for i in m.items}


def _questions(content: CourseMeta) -> dict[str, Question]:
    return {f"{i.id}/{q.id}": q for i in _items(content).values() if isinstance(i, Quiz) for q in i.questions}


def _changes(
    before: dict[str, Any], after: dict[str, Any], skip: set[str], make: Callable[..., C], detail: bool
) -> list[C]:
    out = []
    for key in [*after, *(k for k in before if k not in after)]:
        item = after.get(key) or before[key]
        kind = getattr(item, "type", "question")
        title = getattr(item, "title", None) or getattr(item, "prompt", "")
        if key not in before or key not in after:
            out.append(
                make(id=key, type=kind, title=title, change="added" if key not in before else "removed")
            )
        elif names := _fields(before[key], item, skip):
            fields: list[Any] = (
                [field_change(n, getattr(before[key], n, None), getattr(item, n, None)) for n in names]
                if detail
                else names
            )
            out.append(make(id=key, type=kind, title=title, change="changed", fields=fields))
    return out


def diff_versions(session: Session, course_id: str, old: int, new: int) -> VersionDiff:
    """What changed between two versions: metadata fields, lessons and quizzes, questions."""
    a, b = published_content(session, course_id, old), published_content(session, course_id, new)
    return VersionDiff(
        course_id=course_id,
        from_version=old,
        to_version=new,
        metadata=_fields(a, b, {"modules", "version", "course_id"}),
        items=_changes(_items(a), _items(b), ITEM_SKIP, ItemChange, detail=False),
        questions=_changes(_questions(a), _questions(b), set(), ItemChange, detail=False),
    )


def _scalar(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def as_lines(value: Any, prefix: str = "") -> list[str]:
    """A field's value as lines a person can compare: options as `id) text`, mappings as `key: value`."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if value is None or value == "" or value == [] or value == {}:
        return []
    if isinstance(value, dict):
        if set(value) == {"id", "text"}:
            return [f"{prefix}{value['id']}) {value['text']}"]
        if value.get("value") is None:
            value = {k: v for k, v in value.items() if k != "tolerance"}
        return [line for k, v in value.items() for line in as_lines(v, f"{prefix}{k}: ")]
    if isinstance(value, list):
        if prefix and all(isinstance(v, str | int | float) for v in value):
            return [prefix + ", ".join(_scalar(v) for v in value)]
        return [line for v in value for line in as_lines(v, prefix)]
    return [prefix + line for line in _scalar(value).split("\n")]


def field_change(name: str, before: Any, after: Any) -> FieldChange:
    return FieldChange(name=name, before="\n".join(as_lines(before)), after="\n".join(as_lines(after)))


def draft_diff(session: Session, user: Principal, course_id: str) -> DraftDiff:
    """The working copy against the latest published version, for its authors and reviewers."""
    course = own_course(session, course_id, user)
    assert user.has(*EDITORS)
    draft = draft_of(session, course)
    base = published_content(session, course.id, course.latest_version) if course.latest_version else None
    if draft is None or base is None:
        items = _items(draft) if draft else {}
        return DraftDiff(
            course_id=course.id,
            base_version=course.latest_version,
            metadata=[],
            items=[ItemDiff(id=k, type=i.type, title=i.title, change="added") for k, i in items.items()],
            questions=[],
        )
    names = _fields(base, draft, META_SKIP)
    return DraftDiff(
        course_id=course.id,
        base_version=course.latest_version,
        metadata=[field_change(n, getattr(base, n), getattr(draft, n)) for n in names],
        items=_changes(_items(base), _items(draft), ITEM_SKIP, ItemDiff, detail=True),
        questions=_changes(_questions(base), _questions(draft), set(), ItemDiff, detail=True),
    )

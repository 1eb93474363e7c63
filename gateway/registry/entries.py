"""One registry entry at a time (an administrator's edit, a coordinator's approval of a join request):
the same checks as a file row, the same history, and the linked account kept in step."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from gateway.models import new_id
from gateway.registry import accounts_repository, audit, repository
from gateway.registry.audit import Actor
from gateway.registry.models import RegistryTeacher
from gateway.registry.national_id import NationalIds
from gateway.registry.rows import RowError
from gateway.registry.teachers import (
    RawRow,
    change_kind,
    digest_for,
    display_name,
    load_schools,
    parse_teacher_row,
)
from libs.errors import Conflict, NotFound, Unprocessable
from libs.outbox import utcnow

EDITABLE = (
    "last_name",
    "first_name",
    "patronymic",
    "school_code",
    "email",
    "phone",
    "lang",
    "subjects",
    "employment",
    "status",
)


def checked(ids: NationalIds, session: Session, nid: str, values: dict[str, str]) -> dict[str, Any]:
    """Values as a file row would give them, checked the same way; 422 names the first bad field."""
    cells = (
        nid,
        *(values.get(f, "") for f in EDITABLE),
        "",
    )
    normalized = ids.rule.normalize(nid)
    raw = RawRow(0, tuple(c.strip() for c in cells), normalized, ids.lookup(normalized), "")
    schools = load_schools(session)
    parsed, errors = parse_teacher_row(raw, ids, schools)
    if parsed is None:
        raise _invalid(errors)
    return {
        "nid": parsed.nid,
        "nid_hash": parsed.nid_hash,
        "last_name": parsed.last_name,
        "first_name": parsed.first_name,
        "patronymic": parsed.patronymic,
        "school_id": schools[parsed.school_code].id,
        "school_code": parsed.school_code,
        "email": parsed.email,
        "phone": parsed.phone,
        "lang": parsed.lang,
        "subjects": parsed.subjects,
        "employment": parsed.employment,
        "status": parsed.status,
    }


def _invalid(errors: list[RowError]) -> Unprocessable:
    first = errors[0]
    return Unprocessable(
        f"{first.column}: {first.reason}.",
        field=first.column,
        errors=[{"field": e.column, "message": e.reason} for e in errors],
    )


def _stored(teacher: RegistryTeacher, school_code: str) -> dict[str, str]:
    return {
        "last_name": teacher.last_name,
        "first_name": teacher.first_name,
        "patronymic": teacher.patronymic,
        "school_code": school_code,
        "email": teacher.email,
        "phone": teacher.phone,
        "lang": teacher.lang,
        "subjects": teacher.subjects.strip(";"),
        "employment": teacher.employment,
        "status": teacher.status,
    }


def update_entry(
    session: Session, ids: NationalIds, actor: Actor, teacher_id: str, changes: dict[str, Any], action: str
) -> RegistryTeacher:
    """Apply `changes` (EDITABLE fields; subjects as a list or "a;b") to an entry: checked as a file
    row, a history row, an audit entry, and the linked account moved and renamed with it."""
    teacher = repository.teacher(session, teacher_id)
    if teacher is None:
        raise NotFound("No such teacher.")
    school = repository.units_by_ids(session, [teacher.school_id])[teacher.school_id]
    current = _stored(teacher, school.code)
    wanted = dict(current)
    for key, value in changes.items():
        if key not in EDITABLE or value is None:
            continue
        wanted[key] = ";".join(value) if isinstance(value, list) else str(value)
    values = checked(ids, session, ids.unseal(teacher.nid_sealed), wanted)
    before = {k: getattr(teacher, k) for k in EDITABLE if k != "school_code"} | {"school_code": school.code}
    _assign(teacher, values)
    after = {k: getattr(teacher, k) for k in EDITABLE if k != "school_code"} | {
        "school_code": values["school_code"]
    }
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if not changed:
        return teacher
    session.add(teacher)
    session.flush()
    kind = change_kind(None, {("school_id" if k == "school_code" else k): v for k, v in changed.items()}, {})
    repository.insert_teacher_history(session, [_history(teacher.id, kind, before, after, changed, actor)])
    _sync_account(session, teacher)
    audit.record(session, actor, action, f"teacher:{teacher.id}", _only(before, changed), changed)
    return teacher


def create_entry(
    session: Session,
    ids: NationalIds,
    actor: Actor,
    nid: str,
    values: dict[str, str],
    source: str,
    action: str,
) -> RegistryTeacher:
    checked_values = checked(ids, session, nid, values)
    if repository.teacher_by_hash(session, checked_values["nid_hash"]) is not None:
        raise Conflict("This national ID is already in the registry.", field="national_id")
    teacher = RegistryTeacher(
        id=new_id(),
        nid_hash=checked_values["nid_hash"],
        nid_sealed=ids.seal(checked_values["nid"]),
        school_id=checked_values["school_id"],
        last_name="",
        first_name="",
        digest="",
        source=source,
    )
    _assign(teacher, checked_values)
    session.add(teacher)
    session.flush()
    after = {k: getattr(teacher, k) for k in EDITABLE if k != "school_code"} | {
        "school_code": checked_values["school_code"]
    }
    repository.insert_teacher_history(session, [_history(teacher.id, "created", {}, after, after, actor)])
    audit.record(session, actor, action, f"teacher:{teacher.id}", {}, after)
    return teacher


def _assign(teacher: RegistryTeacher, values: dict[str, Any]) -> None:
    for key in ("last_name", "first_name", "patronymic", "school_id", "email", "phone", "lang", "subjects"):
        setattr(teacher, key, values[key])
    teacher.employment, teacher.status = values["employment"], values["status"]
    teacher.digest = digest_for(
        {**{k: values[k] for k in values if k != "school_id"}, "school_code": values["school_code"]}
    )
    teacher.updated_at = utcnow()


def _sync_account(session: Session, teacher: RegistryTeacher) -> None:
    if teacher.user_id is None:
        return
    user = accounts_repository.user(session, teacher.user_id)
    if user is not None:
        user.org_unit_id = teacher.school_id
        user.display_name = display_name(teacher)
        session.add(user)


def _only(values: dict[str, Any], keys: dict[str, Any]) -> dict[str, Any]:
    return {k: values.get(k) for k in keys}


def _history(
    teacher_id: str,
    change: str,
    before: dict[str, Any],
    after: dict[str, Any],
    changed: dict[str, Any],
    actor: Actor,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "teacher_id": teacher_id,
        "at": utcnow(),
        "change": change,
        "before": _only(before, changed),
        "after": _only(after, changed),
        "import_id": None,
        "actor_id": actor.id,
    }

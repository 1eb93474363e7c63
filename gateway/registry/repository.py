"""All queries of the registry: bulk reads keyed by hash or id, multi-row writes, and the reads the
pages and the service API make. Writes take lists of plain dicts (executemany / multi-row VALUES), never
an ORM object per row."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, String, Table, and_, any_, bindparam, func, insert, or_, text, true, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Row
from sqlmodel import Session, col, select

from gateway.models import OrgUnit, User
from gateway.registry.models import (
    AuditEntry,
    ImportFile,
    ImportRun,
    OrgUnitHistory,
    RegistryTeacher,
    TeacherHistory,
)

TEACHERS: Table = RegistryTeacher.__table__  # type: ignore[attr-defined]
TEACHER_HISTORY: Table = TeacherHistory.__table__  # type: ignore[attr-defined]
UNITS: Table = OrgUnit.__table__  # type: ignore[attr-defined]
UNIT_HISTORY: Table = OrgUnitHistory.__table__  # type: ignore[attr-defined]
USERS: Table = User.__table__  # type: ignore[attr-defined]
AUDIT: Table = AuditEntry.__table__  # type: ignore[attr-defined]
IN_CHUNK = 2000  # ids per IN (...) list: far under SQLite's and PostgreSQL's parameter limits


def chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- org units ----------------------------------------------------------------------------------------


def all_units(session: Session) -> list[OrgUnit]:
    return list(session.exec(select(OrgUnit).order_by(col(OrgUnit.path))))


def unit_rows(session: Session) -> list[Row[Any]]:
    """(id, code, kind, path) of every unit, without building ORM objects (counts roll up over them)."""
    u = UNITS.c
    return list(session.execute(core_select(u.id, u.code, u.kind, u.path)))


def schools(session: Session) -> list[Row[Any]]:
    """(code, id, path, retired_at) of every school: what a teacher import checks each row against."""
    u = UNITS.c
    return list(session.execute(core_select(u.code, u.id, u.path, u.retired_at).where(u.kind == "school")))


def unit_by_code(session: Session, code: str) -> OrgUnit | None:
    return session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()


def units_by_ids(session: Session, ids: Iterable[str]) -> dict[str, OrgUnit]:
    wanted = list(set(ids))
    found: dict[str, OrgUnit] = {}
    for part in chunks(wanted):
        for unit in session.exec(select(OrgUnit).where(col(OrgUnit.id).in_(part))):
            found[unit.id] = unit
    return found


def search_units(session: Session, query: str, parent_id: str | None, limit: int) -> list[OrgUnit]:
    stmt = select(OrgUnit)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(or_(func.lower(OrgUnit.code).like(like), func.lower(OrgUnit.name).like(like)))
    elif parent_id is not None:
        stmt = stmt.where(OrgUnit.parent_id == parent_id)
    else:
        stmt = stmt.where(col(OrgUnit.parent_id).is_(None))
    return list(session.exec(stmt.order_by(col(OrgUnit.path)).limit(limit)))


def insert_units(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(UNITS), rows)


def update_units(session: Session, rows: list[dict[str, Any]]) -> None:
    """Each row: `_id` and the columns to set (all rows the same columns)."""
    if not rows:
        return
    columns = [k for k in rows[0] if k != "_id"]
    stmt = update(UNITS).where(UNITS.c.id == bindparam("_id")).values({c: bindparam(c) for c in columns})
    session.execute(stmt, rows)


def unit_history(session: Session, unit_id: str, limit: int = 200) -> list[OrgUnitHistory]:
    return list(
        session.exec(
            select(OrgUnitHistory)
            .where(OrgUnitHistory.org_unit_id == unit_id)
            .order_by(col(OrgUnitHistory.at).desc())
            .limit(limit)
        )
    )


def insert_unit_history(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(UNIT_HISTORY), rows)


def units_changed_since(session: Session, since: datetime, until: datetime, limit: int) -> list[OrgUnit]:
    return list(
        session.exec(
            select(OrgUnit)
            .where(col(OrgUnit.updated_at) >= since, col(OrgUnit.updated_at) < until)
            .order_by(col(OrgUnit.updated_at), col(OrgUnit.id))
            .limit(limit)
        )
    )


# -- teachers -----------------------------------------------------------------------------------------


def _in(session: Session, column: Any, values: Sequence[str]) -> Any:
    """`column IN values`; on PostgreSQL `= ANY(array)`: one parameter instead of thousands to bind,
    sent as one comma-joined string the server splits (psycopg dumps a list element by element in
    Python, ~5 µs a value: a fifth of an unchanged row's cost). A value with a comma: a real array."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    joined = ",".join(values)
    if joined.count(",") != len(values) - 1:
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    return column == any_(func.string_to_array(bindparam(None, joined, type_=String), ","))


def teacher_keys(session: Session, hashes: Sequence[str]) -> dict[str, Row[Any]]:
    """nid_hash -> (id, digest, user_id, school_id, status) for the hashes that exist: one query per
    2,000, the whole cost of recognising an unchanged row."""
    t = TEACHERS.c
    found: dict[str, Row[Any]] = {}
    for part in chunks(hashes):
        rows = session.execute(
            core_select(t.nid_hash, t.id, t.digest, t.user_id, t.school_id, t.status).where(
                _in(session, t.nid_hash, part)
            )
        ).all()  # fetched at once: row by row costs more than the query on an unchanged re-import
        found.update(zip([row.nid_hash for row in rows], rows, strict=True))
    return found


_CHANGED_KEYS = text(
    "SELECT f.h AS nid_hash, t.id, t.digest, t.user_id"
    " FROM unnest(string_to_array(:hashes, ','), string_to_array(:digests, ',')) AS f(h, d)"
    " LEFT JOIN registry_teachers t ON t.nid_hash = f.h"
    " WHERE t.id IS NULL OR t.digest IS DISTINCT FROM f.d"
)


def changed_keys(
    session: Session, hashes: Sequence[str], digests: Sequence[str]
) -> dict[str, Row[Any] | None]:
    """For a chunk's national-ID hashes and the digests their rows have in the file ("" for a row to
    check in full): nid_hash -> (id, digest, user_id) of each stored teacher whose digest differs, or
    None for a hash not in the registry. A hash left out is stored with that digest: unchanged. So an
    unchanged chunk's query returns no rows (PostgreSQL compares; SQLite's rows are compared here)."""
    found: dict[str, Row[Any] | None] = {}
    if session.get_bind().dialect.name == "postgresql":
        for start in range(0, len(hashes), IN_CHUNK):
            part = {"hashes": ",".join(hashes[start : start + IN_CHUNK])}
            # "-" for "": string_to_array('') is an empty array, and unnest would pad it with NULLs
            part["digests"] = ",".join(d or "-" for d in digests[start : start + IN_CHUNK])
            for row in session.execute(_CHANGED_KEYS, part).all():
                found[row.nid_hash] = row if row.id is not None else None
        return found
    stored = teacher_keys(session, hashes)
    for nid_hash, digest in zip(hashes, digests, strict=True):
        key = stored.get(nid_hash)
        if key is None or key.digest != digest:
            found[nid_hash] = key
    return found


def teacher_rows(session: Session, ids: Sequence[str]) -> dict[str, Row[Any]]:
    found: dict[str, Row[Any]] = {}
    for part in chunks(ids):
        for row in session.execute(core_select(TEACHERS).where(TEACHERS.c.id.in_(part))):
            found[row.id] = row
    return found


def insert_teachers(session: Session, rows: list[dict[str, Any]]) -> None:
    """Multi-row INSERT; on PostgreSQL COPY in the same transaction (several times faster)."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(TEACHERS), rows)
        return
    columns = list(rows[0])
    # A timestamp in text, once per value: psycopg's dumper of an aware datetime costs ~6 µs a cell,
    # and a chunk's rows share their created_at and updated_at.
    stamps = [i for i, c in enumerate(columns) if isinstance(rows[0][c], datetime)]
    text_of = functools.lru_cache(maxsize=8)(datetime.isoformat)
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy(f"COPY {TEACHERS.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                values = [row[c] for c in columns]
                for i in stamps:
                    values[i] = text_of(values[i])
                copy.write_row(values)


def update_teachers(session: Session, rows: list[dict[str, Any]]) -> None:
    """Rows grouped by the columns they set, then one executemany per group."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(k for k in row if k != "_id")), []).append(row)
    for columns, group in groups.items():
        stmt = (
            update(TEACHERS)
            .where(TEACHERS.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in columns})
        )
        session.execute(stmt, group)


def insert_teacher_history(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(TEACHER_HISTORY), rows)


def touch_teachers_at(session: Session, school_ids: Sequence[str], when: datetime) -> int:
    """A unit moved: its teachers' org paths changed, so the change feed must show them again."""
    touched = 0
    for part in chunks(school_ids):
        result = session.execute(
            update(TEACHERS).where(TEACHERS.c.school_id.in_(part)).values(updated_at=when)
        )
        touched += result.rowcount  # type: ignore[attr-defined]
    return touched


def teacher(session: Session, teacher_id: str) -> RegistryTeacher | None:
    return session.get(RegistryTeacher, teacher_id)


def teacher_by_hash(session: Session, nid_hash: str) -> RegistryTeacher | None:
    return session.exec(select(RegistryTeacher).where(RegistryTeacher.nid_hash == nid_hash)).first()


def teacher_by_user(session: Session, user_id: str) -> RegistryTeacher | None:
    return session.exec(select(RegistryTeacher).where(RegistryTeacher.user_id == user_id)).first()


def teacher_history(session: Session, teacher_id: str, limit: int = 200) -> list[TeacherHistory]:
    return list(
        session.exec(
            select(TeacherHistory)
            .where(TeacherHistory.teacher_id == teacher_id)
            .order_by(col(TeacherHistory.at).desc())
            .limit(limit)
        )
    )


def active_teachers_per_school(session: Session, school_ids: Sequence[str]) -> dict[str, int]:
    t = TEACHERS.c
    counts: dict[str, int] = {}
    for part in chunks(school_ids):
        for school_id, n in session.execute(
            core_select(t.school_id, func.count())
            .where(t.school_id.in_(part), t.status == "active")
            .group_by(t.school_id)
        ):
            counts[school_id] = n
    return counts


def teacher_filter(
    *,
    path: str | None = None,
    subject: str | None = None,
    employment: str | None = None,
    status: str | None = None,
    query: str | None = None,
) -> list[Any]:
    """WHERE conditions over registry_teachers joined to org_units (`UNITS`) for the filters."""
    t = TEACHERS.c
    where: list[Any] = []
    if path:
        where.append(or_(UNITS.c.path == path, UNITS.c.path.like(path + "/%")))
    if subject:
        where.append(t.subjects.like(f"%;{subject};%"))
    if employment:
        where.append(t.employment == employment)
    if status:
        where.append(t.status == status)
    if query:
        like = f"%{query.lower()}%"
        where.append(
            or_(
                func.lower(t.last_name).like(like),
                func.lower(t.first_name).like(like),
                func.lower(t.email).like(like),
            )
        )
    return where


def teachers_page(session: Session, where: list[Any], after: str | None, limit: int) -> list[Row[Any]]:
    """Teachers with their school's code and path, in id order from `after` (keyset pagination)."""
    t = TEACHERS.c
    stmt = (
        core_select(TEACHERS, UNITS.c.code.label("school_code"), UNITS.c.path.label("org_path"))
        .join(UNITS, UNITS.c.id == t.school_id)
        .where(and_(true(), *where))
    )
    if after:
        stmt = stmt.where(t.id > after)
    return list(session.execute(stmt.order_by(t.id).limit(limit)))


def teachers_by_hashes_with_units(session: Session, hashes: Sequence[str]) -> list[Row[Any]]:
    t = TEACHERS.c
    out: list[Row[Any]] = []
    for part in chunks(hashes):
        out += session.execute(
            core_select(TEACHERS, UNITS.c.code.label("school_code"), UNITS.c.path.label("org_path"))
            .join(UNITS, UNITS.c.id == t.school_id)
            .where(t.nid_hash.in_(part))
        ).all()
    return out


def teachers_by_ids_with_units(session: Session, ids: Sequence[str]) -> list[Row[Any]]:
    """Teachers whose registry id or linked account id is one of `ids`."""
    t = TEACHERS.c
    out: list[Row[Any]] = []
    for part in chunks(ids):
        out += session.execute(
            core_select(TEACHERS, UNITS.c.code.label("school_code"), UNITS.c.path.label("org_path"))
            .join(UNITS, UNITS.c.id == t.school_id)
            .where(or_(t.id.in_(part), t.user_id.in_(part)))
        ).all()
    return out


def teachers_changed_since(
    session: Session, since: datetime, after_id: str, until: datetime, limit: int
) -> list[Row[Any]]:
    """Teachers with (updated_at, id) after (since, after_id) and updated_at before `until`."""
    t = TEACHERS.c
    return list(
        session.execute(
            core_select(TEACHERS, UNITS.c.code.label("school_code"), UNITS.c.path.label("org_path"))
            .join(UNITS, UNITS.c.id == t.school_id)
            .where(
                or_(t.updated_at > since, and_(t.updated_at == since, t.id > after_id)), t.updated_at < until
            )
            .order_by(t.updated_at, t.id)
            .limit(limit)
        )
    )


def counts_per_school(session: Session, where: list[Any]) -> dict[str, int]:
    """school_id -> registered teachers matching `where`; the callers roll them up the tree."""
    t = TEACHERS.c
    stmt = core_select(t.school_id, func.count()).join(UNITS, UNITS.c.id == t.school_id)
    if where:
        stmt = stmt.where(and_(*where))
    return {school_id: n for school_id, n in session.execute(stmt.group_by(t.school_id))}


def all_teacher_rows(session: Session, batch: int = 5000) -> Iterable[Row[Any]]:
    """Every teacher with their school code and linked username, in id order, a batch per query."""
    t = TEACHERS.c
    after = ""
    while True:
        rows = session.execute(
            core_select(TEACHERS, UNITS.c.code.label("school_code"), USERS.c.username.label("username"))
            .join(UNITS, UNITS.c.id == t.school_id)
            .outerjoin(USERS, USERS.c.id == t.user_id)
            .where(t.id > after)
            .order_by(t.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def count_teachers(session: Session) -> int:
    return int(session.execute(core_select(func.count()).select_from(TEACHERS)).scalar_one())


# -- users --------------------------------------------------------------------------------------------


def users_by_usernames(session: Session, usernames: Sequence[str]) -> dict[str, Row[Any]]:
    u = USERS.c
    found: dict[str, Row[Any]] = {}
    for part in chunks(usernames):
        for row in session.execute(core_select(u.id, u.username).where(u.username.in_(part))):
            found[row.username] = row
    return found


def teachers_linked_to(session: Session, user_ids: Sequence[str]) -> dict[str, str]:
    """user id -> the registry entry linked to it."""
    t = TEACHERS.c
    found: dict[str, str] = {}
    for part in chunks(user_ids):
        for user_id, teacher_id in session.execute(core_select(t.user_id, t.id).where(t.user_id.in_(part))):
            found[user_id] = teacher_id
    return found


def set_user_units(session: Session, rows: list[dict[str, Any]]) -> None:
    """Rows of {_id: user id, org_unit_id}: a transferred teacher's next token carries the new path."""
    if rows:
        session.execute(
            update(USERS).where(USERS.c.id == bindparam("_id")).values(org_unit_id=bindparam("org_unit_id")),
            rows,
        )


# -- import runs --------------------------------------------------------------------------------------


def import_run(session: Session, run_id: str) -> ImportRun | None:
    return session.get(ImportRun, run_id)


def import_runs(session: Session, kind: str | None, limit: int) -> list[ImportRun]:
    stmt = select(ImportRun)
    if kind:
        stmt = stmt.where(ImportRun.kind == kind)
    return list(session.exec(stmt.order_by(col(ImportRun.created_at).desc()).limit(limit)))


def import_file(session: Session, run_id: str) -> bytes | None:
    row = session.get(ImportFile, run_id)
    return row.content if row else None


def delete_import_file(session: Session, run_id: str) -> None:
    row = session.get(ImportFile, run_id)
    if row is not None:
        session.delete(row)


def writing_since(session: Session) -> datetime | None:
    """The start of the oldest write of an import still running (the change feed's horizon)."""
    value = session.execute(
        core_select(func.min(ImportRun.writing_since)).where(col(ImportRun.writing_since).is_not(None))
    ).scalar_one_or_none()
    return value

"""Every query of the LRS's tables (statements, the filter index, documents, attachments, agents,
activities, clients, registrations, identities, the activity mapping)."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Row,
    Select,
    String,
    Table,
    TextClause,
    any_,
    bindparam,
    delete,
    exists,
    text,
    tuple_,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from libs.db import dialect_insert
from services.progress.lrs.models import (
    ActivityMapping,
    ActivitySeen,
    AgentSeen,
    Attachment,
    Document,
    ItemResult,
    LaunchRegistration,
    LrsClient,
    StatementFacet,
    TeacherIdentity,
)
from services.progress.models import Statement, table_of


def one_of(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `column = ANY(:array)`: one SQL text whatever the number of
    values, so the driver prepares it once (an IN list is new SQL for every length)."""
    if session.get_bind().dialect.name == "postgresql":
        kind = BigInteger() if values and isinstance(values[0], int) else String()
        return column == any_(bindparam(None, list(values), type_=ARRAY(kind)))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


@functools.cache
def _lookup_sql(
    table: Table, columns: tuple[str, ...], key: str, numbers: bool, postgres: bool, equal: tuple[str, ...]
) -> Select[Any]:
    column = table.c[key]
    if postgres:
        match = column == any_(bindparam("values", type_=ARRAY(BigInteger() if numbers else String())))
    else:
        match = column.in_(bindparam("values", expanding=True))
    return sa_select(*(table.c[c] for c in columns)).where(
        match, *(table.c[e] == bindparam(e) for e in equal)
    )


def lookup(
    session: Session, table: Table, columns: tuple[str, ...], key: str, values: Sequence[Any], **equal: Any
) -> Sequence[Row[Any]]:
    """`columns` of the rows whose `key` is one of `values` (and each `equal` column has its value): a
    statement built once per shape and run on the session's connection, no ORM objects (the store's
    hot path runs several for every batch). On PostgreSQL `values` travel as one array parameter."""
    if not values:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    numbers = isinstance(values[0], int)
    params = {"values": list(values), **equal}
    stmt = _lookup_sql(table, columns, key, numbers, postgres, tuple(sorted(equal)))
    return session.connection().execute(stmt, params).all()


# -- statements ---------------------------------------------------------------------------------------


def statements_by_id(session: Session, ids: Sequence[str]) -> dict[str, Statement]:
    if not ids:
        return {}
    return {
        row.id: row for row in session.exec(select(Statement).where(one_of(session, col(Statement.id), ids)))
    }


class Kept(NamedTuple):
    """What the store compares a resent statement with: its store, content digest and flag."""

    store: str
    digest: str
    future_timestamp: bool


def kept_statements(session: Session, ids: Sequence[str]) -> dict[str, Kept]:
    """The stored statements among `ids` (Core: no ORM objects, no bodies)."""
    if not ids:
        return {}
    rows = lookup(session, table_of(Statement), ("id", "store", "digest", "future_timestamp"), "id", ids)
    return {row.id: Kept(row.store, row.digest, row.future_timestamp) for row in rows}


class Referrer(NamedTuple):
    id: str
    ref_id: str
    stored: datetime


@functools.cache
def _recordset_sql(table: Table, columns: tuple[str, ...], conflict: str) -> TextClause:
    unknown = set(columns) - set(table.c.keys())
    if unknown:  # names come from the code's own row dicts and the table; never from a request
        raise ValueError(f"not columns of {table.name}: {sorted(unknown)}")
    names = ", ".join(columns)
    return text(
        f"INSERT INTO {table.name} ({names}) SELECT {names} "  # noqa: S608 - the table's own names
        f"FROM json_populate_recordset(NULL::{table.name}, CAST(:rows AS json)) {conflict}"
    )


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def bulk_insert(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    ignore: bool = False,
    update: tuple[str, ...] = (),
) -> None:
    """Many rows in one statement; on a primary-key conflict skip the row (`ignore`) or replace the
    `update` columns. On PostgreSQL the rows travel as one JSON parameter into INSERT ... SELECT FROM
    json_populate_recordset: the same SQL whatever the number of rows (prepared once, no per-row
    compilation or escaping), one round trip. On SQLite (in-process) an executemany."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    if session.get_bind().dialect.name != "postgresql":
        stmt = dialect_insert(session, table)
        if update:
            stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in update})
        elif ignore:
            stmt = stmt.on_conflict_do_nothing()
        session.execute(stmt, rows)
        return
    conflict = ""
    if update:
        sets = ", ".join(f"{c} = excluded.{c}" for c in update)
        conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
    elif ignore:
        conflict = "ON CONFLICT DO NOTHING"
    payload = json.dumps(rows, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    session.connection().execute(_recordset_sql(table, tuple(rows[0]), conflict), {"rows": payload})


def insert_statements(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session, table_of(Statement), rows)


def insert_facets(session: Session, rows: list[dict[str, Any]]) -> None:
    unique = list({(r["key"], r["stored"], r["statement_id"]): r for r in rows}.values())
    bulk_insert(session, table_of(StatementFacet), unique, ignore=True)


def void(session: Session, store: str, ids: Sequence[str]) -> None:
    """Mark stored, non-voiding statements of the store voided (a voiding statement is never voided)."""
    if ids:
        session.execute(
            update(Statement)
            .where(
                one_of(session, col(Statement.id), ids),
                col(Statement.store) == store,
                col(Statement.verb) != VOIDED,
            )
            .values(voided=True)
        )


VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def referencing(session: Session, store: str, ids: Sequence[str]) -> list[Referrer]:
    """The store's statements whose object is a StatementRef to one of `ids`."""
    if not ids:
        return []
    rows = lookup(session, table_of(Statement), ("id", "ref_id", "stored"), "ref_id", ids, store=store)
    return [Referrer(row.id, row.ref_id, row.stored) for row in rows]


def statement_in(session: Session, store: str, statement_id: str) -> Statement | None:
    row = session.get(Statement, statement_id)
    return row if row is not None and row.store == store else None


def page(
    session: Session,
    store: str,
    keys: Sequence[int],
    *,
    since: datetime | None,
    until: datetime | None,
    ascending: bool,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Statement]:
    """Up to `limit` unvoided statements of the store in `stored` order (newest first unless
    ascending) after the position `after`, matching every facet key: the first drives a range scan
    of the facet index, each other is a point lookup of it."""
    stmt: Select[Any]
    if keys:
        first = aliased(StatementFacet)
        stored, ident = col(first.stored), col(first.statement_id)
        stmt = (
            sa_select(Statement)
            .join(first, col(first.statement_id) == col(Statement.id))
            .where(col(first.key) == keys[0])
        )
        for key in keys[1:]:
            other = aliased(StatementFacet)
            stmt = stmt.where(
                exists().where(
                    col(other.key) == key, col(other.stored) == stored, col(other.statement_id) == ident
                )
            )
    else:
        stored, ident = col(Statement.stored), col(Statement.id)
        stmt = sa_select(Statement).where(col(Statement.store) == store)
    where: list[ColumnElement[bool]] = [col(Statement.voided).is_(False)]
    if since is not None:
        where.append(stored > since)
    if until is not None:
        where.append(stored <= until)
    if after is not None:
        position = tuple_(stored, ident)
        where.append(position > tuple_(*after) if ascending else position < tuple_(*after))
    order = (stored, ident) if ascending else (stored.desc(), ident.desc())
    return list(session.scalars(stmt.where(*where).order_by(*order).limit(limit)))


# -- documents ----------------------------------------------------------------------------------------


def document(session: Session, store: str, kind: str, scope_key: str, doc_key: str) -> Document | None:
    return session.get(Document, (store, kind, scope_key, doc_key))


def documents(
    session: Session, store: str, kind: str, scope_key: str, since: datetime | None
) -> list[Document]:
    stmt = select(Document).where(
        Document.store == store, Document.kind == kind, Document.scope_key == scope_key
    )
    if since is not None:
        stmt = stmt.where(col(Document.updated) > since)
    return list(session.exec(stmt.order_by(col(Document.doc_id))))


def delete_documents(session: Session, store: str, kind: str, scope_key: str) -> None:
    session.execute(
        delete(Document).where(
            col(Document.store) == store, col(Document.kind) == kind, col(Document.scope_key) == scope_key
        )
    )


# -- attachments, agents, activities ------------------------------------------------------------------


def attachments(session: Session, store: str, hashes: Sequence[str]) -> dict[str, Attachment]:
    if not hashes:
        return {}
    rows = session.exec(select(Attachment).where(Attachment.store == store, col(Attachment.sha2).in_(hashes)))
    return {row.sha2: row for row in rows}


def save_attachments(session: Session, rows: list[dict[str, Any]]) -> None:
    for row in rows:  # one at a time: contents may be megabytes
        session.execute(dialect_insert(session, table_of(Attachment)).values(row).on_conflict_do_nothing())


def save_agents(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session, table_of(AgentSeen), rows, ignore=True)


def agents_known(session: Session, store: str, keys: Sequence[int]) -> set[int]:
    if not keys:
        return set()
    rows = lookup(session, table_of(AgentSeen), ("ifi_key",), "ifi_key", keys, store=store)
    return {row.ifi_key for row in rows}


def agent_seen(session: Session, store: str, ifi_key: int) -> AgentSeen | None:
    return session.get(AgentSeen, (store, ifi_key))


def save_activities(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert activities not seen yet; one with a definition replaces the definition kept."""
    if not rows:
        return
    bulk_insert(session, table_of(ActivitySeen), rows, update=("definition", "updated"))


def definitions_seen(session: Session, store: str, keys: Sequence[int]) -> dict[int, dict[str, Any] | None]:
    """The definitions kept of the store's activities among `keys` (None: seen without one)."""
    if not keys:
        return {}
    columns = ("activity_key", "definition")
    rows = lookup(session, table_of(ActivitySeen), columns, "activity_key", keys, store=store)
    return {row.activity_key: row.definition for row in rows}


def activity_seen(session: Session, store: str, activity_key: int) -> ActivitySeen | None:
    return session.get(ActivitySeen, (store, activity_key))


# -- clients, registrations, identities, mapping ------------------------------------------------------


def client_by_key(session: Session, key: str) -> LrsClient | None:
    return session.exec(select(LrsClient).where(LrsClient.key == key)).first()


def client(session: Session, client_id: str) -> LrsClient | None:
    return session.get(LrsClient, client_id)


def clients_of(session: Session, institute_id: str) -> list[LrsClient]:
    return list(
        session.exec(
            select(LrsClient)
            .where(LrsClient.institute_id == institute_id)
            .order_by(col(LrsClient.created_at).desc())
        )
    )


class Launched(NamedTuple):
    user_id: str
    course_id: str | None


def registrations(session: Session, ids: Sequence[str]) -> dict[str, Launched]:
    """The teacher and course of each launch registration among `ids`."""
    if not ids:
        return {}
    columns = ("registration", "user_id", "course_id")
    rows = lookup(session, table_of(LaunchRegistration), columns, "registration", ids)
    return {row.registration: Launched(row.user_id, row.course_id) for row in rows}


def identities(session: Session, keys: Sequence[int]) -> dict[int, str]:
    if not keys:
        return {}
    rows = lookup(session, table_of(TeacherIdentity), ("ifi_key", "user_id"), "ifi_key", keys)
    return {row.ifi_key: row.user_id for row in rows}


def mapped_courses(session: Session, keys: Sequence[int]) -> list[tuple[str, str]]:
    """(activity id, course id) of the activity mappings among `keys`, in the table's order."""
    if not keys:
        return []
    rows = lookup(session, table_of(ActivityMapping), ("activity_id", "course_id"), "activity_key", keys)
    return [(row.activity_id, row.course_id) for row in rows]


def mappings_of(session: Session, course_id: str) -> list[ActivityMapping]:
    return list(
        session.exec(
            select(ActivityMapping)
            .where(ActivityMapping.course_id == course_id)
            .order_by(col(ActivityMapping.activity_id))
        )
    )


def mapping(session: Session, course_id: str, activity_key: int) -> ActivityMapping | None:
    return session.get(ActivityMapping, (course_id, activity_key))


def item_outcomes(session: Session, enrolment_id: str, outcome: str) -> set[str]:
    """Items of an enrolment with an unvoided LRS result of this outcome (viewed, passed)."""
    rows = session.exec(
        select(ItemResult.item_id)
        .join(Statement, col(Statement.id) == col(ItemResult.statement_id))
        .where(
            ItemResult.enrolment_id == enrolment_id,
            ItemResult.outcome == outcome,
            col(ItemResult.item_id).is_not(None),
            col(Statement.voided).is_(False),
        )
    )
    return {item for item in rows if item}


def mapped_results(session: Session, user_id: str) -> list[tuple[ItemResult, ActivityMapping]]:
    """A teacher's unvoided passed/failed LRS results of mapped activities with their mapping, oldest first."""
    rows = session.exec(
        select(ItemResult, ActivityMapping)
        .join(Statement, col(Statement.id) == col(ItemResult.statement_id))
        .join(
            ActivityMapping,
            (col(ActivityMapping.course_id) == col(ItemResult.course_id))
            & (col(ActivityMapping.activity_id) == col(ItemResult.activity_id)),
        )
        .where(
            ItemResult.user_id == user_id,
            col(ItemResult.outcome).in_(("passed", "failed")),
            col(Statement.voided).is_(False),
        )
        .order_by(col(ItemResult.stored))
    )
    return [(result, mapping) for result, mapping in rows]

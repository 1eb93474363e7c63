"""Registry rules as plain functions of a session: org units and teachers for the pages and the API,
and the service API the progress side reads (resolve, counts, change feed). Imports are in imports.py,
accounts in accounts.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Row
from sqlmodel import Session

from gateway.models import OrgUnit
from gateway.registry import audit, repository
from gateway.registry.audit import Actor
from gateway.registry.models import ImportRun
from gateway.registry.national_id import NationalIds, mask
from gateway.registry.org_units import UnitState, create_unit, edit_unit
from gateway.registry.schemas import (
    HistoryEntry,
    ImportProgress,
    ImportView,
    OrgUnitCreate,
    OrgUnitEdit,
    OrgUnitView,
    RegistryChanges,
    ResolvedTeacher,
    ResolveRequest,
    ResolveResponse,
    RowErrorView,
    TeacherCounts,
    TeacherFilter,
    TeacherView,
    UnitCount,
)
from gateway.registry.teachers import display_name
from libs.auth import Principal
from libs.errors import Forbidden, NotFound, Unprocessable
from libs.outbox import utcnow

SETTLE = timedelta(seconds=5)  # the change feed's horizon trails the clock by this (short transactions)
IMPORT_HORIZON_HOURS = 2  # a writing import older than this crashed: its mark no longer holds the feed
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ERRORS_SHOWN = 100


# -- who sees what ----------------------------------------------------------------------------------


def scope_path(user: Principal) -> str | None:
    """The org path an admin or coordinator may see (None: the whole country, for platform admins and
    service clients). A coordinator without an org scope sees nothing."""
    if user.has("platform_admin", "service"):
        return None
    if user.scope and user.scope.startswith("org:"):
        return user.scope.removeprefix("org:")
    raise Forbidden("Your account has no org unit to look after.")


def within(path: str, scope: str | None) -> bool:
    return scope is None or path == scope or path.startswith(scope + "/")


def sees_national_ids(user: Principal) -> bool:
    """Platform admins (the registry's administrators) and an EMIS-export client, nobody else."""
    return user.has("platform_admin", "emis_export")


# -- org units ----------------------------------------------------------------------------------------


def unit_view(unit: OrgUnit, parent_code: str | None) -> OrgUnitView:
    return OrgUnitView(
        code=unit.code,
        parent_code=parent_code,
        kind=unit.kind,
        name=unit.name,
        names=dict(unit.names or {}),
        path=unit.path,
        retired=unit.retired_at is not None,
        updated_at=unit.updated_at,
    )


def _parent_code(unit: OrgUnit) -> str | None:
    return unit.path.rsplit("/", 2)[-2] if "/" in unit.path else None


def list_units(session: Session, query: str, parent: str | None, limit: int = 200) -> list[OrgUnitView]:
    parent_id = None
    if parent:
        found = repository.unit_by_code(session, parent)
        if found is None:
            raise NotFound(f"No org unit {parent}.")
        parent_id = found.id
    units = repository.search_units(session, query.strip(), parent_id, limit)
    return [unit_view(u, _parent_code(u)) for u in units]


def get_unit(session: Session, code: str) -> tuple[OrgUnitView, list[OrgUnitView], list[HistoryEntry]]:
    unit = repository.unit_by_code(session, code)
    if unit is None:
        raise NotFound(f"No org unit {code}.")
    children = repository.search_units(session, "", unit.id, 1000)
    history = [
        HistoryEntry(
            at=h.at,
            change=h.change,
            before=h.before,
            after=h.after,
            import_id=h.import_id,
            actor_id=h.actor_id,
        )
        for h in repository.unit_history(session, unit.id)
    ]
    return unit_view(unit, _parent_code(unit)), [unit_view(c, code) for c in children], history


def change_unit(session: Session, actor: Actor, code: str, edit: OrgUnitEdit) -> OrgUnitView:
    before, after = edit_unit(
        session,
        code,
        name=edit.name,
        names=edit.names,
        parent_code=edit.parent_code,
        retired=edit.retired,
        actor_id=actor.id,
    )
    if before != after:
        audit.record(session, actor, "org_unit.update", f"org:{code}", before, after)
    unit = repository.unit_by_code(session, code)
    assert unit is not None
    return unit_view(unit, _parent_code(unit))


def add_unit(session: Session, actor: Actor, body: OrgUnitCreate) -> OrgUnitView:
    state = UnitState(
        body.code.strip(),
        (body.parent_code or "").strip() or None,
        body.kind,
        " ".join(body.name.split()),
        tuple(sorted((k, " ".join(v.split())) for k, v in body.names.items() if v.strip())),
    )
    after = create_unit(session, state, actor_id=actor.id)
    audit.record(session, actor, "org_unit.create", f"org:{state.code}", {}, after)
    unit = repository.unit_by_code(session, state.code)
    assert unit is not None
    return unit_view(unit, state.parent_code)


# -- teachers -----------------------------------------------------------------------------------------


def subjects_list(stored: str) -> list[str]:
    return [s for s in stored.split(";") if s]


def teacher_view(row: Row[Any] | Any, ids: NationalIds, *, full: bool) -> TeacherView:
    nid = ids.unseal(row.nid_sealed)
    return TeacherView(
        id=row.id,
        national_id=nid if full else mask(nid),
        last_name=row.last_name,
        first_name=row.first_name,
        patronymic=row.patronymic,
        school_code=row.school_code,
        org_path=row.org_path,
        email=row.email,
        phone=row.phone,
        lang=row.lang,
        subjects=subjects_list(row.subjects),
        employment=row.employment,
        status=row.status,
        user_id=row.user_id,
        source=row.source,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def filter_where(
    session: Session, flt: TeacherFilter, scope: str | None, query: str | None = None
) -> list[Any]:
    path = None
    if flt.org:
        unit = repository.unit_by_code(session, flt.org)
        if unit is None:
            raise NotFound(f"No org unit {flt.org}.")
        path = unit.path
        if not within(path, scope):
            raise Forbidden(f"{flt.org} is outside your jurisdiction.")
    return repository.teacher_filter(
        path=path or scope,
        subject=flt.subject,
        employment=flt.employment,
        status=None if flt.status == "any" else flt.status,
        query=query,
    )


def list_teachers(
    session: Session,
    ids: NationalIds,
    user: Principal,
    flt: TeacherFilter,
    query: str = "",
    national_id: str = "",
    after: str | None = None,
    limit: int = 50,
) -> tuple[list[TeacherView], str | None]:
    """A page of the registry within the user's jurisdiction; an exact national ID finds one person
    by its keyed hash (searching by part of a national ID is impossible by design)."""
    scope = scope_path(user)
    full = sees_national_ids(user)
    if national_id:
        nid = ids.rule.normalize(national_id)
        rows = [
            r
            for r in repository.teachers_by_hashes_with_units(session, [ids.lookup(nid)])
            if within(r.org_path, scope)
        ]
        return [teacher_view(r, ids, full=full) for r in rows], None
    rows = repository.teachers_page(
        session, filter_where(session, flt, scope, query or None), after, limit + 1
    )
    page = [teacher_view(r, ids, full=full) for r in rows[:limit]]
    return page, (rows[limit - 1].id if len(rows) > limit else None)


def get_teacher(
    session: Session, ids: NationalIds, user: Principal, teacher_id: str
) -> tuple[TeacherView, list[HistoryEntry]]:
    scope = scope_path(user)
    rows = repository.teachers_page(session, [repository.TEACHERS.c.id == teacher_id], None, 1)
    if not rows or not within(rows[0].org_path, scope):
        raise NotFound("No such teacher in your jurisdiction.")
    history = [
        HistoryEntry(
            at=h.at,
            change=h.change,
            before=h.before,
            after=h.after,
            import_id=h.import_id,
            actor_id=h.actor_id,
        )
        for h in repository.teacher_history(session, teacher_id)
    ]
    return teacher_view(rows[0], ids, full=sees_national_ids(user)), history


# -- the service API ------------------------------------------------------------------------------------


def resolved(row: Row[Any], ids: NationalIds, with_national_id: bool) -> ResolvedTeacher:
    return ResolvedTeacher(
        registry_id=row.id,
        user_id=row.user_id,
        last_name=row.last_name,
        first_name=row.first_name,
        patronymic=row.patronymic,
        display_name=display_name(row),
        school_code=row.school_code,
        org_path=row.org_path,
        subjects=subjects_list(row.subjects),
        employment=row.employment,
        status=row.status,
        lang=row.lang,
        updated_at=row.updated_at,
        national_id=ids.unseal(row.nid_sealed) if with_national_id else None,
    )


def resolve(session: Session, ids: NationalIds, user: Principal, request: ResolveRequest) -> ResolveResponse:
    """Registry entries by national IDs (the positions of the unknown ones are returned, never the IDs
    themselves), by registry or account ids, or by filter, a page at a time."""
    with_nid = sees_national_ids(user)
    scope = scope_path(user)
    if request.national_ids is not None:
        hashes: list[str | None] = []
        for raw in request.national_ids:
            nid = ids.rule.normalize(raw)
            hashes.append(None if ids.rule.problem(nid) else ids.lookup(nid))
        rows = {
            r.nid_hash: r for r in repository.teachers_by_hashes_with_units(session, [h for h in hashes if h])
        }
        items, unknown = [], []
        for position, digest in enumerate(hashes):
            row = rows.get(digest or "")
            if row is None or not within(row.org_path, scope):
                unknown.append(position)
            else:
                items.append(resolved(row, ids, with_nid))
        return ResolveResponse(items=items, unknown=unknown)
    if request.user_ids is not None:
        found = repository.teachers_by_ids_with_units(session, request.user_ids)
        by_id = {r.id: r for r in found} | {r.user_id: r for r in found if r.user_id}
        items, unknown = [], []
        for position, key in enumerate(request.user_ids):
            row = by_id.get(key)
            if row is None or not within(row.org_path, scope):
                unknown.append(position)
            else:
                items.append(resolved(row, ids, with_nid))
        return ResolveResponse(items=items, unknown=unknown)
    assert request.filter is not None
    where = filter_where(session, request.filter, scope)
    rows_page = repository.teachers_page(session, where, request.after, request.limit + 1)
    page = rows_page[: request.limit]
    return ResolveResponse(
        items=[resolved(r, ids, with_nid) for r in page],
        next=page[-1].id if len(rows_page) > request.limit else None,
    )


def counts(session: Session, user: Principal, flt: TeacherFilter) -> TeacherCounts:
    """Registered teachers matching the filter per org unit at every level: each school's count, added to
    every unit above it. Retired units with teachers still appear (their `left` teachers, say)."""
    scope = scope_path(user)
    where = filter_where(session, flt, scope)
    per_school = repository.counts_per_school(session, where)
    units = repository.unit_rows(session)
    root = None
    if flt.org:
        root = next((u.path for u in units if u.code == flt.org), None)
    root = root or scope
    by_path = {u.path: u for u in units if within(u.path, root)}
    totals: dict[str, int] = dict.fromkeys(by_path, 0)
    paths_by_id = {u.id: u.path for u in units}
    for school_id, n in per_school.items():
        path = paths_by_id.get(school_id, "")
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if prefix in totals:
                totals[prefix] += n
    items = [
        UnitCount(code=by_path[p].code, path=p, kind=by_path[p].kind, teachers=n)
        for p, n in sorted(totals.items(), key=lambda kv: (kv[0].count("/"), kv[0]))
    ]
    return TeacherCounts(filter=flt, total=sum(per_school.values()), items=items)


def parse_cursor(since: str) -> tuple[datetime, str]:
    """`since` is a cursor from `next` ("<ISO time>|<id>") or an ISO time (the first call: "" = all)."""
    if not since:
        return EPOCH, ""
    moment, _, after_id = since.partition("|")
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError as exc:
        raise Unprocessable(
            "since is an ISO 8601 time or the `next` of an earlier answer.", field="since"
        ) from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)), after_id


def horizon(session: Session) -> datetime:
    """Changes before this are committed for good: the clock minus a few seconds, and never past the
    start of an import's write that has not committed yet."""
    now = utcnow()
    limit = now - SETTLE
    writing = repository.writing_since(session)
    if writing is not None and now - writing < timedelta(hours=IMPORT_HORIZON_HOURS):
        limit = min(limit, writing)
    return limit


def changes(session: Session, ids: NationalIds, user: Principal, since: str, limit: int) -> RegistryChanges:
    since_at, after_id = parse_cursor(since)
    until = horizon(session)
    rows = repository.teachers_changed_since(session, since_at, after_id, until, limit + 1)
    page = rows[:limit]
    with_nid = sees_national_ids(user)
    units = repository.units_changed_since(session, since_at, until, 10_000)
    if page and len(rows) > limit:
        last = page[-1]
        cursor = f"{last.updated_at.isoformat()}|{last.id}"
    else:
        cursor = f"{max(until, since_at).isoformat()}|"
    return RegistryChanges(
        teachers=[resolved(r, ids, with_nid) for r in page],
        units=[unit_view(u, _parent_code(u)) for u in units],
        next=cursor,
        horizon=until,
        more=len(rows) > limit,
    )


# -- import runs ----------------------------------------------------------------------------------------


def import_view(run: ImportRun, progress: dict[str, Any] | None = None) -> ImportView:
    from gateway.registry.rows import Outcome

    outcome = Outcome(run.kind, run.dry_run, run.rows, run.created, run.updated, run.unchanged, run.rejected)
    live = None
    if progress and run.status in ("queued", "running"):
        live = ImportProgress(
            phase=str(progress.get("phase", "")),
            done=int(progress.get("done", 0)),
            total=int(progress.get("total", 0)),
        )
    return ImportView(
        id=run.id,
        kind=run.kind,
        status=run.status,
        dry_run=run.dry_run,
        filename=run.filename,
        via=run.via,
        rows=run.rows,
        created=run.created,
        updated=run.updated,
        unchanged=run.unchanged,
        rejected=run.rejected,
        summary=outcome.summary(),
        problem=run.problem,
        errors=[RowErrorView(**e) for e in run.errors[:ERRORS_SHOWN]],
        errors_total=run.rejected,
        progress=live,
        created_at=run.created_at,
        finished_at=run.finished_at,
    )


def get_import(session: Session, run_id: str) -> ImportRun:
    run = repository.import_run(session, run_id)
    if run is None:
        raise NotFound(f"No import {run_id}.")
    return run

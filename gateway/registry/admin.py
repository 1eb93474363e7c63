"""Platform administration of users and institutes: search, roles, scopes, deactivation, creating and
editing institutes. Every change is an audit entry with the state before and after."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session

from gateway.models import Institute, User
from gateway.registry import accounts_repository, audit, repository
from gateway.registry.audit import Actor
from gateway.registry.rows import CODE
from libs.auth import ROLES
from libs.errors import Conflict, NotFound, Unprocessable
from libs.outbox import utcnow

SCOPE = re.compile(r"(org:[A-Za-z0-9][A-Za-z0-9._-]{0,39}|institute:[0-9a-f-]{36})")


def user_summary(user: User, units: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "roles": list(user.roles),
        "scope": user.scope,
        "org_unit": (units or {}).get(user.org_unit_id or ""),
        "institute_id": user.institute_id,
        "active": user.active,
        "lang": user.lang,
    }


def find_users(
    session: Session, query: str, role: str | None, institute_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    users = accounts_repository.search_users(session, query.strip(), role, institute_id, limit)
    units = repository.units_by_ids(session, [u.org_unit_id for u in users if u.org_unit_id])
    codes = {i: u.code for i, u in units.items()}
    return [user_summary(u, codes) for u in users]


def update_user(
    session: Session,
    actor: Actor,
    user_id: str,
    *,
    roles: list[str] | None = None,
    scope: str | None = None,
    org_unit: str | None = None,
    institute_id: str | None = None,
    active: bool | None = None,
) -> dict[str, Any]:
    """Roles, jurisdiction ("org:<code>", "institute:<id>", or "" for none), home unit, institute and
    whether the account may log in. Deactivating ends every session at once."""
    user = accounts_repository.user(session, user_id)
    if user is None:
        raise NotFound("No such user.")
    before = _state(session, user)
    if roles is not None:
        _set_roles(user, roles)
    if scope is not None:
        _set_scope(session, user, scope)
    if org_unit is not None:
        unit = repository.unit_by_code(session, org_unit) if org_unit else None
        if org_unit and unit is None:
            raise NotFound(f"No org unit {org_unit}.", field="org_unit")
        user.org_unit_id = unit.id if unit else None
    if institute_id is not None:
        if institute_id and accounts_repository.institute(session, institute_id) is None:
            raise NotFound("No such institute.", field="institute_id")
        user.institute_id = institute_id or None
    if active is not None:
        user.active = active
        if not active:
            accounts_repository.revoke_user_families(session, user.id, utcnow())
    session.add(user)
    after = _state(session, user)
    if after != before:
        audit.record(session, actor, "user.update", f"user:{user.id}", before, after)
    return user_summary(user)


def _set_roles(user: User, roles: list[str]) -> None:
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise Unprocessable(f"roles: one or more of {', '.join(ROLES)}.", field="roles")
    user.roles = sorted(set(roles))


def _set_scope(session: Session, user: User, scope: str) -> None:
    if scope and not SCOPE.fullmatch(scope):
        raise Unprocessable("scope: org:<code> or institute:<id>.", field="scope")
    if scope.startswith("org:") and repository.unit_by_code(session, scope[4:]) is None:
        raise NotFound(f"No org unit {scope[4:]}.", field="scope")
    user.scope = scope or None


def _state(session: Session, user: User) -> dict[str, Any]:
    unit = (
        repository.units_by_ids(session, [user.org_unit_id]).get(user.org_unit_id)
        if user.org_unit_id
        else None
    )
    return {
        "roles": list(user.roles),
        "scope": user.scope,
        "org_unit": unit.code if unit else None,
        "institute_id": user.institute_id,
        "active": user.active,
    }


def institute_summary(institute: Institute, staff: int = 0) -> dict[str, Any]:
    return {"id": institute.id, "code": institute.code, "name": institute.name, "staff": staff}


def list_institutes(session: Session) -> list[dict[str, Any]]:
    return [institute_summary(i) for i in accounts_repository.institutes(session)]


def save_institute(
    session: Session, actor: Actor, institute_id: str | None, code: str, name: str
) -> dict[str, Any]:
    code, name = code.strip(), " ".join(name.split())
    if not CODE.fullmatch(code):
        raise Unprocessable("code: up to 40 letters, digits, dots and dashes.", field="code")
    if not name or len(name) > 200:
        raise Unprocessable("name: required, up to 200 characters.", field="name")
    other = accounts_repository.institute_by_code(session, code)
    if institute_id is None:
        if other is not None:
            raise Conflict(f"There is already an institute {code}.", field="code")
        institute = Institute(code=code, name=name)
        before: dict[str, Any] = {}
    else:
        found = accounts_repository.institute(session, institute_id)
        if found is None:
            raise NotFound("No such institute.")
        if other is not None and other.id != found.id:
            raise Conflict(f"There is already an institute {code}.", field="code")
        institute = found
        before = institute_summary(institute)
        institute.code, institute.name = code, name
    session.add(institute)
    session.flush()
    after = institute_summary(institute)
    if after != before:
        audit.record(
            session,
            actor,
            "institute.create" if not before else "institute.update",
            f"institute:{institute.id}",
            before,
            after,
        )
    return after

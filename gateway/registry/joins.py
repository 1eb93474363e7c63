"""Join requests: a teacher missing from the registry asks to join their school with its code; a
coordinator of the school or a unit above it approves (linking the registry entry of the same national
ID, moved to this school, or creating one) or rejects, and the teacher is told either way."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from gateway.models import outbox
from gateway.registry import accounts_repository, audit, repository
from gateway.registry.accounts import contact
from gateway.registry.audit import Actor, mask_contact
from gateway.registry.entries import create_entry, update_entry
from gateway.registry.models import JoinRequest
from gateway.registry.national_id import NationalIds, mask
from gateway.registry.rows import EMAIL, RowError, check_name, normalize_phone
from gateway.registry.service import scope_path, within
from gateway.schemas import AccountMessage
from gateway.settings import GatewaySettings
from libs.auth import Principal
from libs.db import as_utc
from libs.errors import Conflict, NotFound, Unprocessable
from libs.outbox import emit, utcnow


@dataclass(frozen=True)
class JoinDetails:
    school_code: str
    national_id: str
    last_name: str
    first_name: str
    patronymic: str = ""
    email: str = ""
    phone: str = ""
    lang: str = ""
    subjects: str = ""
    employment: str = "in_service"


def request_join(session: Session, ids: NationalIds, details: JoinDetails) -> JoinRequest:
    school = repository.unit_by_code(session, details.school_code.strip())
    if school is None or school.kind != "school" or school.retired_at is not None:
        raise NotFound(f"No school has the code {details.school_code.strip()!r}.", field="school_code")
    nid = ids.rule.normalize(details.national_id)
    if problem := ids.rule.problem(nid):
        raise Unprocessable(f"national_id: {problem}.", field="national_id")
    errors: list[RowError] = []
    last = check_name(details.last_name, "last_name", 0, True, errors)
    first = check_name(details.first_name, "first_name", 0, True, errors)
    patronymic = check_name(details.patronymic, "patronymic", 0, False, errors)
    email, phone = details.email.strip().lower(), normalize_phone(details.phone.strip())
    if email and not EMAIL.fullmatch(email):
        errors.append(RowError(0, "email", "is not an e-mail address"))
    if not email and not phone:
        errors.append(RowError(0, "email", "an e-mail address or a phone number is needed for your code"))
    if errors:
        raise Unprocessable(f"{errors[0].column}: {errors[0].reason}.", field=errors[0].column)
    nid_hash = ids.lookup(nid)
    existing = repository.teacher_by_hash(session, nid_hash)
    if existing is not None and existing.school_id == school.id and existing.status == "active":
        raise Conflict(
            "You are in the registry at this school already: activate your account.", field="national_id"
        )
    pending = accounts_repository.pending_join_for(session, nid_hash, school.id)
    if pending is not None:
        return pending
    join = JoinRequest(
        school_id=school.id,
        nid_hash=nid_hash,
        nid_sealed=ids.seal(nid),
        last_name=last,
        first_name=first,
        patronymic=patronymic,
        email=email,
        phone=phone,
        lang=details.lang,
        subjects=details.subjects,
        employment=details.employment
        if details.employment in ("in_service", "pre_service")
        else "in_service",
    )
    session.add(join)
    return join


def join_requests(
    session: Session, ids: NationalIds, user: Principal, status: str | None
) -> list[dict[str, Any]]:
    scope = scope_path(user) or ""
    rows = accounts_repository.join_requests_under(session, scope, status, 200) if scope else []
    if not scope:  # the whole country
        rows = accounts_repository.join_requests_under(session, _root_path(session), status, 200)
    return [
        {
            "id": r.id,
            "school_code": r.school_code,
            "org_path": r.org_path,
            "national_id": mask(ids.unseal(r.nid_sealed)),
            "name": " ".join(p for p in (r.last_name, r.first_name, r.patronymic) if p),
            "contact": mask_contact(r.email or r.phone),
            "status": r.status,
            "in_registry": repository.teacher_by_hash(session, r.nid_hash) is not None,
            "created_at": as_utc(r.created_at).isoformat(),
        }
        for r in rows
    ]


def _root_path(session: Session) -> str:
    roots = repository.search_units(session, "", None, 1)
    return roots[0].path if roots else ""


def decide_join(
    session: Session,
    ids: NationalIds,
    settings: GatewaySettings,
    actor: Actor,
    user: Principal,
    request_id: str,
    approve: bool,
) -> JoinRequest:
    """A coordinator of the school or a unit above it approves (linking the registry entry of the same
    national ID, moved to this school, or creating one) or rejects; the teacher is told either way."""
    join = accounts_repository.join_request(session, request_id)
    school = repository.units_by_ids(session, [join.school_id]).get(join.school_id) if join else None
    if join is None or school is None or not within(school.path, scope_path(user)):
        raise NotFound("No such join request in your jurisdiction.")
    if join.status != "pending":
        raise Conflict(f"This request was already {join.status}.")
    join.status, join.decided_by, join.decided_at = (
        ("approved" if approve else "rejected"),
        actor.id,
        utcnow(),
    )
    if approve:
        join.teacher_id = _link_or_create(session, ids, actor, join, school.code)
    session.add(join)
    channel, address = contact(join.email, join.phone, None)
    emit(
        session,
        outbox,
        AccountMessage(
            message_id=str(uuid.uuid4()),
            user_id=join.teacher_id or join.id,
            kind="join_approved" if approve else "join_rejected",
            channel=channel,
            address=address,
            language=join.lang or "ru",
            link=f"{settings.public_url}/activate",
        ),
    )
    audit.record(
        session,
        actor,
        f"join.{'approve' if approve else 'reject'}",
        f"join:{join.id}",
        {},
        {"school_code": school.code, "teacher_id": join.teacher_id},
    )
    return join


def _link_or_create(
    session: Session, ids: NationalIds, actor: Actor, join: JoinRequest, school_code: str
) -> str:
    existing = repository.teacher_by_hash(session, join.nid_hash)
    if existing is not None:
        changes: dict[str, Any] = {"school_code": school_code, "status": "active"}
        if not existing.email and join.email:
            changes["email"] = join.email
        if not existing.phone and join.phone:
            changes["phone"] = join.phone
        update_entry(session, ids, actor, existing.id, changes, "join.link")
        return existing.id
    values = {
        "last_name": join.last_name,
        "first_name": join.first_name,
        "patronymic": join.patronymic,
        "school_code": school_code,
        "email": join.email,
        "phone": join.phone,
        "lang": join.lang,
        "subjects": join.subjects,
        "employment": join.employment,
        "status": "active",
    }
    return create_entry(session, ids, actor, ids.unseal(join.nid_sealed), values, "join", "join.create").id

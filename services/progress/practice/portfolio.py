"""The evidence portfolio (docs/practice.md): a teacher attaches a reflection, a lesson plan or a
photo to an indicator; a photo is re-encoded small for 2G (the editor's images rule) and needs the
teacher's consent confirmation; a coach or an institute assessor signs it off, and then it counts in
the rating. Only the teacher, their coaches and assessors see it."""

from __future__ import annotations

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Forbidden, NotFound, Unprocessable
from libs.outbox import utcnow
from services.progress.competency import Framework
from services.progress.practice import repository, service
from services.progress.practice.models import Evidence
from services.progress.practice.schemas import EvidencePublic, Portfolio

ASSESSORS = ("institute_admin", "platform_admin")
KINDS = ("reflection", "lesson_plan", "photo")


def _may_see(session: Session, user: Principal, teacher_id: str) -> None:
    if user.id == teacher_id or user.has(*ASSESSORS) or service.coaches(session, user.id, teacher_id):
        return
    raise Forbidden("Only the teacher, their coaches and assessors see this portfolio.")


def public(e: Evidence) -> EvidencePublic:
    return EvidencePublic(
        id=e.id,
        teacher_id=e.teacher_id,
        indicator=e.indicator,
        kind=e.kind,
        text=e.text,
        has_image=e.image is not None,
        consent=e.consent,
        signed_off_by=e.signed_off_by,
        signed_off_at=e.signed_off_at,
        created_at=e.created_at,
    )


def attach(
    session: Session,
    user: Principal,
    framework: Framework,
    *,
    indicator: str,
    kind: str,
    text: str,
    image: bytes | None,
    consent: bool,
) -> Evidence:
    if kind not in KINDS:
        raise Unprocessable(f"Evidence is one of {', '.join(KINDS)}.", field="kind")
    service.check_indicators([indicator], framework)
    if image is not None and not consent:
        raise Unprocessable("Confirm you have consent for any image of students.", field="consent")
    if image is None and not text.strip():
        raise Unprocessable("Write the reflection or lesson plan, or attach a photo.", field="text")
    row = Evidence(
        teacher_id=user.id, indicator=indicator, kind=kind, text=text, image=image, consent=consent
    )
    session.add(row)
    return row


def portfolio(session: Session, user: Principal, teacher_id: str) -> Portfolio:
    _may_see(session, user, teacher_id)
    return Portfolio(items=[public(e) for e in repository.evidence_of(session, teacher_id)])


def image_of(session: Session, user: Principal, evidence_id: str) -> bytes:
    found = repository.evidence(session, evidence_id)
    if found is None or found.image is None:
        raise NotFound("No such image.")
    _may_see(session, user, found.teacher_id)
    return found.image


def sign_off(session: Session, user: Principal, evidence_id: str) -> Evidence:
    found = repository.evidence(session, evidence_id)
    if found is None:
        raise NotFound("No such evidence.")
    if found.teacher_id == user.id or not (
        user.has(*ASSESSORS) or service.coaches(session, user.id, found.teacher_id)
    ):
        raise Forbidden("Evidence is signed off by the teacher's coach or an institute assessor.")
    if found.signed_off_at is None:
        found.signed_off_by, found.signed_off_at = user.name or user.id, utcnow()
        session.add(found)
        service.credit(
            session,
            found.teacher_id,
            f"evidence:{found.id}",
            "evidence",
            f"Evidence: {found.indicator}",
            found.signed_off_at,
        )
    return found

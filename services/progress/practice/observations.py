"""Classroom observation (docs/practice.md): an institute's rubric of framework indicators, a
coach's filled forms synced from a phone exactly once, the teacher's acknowledgement, and the
evidence (observations, signed-off portfolio items) the competency profile counts with its source."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import BadRequest, Conflict, Forbidden, NotFound, Unprocessable
from libs.outbox import utcnow
from services.progress.competency import Framework
from services.progress.practice import repository, service
from services.progress.practice.models import Observation, ObservationForm, Plan
from services.progress.practice.schemas import FormIn, ObservationIn, ObservationsStored
from services.progress.schemas import EvidenceSource


def create_form(session: Session, user: Principal, body: FormIn, framework: Framework) -> ObservationForm:
    """An institute's rubric; every row must name an indicator of the framework (422 otherwise)."""
    if not user.has("institute_admin", "platform_admin"):
        raise Forbidden("Observation forms are built by an institute's admins.")
    service.check_indicators([r.indicator for r in body.rows], framework)
    codes = [r.indicator for r in body.rows]
    if len(set(codes)) != len(codes):
        raise Unprocessable("A rubric names each indicator once.")
    row = ObservationForm(
        institute_id=user.institute,
        title=body.title,
        framework=body.framework,
        rows=[r.model_dump() for r in body.rows],
        fields=list(body.fields),
        created_by=user.id,
    )
    session.add(row)
    return row


def _digest(item: ObservationIn) -> str:
    data = item.model_dump(mode="json", exclude={"id"})
    data["observed_on"] = item.observed_on.astimezone(UTC).isoformat()
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _validate(session: Session, item: ObservationIn, forms: dict[str, ObservationForm | None]) -> list[str]:
    """The low-rated indicators (a follow-up); 422 for a rating that does not fit the form."""
    if item.form_id not in forms:
        forms[item.form_id] = repository.form(session, item.form_id)
    form = forms[item.form_id]
    if form is None:
        raise Unprocessable(f"No observation form {item.form_id}.", id=str(item.id))
    levels = {r["indicator"]: len(r["levels"]) for r in form.rows}
    wrong = sorted(k for k, v in item.ratings.items() if k not in levels or not 1 <= v <= levels[k])
    if wrong or not item.ratings:
        raise Unprocessable(
            "Ratings must name the form's rows with a level it describes.", id=str(item.id), rows=wrong
        )
    return sorted(k for k, v in item.ratings.items() if v < met_level(levels[k]))


def met_level(levels: int) -> int:
    """The lowest level that counts as meeting an indicator: the top quarter of the scale (3 of 4)."""
    return max(2, levels - levels // 4)


def submit_observations(session: Session, user: Principal, batch: list[ObservationIn]) -> ObservationsStored:
    """A phone's queue of observations, exactly once: a known id with the same content is a no-op,
    with other content 409; an id twice in a batch 400; a teacher outside the coach's assignment 403.
    Anything wrong rejects the whole batch."""
    ids = [str(i.id) for i in batch]
    if len(set(ids)) != len(ids):
        raise BadRequest("The batch repeats observation ids.")
    service._coach(session, user)
    outside = sorted({i.teacher_id for i in batch if not service.coaches(session, user.id, i.teacher_id)})
    if outside:
        raise Forbidden("These teachers are outside your coaching assignment.", teachers=outside)
    existing = repository.observations_by_id(session, ids)
    clashes = [str(i.id) for i in batch if str(i.id) in existing and existing[str(i.id)].digest != _digest(i)]
    if clashes:
        raise Conflict("A different observation with this id is already stored.", ids=clashes)
    forms: dict[str, ObservationForm | None] = {}
    new = []
    for item in batch:
        follow_up = _validate(session, item, forms)
        if str(item.id) in existing:
            continue
        row = Observation(
            id=str(item.id),
            form_id=item.form_id,
            teacher_id=item.teacher_id,
            observer_id=user.id,
            observer_name=user.name,
            observed_on=item.observed_on,
            ratings=item.ratings,
            notes=item.notes,
            digest=_digest(item),
            follow_up=follow_up,
        )
        session.add(row)
        new.append(row.id)
        propose(session, item.teacher_id, user.id, follow_up)
        service.credit(
            session,
            item.teacher_id,
            f"observation:{row.id}",
            "observation",
            "Classroom observation",
            item.observed_on,
        )
    return ObservationsStored(ids=ids, new=new)


def propose(session: Session, teacher_id: str, coach_id: str, follow_up: list[str]) -> None:
    """Low-rated indicators join the teacher's coaching plan (a proposed coaching step)."""
    if not follow_up:
        return
    plan = repository.plan(session, teacher_id) or Plan(
        teacher_id=teacher_id, coach_id=coach_id, indicators=[]
    )
    added = [code for code in follow_up if code not in plan.indicators]
    if added:
        plan.indicators = [*plan.indicators, *added]
        plan.updated_at = utcnow()
        session.add(plan)
        session.flush()


def acknowledge(session: Session, user: Principal, observation_id: str) -> Observation:
    found = repository.observation(session, observation_id)
    if found is None or found.teacher_id != user.id:
        raise NotFound("No such observation of your lessons.")
    if found.acknowledged_at is None:
        found.acknowledged_at = utcnow()
        session.add(found)
    return found


def evidence_sources(session: Session, user_id: str) -> dict[str, list[EvidenceSource]]:
    """Indicator -> the observations and signed-off portfolio evidence that count in its rating."""
    found: dict[str, list[EvidenceSource]] = {}
    for o in repository.observations_of(session, user_id):
        for code in o.ratings:
            found.setdefault(code, []).append(
                EvidenceSource(
                    kind="observation",
                    id=o.id,
                    by=o.observer_name or o.observer_id,
                    on=o.observed_on,
                    met=code not in o.follow_up,
                )
            )
    for e in repository.evidence_of(session, user_id):
        if e.signed_off_by and e.signed_off_at:
            found.setdefault(e.indicator, []).append(
                EvidenceSource(kind="evidence", id=e.id, by=e.signed_off_by, on=e.signed_off_at, met=True)
            )
    return found

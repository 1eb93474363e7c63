"""What launched content sends, and what the LMS concludes (docs/lrs.md "Packages").

cmi5: statements with a launch's auth token pass `cmi5.check` before they are stored (403 and
nothing stored otherwise); after them the launch's state moves on and the AU's moveOn is evaluated.
SCORM: the runtime's Commit stores the cmi data as a State document of the SCO and turns the
status and score into LMS statements (completed, passed, failed). Either way, once every unit of
the package is satisfied for the registration, the LMS states `satisfied` about the package's course
activity and the item the package stands for is done (a lesson viewed, a quiz passed), and the
enrolment's completion is evaluated again."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session

from services.progress import repository as progress_repository
from services.progress.lrs import attribution, cmi5, documents, formats
from services.progress.lrs import packages_repository as repo
from services.progress.lrs import repository as lrs_repo
from services.progress.lrs.models import ContentPackage, ItemResult, LaunchSession
from services.progress.lrs.package_parse import CMI5, SCORM12
from services.progress.lrs.packages import SCORM_STATE, actor_of, lms_authority
from services.progress.lrs.store import Writer, store
from services.progress.lrs.validate import check_statement


def launch_of_source(source: str) -> str | None:
    return source.removeprefix("launch:") if source.startswith("launch:") else None


def _unit(package: ContentPackage, activity_id: str) -> dict[str, Any]:
    return next(u for u in package.units if u["activity_id"] == activity_id)


def _registration_verbs(session: Session, row: LaunchSession) -> set[str]:
    return {
        verb
        for other in repo.launches_of(session, row.package_id, row.user_id)
        if other.registration == row.registration and other.unit == row.unit and other.id != row.id
        for verb in other.state
    }


def check_au(
    session: Session, source: str, statements: list[dict[str, Any]], public_url: str
) -> list[str] | None:
    """The cmi5 rules for statements sent with a launch's token: the launch's state after them."""
    launch_id = launch_of_source(source)
    if launch_id is None:
        return None
    row = repo.launch(session, launch_id)
    package = repo.package(session, row.package_id) if row is not None else None
    if row is None or package is None:
        raise cmi5.RuleBroken("This launch no longer exists.")
    unit = _unit(package, row.unit)
    return cmi5.check(
        statements,
        actor=actor_of(row.user_id, public_url),
        registration=row.registration,
        au_id=row.unit,
        mastery=unit["mastery_score"],
        session_state=row.state,
        registration_state=_registration_verbs(session, row),
    )


def after_au(session: Session, source: str, state: list[str], public_url: str, now: datetime) -> None:
    launch_id = launch_of_source(source)
    row = repo.launch(session, launch_id) if launch_id else None
    package = repo.package(session, row.package_id) if row is not None else None
    if row is None or package is None:
        return
    row.state = state
    verbs = set(state) | _registration_verbs(session, row)
    if not row.satisfied and cmi5.satisfied(_unit(package, row.unit)["move_on"], verbs):
        row.satisfied = True
    session.add(row)
    session.flush()
    conclude(session, package, row, public_url, now)


def lms_statements(
    session: Session,
    package: ContentPackage,
    row: LaunchSession,
    verbs: list[str],
    public_url: str,
    now: datetime,
    result: dict[str, Any] | None = None,
    object_id: str | None = None,
) -> None:
    """Statements the LMS makes about a launch (launched; for SCORM completed/passed/failed; the
    package's satisfied), attributed to the teacher through the registration."""
    base = public_url.rstrip("/")
    statements = []
    for verb in verbs:
        target = object_id or row.unit
        statement: dict[str, Any] = {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{row.registration}/{row.id}/{verb}/{target}")),
            "actor": actor_of(row.user_id, base),
            "verb": {"id": cmi5.CMI5_VERBS[verb], "display": {"en-US": verb}},
            "object": {"objectType": "Activity", "id": target},
            "context": {
                "registration": row.registration,
                "contextActivities": {
                    "category": [{"id": cmi5.CATEGORY}] if package.kind == CMI5 else [],
                    "grouping": [{"id": package.course_activity_id}]
                    if target != package.course_activity_id
                    else [],
                },
                "extensions": {cmi5.SESSION_EXT: row.id},
            },
            "timestamp": formats.iso(now),
        }
        if result:
            statement["result"] = result
        for key in ("category", "grouping"):
            if not statement["context"]["contextActivities"][key]:
                del statement["context"]["contextActivities"][key]
        statements.append(check_statement(statement))
    known = lrs_repo.statements_by_id(session, [s["id"] for s in statements])
    statements = [s for s in statements if s["id"] not in known]  # stated already: nothing twice
    if not statements:
        return
    writer = Writer(store=package.store, source="lms:packages", authority=lms_authority(base))
    store(session, writer, statements, attribution.owners(session, statements, {base}), now)


def conclude(
    session: Session, package: ContentPackage, row: LaunchSession, public_url: str, now: datetime
) -> None:
    """Once every unit is satisfied in the registration: `satisfied` about the package and the item
    done, then completion evaluated (as after a graded quiz)."""
    from services.progress import service

    launches = [
        r for r in repo.launches_of(session, package.id, row.user_id) if r.registration == row.registration
    ]
    done = {r.unit for r in launches if r.satisfied}
    for block in sorted({b for u in package.units for b in u.get("blocks", [])}):
        if all(u["activity_id"] in done for u in package.units if block in u.get("blocks", [])):
            lms_statements(session, package, launches[0], ["satisfied"], public_url, now, object_id=block)
    if not all(u["activity_id"] in done for u in package.units):
        return
    enrolment = progress_repository.enrolment_for(session, row.user_id, package.course_id)
    statement_id = str(
        uuid.uuid5(
            uuid.NAMESPACE_URL, f"{row.registration}/{launches[0].id}/satisfied/{package.course_activity_id}"
        )
    )
    if enrolment is None or session.get(ItemResult, (enrolment.id, statement_id)) is not None:
        return
    lms_statements(
        session, package, launches[0], ["satisfied"], public_url, now, object_id=package.course_activity_id
    )
    cached = progress_repository.answer_key(session, enrolment.course_id, enrolment.version)
    lessons = set(cached.key["lessons"]) if cached is not None else set()
    session.add(
        ItemResult(
            enrolment_id=enrolment.id,
            statement_id=statement_id,
            user_id=enrolment.user_id,
            course_id=enrolment.course_id,
            item_id=package.item_id,
            activity_id=package.course_activity_id,
            outcome="viewed" if package.item_id in lessons else "passed",
            scaled=None,
            stored=now,
        )
    )
    session.flush()
    if cached is not None:
        service.evaluate_completion(session, enrolment, cached.key)


def scorm_status(kind: str, cmi: dict[str, str]) -> tuple[set[str], dict[str, Any] | None]:
    """(completed / passed / failed, xAPI result) of a SCO's cmi data."""
    if kind == SCORM12:
        status = cmi.get("cmi.core.lesson_status", "")
        verbs = {"passed": {"passed", "completed"}, "completed": {"completed"}, "failed": {"failed"}}.get(
            status, set()
        )
        raw, low, high = (cmi.get(f"cmi.core.score.{k}", "") for k in ("raw", "min", "max"))
    else:
        verbs = ({"completed"} if cmi.get("cmi.completion_status") == "completed" else set()) | (
            {cmi.get("cmi.success_status", "")} & {"passed", "failed"}
        )
        raw, low, high = (cmi.get(f"cmi.score.{k}", "") for k in ("raw", "min", "max"))
    score = _score(raw, low, high, cmi.get("cmi.score.scaled", ""))
    return verbs, ({"score": score} if score else None)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _score(raw: str, low: str, high: str, scaled: str) -> dict[str, float]:
    value, bottom, top, given = _number(raw), _number(low), _number(high), _number(scaled)
    score: dict[str, float] = {}
    if given is not None and -1 <= given <= 1:
        score["scaled"] = given
    if value is not None:
        bottom, top = bottom if bottom is not None else 0.0, top if top is not None else 100.0
        if bottom < top and bottom <= value <= top:
            score.update(raw=value, min=bottom, max=top)
            score.setdefault("scaled", round((value - bottom) / (top - bottom), 4))
    return score


def scorm_commit(
    session: Session, launch_id: str, cmi: dict[str, str], public_url: str, now: datetime
) -> dict[str, str]:
    """Keep the SCO's cmi data (a State document, readable through /xapi by the institute's
    clients) and state what it says; returns the data kept."""
    from services.progress.lrs.packages import live_launch

    row, package = live_launch(session, launch_id, now)
    base = public_url.rstrip("/")
    at = scorm_state_address(row, base)
    documents.put(
        session,
        package.store,
        at,
        json.dumps(cmi, ensure_ascii=False).encode(),
        "application/json",
        documents.Preconditions(None, None),
        now,
    )
    verbs, result = scorm_status(package.kind, cmi)
    new = sorted(verbs - set(row.state))
    if new:
        lms_statements(session, package, row, new, base, now, result=result)
        row.state = [*row.state, *new]
    if "passed" in row.state or ("completed" in row.state and "failed" not in row.state):
        row.satisfied = True
    session.add(row)
    session.flush()
    conclude(session, package, row, base, now)
    return cmi


def scorm_state_address(row: LaunchSession, public_url: str) -> documents.Address:
    return documents.address(
        documents.STATE,
        {
            "activityId": row.unit,
            "agent": json.dumps(actor_of(row.user_id, public_url.rstrip("/"))),
            "registration": row.registration,
            "stateId": SCORM_STATE,
        },
        one=True,
    )


def scorm_saved(session: Session, row: LaunchSession, store_id: str, public_url: str) -> dict[str, str]:
    """The cmi data the SCO left last time in this registration (resumed on the next launch)."""
    at = scorm_state_address(row, public_url)
    found = lrs_repo.document(session, store_id, at.kind, at.scope_key, at.doc_key)
    if found is None:
        return {}
    value = json.loads(found.content)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

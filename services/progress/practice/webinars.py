"""Webinars and master-classes, and the CPD record (docs/practice.md).

Attendance is an xAPI `attended` statement in the statement store, its id derived from the webinar
and the teacher (stored once however often attendance is recorded), and a CPD entry of the webinar's
length. The transcript is the CPD record of the attestation cycle holding today.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Conflict, Forbidden, NotFound
from libs.outbox import emit, utcnow
from services.progress import reminders
from services.progress import repository as progress_repository
from services.progress.models import Enrolment, outbox
from services.progress.practice import repository
from services.progress.practice.models import CpdEntry, Registration, Webinar
from services.progress.practice.schemas import (
    CpdLine,
    Transcript,
    WebinarIn,
    WebinarList,
    WebinarPublic,
    WebinarRecordingAdded,
)
from services.progress.practice.settings import get_practice_settings
from services.progress.settings import ProgressSettings
from services.progress.statements import agent_of, authority, iso

ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
ATTENDANCE_NS = uuid.UUID("5b0f7f1e-4f6e-4bb6-9d1e-7a3c2f3f8a21")
ORGANISERS = ("institute_admin", "platform_admin")


def activity(webinar_id: str) -> str:
    return f"urn:ustaz:webinar:{webinar_id}"


def schedule(session: Session, user: Principal, body: WebinarIn) -> WebinarPublic:
    if not user.has(*ORGANISERS):
        raise Forbidden("Webinars are scheduled by an institute's admins.")
    row = Webinar(
        institute_id=user.institute,
        title=body.title,
        starts_at=body.starts_at,
        minutes=body.minutes,
        link=str(body.link),
        recording=str(body.recording or ""),
        created_by=user.id,
    )
    session.add(row)
    return _public(row, None)


def _public(w: Webinar, reg: Registration | None, organiser: bool = False) -> WebinarPublic:
    """A webinar as `reg`'s teacher sees it: the recording is for those who registered (and organisers)."""
    return WebinarPublic(
        id=w.id,
        title=w.title,
        starts_at=w.starts_at,
        minutes=w.minutes,
        link=w.link,
        recording=w.recording if reg is not None or organiser else "",
        registered=reg is not None,
        attended=bool(reg and reg.attended),
    )


def upcoming(session: Session, user: Principal) -> WebinarList:
    regs = repository.registrations_of(session, user.id)
    rows = repository.webinars(session, utcnow() - timedelta(days=30))
    organiser = user.has(*ORGANISERS)
    return WebinarList(items=[_public(w, regs.get(w.id), organiser) for w in rows])


def _organised(session: Session, user: Principal, webinar_id: str) -> Webinar:
    """The webinar, if `user` organises it (its institute's admin, or a platform admin)."""
    if not user.has(*ORGANISERS):
        raise Forbidden("Only the webinar's organisers do this.")
    webinar = repository.webinar(session, webinar_id)
    if webinar is None:
        raise NotFound("No such webinar.")
    if (
        user.has("institute_admin")
        and not user.has("platform_admin")
        and webinar.institute_id != user.institute
    ):
        raise Forbidden("This webinar belongs to another institute.")
    return webinar


def set_recording(session: Session, user: Principal, webinar_id: str, url: str) -> WebinarPublic:
    """The recording's link, added after the session (on the deployment's own video service); the
    webinar's registrants see it on their list and get a notice (`webinar.recording_added`, in this
    transaction). The same link again changes nothing and emits nothing; a changed link is a new
    notice (the old one's link may be the broken one)."""
    webinar = _organised(session, user, webinar_id)
    if webinar.starts_at > utcnow():
        raise Conflict("The webinar has not taken place yet: add its recording afterwards.")
    if webinar.recording != url:
        webinar.recording = url
        session.add(webinar)
        emit(
            session,
            outbox,
            WebinarRecordingAdded(webinar_id=webinar.id, title=webinar.title, recording=url),
        )
    return _public(webinar, None, organiser=True)


def recording_period(webinar_id: str, url: str) -> str:
    """The notice's key beside the registration's and the `soon:` one: one per webinar and link (the
    period column's 40 characters)."""
    return "rec:" + hashlib.sha256(f"{webinar_id}\n{url}".encode()).hexdigest()[:36]


def _remind(
    session: Session,
    settings: ProgressSettings,
    now: datetime,
    reg: Registration,
    period: str,
    values: dict[str, str],
    link: str,
    text: str | None = None,
) -> bool:
    """One webinar notice to a registrant, under the `webinar` rule (its opt-out covers every one),
    in the language they registered in; False if they opted out or it was made already."""
    made = reminders.remind(
        session,
        settings,
        now,
        user_id=reg.user_id,
        rule="webinar",
        text=text,
        course_id="",
        period=period,  # the reminder's key: at most the column's 40 characters
        language=reg.language or "ru",
        prefs=progress_repository.reminder_preferences(session, reg.user_id),
        values=values,
        link=link,
    )
    return made is not None


def _announced(webinar: Webinar) -> dict[str, str]:
    return {"title": webinar.title, "starts": webinar.starts_at.strftime("%Y-%m-%d %H:%M UTC")}


def notify_recording(
    session: Session, settings: ProgressSettings, now: datetime, payload: WebinarRecordingAdded
) -> int:
    """On `webinar.recording_added`: each registrant's notice with the link, once per link."""
    period = recording_period(payload.webinar_id, payload.recording)
    return sum(
        _remind(
            session,
            settings,
            now,
            reg,
            period,
            {"title": payload.title},
            payload.recording,
            "webinar_recording",
        )
        for reg in repository.registrations_for(session, payload.webinar_id)
    )


def remind_soon(session: Session, settings: ProgressSettings, now: datetime, minutes: float) -> int:
    """A second reminder to every registrant of a webinar starting within `minutes` (once each: its
    own key beside the one made at registration)."""
    return sum(
        _remind(
            session,
            settings,
            now,
            reg,
            f"soon:{uuid.UUID(webinar.id).hex}",
            _announced(webinar),
            webinar.link,
        )
        for webinar in repository.webinars_between(session, now, now + timedelta(minutes=minutes))
        for reg in repository.registrations_for(session, webinar.id)
    )


def register(session: Session, settings: ProgressSettings, user: Principal, webinar_id: str) -> WebinarPublic:
    """Register (again: a no-op), with a reminder in the inbox and on the teacher's channels."""
    webinar = repository.webinar(session, webinar_id)
    if webinar is None:
        raise NotFound("No such webinar.")
    reg = repository.registration(session, webinar_id, user.id)
    if reg is None:
        reg = Registration(webinar_id=webinar_id, user_id=user.id, language=user.lang)
        session.add(reg)
        _remind(session, settings, utcnow(), reg, webinar_id, _announced(webinar), webinar.link)
    return _public(webinar, reg)


def record_attendance(session: Session, user: Principal, webinar_id: str, user_ids: list[str]) -> int:
    """The organiser marks who attended: an `attended` statement and CPD hours each, once."""
    webinar = _organised(session, user, webinar_id)
    now = utcnow()
    statement_ids = {uid: str(uuid.uuid5(ATTENDANCE_NS, f"{webinar_id}:{uid}")) for uid in user_ids}
    stored = progress_repository.statements_by_id(session, list(statement_ids.values()))
    rows = []
    for uid, sid in statement_ids.items():
        reg = repository.registration(session, webinar_id, uid) or Registration(
            webinar_id=webinar_id, user_id=uid
        )
        reg.attended = True
        session.add(reg)
        if sid not in stored:
            rows.append(_statement(sid, uid, webinar, now))
        key = f"webinar:{webinar_id}"
        if repository.cpd_entry(session, f"{key}:{uid}") is None:
            hours = round(webinar.minutes / 60, 2)
            session.add(
                CpdEntry(
                    key=f"{key}:{uid}",
                    user_id=uid,
                    kind="webinar",
                    title=webinar.title,
                    hours=hours,
                    at=webinar.starts_at,
                )
            )
    if rows:
        progress_repository.insert_statements(session, rows)
    return len(rows)


def _statement(statement_id: str, user_id: str, webinar: Webinar, now: datetime) -> dict[str, object]:
    client = {
        "actor": agent_of(user_id).model_dump(mode="json", exclude_none=True),
        "verb": {"id": ATTENDED, "display": {"en-US": "attended"}},
        "object": {
            "objectType": "Activity",
            "id": activity(webinar.id),
            "definition": {
                "name": {"en-US": webinar.title},
                "type": "http://adlnet.gov/expapi/activities/meeting",
            },
        },
        "result": {"duration": f"PT{webinar.minutes}M", "completion": True},
    }
    body = {
        **client,
        "id": statement_id,
        "timestamp": iso(webinar.starts_at),
        "stored": iso(now),
        "authority": authority(),
        "version": "1.0.3",
    }
    return {
        "id": statement_id,
        "user_id": user_id,
        "course_id": None,
        "verb": ATTENDED,
        "activity_id": activity(webinar.id),
        "body": body,
        "digest": hashlib.sha256(json.dumps(client, sort_keys=True).encode()).hexdigest(),
        "timestamp": webinar.starts_at,
        "stored": now,
        "future_timestamp": False,
        "voided": False,
        "voids": None,
    }


def transcript(session: Session, user_id: str, now: datetime | None = None) -> Transcript:
    """Hours per activity type in the attestation cycle holding `now` (courses completed in it too)."""
    rules = get_practice_settings()
    start, end = rules.cycle(now or utcnow())
    lines = [
        CpdLine(kind=e.kind, title=e.title, hours=e.hours, at=e.at)
        for e in repository.cpd_of(session, user_id, start, end)
    ]
    for enrolment in _completed(session, user_id):
        at = enrolment.completed_at
        if at is not None and start <= at < end:
            lines.append(
                CpdLine(kind="course", title=enrolment.course_title, hours=rules.hours("course"), at=at)
            )
    lines.sort(key=lambda line: line.at)
    by_kind: dict[str, float] = {}
    for line in lines:
        by_kind[line.kind] = round(by_kind.get(line.kind, 0.0) + line.hours, 2)
    return Transcript(
        user_id=user_id,
        cycle_start=start,
        cycle_end=end,
        required_hours=rules.cpd_required_hours,
        total_hours=round(sum(line.hours for line in lines), 2),
        by_kind=by_kind,
        lines=lines,
    )


def _completed(session: Session, user_id: str) -> list[Enrolment]:
    return [e for e in progress_repository.enrolments_of(session, user_id) if e.status == "completed"]

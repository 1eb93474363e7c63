"""cmi5 and SCORM packages as course content (docs/lrs.md "Packages"): import (a course's authors),
launch (a teacher enrolled in the course), cmi5's fetch URL, and the files the launched content
reads. What the content then sends is ruled and concluded in `package_runs.py`."""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import secrets
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Forbidden, NotFound, Unprocessable
from libs.outbox import utcnow
from services.courses.schemas import CourseDetail
from services.progress import repository as progress_repository
from services.progress.lrs import admin, cmi5, documents, package_parse
from services.progress.lrs import packages_repository as repo
from services.progress.lrs.models import ContentPackage, LaunchSession, PackageFile
from services.progress.lrs.package_parse import CMI5
from services.progress.lrs.schemas import LaunchOut
from services.progress.models import Enrolment

LAUNCH_DATA = "LMS.LaunchData"
SCORM_STATE = "urn:ustaz:scorm:cmi"
LMS_NAME = "lms"


def actor_of(user_id: str, public_url: str) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": public_url, "name": user_id}}


def lms_authority(public_url: str) -> dict[str, Any]:
    return {"objectType": "Agent", "name": "Ustaz LMS", "account": {"homePage": public_url, "name": LMS_NAME}}


def import_package(
    session: Session,
    user: Principal,
    course: CourseDetail,
    item_id: str,
    data: bytes,
    *,
    max_unpacked: int,
) -> ContentPackage:
    """Store a package standing for the course's item `item_id` (or 422 with every problem, nothing
    stored). The package's course activity is mapped to the item, so what the LMS concludes about
    it (moveOn satisfied) completes the item."""
    admin.may_author(user, course)
    items = {i.id for module in course.content.modules for i in module.items}
    if item_id not in items:
        raise Unprocessable(
            "The package stands for an item of the course.",
            errors=[{"field": "item_id", "message": f"the course has no item {item_id!r}"}],
        )
    package_id = str(uuid.uuid4())
    plan = package_parse.read_zip(
        data, max_unpacked=max_unpacked, package_iri=f"urn:ustaz:package:{package_id}"
    )
    if plan.problems:
        raise Unprocessable(
            "The package cannot be imported.",
            errors=[{"file": file, "message": message} for file, message in plan.problems],
        )
    package = ContentPackage(
        id=package_id,
        course_id=course.id,
        item_id=item_id,
        store=course.institute_id,
        kind=plan.kind,
        title=(plan.title or "package")[:300],
        course_activity_id=plan.course_activity_id,
        units=[asdict(u) for u in plan.units],
        created_by=user.id,
    )
    session.add(package)
    for path, content in plan.files.items():
        kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
        session.add(PackageFile(package_id=package_id, path=path, content_type=kind, content=content))
    admin.set_mapping_row(session, user, course.id, plan.course_activity_id, item_id)
    return package


def enrolment_of(session: Session, user_id: str, package_id: str) -> Enrolment | None:
    package = repo.package(session, package_id)
    return progress_repository.enrolment_for(session, user_id, package.course_id) if package else None


def _unit(package: ContentPackage, activity_id: str | None) -> dict[str, Any]:
    units = package.units
    if activity_id is None:
        return units[0]
    for unit in units:
        if unit["activity_id"] == activity_id:
            return unit
    raise NotFound(f"The package has no unit {activity_id!r}.")


def launch(
    session: Session, user: Principal, package_id: str, unit_id: str | None, public_url: str, hours: float
) -> LaunchOut:
    """A launch of one unit for an enrolled teacher: the registration (one per teacher and package,
    reused by every launch), a launch with its own content address, cmi5's LMS.LaunchData and
    `launched` statement, and the URL to open."""
    package = repo.package(session, package_id)
    if package is None:
        raise NotFound("No such package.")
    if not user.has("teacher"):
        raise Forbidden("Teachers launch course content.")
    unit = _unit(package, unit_id)
    previous = repo.launches_of(session, package.id, user.id)
    registration = previous[0].registration if previous else None
    if registration is None:
        registration = admin.register_launch(
            session, user.id, package.course_id, package.course_activity_id
        ).registration
    elif progress_repository.enrolment_for(session, user.id, package.course_id) is None:
        raise NotFound("You are not enrolled in this course.")
    now = utcnow()
    if package.kind == CMI5:
        _abandon(session, package, [p for p in previous if p.unit == unit["activity_id"]], public_url, now)
    row = LaunchSession(
        id=secrets.token_urlsafe(24),
        package_id=package.id,
        unit=unit["activity_id"],
        registration=registration,
        user_id=user.id,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        satisfied=unit["move_on"] == "NotApplicable" and package.kind == CMI5,
    )
    session.add(row)
    base = public_url.rstrip("/")
    if package.kind != CMI5:
        url = f"{base}/xapi/scorm/{row.id}/"
    else:
        url = _cmi5_start(session, package, unit, row, base, now)
    return LaunchOut(
        url=url, registration=registration, launch_id=row.id, kind=package.kind, unit=unit["activity_id"]
    )


def _abandon(
    session: Session, package: ContentPackage, earlier: list[LaunchSession], public_url: str, now: datetime
) -> None:
    """cmi5 9.3.8: a session of the AU left without terminated is abandoned when the AU is launched
    again (its token then refuses every statement)."""
    from services.progress.lrs import package_runs

    for old in earlier:
        if "initialized" in old.state and not {"terminated", "abandoned"} & set(old.state):
            package_runs.lms_statements(session, package, old, ["abandoned"], public_url, now)
            old.state = [*old.state, "abandoned"]
            session.add(old)


def _cmi5_start(
    session: Session,
    package: ContentPackage,
    unit: dict[str, Any],
    row: LaunchSession,
    base: str,
    now: datetime,
) -> str:
    from services.progress.lrs import package_runs

    actor = actor_of(row.user_id, base)
    launch_data = {
        "contextTemplate": {
            "contextActivities": {"grouping": [{"id": package.course_activity_id}]},
            "extensions": {cmi5.SESSION_EXT: row.id},
        },
        "launchMode": "Normal",
        "launchMethod": "AnyWindow",
        "moveOn": unit["move_on"],
        "returnURL": f"{base}/courses/{package.course_id}",
        **({"masteryScore": unit["mastery_score"]} if unit["mastery_score"] is not None else {}),
        **({"launchParameters": unit["launch_parameters"]} if unit["launch_parameters"] else {}),
    }
    at = documents.address(
        documents.STATE,
        {
            "activityId": unit["activity_id"],
            "agent": json.dumps(actor),
            "registration": row.registration,
            "stateId": LAUNCH_DATA,
        },
        one=True,
    )
    documents.put(
        session,
        package.store,
        at,
        json.dumps(launch_data).encode(),
        "application/json",
        documents.Preconditions(None, None),
        now,
    )
    package_runs.lms_statements(session, package, row, ["launched"], base, now)
    href = unit["href"]
    start = href if "://" in href else f"{base}/xapi/content/{row.id}/{quote(href, safe='/?&=%')}"
    query = urlencode(
        {
            "endpoint": f"{base}/xapi/",
            "fetch": f"{base}/xapi/cmi5/fetch/{row.id}",
            "registration": row.registration,
            "activityId": unit["activity_id"],
            "actor": json.dumps(actor, separators=(",", ":")),
        }
    )
    return f"{start}{'&' if '?' in start else '?'}{query}"


def fetch(session: Session, launch_id: str, now: datetime) -> dict[str, str]:
    """cmi5's fetch URL (8.2.3): the auth token, once; then error 1 (already used), 2 (expired) or
    3 (no such launch)."""
    row = repo.launch(session, launch_id)
    if row is None:
        return {"error-code": "3", "error-text": "No such launch."}
    if row.expires_at <= now:
        return {"error-code": "2", "error-text": "The launch has expired."}
    if row.fetched:
        return {"error-code": "1", "error-text": "The auth token was fetched already."}
    token = secrets.token_urlsafe(32)
    row.token_hash, row.fetched = hashlib.sha256(token.encode()).hexdigest(), True
    session.add(row)
    return {"auth-token": base64.b64encode(f"cmi5-{row.id}:{token}".encode()).decode()}


def live_launch(session: Session, launch_id: str, now: datetime) -> tuple[LaunchSession, ContentPackage]:
    row = repo.launch(session, launch_id)
    package = repo.package(session, row.package_id) if row is not None else None
    if row is None or package is None or row.expires_at <= now:
        raise NotFound("No such launch, or it has expired: launch the content again.")
    return row, package


def content_file(session: Session, launch_id: str, path: str, now: datetime) -> PackageFile:
    row, _ = live_launch(session, launch_id, now)
    found = repo.file(session, row.package_id, path)
    if found is None:
        raise NotFound(f"The package has no file {path}.")
    return found

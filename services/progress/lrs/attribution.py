"""Whom a statement from an LRS client is about (docs/lrs.md "Attribution"): a platform teacher when
its context carries a launch registration, its actor is an account on this platform's homePage
(name = the user id), or its actor's mbox / mbox_sha1sum is a teacher's known identity (the seam the
teacher registry fills: `lrs_teacher_identities`). Anyone else is stored and queryable, attributed
to nobody. The course is the one its Ustaz activity IRIs name, or the one an author mapped its
activity to."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from services.progress.lrs import canonical, formats
from services.progress.lrs import repository as repo
from services.progress.lrs.store import Owner
from services.progress.xapi import parse_activity


def identity_key(mbox_sha1sum: str) -> int:
    """The key of an identity in `lrs_teacher_identities`: every e-mail is kept as its mbox_sha1sum."""
    return canonical.key64("mbox_sha1sum", mbox_sha1sum.lower())


def mbox_sha1sum(mbox: str) -> str:
    return hashlib.sha1(mbox.encode(), usedforsecurity=False).hexdigest()


def _identity_of(actor: dict[str, Any]) -> str | None:
    if isinstance(actor.get("mbox"), str):
        return mbox_sha1sum(actor["mbox"])
    if isinstance(actor.get("mbox_sha1sum"), str):
        return str(actor["mbox_sha1sum"]).lower()
    return None


def owners(session: Session, statements: Sequence[dict[str, Any]], home_pages: set[str]) -> list[Owner]:
    """The owner of each statement. At most three queries for the whole batch: launch registrations,
    then known identities of the actors not found so, then the mappings of the activities of those
    attributed whose course their registration and IRIs do not name."""
    registrations = [
        formats.canonical_uuid(r) if (r := (s.get("context") or {}).get("registration")) else None
        for s in statements
    ]
    launches = repo.registrations(session, sorted({r for r in registrations if r}))
    users: list[str | None] = []
    courses: list[str | None] = []
    for statement, registration in zip(statements, registrations, strict=True):
        launch = launches.get(registration) if registration else None
        users.append(launch.user_id if launch else _account_user(statement["actor"], home_pages))
        courses.append(launch.course_id if launch else None)
    sums = {
        i: found for i, s in enumerate(statements) if users[i] is None and (found := _identity_of(s["actor"]))
    }
    keys = {found: identity_key(found) for found in sums.values()}
    known = repo.identities(session, list(keys.values()))
    for index, found in sums.items():
        users[index] = known.get(keys[found])
    unplaced = {i: _activity_ids(statements[i]) for i, user in enumerate(users) if user and not courses[i]}
    for index, activity_ids in unplaced.items():
        courses[index] = next((parsed[0] for a in activity_ids if (parsed := parse_activity(a))), None)
    wanted = sorted({a for i, ids in unplaced.items() if courses[i] is None for a in ids})
    mapped: dict[str, str] = {}
    for activity_id, course_id in repo.mapped_courses(session, [canonical.key64(a) for a in wanted]):
        mapped.setdefault(activity_id, course_id)
    for index, activity_ids in unplaced.items():
        if courses[index] is None:
            courses[index] = next((mapped[a] for a in activity_ids if a in mapped), None)
    return [Owner(user_id=u, course_id=c if u else None) for u, c in zip(users, courses, strict=True)]


def _account_user(actor: dict[str, Any], home_pages: set[str]) -> str | None:
    account = actor.get("account")
    if isinstance(account, dict) and str(account.get("homePage", "")).rstrip("/") in home_pages:
        name = account.get("name")
        return name if isinstance(name, str) and name else None
    return None


def _activity_ids(statement: dict[str, Any]) -> list[str]:
    target = statement["object"]
    found = [target["id"]] if canonical.object_type(target) == "Activity" else []
    return found + [a["id"] for a in canonical.context_activities(statement)]

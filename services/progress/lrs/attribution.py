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
    registrations = repo.registrations(
        session,
        [
            formats.canonical_uuid(r)
            for s in statements
            if (r := (s.get("context") or {}).get("registration"))
        ],
    )
    sums = {s_: identity_key(s_) for s in statements if (s_ := _identity_of(s["actor"]))}
    known = repo.identities(session, list(sums.values()))
    activity_ids = sorted({a for s in statements for a in _activity_ids(s)})
    mapped: dict[str, str] = {}
    for mapping in repo.mappings_for(session, [canonical.key64(a) for a in activity_ids]):
        mapped.setdefault(mapping.activity_id, mapping.course_id)
    out = []
    for statement in statements:
        registration = (statement.get("context") or {}).get("registration")
        launch = registrations.get(formats.canonical_uuid(registration)) if registration else None
        user_id = launch.user_id if launch else _account_user(statement["actor"], home_pages)
        if user_id is None:
            found = _identity_of(statement["actor"])
            user_id = known.get(sums[found]) if found else None
        course_id = launch.course_id if launch and launch.course_id else _course(statement, mapped)
        out.append(Owner(user_id=user_id, course_id=course_id if user_id else None))
    return out


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


def _course(statement: dict[str, Any], mapped: dict[str, str]) -> str | None:
    for activity in _activity_ids(statement):
        parsed = parse_activity(activity)
        if parsed:
            return parsed[0]
    return next((mapped[a] for a in _activity_ids(statement) if a in mapped), None)

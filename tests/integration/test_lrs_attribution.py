"""Statements about teachers count (SQLite and PostgreSQL): a platform account, a known e-mail
(mbox or mbox_sha1sum) or a launch registration makes a statement the teacher's; a pass recorded by
a client of the course's institute completes a quiz, one from another institute does not; mapped
activities feed the competency profile. The LRS clients API: create (secret once), list, revoke."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from sqlmodel import select

from libs.db import session_scope
from services.progress import competency
from services.progress.lrs.attribution import identity_key, mbox_sha1sum
from services.progress.lrs.canonical import key64
from services.progress.lrs.models import ActivityMapping, LaunchRegistration, LrsClient, TeacherIdentity
from services.progress.models import Completion, Statement
from services.progress.xapi import VERBS, course_activity
from tests.integration.lrs_app import LRS, PUBLIC, basic, lrs, statement
from tests.integration.progress_app import OTHER_ID, TEACHER_ID
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio
_ = lrs


def passed(actor: dict[str, Any], activity: str, **extra: Any) -> dict[str, Any]:
    return statement(
        actor=actor, verb={"id": VERBS["passed"]}, object={"id": activity}, result={"success": True}, **extra
    )


def owner(lrs: LRS, statement_id: str) -> str | None:
    with session_scope(lrs.engine, readonly=True) as session:
        row = session.get(Statement, statement_id)
        assert row is not None
        return row.user_id


async def test_a_pass_from_the_course_institutes_client_completes_the_course(lrs: LRS) -> None:
    account = {"account": {"homePage": PUBLIC, "name": TEACHER_ID}}
    other = {"account": {"homePage": PUBLIC, "name": OTHER_ID}}
    quiz = course_activity("c1", "q1")
    assert (await lrs.post(passed(other, quiz), key="other-key")).status_code == 200  # another institute
    assert lrs.count_rows(Completion) == 0
    sent = passed(account, quiz)
    assert (await lrs.post(sent)).status_code == 200
    assert owner(lrs, sent["id"]) == TEACHER_ID
    with session_scope(lrs.engine, readonly=True) as session:
        [done] = session.exec(select(Completion)).all()
    assert done.user_id == TEACHER_ID and done.course_id == "c1"


async def test_known_emails_and_launch_registrations_name_the_teacher(lrs: LRS) -> None:
    registration = str(uuid.uuid4())
    with session_scope(lrs.engine) as session:
        checksum = mbox_sha1sum("mailto:aigerim@school.kz")
        session.add(
            TeacherIdentity(
                ifi_key=identity_key(checksum), ifi=f"mbox_sha1sum:{checksum}", user_id=TEACHER_ID
            )
        )
        session.add(
            LaunchRegistration(
                registration=registration,
                user_id=OTHER_ID,
                course_id="c1",
                activity_id="http://example.org/pkg",
                store="i1",
            )
        )
    by_mbox = statement(actor={"mbox": "mailto:aigerim@school.kz"})
    by_sum = statement(actor={"mbox_sha1sum": hashlib.sha1(b"mailto:aigerim@school.kz").hexdigest()})
    by_launch = statement(context={"registration": registration})
    nobody = statement()
    await lrs.post([by_mbox, by_sum, by_launch, nobody])
    assert [owner(lrs, s["id"]) for s in (by_mbox, by_sum, by_launch, nobody)] == [
        TEACHER_ID,
        TEACHER_ID,
        OTHER_ID,
        None,
    ]
    assert [s["id"] for s in (await lrs.get()).json()["statements"]][-1] == by_mbox[
        "id"
    ]  # all stored, all queryable


async def test_a_mapped_activity_completes_its_item_and_is_competency_evidence(lrs: LRS) -> None:
    package = "https://content.example/packages/assessment/quiz"
    with session_scope(lrs.engine) as session:
        session.add(
            ActivityMapping(
                course_id="c1",
                activity_key=key64(package),
                activity_id=package,
                item_id="q1",
                indicators=["TL.1.a"],
                pass_mark=0.6,
            )
        )
    account = {"account": {"homePage": PUBLIC, "name": TEACHER_ID}}
    failing = statement(
        actor=account,
        verb={"id": VERBS["completed"]},
        object={"id": package},
        result={"completion": True, "score": {"scaled": 0.4}},
    )
    await lrs.post(failing)
    assert lrs.count_rows(Completion) == 0
    with session_scope(lrs.engine, readonly=True) as session:
        assert competency.evidence(session, TEACHER_ID)["TL.1.a"] == [False]
    scored = {**failing, "id": str(uuid.uuid4()), "result": {"completion": True, "score": {"scaled": 0.9}}}
    await lrs.post(scored)
    assert lrs.count_rows(Completion) == 1
    with session_scope(lrs.engine, readonly=True) as session:
        assert competency.evidence(session, TEACHER_ID)["TL.1.a"] == [True]  # the latest result counts


async def test_institute_admins_create_list_and_revoke_clients(lrs: LRS) -> None:
    admin = lrs.bearer("admin-1", roles=("institute_admin",), inst="i1")
    created = await lrs.client.post(
        "/api/v1/progress/lrs/clients", json={"name": "iSpring server"}, headers=admin
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"] and body["endpoint"].endswith("/xapi/") and body["institute_id"] == "i1"
    with session_scope(lrs.engine, readonly=True) as session:
        row = session.get(LrsClient, body["id"])
        assert (
            row is not None
            and body["secret"] not in row.secret_hash
            and row.secret_hash.startswith("$argon2")
        )
    headers = basic(body["key"], body["secret"])
    assert (await lrs.client.post("/xapi/statements", json=statement(), headers=headers)).status_code == 200
    listed = (await lrs.client.get("/api/v1/progress/lrs/clients", headers=admin)).json()
    assert body["key"] in [c["key"] for c in listed["items"]] and "secret" not in listed["items"][0]
    stranger = lrs.bearer("admin-2", roles=("institute_admin",), inst="i2")
    assert_problem(
        await lrs.client.post(f"/api/v1/progress/lrs/clients/{body['id']}/revoke", headers=stranger), 404
    )
    teacher = lrs.bearer(TEACHER_ID)
    assert_problem(
        await lrs.client.post("/api/v1/progress/lrs/clients", json={"name": "x"}, headers=teacher), 403
    )
    assert_problem(
        await lrs.client.post("/api/v1/progress/lrs/clients", json={"name": ""}, headers=admin), 422
    )
    revoked = await lrs.client.post(f"/api/v1/progress/lrs/clients/{body['id']}/revoke", headers=admin)
    assert revoked.json()["revoked_at"]
    assert_problem(await lrs.client.post("/xapi/statements", json=statement(), headers=headers), 401)


async def test_a_teacher_registers_a_launch_of_a_course_they_are_enrolled_in(lrs: LRS) -> None:
    teacher = lrs.bearer(TEACHER_ID)
    made = await lrs.client.post(
        "/api/v1/progress/lrs/registrations",
        json={"course_id": "c1", "activity_id": "http://example.org/au"},
        headers=teacher,
    )
    assert made.status_code == 201, made.text
    registration = made.json()["registration"]
    sent = statement(context={"registration": registration})
    await lrs.post(sent)
    assert owner(lrs, sent["id"]) == TEACHER_ID
    assert_problem(
        await lrs.client.post(
            "/api/v1/progress/lrs/registrations",
            json={"course_id": "c9", "activity_id": "http://example.org/au"},
            headers=teacher,
        ),
        404,
    )

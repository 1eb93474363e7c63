"""Programmes and coverage over HTTP against a real gateway with the demo registry (SQLite and PostgreSQL):
the registry's change feed copied into progress, a programme defined by the national analyst, its
coverage per org unit equal to the registry's counts, completions counted, small cells suppressed, the
regional analyst limited to her region; bad input (unknown filter field, unknown course, no role)
refused with nothing stored; the EMIS training records by cursor."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from deploy.seed import COURSE_RU_ID, ORG_UNITS, org_unit_rows
from gateway.registry.schemas import TeacherCounts
from libs.db import session_scope
from libs.service_client import service_path
from libs.state import typed_state
from services.progress.analytics.service import upsert_org_units
from services.progress.coverage import rollup, service, tasks
from services.progress.models import Completion, Enrolment, Programme, RegistryPerson
from services.progress.state import ProgressState
from tests.conftest import mint
from tests.integration.progress_app import ProgressAPI
from tests.integration.test_gateway_identity import assert_problem
from tests.integration.test_progress_enrolments import COHORT, admin, with_courses

pytestmark = pytest.mark.asyncio
__all__ = ["with_courses"]
PROGRAMMES = "/api/v1/progress/programmes"


def analyst(api: ProgressAPI, path: str = "KZ", roles: tuple[str, ...] = ("analyst",)) -> dict[str, str]:
    token = mint(api.issuer, sub=f"analyst-{path}", roles=roles, scope=f"org:{path}")
    return {"authorization": f"Bearer {token}"}


def programme_body(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Digital skills 2027",
        "course_ids": [COURSE_RU_ID],
        "target": {"org": "KZ-ALM", "employment": "in_service"},
        "target_percent": 80,
        "deadline": (date.today() + timedelta(days=180)).isoformat(),
        **extra,
    }


async def synced(api: ProgressAPI) -> ProgressState:
    st = typed_state(api.app, ProgressState)
    with session_scope(api.engine) as session:
        upsert_org_units(session, org_unit_rows(ORG_UNITS))
    copied = await run_in_threadpool(tasks.sync_registry, api.engine, st.gateway)
    assert copied == 301
    again = await run_in_threadpool(tasks.sync_registry, api.engine, st.gateway)
    assert again == 0  # the cursor moved past everything
    return st


def complete(api: ProgressAPI, count: int, prefix: str) -> list[str]:
    """Mark `count` more enrolments under `prefix` completed (as completion does: the enrolment and its
    row)."""
    now = datetime.now(UTC)
    with session_scope(api.engine) as session:
        rows = session.exec(
            select(Enrolment)
            .where(Enrolment.org_path.startswith(prefix), Enrolment.status != "completed")  # type: ignore[attr-defined]
            .order_by(Enrolment.user_id)
        ).all()[:count]
        for e in rows:
            e.status, e.completed_at = "completed", now
            session.add(e)
            session.add(
                Completion(
                    enrolment_id=e.id, user_id=e.user_id, course_id=e.course_id, version=e.version,
                    org_path=e.org_path, completed_at=now,
                )
            )  # fmt: skip
        return [e.user_id for e in rows]


def recompute(api: ProgressAPI) -> None:
    """Deliver the programme.defined events progress wrote to its outbox to their consumer."""
    for row in api.events("programme.defined"):
        raw = {"id": row.id, "topic": row.topic, "occurred_at": row.created_at, "payload": row.payload}
        with session_scope(api.engine) as session:
            assert tasks.programme_coverage.handle(session, raw)


async def test_coverage_counts_the_registry_and_the_completions(with_courses: ProgressAPI) -> None:
    api = with_courses
    st = await synced(api)
    talgar = {"org": "KZ-ALM-TAL", "employment": "in_service"}
    enrolled = await api.client.post(
        COHORT, json={"course_id": COURSE_RU_ID, "filter": talgar}, headers=admin(api)
    )
    assert enrolled.status_code == 201, enrolled.text
    done = complete(api, 30, "KZ/KZ-ALM/KZ-ALM-TAL/")
    created = await api.client.post(PROGRAMMES, json=programme_body(), headers=analyst(api))
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    recompute(api)

    counts = await run_in_threadpool(
        st.gateway.get_model,
        service_path("registry", "counts"),
        TeacherCounts,
        org="KZ-ALM",
        employment="in_service",
    )
    expected = {u.code: u.teachers for u in counts.items}
    answer = await api.client.get(f"{PROGRAMMES}/{pid}/coverage?unit=KZ-ALM", headers=analyst(api))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    total = report["total"]
    assert total["population"] == expected["KZ-ALM"]
    assert total["completed"] == len(done) == 30
    assert total["enrolled"] == len(enrolled.json()["enrolled"])
    assert total["remaining"] == -(-expected["KZ-ALM"] * 80 // 100) - 30
    rows = {r["unit"]["code"]: r for r in report["rows"]}
    assert rows["KZ-ALM-TAL"]["population"] == expected["KZ-ALM-TAL"]
    assert rows["KZ-ALM-ESK"]["enrolled"] == 0 and rows["KZ-ALM-ESK"]["completed"] == 0
    assert [r["unit"]["code"] for r in report["behind"]] == ["KZ-ALM-ESK", "KZ-ALM-TAL"]
    assert report["trend"][-1]["completed"] == 30 and report["trend"][-1]["cumulative"] == 30
    assert report["as_of"] is not None

    # A school with a handful of completions: hidden, with a complement, never a count under 10.
    school = await api.client.get(f"{PROGRAMMES}/{pid}/coverage?unit=KZ-ALM-TAL", headers=analyst(api))
    for row in school.json()["rows"]:
        for measure in ("population", "enrolled", "not_started", "completed", "certified"):
            value = row[measure]
            assert value is None or value == 0 or value >= 10, (row["unit"]["code"], measure, value)

    # The Akmola analyst sees Akmola only.
    assert_problem(
        await api.client.get(f"{PROGRAMMES}/{pid}/coverage?unit=KZ-ALM", headers=analyst(api, "KZ/KZ-AKM")),
        403,
    )
    akm = await api.client.get(f"{PROGRAMMES}/{pid}/coverage", headers=analyst(api, "KZ/KZ-AKM"))
    assert akm.status_code == 200 and akm.json()["unit"]["code"] == "KZ-AKM"
    assert akm.json()["total"]["population"] in (0, None)  # the target is Almaty's

    # The EMIS records: every completion once, by cursor; no national ID anywhere in progress.
    first = await api.client.get("/api/v1/progress/emis/records?limit=20", headers=analyst(api))
    body = first.json()
    assert first.status_code == 200 and len(body["items"]) == 20 and body["more"]
    rest = await api.client.get(
        "/api/v1/progress/emis/records", params={"since": body["next"]}, headers=analyst(api)
    )
    ids = [r["person_id"] for r in body["items"] + rest.json()["items"]]
    assert sorted(ids) == sorted(done) and not rest.json()["more"]
    assert_problem(
        await api.client.get("/api/v1/progress/emis/records?since=yesterday", headers=analyst(api)), 422
    )


async def test_bad_programmes_are_refused_and_store_nothing(with_courses: ProgressAPI) -> None:
    api = with_courses
    await synced(api)
    no_field = programme_body(target={"region": "KZ-ALM"})
    body = assert_problem(await api.client.post(PROGRAMMES, json=no_field, headers=analyst(api)), 422)
    assert "region" in str(body)
    unknown_unit = programme_body(target={"org": "KZ-NOWHERE"})
    assert_problem(await api.client.post(PROGRAMMES, json=unknown_unit, headers=analyst(api)), 422)
    unknown_course = programme_body(course_ids=["no-such-course"])
    assert_problem(await api.client.post(PROGRAMMES, json=unknown_course, headers=analyst(api)), 422)
    past = programme_body(deadline="2020-01-01")
    assert_problem(await api.client.post(PROGRAMMES, json=past, headers=analyst(api)), 422)
    regional = analyst(api, "KZ/KZ-AKM")
    assert_problem(await api.client.post(PROGRAMMES, json=programme_body(), headers=regional), 403)
    assert_problem(await api.client.post(PROGRAMMES, json=programme_body(), headers=admin(api)), 403)
    assert_problem(await api.client.post(PROGRAMMES, json=programme_body(), headers=api.token()), 403)
    assert_problem(await api.client.get(f"{PROGRAMMES}/nope/coverage", headers=analyst(api)), 404)
    assert_problem(await api.client.get("/api/v1/progress/emis/records", headers=admin(api)), 403)
    assert api.count(Programme) == 0
    assert api.count(RegistryPerson) == 301


async def test_a_published_answer_is_reused_until_its_computation_or_the_tree_changes(
    with_courses: ProgressAPI,
) -> None:
    api = with_courses
    await synced(api)
    talgar = {"org": "KZ-ALM-TAL", "employment": "in_service"}
    enrolled = await api.client.post(
        COHORT, json={"course_id": COURSE_RU_ID, "filter": talgar}, headers=admin(api)
    )
    assert enrolled.status_code == 201, enrolled.text
    complete(api, 20, "KZ/KZ-ALM/KZ-ALM-TAL/")
    created = await api.client.post(PROGRAMMES, json=programme_body(), headers=analyst(api))
    pid = created.json()["id"]
    recompute(api)
    path = f"{PROGRAMMES}/{pid}/coverage?unit=KZ-ALM"

    async def answer() -> dict[str, Any]:
        got = await api.client.get(path, headers=analyst(api))
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        return body

    first = await answer()
    hits = service.ANSWERS.hits
    assert await answer() == first and service.ANSWERS.hits == hits + 1  # the same answer, not rebuilt
    # A regional analyst still cannot read the national analyst's answer.
    assert_problem(await api.client.get(path, headers=analyst(api, "KZ/KZ-AKM")), 403)

    # New completions count once the programme is computed again (its computed_at is in the key).
    complete(api, 20, "KZ/KZ-ALM/KZ-ALM-TAL/")
    assert (await answer())["total"]["completed"] == 20  # the stored computation until then
    with session_scope(api.engine) as session:
        programme = session.get(Programme, pid)
        assert programme is not None
        rollup.recompute(session, programme)
    assert (await answer())["total"]["completed"] == 40

    # A renamed district is named anew at once (the tree's version is in the key).
    renamed = [n for n in org_unit_rows(ORG_UNITS) if n.code == "KZ-ALM-TAL"][0]
    with session_scope(api.engine) as session:
        upsert_org_units(session, [renamed.model_copy(update={"name": "Talgar (renamed)"})])
    rows = {r["unit"]["code"]: r for r in (await answer())["rows"]}
    assert rows["KZ-ALM-TAL"]["unit"]["name"] == "Talgar (renamed)"

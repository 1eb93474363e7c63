"""Cohorts from the registry, against a real gateway with the demo registry and a real courses service
(SQLite and PostgreSQL): the attack of issue 11 (invented teachers added to Akmola, a real teacher moved
to Almaty under an invented name) is refused and changes nothing; an unknown national ID is refused by
row; a cohort by filter enrols exactly the registry's active teachers of the subtree."""

from __future__ import annotations

import pytest
from sqlmodel import select

from deploy.seed import COURSE_RU_ID
from services.progress.models import Enrolment
from tests.integration.progress_app import ProgressAPI
from tests.integration.registry_data import iins
from tests.integration.test_gateway_identity import assert_problem
from tests.integration.test_progress_enrolments import (
    COHORT,
    DEMO_IINS,
    T_A,
    admin,
    registry_entry,
    with_courses,
)

pytestmark = pytest.mark.asyncio
__all__ = ["with_courses"]
AKMOLA_SCHOOL = "KZ/KZ-AKM/KZ-AKM-KOK/KZ-AKM-KOK-S07"


async def test_invented_teachers_cannot_be_added_to_akmola(with_courses: ProgressAPI) -> None:
    api = with_courses
    invented = [
        {"user_id": f"fake-{n}", "name": f"Invented {n}", "org_path": AKMOLA_SCHOOL} for n in range(15)
    ]
    attack = await api.client.post(
        COHORT, json={"course_id": COURSE_RU_ID, "teachers": invented}, headers=admin(api)
    )
    assert_problem(attack, 422)
    # The same fifteen as national IDs that look valid but are in no registry: refused row by row.
    unknown = iins(15, seed=99)
    answer = await api.client.post(
        COHORT, json={"course_id": COURSE_RU_ID, "national_ids": unknown}, headers=admin(api)
    )
    body = assert_problem(answer, 422)
    assert body["type"].endswith("/problems/invalid-rows")
    assert [e["row"] for e in body["errors"]] == list(range(1, 16))
    assert {e["reason"] for e in body["errors"]} == {"not in the registry"}
    assert not any(nid in answer.text for nid in unknown)  # never echoed
    assert api.count(Enrolment) == 0


async def test_a_real_teacher_cannot_be_moved_or_renamed_by_a_cohort(with_courses: ProgressAPI) -> None:
    api = with_courses
    moved = {"user_id": T_A, "name": "Invented Name", "org_path": "KZ/KZ-ALM/KZ-ALM-TAL/KZ-ALM-TAL-S01"}
    assert_problem(
        await api.client.post(
            COHORT, json={"course_id": COURSE_RU_ID, "teachers": [moved]}, headers=admin(api)
        ),
        422,
    )
    with_name = {"course_id": COURSE_RU_ID, "national_ids": [DEMO_IINS[1]], "name": "Invented Name"}
    assert_problem(await api.client.post(COHORT, json=with_name, headers=admin(api)), 422)
    assert api.count(Enrolment) == 0
    ok = await api.client.post(
        COHORT, json={"course_id": COURSE_RU_ID, "national_ids": [DEMO_IINS[1]]}, headers=admin(api)
    )
    assert ok.status_code == 201, ok.text
    registry = await registry_entry(api, 1)
    with api.engine.connect() as conn:
        row = conn.execute(select(Enrolment.user_name, Enrolment.org_path)).one()
    assert tuple(row) == (registry.display_name, registry.org_path)


async def test_one_unknown_teacher_refuses_the_cohort_by_row(with_courses: ProgressAPI) -> None:
    api = with_courses
    wanted = [DEMO_IINS[1], iins(1, seed=98)[0], DEMO_IINS[2], "12345"]
    answer = await api.client.post(
        COHORT, json={"course_id": COURSE_RU_ID, "national_ids": wanted}, headers=admin(api)
    )
    body = assert_problem(answer, 422)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "national_ids"), (4, "national_ids")]
    assert api.count(Enrolment) == 0
    left = DEMO_IINS[24]  # the demo seed marks every 25th teacher as having left
    answer = await api.client.post(
        COHORT, json={"course_id": COURSE_RU_ID, "national_ids": [DEMO_IINS[1], left]}, headers=admin(api)
    )
    body = assert_problem(answer, 422)
    assert [(e["row"], e["reason"]) for e in body["errors"]] == [(2, "left the registry")]
    assert api.count(Enrolment) == 0


async def test_a_cohort_by_filter_enrols_the_registry_subtree(with_courses: ProgressAPI) -> None:
    api = with_courses
    flt = {"org": "KZ-AKM-KOK", "employment": "in_service"}
    answer = await api.client.post(
        COHORT, json={"course_id": COURSE_RU_ID, "filter": flt}, headers=admin(api)
    )
    assert answer.status_code == 201, answer.text
    enrolled = answer.json()["enrolled"]
    assert enrolled
    with api.engine.connect() as conn:
        paths = [r[0] for r in conn.execute(select(Enrolment.org_path))]
    assert len(paths) == len(enrolled) and all(p.startswith("KZ/KZ-AKM/KZ-AKM-KOK/") for p in paths)
    again = await api.client.post(COHORT, json={"course_id": COURSE_RU_ID, "filter": flt}, headers=admin(api))
    assert again.status_code == 201 and sorted(again.json()["already_enrolled"]) == sorted(enrolled)
    nowhere = {"course_id": COURSE_RU_ID, "filter": {"org": "KZ-NOWHERE"}}
    assert_problem(await api.client.post(COHORT, json=nowhere, headers=admin(api)), 422)
    none = {"org": "KZ-AKM-KOK", "subject": "no such subject"}
    assert_problem(
        await api.client.post(COHORT, json={"course_id": COURSE_RU_ID, "filter": none}, headers=admin(api)),
        422,
    )
    assert api.count(Enrolment) == len(enrolled)


async def test_a_teacher_cannot_enrol_a_cohort(with_courses: ProgressAPI) -> None:
    api = with_courses
    answer = await api.client.post(
        COHORT, json={"course_id": COURSE_RU_ID, "national_ids": [DEMO_IINS[1]]}, headers=api.token(T_A)
    )
    assert_problem(answer, 403)
    assert api.count(Enrolment) == 0

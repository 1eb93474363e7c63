"""The recoveries an attacker made from the analytics answers (issue 15, item 2), replayed through the
API on SQLite and PostgreSQL: each solves for the hidden counts with a linear program over what the
answers published (tests/disclosure.py) and requires every hidden count to keep an interval of more
than the threshold of values.

    KZ
    ├── KZ-ALM Almaty Region › KZ-ALM-TAL Talgar (30 teachers)
    └── KZ-AKM Akmola Region
        ├── KZ-AKM-KOK Kokshetau: 1 teacher, enrolled only
        └── KZ-AKM-D03 District 3: 25 teachers, all started, 20 completed; enrolled over nine
                       months: one or two a month for eight months, then 13
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from deploy.seed import org_unit_rows
from libs.auth import Principal
from libs.db import create_db_engine, session_scope
from services.progress import service, statements
from services.progress.analytics import rollups
from services.progress.analytics.service import upsert_org_units
from services.progress.schemas import SubmissionCreate
from services.progress.xapi import VERBS, course_activity
from services.progress.xapi import Statement as StatementIn
from tests.conftest import mint, serve, service_settings
from tests.disclosure import Attacker
from tests.integration.test_gateway_identity import assert_problem
from tests.integration.test_progress_rules import COURSE, RIGHT, answer_key

pytestmark = pytest.mark.asyncio
A = "/api/v1/progress/analytics"
STAGES = ("enrolled", "started", "completed", "certified")
TREE = [
    ("KZ", "Kazakhstan", "country", None),
    ("KZ-ALM", "Almaty Region", "region", "KZ"),
    ("KZ-ALM-TAL", "Talgar District", "district", "KZ-ALM"),
    ("KZ-AKM", "Akmola Region", "region", "KZ"),
    ("KZ-AKM-KOK", "Kokshetau City", "district", "KZ-AKM"),
    ("KZ-AKM-D03", "District 3", "district", "KZ-AKM"),
]
MONTHLY = [1, 2, 1, 2, 1, 2, 1, 2, 13]  # District 3's enrolments, nine months ago .. last month


def month_start(today: date, back: int) -> date:
    """The first day of the month `back` months before this one."""
    year, month = divmod(today.year * 12 + today.month - 1 - back, 12)
    return date(year, month + 1, 1)


def month_end(first: date) -> date:
    return month_start(first, -1) - timedelta(days=1)


def enrolment_days(today: date) -> list[date]:
    """The tenth of each of the nine months before this one, once per enrolment that month."""
    days = []
    for back, n in zip(range(9, 0, -1), MONTHLY, strict=True):
        days += [month_start(today, back).replace(day=10)] * n
    return days


def teacher(n: int, path: str) -> Principal:
    return Principal(id=f"t{n:03d}", roles=("teacher",), name=f"Teacher {n}", org=tuple(path.split("/")))


def populate(engine: Any, today: date) -> None:
    with session_scope(engine) as session:
        upsert_org_units(session, org_unit_rows(TREE))
        service.store_answer_key(session, COURSE.id, 1, answer_key())
    people = [(teacher(0, "KZ/KZ-AKM/KZ-AKM-KOK"), month_start(today, 5).replace(day=10), False, False)]
    for i, day in enumerate(enrolment_days(today)):
        people.append((teacher(i + 1, "KZ/KZ-AKM/KZ-AKM-D03"), day, True, i < 20))
    for i in range(30):
        people.append(
            (teacher(100 + i, "KZ/KZ-ALM/KZ-ALM-TAL"), month_start(today, 2).replace(day=3), True, True)
        )
    for who, day, starts, completes in people:
        when = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
        with session_scope(engine) as session:
            enrolment, _ = service.enrol(session, who, COURSE)
            enrolment.enrolled_at = when
            session.add(enrolment)
            if starts:
                body = StatementIn.model_validate(
                    {
                        "id": str(uuid.uuid4()),
                        "actor": {"account": {"homePage": "https://ustaz.example", "name": who.id}},
                        "verb": {"id": VERBS["experienced"]},
                        "object": {"id": course_activity(COURSE.id, "l1")},
                    }
                )
                statements.store(session, who.id, [body], when, enrolment.org_path, [COURSE.id])
            if completes:
                body_in = SubmissionCreate(course_id=COURSE.id, quiz_id="q1", answers=RIGHT)
                submission, _ = service.submit(session, who, body_in)
                service.grade_submission(session, submission.id)
    with session_scope(engine) as session:
        rollups.recompute(session)


class Api:
    def __init__(self, client: httpx.AsyncClient, issuer: Any) -> None:
        self.client, self.issuer = client, issuer

    async def get(self, path: str, **params: Any) -> httpx.Response:
        token = mint(self.issuer, sub="analyst-1", roles=("analyst",), scope="org:KZ", org=("KZ",))
        return await self.client.get(A + path, params=params, headers={"authorization": f"Bearer {token}"})


@pytest_asyncio.fixture
async def api(databases: Any, gateway_url: str, issuer: Any) -> AsyncIterator[Api]:
    from services.progress.app import build_app

    url = databases.fresh("progress")
    engine = create_db_engine(url)
    populate(engine, datetime.now(UTC).date())
    app = build_app(service_settings("progress", url, gateway_url=gateway_url))
    async with serve(app) as client:
        yield Api(client, issuer)
    engine.dispose()


async def test_a_suppressed_districts_stages_do_not_pin_its_enrolled_count(api: Api) -> None:
    """The Akmola funnel: Kokshetau's 1 and District 3's 25 enrolled are hidden; District 3's
    started (25) must not pin its enrolled count, or the total gives Kokshetau's single teacher."""
    body = (await api.get("/funnel", org="KZ-AKM")).json()
    rows = {r["key"]: r["counts"] for r in body["rows"]}
    assert rows["KZ-AKM-KOK"]["enrolled"] is None
    attacker = Attacker()
    for stage in STAGES:
        if body["total"][stage] is not None:
            attacker.equals({(k, stage): 1 for k in rows}, body["total"][stage])
        for key, counts in rows.items():
            if counts[stage] is not None:
                attacker.equals({(key, stage): 1}, counts[stage])
    for key in rows:  # enrolled >= started >= completed >= certified
        for upper, lower in zip(STAGES, STAGES[1:], strict=False):
            attacker.at_least({(key, upper): 1, (key, lower): -1}, 0)
    hidden = [(k, s) for k, counts in rows.items() for s in STAGES if counts[s] is None]
    assert ("KZ-AKM-D03", "enrolled") in hidden  # hidden to protect Kokshetau
    narrow = {cell: attacker.bounds({cell: 1}) for cell in hidden}
    assert all(high - low >= 10 for low, high in narrow.values()), narrow


def funnel_total(body: dict[str, Any]) -> int | None:
    value = body.get("total", {}).get("enrolled")
    return value if isinstance(value, int) else None


async def differencing_attack(api: Api, interval: str, periods: list[tuple[date, date]]) -> dict[date, Any]:
    """Ask the trend of Akmola by `interval` and the funnel over every range from the start of a period
    to the end of the last; solve for every hidden trend point. Answers refused (422) publish nothing."""
    end = periods[-1][1]
    attacker = Attacker()
    trend = await api.get(
        "/trends",
        org="KZ-AKM",
        interval=interval,
        **{"from": periods[0][0].isoformat(), "to": end.isoformat()},
    )
    if trend.status_code == 422:
        return {}
    assert trend.status_code == 200, trend.text
    points = {date.fromisoformat(p["period"]): p["counts"]["enrolled"] for p in trend.json()["points"]}
    for first, value in points.items():
        if value is not None:
            attacker.equals({first: 1}, value)
    for start, _ in periods:
        answer = await api.get("/funnel", org="KZ-AKM", **{"from": start.isoformat(), "to": end.isoformat()})
        if answer.status_code == 200 and funnel_total(answer.json()) is not None:
            attacker.equals({p: 1 for p in points if p >= start}, funnel_total(answer.json()) or 0)
    return {p: attacker.bounds({p: 1}) for p, v in points.items() if v is None}


async def test_hidden_weeks_cannot_be_recovered_by_differencing_two_date_ranges(api: Api) -> None:
    today = datetime.now(UTC).date()
    first = month_start(today, 9)
    monday = first - timedelta(days=first.weekday())
    last = month_start(today, 0) - timedelta(days=1)
    weeks = []
    while monday <= last:
        weeks.append((monday, monday + timedelta(days=6)))
        monday += timedelta(weeks=1)
    hidden = await differencing_attack(api, "week", weeks)
    recovered = {w: b for w, b in hidden.items() if b[1] - b[0] < 10}
    assert not recovered, f"{len(recovered)} of {len(hidden)} hidden weeks recovered: {recovered}"
    # nothing to difference: weekly trends and ranges that start or end inside a month are refused
    span = {"from": weeks[0][0].isoformat(), "to": last.isoformat()}
    assert_problem(await api.get("/trends", org="KZ-AKM", interval="week", **span), 422)
    for start, end in weeks:
        inside = start.day != 1 or (end + timedelta(days=1)).day != 1
        answer = await api.get("/funnel", org="KZ-AKM", **{"from": start.isoformat(), "to": end.isoformat()})
        assert answer.status_code == (422 if inside else 200), (start, end, answer.text)


async def test_hidden_months_cannot_be_recovered_by_differencing_two_date_ranges(api: Api) -> None:
    today = datetime.now(UTC).date()
    months = [(month_start(today, b), month_end(month_start(today, b))) for b in range(9, 0, -1)]
    hidden = await differencing_attack(api, "month", months)
    assert hidden, "the trend has hidden months"
    recovered = {m: b for m, b in hidden.items() if b[1] - b[0] < 10}
    assert not recovered, f"{len(recovered)} of {len(hidden)} hidden months recovered: {recovered}"

"""The EMIS export end to end over real HTTP: the gateway (demo registry) asks a real progress service for
training records and keys them by national ID; the EMIS client with its own credentials pages by
`since`; an analyst downloads CSV/XLSX of their scope; no other role gets national IDs; none are logged."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from openpyxl import load_workbook

from deploy.seed import (
    COURSE_RU_ID,
    INSTITUTE_ID,
    REGISTRY_TEACHERS,
    demo_iins,
    fixed_id,
    seed_gateway,
    seed_progress,
)
from libs.db import create_db_engine, session_scope
from services.progress.models import Completion, Enrolment
from services.progress.practice.models import CpdEntry, Member
from tests.conftest import Databases, seed_courses_service, serve, service_settings, thread_server
from tests.forms import post_form
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio
IINS = demo_iins(REGISTRY_TEACHERS + 1)
SECRET = "test-emis-secret"
AKMOLA = "KZ/KZ-AKM/KZ-AKM-KOK/KZ-AKM-KOK-S07"
TALGAR = "KZ/KZ-ALM/KZ-ALM-TAL/KZ-ALM-TAL-S01"


@dataclass
class Platform:
    client: httpx.AsyncClient
    progress_db: str
    registry_url: str  # the gateway progress reads the registry from


@pytest_asyncio.fixture
async def platform(
    sqlite_databases: Databases, registry_gateway_url: str, redis_url: str, key_dir: Path
) -> AsyncIterator[Platform]:
    """Courses and progress over HTTP, and a gateway in-process (demo registry) whose upstreams are them;
    progress holds completions of demo registry teachers 1-12 (1-6 in Talgar, 7-12 in Akmola)."""
    from gateway.app import build_app as build_gateway
    from services.courses.app import build_app as build_courses
    from services.progress.app import build_app as build_progress

    courses_db = sqlite_databases.fresh("courses", seed_courses_service)
    progress_db = sqlite_databases.fresh("progress", seed_progress)
    engine = create_db_engine(progress_db)
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    with session_scope(engine) as session:
        for n in range(1, 13):
            e = Enrolment(
                user_id=fixed_id(f"registry:demo:{n}"), user_name="x", course_id=COURSE_RU_ID, version=1,
                course_title="Digital skills", language="ru", institute_id=INSTITUTE_ID,
                org_path=TALGAR if n <= 6 else AKMOLA, status="completed", completed_at=start + timedelta(hours=n),
            )  # fmt: skip
            session.add(e)
            session.flush()
            session.add(
                Completion(enrolment_id=e.id, user_id=e.user_id, course_id=COURSE_RU_ID, version=1,
                           org_path=e.org_path, completed_at=e.completed_at)
            )  # fmt: skip
        for n in (1, 8):  # a webinar's hours in the CPD ledger of a teacher in each region
            person = fixed_id(f"registry:demo:{n}")
            path = TALGAR if n <= 6 else AKMOLA
            session.add(Member(user_id=person, name="x", school=path.rsplit("/", 1)[-1], org_path=path))
            session.add(CpdEntry(key=f"webinar:w1:{person}", user_id=person, kind="webinar",
                                 title="Webinar", hours=1.5, at=start))  # fmt: skip
    engine.dispose()
    common: dict[str, Any] = {"gateway_url": registry_gateway_url}
    with thread_server(build_courses(service_settings("courses", courses_db, **common))) as courses_url:
        progress = build_progress(
            service_settings("progress", progress_db, courses_url=courses_url, **common)
        )
        with thread_server(progress) as progress_url:
            gateway = build_gateway(
                service_settings(
                    "gateway", sqlite_databases.fresh("gateway", seed_gateway), signing_key_dir=key_dir,
                    emis_client_secret=SECRET, progress_url=progress_url, courses_url=courses_url,
                    rate_limit_per_ip=10_000, cookie_secure=False,
                )
            )  # fmt: skip
            async with serve(gateway) as client:
                yield Platform(client, progress_db, registry_gateway_url)


@pytest_asyncio.fixture
async def emis_gateway(platform: Platform) -> httpx.AsyncClient:
    return platform.client


async def emis_headers(
    client: httpx.AsyncClient, client_id: str = "emis", secret: str = SECRET
) -> dict[str, str]:
    answer = await client.post(
        "/auth/service-token", json={"client_id": client_id, "client_secret": secret, "audience": "gateway"}
    )
    assert answer.status_code == 200, answer.text
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


async def test_the_emis_client_pages_records_keyed_by_national_id(
    emis_gateway: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = emis_gateway
    headers = await emis_headers(client)
    caplog.set_level(logging.DEBUG)
    first = await client.get("/emis/records", params={"limit": 5}, headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert [r["national_id"] for r in body["items"]] == IINS[1:6] and body["more"]
    record = body["items"][0]
    assert record["course_id"] == COURSE_RU_ID and record["version"] == 1 and record["hours"] is not None
    rest = await client.get("/emis/records", params={"since": body["next"]}, headers=headers)
    assert [r["national_id"] for r in rest.json()["items"]] == IINS[6:13] and not rest.json()["more"]
    after = await client.get("/emis/records", params={"since": rest.json()["next"]}, headers=headers)
    assert after.json()["items"] == []  # incremental: nothing new since the last page
    since = await client.get("/emis/records", params={"since": "2026-11-02T14:30:00+00:00"}, headers=headers)
    assert [r["national_id"] for r in since.json()["items"]] == IINS[6:13]
    assert not any(nid in caplog.text for nid in IINS[1:13])  # never in a log line

    assert_problem(await client.get("/emis/records", params={"since": "not a time"}, headers=headers), 422)
    progress = await emis_headers(client, "progress", "test-service-secret")
    assert_problem(await client.get("/emis/records", headers=progress), 403)
    assert_problem(await client.get("/emis/records"), 401)


async def test_an_analyst_downloads_their_scope_with_national_ids(emis_gateway: httpx.AsyncClient) -> None:
    client = emis_gateway
    login = await post_form(client, "/login", {"username": "analyst-akm", "password": "analyst-demo"})
    assert login.status_code == 303, login.text
    answer = await client.get("/dashboard/emis.csv")
    assert answer.status_code == 200, answer.text
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][0] == "national_id" and sorted(r[0] for r in rows[1:]) == sorted(IINS[7:13])  # Akmola only
    xlsx = await client.get("/dashboard/emis.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.max_row == 7
    client.cookies.clear()
    teacher = await post_form(client, "/login", {"username": "teacher", "password": "teacher-demo"})
    assert teacher.status_code == 303
    assert (await client.get("/dashboard/emis.csv")).status_code == 403


async def test_the_emis_client_pages_cpd_hours_per_teacher_and_cycle(emis_gateway: httpx.AsyncClient) -> None:
    client = emis_gateway
    headers = await emis_headers(client)
    first = await client.get("/emis/cpd", params={"limit": 5}, headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["cycle_start"].startswith("2025-01-01") and body["cycle_end"].startswith("2030-01-01")
    assert body["required_hours"] == 72 and body["more"] and len(body["items"]) == 5
    rest = await client.get("/emis/cpd", params={"after": body["next"]}, headers=headers)
    items = {r["national_id"]: r for r in body["items"] + rest.json()["items"]}
    assert sorted(items) == sorted(IINS[1:13]) and not rest.json()["more"]
    assert (
        items[IINS[1]]["hours"] == {"course": 24.0, "webinar": 1.5} and items[IINS[1]]["total_hours"] == 25.5
    )
    assert items[IINS[2]]["hours"] == {"course": 24.0} and not items[IINS[2]]["met"]
    later = await client.get("/emis/cpd", params={"cycle": "2031-06-01"}, headers=headers)
    assert later.json()["items"] == [] and later.json()["cycle_start"].startswith("2030-01-01")
    assert_problem(await client.get("/emis/cpd", params={"cycle": "soon"}, headers=headers), 422)
    assert_problem(await client.get("/emis/cpd"), 401)
    progress = await emis_headers(client, "progress", "test-service-secret")
    assert_problem(await client.get("/emis/cpd", headers=progress), 403)


async def test_an_analyst_downloads_cpd_hours_of_their_scope(emis_gateway: httpx.AsyncClient) -> None:
    client = emis_gateway
    login = await post_form(client, "/login", {"username": "analyst-akm", "password": "analyst-demo"})
    assert login.status_code == 303, login.text
    answer = await client.get("/dashboard/emis-cpd.csv")
    assert answer.status_code == 200, answer.text
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:6] == ["national_id", "cycle_start", "cycle_end", "required_hours", "total_hours", "met"]
    by_nid = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert sorted(by_nid) == sorted(IINS[7:13])  # Akmola only
    assert by_nid[IINS[8]]["webinar_hours"] == "1.5" and by_nid[IINS[8]]["total_hours"] == "25.5"
    assert by_nid[IINS[9]]["course_hours"] == "24" and by_nid[IINS[9]]["met"] == "no"
    xlsx = await client.get("/dashboard/emis-cpd.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.max_row == 7
    assert (await client.get("/dashboard/emis-cpd.pdf")).status_code == 404
    client.cookies.clear()
    teacher = await post_form(client, "/login", {"username": "teacher", "password": "teacher-demo"})
    assert teacher.status_code == 303
    assert (await client.get("/dashboard/emis-cpd.csv")).status_code == 403

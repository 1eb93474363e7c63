"""The coverage pages with JavaScript off (plain HTTP, server-rendered): the ministry's analyst defines a
programme on /coverage/programmes, the coverage dashboard shows the registry's population against the
completions after a refresh, small cells as "<10", in Russian and Kazakh; a regional analyst cannot
define one; a teacher gets a 403 page."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
import pytest
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from deploy.seed import COURSE_RU_ID, ORG_UNITS, org_unit_rows
from libs.db import create_db_engine, session_scope
from libs.service_client import ServiceClient
from services.progress.analytics.service import upsert_org_units
from services.progress.coverage import tasks
from services.progress.models import Programme
from tests.forms import post_form
from tests.integration.test_emis_export import Platform, platform

pytestmark = pytest.mark.asyncio
__all__ = ["platform"]


async def login(client: httpx.AsyncClient, username: str, password: str) -> None:
    client.cookies.clear()
    answer = await post_form(client, "/login", {"username": username, "password": password})
    assert answer.status_code == 303, answer.text


def refresh(p: Platform) -> None:
    """What beat's progress.coverage_refresh does: the registry feed copied, every programme recomputed."""
    engine = create_db_engine(p.progress_db)
    with session_scope(engine) as session:
        upsert_org_units(session, org_unit_rows(ORG_UNITS))
    client = ServiceClient(
        gateway_url=p.registry_url, client_id="progress", client_secret="test-service-secret",
        target="gateway", base_url=p.registry_url,
    )  # fmt: skip
    try:
        assert tasks.sync_registry(engine, client) == 301
    finally:
        client.close()
    tasks.refresh_all(engine)
    engine.dispose()


async def test_an_analyst_defines_a_programme_and_reads_its_coverage(platform: Platform) -> None:
    client = platform.client
    await login(client, "analyst", "analyst-demo")
    demo = await client.get("/coverage")  # the demo seed's programme, not computed yet
    assert demo.status_code == 200 and "Ещё не рассчитано" in demo.text
    form = {
        "title": "Цифровая грамотность", "course_ids": COURSE_RU_ID, "org": "KZ-AKM", "subject": "",
        "employment": "in_service", "target_percent": "90",
        "deadline": (date.today() + timedelta(days=120)).isoformat(),
    }  # fmt: skip
    bad = await post_form(client, "/coverage/programmes", {**form, "org": "KZ-NOWHERE"})
    assert bad.status_code == 422 and "KZ-NOWHERE" in bad.text and 'role="alert"' in bad.text
    created = await post_form(client, "/coverage/programmes", form)
    assert created.status_code == 303, created.text
    page = await client.get(created.headers["location"])
    assert page.status_code == 200 and "Ещё не рассчитано" in page.text

    await run_in_threadpool(refresh, platform)
    page = await client.get(created.headers["location"] + "&org=KZ-AKM")
    assert page.status_code == 200, page.text
    assert "Цифровая грамотность" in page.text and "Данные на" in page.text
    assert 'data-testid="coverage-table"' in page.text and "Kokshetau City" in page.text
    table = page.text.split('data-testid="coverage-table"')[1].split("</table>")[0]
    assert not re.search(r"<td>(<strong>)?[1-9](</strong>)?</td>", table)  # no count under 10 is shown
    assert "&lt;10" in page.text
    kk = await client.get(created.headers["location"] + "&org=KZ-AKM", headers={"accept-language": "kk"})
    assert kk.status_code == 200
    listing = await client.get("/coverage/programmes")
    assert "Цифровая грамотность" in listing.text

    await login(client, "analyst-akm", "analyst-demo")
    regional = await client.get("/coverage/programmes")
    assert regional.status_code == 200 and 'action="/coverage/programmes"' not in regional.text
    refused = await post_form(client, "/coverage/programmes", {**form, "title": "Regional"})
    assert refused.status_code == 422  # the API's 403, shown on the form
    await login(client, "teacher", "teacher-demo")
    assert (await client.get("/coverage")).status_code == 403
    engine = create_db_engine(platform.progress_db)
    with session_scope(engine, readonly=True) as session:
        titles = sorted(p.title for p in session.exec(select(Programme)))
    assert titles == ["Digital assessment for every teacher (demo)", "Цифровая грамотность"]
    engine.dispose()

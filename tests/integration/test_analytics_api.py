"""The analytics API over HTTP on SQLite and PostgreSQL: reports within the token's jurisdiction,
small cells suppressed (with complements and drill-down stops), bad input refused, exports."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from openpyxl import load_workbook

from libs.db import create_db_engine, session_scope
from services.progress.analytics import rollups
from tests.conftest import mint, serve, service_settings
from tests.integration.analytics_data import populate
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio
A = "/api/v1/progress/analytics"


class Api:
    def __init__(self, client: httpx.AsyncClient, engine: Any, issuer: Any) -> None:
        self.client, self.engine, self.issuer = client, engine, issuer

    def headers(
        self, scope: str = "org:KZ", roles: tuple[str, ...] = ("analyst",), **claims: Any
    ) -> dict[str, str]:
        token = mint(self.issuer, sub="analyst-1", roles=roles, scope=scope, org=("KZ",), **claims)
        return {"authorization": f"Bearer {token}"}

    async def get(self, path: str, scope: str = "org:KZ", **params: Any) -> httpx.Response:
        roles = params.pop("roles", ("analyst",))
        inst = params.pop("inst", None)
        return await self.client.get(A + path, params=params, headers=self.headers(scope, roles, inst=inst))

    def snapshot(self) -> Any:
        with session_scope(self.engine, readonly=True) as session:
            return rollups.snapshot(session)


@pytest_asyncio.fixture
async def api(databases: Any, gateway_url: str, redis_url: str, issuer: Any) -> AsyncIterator[Api]:
    from services.progress.app import build_app

    url = databases.fresh("progress")
    engine = create_db_engine(url)
    populate(engine)
    app = build_app(service_settings("progress", url, gateway_url=gateway_url, analytics_export_max_rows=60))
    async with serve(app) as client:
        yield Api(client, engine, issuer)
    engine.dispose()


def rows(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in body["rows"]}


async def test_national_funnel_by_region_with_complementary_suppression(api: Api) -> None:
    response = await api.get("/funnel")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["unit"]["code"] == "KZ" and body["min_cell"] == 10
    # Teachers, each once, though 12 of them are enrolled in two courses.
    assert body["total"] == {"enrolled": 60, "started": 60, "completed": 31, "certified": 0}
    by = rows(body)
    assert set(by) == {"KZ-ALM", "KZ-AKM", "KZ-AST"}
    assert by["KZ-ALM"]["counts"]["enrolled"] == 40 and by["KZ-AKM"]["counts"]["enrolled"] == 20
    # Akmola's 5 completions are "<10"; Almaty's 26 are hidden too, or 31 - 26 would give them away.
    assert by["KZ-AKM"]["counts"]["completed"] is None and by["KZ-ALM"]["counts"]["completed"] is None
    assert by["KZ-AKM"]["suppressed"] and by["KZ-AKM"]["completion_rate"] is None
    assert by["KZ-AST"]["counts"] == {"enrolled": 0, "started": 0, "completed": 0, "certified": 0}
    assert by["KZ-ALM"]["drillable"] and not by["KZ-AST"]["drillable"]
    assert "Teacher" not in response.text and "t001" not in response.text  # no names, no ids


async def test_drill_down_region_to_district_stops_where_cells_are_suppressed(api: Api) -> None:
    region = (await api.get("/drilldown", org="KZ-ALM")).json()
    by = rows(region)
    # Kapshagay has 3 teachers: hidden, and Talgar (the only other sibling) with it.
    assert by["KZ-ALM-KAP"]["counts"]["enrolled"] is None and by["KZ-ALM-TAL"]["counts"]["enrolled"] is None
    assert region["total"]["enrolled"] == 40
    assert not by["KZ-ALM-TAL"]["drillable"] and not by["KZ-ALM-KAP"]["drillable"]
    # Asking for Talgar directly would give 37 and reveal Kapshagay's 3 by subtraction: refused.
    for org in ("KZ-ALM-TAL", "KZ-ALM-KAP", "KZ-ALM-KAP-S03"):
        assert_problem(await api.get("/funnel", org=org), 403)
    # Akmola → Kokshetau → School 7: completions (5) stay hidden all the way down.
    district = (await api.get("/funnel", org="KZ-AKM-KOK")).json()
    assert district["total"]["enrolled"] == 20 and district["total"]["completed"] is None
    assert all(r["counts"]["completed"] is None for r in district["rows"])


async def test_a_regional_analyst_sees_only_their_region(api: Api) -> None:
    scope = "org:KZ/KZ-AKM"
    own = await api.get("/funnel", scope=scope)
    assert own.status_code == 200 and own.json()["unit"]["code"] == "KZ-AKM"
    for path, params in (
        ("/funnel", {"org": "KZ-ALM"}),
        ("/funnel", {"org": "KZ"}),
        ("/trends", {"org": "KZ-ALM"}),
        ("/attainment", {"org": "KZ"}),
        ("/completion-time", {"org": "KZ-ALM-TAL"}),
        ("/behind", {"org": "KZ", "level": "school"}),
        ("/units/KZ-ALM", {}),
        ("/export", {"org": "KZ-ALM", "table": "funnel"}),
        ("/export", {"org": "KZ-ALM", "table": "trends", "format": "xlsx"}),
    ):
        before = api.snapshot()
        body = assert_problem(await api.get(path, scope=scope, **params), 403)
        assert "jurisdiction" in body["detail"] and api.snapshot() == before
    info = (await api.get("/units", scope=scope)).json()
    assert info["ancestors"] == [] and [c["code"] for c in info["children"]] == ["KZ-AKM-KOK"]


async def test_bad_input_is_refused_with_problem_details(api: Api) -> None:
    before = api.snapshot()
    assert_problem(await api.get("/funnel", org="KZ-NOWHERE"), 404)
    assert_problem(await api.get("/units/KZ-NOWHERE"), 404)
    for params in (
        {"from": "2026-05-01", "to": "2026-01-01"},
        {"from": "1900-01-01"},
        {"to": "2999-01-01"},
        {"from": "2001-01-01", "to": "2025-01-01"},
        {"from": "yesterday"},
    ):
        body = assert_problem(await api.get("/trends", **params), 422)
        assert body["errors"], params
    for params in (
        {"group_by": "colour"},
        {"group_by": "teacher"},
        {"interval": "decade"},
        {"nonsense": "1"},
        {"limit": "0"},
        {"org": "KZ/ALM"},
    ):
        assert_problem(await api.get("/funnel", **params), 422)
    assert_problem(await api.get("/behind", level="region", org="KZ-ALM"), 422)
    assert_problem(await api.get("/compare", group_by="org_unit"), 422)  # a region has no regions below
    assert_problem(await api.client.get(A + "/funnel"), 401)
    assert_problem(await api.get("/funnel", roles=("teacher",)), 403)
    assert_problem(await api.get("/funnel", scope=None), 403)  # an analyst without a scope
    assert api.snapshot() == before


async def test_cohort_comparison_by_course_and_institute_scope(api: Api) -> None:
    body = (await api.get("/compare")).json()
    assert body["group_by"] == "course"
    by = rows(body)
    assert set(by) == {"c1", "c2"} and by["c1"]["name"] == "Демо"
    # By course the counts are enrolments: the 12 teachers in both courses count in each.
    assert by["c1"]["counts"]["enrolled"] + by["c2"]["counts"]["enrolled"] == 72
    # An institute admin sees their institute's enrolments only, and nothing of another institute.
    scope = "institute:i2"
    own = (await api.get("/funnel", scope=scope, roles=("institute_admin",), inst="i2")).json()
    assert own["total"]["enrolled"] == by["c2"]["counts"]["enrolled"]
    assert_problem(
        await api.get("/funnel", scope=scope, roles=("institute_admin",), inst="i2", institute="i1"), 403
    )
    assert_problem(await api.get("/attainment", scope=scope, roles=("institute_admin",), inst="i2"), 403)


async def test_attainment_heat_table_trends_time_and_behind(api: Api) -> None:
    heat = (await api.get("/attainment", kind="indicator")).json()
    assert [u["code"] for u in heat["units"]] == ["KZ-AKM", "KZ-ALM", "KZ-AST"]
    assert {r["code"] for r in heat["rows"]} == {"II.KA.1", "III.KA.1", "IV.KA.1"}
    for row in heat["rows"]:
        assert row["total"]["total"] == 60  # every teacher has graded evidence for each indicator
        for cell in row["cells"]:
            assert all(v is None or v == 0 or v >= 10 for v in cell["counts"].values())
    # Drill-down stops in the heat table too: a rating hidden for a region nationally stays hidden in
    # the region's own total row, so the two answers cannot be subtracted from each other.
    seen_hidden = False
    for region in ("KZ-ALM", "KZ-AKM"):
        below = {
            r["code"]: r for r in (await api.get("/attainment", kind="indicator", org=region)).json()["rows"]
        }
        for row in heat["rows"]:
            above = next(c for c in row["cells"] if c["org_unit"] == region)
            hidden_above = {k for k, v in above["counts"].items() if v is None}
            hidden_below = {k for k, v in below[row["code"]]["total"]["counts"].items() if v is None}
            assert hidden_above <= hidden_below, (region, row["code"])
            seen_hidden = seen_hidden or bool(hidden_above)
            shown = {k: v for k, v in below[row["code"]]["total"]["counts"].items() if v is not None}
            assert all(above["counts"][k] == v for k, v in shown.items())
    assert seen_hidden
    competencies = (await api.get("/attainment")).json()
    assert competencies["kind"] == "competency" and {r["code"] for r in competencies["rows"]} == {
        "II.KA",
        "III.KA",
        "IV.KA",
    }
    trend = (await api.get("/trends", interval="month")).json()
    assert sum(p["counts"]["enrolled"] or 0 for p in trend["points"]) == 72  # enrolments per period
    assert all(p["period"].endswith("-01") for p in trend["points"])
    months = (await api.get("/trends")).json()
    assert len(months["points"]) == 12 and months["interval"] == "month"  # this month and the 11 before
    time = (await api.get("/completion-time")).json()
    assert time["total"]["completed"] == 31 and time["total"]["median_days"] == 0.0
    # Akmola's 5 completions are too few for a median, and Almaty's is hidden as their complement.
    assert {r["key"]: r["suppressed"] for r in time["rows"]} == {"KZ-ALM": True, "KZ-AKM": True}
    by_course = (await api.get("/completion-time", group_by="course")).json()
    assert {r["key"] for r in by_course["rows"]} == {"c1", "c2"}
    behind = (await api.get("/behind", level="school")).json()
    # Furthest behind follows the drill-down's pattern: Talgar is hidden (it would give Kapshagay's 3
    # from Almaty's total), so are its schools, and Kokshetau's 5 completions: nothing can be ranked.
    assert behind["rows"] == [] and behind["left_out"] == 4
    assert_problem(await api.get("/behind", level="school", **{"from": "2026-01-01"}), 422)


async def test_an_export_asks_who_before_what(api: Api) -> None:
    """No token is a 401 and a teacher's a 403, even when the query is also invalid (not its 422)."""
    bad = {"table": "funnel", "from": "2000-01-01", "to": "2000-01-01"}  # not a whole month
    assert_problem(await api.client.get(A + "/export", params=bad), 401)
    assert_problem(await api.get("/export", roles=("teacher",), **bad), 403)
    assert_problem(await api.get("/export", **bad), 422)


async def test_exports_have_the_same_numbers_and_suppression(api: Api) -> None:
    response = await api.get("/export", table="funnel")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    # Data as of: the report's, in the file's first row, its name and its Last-Modified.
    as_of = (await api.get("/funnel")).json()["as_of"]
    assert as_of and table[0] == ["data_as_of", as_of.replace("+00:00", "Z")[:19] + "Z"]
    stamp = datetime.fromisoformat(as_of).strftime("%Y-%m-%dT%H%MZ")
    assert f'filename="ustaz-funnel-KZ-{stamp}.csv"' in response.headers["content-disposition"]
    assert parsedate_to_datetime(response.headers["last-modified"]) == datetime.fromisoformat(as_of).replace(
        microsecond=0
    )
    table = table[1:]
    assert table[0] == ["key", "name", "enrolled", "started", "completed", "certified", "completion_rate"]
    by = {r[0]: r for r in table[1:]}
    assert by["KZ-AKM"][2] == "20" and by["KZ-AKM"][4] == "<10" and by["total"][2] == "60"
    xlsx = await api.get("/export", table="funnel", format="xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:2] == ["data_as_of", as_of.replace("+00:00", "Z")[:19] + "Z"]
    values = [v[: len(table[0])] for v in values[1:]]
    assert values[0] == table[0]
    assert {r[0]: r for r in values[1:]}["KZ-AKM"][2] == 20 and {r[0]: r for r in values[1:]}["KZ-AKM"][
        4
    ] == "<10"
    for name in ("attainment", "trends", "completion_time", "behind"):
        for fmt in ("csv", "xlsx"):
            assert (await api.get("/export", table=name, format=fmt)).status_code == 200, (name, fmt)
    # More rows than the cap (60 here): 413 with a hint to narrow.
    body = assert_problem(
        await api.get("/export", table="trends", **{"from": "2020-01-01", "to": "2026-10-31"}), 413
    )
    assert body["hint"] == "narrow" and "Narrow" in body["detail"]
    assert_problem(await api.get("/export", table="nothing"), 422)

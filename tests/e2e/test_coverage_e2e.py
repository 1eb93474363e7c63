"""The coverage dashboard in real Chromium with JavaScript off, against the processes `make run` starts:
the demo seed's programme over the demo registry (copied into progress by the seed), the national
analyst's table by region with the registry's in-service teachers, drill-down by link, the phone width,
the EMIS download; the Akmola analyst sees Akmola only and cannot define a programme."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from libs.db import create_db_engine
from tests.e2e.test_progress_pages import signed_in

pytestmark = pytest.mark.e2e


def registered(platform: Any, region: str) -> int:
    """In-service active registry teachers of a region, counted in the gateway's own database."""
    engine = create_db_engine(f"sqlite:///{platform.var_dir / 'gateway.db'}")
    query = text(
        "SELECT count(*) FROM registry_teachers t JOIN org_units o ON o.id = t.school_id "
        "WHERE t.employment = 'in_service' AND t.status = 'active' AND o.path LIKE :prefix"
    )
    with engine.connect() as conn:
        n = int(conn.execute(query, {"prefix": f"KZ/{region}/%"}).scalar_one())
    engine.dispose()
    return n


def test_the_analyst_reads_coverage_with_javascript_off(platform: Any, browser: Any) -> None:
    base = platform.urls["gateway"]
    context, page = signed_in(browser, base, "analyst", "analyst-demo")
    response = page.goto("/coverage")
    assert response is not None and response.status == 200
    assert "Digital assessment for every teacher (demo)" in page.locator("h1").inner_text()
    cell = page.locator("[data-testid=coverage-table] tr[data-unit=KZ-ALM] td").first
    assert cell.inner_text().replace("\u202f", "") == str(registered(platform, "KZ-ALM"))
    assert page.locator("[data-testid=coverage-behind] tbody tr").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # wide tables scroll inside
    page.click("[data-testid=coverage-table] tr[data-unit=KZ-ALM] th a")
    assert "org=KZ-ALM" in page.url and "Almaty Region" in page.locator("h1").inner_text()
    csv = context.request.get("/dashboard/emis.csv")
    assert csv.status == 200 and csv.text().lstrip("\ufeff").startswith("national_id,")
    context.close()

    context, page = signed_in(browser, base, "analyst-akm", "analyst-demo")
    own = page.goto("/coverage")
    assert own is not None and own.status == 200 and "Akmola" in page.locator("h1").inner_text()
    other = page.goto("/coverage?org=KZ-ALM")
    assert other is not None and other.status == 403
    listing = page.goto("/coverage/programmes")
    assert listing is not None and listing.status == 200
    assert page.locator("form[action='/coverage/programmes']").count() == 0
    context.close()

"""The progress service's org-unit read model, refreshed from a real gateway over HTTP with a service
token (ADR 0011): the copy equals the gateway's tree, follows renames and removals, and the
gateway's list is not for teachers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlmodel import select

from deploy.seed import ORG_UNITS, seed_gateway
from gateway.schemas import OrgUnitTree
from libs.db import create_db_engine, session_scope
from libs.service_client import service_client, service_path
from services.progress.analytics import service as analytics
from services.progress.models import OrgUnitView
from tests.conftest import mint, service_settings, thread_server


def test_the_read_model_is_refreshed_from_the_gateway(
    databases: Any, sqlite_databases: Any, key_dir: Path, redis_url: str, issuer: Any
) -> None:
    from gateway.app import build_app

    gateway = build_app(
        service_settings("gateway", sqlite_databases.fresh("gateway", seed_gateway), signing_key_dir=key_dir)
    )
    engine = create_db_engine(databases.fresh("progress"))
    try:
        with thread_server(gateway) as url:
            teacher = mint(issuer, roles=("teacher",), audiences=("gateway",))
            refused = httpx.get(f"{url}/org-units", headers={"authorization": f"Bearer {teacher}"})
            assert refused.status_code == 403
            assert httpx.get(f"{url}/org-units").status_code == 401

            settings = service_settings("progress", "sqlite://", gateway_url=url)
            client = service_client(settings, "progress", "gateway")
            units = client.get_model(service_path("org-units"), OrgUnitTree).items
            client.close()
            assert [u.code for u in units][0] == "KZ" and len(units) == len(ORG_UNITS)
            with session_scope(engine) as session:
                session.add(
                    OrgUnitView(
                        code="KZ-GONE",
                        name="Closed",
                        kind="school",
                        parent_code="KZ",
                        path="KZ/KZ-GONE",
                        level=1,
                    )
                )
                session.add(
                    OrgUnitView(
                        code="KZ-ALM",
                        name="Old name",
                        kind="region",
                        parent_code="KZ",
                        path="KZ/KZ-ALM",
                        level=1,
                    )
                )
            with session_scope(engine) as session:
                assert analytics.replace_org_units(session, units) == len(ORG_UNITS) - 1 + 1 + 1
            with session_scope(engine) as session:
                copied = {u.code: u for u in session.exec(select(OrgUnitView))}
                assert analytics.replace_org_units(session, units) == 0  # nothing changed since
        assert set(copied) == {code for code, *_ in ORG_UNITS}
        assert copied["KZ-ALM"].name == "Almaty Region" and copied["KZ-ALM-TAL-S01"].level == 3
        assert copied["KZ-ALM-TAL-S01"].path == "KZ/KZ-ALM/KZ-ALM-TAL/KZ-ALM-TAL-S01"
        assert copied["KZ-ALM-TAL"].parent_code == "KZ-ALM"
    finally:
        engine.dispose()

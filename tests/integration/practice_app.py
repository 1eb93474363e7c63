"""Progress (in-process) with a real courses service over HTTP (the demo framework) and a real
gateway's JWKS, an org-unit tree of two schools, for the professional-learning tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import Engine

from libs.db import create_db_engine, session_scope
from services.progress.models import OrgUnitView
from tests.conftest import Databases, mint, seed_courses_service, serve, service_settings, thread_server

S01 = ("KZ", "KZ-ALM", "KZ-ALM-TAL", "KZ-ALM-TAL-S01")
S02 = ("KZ", "KZ-ALM", "KZ-ALM-TAL", "KZ-ALM-TAL-S02")
UNITS = [
    ("KZ", "country", None, 0),
    ("KZ-ALM", "region", "KZ", 1),
    ("KZ-ALM-TAL", "district", "KZ-ALM", 2),
    ("KZ-ALM-TAL-S01", "school", "KZ-ALM-TAL", 3),
    ("KZ-ALM-TAL-S02", "school", "KZ-ALM-TAL", 3),
    ("KZ-AST", "region", "KZ", 1),
    ("KZ-AST-S09", "school", "KZ-AST", 2),
]


def seed_units(engine: Engine) -> None:
    paths: dict[str, str] = {}
    with session_scope(engine) as session:
        for code, kind, parent, level in UNITS:
            paths[code] = f"{paths[parent]}/{code}" if parent else code
            session.add(
                OrgUnitView(
                    code=code, name=code, kind=kind, parent_code=parent, path=paths[code], level=level
                )
            )


@dataclass
class PracticeAPI:
    client: httpx.AsyncClient
    engine: Engine
    issuer: Any

    def auth(
        self, sub: str, roles: tuple[str, ...] = ("teacher",), org: tuple[str, ...] = S01, **claims: Any
    ) -> dict[str, str]:
        token = mint(self.issuer, sub=sub, roles=roles, org=org, name=claims.pop("name", sub), **claims)
        return {"authorization": f"Bearer {token}"}

    def count(self, model: Any, *where: Any) -> int:
        from sqlmodel import select

        with session_scope(self.engine, readonly=True) as session:
            return len(session.exec(select(model).where(*where)).all())


@pytest_asyncio.fixture
async def practice_api(databases: Databases, gateway_url: str, issuer: Any) -> AsyncIterator[PracticeAPI]:
    from services.courses.app import build_app as courses_app
    from services.progress.app import build_app as progress_app

    courses = courses_app(
        service_settings("courses", databases.fresh("courses", seed_courses_service), gateway_url=gateway_url)
    )
    with thread_server(courses) as courses_url:
        url = databases.fresh("progress")
        engine = create_db_engine(url)
        seed_units(engine)
        app = progress_app(
            service_settings("progress", url, gateway_url=gateway_url, courses_url=courses_url)
        )
        async with serve(app) as client:
            yield PracticeAPI(client, engine, issuer)
        engine.dispose()

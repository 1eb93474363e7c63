"""The progress service in-process on a fresh database of the parametrised backend, with one
teacher enrolled in course c1 (version 1, answer key cached), talking to a real gateway's JWKS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import Engine, select

from libs.auth import Principal
from libs.db import create_db_engine, session_scope
from services.progress import service
from services.progress.models import outbox
from tests.conftest import mint, serve, service_settings
from tests.integration.test_progress_rules import COURSE, answer_key

TEACHER_ID = "teacher-1"
OTHER_ID = "teacher-2"
ORG = ("KZ", "KZ-ALM", "KZ-ALM-TAL")
TEACHER = Principal(id=TEACHER_ID, roles=("teacher",), name="Aigerim", org=ORG)
OTHER = Principal(id=OTHER_ID, roles=("teacher",), name="Bolat", org=ORG)


@dataclass
class ProgressAPI:
    client: httpx.AsyncClient
    engine: Engine
    issuer: Any
    app: Any

    def token(self, sub: str = TEACHER_ID, **claims: Any) -> dict[str, str]:
        return {"authorization": f"Bearer {mint(self.issuer, sub=sub, org=ORG, **claims)}"}

    def events(self, topic: str) -> list[Any]:
        with session_scope(self.engine, readonly=True) as session:
            return list(session.execute(select(outbox).where(outbox.c.topic == topic)))

    def count(self, model: Any, *where: Any) -> int:
        with session_scope(self.engine, readonly=True) as session:
            return len(session.exec(select(model).where(*where)).all())


@pytest_asyncio.fixture
async def progress_api(
    databases: Any, gateway_url: str, redis_url: str, issuer: Any
) -> AsyncIterator[ProgressAPI]:
    from services.progress.app import build_app

    url = databases.fresh("progress")
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        for teacher in (TEACHER, OTHER):
            service.enrol(session, teacher, COURSE)
        service.store_answer_key(session, "c1", 1, answer_key())
    app = build_app(service_settings("progress", url, gateway_url=gateway_url))
    async with serve(app) as client:
        yield ProgressAPI(client, engine, issuer, app)
    engine.dispose()

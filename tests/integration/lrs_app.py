"""The progress service in-process as an LRS (/xapi) on a fresh database of the parametrised backend:
the progress_app fixture's teachers and course c1 (institute i1), plus LRS clients: one of i1, one
of another institute, one revoked, and one allowed only 3 requests a minute."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest_asyncio
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select

from libs.db import create_db_engine, session_scope
from services.progress import service
from services.progress.lrs.models import LrsClient
from services.progress.models import Statement
from tests.conftest import mint, serve, service_settings
from tests.integration.progress_app import OTHER, TEACHER
from tests.integration.test_progress_rules import COURSE, answer_key

PUBLIC = "https://ustaz.example"
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # verifies fast: tests make many apps
VERSION = {"X-Experience-API-Version": "1.0.3"}
CLIENTS = {  # key: (institute, rate limit, revoked)
    "i1-key": ("i1", 6000, False),
    "other-key": ("i2", 6000, False),
    "revoked-key": ("i1", 6000, True),
    "slow-key": ("i1", 3, False),
}


def basic(key: str = "i1-key", secret: str | None = None) -> dict[str, str]:
    token = base64.b64encode(f"{key}:{secret or key + '-secret'}".encode()).decode()
    return {"authorization": f"Basic {token}", **VERSION}


def statement(**extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": "mailto:learner@example.org", "name": "A learner"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-US": "attended"}},
        "object": {"id": "http://example.org/meetings/1", "definition": {"name": {"en-US": "A meeting"}}},
        **extra,
    }


@dataclass
class LRS:
    client: httpx.AsyncClient
    engine: Engine
    issuer: Any

    async def post(self, body: Any, key: str = "i1-key", **kwargs: Any) -> httpx.Response:
        return await self.client.post("/xapi/statements", json=body, headers=basic(key), **kwargs)

    async def get(self, key: str = "i1-key", **params: Any) -> httpx.Response:
        return await self.client.get("/xapi/statements", params=params, headers=basic(key))

    def count(self) -> int:
        with session_scope(self.engine, readonly=True) as session:
            return int(session.execute(select(func.count()).select_from(Statement)).scalar_one())

    def count_rows(self, model: Any) -> int:
        with session_scope(self.engine, readonly=True) as session:
            return int(session.execute(select(func.count()).select_from(model)).scalar_one())

    def bearer(self, sub: str, **claims: Any) -> dict[str, str]:
        return {"authorization": f"Bearer {mint(self.issuer, sub=sub, **claims)}"}


@pytest_asyncio.fixture
async def lrs(databases: Any, gateway_url: str, redis_url: str, issuer: Any) -> AsyncIterator[LRS]:
    from services.progress.app import build_app

    url = databases.fresh("progress")
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        for teacher in (TEACHER, OTHER):
            service.enrol(session, teacher, COURSE)
        service.store_answer_key(session, "c1", 1, answer_key())
        for key, (institute, limit, revoked) in CLIENTS.items():
            session.add(
                LrsClient(
                    key=key,
                    secret_hash=CHEAP.hash(key + "-secret"),
                    institute_id=institute,
                    name=f"client {key}",
                    rate_limit=limit,
                    created_by="test",
                    revoked_at=datetime.now(UTC) if revoked else None,
                )
            )
    settings = service_settings(
        "progress", url, gateway_url=gateway_url, public_url=PUBLIC, lrs_client_cache_seconds=0
    )
    app = build_app(settings)
    async with serve(app) as client:
        yield LRS(client, engine, issuer)
    engine.dispose()

"""The certificates service in-process on a fresh database of the parametrised backend, with two
institutes as issuers, talking to a real gateway's JWKS; certificates are issued by the same service
function the Celery task calls."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import Engine

from libs.crypto import fernet
from libs.db import create_db_engine, session_scope
from services.certificates import service
from services.certificates.models import Certificate, Issuer
from services.progress.schemas import CourseCompleted
from tests.conftest import mint, serve, service_settings

PUBLIC_URL = "https://ustaz.test"
INSTITUTE, OTHER_INSTITUTE = "i1", "i2"


def completion(**payload: Any) -> CourseCompleted:
    return CourseCompleted.model_validate(
        {
            "enrolment_id": str(uuid.uuid4()),
            "user_id": "teacher-1",
            "user_name": "Aigerim Nurlanovna",
            "course_id": "c1",
            "version": 1,
            "course_title": "Формативное оценивание",
            "language": "ru",
            "institute_id": INSTITUTE,
            "org_path": "KZ/KZ-ALM",
            "indicators": ["II.KA.1", "III.TA.2"],
            "completed_at": "2026-11-24T10:00:00+00:00",
            **payload,
        }
    )


@dataclass
class CertificatesAPI:
    client: httpx.AsyncClient
    engine: Engine
    issuer: Any
    settings: Any

    @property
    def box(self) -> Any:
        return fernet(self.settings.key_encryption_key)

    def issue(self, **payload: Any) -> Certificate:
        with session_scope(self.engine) as session:
            cert = service.issue_certificate(session, completion(**payload), service.issuance(self.settings))
        assert cert is not None
        return cert

    def get(self, certificate_id: str) -> Certificate:
        with session_scope(self.engine, readonly=True) as session:
            cert = session.get(Certificate, certificate_id)
            assert cert is not None
            return cert

    def token(
        self, sub: str = "teacher-1", roles: tuple[str, ...] = ("teacher",), **claims: Any
    ) -> dict[str, str]:
        return {"authorization": f"Bearer {mint(self.issuer, sub=sub, roles=roles, **claims)}"}

    def admin(self, institute: str = INSTITUTE) -> dict[str, str]:
        return self.token(
            sub=f"admin-{institute}",
            roles=("institute_admin",),
            inst=institute,
            scope=f"institute:{institute}",
        )

    def platform_admin(self) -> dict[str, str]:
        return self.token(sub="root", roles=("platform_admin",))


@pytest_asyncio.fixture
async def certificates_api(
    databases: Any, gateway_url: str, redis_url: str, issuer: Any, tmp_path: Any
) -> AsyncIterator[CertificatesAPI]:
    from services.certificates.app import build_app

    url = databases.fresh("certificates")
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        session.add(Issuer(institute_id=INSTITUTE, name="Институт повышения квалификации"))
        session.add(Issuer(institute_id=OTHER_INSTITUTE, name="Other institute"))
    settings = service_settings(
        "certificates", url, gateway_url=gateway_url, public_url=PUBLIC_URL, var_dir=tmp_path
    )
    app = build_app(settings)
    async with serve(app) as client:
        yield CertificatesAPI(client, engine, issuer, settings)
    engine.dispose()

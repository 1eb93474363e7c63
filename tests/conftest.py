"""Fixtures shared by the whole suite: real Redis and PostgreSQL servers, fresh migrated databases
per test on SQLite and PostgreSQL, a real gateway serving its JWKS over HTTP, and token minting."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from sqlalchemy import make_url, text
from starlette.applications import Starlette

from tests.servers import free_port, postgres_server, redis_server, wait_for

# Processes and the Celery app read these at import, so they are fixed before any app module loads.
WORKDIR = Path(tempfile.mkdtemp(prefix="ustaz-tests-"))
REDIS_PORT = free_port()
os.environ.setdefault(
    "USTAZ_REDIS_URL", os.environ.get("TEST_REDIS_URL") or f"redis://127.0.0.1:{REDIS_PORT}/0"
)
os.environ["USTAZ_ENV"] = "test"
os.environ["USTAZ_VAR_DIR"] = str(WORKDIR / "var")
os.environ["USTAZ_SERVICE_CLIENT_SECRET"] = "test-service-secret"
os.environ.setdefault("XDG_RUNTIME_DIR", str(WORKDIR))
SERVICES = ("gateway", "courses", "progress", "certificates")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end tests last: Playwright's sync API keeps an event loop running in the main thread
    while its browser is open, which async tests cannot share."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(WORKDIR, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ["USTAZ_REDIS_URL"]
    if os.environ.get("TEST_REDIS_URL"):
        yield url
        return
    with redis_server(WORKDIR / "redis", port=REDIS_PORT) as started:
        assert started == url
        yield url


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    with postgres_server(WORKDIR / "pg") as url:
        yield url


class Databases:
    """Fresh, migrated databases per test: each service is migrated once into a template, then
    copied (a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL)."""

    def __init__(self, backend: str, admin_url: str | None) -> None:
        self.backend = backend
        self.admin_url = admin_url
        self.templates: dict[str, str] = {}

    def _pg(self, name: str) -> str:
        assert self.admin_url
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def _create_pg(self, name: str, template: str | None = None) -> None:
        from libs.db import create_db_engine

        engine = create_db_engine(self.admin_url or "")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        engine.dispose()

    def template(self, service: str, seed: Callable[[Any], None] | None = None) -> tuple[str, str]:
        """(name, url) of a migrated template database, optionally with seed data."""
        from libs.db import create_db_engine, session_scope
        from libs.migrate import upgrade

        name = f"tmpl_{service}" + (f"_{seed.__name__}" if seed else "")
        if name not in self.templates:
            if self.backend == "sqlite":
                url = f"sqlite:///{WORKDIR / 'templates' / self.backend / f'{name}.db'}"
            else:
                self._create_pg(name)
                url = self._pg(name)
            upgrade(service, url)
            if seed:
                engine = create_db_engine(url)
                with session_scope(engine) as session:
                    seed(session)
                engine.dispose()
            self.templates[name] = url
        return name, self.templates[name]

    def fresh(self, service: str, seed: Callable[[Any], None] | None = None) -> str:
        template, url = self.template(service, seed)
        name = f"t_{service}_{uuid.uuid4().hex[:10]}"
        if self.backend == "sqlite":
            target = WORKDIR / "dbs" / f"{name}.db"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(url.removeprefix("sqlite:///"), target)
            return f"sqlite:///{target}"
        self._create_pg(name, template)
        return self._pg(name)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest) -> Databases:
    """Parametrises a test over SQLite and PostgreSQL."""
    admin = request.getfixturevalue("pg_admin_url") if request.param == "postgresql" else None
    return Databases(request.param, admin)


@pytest.fixture(scope="session")
def sqlite_databases() -> Databases:
    return Databases("sqlite", None)


@pytest.fixture(scope="session")
def key_dir() -> Path:
    from gateway.keys import write_new_key

    directory = WORKDIR / "gateway-keys"
    directory.mkdir(parents=True, exist_ok=True)
    write_new_key(directory)
    return directory


@pytest.fixture(scope="session")
def issuer(key_dir: Path) -> Any:
    from gateway.keys import load_or_create_keys
    from gateway.service import TokenIssuer

    return TokenIssuer(load_or_create_keys(key_dir, create=False), "ustaz-gateway", timedelta(minutes=10))


def mint(
    issuer: Any,
    *,
    sub: str | None = None,
    roles: tuple[str, ...] = ("teacher",),
    org: tuple[str, ...] = ("KZ", "KZ-ALM", "KZ-ALM-TAL", "KZ-ALM-TAL-S01"),
    scope: str | None = None,
    inst: str | None = None,
    audiences: tuple[str, ...] = SERVICES,
    lang: str = "ru",
    ttl: timedelta | None = None,
    name: str = "Test Teacher",
) -> str:
    from libs.auth import audience

    return issuer.sign(
        sub or str(uuid.uuid4()),
        [audience(s) for s in audiences],
        {"name": name, "roles": list(roles), "org": list(org), "scope": scope, "inst": inst, "lang": lang},
        ttl=ttl,
    )


def service_settings(service: str, database_url: str, **overrides: Any) -> Any:
    from libs.migrate import SERVICES as PACKAGES

    module = __import__(PACKAGES[service] + ".settings", fromlist=["get_settings"])
    cls = type(module.get_settings())
    return cls(**{f"{service}_database_url": database_url, **overrides})


class ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test process keeps its own handlers
        pass


@pytest.fixture(scope="session")
def gateway_url(redis_url: str, key_dir: Path, sqlite_databases: Databases) -> Iterator[str]:
    """A real gateway over HTTP (uvicorn in a thread): services fetch its JWKS and service tokens."""
    from gateway.app import build_app

    settings = service_settings("gateway", sqlite_databases.fresh("gateway"), signing_key_dir=key_dir)
    with thread_server(build_app(settings)) as url:
        yield url


def seed_settled_registry(session: Any) -> None:
    """The demo seed, its registry rows dated a minute ago: behind the change feed's horizon (which
    trails the clock by a few seconds), as a registry loaded before the test began would be."""
    from sqlalchemy import update

    from deploy.seed import seed_gateway
    from gateway.models import OrgUnit
    from gateway.registry.repository import TEACHERS
    from libs.outbox import utcnow

    seed_gateway(session)
    session.flush()
    before = utcnow() - timedelta(minutes=1)
    session.execute(update(TEACHERS).values(updated_at=before))
    session.execute(update(OrgUnit).values(updated_at=before))


@pytest.fixture(scope="session")
def registry_gateway_url(redis_url: str, key_dir: Path, sqlite_databases: Databases) -> Iterator[str]:
    """A real gateway with the demo seed (org units, users, the 300-teacher demo registry), signing
    with the same keys as `gateway_url`: for what reads the registry (cohorts, coverage, EMIS)."""
    from gateway.app import build_app

    url = sqlite_databases.fresh("gateway", seed_settled_registry)
    settings = service_settings(
        "gateway", url, signing_key_dir=key_dir, emis_client_secret="test-emis-secret"
    )
    with thread_server(build_app(settings)) as base:
        yield base


@asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan and talk to it in-process over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest_asyncio.fixture
async def gateway_client(
    databases: Databases, redis_url: str, key_dir: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway app in-process on a fresh database of the parametrised backend, with demo users."""
    from deploy.seed import seed_gateway
    from gateway.app import build_app

    url = databases.fresh("gateway", seed_gateway)
    app = build_app(service_settings("gateway", url, signing_key_dir=key_dir, rate_limit_per_ip=10_000))
    async with serve(app) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


def seed_courses_service(session: Any) -> None:
    from deploy.seed import seed_courses, seed_framework

    seed_framework(session)
    seed_courses(session)


@contextmanager
def thread_server(app: Starlette) -> Iterator[str]:
    """Serve an app over real HTTP from a thread of the test process."""
    port = free_port()
    server = ThreadServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, "server")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest_asyncio.fixture
async def courses_client(databases: Databases, gateway_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The courses service in-process on the parametrised backend, with the demo courses."""
    from services.courses.app import build_app

    app = build_app(
        service_settings("courses", databases.fresh("courses", seed_courses_service), gateway_url=gateway_url)
    )
    async with serve(app) as client:
        yield client

"""Each service's migrations build its schema on SQLite and PostgreSQL, and match its models."""

from __future__ import annotations

import pytest
from alembic import command

from libs.migrate import SERVICES, alembic_config


@pytest.mark.parametrize("service", list(SERVICES))
def test_migrations_apply_and_match_the_models(databases: object, service: str) -> None:
    url = databases.fresh(service)  # type: ignore[attr-defined]
    command.check(alembic_config(service, url))  # raises if models and migrations drifted apart
    command.upgrade(alembic_config(service, url), "head")  # idempotent

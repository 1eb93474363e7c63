"""The demo registry and the large one: valid IINs, fixed, idempotent, and the large registry lined up
with the teachers progress knows (same ids, same schools) plus those who never enrolled."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import text

from deploy.seed import REGISTRY_TEACHERS, seed_gateway
from gateway.registry.national_id import national_ids
from gateway.settings import get_settings
from libs.db import create_db_engine, session_scope


def test_the_demo_registry_is_fixed_and_seeded_once(sqlite_databases: Any) -> None:
    engine = create_db_engine(sqlite_databases.fresh("gateway", seed_gateway))
    with session_scope(engine) as session:
        seed_gateway(session)  # a second run
    ids = national_ids(get_settings())
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT nid_sealed, user_id, status FROM registry_teachers")).all()
    engine.dispose()
    assert len(rows) == REGISTRY_TEACHERS + 1
    assert all(ids.rule.problem(ids.unseal(r.nid_sealed)) is None for r in rows)
    assert sum(1 for r in rows if r.user_id) == 1 and any(r.status == "left" for r in rows)


def test_the_large_registry_matches_progress(sqlite_databases: Any) -> None:
    from deploy.seed_large import seed_large, seed_registry_large, tree

    gateway, progress = sqlite_databases.fresh("gateway"), sqlite_databases.fresh("progress")
    result = seed_large(
        teachers=120, seed=3, gateway_url=gateway, progress_url=progress, districts=20, schools=40
    )
    assert result["registry_teachers_added"] == 120 + 60
    with create_db_engine(progress).connect() as conn:
        enrolled = dict(
            conn.execute(text("SELECT user_id, min(org_path) FROM enrolments GROUP BY user_id")).all()
        )
    engine = create_db_engine(gateway)
    with engine.connect() as conn:
        registry = dict(
            conn.execute(
                text("SELECT t.id, u.path FROM registry_teachers t JOIN org_units u ON u.id = t.school_id")
            ).all()
        )
    assert {k: v for k, v in registry.items() if k in enrolled} == enrolled  # same ids, same schools
    assert len(registry) - len(enrolled) == 60  # registered, never enrolled: still to be trained
    assert seed_registry_large(gateway, progress, tree(random.Random(3), 20, 40), 3) == 0  # once only
    engine.dispose()

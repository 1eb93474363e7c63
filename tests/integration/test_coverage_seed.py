"""`make seed-large` fills coverage: the registry copied into progress, the national programme defined,
its coverage computed and equal to the registry's in-service teachers; and the demo seed's programme."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from libs.db import create_db_engine, session_scope


def test_seed_large_fills_coverage(sqlite_databases: Any) -> None:
    from deploy.seed_coverage import LARGE_PROGRAMME_ID
    from deploy.seed_large import seed_large
    from services.progress.models import CoverageCell

    gateway, progress = sqlite_databases.fresh("gateway"), sqlite_databases.fresh("progress")
    result = seed_large(
        teachers=120, seed=3, gateway_url=gateway, progress_url=progress, districts=20, schools=40
    )
    assert result["registry_people_copied"] == 180 and result["coverage_cells"] > 0
    with create_db_engine(gateway).connect() as conn:
        in_service = conn.execute(
            text(
                "SELECT count(*) FROM registry_teachers WHERE employment = 'in_service' AND status = 'active'"
            )
        ).scalar_one()
    engine = create_db_engine(progress)
    with session_scope(engine, readonly=True) as session:
        country = session.get(CoverageCell, (LARGE_PROGRAMME_ID, "KZ"))
        assert country is not None and country.population == in_service
        assert 0 < country.completed <= country.enrolled <= country.population
        cursor = session.execute(text("SELECT cursor FROM sync_cursors WHERE name = 'registry'")).scalar_one()
        assert "|" in cursor  # the first refresh reads only what changed after the copy
    engine.dispose()


def test_the_demo_seed_defines_one_programme(sqlite_databases: Any) -> None:
    from deploy.seed import DEMO_PROGRAMME_ID, seed_progress
    from services.progress.models import Programme

    engine = create_db_engine(sqlite_databases.fresh("progress", seed_progress))
    with session_scope(engine) as session:
        seed_progress(session)  # twice: still one
    with session_scope(engine, readonly=True) as session:
        programmes = session.execute(text("SELECT id FROM programmes")).all()
        assert [p[0] for p in programmes] == [DEMO_PROGRAMME_ID]
        assert session.get(Programme, DEMO_PROGRAMME_ID) is not None
    engine.dispose()

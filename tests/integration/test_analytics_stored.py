"""Patterns decided off the request path (analytics/stored.py, ADR 0019): every answer read from a
stored run is the answer decided on the request path over the same counts (the audit's generated
population, every answer it collects, the CSV exports included), with the run's "data as of"; a run
is decided again only when the rollups, the tree or the threshold moved; without a run for the
threshold asked, answers decide as before. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, update

from libs.db import create_db_engine, session_scope
from services.progress.analytics import service, stored
from services.progress.analytics.rollups import mark_fresh
from services.progress.analytics.schemas import AnalyticsQuery
from services.progress.models import MonthCell, OrgUnitView, PatternCell, PatternRun, table_of
from tests.conftest import Databases, service_settings
from tests.integration.test_analytics_audit import LEAVES, USER, collect, generate, write

T = 10


def funnel_as_of(engine: Any, settings: Any, **params: Any) -> datetime | None:
    with session_scope(engine, readonly=True) as session:
        q = AnalyticsQuery.model_validate(params)
        return service.REPORTS["funnel"](session, USER, q, settings).as_of


def test_stored_answers_are_the_answers_decided_on_the_request_path(databases: Databases) -> None:
    engine = create_db_engine(databases.fresh("progress"))
    try:
        write(engine, generate(2))
        with session_scope(engine) as session:
            mark_fresh(session, "funnel", datetime(2026, 11, 1, tzinfo=UTC))
        settings = service_settings("progress", "sqlite://", analytics_export_max_rows=100_000)
        live = collect(engine, settings)
        assert live.hidden and live.shown
        with session_scope(engine) as session:
            runs = stored.refresh(session, T)
        assert [r.root for r in runs] == ["KZ"]
        with session_scope(engine) as session:
            assert stored.refresh(session, T) == []  # nothing moved: nothing decided
            cells = session.execute(table_of(PatternCell).select()).all()
            assert cells and any(flags & 1 for c in cells for *_, flags in c.cells)
            # the rollups' month cells gone: an answer deciding live would now show zeros everywhere
            session.execute(delete(table_of(MonthCell)))
        from_store = collect(engine, settings)
        assert from_store.hidden == live.hidden
        assert from_store.shown == live.shown
        course = LEAVES[0][1]
        assert funnel_as_of(engine, settings, org="KZ", course=course) == datetime(2026, 11, 1, tzinfo=UTC)

        # the rollups moved: the next run is decided on what they hold now, and replaces the old one
        with session_scope(engine) as session:
            mark_fresh(session, "funnel", datetime(2026, 11, 2, tzinfo=UTC))
            again = stored.refresh(session, T)
        assert len(again) == 1 and again[0].as_of == datetime(2026, 11, 2, tzinfo=UTC)
        with session_scope(engine) as session:
            assert [r.id for r in session.execute(table_of(PatternRun).select()).all()] == [again[0].id]
            body = service.funnel(session, USER, AnalyticsQuery(org="KZ", course=course), settings)
            assert all(c in (None, 0) for c in body.total.values())  # decided anew on the counts now
            # an org unit changed after the run: decided again
            later = datetime.now(UTC) + timedelta(minutes=1)
            session.execute(
                update(table_of(OrgUnitView))
                .where(table_of(OrgUnitView).c.code == "KZ")
                .values(updated_at=later)
            )
        with session_scope(engine) as session:
            assert len(stored.refresh(session, T)) == 1
            # another threshold: the run is not used, answers decide on the request path
            assert stored.latest(session, "KZ", T + 1) is None
            assert stored.refresh(session, T + 1)[0].threshold == T + 1
    finally:
        engine.dispose()

"""Group commit (libs/group_commit.py): requests handed in together share one transaction, each
keeps its own outcome (a failing one changes nothing and does not undo the others), and the
writer outlives calls that cannot reach the database."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, make_url, select
from sqlmodel import Session

from libs.db import after_commit, create_db_engine, session_scope
from libs.errors import Forbidden
from libs.group_commit import GroupWriter
from services.progress.models import Enrolment

pytestmark = pytest.mark.asyncio(loop_scope="session")


def enrol(session: Session, n: int) -> str:
    row = Enrolment(
        user_id=f"t-{n}",
        course_id="c",
        version=1,
        course_title="C",
        language="en",
        institute_id="i",
        org_path="x",
    )
    session.add(row)
    session.flush()
    return row.id


def enrol_then_refuse(session: Session, n: int, actions: list[str]) -> str:
    enrol(session, n)
    after_commit(session, lambda: actions.append(f"refused {n}"))
    raise Forbidden("not allowed")


def count(url: str) -> int:
    engine = create_db_engine(url)
    with session_scope(engine, readonly=True) as session:
        n = int(session.execute(select(func.count()).select_from(Enrolment)).scalar_one())
    engine.dispose()
    return n


async def test_calls_at_once_share_transactions_and_keep_their_own_outcome(databases: Any) -> None:
    url = databases.fresh("progress")
    engine = create_db_engine(url)
    writer = GroupWriter(engine)
    actions: list[str] = []
    calls = [
        writer.run(enrol, n) if n % 10 else writer.run(enrol_then_refuse, n, actions) for n in range(200)
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    refused = [r for r in results if isinstance(r, Forbidden)]
    ids = [r for r in results if isinstance(r, str)]
    assert len(refused) == 20 and len(ids) == 180 == len(set(ids))
    assert count(url) == 180  # the refused calls' rows went with their savepoints
    assert actions == []  # and so did their after-commit actions
    assert 1 <= writer.groups < 200  # calls handed in together committed together
    engine.dispose()


async def test_calls_that_cannot_reach_the_database_fail_and_the_writer_goes_on(
    databases: Any, tmp_path: Any
) -> None:
    url = databases.fresh("progress")
    engine = create_db_engine(url)
    writer = GroupWriter(engine)
    first = await writer.run(enrol, 1)
    # No such database (PostgreSQL), a directory for a file (SQLite): every call fails, none keeps
    # anything, and the writer goes on serving the next group.
    gone = make_url(url).set(database="no_such_database").render_as_string(hide_password=False)
    writer.engine = create_db_engine(f"sqlite:///{tmp_path}" if url.startswith("sqlite") else gone)
    results = await asyncio.gather(*(writer.run(enrol, n) for n in range(2, 6)), return_exceptions=True)
    assert len(results) == 4 and all(isinstance(r, Exception) for r in results)
    assert isinstance(first, str) and count(url) == 1
    writer.engine.dispose()
    writer.engine = engine
    assert isinstance(await writer.run(enrol, 6), str) and count(url) == 2
    engine.dispose()

"""SQLite writers queue on an flock of `<database>.writelock` (libs/db.py `_WriterQueue`): the
writers of several processes and threads all commit, a failed or nested transaction leaves no
lock behind, and readers take none."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from libs.db import create_db_engine, session_scope

WRITES = """
import sys
from sqlalchemy import text
from libs.db import create_db_engine, session_scope
engine = create_db_engine(sys.argv[1])
for n in range(int(sys.argv[2])):
    with session_scope(engine) as session:
        session.execute(text("INSERT INTO t (who) VALUES ('other process')"))
"""


def lock_is_free(path: Path) -> bool:
    fd = os.open(f"{path}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


@pytest.fixture
def database(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "w.db"
    engine = create_db_engine(f"sqlite:///{path}")
    with session_scope(engine) as session:
        session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)"))
    engine.dispose()
    return f"sqlite:///{path}", path


def test_writers_of_processes_and_threads_take_turns_and_all_commit(database: tuple[str, Path]) -> None:
    url, path = database
    root = Path(__file__).resolve().parents[2]
    other = subprocess.Popen([sys.executable, "-c", WRITES, url, "300"], cwd=root)
    engine = create_db_engine(url)

    def write(n: int) -> None:
        for _ in range(n):
            with session_scope(engine) as session:
                session.execute(text("INSERT INTO t (who) VALUES ('here')"))

    threads = [threading.Thread(target=write, args=(100,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other.wait(timeout=120) == 0
    with session_scope(engine, readonly=True) as session:
        counts = dict(session.execute(text("SELECT who, count(*) FROM t GROUP BY who")).all())
    assert counts == {"here": 400, "other process": 300}
    assert lock_is_free(path)
    engine.dispose()


def test_a_failed_transaction_releases_the_lock_and_a_reader_takes_none(database: tuple[str, Path]) -> None:
    url, path = database
    engine = create_db_engine(url)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.execute(text("INSERT INTO t (who) VALUES ('rolled back')"))
        assert not lock_is_free(path)  # held for the transaction
        raise RuntimeError("the business rule refused")
    assert lock_is_free(path)
    with session_scope(engine, readonly=True) as session:
        assert not session.execute(text("SELECT count(*) FROM t")).scalar_one()
        assert lock_is_free(path)
    engine.dispose()


def test_a_nested_write_transaction_in_the_same_thread_takes_no_second_lock(
    database: tuple[str, Path],
) -> None:
    """(It still waits for SQLite's own lock, as before: the flock must not turn that into a hang.)"""
    url, path = database
    engine, other = create_db_engine(url), create_db_engine(url)
    with session_scope(engine) as session:
        session.execute(text("INSERT INTO t (who) VALUES ('outer')"))
    raw = other.raw_connection()
    try:
        queued = raw.dbapi_connection
        queued.take_write_lock()  # type: ignore[union-attr]
        queued.take_write_lock()  # type: ignore[union-attr]  # the same thread: no second wait
        assert not lock_is_free(path)
        queued.rollback()  # type: ignore[union-attr]
        assert lock_is_free(path)
    finally:
        raw.close()
    engine.dispose()
    other.dispose()

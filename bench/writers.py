"""SQLite writers of two processes (ADR 0015): a 'web' process commits one small transaction every
4 ms while a 'worker' process's three threads run 5 ms write transactions back to back, with
SQLite's own busy handler (libs/db.py before the write queue, BENCH_WRITERS_BEFORE) and with the
flock write queue (this checkout). Reported: the web process's commits and its wait per commit."""

from __future__ import annotations

import importlib.util
import multiprocessing as mp
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import text

from bench.common import percentile, table

ROOT = Path(__file__).resolve().parent.parent
BEFORE = os.environ.get("BENCH_WRITERS_BEFORE", "b488c92")  # the commit before the write queue
SECONDS = float(os.environ.get("BENCH_WRITERS_SECONDS", "12"))


def _load(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"db_{abs(hash(path))}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _worker(path: str, url: str, stop_at: float) -> None:
    db = _load(path)
    engine = db.create_db_engine(url)

    def loop() -> None:
        while time.time() < stop_at:
            with db.session_scope(engine) as session:
                session.execute(text("INSERT INTO w (x) VALUES (1)"))
                started = time.perf_counter()
                while time.perf_counter() - started < 0.005:  # 5 ms of work holding the lock
                    pass

    threads = [threading.Thread(target=loop) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _web(path: str, url: str, stop_at: float, out: Any) -> None:
    db = _load(path)
    engine = db.create_db_engine(url)
    waits = []
    while time.time() < stop_at:
        started = time.perf_counter()
        with db.session_scope(engine) as session:
            session.execute(text("INSERT INTO r (x) VALUES (1)"))
        waits.append(time.perf_counter() - started)
        time.sleep(0.004)
    out.put(waits)


def run(path: str, workdir: Path) -> list[Any]:
    url = f"sqlite:///{workdir / (Path(path).stem + '.db')}"
    db = _load(path)
    engine = db.create_db_engine(url)
    with db.session_scope(engine) as session:
        session.execute(text("CREATE TABLE w (x)"))
        session.execute(text("CREATE TABLE r (x)"))
    stop = time.time() + SECONDS
    out: Any = mp.Queue()
    procs = [
        mp.Process(target=_worker, args=(path, url, stop)),
        mp.Process(target=_web, args=(path, url, stop, out)),
    ]
    for p in procs:
        p.start()
    waits = out.get()
    for p in procs:
        p.join()
    with db.session_scope(engine, readonly=True) as session:
        worker_commits = session.execute(text("SELECT count(*) FROM w")).scalar_one()
    engine.dispose()
    return [
        len(waits),
        worker_commits,
        *(percentile(waits, q) * 1000 for q in (0.5, 0.95, 0.99)),
        max(waits) * 1000,
    ]


def main() -> str:
    with tempfile.TemporaryDirectory(prefix="bench-writers-") as tmp:
        before = Path(tmp) / "db_before.py"
        before.write_text(
            subprocess.check_output(["git", "-C", str(ROOT), "show", f"{BEFORE}:libs/db.py"], text=True)
        )
        rows = [
            ["SQLite's busy handler", *run(str(before), Path(tmp))],
            ["flock write queue", *run(str(ROOT / "libs" / "db.py"), Path(tmp))],
        ]
    return f"SQLite writers of two processes, {SECONDS:.0f} s\n\n" + table(
        ["writers wait on", "web commits", "worker commits", "web wait p50 ms", "p95 ms", "p99 ms", "max ms"],
        rows,
    )

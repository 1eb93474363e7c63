"""Grading survives crashes: the real processes `make run` starts, a Celery worker SIGKILLed before
and during grading, Redis restarted with messages queued; every submission ends graded exactly once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from deploy.demo import _poll, login
from deploy.seed import COURSE_RU_ID
from tests.servers import platform_on_free_ports

pytestmark = pytest.mark.e2e
RIGHT = {"q1a": "b", "q1b": False, "q1c": 70}


@pytest.fixture(scope="module")
def crashable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A platform of its own (the shared one must not see its worker die), sweeping stale
    submissions every 2 s."""
    running = platform_on_free_ports(
        tmp_path_factory.mktemp("crashable"),
        extra_env={"USTAZ_GRADING_STALE_SECONDS": "4", "USTAZ_GRADING_SWEEP_SECONDS": "2"},
    )
    with running:
        running.start(timeout=120)
        yield running


def crash(platform: Any, name: str) -> None:
    """SIGKILL a process group and forget it, so the platform's readiness waits (which fail on any
    dead process) do not trip over the crash we caused on purpose."""
    platform.kill(name)
    platform.procs.pop(name)


def graded_once(platform: Any) -> dict[str, int]:
    with sqlite3.connect(platform.var_dir / "progress.db") as db:
        return dict(
            db.execute(
                "SELECT json_extract(payload, '$.submission_id'), count(*) FROM outbox "
                "WHERE topic = 'submission.graded' GROUP BY 1"
            ).fetchall()
        )


class Teacher:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.headers = login(client, "teacher")
        enrolled = client.post(
            "/api/v1/progress/enrolments", json={"course_id": COURSE_RU_ID}, headers=self.headers
        )
        assert enrolled.status_code in (200, 201), enrolled.text

    def submit(self) -> str:
        response = self.client.post(
            "/api/v1/progress/submissions",
            headers=self.headers,
            json={"course_id": COURSE_RU_ID, "quiz_id": "q1", "answers": RIGHT},
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def graded(self, ids: list[str]) -> set[str]:
        return {
            i
            for i in ids
            if self.client.get(f"/api/v1/progress/submissions/{i}", headers=self.headers).json()["status"]
            == "graded"
        }


def test_worker_kills_and_a_redis_restart_grade_every_submission_once(crashable: Any) -> None:
    with httpx.Client(base_url=crashable.urls["gateway"], timeout=15) as client:
        me = Teacher(client)
        submit, graded = me.submit, me.graded

        # 1. The worker is dead before anything is graded, and Redis restarts with the work queued.
        crash(crashable, "worker")
        before = [submit() for _ in range(10)]
        crashable.restart("redis")
        after_redis = [submit() for _ in range(5)]
        assert graded(before + after_redis) == set()
        crashable.restart("worker")

        # 2. Killed mid-flight: a burst is being graded when the worker dies.
        burst = [submit() for _ in range(20)]
        _poll(lambda: graded(burst), bool, 60, "the first grading of the burst")
        crash(crashable, "worker")
        during = [submit() for _ in range(10)]
        left = set(burst + during) - graded(burst + during)
        assert left, "the worker was killed with work outstanding"
        crashable.restart("worker")

        everything = before + after_redis + burst + during
        _poll(lambda: graded(everything), lambda done: done == set(everything), 90, "grading everything")

        verb = "http://adlnet.gov/expapi/verbs/passed"
        page = client.get(
            "/api/v1/progress/xapi/statements", params={"verb": verb, "limit": 500}, headers=me.headers
        ).json()
        assert len(page["statements"]) == len(everything)

    assert graded_once(crashable) == {i: 1 for i in everything}
    with sqlite3.connect(crashable.var_dir / "progress.db") as db:
        completed = db.execute("SELECT count(*) FROM outbox WHERE topic = 'course.completed'").fetchone()[0]
        completions = db.execute("SELECT count(*) FROM completions").fetchone()[0]
    assert completed == completions == 1


def test_grading_retries_while_courses_is_down_and_a_dead_workers_retries_are_swept(crashable: Any) -> None:
    """The grader needs the pinned version's answer key; with the courses service down it retries
    with backoff, holding the retries (ETA messages) unacknowledged. A worker killed then takes them
    out of sight until Redis's visibility timeout (20 min); the sweeper grades them in seconds."""
    with httpx.Client(base_url=crashable.urls["gateway"], timeout=15) as client:
        me = Teacher(client)
        crash(crashable, "worker")
        ids = [me.submit() for _ in range(6)]
        # As if this version's key had never been fetched (a fresh progress database).
        with sqlite3.connect(crashable.var_dir / "progress.db") as db:
            db.execute("DELETE FROM answer_keys")
        crash(crashable, "courses")
        worker_log = crashable.log_dir / "worker.log"
        retries_before = worker_log.read_text().count("Retry in")
        crashable.restart("worker")
        _poll(
            lambda: worker_log.read_text().count("Retry in") - retries_before,
            lambda n: n >= len(ids),
            60,
            "the grader retrying while courses is down",
        )
        assert me.graded(ids) == set()
        crash(crashable, "worker")
        crashable.restart("courses")
        crashable.restart("worker")
        _poll(lambda: me.graded(ids), lambda done: done == set(ids), 90, "grading after the courses outage")
    counts = graded_once(crashable)
    assert {i: counts.get(i) for i in ids} == {i: 1 for i in ids}
    assert "re-enqueued stale submissions" in (crashable.log_dir / "worker.log").read_text()

"""`make run-lite` (deploy/lite.py): the four apps, a threaded worker and beat in one process beside
Redis, on SQLite. The same journey `make run` passes, the same health endpoints, and an idle
footprint a small school server can hold (issue 13: at most 150 MB RSS, Redis included)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bench.memory import footprint
from deploy.lite import Lite, lite_on_free_ports
from tests.e2e.test_journey import test_the_journey as the_journey

pytestmark = pytest.mark.e2e
IDLE_LIMIT_MB = 150


@pytest.fixture(scope="module")
def lite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lite]:
    running = lite_on_free_ports(tmp_path_factory.mktemp("lite"))
    with running:
        running.start(timeout=180)
        yield running


def test_one_process_beside_redis_and_small_when_idle(lite: Lite) -> None:
    assert sorted(lite.procs) == ["lite", "redis"]
    used = footprint(lite.process_pids())
    assert [n for _, _, n in used.values()] == [1, 1]  # no pool processes, no separate beat
    total = sum(rss for rss, _, _ in used.values())
    assert total <= IDLE_LIMIT_MB, f"idle {total:.0f} MB RSS: {used}"


def test_the_same_journey(lite: Lite, browser: Any) -> None:
    the_journey(lite, browser)


def test_every_part_reports_health(lite: Lite) -> None:
    assert sorted(lite.urls) == ["certificates", "courses", "gateway", "progress", "worker"]
    for name, url in lite.urls.items():
        assert httpx.get(f"{url}/readyz").status_code == 200, name
    assert "celery_queue_length" in httpx.get(f"{lite.urls['worker']}/metrics").text
    assert "http_requests_total" in httpx.get(f"{lite.urls['gateway']}/metrics").text

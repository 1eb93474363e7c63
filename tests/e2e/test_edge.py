"""The edge under attack and faults, against the real processes `make run` starts (issue 15, items 1, 8
and 10): 210 clients trickling request bodies, a hung service, a hung Redis. A platform of its own,
since these freeze its processes."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from deploy.demo import login
from deploy.seed import COURSE_EN_ID
from tests.servers import platform_on_free_ports

pytestmark = pytest.mark.e2e
TRICKLERS = 210


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    running = platform_on_free_ports(tmp_path_factory.mktemp("edge"))
    with running:
        running.start(timeout=120)
        yield running


def client_from(platform: Any, address: str, timeout: float = 10) -> httpx.Client:
    """A client whose requests come from `address` (any 127.x.y.z is this machine): another client
    as far as the gateway can tell."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=platform.urls["gateway"], transport=transport, timeout=timeout)


class Tricklers:
    """`n` connections from 127.0.0.1 that send the headers of a 100,000-byte POST to the public verify
    endpoint, then one byte a second."""

    def __init__(self, platform: Any, n: int) -> None:
        parts = urlsplit(platform.urls["gateway"])
        self.address = (parts.hostname, parts.port)
        self.n = n
        self.sockets: list[socket.socket] = []
        self.answers: dict[int, bytes] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)

    def __enter__(self) -> Tricklers:
        head = (
            b"POST /api/v1/certificates/verify HTTP/1.1\r\nHost: ustaz\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
        )
        for _ in range(self.n):
            s = socket.create_connection(self.address, timeout=5)
            s.sendall(head)
            s.setblocking(False)
            self.sockets.append(s)
        self.thread.start()
        return self

    def _trickle(self) -> None:
        while not self.stop.wait(1.0):
            for i, s in enumerate(self.sockets):
                if i in self.answers:
                    continue
                try:
                    data = s.recv(4096)
                    if data:
                        self.answers[i] = data
                        continue
                    self.answers[i] = b"closed"
                except BlockingIOError:
                    try:
                        s.send(b" ")
                    except OSError:
                        self.answers[i] = b"reset"
                except OSError:
                    self.answers[i] = b"reset"

    def statuses(self) -> list[str]:
        return [
            a.split(b" ", 2)[1].decode() if a.startswith(b"HTTP/") else a.decode()
            for a in self.answers.values()
        ]

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join(5)
        for s in self.sockets:
            s.close()


def timed(call: Any) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = call()
    return time.perf_counter() - started, response


def test_trickled_bodies_do_not_stall_the_api(edge: Any) -> None:
    """Before issue 15, 210 such connections took the 200-connection upstream pool for 30 s and every
    proxied call from anyone waited, then failed with 504."""
    with httpx.Client(base_url=edge.urls["gateway"], timeout=10) as same_address:
        headers = login(same_address, "teacher")  # before: while they trickle, the address has no slot left
    with Tricklers(edge, TRICKLERS) as tricklers:
        deadline = time.monotonic() + 10
        while len(tricklers.answers) < TRICKLERS - 32 and time.monotonic() < deadline:
            time.sleep(0.1)
        with client_from(edge, "127.0.0.2") as other:
            took, catalogue = timed(lambda: other.get("/api/v1/courses", params={"lang": "en"}))
            assert catalogue.status_code == 200 and took < 2, (took, catalogue.text)
            print(
                f"\nwhile {TRICKLERS} connections trickle: another client's catalogue call took {took:.3f} s"
            )
            took, verify = timed(
                lambda: other.post("/api/v1/certificates/verify", json={"credential": "x.y.z"})
            )
            assert verify.status_code < 500 and took < 2, (took, verify.text)
        with httpx.Client(base_url=edge.urls["gateway"], timeout=10) as same_address:
            # From the trickling address: a signed-in user has a budget of their own.
            took, mine = timed(lambda: same_address.get("/api/v1/progress/enrolments", headers=headers))
            assert mine.status_code == 200 and took < 2, (took, mine.text)
            anonymous = same_address.get("/api/v1/courses")
            assert anonymous.status_code == 429 and anonymous.headers["retry-after"] == "1"
        # The cap refused what was over 32 at once; the body deadline (10 s grace, 1 KB/s) ends the rest.
        deadline = time.monotonic() + 30
        while len(tricklers.answers) < TRICKLERS and time.monotonic() < deadline:
            time.sleep(0.2)
        statuses = tricklers.statuses()
    assert len(statuses) == TRICKLERS
    assert statuses.count("429") >= TRICKLERS - 32 and statuses.count("408") >= 1
    assert set(statuses) <= {"429", "408"}, set(statuses)


def held_on_progress(platform: Any, at_least: int) -> None:
    import psutil

    port = platform.ports["progress"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        held = [
            c
            for c in psutil.net_connections(kind="tcp")
            if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
        ]
        if len(held) >= at_least:
            return
        time.sleep(0.1)
    raise TimeoutError(f"fewer than {at_least} connections to progress")


def test_a_hung_service_takes_only_its_own_upstream_pool(edge: Any) -> None:
    """progress frozen (SIGSTOP) with 240 requests waiting on it from 8 clients: the courses catalogue
    still answers at once (one pool per service)."""
    progress = edge.procs["progress"]
    os.killpg(progress.pid, signal.SIGSTOP)
    try:

        def hang(i: int) -> int:
            with client_from(edge, f"127.0.1.{i % 8 + 1}", timeout=4) as c:
                try:
                    return c.get("/api/v1/progress/enrolments").status_code
                except httpx.TimeoutException:
                    return 0

        with ThreadPoolExecutor(240) as pool:
            waiting = [pool.submit(hang, i) for i in range(240)]
            held_on_progress(edge, at_least=100)  # its whole pool
            with client_from(edge, "127.0.0.3") as other:
                took, catalogue = timed(lambda: other.get("/api/v1/courses", params={"lang": "en"}))
            assert catalogue.status_code == 200 and took < 2, (took, catalogue.text)
            print(f"\nwith progress frozen under 240 requests: a catalogue call took {took:.3f} s")
            os.killpg(progress.pid, signal.SIGCONT)
            assert {f.result() for f in waiting} <= {0, 401, 429, 504}
    finally:
        os.killpg(progress.pid, signal.SIGCONT)


def test_a_hung_redis_adds_no_seconds_and_idempotent_writes_are_503(edge: Any) -> None:
    redis = edge.procs["redis"]
    with httpx.Client(base_url=edge.urls["gateway"], timeout=15) as client:
        headers = login(client, "teacher")
        os.killpg(redis.pid, signal.SIGSTOP)
        try:
            took = [timed(lambda: client.get("/auth/me", headers=headers))[0] for _ in range(20)]
            catalogue = [timed(lambda: client.get("/api/v1/courses", headers=headers))[0] for _ in range(10)]
            keyed = client.post(
                "/api/v1/progress/enrolments",
                json={"course_id": COURSE_EN_ID},
                headers={**headers, "Idempotency-Key": "hung-redis-1"},
            )
            assert keyed.status_code == 503 and keyed.headers["content-type"].startswith(
                "application/problem"
            )
            assert 1 <= int(keyed.headers["retry-after"]) <= 10
            assert client.get("/api/v1/progress/enrolments", headers=headers).status_code == 200
            logged_in = client.post("/auth/login", json={"username": "author", "password": "author-demo"})
            assert logged_in.status_code == 200
        finally:
            os.killpg(redis.pid, signal.SIGCONT)
        print(f"\nRedis frozen: /auth/me max {max(took):.3f} s median {statistics.median(took):.3f} s")
        assert max(took + catalogue) < 1.5, (took, catalogue)
        assert statistics.median(took + catalogue) < 0.3, (took, catalogue)
        metrics = client.get("/metrics").text
    assert "ratelimit_unlimited_requests_total" in metrics
    log = (edge.log_dir / "gateway.log").read_text()
    assert log.count("rate limiter unavailable") == 1

"""`make run` itself: it brings every process up, prints the URL and the demo logins, restarts a
process that dies (with a line saying so), stops every process it started on Ctrl-C, and a second
run keeps the data without duplicating the seed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from deploy.platform import ROOT
from deploy.seed import DEMO_USERS
from tests.servers import free_block, free_port

pytestmark = pytest.mark.e2e


def start(
    var_dir: Path, port: int, redis_port: int, more: list[str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """Start `make run`; the banner, then every later line goes to `more` (read by a thread)."""
    env = {
        **os.environ,
        "USTAZ_VAR_DIR": str(var_dir),
        "USTAZ_PORT": str(port),
        "USTAZ_REDIS_PORT": str(redis_port),
        "USTAZ_ENV": "development",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "deploy.run"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    seen = []
    deadline = time.monotonic() + 180
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith("Data and logs:"):
            if more is not None:
                lines = iter(proc.stdout.readline, "")
                threading.Thread(target=more.extend, args=(lines,), daemon=True).start()
            return proc, "".join(seen)
    proc.kill()
    raise AssertionError("make run did not finish starting:\n" + "".join(seen))


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def interrupt(proc: subprocess.Popen[str]) -> list[int]:
    started = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 0
    return [pid for pid in started if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]


def test_make_run_starts_everything_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    port, redis_port = free_block(4), free_port()
    probe_ports = (port + 1101,)  # the worker (beat is one of its threads)
    later: list[str] = []
    proc, banner = start(tmp_path, port, redis_port, later)
    try:
        assert f"Ustaz is running at http://127.0.0.1:{port}" in banner
        for user in DEMO_USERS:
            assert user["username"] in banner and user["password"] in banner
        for p in [*range(port, port + 4), *probe_ports]:
            assert httpx.get(f"http://127.0.0.1:{p}/readyz").status_code == 200, p
        token = httpx.post(
            f"http://127.0.0.1:{port}/auth/login", json={"username": "author", "password": "author-demo"}
        ).json()["access_token"]
        courses = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/courses", headers={"authorization": f"Bearer {token}"}
        ).json()["items"]
        served_openapi = httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()

        # A process that dies is restarted, and `make run` says so; the others keep running.
        worker = next(c for c in psutil.Process(proc.pid).children() if "worker" in " ".join(c.cmdline()))
        progress_pid = next(
            c.pid for c in psutil.Process(proc.pid).children() if "progress" in " ".join(c.cmdline())
        )
        os.killpg(worker.pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while not any("worker restarted" in line for line in later):
            assert time.monotonic() < deadline, "the worker was not restarted:\n" + "".join(later)
            time.sleep(0.1)
        assert any(
            line.startswith("worker exited with code -9") and "restarting it in 1 s" in line for line in later
        )
        while not ready(f"http://127.0.0.1:{probe_ports[0]}"):
            assert time.monotonic() < deadline, "the restarted worker never became ready"
            time.sleep(0.1)
        assert psutil.pid_exists(progress_pid)
        assert httpx.get(f"http://127.0.0.1:{port + 2}/readyz").status_code == 200
    finally:
        survivors = interrupt(proc)
    assert survivors == [], "processes left running after Ctrl-C"
    # The merged document every running service contributes to is the committed one.
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert served_openapi == committed, "regenerate: .venv/bin/python -m gateway.openapi > docs/openapi.json"

    # Again on the same data: nothing duplicated.
    proc, _ = start(tmp_path, port, redis_port)
    try:
        again = httpx.get(f"http://127.0.0.1:{port}/api/v1/courses").json()["items"]
        assert sorted(c["id"] for c in again) == sorted(c["id"] for c in courses)
        assert (
            httpx.post(
                f"http://127.0.0.1:{port}/auth/login",
                json={"username": "teacher", "password": "teacher-demo"},
            ).status_code
            == 200
        )
    finally:
        assert interrupt(proc) == []

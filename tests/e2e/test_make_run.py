"""`make run` itself: it brings every process up, prints the URL and the demo logins, stops every
process it started on Ctrl-C, and a second run keeps the data without duplicating the seed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from deploy.platform import ROOT
from deploy.seed import DEMO_USERS
from tests.servers import free_block, free_port

pytestmark = pytest.mark.e2e


def start(var_dir: Path, port: int, redis_port: int) -> tuple[subprocess.Popen[str], str]:
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
            return proc, "".join(seen)
    proc.kill()
    raise AssertionError("make run did not finish starting:\n" + "".join(seen))


def interrupt(proc: subprocess.Popen[str]) -> list[int]:
    started = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 0
    return [pid for pid in started if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]


def test_make_run_starts_everything_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    port, redis_port = free_block(4), free_port()
    probe_ports = (port + 1101, port + 1102)
    proc, banner = start(tmp_path, port, redis_port)
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

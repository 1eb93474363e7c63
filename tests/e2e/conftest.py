"""End-to-end fixtures: the same processes `make run` starts, on free ports, and real Chromium."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import free_port

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_block(size: int) -> int:
    """The first port of `size` consecutive free ports."""
    for _ in range(50):
        base = free_port()
        if base + size > 65000:
            continue
        try:
            sockets = []
            for port in range(base, base + size):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no block of free ports")


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from deploy.platform import Platform

    var_dir = tmp_path_factory.mktemp("platform")
    running = Platform(var_dir=var_dir, base_port=free_block(4), redis_port=free_port(),
                       probe_base=free_block(2), log_dir=var_dir / "logs")
    with running:
        running.start(timeout=120)
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(executable).exists(), "chromium is missing: `make test` installs Debian's chromium"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()

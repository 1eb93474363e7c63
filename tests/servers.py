"""Throwaway PostgreSQL and Redis servers for tests, from pip-shipped binaries or the system's.

TEST_DATABASE_URL / TEST_REDIS_URL point the suite at existing servers instead.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis

from deploy.platform import redis_binary
from deploy.ports import free_block, free_port


def platform_on_free_ports(
    var_dir: Path, *, extra_env: dict[str, str] | None = None, root: Path | None = None
) -> Any:
    """The processes `make run` starts (deploy.platform.Platform, not started yet) on free ports, with
    their logs in var_dir/logs: for end-to-end tests and benchmarks (`root`: another checkout's code)."""
    from deploy.platform import ROOT, Platform

    return Platform(
        root=root or ROOT,
        var_dir=var_dir,
        base_port=free_block(4),
        redis_port=free_port(),
        probe_base=free_block(2),
        extra_env=extra_env,
        log_dir=var_dir / "logs",
    )


def teacher_tokens(key_dir: Path, count: int, prefix: str = "bench-teacher") -> list[dict[str, str]]:
    """Access tokens for `count` teachers `<prefix>-<n>`, signed with a platform's gateway key (its
    var_dir/gateway-keys) as a login would: many teachers without a login each."""
    from gateway.keys import load_or_create_keys
    from gateway.service import TokenIssuer
    from libs.auth import audience
    from libs.settings import CommonSettings

    issuer = TokenIssuer(
        load_or_create_keys(key_dir, create=False), CommonSettings().jwt_issuer, timedelta(hours=2)
    )
    return [
        {
            "authorization": "Bearer "
            + issuer.sign(
                f"{prefix}-{n}",
                [audience(s) for s in ("gateway", "courses", "progress", "certificates")],
                {"name": f"Teacher {n}", "roles": ["teacher"], "org": ["KZ", "KZ-ALM"], "lang": "ru"},
            )
        }
        for n in range(count)
    ]


def wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready within {timeout} s")


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


@contextmanager
def redis_server(workdir: Path, port: int | None = None) -> Iterator[str]:
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            redis_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(workdir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for(lambda: redis_answers(url), 10, "redis")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def postgres_server(workdir: Path) -> Iterator[str]:
    """A PostgreSQL 16 server URL (a superuser on a throwaway cluster)."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield os.environ["TEST_DATABASE_URL"]
        return
    import pgserver

    server = pgserver.get_server(str(workdir), cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()

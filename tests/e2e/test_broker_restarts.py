"""The Celery worker survives Redis restarts under load (issue 15, item 9): the worker `make run`
starts (deploy/Procfile), a stream of messages, Redis SIGKILLed and started again a dozen times;
after each restart the worker is alive and runs new messages. Before the kombu patch in
libs/celery_app.py the worker died with `Unrecoverable error: AttributeError("'NoneType' object has
no attribute 'hostname'")` within the first dozen restarts."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import redis
from celery import Celery

from tests.servers import platform_on_free_ports

pytestmark = pytest.mark.e2e
RESTARTS = 12
OUTAGE_SECONDS = 1.0


def test_the_worker_survives_redis_restarts_under_load(tmp_path: Path) -> None:
    platform = platform_on_free_ports(tmp_path)
    with platform:
        platform.start_redis()
        platform._wait(platform._redis_answers, 30, "redis")
        platform.start_process("worker")
        sender = Celery("load", broker=platform.redis_url)
        sender.conf.update(task_serializer="json", broker_connection_retry=False)
        stop = threading.Event()
        generation = [0]  # pings name the Redis they were sent to: only a worker consuming anew runs them

        def load() -> None:  # about 200 messages/s, bounded: it stops with the test
            while not stop.is_set():
                try:
                    with sender.connection_for_write() as connection:
                        for _ in range(20):
                            sender.send_task(
                                "ustaz.ping",
                                args=[f"pings:{generation[0]}", time.time()],
                                queue="grading",
                                connection=connection,
                                retry=False,
                            )
                except Exception:  # Redis is down for a moment: that is the point
                    pass
                stop.wait(0.1)

        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        try:
            for restart in range(RESTARTS + 1):
                deadline = time.monotonic() + 60
                while True:
                    assert platform.procs["worker"].poll() is None, (
                        f"the worker died after restart {restart}: "
                        + (tmp_path / "logs" / "worker.log").read_text()[-3000:]
                    )
                    try:
                        client = redis.Redis.from_url(platform.redis_url, socket_timeout=1)
                        if client.llen(f"pings:{restart}") > 0:
                            break
                    except redis.RedisError:
                        pass
                    assert time.monotonic() < deadline, f"the worker ran nothing after restart {restart}"
                    time.sleep(0.1)
                if restart == RESTARTS:
                    break
                platform.kill("redis")  # SIGKILL: the queue and the unacknowledged messages are lost
                _empty(platform.var_dir / "redis")
                time.sleep(OUTAGE_SECONDS)  # the fault's length, not a synchronisation
                platform.start_redis()
                platform._wait(platform._redis_answers, 30, "redis")
                generation[0] = restart + 1
        finally:
            stop.set()
            loader.join(10)
        log = (tmp_path / "logs" / "worker.log").read_text()
        assert "Unrecoverable error" not in log
        assert log.count("Connection to broker lost") >= RESTARTS // 2  # the outages were noticed


def _empty(redis_dir: Path) -> None:
    """Start the next Redis empty (as a restart without its append-only file would)."""
    import shutil

    shutil.rmtree(redis_dir / "appendonlydir", ignore_errors=True)

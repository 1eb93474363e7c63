"""The one Celery app. Web processes use it to publish; `celery -A libs.celery_app` runs it."""

from __future__ import annotations

import fnmatch
from typing import Any

from celery import Celery, bootsteps

from libs.events import TASK_QUEUES
from libs.settings import CommonSettings

LONGEST_TASK_SECONDS = 300


def route_task(
    name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any
) -> dict[str, str] | None:
    for pattern, queue in TASK_QUEUES.items():
        if fnmatch.fnmatchcase(name, pattern):
            return {"queue": queue}
    return None


def patch_kombu_redis_detached_transport() -> None:
    """kombu 5.7.0 (the newest release, pinned): when Redis goes away under load, celery's consumer
    closes the broken connection; closing its channel restores the unacknowledged messages through
    a new connection pool, built from `transport.client`, which kombu has already set to None
    (`Connection._do_close_transport`). The AttributeError ('NoneType' object has no attribute
    'hostname') is not a connection error, so it escapes `ignore_errors` and the worker stops with
    "Unrecoverable error" (4 of 12 Redis restarts in the fault-injection run).

    The patch makes that one state a connection error: the channel's close then ignores it like any
    broker error during a close, and the consumer reconnects. The unacknowledged messages stay in
    Redis's `unacked` hash (Redis's `restore_visible` puts them back after the visibility timeout) or,
    if Redis restarted empty, are gone; either way the outbox sends every unconfirmed delivery again
    (libs/outbox.py). tests/e2e/test_broker_restarts.py restarts Redis under load and proves the
    worker survives; drop the patch when a kombu release guards `_connparams` itself."""
    import redis
    from kombu.transport import redis as kombu_redis

    channel: Any = kombu_redis.Channel
    original = channel._connparams
    if getattr(original, "ustaz_patched", False):
        return

    def _connparams(self: Any, asynchronous: bool = False) -> Any:
        if self.connection is None or self.connection.client is None:
            raise redis.ConnectionError("the broker connection is already closed")
        return original(self, asynchronous=asynchronous)

    _connparams.ustaz_patched = True  # type: ignore[attr-defined]
    channel._connparams = _connparams


def create_celery(settings: CommonSettings) -> Celery:
    app = Celery(
        "ustaz",
        broker=settings.redis_url,
        include=[
            "services.courses.tasks",
            "services.progress.tasks",
            "services.progress.analytics.tasks",
            "services.progress.coverage.tasks",
            "services.progress.practice.tasks",
            "services.certificates.tasks",
            "gateway.registry.tasks",
        ],
    )
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=LONGEST_TASK_SECONDS,
        task_soft_time_limit=LONGEST_TASK_SECONDS - 30,
        # Redis redelivers an unacknowledged message after this; it must exceed the longest task.
        broker_transport_options={"visibility_timeout": LONGEST_TASK_SECONDS * 4},
        broker_connection_retry_on_startup=True,
        task_routes=(route_task,),
        task_default_queue="analytics",
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        beat_schedule_filename=str(settings.var_dir / "celerybeat-schedule"),
        # Each service's tasks.py adds its own periodic tasks (beat imports the task modules above).
        beat_schedule={},
        timezone="UTC",
    )
    return app


patch_kombu_redis_detached_transport()
celery_app = create_celery(CommonSettings())


class EmbeddedBeat(bootsteps.StartStopStep):
    """`celery worker --embed-beat`: beat as a thread of the worker's main process, for `make run`
    (one process and ~100 MB fewer). Production runs exactly one beat of its own (deploy/k8s)."""

    def __init__(self, parent: Any, embed_beat: bool = False, **options: Any) -> None:
        self.enabled = bool(embed_beat)
        self.service: Any = None
        super().__init__(parent, **options)

    def start(self, parent: Any) -> None:
        from celery.beat import EmbeddedService

        self.service = EmbeddedService(parent.app, thread=True)
        self.service.start()

    def stop(self, parent: Any) -> None:
        if self.service is not None:
            self.service.stop()


def _worker_options() -> None:
    import click

    celery_app.steps["worker"].add(EmbeddedBeat)
    celery_app.user_options["worker"].add(
        click.Option(
            ["--embed-beat"], is_flag=True, default=False, help="Run beat as a thread of this worker."
        )
    )


_worker_options()


@celery_app.task(name="ustaz.ping", ignore_result=True, acks_late=True)
def ping(key: str, sent_at: float) -> None:
    """A no-op round trip: the floor the benchmarks compare with, and a liveness check. It only
    appends (sent, done) to a Redis list so the sender can tell when and how fast it ran."""
    import time

    _ping_redis().rpush(key, f"{sent_at},{time.time()}")


_PING: list[Any] = []


def _ping_redis() -> Any:
    if not _PING:
        import redis

        _PING.append(redis.Redis.from_url(CommonSettings().redis_url))
    return _PING[0]


def _configure_logging(**_: Any) -> None:
    from libs.logs import configure_logging

    configure_logging("celery", CommonSettings().log_level)


def _start_probe(**_: Any) -> None:
    from libs.probe import start_probe_server

    settings = CommonSettings()
    if settings.probe_port:
        start_probe_server(settings.probe_port, settings.redis_url, settings.probe_host)


def _connect_signals() -> None:
    from celery.signals import beat_init, setup_logging, worker_ready

    setup_logging.connect(_configure_logging, weak=False)
    worker_ready.connect(_start_probe, weak=False)
    beat_init.connect(_start_probe, weak=False)


_connect_signals()

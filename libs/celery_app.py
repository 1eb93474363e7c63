"""The one Celery app. Web processes use it to publish; `celery -A libs.celery_app` runs it."""

from __future__ import annotations

import fnmatch
from typing import Any

from celery import Celery

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


def create_celery(settings: CommonSettings) -> Celery:
    app = Celery(
        "ustaz",
        broker=settings.redis_url,
        include=[
            "services.courses.tasks",
            "services.progress.tasks",
            "services.progress.analytics.tasks",
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


celery_app = create_celery(CommonSettings())


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

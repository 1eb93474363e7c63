"""`make run-lite`: the whole platform as one process for a school or district server (a small board,
an old PC): the four apps (gateway, courses, progress, certificates), a Celery worker with a thread
pool and beat, all in one Python process, on SQLite, beside the same local Redis `make run` uses.

The code paths are the ones `make run` runs: each app is the same ASGI app on its own port (the
gateway still proxies to the services over HTTP on 127.0.0.1), the worker runs the same tasks from
the same queues, beat the same schedule, each service's outbox relay its own thread. What it gives
up is in docs/operations.md ("All in one"): no parallelism across cores for Python work (one GIL),
a crash takes every part down at once (make run-lite restarts it, as make run restarts any process),
and no scaling a part on its own.

`python -m deploy.lite` is the process itself (what deploy/Procfile.lite starts); `Lite` starts it
with Redis, the migrations and the demo seed, like `Platform` does for `make run`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Imports a server never uses, left out before anything imports them: httpx's command-line client
# (click, rich, pygments: ~5 MB, imported whenever they are installed, as they are beside the test
# tools) and uvicorn's file-watching reloader (watchfiles); the apps speak no WebSocket (ws="none").
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
sys.modules.setdefault("watchfiles", None)  # type: ignore[arg-type]

from deploy.platform import HTTP_PROCESSES, ROOT, Platform  # noqa: E402

LITE_PROCFILE = ROOT / "deploy" / "Procfile.lite"
APPS = {
    "gateway": "gateway.app:app",
    "courses": "services.courses.app:app",
    "progress": "services.progress.app:app",
    "certificates": "services.certificates.app:app",
}
WORKER_THREADS = int(os.environ.get("USTAZ_LITE_WORKER_THREADS", "2"))
log = logging.getLogger("ustaz.lite")


class Lite(Platform):
    """The platform as Redis plus one all-in-one process (deploy/Procfile.lite)."""

    def __init__(self, var_dir: Path, **kwargs: Any) -> None:
        super().__init__(var_dir, procfile=LITE_PROCFILE, **kwargs)
        # The worker (and beat, inside the one process) answer on the probe port.
        self.ports["worker"] = kwargs.get("probe_base", 9101)

    def start(self, timeout: float = 90) -> None:
        self.compile_bytecode()
        super().start(timeout)

    def compile_bytecode(self) -> None:
        """The process runs `python -OO` (deploy/Procfile.lite): without docstrings and asserts its code
        takes ~7 MB less. Bytecode at that level is compiled here, once, for every package the process
        imports: compiled by the process itself at start, the compiler's garbage would stay in its idle
        footprint (~9 MB more than it saves)."""
        self.run_step("compile", ["-OO", "-c", "from deploy.lite import compile_all; compile_all()"])

    def process_env(self, name: str) -> dict[str, str]:
        env = super().process_env(name)
        env["USTAZ_PROBE_PORT"] = str(self.ports["worker"])
        return env

    def process_pids(self) -> dict[str, list[int]]:
        return {name: self.pids(name) for name in self.procs}


def lite_on_free_ports(var_dir: Path, *, extra_env: dict[str, str] | None = None) -> Lite:
    from deploy.ports import free_block, free_port

    return Lite(
        var_dir,
        base_port=free_block(4),
        redis_port=free_port(),
        probe_base=free_block(2),
        extra_env=extra_env,
        log_dir=var_dir / "logs",
    )


# -- the process ----------------------------------------------------------------------------------------


def _port(url: str) -> int:
    return int(urlsplit(url).port or 80)


def _servers() -> list[Any]:
    import uvicorn

    from libs.settings import CommonSettings

    settings = CommonSettings()
    urls = {name: getattr(settings, f"{name}_url") for name in HTTP_PROCESSES}
    return [
        uvicorn.Server(
            uvicorn.Config(
                APPS[name],
                host="127.0.0.1",
                port=_port(urls[name]),
                loop="none",
                http="httptools",
                ws="none",
                access_log=False,
                log_config=None,
                lifespan="on",
            )
        )
        for name in HTTP_PROCESSES
    ]


def _serve_http(servers: list[Any], failed: list[BaseException]) -> None:
    """The four apps on one event loop (uvloop), in a thread of their own: the main thread is the
    worker's, which owns the signals."""
    import uvloop

    async def all_of_them() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    try:
        uvloop.run(all_of_them())
    except BaseException as exc:  # reported by the main thread, which then stops
        failed.append(exc)


def compile_all() -> None:
    """Bytecode at this interpreter's optimization level for every package `serve` imports, whole
    (submodules imported later, by the first request or task, included). Up-to-date files are skipped."""
    import compileall
    import importlib

    from libs.celery_app import celery_app

    for name in ("celery.beat", "celery.concurrency.thread", "uvicorn", "uvloop", *APPS.values()):
        importlib.import_module(name.split(":")[0])
    celery_app.loader.import_default_modules()
    for module in list(sys.modules.values()):
        spec = getattr(module, "__spec__", None)
        if spec is None or "." in spec.name:
            continue  # a submodule: its package is compiled whole
        for path in spec.submodule_search_locations or []:
            compileall.compile_dir(path, quiet=2, optimize=sys.flags.optimize)
        if spec.submodule_search_locations is None and (spec.origin or "").endswith(".py"):
            compileall.compile_file(spec.origin, quiet=2, optimize=sys.flags.optimize)


def serve() -> int:
    from celery.beat import EmbeddedService

    from libs.celery_app import celery_app
    from libs.events import QUEUES
    from libs.logs import configure_logging
    from libs.settings import CommonSettings

    settings = CommonSettings()
    configure_logging("lite", settings.log_level, fixed=True)
    servers = _servers()
    failed: list[BaseException] = []
    http = threading.Thread(target=_serve_http, args=(servers, failed), name="http", daemon=True)
    http.start()
    beat: Any = EmbeddedService(
        celery_app, thread=True, schedule_filename=str(settings.var_dir / "celerybeat-schedule")
    )
    worker = celery_app.Worker(
        pool="threads",
        concurrency=WORKER_THREADS,
        queues=list(QUEUES),
        hostname="lite@%h",
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
        optimization="fair",
    )
    beat.start()
    try:
        worker.start()  # blocks until SIGTERM / SIGINT (warm shutdown)
    finally:
        beat.stop()
        for server in servers:
            server.should_exit = True
        http.join(30)
    if failed:
        log.error("the HTTP servers stopped", extra={"error": repr(failed[0])})
        return 1
    return int(worker.exitcode or 0)


if __name__ == "__main__":
    sys.exit(serve())

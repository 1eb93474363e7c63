"""`make run`: the whole platform on its embedded defaults (SQLite files and a local Redis under
var/, demo data), in the foreground. Ctrl-C stops every process it started; a process that dies is
restarted after a back-off (1 s, doubling to 30 s while it keeps dying), with a line on stderr.

USTAZ_* variables are passed through, so `USTAZ_VAR_DIR=/tmp/x make run` or a PostgreSQL
`USTAZ_PROGRESS_DATABASE_URL` work as they do in production.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from deploy.platform import ROOT, Platform
from deploy.seed import DEMO_USERS
from libs.settings import CommonSettings


def banner(platform: Platform) -> str:
    gateway = platform.urls["gateway"]
    width = max(len(u["username"]) for u in DEMO_USERS)
    lines = [
        "",
        f"Ustaz is running at {gateway}   (API docs: {gateway}/docs)",
        "",
        "Demo logins (username / password):",
    ]
    lines += [f"  {u['username']:<{width}}  {u['password']:<16} {u['description']}" for u in DEMO_USERS]
    lines += ["", f"Data and logs: {platform.var_dir}   Press Ctrl-C to stop.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """`make run`; with --lite (`make run-lite`), the all-in-one process of deploy/lite.py."""
    from deploy.lite import Lite

    lite = "--lite" in (sys.argv[1:] if argv is None else argv)
    settings = CommonSettings()
    port = int(os.environ.get("USTAZ_PORT", "8000"))
    platform = (Lite if lite else Platform)(
        settings.var_dir,
        base_port=port,
        probe_base=port + 1101,
        redis_port=int(os.environ.get("USTAZ_REDIS_PORT", "6379")),
        log_dir=settings.var_dir / "logs",
        reuse_redis=True,
    )
    stop = False

    def on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        print(f"Starting Ustaz from {ROOT} (logs in {platform.log_dir}) …", flush=True)
        with platform:
            platform.start(timeout=120)
            print(banner(platform), flush=True)
            while not stop:
                for line in platform.supervise():
                    print(line, file=sys.stderr, flush=True)
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopped every Ustaz process.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

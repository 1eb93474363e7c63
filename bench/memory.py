"""Memory as a user sees it (issue 13): every process `make run` starts, the worker's pool processes
included, after the demo journey has run (deploy/demo.py: log in, enrol, submit, graded, completed,
certificate, verify, the analyst's funnel); and the all-in-one `make run-lite` process idle and after
the same journey. RSS summed over the processes (what `ps` shows; shared pages count in each) and
PSS (shared pages split between the processes that share them).
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

from bench.common import table


def footprint(pids: dict[str, list[int]]) -> dict[str, tuple[float, float, int]]:
    """name -> (RSS MiB, PSS MiB, processes)."""
    import psutil

    out = {}
    for name, group in pids.items():
        rss = pss = 0.0
        for pid in group:
            with contextlib.suppress(psutil.NoSuchProcess):
                info = psutil.Process(pid).memory_full_info()
                rss += info.rss
                pss += getattr(info, "pss", info.rss)
        out[name] = (rss / 2**20, pss / 2**20, len(group))
    return out


def platform_pids(platform: Any) -> dict[str, list[int]]:
    return {name: platform.pids(name) for name in platform.procs}


def measure_platform(workdir: Path) -> dict[str, tuple[float, float, int]]:
    from deploy.demo import walk_journey
    from tests.servers import platform_on_free_ports

    platform = platform_on_free_ports(workdir)
    with platform:
        platform.start(timeout=180)
        walk_journey(platform.urls["gateway"], say=lambda _: None)
        return footprint(platform_pids(platform))


def measure_lite(
    workdir: Path,
) -> tuple[dict[str, tuple[float, float, int]], dict[str, tuple[float, float, int]]]:
    from deploy.demo import walk_journey
    from deploy.lite import lite_on_free_ports

    lite = lite_on_free_ports(workdir)
    with lite:
        lite.start(timeout=180)
        idle = footprint(lite.process_pids())
        walk_journey(lite.urls["gateway"], say=lambda _: None)
        return idle, footprint(lite.process_pids())


def rows(label: str, found: dict[str, tuple[float, float, int]]) -> list[list[Any]]:
    out = [[label, name, n, f"{rss:.0f}", f"{pss:.0f}"] for name, (rss, pss, n) in sorted(found.items())]
    out.append(
        [
            label,
            "**total**",
            sum(n for _, _, n in found.values()),
            f"**{sum(r for r, _, _ in found.values()):.0f}**",
            f"{sum(p for _, p, _ in found.values()):.0f}",
        ]
    )
    return out


def main() -> str:
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        platform = measure_platform(Path(tmp) / "run")
        idle, after = measure_lite(Path(tmp) / "lite")
    body = rows("make run, after the journey", platform)
    body += rows("make run-lite, idle", idle)
    body += rows("make run-lite, after the journey", after)
    return "Memory (MiB)\n\n" + table(["mode", "process", "processes", "RSS", "PSS"], body)

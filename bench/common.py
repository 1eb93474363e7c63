"""What every benchmark needs: the machine line, latency statistics and a load loop."""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(samples: list[float], elapsed: float) -> dict[str, float]:
    """Latencies in seconds -> rps, p50/p95/p99 in milliseconds."""
    return {
        "n": len(samples),
        "rps": len(samples) / elapsed,
        "p50": statistics.median(samples) * 1000,
        "p95": percentile(samples, 0.95) * 1000,
        "p99": percentile(samples, 0.99) * 1000,
    }


async def load(
    call: Callable[[], Awaitable[Any]], concurrency: int, duration: float, warmup: float = 1.0
) -> dict[str, float]:
    """Run `call` from `concurrency` clients for `duration` seconds after a warm-up."""
    samples: list[float] = []
    start = time.perf_counter()
    measure_from = start + warmup
    stop = measure_from + duration

    async def client() -> None:
        while (now := time.perf_counter()) < stop:
            await call()
            if now >= measure_from:
                samples.append(time.perf_counter() - now)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return summary(samples, duration)


def table(header: list[str], rows: list[list[Any]]) -> str:
    def fmt(v: Any) -> str:
        return f"{v:,.2f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def first_paints(urls: list[str], kbps: int = 240, rtt_ms: int = 840) -> list[float | None]:
    """First contentful paint (ms) of each URL in headless Chromium (Debian's) on a phone-sized
    screen, the network throttled to `kbps` down and up with `rtt_ms` round trips (a weak 2G/3G
    link), a cold cache each time; None where no paint came within 15 s."""
    import shutil

    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    out: list[float | None] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
        )
        for url in urls:
            context = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True)
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            throughput = kbps * 1000 / 8
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": rtt_ms,
                    "downloadThroughput": throughput,
                    "uploadThroughput": throughput,
                },
            )
            page.goto(url, wait_until="load")
            deadline, paints = time.monotonic() + 15, []
            while not paints and time.monotonic() < deadline:  # the entry can land after `load`
                paints = page.evaluate(
                    "performance.getEntriesByName('first-contentful-paint').map(e => e.startTime)"
                )
                if not paints:
                    page.wait_for_timeout(100)
            out.append(float(paints[0]) if paints else None)
            context.close()
        browser.close()
    return out

"""Issue 11 benchmark: the coverage dashboard of a programme at national scale on PostgreSQL.

1. `deploy.seed_large` into fresh PostgreSQL databases of the gateway and progress, sized so the
   registry holds `--teachers` registered teachers (default 1,000,000; BENCH_COVERAGE_TEACHERS): the
   population progress knows plus half as many again who never enrolled; then `deploy.seed_coverage`
   copies the registry into progress, defines the national programme and computes its coverage.
2. The processes `make run` starts, on those databases.
3. p50/p95 through the gateway (BENCH_CLIENTS clients, BENCH_SECONDS each) of the coverage answer for
   the national analyst: the country by region, a region by district, a district by school. Target
   p95 <= 100 ms.

    .venv/bin/python -m bench.coverage --teachers 3000     # a small run to check it works
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from bench.analytics import create_databases
from bench.common import load, percentile, table
from tests.servers import platform_on_free_ports, postgres_server

TEACHERS = int(os.environ.get("BENCH_COVERAGE_TEACHERS", "1000000"))
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
DATA = Path(os.environ["BENCH_COVERAGE_DATA"]) if os.environ.get("BENCH_COVERAGE_DATA") else None
P = "/api/v1/progress/programmes"


async def through_gateway(
    base: str, headers: dict[str, str], path: str, params: dict[str, str]
) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        (await client.get(path, params=params)).raise_for_status()

        async def call() -> None:
            (await client.get(path, params=params)).raise_for_status()

        return await load(call, CLIENTS, DURATION)


def seeded_cluster(
    stack: ExitStack, teachers: int, data: Path | None
) -> tuple[dict[str, str], dict[str, Any] | None]:
    """The PostgreSQL cluster's database URLs, and what was seeded into it before (None: seed now).
    With `data`, the cluster lives there and is kept, its seeding recorded beside it (`DIR.json`), so
    a second run measures the same million teachers without seeding them again."""
    if data is None:
        admin = stack.enter_context(
            postgres_server(
                Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-coverage-"))) / "pg"
            )
        )
        return create_databases(admin, ["gateway", "progress"]), None
    record = data.with_name(data.name + ".json")
    admin = stack.enter_context(postgres_server(data))
    if record.exists():
        seeded: dict[str, Any] = json.loads(record.read_text())
        if seeded["requested_teachers"] != teachers:
            raise SystemExit(f"{data} holds {seeded['requested_teachers']:,} teachers, not {teachers:,}.")
        return seeded["urls"], seeded
    return create_databases(admin, ["gateway", "progress"]), None


async def first_answers(base: str, headers: dict[str, str], path: str, units: list[str]) -> list[float]:
    """Each unit's first answer since the platform started (nothing of it decided or published yet), ms."""
    out = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        for unit in units:
            started = time.perf_counter()
            (await client.get(path, params={"unit": unit})).raise_for_status()
            out.append((time.perf_counter() - started) * 1000)
    return out


def main(teachers: int = TEACHERS, data: Path | None = DATA) -> str:
    from deploy.seed_coverage import LARGE_PROGRAMME_ID
    from deploy.seed_large import seed_large

    with ExitStack() as stack:
        urls, seeded = seeded_cluster(stack, teachers, data)
        env = {
            "USTAZ_GATEWAY_DATABASE_URL": urls["gateway"],
            "USTAZ_PROGRESS_DATABASE_URL": urls["progress"],
            "USTAZ_RATE_LIMIT_PER_IP": "10000000",
            "USTAZ_RATE_LIMIT_PER_USER": "10000000",
        }
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-coverage-platform-")))
        platform = stack.enter_context(platform_on_free_ports(workdir, extra_env=env))
        platform.start(timeout=180)
        if seeded is None:
            started = time.monotonic()
            # The registry is the population progress knows and half as many again.
            seeded = seed_large(
                teachers=max(round(teachers / 1.5), 10), seed=42, gateway_url=urls["gateway"],
                progress_url=urls["progress"],
            )  # fmt: skip
            seeded.update(
                seed_seconds=round(time.monotonic() - started), requested_teachers=teachers, urls=urls
            )
            if data is not None:
                data.with_name(data.name + ".json").write_text(json.dumps(seeded, default=str))
        base = platform.urls["gateway"]
        login = httpx.post(f"{base}/auth/login", json={"username": "analyst", "password": "analyst-demo"})
        headers = {"authorization": f"Bearer {login.json()['access_token']}"}
        path = f"{P}/{LARGE_PROGRAMME_ID}/coverage"
        started = time.perf_counter()
        national = httpx.get(base + path, headers=headers, timeout=60).json()
        country_first = (time.perf_counter() - started) * 1000
        regions = [r["unit"]["code"] for r in national["rows"] if r["unit"]["kind"] != "direct"]
        by_region = httpx.get(base + path, params={"unit": regions[0]}, headers=headers, timeout=60).json()
        districts = [r["unit"]["code"] for r in by_region["rows"] if r["unit"]["kind"] != "direct"]
        firsts = [country_first, *asyncio.run(first_answers(base, headers, path, [*regions[1:], *districts]))]
        region, district = regions[0], districts[0]
        rows = [
            [
                f"first answer of each unit ({len(firsts)}: the country, {len(regions) - 1} more regions, "
                f"{len(districts)} districts of {region}), one at a time",
                percentile(firsts, 0.5), percentile(firsts, 0.95), len(firsts) / (sum(firsts) / 1000),
                "yes" if percentile(firsts, 0.95) <= 100 else "NO",
            ]
        ]  # fmt: skip
        for name, params in (
            ("the country by region", {}),
            (f"region {region} by district", {"unit": region}),
            (f"district {district} by school", {"unit": district}),
        ):
            via = asyncio.run(through_gateway(base, headers, path, params))
            rows.append([name, via["p50"], via["p95"], via["rps"], "yes" if via["p95"] <= 100 else "NO"])

    size = (
        f"{seeded['registry_teachers_added']:,} registered teachers ({seeded['teachers']:,} with enrolments), "
        f"{seeded['org_units']:,} org units, {seeded['enrolments']:,} enrolments, "
        f"{seeded['completions']:,} completions; registry copied into progress "
        f"({seeded.get('registry_people_copied', 0):,} rows), coverage computed in "
        f"{seeded.get('coverage_seconds', 0)} s ({seeded.get('coverage_cells', 0):,} cells); "
        f"seeding took {seeded['seed_seconds']} s"
    )
    return "\n".join(
        [
            f"Coverage on PostgreSQL: {size}\n",
            f"Coverage dashboard of the national programme through the gateway ({CLIENTS} clients, "
            f"{DURATION:g} s each; target p95 <= 100 ms)\n\n"
            + table(["query", "p50 ms", "p95 ms", "req/s", "p95 <= 100 ms"], rows),
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--teachers", type=int, default=TEACHERS, help="registered teachers (default 1,000,000)"
    )
    parser.add_argument(
        "--data", type=Path, default=DATA,
        help="keep the seeded PostgreSQL cluster in this directory and reuse it (BENCH_COVERAGE_DATA)",
    )  # fmt: skip
    args = parser.parse_args()
    print(main(args.teachers, args.data))

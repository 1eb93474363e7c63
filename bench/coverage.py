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
import os
import tempfile
import time
from pathlib import Path

import httpx

from bench.analytics import create_databases
from bench.common import load, table
from tests.servers import platform_on_free_ports, postgres_server

TEACHERS = int(os.environ.get("BENCH_COVERAGE_TEACHERS", "1000000"))
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
P = "/api/v1/progress/programmes"


async def through_gateway(
    base: str, headers: dict[str, str], path: str, params: dict[str, str]
) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        (await client.get(path, params=params)).raise_for_status()

        async def call() -> None:
            (await client.get(path, params=params)).raise_for_status()

        return await load(call, CLIENTS, DURATION)


def main(teachers: int = TEACHERS) -> str:
    from deploy.seed_coverage import LARGE_PROGRAMME_ID
    from deploy.seed_large import seed_large

    with (
        tempfile.TemporaryDirectory(prefix="bench-coverage-") as tmp,
        postgres_server(Path(tmp) / "pg") as admin,
    ):
        urls = create_databases(admin, ["gateway", "progress"])
        env = {
            "USTAZ_GATEWAY_DATABASE_URL": urls["gateway"],
            "USTAZ_PROGRESS_DATABASE_URL": urls["progress"],
            "USTAZ_RATE_LIMIT_PER_IP": "10000000",
            "USTAZ_RATE_LIMIT_PER_USER": "10000000",
        }
        platform = platform_on_free_ports(Path(tmp) / "platform", extra_env=env)
        with platform:
            platform.start(timeout=180)
            started = time.monotonic()
            # The registry is the population progress knows and half as many again.
            seeded = seed_large(
                teachers=max(round(teachers / 1.5), 10), seed=42, gateway_url=urls["gateway"],
                progress_url=urls["progress"],
            )  # fmt: skip
            seed_seconds = time.monotonic() - started
            base = platform.urls["gateway"]
            login = httpx.post(f"{base}/auth/login", json={"username": "analyst", "password": "analyst-demo"})
            headers = {"authorization": f"Bearer {login.json()['access_token']}"}
            path = f"{P}/{LARGE_PROGRAMME_ID}/coverage"
            national = httpx.get(base + path, headers=headers, timeout=60).json()
            region = national["rows"][0]["unit"]["code"]
            by_region = httpx.get(base + path, params={"unit": region}, headers=headers, timeout=60).json()
            district = by_region["rows"][0]["unit"]["code"]
            rows = []
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
        f"seeding took {seed_seconds:.0f} s"
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
    args = parser.parse_args()
    print(main(args.teachers))

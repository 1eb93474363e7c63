"""A bounded schema-driven fuzz run (issue 15, item 4): schemathesis over the merged /openapi.json of
the real processes `make run` starts, every check (tests/e2e/schemathesis.toml says the two
narrowings and why), as a teacher, an author, an institute admin and an analyst at once: no 5xx, no
answer that breaks its documented schema, status, content type or headers.

In the suite each role has USTAZ_FUZZ_SECONDS (90) of generation; `make fuzz` runs it longer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.demo import login
from tests.servers import platform_on_free_ports

pytestmark = pytest.mark.e2e
ROLES = ("teacher", "author", "institute", "analyst")
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A platform of its own (the fuzzer creates courses and enrolments), rate limits out of the way."""
    running = platform_on_free_ports(
        tmp_path_factory.mktemp("fuzzed"),
        extra_env={"USTAZ_RATE_LIMIT_PER_IP": "10000000", "USTAZ_RATE_LIMIT_PER_USER": "10000000"},
    )
    with running:
        running.start(timeout=120)
        yield running


def schemathesis(gateway: str, token: str, report: Path) -> list[str]:
    seconds = os.environ.get("USTAZ_FUZZ_SECONDS", "90")
    return [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{gateway}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "negative_data_rejection",
        "--header",
        f"Authorization: Bearer {token}",
        "--phases",
        "coverage,fuzzing",
        "--max-examples",
        os.environ.get("USTAZ_FUZZ_EXAMPLES", "3"),
        "--max-time",
        seconds,
        "--workers",
        "1",
        # Login hashes a password on purpose slowly; on a loaded machine four runs at once wait for it:
        # an answer may take up to 30 s (the suite's machine is shared), not longer.
        "--request-timeout",
        "30",
        "--max-response-time",
        "30",
        "--seed",
        os.environ.get("USTAZ_FUZZ_SEED", "15"),
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]


def test_the_api_survives_a_schema_driven_fuzz_run_as_every_role(fuzzed: Any, tmp_path: Path) -> None:
    gateway = fuzzed.urls["gateway"]
    with httpx.Client(base_url=gateway, timeout=15) as client:
        tokens = {role: login(client, role)["authorization"].removeprefix("Bearer ") for role in ROLES}
    runs = {
        role: subprocess.Popen(
            schemathesis(gateway, token, tmp_path / f"{role}.xml"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for role, token in tokens.items()
    }
    outputs = {role: run.communicate(timeout=900)[0] for role, run in runs.items()}
    summary = {}
    for role, out in outputs.items():
        assert runs[role].returncode == 0, f"{role}:\n{out[-6000:]}"
        generated, tested = re.search(r"(\d+) generated", out), re.search(r"Tested: (\d+)", out)
        summary[role] = (int(generated[1]) if generated else 0, int(tested[1]) if tested else 0)
    print(f"\nfuzz (cases, operations) per role: {summary}; 0 failures")
    assert all(cases >= 50 and operations >= 20 for cases, operations in summary.values()), summary
    server_errors = [
        line
        for name in ("gateway", "courses", "progress", "certificates")
        for line in (fuzzed.log_dir / f"{name}.log").read_text().splitlines()
        if '"status": 5' in line or "unhandled error" in line
    ]
    assert server_errors == [], server_errors[:5]

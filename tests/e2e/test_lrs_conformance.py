"""ADL's LRS conformance test suite (third_party/lrs-conformance-test-suite, xAPI 1.0.3, unpatched)
against the platform's /xapi/ on free ports, with the demo LRS client's Basic credentials. Every test
of the suite must pass; a failure lists each failed test with the suite's reason."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from services.progress.lrs.clients import DEMO_KEY, DEMO_SECRET

pytestmark = pytest.mark.e2e
SUITE = Path(__file__).resolve().parents[2] / "third_party" / "lrs-conformance-test-suite"
LOG_LINE = re.compile(r"Full run log written to (\S+)")


def failures(node: dict[str, Any] | None, trail: tuple[str, ...] = ()) -> list[str]:
    """Each failed test of the suite's log as "suite > test: reason"."""
    if not node:
        return []
    tests = node.get("tests") or []
    title = node.get("title", "")
    if not tests and node.get("status") == "failed":
        return [" > ".join((*trail[-2:], title)) + ": " + str(node.get("error", "")).splitlines()[0]]
    return [line for test in tests for line in failures(test, (*trail, title))]


def test_the_adl_lrs_conformance_suite_passes_every_test(platform: Any) -> None:
    node = shutil.which("node")
    assert node, "node is missing: `make test` installs Debian's nodejs and npm"
    assert (SUITE / "node_modules").is_dir(), f"run `npm ci` in {SUITE} (the Makefile does)"
    endpoint = platform.urls["gateway"] + "/xapi"
    run = subprocess.run(
        [
            node,
            "bin/console_runner.js",
            "-e",
            endpoint,
            "-a",
            "-u",
            DEMO_KEY,
            "-p",
            DEMO_SECRET,
            "-x",
            "1.0.3",
            "-z",
        ],
        cwd=SUITE,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    found = LOG_LINE.search(run.stdout)
    assert found, f"the suite wrote no log:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    log = json.loads(Path(found[1]).read_text())
    summary = log["summary"]
    failed = failures(log.get("log"))
    assert summary["total"] >= 1365, summary
    assert summary["failed"] == 0 and not failed, f"{summary}\n" + "\n".join(failed)
    assert summary["passed"] == summary["total"]

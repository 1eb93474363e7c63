"""ADL's LRS conformance test suite (third_party/lrs-conformance-test-suite, xAPI 1.0.3, unpatched)
against the platform's /xapi/ on free ports, with the demo LRS client's Basic credentials. Every test
of the suite must pass; a failure lists each failed test with the suite's reason."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.progress.lrs.clients import DEMO_KEY, DEMO_SECRET
from tests.e2e.test_progress_pages import signed_in

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


def test_an_institute_admin_creates_uses_and_revokes_an_lrs_client(platform: Any, browser: Any) -> None:
    """In Chromium with JavaScript off: the admin creates a client, the page shows its secret once,
    the key and secret work at /xapi, the list shows the client without its secret, and revoking it
    makes the key a 401."""
    gateway = platform.urls["gateway"]
    context, page = signed_in(browser, gateway, "institute", "institute-demo")
    page.goto("/institute/lrs-clients")
    assert "/xapi/" in page.inner_text("main")
    page.fill("input[name=name]", "Storyline content server")
    page.click("form[action='/institute/lrs-clients'] button")
    codes = page.locator("div.ok code").all_inner_texts()
    key, secret = codes[0], codes[1]
    statement = {
        "actor": {"mbox": "mailto:learner@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
        "object": {"id": "http://example.org/meetings/e2e"},
    }
    headers = {"X-Experience-API-Version": "1.0.3"}
    with httpx.Client(base_url=gateway, timeout=15, auth=(key, secret), headers=headers) as client:
        assert client.post("/xapi/statements", json=statement).status_code == 200
        page.goto("/institute/lrs-clients")
        assert secret not in page.content() and key in page.content()
        page.click(f"tr:has-text('{key}') button")
        assert page.url.endswith("/institute/lrs-clients")

        def refused() -> bool:
            return client.post("/xapi/statements", json=statement).status_code == 401

        deadline = time.monotonic() + 10  # a revocation is read within lrs_client_cache_seconds
        while not refused():
            assert time.monotonic() < deadline, "the revoked key still works"
            time.sleep(0.2)
    context.close()

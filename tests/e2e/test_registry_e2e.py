"""The registry end to end, against the processes `make run` starts (a Celery worker included) and
real Chromium with JavaScript off: a platform admin stands up a country from two files in the browser
(the teachers' file large enough to run as a job on the `registry` queue, followed by the page
refreshing itself); then a teacher from that file activates an account on a phone-size page with the
code that progress's worker sent to an SMS gateway (a real HTTP receiver here)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_progress_pages import signed_in
from tests.integration.registry_data import csv_bytes, org_units_file, teacher_rows
from tests.integration.test_progress_reminders import Receiver
from tests.servers import platform_on_free_ports

pytestmark = pytest.mark.e2e
TEACHERS = 60  # more than USTAZ_REGISTRY_SYNC_ROWS below: a Celery job


@pytest.fixture(scope="module")
def sms() -> Iterator[Receiver]:
    running = Receiver()
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    yield running
    running.server.shutdown()


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory, sms: Receiver) -> Iterator[Any]:
    env = {"USTAZ_REGISTRY_SYNC_ROWS": "20", "USTAZ_SMS_GATEWAY_URL": sms.url}
    running = platform_on_free_ports(tmp_path_factory.mktemp("registry-platform"), extra_env=env)
    with running:
        running.start(timeout=120)
        yield running


def upload(page: Any, kind: str, path: Path) -> None:
    page.goto("/admin/imports")
    page.select_option("select[name=kind]", kind)
    page.set_input_files("input[name=file]", str(path))
    page.click("form[action='/admin/imports'] button[type=submit]")


def summary(page: Any, expected: str, timeout: float) -> None:
    """The run's page refreshes itself (meta refresh, no script) until the import is over."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = page.locator("[data-summary]").inner_text(timeout=5_000)
        if text == expected and page.locator("meta[http-equiv=refresh]").count() == 0:
            return
        page.wait_for_timeout(500)
        page.reload()
    raise AssertionError(
        f"the import page shows {page.locator('[data-summary]').inner_text()!r}, not {expected!r}"
    )


def test_an_admin_stands_up_a_country_and_a_teacher_activates_on_a_phone(
    country: Any, browser: Any, sms: Receiver, tmp_path: Path
) -> None:
    base = country.urls["gateway"]
    units, teachers = tmp_path / "org-units.csv", tmp_path / "teachers.csv"
    units.write_bytes(org_units_file("cp1251", ";"))  # as Excel in the region saves it
    rows = teacher_rows(TEACHERS)
    teachers.write_bytes(csv_bytes(rows))
    context, page = signed_in(browser, base, "admin", "admin-demo")
    upload(page, "org-units", units)
    assert re.search(r"/admin/imports/[0-9a-f-]{36}$", page.url)
    summary(page, "created 6, updated 0, unchanged 0, rejected 0", 30)
    upload(page, "teachers", teachers)
    summary(page, f"created {TEACHERS}, updated 0, unchanged 0, rejected 0", 90)
    page.goto("/admin/org-units/KZ-TST-D1-S1")
    assert "School One" in page.content()
    page.goto("/admin/teachers?org=KZ-TST")
    assert page.locator("tbody tr").count() == 50 and page.locator("a", has_text="Next page").count() == 1
    context.close()

    # The teacher of row 3 has a phone in the file: the code goes there by SMS.
    iin, phone = rows[2][0], rows[2][6]
    assert phone
    phone_page = browser.new_context(
        viewport={"width": 360, "height": 640}, java_script_enabled=False, is_mobile=True, base_url=base
    ).new_page()
    phone_page.goto("/login")
    phone_page.click("a[href='/activate']")
    phone_page.fill("input[name=national_id]", iin)
    phone_page.check("input[name=channel][value=sms]")
    phone_page.click("form[action='/activate'] button[type=submit]")
    assert phone_page.locator("[role=status]").count() == 1
    deadline = time.monotonic() + 60
    while not any(m["to"] == phone for m in sms.received) and time.monotonic() < deadline:
        phone_page.wait_for_timeout(250)
    [text] = [m["text"] for m in sms.received if m["to"] == phone]
    code = re.search(r"\b(\d{6})\b", text).group(1)  # type: ignore[union-attr]
    phone_page.fill("input[name=code]", code)
    phone_page.fill("input[name=username]", "aigerim.tst")
    phone_page.fill("input[name=password]", "a-long-password")
    phone_page.click("form[action='/activate'] button[type=submit]")
    assert phone_page.url.endswith("/me")  # the teacher's home
    assert phone_page.locator("form[action='/logout']").count() == 1  # signed in
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    phone_page.goto("/me/sessions")
    assert phone_page.locator("tbody tr").count() == 1

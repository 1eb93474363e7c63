"""A certificate's life against the real processes `make run` starts, in real Chromium: completing the
demo course yields exactly one certificate, its PDF carries Cyrillic and Uzbek Latin text, the
public page says valid, the institute revokes it, the page says revoked and the status list says so.

It runs on a platform of its own (module scope): revoking the demo teacher's certificate would
otherwise change what the other end-to-end tests see."""

from __future__ import annotations

import base64
import gzip
import io
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pypdf
import pytest

from deploy.demo import _poll, login, walk_journey
from tests.servers import platform_on_free_ports

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def own_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    running = platform_on_free_ports(tmp_path_factory.mktemp("certificates-platform"))
    with running:
        running.start(timeout=120)
        yield running


def page_status(browser: Any, url: str) -> tuple[str, str]:
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 360, "height": 640}, is_mobile=True
    )
    page = context.new_page()
    page.goto(url)
    status = page.locator("[data-status]").get_attribute("data-status") or ""
    reason = page.locator("[data-reason]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # fits a phone
    context.close()
    return status, reason


def test_complete_verify_revoke(own_platform: Any, browser: Any) -> None:
    base = own_platform.urls["gateway"]
    seen = walk_journey(base, say=lambda _: None)
    assert len(seen["certificates"]) == 1
    cert = seen["certificates"][0]

    with httpx.Client(base_url=base, timeout=30) as client:
        teacher = login(client, "teacher")
        # Exactly one, even after the issuing event had every chance to be redelivered.
        assert [c["id"] for c in client.get("/api/v1/certificates", headers=teacher).json()["items"]] == [
            cert["id"]
        ]

        # The PDF through the gateway: Kazakh Cyrillic labels and the Russian course title, then Uzbek Latin.
        texts = {}
        for lang in ("kk", "uz"):
            response = client.get(
                f"/api/v1/certificates/{cert['id']}/pdf", params={"lang": lang}, headers=teacher
            )
            assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
            assert len(response.content) <= 150 * 1024
            texts[lang] = pypdf.PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
        kk_lines = [line.strip() for line in texts["kk"].splitlines()]
        assert "төмендегі курсты сәтті аяқтады:" in kk_lines and "Меңгерілген құзыреттер" in texts["kk"]
        assert f"«{cert['course_title']}»" in " ".join(kk_lines) or cert["course_title"] in texts["kk"]
        assert "Aigerim Nurlanovna" in kk_lines and cert["number"] in kk_lines
        assert "malaka oshirish toʻgʻrisida" in texts["uz"] and "Sertifikat raqami" in texts["uz"]

        # The public page, no login, JavaScript off, on a phone: valid.
        assert page_status(browser, f"{base}/verify/{cert['id']}")[0] == "valid"

        # The institute's admin revokes it.
        admin = login(client, "institute")
        revoked = client.post(
            f"/api/v1/certificates/{cert['id']}/revoke",
            headers=admin,
            json={"reason": "issued in error (e2e)"},
        )
        assert revoked.status_code == 200, revoked.text
        status, reason = page_status(browser, f"{base}/verify/{cert['id']}")
        assert status == "revoked" and "issued in error (e2e)" in reason

        # The signed status list, as a verifier elsewhere would fetch it, has the bit set within a minute.
        credential = jwt.decode(
            client.get(f"/api/v1/certificates/{cert['id']}/credential", headers=teacher).text,
            options={"verify_signature": False},
        )
        entry = credential["credentialStatus"]
        assert entry["type"] == "BitstringStatusListEntry"
        path = "/api/v1/" + entry["statusListCredential"].split("/api/v1/", 1)[1]

        def bit_set() -> bool:
            response = client.get(path)
            assert int(response.headers["cache-control"].split("max-age=")[1]) <= 60
            encoded = jwt.decode(response.text, options={"verify_signature": False})["credentialSubject"][
                "encodedList"
            ][1:]
            bits = gzip.decompress(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
            index = int(entry["statusListIndex"])
            return bool(bits[index // 8] & (0x80 >> (index % 8)))

        _poll(bit_set, bool, 60, "the status list showing the revocation")

"""The compact signed form in the QR code: small, deterministic, checked by POST /verify and by an
offline verifier with cached issuer keys and status list."""

from __future__ import annotations

import base64
import json

import pytest

from libs.db import session_scope
from services.certificates import offline, service
from tests.integration.certificates_app import INSTITUTE, PUBLIC_URL, CertificatesAPI, certificates_api

pytestmark = pytest.mark.asyncio
__all__ = ["certificates_api"]


def compact_of(api: CertificatesAPI, cert_id: str) -> str:
    with session_scope(api.engine, readonly=True) as session:
        token = service.compact_form(session, api.get(cert_id), api.box)
    assert token is not None
    return token


async def verify(api: CertificatesAPI, text: str) -> dict:
    response = await api.client.post("/api/v1/certificates/verify", json={"credential": text})
    assert response.status_code == 200, response.text
    return response.json()


async def cached_issuer(api: CertificatesAPI) -> tuple[dict, dict]:
    doc = (await api.client.get(f"/api/v1/certificates/issuers/{INSTITUTE}")).json()
    status_list = (await api.client.get(f"/api/v1/certificates/status-lists/{INSTITUTE}")).text
    return {INSTITUTE: doc}, {INSTITUTE: status_list}


def one_char_changed(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["n"] = claims["n"][:-1] + ("0" if claims["n"][-1] != "0" else "1")
    body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


async def test_the_compact_form_is_small_deterministic_and_verifies_online(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    cert = api.issue(course_title="Цифрлық сауаттылық және мұғалімнің кәсіби дамуы: " + "ә" * 60)
    compact = compact_of(api, cert.id)
    url = f"{PUBLIC_URL}/verify/c/{compact}"
    assert len(url) < 600, len(url)
    assert compact_of(api, cert.id) == compact  # Ed25519 is deterministic and there is no iat
    for text in (compact, url):
        verdict = await verify(api, text)
        assert verdict["status"] == "valid", verdict
        assert verdict["certificate_id"] == cert.id and verdict["number"] == cert.number
        assert verdict["checks"]["form"] == "compact" and verdict["checks"]["status_list"] == "not revoked"
    tampered = await verify(api, one_char_changed(compact))
    assert tampered["status"] == "signature_invalid" and "altered" in tampered["reason"]

    await api.client.post(
        f"/api/v1/certificates/{cert.id}/revoke", headers=api.admin(), json={"reason": "error"}
    )
    assert (await verify(api, url))["status"] == "revoked"


async def test_an_offline_verifier_checks_the_qr_with_cached_keys_and_status_list(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    cert, other = api.issue(), api.issue()
    qr = f"{PUBLIC_URL}/verify/c/{compact_of(api, cert.id)}"
    issuers, lists = await cached_issuer(api)  # downloaded while online

    result = offline.verify_compact(qr, issuers, lists)
    assert (result.status, result.status_checked) == ("valid", True), result.reason
    assert result.claims["jti"] == cert.id and result.claims["n"] == cert.number
    no_list = offline.verify_compact(qr, issuers)
    assert no_list.status == "valid" and not no_list.status_checked and "not checked" in no_list.reason
    assert (
        offline.verify_compact(one_char_changed(compact_of(api, cert.id)), issuers, lists).status
        == "signature_invalid"
    )
    assert offline.verify_compact("garbage", issuers, lists).status == "signature_invalid"
    assert offline.verify_compact(qr, {}, lists).status == "unknown_issuer_key"

    # Revoked online; a verifier with the old cached list still says valid until it refreshes the list.
    await api.client.post(
        f"/api/v1/certificates/{cert.id}/revoke", headers=api.admin(), json={"reason": "error"}
    )
    assert offline.verify_compact(qr, issuers, lists).status == "valid"
    issuers, lists = await cached_issuer(api)
    assert offline.verify_compact(qr, issuers, lists).status == "revoked"
    assert (
        offline.verify_compact(f"{PUBLIC_URL}/verify/c/{compact_of(api, other.id)}", issuers, lists).status
        == "valid"
    )

    # A forged cached list is refused.
    header, payload, signature = lists[INSTITUTE].split(".")
    forged = {INSTITUTE: f"{header}.{payload[:-4]}AAAA.{signature}"}
    assert offline.verify_compact(qr, issuers, forged).status == "signature_invalid"

    # After the key is withdrawn as compromised, a refreshed issuer document refuses its signatures.
    response = await api.client.post(
        f"/api/v1/certificates/keys/{cert.kid}/compromise", headers=api.platform_admin()
    )
    assert response.status_code == 200
    issuers, lists = await cached_issuer(api)
    assert offline.verify_compact(qr, issuers, lists).status == "unknown_issuer_key"
    assert (await verify(api, qr))["status"] == "unknown_issuer_key"

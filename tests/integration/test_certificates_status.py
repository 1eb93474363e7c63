"""Bitstring Status List revocation and superseding re-issue, over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import jwt
import pytest
from sqlmodel import select

from libs.db import session_scope
from libs.encoding import b64url_decode
from services.certificates import integrity, service, status
from services.certificates.models import Certificate, StatusList
from tests.integration.certificates_app import INSTITUTE, PUBLIC_URL, CertificatesAPI, certificates_api

pytestmark = pytest.mark.asyncio
__all__ = ["certificates_api"]
LIST_PATH = f"/api/v1/certificates/status-lists/{INSTITUTE}"


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def bits_of(list_jwt: str) -> bytes:
    encoded = claims_of(list_jwt)["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")
    return gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))


def is_set(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


async def verification(api: CertificatesAPI, cert_id: str) -> dict[str, Any]:
    response = await api.client.get(f"/api/v1/certificates/{cert_id}/verification")
    assert response.status_code == 200
    return response.json()


async def test_each_certificate_gets_a_random_unused_index_in_its_institutes_list(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    certs = [api.issue() for _ in range(12)]
    indexes = [c.status_index for c in certs]
    assert len(set(indexes)) == 12 and all(i is not None and 0 <= i < 131_072 for i in indexes)
    assert indexes != sorted(indexes) or len(set(indexes)) == 12  # random, not sequential
    entry = claims_of(certs[0].credential_jwt)["credentialStatus"]
    assert entry == {
        "id": f"{PUBLIC_URL}{LIST_PATH}#{certs[0].status_index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(certs[0].status_index),
        "statusListCredential": f"{PUBLIC_URL}{LIST_PATH}",
    }
    # Another institute has its own list: indexes may repeat across lists, never within one.
    other = api.issue(institute_id="i2")
    assert other.status_index is not None


async def test_the_signed_status_list_is_served_with_short_caching_and_revocation_flips_its_bit(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    cert, bystander = api.issue(), api.issue()
    first = await api.client.get(LIST_PATH)
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/vc+jwt")
    assert first.headers["cache-control"] == "public, max-age=60"
    etag = first.headers["etag"]
    assert (await api.client.get(LIST_PATH, headers={"if-none-match": etag})).status_code == 304

    header = jwt.get_unverified_header(first.text)
    assert header["alg"] == "EdDSA" and header["typ"] == "JWT"
    issuer_doc = (await api.client.get(f"/api/v1/certificates/issuers/{INSTITUTE}")).json()
    jwk = next(k for k in issuer_doc["keys"] if k["verification_method"] == header["kid"])
    public = jwt.PyJWK({k: v for k, v in jwk.items() if k in ("kty", "crv", "x")}, algorithm="EdDSA").key
    listed = jwt.decode(first.text, public, algorithms=["EdDSA"])
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert (
        listed["issuer"] == listed["iss"] == issuer_doc["id"] == f"did:web:ustaz.test:institutes:{INSTITUTE}"
    )
    assert listed["credentialSubject"]["statusPurpose"] == "revocation"
    bits = bits_of(first.text)
    assert len(bits) * 8 >= 131_072 and not any(bits)

    # The same list as JSON-LD with a Data Integrity proof, for Accept: application/ld+json (as the
    # DCC's verifier asks) and application/vc+ld+json; its own ETag.
    linked = await api.client.get(LIST_PATH, headers={"accept": "application/ld+json, application/json"})
    assert linked.headers["content-type"].startswith("application/vc+ld+json")
    assert linked.headers["etag"] != etag and "Accept" in linked.headers["vary"]
    document = linked.json()
    assert document["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert document["proof"][0]["verificationMethod"] == header["kid"]
    assert integrity.verify_proof(document, b64url_decode(jwk["x"]))
    assert document["credentialSubject"]["encodedList"] == listed["credentialSubject"]["encodedList"]

    revoked = await api.client.post(
        f"/api/v1/certificates/{cert.id}/revoke", headers=api.admin(), json={"reason": "issued in error"}
    )
    assert revoked.status_code == 200
    after = await api.client.get(LIST_PATH, headers={"if-none-match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    bits = bits_of(after.text)
    assert is_set(bits, cert.status_index) and not is_set(bits, bystander.status_index)
    assert sum(bin(b).count("1") for b in bits) == 1
    relinked = (await api.client.get(LIST_PATH, headers={"accept": "application/vc+ld+json"})).json()
    assert integrity.verify_proof(relinked, b64url_decode(jwk["x"]))  # re-signed too
    assert status.decode_list(relinked["credentialSubject"]["encodedList"]) == bits

    verdict = await verification(api, cert.id)
    assert verdict["status"] == "revoked" and "issued in error" in verdict["reason"]
    assert verdict["checks"]["status_list"] == "revoked" and verdict["checks"]["registry"] == "revoked"
    assert (await verification(api, bystander.id))["status"] == "valid"


async def test_an_unknown_institute_has_no_status_list(certificates_api: CertificatesAPI) -> None:
    response = await certificates_api.client.get("/api/v1/certificates/status-lists/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def replace_list(api: CertificatesAPI, token: str) -> None:
    with session_scope(api.engine) as session:
        row = session.get(StatusList, (INSTITUTE, "revocation"))
        row.credential_jwt = token
        session.add(row)


def stored_list(api: CertificatesAPI) -> str:
    with session_scope(api.engine, readonly=True) as session:
        return session.get(StatusList, (INSTITUTE, "revocation")).credential_jwt


async def test_a_forged_status_list_is_rejected_with_the_reason(certificates_api: CertificatesAPI) -> None:
    api = certificates_api
    cert = api.issue()
    genuine = stored_list(api)
    head, payload, signature = genuine.split(".")

    # 1. The bits changed but the signature kept: altered.
    claims = claims_of(genuine)
    flipped = status.set_bit(bytes(131_072 // 8), cert.status_index)
    claims["credentialSubject"]["encodedList"] = status.encode_list(flipped)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    replace_list(api, f"{head}.{body}.{signature}")
    verdict = await verification(api, cert.id)
    assert verdict["status"] == "signature_invalid"
    assert "status cannot be trusted" in verdict["reason"] and "altered or forged" in verdict["reason"]
    assert verdict["checks"] == {"signature": "valid", "form": "vc+jwt", "status_list": "untrusted"}

    # 2. A list signed by another institute's key, naming ours.
    other = api.issue(institute_id="i2")
    with session_scope(api.engine, readonly=True) as session:
        from services.certificates import repository

        foreign_key = repository.key(session, other.kid)
        forged = status.StatusList(institute_id=INSTITUTE, bits=bytes(131_072 // 8))
        status.sign_list(forged, foreign_key, api.box, claims["issuer"], PUBLIC_URL)
    replace_list(api, forged.credential_jwt)
    verdict = await verification(api, cert.id)
    assert (
        verdict["status"] == "signature_invalid"
        and "not signed by a key of the credential's issuer" in verdict["reason"]
    )

    # 3. Garbage, and a list that is too short.
    replace_list(api, "not-a-jwt")
    assert "not a well-formed" in (await verification(api, cert.id))["reason"]
    with session_scope(api.engine, readonly=True) as session:
        compact = service.compact_form(session, cert, api.box)
    by_qr = await api.client.post("/api/v1/certificates/verify", json={"credential": compact})
    assert by_qr.status_code == 200 and by_qr.json()["status"] == "signature_invalid"
    assert "not a well-formed" in by_qr.json()["reason"]
    with session_scope(api.engine, readonly=True) as session:
        own_key = repository.key(session, cert.kid)
        short = status.StatusList(institute_id=INSTITUTE, bits=bytes(1024))
        status.sign_list(short, own_key, api.box, claims["issuer"], PUBLIC_URL)
    replace_list(api, short.credential_jwt)
    assert "shorter than 131,072" in (await verification(api, cert.id))["reason"]

    # The genuine list back: valid again.
    replace_list(api, genuine)
    assert (await verification(api, cert.id))["status"] == "valid"


async def test_a_corrected_reissue_supersedes_the_old_certificate_and_keeps_its_number(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    old = api.issue(user_name="Aigerm Nurlanovna")
    response = await api.client.post(
        f"/api/v1/certificates/{old.id}/reissue",
        headers=api.admin(),
        json={"recipient_name": "Aigerim Nurlanovna", "reason": "name misspelt"},
    )
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["number"] == old.number and new["id"] != old.id and new["superseded_by"] is None
    assert new["status_index"] != old.status_index
    assert response.headers["location"] == f"/api/v1/certificates/{new['id']}/verification"
    stored = api.get(new["id"])
    assert stored.recipient_name == "Aigerim Nurlanovna" and stored.issued_at == old.issued_at
    assert api.get(old.id).superseded_by == new["id"]

    old_verdict = await verification(api, old.id)
    assert old_verdict["status"] == "revoked" and new["id"] in old_verdict["reason"]
    assert old.number in old_verdict["reason"] and old_verdict["superseded_by"] == new["id"]
    assert old_verdict["checks"]["status_list"] == "revoked"
    assert (await verification(api, new["id"]))["status"] == "valid"
    assert is_set(bits_of(stored_list(api)), old.status_index)

    # The teacher sees only the current certificate.
    mine = (await api.client.get("/api/v1/certificates", headers=api.token())).json()["items"]
    assert [c["id"] for c in mine] == [new["id"]]

    # Re-issuing the superseded one again is a conflict; the new one can be re-issued in turn.
    again = await api.client.post(
        f"/api/v1/certificates/{old.id}/reissue",
        headers=api.admin(),
        json={"recipient_name": "X", "reason": "again"},
    )
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"


async def test_reissue_and_revoke_refused_to_another_institutes_admin_and_to_teachers(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    cert = api.issue()
    before = stored_list(api)
    for headers, code in ((api.admin("i2"), 403), (api.token(), 403), ({}, 401)):
        for path, body in (
            ("reissue", {"recipient_name": "Mallory", "reason": "take over"}),
            ("revoke", {"reason": "not ours"}),
        ):
            response = await api.client.post(
                f"/api/v1/certificates/{cert.id}/{path}", headers=headers, json=body
            )
            assert response.status_code == code, (path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
    bad = await api.client.post(
        f"/api/v1/certificates/{cert.id}/reissue",
        headers=api.admin(),
        json={"recipient_name": "", "reason": "x"},
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    missing = await api.client.post(
        "/api/v1/certificates/no-such/reissue",
        headers=api.admin(),
        json={"recipient_name": "A", "reason": "why not"},
    )
    assert missing.status_code == 404
    # Nothing changed.
    after = api.get(cert.id)
    assert after.revoked_at is None and after.superseded_by is None and stored_list(api) == before
    with session_scope(api.engine, readonly=True) as session:
        assert len(session.exec(select(Certificate)).all()) == 1
    assert (await verification(api, cert.id))["status"] == "valid"

"""Bad input to verification and to the admin operations: each gets a definite verdict or a
problem+json, never a 500, and changes nothing. Plus a seeded fuzz of POST /verify and GET /verification."""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import select

from libs.db import session_scope
from services.certificates import credentials, service
from services.certificates.models import Certificate, IssuerKey, StatusList
from tests.integration.certificates_app import INSTITUTE, PUBLIC_URL, CertificatesAPI, certificates_api

pytestmark = pytest.mark.asyncio
__all__ = ["certificates_api"]
VERIFY = "/api/v1/certificates/verify"
STATUSES = {"valid", "revoked", "expired", "signature_invalid", "unknown_issuer_key", "unknown"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def snapshot(api: CertificatesAPI) -> Any:
    with session_scope(api.engine, readonly=True) as session:
        return (
            [c.model_dump() for c in session.exec(select(Certificate).order_by(Certificate.id))],
            [k.model_dump() for k in session.exec(select(IssuerKey).order_by(IssuerKey.kid))],
            [s.model_dump() for s in session.exec(select(StatusList))],
        )


async def verify(api: CertificatesAPI, text: str) -> dict[str, Any]:
    response = await api.client.post(VERIFY, json={"credential": text})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] in STATUSES and body["reason"]
    return body


def assert_problem(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


async def test_one_changed_character_anywhere_is_rejected_with_the_reason(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    token = api.issue().credential_jwt
    header, payload, signature = token.split(".")
    claims = json.loads(unb64(payload))
    claims["name"] = claims["name"].replace("Ф", "Х", 1)
    changed_payload = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    sig_chars = list(signature)
    sig_chars[10] = "A" if sig_chars[10] != "A" else "B"
    changed_signature = f"{header}.{payload}.{''.join(sig_chars)}"
    for bad in (changed_payload, changed_signature):
        verdict = await verify(api, bad)
        assert verdict["status"] == "signature_invalid" and "altered or forged" in verdict["reason"]
    assert (await verify(api, token))["status"] == "valid"


async def test_an_unknown_key_and_a_forged_issuer_are_refused(certificates_api: CertificatesAPI) -> None:
    api = certificates_api
    claims = jwt.decode(api.issue().credential_jwt, options={"verify_signature": False})
    stranger = Ed25519PrivateKey.generate()
    forged = jwt.encode(
        claims, stranger, algorithm="EdDSA", headers={"kid": "not-a-key-of-ours", "typ": "vc+jwt"}
    )
    verdict = await verify(api, forged)
    assert verdict["status"] == "unknown_issuer_key" and "not one of our issuers' keys" in verdict["reason"]
    # Signed by institute i2's genuine key while naming i1 as the issuer.
    other = api.issue(institute_id="i2")
    with session_scope(api.engine, readonly=True) as session:
        other_key = session.get(IssuerKey, other.kid)
        stolen = credentials.sign(claims | {"issuer": claims["issuer"]}, other_key, api.box)
    verdict = await verify(api, stolen)
    assert verdict["status"] == "signature_invalid" and "other than the key's owner" in verdict["reason"]


async def test_a_credential_signed_before_rotation_verifies_and_a_compromised_key_does_not(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    old = api.issue()
    for headers, code in ((api.admin(), 403), (api.token(), 403), ({}, 401)):
        assert_problem(
            await api.client.post(f"/api/v1/certificates/issuers/{INSTITUTE}/keys", headers=headers), code
        )
    assert_problem(
        await api.client.post("/api/v1/certificates/issuers/nope/keys", headers=api.platform_admin()), 404
    )
    rotated = await api.client.post(
        f"/api/v1/certificates/issuers/{INSTITUTE}/keys", headers=api.platform_admin()
    )
    assert rotated.status_code == 201
    new = api.issue()
    assert new.kid == rotated.json()["kid"] != old.kid
    published = (await api.client.get(f"/api/v1/certificates/issuers/{INSTITUTE}")).json()["keys"]
    assert {k["kid"]: k["status"] for k in published} == {old.kid: "retired", new.kid: "active"}
    assert (await verify(api, old.credential_jwt))["status"] == "valid"
    assert (await verify(api, new.credential_jwt))["status"] == "valid"
    # A revocation after the rotation re-signs the status list with the new key; the old credential still verifies.
    third = api.issue()
    await api.client.post(
        f"/api/v1/certificates/{third.id}/revoke", headers=api.admin(), json={"reason": "error"}
    )
    assert (await verify(api, old.credential_jwt))["status"] == "valid"
    assert (await verify(api, third.credential_jwt))["status"] == "revoked"

    # Withdrawing a key is for platform admins only, and an unknown kid is a 404; neither changes anything.
    before = snapshot(api)
    assert_problem(
        await api.client.post(f"/api/v1/certificates/keys/{old.kid}/compromise", headers=api.admin()), 403
    )
    assert_problem(
        await api.client.post(f"/api/v1/certificates/keys/{old.kid}/compromise", headers=api.token()), 403
    )
    assert_problem(
        await api.client.post("/api/v1/certificates/keys/nope/compromise", headers=api.platform_admin()), 404
    )
    assert snapshot(api) == before

    # The retired key is found compromised: its signatures are refused, with the date; the new key's still verify.
    response = await api.client.post(
        f"/api/v1/certificates/keys/{old.kid}/compromise", headers=api.platform_admin()
    )
    assert response.status_code == 200 and response.json()["kid"] == old.kid
    verdict = await verify(api, old.credential_jwt)
    assert verdict["status"] == "unknown_issuer_key" and "withdrawn as compromised" in verdict["reason"]
    assert (await api.client.get(f"/api/v1/certificates/{old.id}/verification")).json()[
        "status"
    ] == "unknown_issuer_key"
    assert (await verify(api, new.credential_jwt))["status"] == "valid"
    issuer_doc = (await api.client.get(f"/api/v1/certificates/issuers/{INSTITUTE}")).json()
    assert old.kid in issuer_doc["withdrawn_keys"] and old.kid not in {k["kid"] for k in issuer_doc["keys"]}

    # Compromising the active key: a new one takes over and the status list is re-signed with it.
    await api.client.post(f"/api/v1/certificates/keys/{new.kid}/compromise", headers=api.platform_admin())
    latest = api.issue()
    assert latest.kid not in (old.kid, new.kid)
    assert (await verify(api, latest.credential_jwt))["status"] == "valid"
    status_list = (await api.client.get(f"/api/v1/certificates/status-lists/{INSTITUTE}")).text
    assert jwt.get_unverified_header(status_list)["kid"] == latest.kid


@pytest.mark.parametrize(
    "text,reason",
    [
        ("", "not a well-formed"),
        ("not a jwt", "not a well-formed"),
        ("a.b.c", "not a well-formed"),
        ("eyJhbGciOiJub25lIn0.e30.", "must be signed with EdDSA"),
        (
            jwt.encode({"iss": "x", "jti": "y"}, "s" * 32, algorithm="HS256", headers={"kid": "k"}),
            "must be signed with EdDSA",
        ),
        ("https://ustaz.test/verify/c/garbage", "not a well-formed"),
    ],
)
async def test_malformed_jwts_get_a_verdict(
    certificates_api: CertificatesAPI, text: str, reason: str
) -> None:
    response = await certificates_api.client.post(VERIFY, json={"credential": text})
    if text == "":
        assert_problem(response, 422)  # empty is a validation error, not a credential
        return
    verdict = response.json()
    assert (
        response.status_code == 200
        and verdict["status"] == "signature_invalid"
        and reason in verdict["reason"]
    )


async def test_malformed_requests_are_problems(certificates_api: CertificatesAPI) -> None:
    api = certificates_api
    api.issue()
    before = snapshot(api)
    client = api.client
    assert_problem(
        await client.post(VERIFY, content=b"{not json", headers={"content-type": "application/json"}), 400
    )
    assert_problem(await client.post(VERIFY, json={"jwt": "x"}), 422)
    assert_problem(await client.post(VERIFY, json={"credential": 42}), 422)
    assert_problem(await client.post(VERIFY, json=["x"]), 422)
    assert_problem(await client.post(VERIFY, json={"credential": "{broken json"}), 422)
    assert_problem(
        await client.post(VERIFY, json={"credential": json.dumps({"@context": [], "name": "unsigned"})}), 422
    )
    assert_problem(await client.post(VERIFY, json={"credential": "x" * 100_001}), 422)
    assert_problem(
        await client.post(VERIFY, content=b"credential=x", headers={"content-type": "text/plain"}), 422
    )
    assert snapshot(api) == before


async def test_pasted_json_wrappers_are_accepted(certificates_api: CertificatesAPI) -> None:
    api = certificates_api
    token = api.issue().credential_jwt
    for text in (
        json.dumps({"credential": token}),
        json.dumps({"jwt": token}),
        json.dumps({"proof": {"type": "JwtProof2020", "jwt": token}}),
        f"  {token}\n",
    ):
        assert (await verify(api, text))["status"] == "valid"


async def test_unknown_ids_get_a_definite_verdict(certificates_api: CertificatesAPI) -> None:
    for cert_id in (str(uuid.uuid4()), "no-such-id", "%20", "ы" * 50, "x" * 500):
        response = await certificates_api.client.get(f"/api/v1/certificates/{cert_id}/verification")
        assert response.status_code == 200
        assert response.json()["status"] == "unknown" and "no certificate" in response.json()["reason"]


def mutate(rng: random.Random, text: str) -> str:
    """One random edit: replace, insert, delete or swap characters, duplicate or drop a segment."""
    if not text:
        return rng.choice(string.printable)
    op = rng.randrange(7)
    i = rng.randrange(len(text))
    alphabet = string.ascii_letters + string.digits + '-_.=+/{}[]":,\\ \x00ыʻ😀'
    if op == 0:
        return text[:i] + rng.choice(alphabet) + text[i + 1 :]
    if op == 1:
        return text[:i] + rng.choice(alphabet) + text[i:]
    if op == 2:
        return text[:i] + text[i + 1 :]
    if op == 3:
        parts = text.split(".")
        rng.shuffle(parts)
        return ".".join(parts)
    if op == 4:
        parts = text.split(".")
        return ".".join(parts + [rng.choice(parts)])
    if op == 5:
        return text[:i]
    header, _, rest = text.partition(".")
    try:
        decoded = json.loads(unb64(header))
        decoded[rng.choice(["alg", "kid", "typ", "crit", "jku"])] = rng.choice(
            [None, 1, "none", "HS256", "EdDSA", [], {"a": 1}, "../../etc/passwd"]
        )
        return b64(json.dumps(decoded).encode()) + "." + rest
    except Exception:
        return text[::-1]


def same_bytes(a: str, b: str) -> bool:
    """Whether two JWTs decode to the same header, payload and signature bytes (base64url has slack bits)."""
    pa, pb = a.split("."), b.split(".")
    if len(pa) != 3 or len(pb) != 3:
        return False
    try:
        return all(unb64(x) == unb64(y) for x, y in zip(pa, pb, strict=True))
    except ValueError:
        return False


async def test_fuzz_verification_never_fails_and_never_accepts_an_altered_credential(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    cert = api.issue()
    with session_scope(api.engine, readonly=True) as session:
        compact = service.compact_form(session, cert, api.box)
    seeds = [
        cert.credential_jwt,
        compact,
        json.dumps({"credential": cert.credential_jwt}),
        f"{PUBLIC_URL}/verify/c/{compact}",
    ]
    rng = random.Random(20261126)
    before = snapshot(api)
    for n in range(400):
        original = seeds[n % len(seeds)]
        text = original
        for _ in range(rng.randint(1, 3)):
            text = mutate(rng, text)
        response = await api.client.post(VERIFY, json={"credential": text})
        assert response.status_code in (200, 422), (text, response.status_code, response.text)
        if response.status_code == 422:
            assert response.headers["content-type"] == "application/problem+json"
            continue
        verdict = response.json()
        assert verdict["status"] in STATUSES and verdict["reason"]
        if (
            verdict["status"] == "valid"
        ):  # only a no-op edit (e.g. base64 slack bits, whitespace) may stay valid
            token = service.parse_pasted(text)
            genuine = service.parse_pasted(original)
            assert token == genuine or same_bytes(token, genuine), (original, text)
    for _ in range(150):
        raw = "".join(rng.choice(string.printable + "ыʻ") for _ in range(rng.randint(1, 60)))
        path = "/api/v1/certificates/" + quote(raw, safe="") + "/verification"
        response = await api.client.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        if response.status_code == 200:
            assert response.json()["status"] in STATUSES
        else:
            assert response.headers["content-type"] == "application/problem+json"
        body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
        response = await api.client.post(VERIFY, content=body, headers={"content-type": "application/json"})
        assert response.status_code in (200, 400, 422), response.text
    assert snapshot(api) == before

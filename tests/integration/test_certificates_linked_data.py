"""Open Badges 3.0 credentials as JSON-LD with an eddsa-rdfc-2022 Data Integrity proof, and the VC-JWT
by OB 3.0's JWT rules (docs/adr/0017): served by content negotiation, verified by the pipeline, refused
when altered; issuers as DIDs whose documents list every key; the recipient's salted hash with its salt;
the holder's name by the teacher's choice. The VC-JWT is also checked with an independent JOSE library
(jwcrypto)."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwcrypto import jwk as jw_jwk
from jwcrypto import jwt as jw_jwt

from libs.db import session_scope
from libs.encoding import b64url_decode
from services.certificates import dids, integrity, keys, service, verdicts
from services.certificates.models import Certificate, Issuer, IssuerKey
from tests.integration.certificates_app import (
    INSTITUTE,
    PUBLIC_URL,
    CertificatesAPI,
    certificates_api,
    completion,
)
from tests.integration.test_certificates_hardening import snapshot

pytestmark = pytest.mark.asyncio
__all__ = ["certificates_api"]
VERIFY = "/api/v1/certificates/verify"
DID = f"did:web:ustaz.test:institutes:{INSTITUTE}"
LD = {"accept": "application/vc+ld+json"}


def document(cert: Certificate) -> dict[str, Any]:
    return json.loads(cert.credential_ld)


async def verify(api: CertificatesAPI, credential: dict[str, Any] | str) -> dict[str, Any]:
    text = credential if isinstance(credential, str) else json.dumps(credential, ensure_ascii=False)
    response = await api.client.post(VERIFY, json={"credential": text})
    assert response.status_code == 200, response.text
    return response.json()


def key_of(api: CertificatesAPI, kid: str) -> IssuerKey:
    with session_scope(api.engine, readonly=True) as session:
        key = session.get(IssuerKey, kid)
        assert key is not None
        return key


async def test_the_credential_is_served_as_json_ld_with_a_proof_and_verifies(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    cert = api.issue()
    path = f"/api/v1/certificates/{cert.id}/credential"
    for accept in (
        "application/vc+ld+json",
        "application/ld+json",
        "application/ld+json, application/json;q=0.5",
    ):
        served = await api.client.get(path, headers={**api.token(), "accept": accept})
        assert served.status_code == 200 and served.headers["content-type"].startswith(
            "application/vc+ld+json"
        )
        assert (
            served.headers["content-disposition"] == f'attachment; filename="certificate-{cert.number}.json"'
        )
        assert served.json() == document(cert)
    for accept in ("application/vc+jwt", "*/*", "application/vc+jwt, application/ld+json;q=0.5"):
        served = await api.client.get(path, headers={**api.token(), "accept": accept})
        assert (
            served.headers["content-type"].startswith("application/vc+jwt")
            and served.text == cert.credential_jwt
        )
    stranger = await api.client.get(path, headers={**api.token(sub="teacher-2"), **LD})
    assert stranger.status_code == 404

    credential = document(cert)
    (proof,) = credential["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod" and proof["proofValue"].startswith("z")
    assert proof["verificationMethod"] == f"{DID}#{cert.kid}"
    assert credential["issuer"]["id"] == DID
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    verdict = await verify(api, credential)
    assert verdict["status"] == "valid", verdict["reason"]
    assert verdict["checks"] == {
        "signature": "valid",
        "form": "data-integrity",
        "status_list": "not revoked",
        "registry": "not revoked",
    }
    assert verdict["certificate_id"] == cert.id and verdict["number"] == cert.number
    # The JWT and the JSON-LD carry the same credential.
    claims = jwt.decode(cert.credential_jwt, options={"verify_signature": False})
    assert {k: v for k, v in credential.items() if k != "proof"} == {
        k: v for k, v in claims.items() if k not in ("iss", "jti", "sub", "nbf")
    }


async def test_revocation_reaches_the_json_ld_form(certificates_api: CertificatesAPI) -> None:
    api = certificates_api
    cert = api.issue()
    revoked = await api.client.post(
        f"/api/v1/certificates/{cert.id}/revoke", headers=api.admin(), json={"reason": "issued in error"}
    )
    assert revoked.status_code == 200
    verdict = await verify(api, document(cert))
    assert verdict["status"] == "revoked" and verdict["checks"]["status_list"] == "revoked"


def tampered_cases(credential: dict[str, Any]) -> list[dict[str, Any]]:
    name = copy.deepcopy(credential)
    name["name"] = name["name"].replace("Ф", "Х", 1)
    status = copy.deepcopy(credential)
    status["credentialStatus"]["statusListIndex"] = "7"
    signature = copy.deepcopy(credential)
    value = signature["proof"][0]["proofValue"]
    signature["proof"][0]["proofValue"] = value[:10] + ("A" if value[10] != "A" else "B") + value[11:]
    created = copy.deepcopy(credential)
    created["proof"][0]["created"] = "2030-01-01T00:00:00Z"
    return [name, status, signature, created]


async def test_a_tampered_json_ld_credential_is_signature_invalid(certificates_api: CertificatesAPI) -> None:
    api = certificates_api
    credential = document(api.issue())
    for bad in tampered_cases(credential):
        verdict = await verify(api, bad)
        assert verdict["status"] == "signature_invalid" and "altered or forged" in verdict["reason"], verdict
    assert (await verify(api, credential))["status"] == "valid"


async def test_an_unknown_verification_method_is_unknown_issuer_key(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    credential = {k: v for k, v in document(api.issue()).items() if k != "proof"}
    stranger = Ed25519PrivateKey.generate()
    for method in (
        f"{DID}#not-a-key-of-ours",
        "did:key:" + integrity.multikey(integrity.raw_from_private(stranger)),
    ):
        if method.startswith("did:key:"):
            method = f"{method}#{method.removeprefix('did:key:')}"
        forged = integrity.add_proof(credential, stranger, method, credential["validFrom"])
        verdict = await verify(api, forged)
        assert verdict["status"] == "unknown_issuer_key", verdict
        assert "not one of our issuers' keys" in verdict["reason"]


async def test_a_proof_of_another_cryptosuite_gets_a_clear_verdict(certificates_api: CertificatesAPI) -> None:
    api = certificates_api
    credential = document(api.issue())
    for field, value, named in (
        ("cryptosuite", "eddsa-jcs-2022", "eddsa-jcs-2022"),
        ("type", "Ed25519Signature2020", "Ed25519Signature2020"),
    ):
        other = copy.deepcopy(credential)
        other["proof"][0][field] = value
        verdict = await verify(api, other)
        assert verdict["status"] == "signature_invalid", verdict
        assert named in verdict["reason"] and "eddsa-rdfc-2022" in verdict["reason"]


async def test_a_malformed_json_ld_document_is_not_a_certificate(certificates_api: CertificatesAPI) -> None:
    api = certificates_api
    credential = document(api.issue())
    before = snapshot(api)
    unknown_context = {
        **credential,
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.test/ctx"],
    }
    undefined_term = {**credential, "secretNote": "not covered by the signature"}
    bad_context = {**credential, "@context": 5}
    for bad in (unknown_context, undefined_term, bad_context):
        response = await api.client.post(VERIFY, json={"credential": json.dumps(bad)})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"].startswith("This is not a certificate")
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    response = await api.client.post(VERIFY, json={"credential": json.dumps(unsigned)})
    assert response.status_code == 422 and "without its signature" in response.json()["detail"]
    assert snapshot(api) == before


async def test_keys_rotate_without_breaking_old_json_ld_credentials(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    old = api.issue()
    rotated = await api.client.post(
        f"/api/v1/certificates/issuers/{INSTITUTE}/keys", headers=api.platform_admin()
    )
    assert rotated.status_code == 201
    new = api.issue()
    assert new.kid != old.kid
    assert (await verify(api, document(old)))["status"] == "valid"
    assert (await verify(api, document(new)))["status"] == "valid"
    assert (await verify(api, old.credential_jwt))["status"] == "valid"

    did_doc = (await api.client.get(f"/api/v1/certificates/issuers/{INSTITUTE}/did.json")).json()
    assert did_doc["id"] == DID
    methods = {m["id"]: m for m in did_doc["verificationMethod"]}
    assert set(methods) == {f"{DID}#{old.kid}", f"{DID}#{new.kid}"} == set(did_doc["assertionMethod"])
    for cert in (old, new):
        method = methods[f"{DID}#{cert.kid}"]
        assert method["type"] == "Multikey" and method["controller"] == DID
        raw = b64url_decode(key_of(api, cert.kid).public_jwk["x"])
        assert method["publicKeyMultibase"] == integrity.multikey(raw)

    compromised = await api.client.post(
        f"/api/v1/certificates/keys/{old.kid}/compromise", headers=api.platform_admin()
    )
    assert compromised.status_code == 200
    verdict = await verify(api, document(old))
    assert verdict["status"] == "unknown_issuer_key" and "withdrawn as compromised" in verdict["reason"]
    did_doc = (await api.client.get(f"/api/v1/certificates/issuers/{INSTITUTE}/did.json")).json()
    history = {m["id"]: m for m in did_doc["verificationMethod"]}
    assert "revoked" in history[f"{DID}#{old.kid}"]  # its history kept, and marked
    assert f"{DID}#{old.kid}" not in did_doc["assertionMethod"]
    assert f"{DID}#{new.kid}" in did_doc["assertionMethod"]


async def test_the_vc_jwt_follows_open_badges_jwt_rules_and_verifies_with_jwcrypto(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    cert = api.issue()
    header = jwt.get_unverified_header(cert.credential_jwt)
    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": f"{DID}#{cert.kid}"}
    # The kid resolves: the DID document has that verification method, an assertion method.
    did_doc = (await api.client.get(f"/api/v1/certificates/issuers/{INSTITUTE}/did.json")).json()
    assert header["kid"] in did_doc["assertionMethod"]
    method = next(m for m in did_doc["verificationMethod"] if m["id"] == header["kid"])
    raw = integrity.raw_public_key(method["publicKeyMultibase"])
    # An independent JOSE library, from the key as the DID document gives it.
    public = jw_jwk.JWK.from_pyca(integrity.Ed25519PublicKey.from_public_bytes(raw))
    token = jw_jwt.JWT(jwt=cert.credential_jwt, key=public, algs=["EdDSA"], check_claims=False)
    claims = json.loads(token.claims)
    assert claims["iss"] == claims["issuer"]["id"] == DID
    assert claims["jti"] == claims["id"] == f"urn:uuid:{cert.id}"
    assert claims["sub"] == claims["credentialSubject"]["id"] and claims["sub"].startswith("urn:uuid:")
    assert claims["nbf"] == int(cert.issued_at.timestamp())
    assert "vc" not in claims and "iat" not in claims
    tampered = cert.credential_jwt[:-4] + ("AAAA" if not cert.credential_jwt.endswith("AAAA") else "BBBB")
    with pytest.raises(Exception, match="(?i)verif|signature"):
        jw_jwt.JWT(jwt=tampered, key=public, algs=["EdDSA"], check_claims=False)
    # The JWT VC issuer metadata names the same key under the same kid.
    metadata = (await api.client.get(f"/api/v1/certificates/jwt-vc-issuer/institutes/{INSTITUTE}")).json()
    assert metadata["issuer"] == f"{PUBLIC_URL}/institutes/{INSTITUTE}"
    listed = {k["kid"]: k for k in metadata["jwks"]["keys"]}
    assert listed[header["kid"]]["x"] == key_of(api, cert.kid).public_jwk["x"]
    everyone = (await api.client.get("/api/v1/certificates/jwt-vc-issuer")).json()
    assert header["kid"] in {k["kid"] for k in everyone["jwks"]["keys"]}
    assert (await api.client.get("/api/v1/certificates/jwt-vc-issuer/institutes/nope")).status_code == 404


async def test_the_recipient_hash_carries_its_own_salt(certificates_api: CertificatesAPI) -> None:
    api = certificates_api
    first, second = api.issue(), api.issue(institute_id="i2")
    salts = set()
    for cert in (first, second):
        (identity,) = document(cert)["credentialSubject"]["identifier"]
        assert identity["type"] == "IdentityObject" and identity["hashed"] is True
        assert identity["identityType"] == "identifier"
        expected = hashlib.sha256(("teacher-1" + identity["salt"]).encode()).hexdigest()
        assert identity["identityHash"] == f"sha256${expected}"  # anyone told the id can confirm it
        salts.add(identity["salt"])
        assert "Aigerim" not in cert.credential_ld  # no name without the teacher's consent
    assert len(salts) == 2  # a salt per credential: two certificates are not linkable by their hash


async def test_the_holder_name_goes_in_when_the_teacher_allows_it(certificates_api: CertificatesAPI) -> None:
    api = certificates_api
    prefs = "/api/v1/certificates/holder-preferences"
    shown = (await api.client.get(prefs, headers=api.token())).json()
    assert shown == {"name_in_credential": False, "policy_default": False, "chosen": False}
    assert (await api.client.get(prefs, headers=api.admin())).status_code == 403
    assert (await api.client.get(prefs)).status_code == 401
    bad = await api.client.put(prefs, headers=api.token(), json={"name_in_credential": "maybe"})
    assert bad.status_code == 422
    assert (await api.client.get(prefs, headers=api.token())).json()["chosen"] is False
    without = api.issue()

    chosen = await api.client.put(prefs, headers=api.token(), json={"name_in_credential": True})
    assert chosen.status_code == 200 and chosen.json() == {
        "name_in_credential": True,
        "policy_default": False,
        "chosen": True,
    }
    named = api.issue(institute_id="i2")
    identities = document(named)["credentialSubject"]["identifier"]
    assert {
        "type": "IdentityObject",
        "identityType": "name",
        "hashed": False,
        "identityHash": "Aigerim Nurlanovna",
    } in identities
    verdict = await verify(api, document(named))
    assert verdict["status"] == "valid" and verdict["holder_name"] == "Aigerim Nurlanovna"
    assert (await verify(api, document(without)))["holder_name"] is None
    by_id = (await api.client.get(f"/api/v1/certificates/{named.id}/verification")).json()
    assert by_id["holder_name"] == "Aigerim Nurlanovna"


async def test_the_deployment_policy_puts_names_in_until_the_teacher_says_no(databases: Any) -> None:
    from libs.crypto import fernet
    from libs.db import create_db_engine

    engine = create_db_engine(databases.fresh("certificates"))
    box = fernet("policy-test-key")
    with session_scope(engine) as session:
        session.add(Issuer(institute_id=INSTITUTE, name="Институт"))
    how = service.Issuance(box, PUBLIC_URL, name_by_default=True)
    with session_scope(engine) as session:
        cert = service.issue_certificate(session, completion(), how)
        assert cert is not None and "Aigerim Nurlanovna" in cert.credential_ld
    from services.certificates import issuers
    from services.certificates.schemas import HolderPreferences

    with session_scope(engine) as session:
        issuers.set_holder_preferences(
            session, "teacher-1", HolderPreferences(name_in_credential=False), True
        )
    with session_scope(engine) as session:
        cert = service.issue_certificate(session, completion(), how)
        assert cert is not None and "Aigerim" not in cert.credential_ld
    engine.dispose()


async def test_on_plain_http_the_issuer_is_the_did_key_of_its_key(databases: Any) -> None:
    """Development (`make run` on http://127.0.0.1): no did:web, so the issuer is the did:key of the key
    that signs; after a rotation old certificates keep verifying and the status list still counts."""
    from libs.crypto import fernet
    from libs.db import create_db_engine

    engine = create_db_engine(databases.fresh("certificates"))
    box = fernet("did-key-test-key")
    how = service.Issuance(box, "http://127.0.0.1:8000")
    with session_scope(engine) as session:
        session.add(Issuer(institute_id=INSTITUTE, name="Институт"))
    with session_scope(engine) as session:
        old = service.issue_certificate(session, completion(), how)
        assert old is not None
        key = session.get(IssuerKey, old.kid)
        assert key is not None
        did = dids.did_key(key.public_jwk)
    credential = json.loads(old.credential_ld)
    assert credential["issuer"]["id"] == did and did.startswith("did:key:z6Mk")
    assert credential["proof"][0]["verificationMethod"] == f"{did}#{did.removeprefix('did:key:')}"
    assert (
        jwt.get_unverified_header(old.credential_jwt)["kid"] == credential["proof"][0]["verificationMethod"]
    )
    with session_scope(engine) as session:
        keys.rotate_key(session, INSTITUTE, box)
    with session_scope(engine) as session:
        new = service.issue_certificate(session, completion(enrolment_id="e-new"), how)
        assert new is not None
    with session_scope(engine, readonly=True) as session:
        for cert in (old, new):
            for form in (cert.credential_ld, cert.credential_jwt):
                verdict = verdicts.verify_token(session, form)
                assert verdict.status == "valid" and verdict.checks["status_list"] == "not revoked", (
                    verdict.reason
                )
    engine.dispose()

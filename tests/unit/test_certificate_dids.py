"""Pure pieces of the Data Integrity and DID work (docs/adr/0017): base58btc, Multikeys and did:key,
how a key reference becomes our kid, did:web of a public URL, the proof-options shortcut, and content
negotiation between the two secured forms."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.requests import Request

from libs.encoding import b58btc_decode, b58btc_encode, b64url_encode
from services.certificates import dids, integrity, keys, linked_data
from services.certificates.routes import prefers_linked_data


@pytest.mark.parametrize(
    "data,text",
    [
        (b"", ""),
        (b"\0", "1"),
        (b"\0\0\x01", "112"),
        (b"hello world", "StV1DL6CwTryKyV"),  # the Base58 draft's example
        (bytes.fromhex("0000287fb4cd"), "11233QC4"),  # the Base58 draft's example with leading zeros
    ],
)
def test_base58btc_round_trips_the_drafts_examples(data: bytes, text: str) -> None:
    assert b58btc_encode(data) == text and b58btc_decode(text) == data


def test_base58btc_refuses_characters_outside_the_alphabet() -> None:
    with pytest.raises(ValueError):
        b58btc_decode("0OIl")


def test_an_ed25519_multikey_is_z6mk_and_round_trips() -> None:
    raw = integrity.raw_from_private(Ed25519PrivateKey.generate())
    multibase = integrity.multikey(raw)
    assert multibase.startswith("z6Mk") and len(multibase) == 48
    assert integrity.raw_public_key(multibase) == raw
    for bad in ("6Mk", "z" + b58btc_encode(b"\x12\x00" + raw), "z" + b58btc_encode(b"\xed\x01" + raw[:31])):
        with pytest.raises(ValueError):
            integrity.raw_public_key(bad)


def test_key_references_become_our_kid() -> None:
    raw = integrity.raw_from_private(Ed25519PrivateKey.generate())
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    kid = keys.thumbprint(jwk["x"])
    did_key = dids.did_key(jwk)
    assert dids.kid_of(f"{did_key}#{did_key.removeprefix('did:key:')}") == kid
    assert dids.kid_of(f"did:web:ustaz.test:institutes:i1#{kid}") == kid
    assert dids.kid_of(kid) == kid  # certificates from before DIDs
    assert dids.kid_of("did:web:ustaz.test:institutes:i1") is None  # a DID, not a key
    assert dids.kid_of("did:key:z6MkNOPE#z6MkNOPE") is None
    assert dids.verification_method(did_key, kid, jwk) == f"{did_key}#{did_key.removeprefix('did:key:')}"
    assert dids.verification_method("did:web:h:institutes:i1", kid, jwk) == f"did:web:h:institutes:i1#{kid}"


@pytest.mark.parametrize(
    "public_url,did",
    [
        ("https://ustaz.example", "did:web:ustaz.example:institutes:i1"),
        ("https://ustaz.example/", "did:web:ustaz.example:institutes:i1"),
        ("https://ustaz.example:8443", "did:web:ustaz.example%3A8443:institutes:i1"),
        ("https://example.org/kz/ustaz", "did:web:example.org:kz:ustaz:institutes:i1"),
    ],
)
def test_did_web_of_a_public_url(public_url: str, did: str) -> None:
    assert dids.did_web(public_url, "i1") == did
    assert dids.institute_named(did) == "i1"


def test_the_issuer_is_did_web_on_https_and_the_keys_did_key_otherwise() -> None:
    jwk = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(integrity.raw_from_private(Ed25519PrivateKey.generate())),
    }
    assert dids.issuer_id("https://ustaz.example", "i1", jwk) == "did:web:ustaz.example:institutes:i1"
    assert dids.issuer_id("http://127.0.0.1:8000", "i1", jwk) == dids.did_key(jwk)
    assert dids.institute_named("https://ustaz.example/api/v1/certificates/issuers/i7") == "i7"
    assert dids.institute_named(dids.did_key(jwk)) is None


@pytest.mark.parametrize("created", ["2026-11-24T10:00:00Z", "1999-12-31T23:59:59Z", "2038-01-19T03:14:08Z"])
def test_the_proof_options_shortcut_equals_canonicalizing_them_whole(created: str) -> None:
    config = {
        "@context": [linked_data.VC_V2, linked_data.OB_V3],
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": created,
        "verificationMethod": "did:web:ustaz.test:institutes:i1#k1",
        "proofPurpose": "assertionMethod",
    }
    assert integrity._canonical_config(config) == linked_data.canonize(config)


def test_a_signed_document_verifies_and_a_changed_one_does_not() -> None:
    private = Ed25519PrivateKey.generate()
    document = {
        "@context": [linked_data.VC_V2],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000000",
        "type": ["VerifiableCredential"],
        "issuer": "did:web:ustaz.test:institutes:i1",
        "validFrom": "2026-11-24T10:00:00Z",
        "credentialSubject": {"id": "urn:uuid:00000000-0000-4000-8000-000000000001"},
    }
    signed = integrity.add_proof(
        document, private, "did:web:ustaz.test:institutes:i1#k1", "2026-11-24T10:00:00Z"
    )
    raw = integrity.raw_from_private(private)
    assert integrity.verify_proof(signed, raw)
    assert not integrity.verify_proof({**signed, "validFrom": "2026-11-25T10:00:00Z"}, raw)
    assert not integrity.verify_proof(signed, integrity.raw_from_private(Ed25519PrivateKey.generate()))
    with pytest.raises(integrity.ProofError, match="eddsa-jcs-2022"):
        integrity.verify_proof(
            {**signed, "proof": [{**signed["proof"][0], "cryptosuite": "eddsa-jcs-2022"}]}, raw
        )
    with pytest.raises(integrity.ProofError, match="not defined"):
        integrity.verify_proof({**signed, "undefinedTerm": 1}, raw)


def request(accept: str | None) -> Request:
    headers = [(b"accept", accept.encode())] if accept is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})


@pytest.mark.parametrize(
    "accept,linked",
    [
        (None, False),
        ("*/*", False),
        ("application/vc+jwt", False),
        ("application/vc+ld+json", True),
        ("application/ld+json, application/json", True),  # what the DCC's verifier sends
        ("application/json", True),
        ("application/vc+jwt, application/ld+json;q=0.5", False),
        ("application/vc+jwt;q=0.2, application/vc+ld+json", True),
        ("application/ld+json;q=0", False),
        ("application/ld+json;q=x", False),
    ],
)
def test_content_negotiation_between_the_two_forms(accept: str | None, linked: bool) -> None:
    assert prefers_linked_data(request(accept)) is linked


@pytest.mark.parametrize(
    "accept,page",
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),  # a browser
        ("text/html", True),
        (None, False),
        ("*/*", False),
        ("application/ld+json", False),
        ("application/json, text/html;q=0.5", False),
    ],
)
def test_people_get_the_page_and_machines_the_json_ld(accept: str | None, page: bool) -> None:
    from gateway.web.achievements import wants_page

    assert wants_page(request(accept)) is page

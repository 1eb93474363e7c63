"""Pure pieces of the Data Integrity and DID work (docs/adr/0017): base58btc, Multikeys and did:key,
how a key reference becomes our kid, did:web of a public URL, the proof-options shortcut, and content
negotiation between the two secured forms."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.requests import Request

from libs.encoding import b58btc_decode, b58btc_encode, b64url_encode
from services.certificates import dids, integrity, keys, linked_data, rdfc
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
    assert integrity._canonical_config(config) == rdfc._canonize_whole(config)


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


OB_CREDENTIAL = {
    "@context": [linked_data.VC_V2, linked_data.OB_V3],
    "id": "urn:uuid:c3cf9a82-d229-4865-964a-c1c9438974a2",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {"id": "did:web:ustaz.test:institutes:i1", "type": ["Profile"], "name": "Институт"},
    "validFrom": "2026-12-01T21:04:42Z",
    "name": "Формативное оценивание",
    "credentialSubject": {
        "id": "urn:uuid:0d7b6a0f-9526-5a3b-9c5c-35380a611bec",
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityType": "identifier",
                "hashed": True,
                "identityHash": "sha256$02fc1588",
                "salt": "salt",
            }
        ],
        "achievement": {
            "id": "https://ustaz.test/courses/c1/v/1/achievement",
            "type": ["Achievement"],
            "achievementType": "Course",
            "name": "Формативное оценивание",
            "criteria": {"narrative": "Every quiz passed."},
            "alignment": [
                {
                    "type": ["Alignment"],
                    "targetName": "II.KA.1",
                    "targetCode": "II.KA.1",
                    "targetUrl": "https://ustaz.test/frameworks/items/II.KA.1",
                    "targetType": "CFItem",
                }
            ],
        },
    },
    "credentialStatus": {
        "id": "https://ustaz.test/status-lists/i1#11773",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "11773",
        "statusListCredential": "https://ustaz.test/status-lists/i1",
    },
}
# An inline context with what JSON-LD rewrites while expanding: a compact IRI, a term as a @vocab
# value, a JSON literal, a language-tagged value.
INLINE = {
    "@context": {
        "ex": "https://example.test/vocab#",
        "kind": {"@id": "ex:kind", "@type": "@vocab"},
        "Good": "ex:Good",
        "link": {"@id": "ex:link", "@type": "@id"},
        "blob": {"@id": "ex:blob", "@type": "@json"},
        "label": {"@id": "ex:label", "@language": "kk"},
        "note": "ex:note",
    },
    "@id": "ex:thing",
    "kind": "Good",
    "link": "ex:other",
    "blob": {"a": "ex:thing", "b": [1, "two"]},
    "label": "Сәлем",
    "note": ["ex:thing", {"@value": "ex:thing", "@language": "ru"}, 'a "quoted"\nline'],
}


def _variants() -> list[Any]:
    """The documents, and each with strings changed in ways that must change (or keep) the RDF."""
    out: list[Any] = [OB_CREDENTIAL, INLINE]
    for name in ("", "same", "x:y", "https://x.test/a b", 'a "quoted"\nname', "\t", "Институт"):
        doc = json.loads(json.dumps(OB_CREDENTIAL))
        doc["name"] = name
        doc["credentialSubject"]["achievement"]["name"] = name  # equal strings in two places
        doc["credentialSubject"]["achievement"]["alignment"][0]["targetName"] = name or "II.KA.1"
        doc["issuer"]["id"] = "https://ustaz.test/issuers/i1" if name else "did:key:z6Mk"
        doc["credentialSubject"]["id"] = doc["id"] if name == "same" else doc["credentialSubject"]["id"]
        out.append(doc)
    for kind, link in (("Good", "ex:else"), ("ex:Bad", "https://example.test/x"), ("Other", "rel")):
        out.append({**INLINE, "kind": kind, "link": link, "note": [kind, link]})
    return out


@pytest.mark.parametrize("document", _variants())
def test_canonicalizing_from_a_shape_template_equals_canonicalizing_whole(document: Any) -> None:
    """rdfc.canonize turns a document into RDF once per shape (keys, types, which strings are equal)
    and puts each document's strings in place; the canonical N-Quads must be pyld's for the document
    itself, byte for byte, in every case above (run twice: the template made, then reused)."""
    whole = rdfc._canonize_whole(document)
    assert rdfc.canonize(document) == whole
    assert rdfc.canonize(document) == whole


def test_a_template_refuses_what_the_whole_canonicalization_refuses() -> None:
    for bad in ({**OB_CREDENTIAL, "undefinedTerm": "x"}, {**OB_CREDENTIAL, "@context": ["https://x.test/c"]}):
        with pytest.raises(linked_data.NotLinkedData):
            rdfc.canonize(bad)


def test_credentials_differing_only_in_their_strings_share_one_template() -> None:
    first = {**OB_CREDENTIAL, "name": "A course", "id": "urn:uuid:00000000-0000-4000-8000-00000000000a"}
    second = {
        **OB_CREDENTIAL,
        "name": "Another course",
        "id": "urn:uuid:00000000-0000-4000-8000-00000000000b",
    }
    rdfc.canonize(first)
    made = len(rdfc._TEMPLATES)
    assert rdfc.canonize(second) == rdfc._canonize_whole(second)
    assert len(rdfc._TEMPLATES) == made and not rdfc._KEPT & {("name",), ("id",)}


def test_what_documents_teach_the_templates_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A verifier canonicalizes documents from outside: once the kept members are at their bound, a
    document that would teach more is canonicalized whole (the same answer, nothing learned)."""
    monkeypatch.setattr(rdfc, "_KEPT", set())
    monkeypatch.setattr(rdfc, "_KEPT_MAX", 0)
    document = {**INLINE, "note": ["ex:other-thing"]}
    assert rdfc.canonize(document) == rdfc._canonize_whole(document)
    assert rdfc._KEPT == set()

"""Issuers as DIDs (docs/adr/0017). With an HTTPS public URL an institute is
`did:web:<host>[:<path>]:institutes:<id>`, whose DID document is served at
`<public>/institutes/<id>/did.json` and lists every key it ever signed with; on plain HTTP
(development) there is no did:web, so the issuer is the `did:key` of the key that signs. A key is named
in a credential by a DID URL: `<did:web>#<kid>` (kid: the key's RFC 7638 thumbprint) or
`did:key:z6Mk…#z6Mk…`. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from libs.encoding import b64url_decode, b64url_encode
from services.certificates import integrity, linked_data
from services.certificates.keys import thumbprint


def is_https(public_url: str) -> bool:
    return urlsplit(public_url).scheme == "https"


def did_web(public_url: str, institute_id: str) -> str:
    """did:web of the institute under the public URL (a port is percent-encoded, path segments are
    colon-separated, as the did:web method says)."""
    parts = urlsplit(public_url)
    segments = [quote(s, safe="") for s in parts.path.split("/") if s]
    return ":".join(
        ["did:web", quote(parts.netloc, safe=""), *segments, "institutes", quote(institute_id, safe="")]
    )


def did_key(public_jwk: dict[str, Any]) -> str:
    return "did:key:" + multikey_of(public_jwk)


def multikey_of(public_jwk: dict[str, Any]) -> str:
    return integrity.multikey(b64url_decode(str(public_jwk["x"])))


def issuer_id(public_url: str, institute_id: str, public_jwk: dict[str, Any]) -> str:
    """The issuer a credential signed with this key names: did:web on HTTPS, else the key's did:key."""
    return did_web(public_url, institute_id) if is_https(public_url) else did_key(public_jwk)


def verification_method(issuer: str, kid: str, public_jwk: dict[str, Any]) -> str:
    """The DID URL of the key under the issuer's DID."""
    if issuer.startswith("did:key:"):
        return f"{issuer}#{issuer.removeprefix('did:key:')}"
    return f"{issuer}#{kid}"


def kid_of(reference: str) -> str | None:
    """Our kid (the key's thumbprint) from the way a credential names its key: a DID URL whose fragment
    is the kid or the key's Multikey, or (certificates from before DIDs) the bare kid."""
    fragment = reference.rsplit("#", 1)[1] if "#" in reference else reference
    if reference.startswith("did:") and "#" not in reference:
        return None
    if fragment.startswith("z6Mk"):
        try:
            return thumbprint(b64url_encode(integrity.raw_public_key(fragment)))
        except ValueError:
            return None
    return fragment or None


def controller_of(reference: str) -> str:
    """The DID a key reference belongs to (the part before `#`)."""
    return reference.split("#", 1)[0]


def institute_named(issuer: str) -> str | None:
    """The institute an issuer id names by itself: a did:web under `institutes`, or the issuer URL of
    certificates from before DIDs (`…/issuers/<id>`). A did:key names a key, not an institute."""
    if issuer.startswith("did:web:") and ":institutes:" in issuer:
        return issuer.rsplit(":institutes:", 1)[1] or None
    if issuer.startswith("http") and "/issuers/" in issuer:
        return issuer.rsplit("/issuers/", 1)[1] or None
    return None


@dataclass(frozen=True)
class PublishedKey:
    kid: str
    public_jwk: dict[str, Any]
    retired_at: datetime | None
    compromised_at: datetime | None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def did_document(did: str, keys: Iterable[PublishedKey]) -> dict[str, Any]:
    """The institute's DID document: every key as a Multikey verification method. Keys in force and
    retired ones are assertion methods (what they signed stays valid); a key withdrawn as compromised
    stays listed with `revoked` (its history is kept) but is no longer an assertion method, so no
    verifier accepts what it signs."""
    methods, assertion = [], []
    for key in keys:
        method: dict[str, Any] = {
            "id": f"{did}#{key.kid}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": multikey_of(key.public_jwk),
        }
        if key.compromised_at is not None:
            method["revoked"] = _stamp(key.compromised_at)
        else:
            assertion.append(method["id"])
        methods.append(method)
    return {
        "@context": [linked_data.DID_V1, linked_data.MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": assertion,
    }

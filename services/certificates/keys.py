"""Institutes' Ed25519 signing keys: made, rotated, and used to sign (docs/adr/0004, 0006). The private
half is stored encrypted with Fernet; the public half is published as a JWK whose kid is its
RFC 7638 thumbprint."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import jwt
from cachetools import LRUCache
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from libs.encoding import b64url_encode
from libs.outbox import utcnow
from services.certificates import repository
from services.certificates.models import IssuerKey


def thumbprint(x: str) -> str:
    """The RFC 7638 thumbprint of an Ed25519 public key (`x`: its raw bytes, base64url): our kid."""
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": x}
    return b64url_encode(
        hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest()
    )


def create_key(session: Session, institute_id: str, box: Fernet) -> IssuerKey:
    private = Ed25519PrivateKey.generate()
    raw_public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(raw_public)}
    kid = thumbprint(jwk["x"])
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = IssuerKey(
        kid=kid,
        institute_id=institute_id,
        private_key_encrypted=box.encrypt(pem),
        public_jwk={**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"},
    )
    session.add(key)
    session.flush()
    return key


def rotate_key(session: Session, institute_id: str, box: Fernet) -> IssuerKey:
    """A new signing key; the old one is retired but stays published, so its certificates verify."""
    current = repository.signing_key(session, institute_id)
    if current is not None:
        current.retired_at = utcnow()
        session.add(current)
    return create_key(session, institute_id, box)


def signing_key(session: Session, institute_id: str, box: Fernet) -> IssuerKey:
    """The institute's active key, made on first use."""
    return repository.signing_key(session, institute_id) or create_key(session, institute_id, box)


_DECRYPTED: LRUCache[tuple[str, bytes], tuple[Fernet, Ed25519PrivateKey]] = LRUCache(maxsize=64)


def private_key(key: IssuerKey, box: Fernet) -> Ed25519PrivateKey:
    """The key's private half, decrypted once per process and box (issuance signs twice per
    certificate; decrypting and parsing the key was a tenth of it)."""
    cached = _DECRYPTED.get((key.kid, key.private_key_encrypted))
    if cached is not None and cached[0] is box:
        return cached[1]
    loaded = serialization.load_pem_private_key(box.decrypt(key.private_key_encrypted), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise TypeError(f"issuer key {key.kid} is not an Ed25519 key")
    _DECRYPTED[(key.kid, key.private_key_encrypted)] = (box, loaded)
    return loaded


def sign_jwt(
    claims: dict[str, Any],
    key: IssuerKey,
    box: Fernet,
    typ: str,
    json_encoder: type[json.JSONEncoder] | None = None,
    kid: str | None = None,
    private: Ed25519PrivateKey | None = None,
) -> str:
    """A JWT over `claims`, EdDSA with the key, naming it (`kid`: the key's id, or the DID URL given)
    and its kind (`typ`)."""
    return jwt.encode(
        claims,
        private or private_key(key, box),
        algorithm="EdDSA",
        headers={"kid": kid or key.kid, "typ": typ},
        json_encoder=json_encoder,
    )

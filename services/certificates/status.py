"""Bitstring Status List v1.0 (W3C): the bits, their encoding, the signed list credential, and the
check a verifier makes against it. Pure functions, except the ones taking a Session."""

from __future__ import annotations

import base64
import functools
import gzip
import io
import secrets
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

import jwt
from cryptography.fernet import Fernet
from sqlmodel import Session

from libs.encoding import b64url_encode
from libs.outbox import utcnow
from services.certificates import dids, linked_data, repository, secured
from services.certificates.models import IssuerKey, StatusList
from services.certificates.verification.model import TrustedKey

LIST_LENGTH = 131_072  # bits: the spec's minimum, so one set bit says nothing about who it is
STATUS_TYPE = "BitstringStatusListCredential"
ENTRY_TYPE = "BitstringStatusListEntry"


class StatusListError(Exception):
    """The status list could not be trusted (forged, malformed, or from someone else)."""


def encode_list(bits: bytes) -> str:
    """Multibase base64url (prefix `u`, no padding) of the GZIP-compressed bitstring."""
    packed = gzip.compress(bits, compresslevel=9, mtime=0)
    return "u" + b64url_encode(packed)


def decode_list(encoded: str) -> bytes:
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise StatusListError("The status list's encodedList is not multibase base64url ('u' prefix).")
    body = encoded[1:]
    try:
        packed = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
        # A 16 KiB bitstring compresses to very little; refuse a decompression bomb.
        with gzip.GzipFile(fileobj=io.BytesIO(packed)) as f:
            bits = f.read(LIST_LENGTH // 8 * 64 + 1)
    except (ValueError, OSError, EOFError, zlib.error) as exc:
        raise StatusListError("The status list's encodedList is not valid GZIP base64url.") from exc
    if len(bits) > LIST_LENGTH // 8 * 64:
        raise StatusListError("The status list is implausibly long.")
    if not bits:
        raise StatusListError("The status list is empty.")
    return bits


def bit(bits: bytes, index: int) -> bool:
    """Index 0 is the left-most (most significant) bit of the first byte, as the spec says."""
    if index < 0 or index >= len(bits) * 8:
        raise StatusListError(f"The status index {index} is outside the list of {len(bits) * 8} entries.")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def set_bit(bits: bytes, index: int) -> bytes:
    buf = bytearray(bits)
    buf[index // 8] |= 0x80 >> (index % 8)
    return bytes(buf)


def list_url(public_url: str, institute_id: str) -> str:
    return f"{public_url.rstrip('/')}/api/v1/certificates/status-lists/{institute_id}"


def entry(public_url: str, institute_id: str, index: int) -> dict[str, Any]:
    url = list_url(public_url, institute_id)
    return {
        "id": f"{url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def status_list_credential(status: StatusList, issuer_id: str, public_url: str) -> dict[str, Any]:
    url = list_url(public_url, status.institute_id)
    return {
        "@context": [linked_data.VC_V2],
        "id": url,
        "type": ["VerifiableCredential", STATUS_TYPE],
        "issuer": issuer_id,
        "validFrom": status.updated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status.purpose,
            "ttl": 60_000,
            "encodedList": encode_list(status.bits),
        },
    }


def get_or_create(session: Session, institute_id: str) -> StatusList:
    status = repository.status_list(session, institute_id)
    if status is None:
        status = StatusList(institute_id=institute_id, length=LIST_LENGTH, bits=bytes(LIST_LENGTH // 8))
        session.add(status)
        session.flush()
    return status


def allocate_index(session: Session, institute_id: str, length: int) -> int:
    """A random index not yet used in the institute's list of `length` bits (random, so an index
    reveals no order)."""
    for _ in range(64):
        index = secrets.randbelow(length)
        if not repository.status_index_taken(session, institute_id, index):
            return index
    raise RuntimeError(f"the status list of {institute_id} is nearly full")


def sign_list(status: StatusList, key: IssuerKey, box: Fernet, issuer_id: str, public_url: str) -> None:
    """Sign the list in both forms (a VC-JWT and JSON-LD with a Data Integrity proof) with `key`;
    `issuer_id` is the issuer that key signs for (dids.issuer_id)."""
    signed = secured.sign(status_list_credential(status, issuer_id, public_url), key, box)
    status.credential_jwt, status.credential_ld = signed.jwt, signed.linked_data
    status.kid = key.kid


def flip(
    session: Session,
    institute_id: str,
    index: int,
    key: IssuerKey,
    box: Fernet,
    issuer_id: str,
    public_url: str,
) -> None:
    """Set a certificate's revocation bit and re-sign the list, in the caller's transaction."""
    status = get_or_create(session, institute_id)
    status.bits = set_bit(status.bits, index)
    status.updated_at = utcnow()
    sign_list(status, key, box, issuer_id, public_url)
    session.add(status)


@functools.lru_cache(maxsize=256)
def _header(list_jwt: str) -> dict[str, Any]:
    # Remembered: PyJWT checks a token's base64 character by character in Python, ~1 ms for a list.
    try:
        return jwt.get_unverified_header(list_jwt)
    except jwt.InvalidTokenError as exc:
        raise StatusListError("The status list is not a well-formed signed credential.") from exc


@functools.lru_cache(maxsize=256)
def unverified_claims(list_jwt: str) -> dict[str, Any]:
    """A list's claims before its signature is checked (to find its id and issuer); remembered."""
    try:
        claims = jwt.decode(list_jwt, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise StatusListError("The status list is not a well-formed signed credential.") from exc
    return claims if isinstance(claims, dict) else {}


@functools.lru_cache(maxsize=256)
def _verified_list(list_jwt: str, public_x: str) -> tuple[dict[str, Any], bytes]:
    """The list's claims and bits once its signature checks out with the key (raw Ed25519 `x`).
    Remembered: every verification against the same list would otherwise verify and unzip it again."""
    key = jwt.PyJWK({"kty": "OKP", "crv": "Ed25519", "x": public_x}, algorithm="EdDSA").key
    try:
        claims = jwt.decode(
            list_jwt, key, algorithms=["EdDSA"], options={"verify_aud": False, "require": ["iss"]}
        )
    except jwt.InvalidTokenError as exc:
        raise StatusListError(
            "The status list's signature does not match: it was altered or forged."
        ) from exc
    subject = claims.get("credentialSubject")
    if not isinstance(subject, dict):
        raise StatusListError("The status list has no credentialSubject.")
    return claims, decode_list(subject.get("encodedList", ""))


def check(
    list_jwt: str,
    entry: Mapping[str, Any],
    names_issuer: Callable[[object], bool],
    keys: Mapping[str, TrustedKey],
) -> bool:
    """True if the entry's bit is set (revoked). Raises StatusListError if the list cannot be trusted:
    it must be signed by a published, uncompromised key of the credential's own issuer, name that issuer
    (`names_issuer`: the same institute, whichever of its identifiers the list uses), be a revocation
    list of at least 131,072 entries, and be the list the entry points to."""
    header = _header(list_jwt)
    reference = header.get("kid")
    kid = dids.kid_of(reference) if isinstance(reference, str) else None
    key = keys.get(kid) if kid is not None else None
    if header.get("alg") != "EdDSA" or key is None:
        raise StatusListError("The status list is not signed by a key of the credential's issuer.")
    if key.compromised:
        raise StatusListError("The status list is signed by a key withdrawn as compromised.")
    claims, bits = _verified_list(list_jwt, key.public_jwk["x"])
    if claims.get("iss") != claims.get("issuer") or not names_issuer(claims.get("iss")):
        raise StatusListError("The status list names an issuer other than the credential's.")
    if STATUS_TYPE not in (claims.get("type") or []) or claims.get("id") != entry.get("statusListCredential"):
        raise StatusListError("The status list is not the one the credential points to.")
    subject = claims.get("credentialSubject") or {}
    if subject.get("statusPurpose") != entry.get("statusPurpose"):
        raise StatusListError("The status list has another purpose than the credential's entry.")
    if len(bits) * 8 < LIST_LENGTH:
        raise StatusListError("The status list is shorter than 131,072 entries.")
    try:
        index = int(entry.get("statusListIndex", ""))
    except (ValueError, TypeError) as exc:
        raise StatusListError("The credential's statusListIndex is not a number.") from exc
    return bit(bits, index)

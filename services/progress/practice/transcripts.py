"""The signed CPD transcript (docs/practice.md): the transcript's figures frozen as a record, signed as
an EdDSA JWS (the QR code's payload, like a certificate's compact form) and printed as a PDF whose
SHA-256 is kept, so a verifier can check the QR code, the link or the file itself.

The key is Ed25519, derived from `USTAZ_CPD_SIGNING_SECRET` (every replica agrees; no key table);
its public half is published as a JWK, so the QR code's form verifies offline too.
"""

from __future__ import annotations

import functools
import hashlib
import json

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from libs.auth import Principal
from libs.encoding import b64url_encode
from services.progress.practice import repository, transcript_pdf, webinars
from services.progress.practice.models import TranscriptFile, TranscriptRecord
from services.progress.practice.schemas import TranscriptCheck, TranscriptFigures, TranscriptVerdict
from services.progress.practice.settings import get_practice_settings

TYP = "ustaz-cpd-transcript+jwt"


@functools.lru_cache(maxsize=4)
def _key(secret: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(b"ustaz cpd transcript v1\n" + secret.encode()).digest()
    )


def signing_key() -> Ed25519PrivateKey:
    return _key(get_practice_settings().cpd_signing_secret)


def public_jwk() -> dict[str, str]:
    raw = signing_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = b64url_encode(raw)
    kid = b64url_encode(
        hashlib.sha256(
            json.dumps(
                {"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True
            ).encode()
        ).digest()
    )
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}


def _claims(row: TranscriptRecord) -> dict[str, object]:
    return {
        "jti": row.id,
        "sub": row.user_id,
        "name": row.name,
        "iat": int(row.issued_at.timestamp()),
        "cycle": [row.cycle_start.date().isoformat(), row.cycle_end.date().isoformat()],
        "required": row.required_hours,
        "total": row.total_hours,
        "hours": row.by_kind,
    }


def figures(row: TranscriptRecord) -> TranscriptFigures:
    return TranscriptFigures(
        id=row.id,
        name=row.name,
        issued_at=row.issued_at,
        cycle_start=row.cycle_start,
        cycle_end=row.cycle_end,
        required_hours=row.required_hours,
        total_hours=row.total_hours,
        by_kind=row.by_kind,
    )


def issue(session: Session, user: Principal) -> TranscriptRecord:
    """The teacher's transcript of the current cycle as a signed record; the same figures as their
    latest one reuse it (downloading again issues nothing new)."""
    record = webinars.transcript(session, user.id)
    body = [
        user.name,
        record.cycle_start.isoformat(),
        record.required_hours,
        record.total_hours,
        record.by_kind,
    ]
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    latest = repository.latest_transcript(session, user.id)
    if latest is not None and latest.digest == digest:
        return latest
    row = TranscriptRecord(
        user_id=user.id,
        name=user.name,
        digest=digest,
        cycle_start=record.cycle_start,
        cycle_end=record.cycle_end,
        required_hours=record.required_hours,
        total_hours=record.total_hours,
        by_kind=record.by_kind,
        token="",
    )
    row.issued_at = row.issued_at.replace(microsecond=0)
    row.token = jwt.encode(
        _claims(row), signing_key(), algorithm="EdDSA", headers={"typ": TYP, "kid": public_jwk()["kid"]}
    )
    session.add(row)
    session.flush()
    return row


QR_MAX = 1800  # characters a QR code (error correction M) holds comfortably on a printed page


def qr_payload(base: str, row: TranscriptRecord) -> str:
    """The link with the signed form; the link alone when the form is too long for a QR code (a very
    long name: the form stays in the PDF's keywords, the link answers from the record)."""
    link = f"{base}/verify/transcripts/{row.id}"
    with_token = f"{link}?t={row.token}"
    return with_token if len(with_token) <= QR_MAX else link


def pdf_of(session: Session, user: Principal, lang: str, public_url: str) -> tuple[bytes, TranscriptRecord]:
    """The printable signed transcript; its hash is kept so the file itself can be verified."""
    row = issue(session, user)
    base = public_url.rstrip("/")
    data = transcript_pdf.render(
        transcript_pdf.Sheet(
            lang=lang,
            figures=figures(row),
            verify_url=f"{base}/verify/transcripts/{row.id}",
            qr_payload=qr_payload(base, row),
            token=row.token,
        )
    )
    sha = hashlib.sha256(data).hexdigest()
    if session.get(TranscriptFile, sha) is None:
        session.add(TranscriptFile(sha256=sha, transcript_id=row.id))
    return data, row


def verify_id(session: Session, transcript_id: str) -> TranscriptVerdict:
    row = repository.transcript(session, transcript_id)
    if row is None:
        return TranscriptVerdict(status="unknown", reason="unknown")
    return TranscriptVerdict(status="valid", reason="issued", transcript=figures(row))


def verify(session: Session, check: TranscriptCheck) -> TranscriptVerdict:
    """The QR code's signed form and/or a PDF's hash. A form that does not verify, or whose figures
    are not the record's, is invalid; a file not byte for byte as issued is invalid (with the signed
    figures it carries, for comparison)."""
    signed: TranscriptRecord | None = None
    if check.token:
        signed = _signed(session, check.token)
        if signed is None:
            return TranscriptVerdict(status="invalid", reason="signature")
    if check.pdf_sha256:
        file = session.get(TranscriptFile, check.pdf_sha256)
        row = repository.transcript(session, file.transcript_id) if file else None
        if row is None or (signed is not None and signed.id != row.id):
            shown = figures(signed) if signed else None
            return TranscriptVerdict(
                status="invalid", reason="altered_file" if signed else "not_issued", transcript=shown
            )
        return TranscriptVerdict(status="valid", reason="issued", transcript=figures(row))
    if signed is None:
        return TranscriptVerdict(status="unknown", reason="unknown")
    return TranscriptVerdict(status="valid", reason="signed", transcript=figures(signed))


def _signed(session: Session, token: str) -> TranscriptRecord | None:
    """The record a signed form names, if its signature holds and it states the record's figures."""
    try:
        claims = jwt.decode(
            token, signing_key().public_key(), algorithms=["EdDSA"], options={"require": ["jti"]}
        )
    except jwt.InvalidTokenError:
        return None
    row = repository.transcript(session, str(claims["jti"]))
    if row is None or claims != _claims(row):
        return None
    return row

"""Verdicts over this service's own records: the verification pipeline (verification/) fed from the
database (keys, the certificate, the institute's signed status list), for a certificate by id or by
its printed number, and for whatever a verifier pastes (parse_pasted)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from libs import jsontext
from libs.errors import Unprocessable
from services.certificates import credentials, repository
from services.certificates.models import IssuerKey
from services.certificates.schemas import Verdict
from services.certificates.verification import formats, pipeline, reasons
from services.certificates.verification.model import Decoded, Outcome, Record, TrustedKey


def _trusted(key: IssuerKey) -> TrustedKey:
    return TrustedKey(
        kid=key.kid,
        institute_id=key.institute_id,
        public_jwk=key.public_jwk,
        compromised=key.compromised_at is not None,
        compromised_at=key.compromised_at,
    )


@dataclass
class _Registry:
    """The verification pipeline's sources when the service itself verifies: its own database."""

    session: Session
    holds_records: bool = True

    def keys(self, decoded: Decoded) -> dict[str, TrustedKey]:
        key = repository.key(self.session, decoded.kid)
        return {decoded.kid: _trusted(key)} if key is not None else {}

    def institute_keys(self, institute_id: str) -> dict[str, TrustedKey]:
        return {k.kid: _trusted(k) for k in repository.issuer_keys(self.session, institute_id)}

    def record(self, certificate_id: str) -> Record | None:
        cert = repository.certificate(self.session, certificate_id)
        if cert is None:
            return None
        issuer = repository.issuer(self.session, cert.institute_id)
        return Record(
            certificate_id=cert.id,
            institute_id=cert.institute_id,
            number=cert.number,
            course_title=cert.course_title,
            issuer_name=issuer.name if issuer else "",
            issued_at=cert.issued_at,
            revoked_at=cert.revoked_at,
            revocation_reason=cert.revocation_reason,
            superseded_by=cert.superseded_by,
        )

    def status_list(self, institute_id: str) -> str | None:
        row = repository.status_list(self.session, institute_id)
        return row.credential_jwt if row is not None and row.credential_jwt else None


def _verdict(outcome: Outcome) -> Verdict:
    record, credential = outcome.record, outcome.credential
    summary: dict[str, Any] = {}
    if record is not None and credential is not None:
        summary = {
            "certificate_id": record.certificate_id,
            "number": record.number,
            "course_title": record.course_title,
            "issuer": record.issuer_name,
            "issued_at": record.issued_at,
            "holder_name": credentials.holder_name(credential.claims),
            "credential": credential.claims,
        }
        if outcome.finding.code == "superseded":
            summary["superseded_by"] = record.superseded_by
    return Verdict(
        status=outcome.status,
        reason=reasons.reason(reasons.ONLINE, outcome.finding),
        checks=outcome.checks,
        **summary,
    )


def verify_token(session: Session, token: str) -> Verdict:
    """Check a credential (JSON-LD with a Data Integrity proof, a VC-JWT, or the compact QR form): its
    key, its signature, then the certificate's status in our records and in the institute's signed
    status list (verification/pipeline.py)."""
    return _verdict(pipeline.verify(token, _Registry(session), now=datetime.now(UTC)))


def verify_pasted(session: Session, text: str) -> Verdict:
    """As verify_token; a JSON document that is not a credential at all is refused (422), not judged."""
    outcome = pipeline.verify(text, _Registry(session), now=datetime.now(UTC))
    if outcome.finding.code == "malformed" and text.lstrip().startswith("{"):
        raise Unprocessable(reasons.reason(reasons.ONLINE, outcome.finding))
    return _verdict(outcome)


def verify_number(session: Session, number: str) -> Verdict:
    """The verdict for the number printed on a certificate (`2026-D915EFAC`), as for its id."""
    cert = repository.current_by_number(session, number.strip().upper())
    if cert is None:
        return Verdict(status="unknown", reason="There is no certificate with this number.")
    return verify_token(session, cert.credential_jwt)


def verify_certificate(session: Session, certificate_id: str) -> Verdict:
    cert = repository.certificate(session, certificate_id)
    if cert is None:
        return Verdict(status="unknown", reason="There is no certificate with this id.")
    return verify_token(session, cert.credential_jwt)


def parse_pasted(text: str) -> str:
    """A verifier pastes a JWT, the QR code's URL (`…/verify/c/<compact>`), a JSON-LD credential with its
    Data Integrity proof, or a JSON document holding either (`{"credential": ...}`, `{"jwt": "..."}` or
    `{"proof": {"jwt": "..."}}`)."""
    text = text.strip()
    if text.startswith("{"):
        try:
            doc = jsontext.loads(text)
        except ValueError as exc:
            raise Unprocessable("The pasted text is neither a JWT nor valid JSON.") from exc
        token = None
        if isinstance(doc, dict):
            proof, inner = doc.get("proof"), doc.get("credential")
            if (
                "@context" in doc
                and isinstance(proof, dict | list)
                and not (isinstance(proof, dict) and "jwt" in proof)
            ):
                return text  # a JSON-LD credential with an embedded proof
            if isinstance(inner, dict):
                return json.dumps(inner, ensure_ascii=False)
            token = inner or doc.get("jwt") or (proof.get("jwt") if isinstance(proof, dict) else None)
        if not isinstance(token, str):
            raise Unprocessable(
                "The JSON does not hold a signed credential under 'credential', 'jwt' or 'proof.jwt'; "
                "a credential without its signature cannot be checked."
            )
        return token.strip()
    return formats.compact_from(text)

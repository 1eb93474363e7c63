"""The verification steps every format shares, and `verify`, which runs them in order. Each step is a
pure function of what it is given; `verify` asks the Sources for keys, the record and the status list
between them. docs/certificates.md ("Verdicts") says the same in words."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime

from services.certificates import status
from services.certificates.verification import formats
from services.certificates.verification.model import (
    Credential,
    Finding,
    Outcome,
    Record,
    Sources,
    StatusCheck,
    StatusRef,
    TrustedKey,
)


def find_key(kid: str, keys: Mapping[str, TrustedKey]) -> TrustedKey | Finding:
    """The key the credential names, among those that may have signed it: active or retired keys are
    trusted, a key withdrawn as compromised is not."""
    key = keys.get(kid)
    if key is None:
        return Finding("unknown_key")
    if key.compromised:
        return Finding("compromised_key", {"on": key.compromised_at})
    return key


def check_issuer(credential: Credential, key: TrustedKey) -> Finding | None:
    """The credential names the key's owner as its issuer."""
    return None if credential.issuer == key.institute_id else Finding("issuer_mismatch")


def check_dates(credential: Credential, now: datetime) -> Finding | None:
    """A validUntil, if the credential has one, is a date and not past (we issue none; imported
    credentials may)."""
    until = credential.valid_until
    if not isinstance(until, str):
        return None
    try:
        moment = datetime.fromisoformat(until.replace("Z", "+00:00"))
    except ValueError:
        return Finding("bad_valid_until")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Finding("expired", {"until": until}) if moment < now else None


def check_record(record: Record | None, key: TrustedKey) -> Finding | None:
    """The registry has the certificate, issued by the key's owner."""
    if record is None or record.institute_id != key.institute_id:
        return Finding("no_record")
    return None


def check_status(
    ref: StatusRef, list_jwt: str, keys: Mapping[str, TrustedKey], institute_id: str
) -> StatusCheck:
    """The credential's bit in its issuer's signed status list (status.check says when a list is
    trusted). A list naming another issuer is not."""
    entry, issuer_url = dict(ref.entry), ref.issuer_url
    try:
        if issuer_url is None:  # the institute's own list: its URL and issuer from the list itself
            own = status.unverified_claims(list_jwt)
            entry["statusListCredential"], issuer_url = own.get("id"), own.get("iss")
        if not str(issuer_url).endswith(f"/issuers/{institute_id}"):
            raise status.StatusListError("The status list names an issuer other than the credential's.")
        revoked = status.check(list_jwt, entry, str(issuer_url), keys)
    except status.StatusListError as exc:
        return StatusCheck("untrusted", str(exc))
    return StatusCheck("revoked" if revoked else "not revoked")


def verdict(
    credential: Credential,
    record: Record | None,
    listed: StatusCheck,
    dates: Finding | None,
    checks: dict[str, str],
) -> Outcome:
    """What the checks add up to. An untrusted status list refuses the credential, unless the registry
    already says it is no longer in force; then, in order: the registry (revoked, superseded), the
    list's bit, the dates."""
    checks = {**checks, "status_list": listed.result}

    def outcome(finding: Finding) -> Outcome:
        return Outcome(finding, checks, credential, record)

    if listed.result == "untrusted" and (record is None or record.in_force):
        return outcome(Finding("status_untrusted", {"detail": listed.detail}))
    if record is not None:
        checks["registry"] = "not revoked" if record.in_force else "revoked"
        if record.revoked_at is not None:
            return outcome(Finding("revoked", {"on": record.revoked_at, "reason": record.revocation_reason}))
        if record.superseded_by is not None:
            return outcome(Finding("superseded", {"by": record.superseded_by, "number": record.number}))
    if listed.result == "revoked":
        return outcome(Finding("listed_revoked"))
    if dates is not None:
        return outcome(dates)
    return outcome(Finding("valid" if listed.result == "not revoked" else "valid_unchecked"))


def _status(credential: Credential, sources: Sources, institute_id: str) -> StatusCheck:
    """The status step with what it reads: the issuer's list and keys, if the credential is listed."""
    if credential.status is None:
        return StatusCheck("not listed")
    list_jwt = sources.status_list(institute_id)
    if list_jwt is None:
        if sources.holds_records:
            return StatusCheck("untrusted", "The institute publishes no status list.")
        return StatusCheck("not checked")
    return check_status(credential.status, list_jwt, sources.institute_keys(institute_id), institute_id)


def verify(
    presented: str,
    sources: Sources,
    *,
    now: datetime,
    forms: Collection[str] = formats.FORMS,
) -> Outcome:
    """decode → find the key → check the signature → check the claims → find the record → check the
    status → verdict. `forms`: the formats this verifier takes (an offline one, only the compact)."""
    decoded = formats.decode(presented)
    if isinstance(decoded, Finding):
        return Outcome(decoded)
    if decoded.format.name not in forms:
        return Outcome(Finding("unsupported"))
    keys = sources.keys(decoded)
    key = keys if isinstance(keys, Finding) else find_key(decoded.kid, keys)
    if isinstance(key, Finding):
        return Outcome(key)
    credential = decoded.format.verify_signature(decoded, key)
    if isinstance(credential, Finding):
        return Outcome(credential)
    mismatch = check_issuer(credential, key)
    if mismatch is not None:
        return Outcome(mismatch)
    record = None
    if sources.holds_records:
        record = sources.record(credential.certificate_id)
        missing = check_record(record, key)
        if missing is not None:
            return Outcome(missing)
    checks = {"signature": "valid", "form": decoded.format.name}
    listed = _status(credential, sources, key.institute_id)
    return verdict(credential, record, listed, check_dates(credential, now), checks)

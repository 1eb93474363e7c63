"""The certificate verification pipeline (services/certificates/verification/), step by step and end to
end, over an in-memory world of keys, records and status lists: one row per verdict reason."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.crypto import fernet
from libs.encoding import b64url_encode
from services.certificates import credentials, keys, offline, status
from services.certificates.models import Certificate, Issuer, IssuerKey, StatusList
from services.certificates.verification import formats, pipeline, reasons
from services.certificates.verification.model import (
    STATUS,
    Credential,
    Decoded,
    Finding,
    Record,
    StatusCheck,
    StatusRef,
    TrustedKey,
)

BOX = fernet("unit-test-key-encryption-key")
URL = "https://ustaz.test"
NOW = datetime(2027, 3, 1, tzinfo=UTC)
ISSUED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def issuer_key(institute_id: str, kid: str) -> IssuerKey:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw), "kid": kid, "alg": "EdDSA"}
    return IssuerKey(
        kid=kid, institute_id=institute_id, private_key_encrypted=BOX.encrypt(pem), public_jwk=jwk
    )


def trusted(key: IssuerKey, compromised_at: datetime | None = None) -> TrustedKey:
    return TrustedKey(
        key.kid, key.institute_id, key.public_jwk, compromised_at is not None, compromised_at=compromised_at
    )


KEY, RETIRED, OTHER = issuer_key("i1", "k1"), issuer_key("i1", "k0"), issuer_key("i2", "k2")
ISSUER = Issuer(institute_id="i1", name="Институт")


def certificate(**changes: object) -> Certificate:
    fields: dict[str, object] = {
        "id": "c1",
        "number": "2026-0A1B2C3D",
        "enrolment_id": "e1",
        "user_id": "t1",
        "course_id": "course-1",
        "version": 1,
        "course_title": "Формативное оценивание",
        "language": "ru",
        "institute_id": "i1",
        "indicators": ["II.KA.1"],
        "credential_jwt": "",
        "kid": "k1",
        "status_index": 42,
        "issued_at": ISSUED,
    }
    return Certificate(**(fields | changes))


CERT = certificate()
RECORD = Record("c1", "i1", CERT.number, CERT.course_title, ISSUER.name, ISSUED)


def vc(key: IssuerKey = KEY, cert: Certificate = CERT, **changes: object) -> str:
    """The certificate's VC-JWT, with changed claims signed by the key."""
    token = credentials.sign(credentials.build_credential(cert, ISSUER, URL, "salt"), key, BOX)
    if not changes:
        return token
    return keys.sign_jwt(jwt.decode(token, options={"verify_signature": False}) | changes, key, BOX, "vc+jwt")


def compact(key: IssuerKey = KEY, cert: Certificate = CERT) -> str:
    return credentials.sign_compact(cert, key, BOX)


def status_list(revoked: tuple[int, ...] = (), key: IssuerKey = KEY, issuer: str = "i1") -> str:
    bits = bytes(status.LIST_LENGTH // 8)
    for index in revoked:
        bits = status.set_bit(bits, index)
    row = StatusList(institute_id="i1", bits=bits)
    status.sign_list(row, key, BOX, credentials.issuer_url(URL, issuer), URL)
    return row.credential_jwt


def tampered(token: str, **claims: object) -> str:
    """The same signature over changed claims."""
    head, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))) | claims
    return f"{head}.{b64url_encode(json.dumps(body).encode())}.{signature}"


@dataclass
class World:
    """The pipeline's Sources in memory: what a verifier knows."""

    known: dict[str, TrustedKey] = field(
        default_factory=lambda: {k.kid: trusted(k) for k in (KEY, RETIRED, OTHER)}
    )
    records: dict[str, Record] = field(default_factory=lambda: {"c1": RECORD})
    lists: dict[str, str] = field(default_factory=lambda: {"i1": LIST})
    holds_records: bool = True

    def keys(self, decoded: Decoded) -> dict[str, TrustedKey]:
        return self.known

    def institute_keys(self, institute_id: str) -> dict[str, TrustedKey]:
        return {kid: k for kid, k in self.known.items() if k.institute_id == institute_id}

    def record(self, certificate_id: str) -> Record | None:
        return self.records.get(certificate_id)

    def status_list(self, institute_id: str) -> str | None:
        return self.lists.get(institute_id)


LIST, REVOKED_LIST = status_list(), status_list(revoked=(42,))
WITHDRAWN = datetime(2027, 1, 15, tzinfo=UTC)
COMPROMISED = World(known={"k1": trusted(KEY, WITHDRAWN)})
OFFLINE = World(records={}, holds_records=False)
ALGORITHM_NONE = "eyJhbGciOiJub25lIn0.e30."
HS256 = jwt.encode({"iss": "x", "jti": "y"}, "s" * 32, algorithm="HS256", headers={"kid": "k1"})
NO_KID = jwt.encode(
    {"iss": "x", "jti": "y"}, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"typ": "vc+jwt"}
)
UNLISTED = certificate(status_index=None)
FULL = {"signature": "valid", "form": "vc+jwt", "status_list": "not revoked", "registry": "not revoked"}


@pytest.mark.parametrize(
    "token,world,code,checks",
    [
        pytest.param(vc(), World(), "valid", FULL, id="valid"),
        pytest.param(vc(RETIRED), World(), "valid", FULL, id="signed with a retired key"),
        pytest.param(compact(), World(), "valid", {**FULL, "form": "compact"}, id="compact form"),
        pytest.param(
            vc(cert=UNLISTED),
            World(),
            "valid_unchecked",
            {**FULL, "status_list": "not listed"},
            id="no status list entry",
        ),
        pytest.param(
            vc(),
            World(records={"c1": replace(RECORD, revoked_at=ISSUED, revocation_reason="error")}),
            "revoked",
            {**FULL, "status_list": "not revoked", "registry": "revoked"},
            id="revoked in the registry",
        ),
        pytest.param(
            vc(),
            World(records={"c1": replace(RECORD, superseded_by="c2")}),
            "superseded",
            {**FULL, "registry": "revoked"},
            id="superseded",
        ),
        pytest.param(
            vc(),
            World(lists={"i1": REVOKED_LIST}),
            "listed_revoked",
            {**FULL, "status_list": "revoked"},
            id="revoked in the status list",
        ),
        pytest.param(
            compact(), World(lists={"i1": REVOKED_LIST}), "listed_revoked", None, id="compact, revoked"
        ),
        pytest.param(
            vc(),
            World(lists={"i1": tampered(LIST, issuer="x")}),
            "status_untrusted",
            {"signature": "valid", "form": "vc+jwt", "status_list": "untrusted"},
            id="status list altered",
        ),
        pytest.param(
            vc(),
            World(lists={}),
            "status_untrusted",
            None,
            id="the issuer publishes no status list",
        ),
        pytest.param(
            vc(),
            World(
                lists={"i1": "garbage"},
                records={"c1": replace(RECORD, revoked_at=ISSUED, revocation_reason="error")},
            ),
            "revoked",
            {**FULL, "status_list": "untrusted", "registry": "revoked"},
            id="untrusted list, revoked in the registry",
        ),
        pytest.param(
            vc(validUntil="2027-01-01T00:00:00Z"),
            World(),
            "expired",
            FULL,
            id="expired",
        ),
        pytest.param(vc(validUntil="2028-01-01T00:00:00Z"), World(), "valid", FULL, id="not yet expired"),
        pytest.param(vc(validUntil="soon"), World(), "bad_valid_until", None, id="validUntil not a date"),
        pytest.param("garbage", World(), "malformed", {}, id="not a JWT"),
        pytest.param("a.b.c", World(), "malformed", {}, id="three bad segments"),
        pytest.param(vc() + "x" * formats.MAX_LENGTH, World(), "malformed", {}, id="too long"),
        pytest.param(ALGORITHM_NONE, World(), "unsupported", {}, id="alg none"),
        pytest.param(HS256, World(), "unsupported", {}, id="HS256"),
        pytest.param(NO_KID, World(), "unsupported", {}, id="names no key"),
        pytest.param(vc(), World(known={}), "unknown_key", {}, id="unknown key"),
        pytest.param(vc(), COMPROMISED, "compromised_key", {}, id="compromised key"),
        pytest.param(tampered(vc(), name="Другой курс"), World(), "forged", {}, id="claims altered"),
        pytest.param(vc()[:-4] + "AAAA", World(), "forged", {}, id="signature altered"),
        pytest.param(vc(OTHER), World(), "issuer_mismatch", {}, id="another institute's key"),
        pytest.param(vc(), World(records={}), "no_record", {}, id="no record"),
        pytest.param(
            vc(),
            World(records={"c1": replace(RECORD, institute_id="i2")}),
            "no_record",
            {},
            id="record of another institute",
        ),
        pytest.param(compact(), OFFLINE, "valid", None, id="offline"),
        pytest.param(
            compact(),
            replace(OFFLINE, lists={}),
            "valid_unchecked",
            {"signature": "valid", "form": "compact", "status_list": "not checked"},
            id="offline without a status list",
        ),
    ],
)
def test_verdicts(token: str, world: World, code: str, checks: dict[str, str] | None) -> None:
    outcome = pipeline.verify(token, world, now=NOW)
    assert outcome.finding.code == code, outcome
    assert outcome.status == STATUS[outcome.finding.code]
    if checks is not None:
        assert outcome.checks == checks
    assert (outcome.credential is not None) == bool(outcome.checks)
    assert reasons.reason(reasons.ONLINE, outcome.finding) and reasons.reason(
        reasons.OFFLINE, outcome.finding
    )


def test_a_verifier_takes_only_its_forms() -> None:
    assert pipeline.verify(vc(), OFFLINE, now=NOW, forms={"compact"}).finding.code == "unsupported"
    assert pipeline.verify(compact(), OFFLINE, now=NOW, forms={"compact"}).finding.code == "valid"


@pytest.mark.parametrize(
    "presented,expected",
    [
        (vc(), ("vc+jwt", "k1")),
        (compact(), ("compact", "k1")),
        ("", "malformed"),
        ("not a jwt", "malformed"),
        ("x" * (formats.MAX_LENGTH + 1), "malformed"),
        (ALGORITHM_NONE, "unsupported"),
        (HS256, "unsupported"),
        (NO_KID, "unsupported"),
    ],
)
def test_decode(presented: str, expected: tuple[str, str] | str) -> None:
    decoded = formats.decode(presented)
    if isinstance(decoded, Finding):
        assert decoded.code == expected
    else:
        assert (decoded.format.name, decoded.kid) == expected


@pytest.mark.parametrize(
    "text,compact_form",
    [
        (f"{URL}/verify/c/abc.def.ghi", "abc.def.ghi"),
        (f"{URL}/verify/c/abc.def.ghi?x=1#top", "abc.def.ghi"),
        ("abc.def.ghi", "abc.def.ghi"),
    ],
)
def test_the_compact_form_from_a_qr_code(text: str, compact_form: str) -> None:
    assert formats.compact_from(text) == compact_form


@pytest.mark.parametrize(
    "kid,keys,expected",
    [
        ("k1", {"k1": trusted(KEY)}, "k1"),
        ("k0", {"k0": trusted(RETIRED)}, "k0"),
        ("k9", {"k1": trusted(KEY)}, "unknown_key"),
        ("k1", {"k1": trusted(KEY, WITHDRAWN)}, "compromised_key"),
        ("k1", {"k1": TrustedKey("k1", "i1", {}, compromised=True)}, "compromised_key"),
    ],
)
def test_find_key(kid: str, keys: dict[str, TrustedKey], expected: str) -> None:
    found = pipeline.find_key(kid, keys)
    assert (found.code if isinstance(found, Finding) else found.kid) == expected


def test_a_compromised_keys_reason_names_its_date_when_known() -> None:
    online = pipeline.find_key("k1", {"k1": trusted(KEY, WITHDRAWN)})
    offline_ = pipeline.find_key("k1", {"k1": TrustedKey("k1", "i1", {}, compromised=True)})
    assert isinstance(online, Finding) and isinstance(offline_, Finding)
    assert "2027-01-15" in reasons.reason(reasons.ONLINE, online)
    assert reasons.reason(reasons.OFFLINE, offline_) == "The signing key was withdrawn as compromised."


def credential(**changes: object) -> Credential:
    return replace(Credential(claims={}, certificate_id="c1", issuer="i1", status=None), **changes)


@pytest.mark.parametrize(
    "valid_until,expected",
    [
        (None, None),
        (20270101, None),  # not a string: not a validUntil we read
        ("2027-02-28T23:59:59Z", "expired"),
        ("2027-03-01T00:00:01+00:00", None),
        ("2027-02-28T12:00:00", "expired"),  # no zone: UTC
        ("2027-02-30", "bad_valid_until"),
        ("tomorrow", "bad_valid_until"),
    ],
)
def test_check_dates(valid_until: object, expected: str | None) -> None:
    found = pipeline.check_dates(credential(valid_until=valid_until), NOW)
    assert (found.code if found else None) == expected


@pytest.mark.parametrize(
    "issuer,expected",
    [("i1", None), ("i2", "issuer_mismatch"), (None, "issuer_mismatch")],
)
def test_check_issuer(issuer: str | None, expected: str | None) -> None:
    found = pipeline.check_issuer(credential(issuer=issuer), trusted(KEY))
    assert (found.code if found else None) == expected


@pytest.mark.parametrize(
    "token,issuer",
    [
        (vc(), "i1"),
        (vc(iss=f"{URL}/api/v1/certificates/issuers/i2"), "i2"),
        (vc(iss="https://elsewhere.test/i1"), None),
        (vc(issuer="https://ustaz.test/api/v1/certificates/issuers/i1"), None),  # the profile is an object
        (compact(), "i1"),
    ],
)
def test_the_issuer_a_credential_names(token: str, issuer: str | None) -> None:
    decoded = formats.decode(token)
    assert isinstance(decoded, Decoded)
    read = decoded.format.verify_signature(decoded, trusted(KEY))
    assert isinstance(read, Credential) and read.issuer == issuer


ENTRY = status.entry(URL, "i1", 42)
OWN = {"type": status.ENTRY_TYPE, "statusPurpose": "revocation", "statusListIndex": "42"}
ISSUER_URL = credentials.issuer_url(URL, "i1")


@pytest.mark.parametrize(
    "ref,list_jwt,keys,expected",
    [
        (StatusRef(ENTRY, ISSUER_URL), LIST, [KEY], ("not revoked", "")),
        (StatusRef(ENTRY, ISSUER_URL), REVOKED_LIST, [KEY], ("revoked", "")),
        (StatusRef(OWN, None), REVOKED_LIST, [KEY], ("revoked", "")),
        (StatusRef(OWN, None), LIST, [RETIRED], ("untrusted", "not signed by a key of the credential's")),
        (StatusRef(ENTRY, ISSUER_URL), status_list(key=OTHER), [KEY], ("untrusted", "not signed by a key")),
        (StatusRef(ENTRY, ISSUER_URL), status_list(issuer="i2"), [KEY], ("untrusted", "issuer other than")),
        (StatusRef(OWN, None), status_list(issuer="i2"), [KEY], ("untrusted", "issuer other than")),
        (StatusRef(ENTRY, ISSUER_URL), "not-a-jwt", [KEY], ("untrusted", "not a well-formed")),
        (StatusRef(OWN, None), "not-a-jwt", [KEY], ("untrusted", "not a well-formed")),
        (
            StatusRef({**ENTRY, "statusListCredential": URL + "/other"}, ISSUER_URL),
            LIST,
            [KEY],
            ("untrusted", "not the one the credential points to"),
        ),
        (StatusRef({**OWN, "statusListIndex": "x"}, None), LIST, [KEY], ("untrusted", "not a number")),
    ],
)
def test_check_status(
    ref: StatusRef, list_jwt: str, keys: list[IssuerKey], expected: tuple[str, str]
) -> None:
    found = pipeline.check_status(ref, list_jwt, {k.kid: trusted(k) for k in keys}, "i1")
    assert found.result == expected[0] and expected[1] in found.detail


def test_a_list_signed_by_a_compromised_key_is_untrusted() -> None:
    found = pipeline.check_status(StatusRef(OWN, None), LIST, {"k1": trusted(KEY, WITHDRAWN)}, "i1")
    assert found == StatusCheck("untrusted", "The status list is signed by a key withdrawn as compromised.")


REVOKED = replace(RECORD, revoked_at=ISSUED, revocation_reason="error")
SUPERSEDED = replace(RECORD, superseded_by="c2")
EXPIRED = Finding("expired", {"until": "2027-01-01"})


@pytest.mark.parametrize(
    "record,listed,dates,code",
    [
        (RECORD, "not revoked", None, "valid"),
        (RECORD, "not listed", None, "valid_unchecked"),
        (None, "not checked", None, "valid_unchecked"),
        (RECORD, "untrusted", None, "status_untrusted"),
        (None, "untrusted", None, "status_untrusted"),
        (REVOKED, "untrusted", None, "revoked"),
        (SUPERSEDED, "untrusted", None, "superseded"),
        (REVOKED, "revoked", EXPIRED, "revoked"),
        (SUPERSEDED, "revoked", None, "superseded"),
        (replace(REVOKED, superseded_by="c2"), "revoked", None, "revoked"),
        (RECORD, "revoked", EXPIRED, "listed_revoked"),
        (None, "revoked", None, "listed_revoked"),
        (RECORD, "not revoked", EXPIRED, "expired"),
        (None, "not checked", EXPIRED, "expired"),
    ],
)
def test_verdict_precedence(record: Record | None, listed: str, dates: Finding | None, code: str) -> None:
    outcome = pipeline.verdict(credential(), record, StatusCheck(listed), dates, {"signature": "valid"})
    assert outcome.finding.code == code
    assert ("registry" in outcome.checks) == (record is not None and code != "status_untrusted")


def test_every_finding_has_words_for_both_verifiers() -> None:
    params = {"on": ISSUED, "reason": "error", "by": "c2", "number": "N", "detail": "why", "until": "then"}
    for code in STATUS:
        for words in (reasons.ONLINE, reasons.OFFLINE):
            assert reasons.reason(words, Finding(code, params))
    assert reasons.reason(reasons.ONLINE, Finding("revoked", params)) == "Revoked on 2026-11-24: error"


def test_offline_keys_come_from_the_issuer_document_and_withdrawn_keys_are_refused() -> None:
    doc = {
        "keys": [
            {**KEY.public_jwk, "status": "active"},
            {**RETIRED.public_jwk, "status": "retired"},
            {"kid": "ec", "kty": "EC", "crv": "P-256", "x": "a", "y": "b"},
        ],
        "withdrawn_keys": ["k9"],
    }
    keys = offline.Downloaded({"i1": doc}, {}).keys(Decoded(formats.COMPACT, "k1", compact()))
    assert isinstance(keys, dict)
    assert {kid: k.compromised for kid, k in keys.items()} == {"k1": False, "k0": False, "k9": True}
    assert "status" not in keys["k1"].public_jwk
    assert offline.Downloaded({}, {}).keys(Decoded(formats.COMPACT, "k1", compact())) == Finding(
        "unknown_issuer"
    )
    assert offline.Downloaded({"i1": doc}, {}).institute_keys("i1").keys() == {"k1", "k0"}

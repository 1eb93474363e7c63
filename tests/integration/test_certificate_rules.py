"""Issuance, key rotation, revocation and verification verdicts on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from libs.auth import Principal
from libs.crypto import fernet
from libs.db import create_db_engine, session_scope
from libs.errors import Forbidden
from services.certificates import keys, repository, service
from services.certificates.models import Issuer
from services.progress.schemas import CourseCompleted

BOX = fernet("test-key-encryption-key")
EVENT = {
    "id": "ev1",
    "topic": "course.completed",
    "payload": {
        "enrolment_id": "en1",
        "user_id": "t1",
        "user_name": "Aigerim",
        "course_id": "c1",
        "version": 1,
        "course_title": "Формативное оценивание",
        "language": "ru",
        "institute_id": "i1",
        "org_path": "KZ/KZ-ALM",
        "indicators": ["II.KA.1"],
        "completed_at": "2026-11-24T10:00:00+00:00",
    },
}


@pytest.fixture
def engine(databases: Any) -> Any:
    engine = create_db_engine(databases.fresh("certificates"))
    with session_scope(engine) as session:
        session.add(Issuer(institute_id="i1", name="Институт"))
        session.add(Issuer(institute_id="i2", name="Other institute"))
    yield engine
    engine.dispose()


def issue(engine: Any, event: dict[str, Any] = EVENT) -> Any:
    with session_scope(engine) as session:
        return service.issue_certificate(
            session, CourseCompleted.model_validate(event["payload"]), BOX, "https://ustaz.test", "salt"
        )


def verdict(engine: Any, token: str) -> Any:
    with session_scope(engine, readonly=True) as session:
        return service.verify_token(session, token)


def test_issuance_is_idempotent_and_the_credential_verifies(engine: Any) -> None:
    cert = issue(engine)
    assert issue(engine) is None  # the same completion again
    assert issue(engine, {**EVENT, "id": "ev2"}) is None  # even under another event id
    result = verdict(engine, cert.credential_jwt)
    assert result.status == "valid", result.reason
    credential = result.credential
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"]["id"] == "https://ustaz.test/api/v1/certificates/issuers/i1"
    subject = credential["credentialSubject"]
    assert subject["identifier"][0]["identityHash"].startswith("sha256$")
    assert "Aigerim" not in json.dumps(credential) and "t1" not in json.dumps(subject)
    assert [a["targetCode"] for a in subject["achievement"]["alignment"]] == ["II.KA.1"]


def tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["name"] = claims["name"].replace("Ф", "Х")  # one character
    changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{changed}.{signature}"


def test_one_changed_character_breaks_the_signature(engine: Any) -> None:
    cert = issue(engine)
    result = verdict(engine, tamper(cert.credential_jwt))
    assert result.status == "signature_invalid" and "altered" in result.reason


@pytest.mark.parametrize("garbage", ["", "not a jwt", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_malformed_credentials_get_a_verdict(engine: Any, garbage: str) -> None:
    assert verdict(engine, garbage).status == "signature_invalid"


def test_a_rotated_key_still_verifies_old_certificates(engine: Any) -> None:
    old = issue(engine)
    with session_scope(engine) as session:
        new_key = keys.rotate_key(session, "i1", BOX)
    newer = issue(engine, {**EVENT, "id": "ev3", "payload": {**EVENT["payload"], "enrolment_id": "en2"}})
    assert newer.kid == new_key.kid != old.kid
    assert verdict(engine, old.credential_jwt).status == "valid"
    assert verdict(engine, newer.credential_jwt).status == "valid"
    with session_scope(engine, readonly=True) as session:
        published = service.issuer_document(session, "i1")["keys"]
    assert {k["kid"] for k in published} == {old.kid, new_key.kid}


def test_a_compromised_key_is_refused(engine: Any) -> None:
    cert = issue(engine)
    with session_scope(engine) as session:
        key = repository.key(session, cert.kid)
        key.compromised_at = key.created_at
        session.add(key)
    assert verdict(engine, cert.credential_jwt).status == "unknown_issuer_key"


def test_revocation_by_the_issuing_institute_only(engine: Any) -> None:
    cert = issue(engine)
    other_admin = Principal(id="x", roles=("institute_admin",), institute="i2")
    with pytest.raises(Forbidden), session_scope(engine) as session:
        service.revoke(session, other_admin, cert.id, "not ours", BOX, "https://ustaz.test")
    assert verdict(engine, cert.credential_jwt).status == "valid"
    admin = Principal(id="y", roles=("institute_admin",), institute="i1")
    with session_scope(engine) as session:
        service.revoke(session, admin, cert.id, "issued in error", BOX, "https://ustaz.test")
    result = verdict(engine, cert.credential_jwt)
    assert result.status == "revoked" and "issued in error" in result.reason


def test_unknown_certificate_id(engine: Any) -> None:
    with session_scope(engine, readonly=True) as session:
        assert service.verify_certificate(session, "no-such-id").status == "unknown"

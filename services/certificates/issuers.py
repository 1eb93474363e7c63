"""What this service publishes about its issuers (docs/adr/0017): the issuer profile (whose `id` is the
issuer its new credentials name), the institute's DID document, and the JWT VC issuer metadata; and
the teacher's choice of having their name in their credentials."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from libs.errors import NotFound
from libs.outbox import utcnow
from services.certificates import dids, repository
from services.certificates.models import HolderPreference, IssuerKey
from services.certificates.schemas import HolderPreferences, HolderPreferencesView


def _published(key: IssuerKey) -> dids.PublishedKey:
    return dids.PublishedKey(key.kid, key.public_jwk, key.retired_at, key.compromised_at)


def _current_id(institute_id: str, public_url: str, published: list[IssuerKey]) -> str:
    active = next((k for k in published if k.retired_at is None), None)
    if dids.is_https(public_url) or active is None:
        return dids.did_web(public_url, institute_id)
    return dids.did_key(active.public_jwk)


def issuer_document(session: Session, institute_id: str, public_url: str) -> dict[str, Any]:
    """The issuer profile: its `id` is the issuer the institute's new credentials name; `keys` (JWKs,
    active and retired, each with the DID URL credentials name it by) and `withdrawn_keys` serve
    verifiers that work offline (docs/certificates.md)."""
    issuer = repository.issuer(session, institute_id)
    if issuer is None:
        raise NotFound(f"No issuer {institute_id}.")
    published = repository.issuer_keys(session, institute_id)
    did = _current_id(institute_id, public_url, published)

    def method(key: IssuerKey) -> str:
        return dids.verification_method(
            dids.issuer_id(public_url, institute_id, key.public_jwk), key.kid, key.public_jwk
        )

    return {
        "id": did,
        "type": ["Profile"],
        "name": issuer.name,
        "country": issuer.country,
        "did_document": f"{public_url.rstrip('/')}/institutes/{institute_id}/did.json",
        "keys": [
            {
                **k.public_jwk,
                "verification_method": method(k),
                "status": "retired" if k.retired_at else "active",
            }
            for k in published
            if not k.compromised_at
        ],
        "withdrawn_keys": [k.kid for k in published if k.compromised_at],
    }


def did_document(session: Session, institute_id: str, public_url: str) -> dict[str, Any]:
    """The institute's did:web document: every key it signed with (dids.did_document)."""
    if repository.issuer(session, institute_id) is None:
        raise NotFound(f"No issuer {institute_id}.")
    published = repository.issuer_keys(session, institute_id)
    return dids.did_document(dids.did_web(public_url, institute_id), [_published(k) for k in published])


def jwt_vc_issuer(session: Session, public_url: str, institute_id: str | None) -> dict[str, Any]:
    """JWT VC Issuer Metadata (IETF SD-JWT VC §5): the issuer and its JWKS, each key's `kid` being the
    DID URL a VC-JWT names it by. For one institute (`/.well-known/jwt-vc-issuer/institutes/<id>`) or,
    at the bare well-known path, every institute of the deployment."""
    base = public_url.rstrip("/")
    if institute_id is not None and repository.issuer(session, institute_id) is None:
        raise NotFound(f"No issuer {institute_id}.")
    published = (
        repository.issuer_keys(session, institute_id)
        if institute_id is not None
        else repository.all_issuer_keys(session)
    )
    return {
        "issuer": f"{base}/institutes/{institute_id}" if institute_id is not None else base,
        "jwks": {
            "keys": [
                {
                    **{k: v for k, v in key.public_jwk.items() if k != "kid"},
                    "kid": dids.verification_method(
                        dids.issuer_id(public_url, key.institute_id, key.public_jwk), key.kid, key.public_jwk
                    ),
                }
                for key in published
                if key.compromised_at is None
            ]
        },
    }


def holder_preferences(session: Session, user_id: str, policy_default: bool) -> HolderPreferencesView:
    choice = repository.holder_preference(session, user_id)
    return HolderPreferencesView(
        name_in_credential=choice.name_in_credential if choice is not None else policy_default,
        policy_default=policy_default,
        chosen=choice is not None,
    )


def set_holder_preferences(
    session: Session, user_id: str, wanted: HolderPreferences, policy_default: bool
) -> HolderPreferencesView:
    choice = repository.holder_preference(session, user_id) or HolderPreference(
        user_id=user_id, name_in_credential=wanted.name_in_credential
    )
    choice.name_in_credential, choice.updated_at = wanted.name_in_credential, utcnow()
    session.add(choice)
    session.flush()
    return holder_preferences(session, user_id, policy_default)

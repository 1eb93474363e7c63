from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.accept import qualities
from libs.api import api, cached_json, etag_matches, etag_of, json_response, parse_query, read_json
from libs.auth import current_user
from libs.crypto import fernet
from libs.db import in_transaction, read_only
from libs.errors import NotFound
from services.certificates import issuers, repository, service, verdicts
from services.certificates.schemas import (
    CertificateList,
    CertificatePublic,
    HolderPreferences,
    HolderPreferencesView,
    IssuedList,
    IssuedQuery,
    ReissueRequest,
    RevokeRequest,
    Verdict,
    VerifyRequest,
)
from services.certificates.state import state

PREFIX = "/api/v1/certificates"


@api(summary="Your certificates", response=CertificateList, tags=["certificates"], errors={403: None})
async def list_certificates(request: Request) -> Response:
    user = current_user(request)
    rows = await read_only(request, repository.certificates_of, user.id)
    return json_response(
        CertificateList(items=[CertificatePublic.model_validate(c) for c in rows]),
        headers={"Cache-Control": "private, no-cache"},
    )


LINKED_DATA = ("application/vc+ld+json", "application/ld+json", "application/json")
JWT_TYPES = ("application/vc+jwt", "application/jwt")


def prefers_linked_data(request: Request) -> bool:
    """Content negotiation between the two secured forms: JSON-LD (with its Data Integrity proof) when
    the Accept header asks for a JSON type more than for a JWT; the VC-JWT otherwise (also for `*/*`
    and no Accept, as before JSON-LD was served)."""
    wanted = qualities(request.headers.get("accept", ""))
    ld = max(wanted.get(t, 0.0) for t in LINKED_DATA)
    return ld > 0 and ld > max(wanted.get(t, 0.0) for t in JWT_TYPES)


@api(
    summary="The signed credential of one of your certificates, for a wallet: JSON-LD with a Data "
    "Integrity proof for Accept: application/vc+ld+json (or application/ld+json), else the VC-JWT",
    tags=["certificates"],
    errors={403: None, 404: "no certificate of yours has this id"},
)
async def get_credential(request: Request) -> Response:
    user = current_user(request)
    cert = await read_only(request, repository.certificate, request.path_params["certificate_id"])
    if cert is None or cert.user_id != user.id:
        raise NotFound("No such certificate of yours.")
    vary = {"Vary": "Accept, Authorization"}
    if prefers_linked_data(request):
        if not cert.credential_ld:
            raise NotFound(
                "This certificate was issued before credentials were signed as JSON-LD; it has only the VC-JWT."
            )
        return Response(
            cert.credential_ld,
            media_type="application/vc+ld+json",
            headers={**vary, "Content-Disposition": f'attachment; filename="certificate-{cert.number}.json"'},
        )
    return Response(
        cert.credential_jwt,
        media_type="application/vc+jwt",
        headers={**vary, "Content-Disposition": f'attachment; filename="certificate-{cert.number}.jwt"'},
    )


@api(
    summary="The printable certificate (PDF, A4 landscape): for its owner, in their language unless ?lang= "
    "says otherwise, or for an admin of the issuing institute",
    tags=["certificates"],
    errors={403: None, 404: "no certificate with this id is yours or your institute's"},
)
async def get_pdf(request: Request) -> Response:
    user = current_user(request)
    settings = state(request).settings
    data, cert = await read_only(
        request,
        service.certificate_pdf,
        user,
        request.path_params["certificate_id"],
        request.query_params.get("lang"),
        fernet(settings.key_encryption_key),
        settings.public_url,
        Path(settings.var_dir) / "certificate-pdfs",
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="certificate-{cert.number}.pdf"',
            "Cache-Control": "private, max-age=300",
        },
    )


@api(
    summary="Is this certificate genuine and in force? (public)",
    response=Verdict,
    tags=["verification"],
    public=True,
    errors={404: None},  # an unknown id is a verdict too ("unknown")
)
async def verify_certificate(request: Request) -> Response:
    verdict = await read_only(request, verdicts.verify_certificate, request.path_params["certificate_id"])
    return json_response(verdict, headers={"Cache-Control": "no-cache"})


@api(
    summary="Is the certificate with this printed number (e.g. 2026-D915EFAC) genuine and in force? (public)",
    response=Verdict,
    tags=["verification"],
    public=True,
    errors={404: None},  # an unknown number is a verdict too ("unknown")
)
async def verify_number(request: Request) -> Response:
    verdict = await read_only(request, verdicts.verify_number, request.path_params["number"])
    return json_response(verdict, headers={"Cache-Control": "no-cache"})


@api(
    summary="Your institute's certificates with their recipients, newest first, by number or name "
    "(an institute admin; a platform admin chooses the institute)",
    response=IssuedList,
    tags=["certificates"],
    errors={403: "the caller is not an admin of an institute"},
)
async def list_issued(request: Request) -> Response:
    user = current_user(request, "institute_admin", "platform_admin")
    query = parse_query(request, IssuedQuery)
    found = await read_only(request, service.issued, user, query)
    return json_response(found, headers={"Cache-Control": "private, no-cache"})


@api(
    summary="Check a pasted credential (VC-JWT, or JSON holding one) (public)",
    body=VerifyRequest,
    response=Verdict,
    tags=["verification"],
    public=True,
    errors={422: "the pasted text is neither a JWT nor JSON holding one"},
)
async def verify_pasted(request: Request) -> Response:
    body = await read_json(request, VerifyRequest)
    verdict = await read_only(request, verdicts.verify_pasted, verdicts.parse_pasted(body.credential))
    return json_response(verdict)


@api(
    summary="Revoke a certificate (an admin of the issuing institute)",
    body=RevokeRequest,
    response=CertificatePublic,
    tags=["certificates"],
    errors={403: "the caller is not an admin of the issuing institute"},
)
async def revoke_certificate(request: Request) -> Response:
    user = current_user(request, "institute_admin", "platform_admin")
    body = await read_json(request, RevokeRequest)
    settings = state(request).settings
    cert = await in_transaction(
        request,
        service.revoke,
        user,
        request.path_params["certificate_id"],
        body.reason,
        fernet(settings.key_encryption_key),
        settings.public_url,
    )
    return json_response(CertificatePublic.model_validate(cert))


@api(
    summary="Re-issue a certificate with a corrected recipient name; the old one is superseded and keeps "
    "its number (an admin of the issuing institute)",
    body=ReissueRequest,
    response=CertificatePublic,
    status=201,
    tags=["certificates"],
    errors={
        403: "the caller is not an admin of the issuing institute",
        409: "the certificate was already replaced, or is revoked",
    },
)
async def reissue_certificate(request: Request) -> Response:
    user = current_user(request, "institute_admin", "platform_admin")
    body = await read_json(request, ReissueRequest)
    settings = state(request).settings
    cert = await in_transaction(
        request,
        service.reissue,
        user,
        request.path_params["certificate_id"],
        body.recipient_name,
        body.reason,
        service.issuance(settings),
    )
    return json_response(
        CertificatePublic.model_validate(cert),
        status_code=201,
        headers={"Location": f"{PREFIX}/{cert.id}/verification"},
    )


@api(
    summary="An institute's signed revocation status list (BitstringStatusListCredential): JSON-LD with a "
    "Data Integrity proof for Accept: application/vc+ld+json, application/ld+json or application/json, "
    "else the VC-JWT (public)",
    tags=["verification"],
    public=True,
    errors={404: "the institute has issued no certificates, so it publishes no list"},
)
async def get_status_list(request: Request) -> Response:
    row = await read_only(request, repository.status_list, request.path_params["institute_id"])
    if row is None or not row.credential_jwt:
        raise NotFound("This institute publishes no status list (it has issued no certificates).")
    linked = prefers_linked_data(request) and bool(row.credential_ld)
    body, media = (
        (row.credential_ld, "application/vc+ld+json")
        if linked
        else (row.credential_jwt, "application/vc+jwt")
    )
    etag = etag_of(body.encode())
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={STATUS_LIST_MAX_AGE}", "Vary": "Accept"}
    if etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)


@api(
    summary="Withdraw an issuer key as compromised: its signatures are refused from now on (platform admin)",
    tags=["verification"],
)
async def compromise_key(request: Request) -> Response:
    current_user(request, "platform_admin")
    settings = state(request).settings
    key = await in_transaction(
        request,
        service.compromise_key,
        request.path_params["kid"],
        fernet(settings.key_encryption_key),
        settings.public_url,
    )
    return json_response(
        {
            "kid": key.kid,
            "institute_id": key.institute_id,
            "compromised_at": key.compromised_at.isoformat() if key.compromised_at else None,
        }
    )


@api(
    summary="An issuer's profile and public keys, including retired ones (public)",
    tags=["verification"],
    public=True,
)
async def get_issuer(request: Request) -> Response:
    public_url = state(request).settings.public_url
    doc = await read_only(request, issuers.issuer_document, request.path_params["institute_id"], public_url)
    return cached_json(request, doc, max_age=300)


@api(
    summary="An institute's DID document (did:web): every key it signed with, as Multikey verification "
    "methods; a key withdrawn as compromised stays listed with `revoked` and is no assertion method (public; "
    "the gateway serves it at /institutes/{institute_id}/did.json)",
    tags=["verification"],
    public=True,
    errors={404: "no such issuer"},
)
async def get_did_document(request: Request) -> Response:
    public_url = state(request).settings.public_url
    doc = await read_only(request, issuers.did_document, request.path_params["institute_id"], public_url)
    response = cached_json(request, doc, max_age=300)
    if response.status_code == 200:
        response.headers["Content-Type"] = "application/did+json"
    return response


@api(
    summary="JWT VC issuer metadata: the issuer and the JWKS of its keys, kid being the DID URL a VC-JWT "
    "names (public; the gateway serves it at /.well-known/jwt-vc-issuer[/institutes/{institute_id}])",
    tags=["verification"],
    public=True,
    errors={404: "no such issuer"},
)
async def get_jwt_vc_issuer(request: Request) -> Response:
    public_url = state(request).settings.public_url
    institute = request.path_params.get("institute_id")
    doc = await read_only(request, issuers.jwt_vc_issuer, public_url, institute)
    return cached_json(request, doc, max_age=300)


@api(
    summary="Whether your name goes inside the certificates issued to you from now on",
    response=HolderPreferencesView,
    tags=["certificates"],
    errors={403: None},
)
async def get_holder_preferences(request: Request) -> Response:
    user = current_user(request, "teacher")
    default = state(request).settings.holder_name_in_credential
    view = await read_only(request, issuers.holder_preferences, user.id, default)
    return json_response(view, headers={"Cache-Control": "private, no-cache"})


@api(
    summary="Choose whether your name goes inside the certificates issued to you from now on",
    body=HolderPreferences,
    response=HolderPreferencesView,
    tags=["certificates"],
    errors={403: None},
)
async def put_holder_preferences(request: Request) -> Response:
    user = current_user(request, "teacher")
    body = await read_json(request, HolderPreferences)
    default = state(request).settings.holder_name_in_credential
    view = await in_transaction(request, issuers.set_holder_preferences, user.id, body, default)
    return json_response(view)


@api(
    summary="Rotate an institute's signing key: the old one is retired but stays published (platform admin)",
    tags=["verification"],
    status=201,
)
async def rotate_key(request: Request) -> Response:
    current_user(request, "platform_admin")
    settings = state(request).settings
    key = await in_transaction(
        request,
        service.rotate_institute_key,
        request.path_params["institute_id"],
        fernet(settings.key_encryption_key),
    )
    return json_response(
        {"kid": key.kid, "institute_id": key.institute_id, "public_jwk": key.public_jwk}, status_code=201
    )


STATUS_LIST_MAX_AGE = 60  # seconds: a revocation reaches verifiers that cache the list within a minute

routes = [
    Route(PREFIX, list_certificates),
    Route(PREFIX + "/holder-preferences", get_holder_preferences, methods=["GET"]),
    Route(PREFIX + "/holder-preferences", put_holder_preferences, methods=["PUT"]),
    Route(PREFIX + "/jwt-vc-issuer", get_jwt_vc_issuer),
    Route(PREFIX + "/jwt-vc-issuer/institutes/{institute_id}", get_jwt_vc_issuer),
    Route(PREFIX + "/issuers/{institute_id}/did.json", get_did_document),
    Route(PREFIX + "/issued", list_issued),
    Route(PREFIX + "/numbers/{number}/verification", verify_number),
    Route(PREFIX + "/status-lists/{institute_id}", get_status_list),
    Route(PREFIX + "/keys/{kid}/compromise", compromise_key, methods=["POST"]),
    Route(PREFIX + "/issuers/{institute_id}/keys", rotate_key, methods=["POST"]),
    Route(PREFIX + "/{certificate_id}/reissue", reissue_certificate, methods=["POST"]),
    Route(PREFIX + "/verify", verify_pasted, methods=["POST"]),
    Route(PREFIX + "/issuers/{institute_id}", get_issuer),
    Route(PREFIX + "/{certificate_id}/credential", get_credential),
    Route(PREFIX + "/{certificate_id}/pdf", get_pdf),
    Route(PREFIX + "/{certificate_id}/verification", verify_certificate),
    Route(PREFIX + "/{certificate_id}/revoke", revoke_certificate, methods=["POST"]),
]

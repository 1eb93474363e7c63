from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.api import api, cached_json, etag_matches, etag_of, json_response, parse_query, read_json
from libs.auth import current_user
from libs.crypto import fernet
from libs.db import in_transaction, read_only
from libs.errors import NotFound
from services.certificates import repository, service
from services.certificates.schemas import (
    CertificateList,
    CertificatePublic,
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


@api(
    summary="The signed credential of one of your certificates (VC-JWT), for a wallet",
    tags=["certificates"],
    errors={403: None, 404: "no certificate of yours has this id"},
)
async def get_credential(request: Request) -> Response:
    user = current_user(request)
    cert = await read_only(request, repository.certificate, request.path_params["certificate_id"])
    if cert is None or cert.user_id != user.id:
        raise NotFound("No such certificate of yours.")
    return Response(
        cert.credential_jwt,
        media_type="application/vc+jwt",
        headers={"Content-Disposition": f'attachment; filename="certificate-{cert.number}.jwt"'},
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
    verdict = await read_only(request, service.verify_certificate, request.path_params["certificate_id"])
    return json_response(verdict, headers={"Cache-Control": "no-cache"})


@api(
    summary="Is the certificate with this printed number (e.g. 2026-D915EFAC) genuine and in force? (public)",
    response=Verdict,
    tags=["verification"],
    public=True,
    errors={404: None},  # an unknown number is a verdict too ("unknown")
)
async def verify_number(request: Request) -> Response:
    verdict = await read_only(request, service.verify_number, request.path_params["number"])
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
    verdict = await read_only(request, service.verify_token, service.parse_pasted(body.credential))
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
        fernet(settings.key_encryption_key),
        settings.public_url,
        settings.recipient_salt,
    )
    return json_response(
        CertificatePublic.model_validate(cert),
        status_code=201,
        headers={"Location": f"{PREFIX}/{cert.id}/verification"},
    )


@api(
    summary="An institute's signed revocation status list (BitstringStatusListCredential as VC-JWT) (public)",
    tags=["verification"],
    public=True,
    errors={404: "the institute has issued no certificates, so it publishes no list"},
)
async def get_status_list(request: Request) -> Response:
    row = await read_only(request, repository.status_list, request.path_params["institute_id"])
    if row is None or not row.credential_jwt:
        raise NotFound("This institute publishes no status list (it has issued no certificates).")
    etag = etag_of(row.credential_jwt.encode())
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={STATUS_LIST_MAX_AGE}"}
    if etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(row.credential_jwt, media_type="application/vc+jwt", headers=headers)


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
    doc = await read_only(request, service.issuer_document, request.path_params["institute_id"])
    return cached_json(request, doc, max_age=300)


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

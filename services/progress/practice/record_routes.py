"""The CPD record's API beyond the transcript page: the signed transcript as a PDF and its public
verification (by id, by the QR code's signed form, by a PDF's hash), and the signing key
(docs/practice.md)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.api import api, json_response, read_json
from libs.auth import current_user
from libs.db import in_transaction, read_only
from libs.errors import Unprocessable
from services.progress.practice import cpd_export, transcript_pdf, transcripts
from services.progress.practice.routes import PREFIX
from services.progress.practice.schemas import CpdRecords, TranscriptCheck, TranscriptVerdict
from services.progress.state import state


@api(
    summary="Your CPD transcript as a signed PDF (A4, in your language unless ?lang= says otherwise)",
    tags=["practice"],
)
async def transcript_pdf_of_mine(request: Request) -> Response:
    user = current_user(request)
    lang = transcript_pdf.language(request.query_params.get("lang") or user.lang)
    data, row = await in_transaction(
        request, transcripts.pdf_of, user, lang, state(request).settings.public_url
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="cpd-transcript-{row.id[:8]}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@api(
    summary="Is this CPD transcript genuine? Its figures as issued (public)",
    response=TranscriptVerdict,
    tags=["verification"],
    public=True,
)
async def transcript_verification(request: Request) -> Response:
    verdict = await read_only(request, transcripts.verify_id, request.path_params["transcript_id"])
    return json_response(verdict, headers={"Cache-Control": "no-cache"})


@api(
    summary="Check a CPD transcript's QR code (its signed form) and/or a PDF's SHA-256 (public)",
    body=TranscriptCheck,
    response=TranscriptVerdict,
    tags=["verification"],
    public=True,
)
async def verify_transcript(request: Request) -> Response:
    body = await read_json(request, TranscriptCheck)
    return json_response(await read_only(request, transcripts.verify, body))


@api(
    summary="The public key CPD transcripts are signed with (a JWK, EdDSA)",
    tags=["verification"],
    public=True,
)
async def transcript_key(request: Request) -> Response:
    return json_response({"keys": [transcripts.public_jwk()]}, headers={"Cache-Control": "max-age=3600"})


@api(
    summary="CPD hours per teacher in an attestation cycle (`cycle`: a date in it), by person after "
    "`after`, for the EMIS export",
    response=CpdRecords,
    tags=["coverage"],
)
async def cpd_records(request: Request) -> Response:
    user = current_user(request, "emis_export", "analyst", "platform_admin")
    try:
        limit = max(1, min(int(request.query_params.get("limit", "1000")), 10_000))
    except ValueError as exc:
        raise Unprocessable("limit is a number from 1 to 10,000.", field="limit") from exc
    after = request.query_params.get("after", "")[:80]
    page = await read_only(
        request, cpd_export.records, user, request.query_params.get("cycle", ""), after, limit
    )
    return json_response(page, headers={"Cache-Control": "no-store"})


routes = [
    Route("/api/v1/progress/emis/cpd", cpd_records),
    Route(PREFIX + "/transcript/me/pdf", transcript_pdf_of_mine),
    Route(PREFIX + "/transcripts/key", transcript_key),
    Route(PREFIX + "/transcripts/verify", verify_transcript, methods=["POST"]),
    Route(PREFIX + "/transcripts/{transcript_id}/verification", transcript_verification),
]

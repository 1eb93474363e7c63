"""Export to EMIS (docs/registry.md, "Export to EMIS"): per-teacher training records keyed by the national
ID. Progress gives the records keyed by person (account or registry id) within the caller's scope; the
gateway, which alone holds the registry, puts the national ID in place of the person and drops the
records of people who are not in the registry. A small module beside gateway/registry/ (it reads the
registry's table, it does not change the registry).

- `GET /emis/records?since=&limit=` (JSON): the EMIS-export client (`emis`, its own credentials, role
  `emis_export`), incremental by `since` (the `next` of the previous page, or an ISO time).
- `GET /dashboard/emis.csv`, `/dashboard/emis.xlsx`: an analyst's or platform admin's scope, from the
  dashboard, at most `analytics_export_max_rows`-like 50,000 rows.

National IDs appear in these answers only: never in a log line (records are logged by count)."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlmodel import Session, col
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.registry.formats import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, write_csv, write_xlsx
from gateway.registry.models import RegistryTeacher
from gateway.registry.national_id import NationalIds
from gateway.registry.uploads import ids_of
from gateway.state import state
from gateway.web.app import ApiError, call_api, signed_in
from libs.api import api, json_response
from libs.auth import current_user
from libs.db import read_only
from libs.errors import BadGateway, Unprocessable
from services.progress.coverage.schemas import TrainingRecord, TrainingRecords
from services.progress.practice.schemas import CpdRecord, CpdRecords

log = logging.getLogger("ustaz.gateway.emis")
RECORDS = "/api/v1/progress/emis/records"
COLUMNS = (
    "national_id", "course_id", "course_title", "version", "completed_at", "score", "certificate_number",
    "hours",
)  # fmt: skip
FILE_MAX_ROWS = 50_000
CPD = "/api/v1/progress/emis/cpd"
CPD_KINDS = ("course", "webinar", "observation", "evidence", "featured")
CPD_COLUMNS = (
    "national_id", "cycle_start", "cycle_end", "required_hours", "total_hours", "met",
    *(f"{k}_hours" for k in CPD_KINDS),
)  # fmt: skip


class EmisRecord(BaseModel):
    national_id: str
    course_id: str
    course_title: str
    version: int
    completed_at: datetime
    score: float | None
    certificate_number: str | None
    hours: float | None


class EmisRecords(BaseModel):
    items: list[EmisRecord]
    next: str
    more: bool


def national_ids_of(session: Session, ids: NationalIds, people: Sequence[str]) -> dict[str, str]:
    """person id (account or registry id) -> national ID, for the people in the registry."""
    wanted = list(set(people))
    if not wanted:
        return {}
    t = RegistryTeacher
    rows = session.execute(
        select(col(t.id), col(t.user_id), col(t.nid_sealed)).where(
            or_(col(t.id).in_(wanted), col(t.user_id).in_(wanted))
        )
    ).all()
    found: dict[str, str] = {}
    for registry_id, user_id, sealed in rows:
        nid = ids.unseal(sealed)
        found[registry_id] = nid
        if user_id:
            found[user_id] = nid
    return found


def keyed(records: Sequence[TrainingRecord], nids: dict[str, str]) -> list[EmisRecord]:
    return [
        EmisRecord(
            national_id=nids[r.person_id],
            course_id=r.course_id,
            course_title=r.course_title,
            version=r.version,
            completed_at=r.completed_at,
            score=r.score,
            certificate_number=r.certificate_id,
            hours=r.hours,
        )
        for r in records
        if r.person_id in nids
    ]


async def _page(request: Request, params: dict[str, str], bearer: str | None = None) -> TrainingRecords:
    """One page of progress's records, as the caller (the page's session, or the EMIS client's token)."""
    if bearer is None:
        body = await call_api(request, "GET", RECORDS, params=params)
    else:
        st = state(request)
        response = await st.http.get(
            st.settings.upstreams["progress"] + RECORDS, params=params, headers={"authorization": bearer}
        )
        if response.status_code == 422:
            raise Unprocessable(response.json().get("detail", "bad query"), field="since")
        if response.status_code != 200:
            raise BadGateway(f"progress answered {response.status_code} for the training records")
        body = response.json()
    return TrainingRecords.model_validate(body)


@api(
    summary="Training records keyed by national ID after `since` (the EMIS-export client only)",
    response=EmisRecords,
    tags=["registry"],
)
async def emis_records(request: Request) -> Response:
    current_user(request, "emis_export")
    params = {k: v for k in ("since", "limit") if (v := request.query_params.get(k))}
    page = await _page(request, params, bearer=request.headers.get("authorization", ""))
    nids = await read_only(request, national_ids_of, ids_of(request), [r.person_id for r in page.items])
    items = keyed(page.items, nids)
    log.info("emis records served", extra={"records": len(items), "more": page.more})
    return json_response(
        EmisRecords(items=items, next=page.next, more=page.more), headers={"Cache-Control": "no-store"}
    )


async def emis_file(request: Request) -> Response:
    """The analyst's scope as CSV or XLSX (every page of progress's records, national IDs from the registry)."""
    await signed_in(request, "analyst", "platform_admin")
    fmt = request.path_params["fmt"]
    if fmt not in ("csv", "xlsx"):
        raise ApiError(404, {"title": "Not found", "detail": "The export is emis.csv or emis.xlsx."})
    since = request.query_params.get("since", "")
    records: list[EmisRecord] = []
    while len(records) < FILE_MAX_ROWS:
        page = await _page(request, {"since": since, "limit": "5000"})
        nids = await read_only(request, national_ids_of, ids_of(request), [r.person_id for r in page.items])
        records.extend(keyed(page.items, nids))
        since = page.next
        if not page.more:
            break
    rows = (
        [r.national_id, r.course_id, r.course_title, str(r.version), r.completed_at.isoformat(),
         "" if r.score is None else f"{r.score:.2f}", r.certificate_number or "",
         "" if r.hours is None else f"{r.hours:g}"]
        for r in records[:FILE_MAX_ROWS]
    )  # fmt: skip
    out = io.BytesIO()
    if fmt == "xlsx":
        write_xlsx(COLUMNS, rows, out, "EMIS")
    else:
        write_csv(COLUMNS, rows, out)
    log.info("emis file exported", extra={"records": len(records), "format": fmt})
    return Response(
        out.getvalue(),
        media_type=XLSX_MEDIA_TYPE if fmt == "xlsx" else CSV_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="emis-training-records.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


class EmisCpdRecord(BaseModel):
    national_id: str
    hours: dict[str, float]
    total_hours: float
    met: bool


class EmisCpdRecords(BaseModel):
    """CPD hours per teacher in one attestation cycle, keyed by national ID."""

    cycle_start: datetime
    cycle_end: datetime
    required_hours: float
    items: list[EmisCpdRecord]
    next: str
    more: bool


def cpd_keyed(records: Sequence[CpdRecord], nids: dict[str, str]) -> list[EmisCpdRecord]:
    return [
        EmisCpdRecord(national_id=nids[r.person_id], hours=r.hours, total_hours=r.total_hours, met=r.met)
        for r in records
        if r.person_id in nids
    ]


async def _cpd_page(request: Request, params: dict[str, str], bearer: str | None = None) -> CpdRecords:
    if bearer is None:
        return CpdRecords.model_validate(await call_api(request, "GET", CPD, params=params))
    st = state(request)
    response = await st.http.get(
        st.settings.upstreams["progress"] + CPD, params=params, headers={"authorization": bearer}
    )
    if response.status_code == 422:
        raise Unprocessable(response.json().get("detail", "bad query"), field="cycle")
    if response.status_code != 200:
        raise BadGateway(f"progress answered {response.status_code} for the CPD records")
    return CpdRecords.model_validate(response.json())


@api(
    summary="CPD hours per teacher in an attestation cycle (`cycle`: a date in it), keyed by national "
    "ID, paged by `after` (the EMIS-export client only)",
    response=EmisCpdRecords,
    tags=["registry"],
)
async def emis_cpd(request: Request) -> Response:
    current_user(request, "emis_export")
    params = {k: v for k in ("cycle", "after", "limit") if (v := request.query_params.get(k))}
    page = await _cpd_page(request, params, bearer=request.headers.get("authorization", ""))
    nids = await read_only(request, national_ids_of, ids_of(request), [r.person_id for r in page.items])
    items = cpd_keyed(page.items, nids)
    log.info("emis cpd records served", extra={"records": len(items), "more": page.more})
    body = EmisCpdRecords(
        cycle_start=page.cycle_start,
        cycle_end=page.cycle_end,
        required_hours=page.required_hours,
        items=items,
        next=page.next,
        more=page.more,
    )
    return json_response(body, headers={"Cache-Control": "no-store"})


async def emis_cpd_file(request: Request) -> Response:
    """The analyst's scope's CPD hours in a cycle as CSV or XLSX: a row per teacher, a column per
    activity type."""
    await signed_in(request, "analyst", "platform_admin")
    fmt = request.path_params["fmt"]
    if fmt not in ("csv", "xlsx"):
        raise ApiError(404, {"title": "Not found", "detail": "The export is emis-cpd.csv or emis-cpd.xlsx."})
    params = {"cycle": request.query_params.get("cycle", ""), "limit": "5000"}
    records: list[EmisCpdRecord] = []
    while len(records) < FILE_MAX_ROWS:
        page = await _cpd_page(request, params)
        nids = await read_only(request, national_ids_of, ids_of(request), [r.person_id for r in page.items])
        records.extend(cpd_keyed(page.items, nids))
        params["after"] = page.next
        if not page.more:
            break
    start, end = page.cycle_start.date().isoformat(), page.cycle_end.date().isoformat()
    rows = (
        [r.national_id, start, end, f"{page.required_hours:g}", f"{r.total_hours:g}", "yes" if r.met else "no",
         *(f"{r.hours.get(k, 0):g}" for k in CPD_KINDS)]
        for r in records[:FILE_MAX_ROWS]
    )  # fmt: skip
    out = io.BytesIO()
    if fmt == "xlsx":
        write_xlsx(CPD_COLUMNS, rows, out, "CPD")
    else:
        write_csv(CPD_COLUMNS, rows, out)
    log.info("emis cpd file exported", extra={"records": len(records), "format": fmt})
    return Response(
        out.getvalue(),
        media_type=XLSX_MEDIA_TYPE if fmt == "xlsx" else CSV_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="emis-cpd-{start}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


routes = [
    Route("/emis/records", emis_records),
    Route("/emis/cpd", emis_cpd),
    Route("/dashboard/emis-cpd.{fmt:str}", emis_cpd_file),
    Route("/dashboard/emis.{fmt:str}", emis_file),
]

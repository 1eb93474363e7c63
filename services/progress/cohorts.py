"""Cohorts from the registry (docs/progress.md, "Cohorts"): an institute admin names teachers by national
ID or by a filter, the gateway's registry answers who they are, and only then are they enrolled. Names
and org paths come from the registry, never from the request; an ID the registry does not know (or a
teacher who left) refuses the whole cohort, row by row. National IDs are sent to the gateway and never
kept, logged or echoed here."""

from __future__ import annotations

from gateway.registry.schemas import ResolvedTeacher, ResolveRequest, ResolveResponse, TeacherFilter
from libs.errors import ProblemError, Unprocessable
from libs.service_client import ServiceClient, UpstreamRefused, service_path
from services.progress.schemas import CohortCreate, CohortMember

RESOLVE = service_path("registry", "resolve")
MAX_BY_FILTER = 20_000  # a cohort by filter larger than this is refused: narrow the filter
PAGE = 5_000


class RejectedTeachers(ProblemError):
    """Rows of a cohort the registry refused; nothing was enrolled."""

    status, slug, title = 422, "invalid-rows", "Teachers of the cohort were refused; nothing was enrolled"


def member(teacher: ResolvedTeacher) -> CohortMember:
    return CohortMember(
        person_id=teacher.user_id or teacher.registry_id,
        name=teacher.display_name,
        org_path=teacher.org_path,
    )


def by_national_ids(client: ServiceClient, national_ids: list[str]) -> list[CohortMember]:
    """The registry's entries in the order asked; rows (1-based positions) it does not know, or whose
    teacher left, are refused with their reason."""
    answer = client.post_model(RESOLVE, ResolveRequest(national_ids=national_ids), ResolveResponse)
    errors = [
        {"row": position + 1, "column": "national_ids", "reason": "not in the registry", "code": "unknown"}
        for position in answer.unknown
    ]
    known = [p for p in range(len(national_ids)) if p not in set(answer.unknown)]
    members = []
    for position, teacher in zip(known, answer.items, strict=True):
        if teacher.status != "active":
            errors.append(
                {"row": position + 1, "column": "national_ids", "reason": "left the registry", "code": "left"}
            )
        else:
            members.append(member(teacher))
    if errors:
        errors.sort(key=lambda e: int(str(e["row"])))
        raise RejectedTeachers(
            f"{len(errors)} of {len(national_ids)} teachers were refused; nothing was enrolled.",
            errors=errors,
        )
    return members


def by_filter(client: ServiceClient, body: CohortCreate) -> list[CohortMember]:
    """Every active registry teacher the filter selects, page by page (at most MAX_BY_FILTER)."""
    assert body.filter is not None
    flt = TeacherFilter(**body.filter.model_dump(), status="active")
    members: list[CohortMember] = []
    after: str | None = None
    while True:
        try:
            page = client.post_model(
                RESOLVE, ResolveRequest(filter=flt, after=after, limit=PAGE), ResolveResponse
            )
        except UpstreamRefused as exc:
            if exc.upstream_status == 404:  # the registry has no such unit
                raise Unprocessable(f"No org unit {flt.org!r} in the registry.", field="filter.org") from exc
            raise
        members.extend(member(t) for t in page.items)
        if len(members) > MAX_BY_FILTER:
            raise Unprocessable(
                f"The filter selects more than {MAX_BY_FILTER:,} teachers; narrow it.", field="filter"
            )
        if page.next is None:
            break
        after = page.next
    if not members:
        raise Unprocessable("No active registry teacher matches the filter.", field="filter")
    return members


def resolve(client: ServiceClient, body: CohortCreate) -> list[CohortMember]:
    """Who the cohort is, as the registry says (called outside any transaction: it is an HTTP call)."""
    if body.national_ids is not None:
        return by_national_ids(client, body.national_ids)
    return by_filter(client, body)

"""Coverage pages (docs/analytics.md, "Coverage"): the coverage dashboard of a programme per org unit
(registered teachers in the target, enrolled, completed, certified, not started, still needed, trend,
projection, furthest behind) and the ministry's programme page (list, define). Server-rendered, no
script; suppressed counts are shown as "<10"."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.analytics import shown
from gateway.web.app import ApiError, call_api, read_form, redirect, render, signed_in
from gateway.web.i18n import gettext as _

P = "/api/v1/progress/programmes"
ROLES = ("analyst", "platform_admin")


def measure_names() -> dict[str, str]:
    return {
        "population": _("Registered teachers in the target"),
        "enrolled": _("Enrolled"),
        "not_started": _("Not yet started"),
        "completed": _("Completed"),
        "certified": _("Certified"),
    }


def percent(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)}%"


def trend_bars(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One bar a week, its height by completions (a hidden week: a hatched bar at full height)."""
    top = max([p["completed"] or 0 for p in points] + [1])
    return [
        {
            "x": 8 + i * 25,
            "height": 80.0 if p["completed"] is None else 80 * p["completed"] / top,
            "hidden": p["completed"] is None,
            "label": p["week"][5:],
            "text": "<10" if p["completed"] is None else str(p["completed"]),
        }
        for i, p in enumerate(points)
    ]


async def coverage(request: Request) -> Response:
    user = await signed_in(request, *ROLES)
    programmes = (await call_api(request, "GET", P))["items"]
    chosen = request.query_params.get("programme") or (programmes[0]["id"] if programmes else "")
    if not chosen:
        return render(request, "coverage.html", user=user, programmes=[], report=None, unit=None)
    params = {"unit": request.query_params.get("org", "")} if request.query_params.get("org") else {}
    report = await call_api(request, "GET", f"{P}/{chosen}/coverage", params=params)
    unit = await call_api(
        request, "GET", "/api/v1/progress/analytics/units", params={"org": report["unit"]["code"]}
    )
    return render(
        request,
        "coverage.html",
        user=user,
        programmes=programmes,
        chosen=chosen,
        report=report,
        unit=unit,
        measures=measure_names(),
        bars=trend_bars(report["trend"]),
        shown=lambda v: shown(v, report["threshold"]),
        percent=percent,
    )


async def programmes_page(request: Request) -> Response:
    user = await signed_in(request, *ROLES)
    errors: dict[str, str] = {}
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = await read_form(request)
        body = {
            "title": str(form.get("title", "")).strip(),
            "course_ids": [c for c in str(form.get("course_ids", "")).replace(",", " ").split() if c],
            "target": {k: v for k in ("org", "subject", "employment") if (v := str(form.get(k, "")).strip())},
            "target_percent": int(form["target_percent"])
            if str(form.get("target_percent", "")).isdigit()
            else 100,
            "deadline": str(form.get("deadline", "")),
        }
        try:
            created = await call_api(request, "POST", P, json=body)
        except ApiError as exc:
            if exc.status not in (400, 403, 422):
                raise
            errors["form"] = str(exc.problem.get("detail") or exc.problem.get("title"))
        else:
            return redirect(f"/coverage?programme={created['id']}")
    listing = (await call_api(request, "GET", P))["items"]
    return render(
        request,
        "programmes.html",
        status_code=422 if errors else 200,
        user=user,
        programmes=listing,
        form=form,
        errors=errors,
        can_define=user.has("platform_admin") or (user.has("analyst") and "/" not in (user.scope or "")),
    )


routes = [
    Route("/coverage", coverage),
    Route("/coverage/programmes", programmes_page, methods=["GET", "POST"]),
]

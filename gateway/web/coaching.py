"""Coaching pages (docs/practice.md): the teacher's coaching record (/me/coaching: plan, sessions,
observations to acknowledge and comment on), the coach's teachers and the observation form a coach
fills on a phone (/coach, /coach/observe/{form}), offline with static/observe.js and without
JavaScript as a plain form, and the coordinator's appointments and coverage (/coordinator/coaching)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.web.app import ApiError, call_api, page_user, read_form, redirect, render, signed_in
from libs.errors import PROBLEM_JSON, problem

P = "/api/v1/progress/practice"


async def my_coaching(request: Request) -> Response:
    user = await signed_in(request)
    plan = await call_api(request, "GET", f"{P}/plans/me")
    return render(request, "coaching.html", user=user, plan=plan)


async def comment(request: Request) -> Response:
    await signed_in(request)
    form = await read_form(request)
    subject = str(form.get("subject") or "")
    await call_api(request, "POST", f"{P}/comments/{quote(subject)}", json={"text": form.get("text") or ""})
    return redirect(str(form.get("back") or "/me/coaching"))


EVIDENCE_UPLOAD_MAX = 960 * 1024  # a phone photo before re-encoding (the service caps it again)


async def acknowledge(request: Request) -> Response:
    await signed_in(request)
    await read_form(request)  # the CSRF check, before the service is asked
    await call_api(
        request, "POST", f"{P}/observations/{quote(request.path_params['observation_id'])}/acknowledge"
    )
    return redirect("/me/coaching")


async def coach_home(request: Request) -> Response:
    user = await signed_in(request)
    mine = await call_api(request, "GET", f"{P}/coach/teachers")
    form_id = request.query_params.get("form", "")
    return render(request, "coach.html", user=user, mine=mine, form_id=form_id)


async def observe(request: Request) -> Response:
    """The observation form of a rubric, for one teacher; a new id per page, so the same filled form
    sent twice (offline queue, a double tap) is stored once."""
    user = await signed_in(request)
    form = await call_api(request, "GET", f"{P}/forms/{quote(request.path_params['form_id'])}")
    teacher = request.query_params.get("teacher", "")
    saved = request.query_params.get("saved") == "1"
    today = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")
    return render(
        request,
        "observe.html",
        user=user,
        form=form,
        teacher=teacher,
        id=str(uuid.uuid4()),
        today=today,
        saved=saved,
    )


def _observation(form: dict[str, Any]) -> dict[str, Any]:
    ratings = {k[2:]: int(v) for k, v in form.items() if k.startswith("r:") and str(v).isdigit()}
    notes = {k[2:]: str(v) for k, v in form.items() if k.startswith("n:") and v}
    observed = str(form.get("observed_on") or "")
    return {
        "id": form.get("id"),
        "form_id": form.get("form_id"),
        "teacher_id": form.get("teacher_id"),
        "observed_on": observed if observed.endswith("Z") or "+" in observed else observed + "Z",
        "ratings": ratings,
        "notes": notes,
    }


async def submit_observation(request: Request) -> Response:
    """Without JavaScript: the form posts here and the observation is sent at once."""
    await signed_in(request)
    form = await read_form(request)
    body = _observation(form)
    await call_api(request, "POST", f"{P}/observations", json=[body])
    return redirect(
        f"/coach/observe/{quote(str(body['form_id']))}?teacher={quote(str(body['teacher_id']))}&saved=1"
    )


async def sync_observations(request: Request) -> Response:
    """static/observe.js's queue: same-origin JSON, the session cookie says who the coach is."""
    user = await page_user(request)
    if user is None:
        return problem(
            401,
            "Authentication required",
            "Log in again; the phone keeps your observations.",
            slug="unauthorized",
            instance=request.url.path,
        )
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if "json" not in request.headers.get("content-type", "") or (origin and origin != own):
        return problem(403, "Forbidden", "Same-origin JSON only.", instance=request.url.path)
    try:
        batch = json.loads(await request.body())
    except ValueError:
        return problem(400, "Bad request", "The body is not JSON.", instance=request.url.path)
    items = (
        [_observation(b) if isinstance(b, dict) and "ratings" not in b else b for b in batch]
        if isinstance(batch, list)
        else batch
    )
    try:
        stored = await call_api(request, "POST", f"{P}/observations", json=items)
    except ApiError as exc:
        return JSONResponse(exc.problem, status_code=exc.status, media_type=PROBLEM_JSON)
    return JSONResponse(stored)


async def coordinator_coaching(request: Request) -> Response:
    user = await signed_in(request, "coordinator", "institute_admin", "platform_admin", "analyst")
    problem_ = None
    if request.method == "POST":
        form = await read_form(request)
        body = {"user_id": form.get("user_id") or "", "name": form.get("name") or ""}
        for field in ("school", "course_id"):  # a school, or a course's cohort
            if form.get(field):
                body[field] = str(form[field]).strip()
        try:
            await call_api(request, "POST", f"{P}/coaches", json=body)
            return redirect("/coordinator/coaching?saved=1")
        except ApiError as exc:
            if exc.status not in (403, 422):
                raise
            problem_ = exc.problem
    report = cpd = observed = None
    if user.has("coordinator", "analyst", "platform_admin"):
        cycle = {"cycle": c} if (c := request.query_params.get("cycle")) else {}
        report, cpd, observed = await asyncio.gather(
            call_api(request, "GET", f"{P}/dashboard/coaching"),
            call_api(request, "GET", f"{P}/dashboard/cpd", params=cycle),
            call_api(request, "GET", f"{P}/dashboard/observations"),
        )
    return render(
        request,
        "coaching_coverage.html",
        user=user,
        report=report,
        cpd=cpd,
        observed=observed,
        problem=problem_,
        saved=request.query_params.get("saved") == "1",
        status_code=422 if problem_ else 200,
    )


async def portfolio(request: Request) -> Response:
    user = await signed_in(request)
    problem_ = None
    if request.method == "POST":
        form = await read_form(request, max_files=1, max_fields=7, max_part_size=EVIDENCE_UPLOAD_MAX)
        files = {}
        upload = form.get("file")
        if upload is not None and not isinstance(upload, str) and upload.filename:
            files["file"] = (
                upload.filename,
                await upload.read(),
                upload.content_type or "application/octet-stream",
            )
        data = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
        try:
            await call_api(request, "POST", f"{P}/evidence", data=data, files=files or None)
            return redirect("/me/portfolio")
        except ApiError as exc:
            if exc.status not in (413, 415, 422):
                raise
            problem_ = exc.problem
    items = await call_api(request, "GET", f"{P}/portfolio/me")
    return render(
        request,
        "portfolio.html",
        user=user,
        items=items["items"],
        problem=problem_,
        status_code=422 if problem_ else 200,
    )


routes = [
    Route("/me/coaching", my_coaching),
    Route("/me/coaching/comments", comment, methods=["POST"]),
    Route("/me/coaching/observations/{observation_id}/acknowledge", acknowledge, methods=["POST"]),
    Route("/me/portfolio", portfolio, methods=["GET", "POST"]),
    Route("/coach", coach_home),
    Route("/coach/observe/{form_id}", observe),
    Route("/coach/observations", submit_observation, methods=["POST"]),
    Route("/coach/observations.json", sync_observations, methods=["POST"]),
    Route("/coordinator/coaching", coordinator_coaching, methods=["GET", "POST"]),
]

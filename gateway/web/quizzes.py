"""Quiz pages: the quiz form (works with JavaScript off), its submission, and the result with the pass
mark and the score. A decimal comma is a number; a form sent empty comes back with the error."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.app import ApiError, call_api, page_lang, page_user, read_form, redirect, render, signed_in
from gateway.web.i18n import format_number
from gateway.web.i18n import gettext as _


async def _quiz(request: Request) -> dict[str, Any]:
    p = request.path_params
    content = await call_api(request, "GET", f"/api/v1/courses/{p['course_id']}/versions/{p['version']}")
    for module in content["modules"]:
        for item in module["items"]:
            if item["type"] == "quiz" and item["id"] == p["quiz_id"]:
                return {"content": content, "quiz": item}
    raise ApiError(404, {"title": _("Not found"), "detail": _("This quiz is not part of the course.")})


async def quiz_page(request: Request) -> Response:
    user = await page_user(request)
    page_lang(request, user)
    found = await _quiz(request)
    return render(request, "quiz.html", user=user, answers=None, error=None, **found)


def number(text: str) -> float | None:
    """A typed number: a decimal comma or point ("70,0" = "70.0" = 70.0), spaces as digit grouping."""
    cleaned = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        return None


def quiz_answers(questions: list[dict[str, Any]], form: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The answers a quiz form holds, as the progress service reads them, and the ids of numeric
    questions whose text is not a number."""
    answers: dict[str, Any] = {}
    not_numbers = []
    for question in questions:
        value = form.get(question["id"])
        if value in (None, "") or (isinstance(value, str) and not value.strip()):
            continue
        if question["kind"] == "multiple":
            answers[question["id"]] = value if isinstance(value, list) else [value]
        elif question["kind"] == "numeric":
            parsed = number(str(value))
            if parsed is None:
                not_numbers.append(question["id"])
            answers[question["id"]] = parsed if parsed is not None else str(value)
        else:
            answers[question["id"]] = value
    return answers, not_numbers


async def submit_quiz(request: Request) -> Response:
    p = request.path_params
    user = await signed_in(request)
    form = await read_form(request)
    found = await _quiz(request)
    answers, not_numbers = quiz_answers(found["quiz"]["questions"], form)
    error = None
    if not answers:
        error = _("Answer at least one question before you submit.")
    elif not_numbers:
        error = _("Write a number, for example %(example)s.") % {"example": format_number(70.5)}
    if error is None:
        try:
            submission = await call_api(
                request,
                "POST",
                "/api/v1/progress/submissions",
                json={
                    "id": form.get("submission_id") or None,
                    "course_id": p["course_id"],
                    "quiz_id": p["quiz_id"],
                    "answers": answers,
                },
            )
        except ApiError as exc:
            if exc.status != 422:
                raise
            error = _("These answers could not be accepted. Check them and submit again.")
        else:
            return redirect(f"/submissions/{submission['id']}")
    shown = {k: str(form.get(k)) if not isinstance(form.get(k), list) else form.get(k) for k in answers}
    return render(request, "quiz.html", status_code=422, user=user, answers=shown, error=error, **found)


async def submission_page(request: Request) -> Response:
    user = await signed_in(request)
    submission = await call_api(
        request, "GET", f"/api/v1/progress/submissions/{request.path_params['submission_id']}"
    )
    course = quiz = None
    if submission["status"] == "graded":  # the pass mark and the quiz's title, from the course version
        mine = await call_api(request, "GET", "/api/v1/progress/me/progress")
        enrolment = next(
            (c["enrolment"] for c in mine["items"] if c["enrolment"]["id"] == submission["enrolment_id"]),
            None,
        )
        if enrolment is not None:
            course = await call_api(
                request, "GET", f"/api/v1/courses/{enrolment['course_id']}/versions/{enrolment['version']}"
            )
            quiz = next(
                (i for m in course["modules"] for i in m["items"] if i["id"] == submission["quiz_id"]), None
            )
    return render(request, "submission.html", user=user, submission=submission, course=course, quiz=quiz)


routes = [
    Route("/courses/{course_id}/v/{version:int}/quizzes/{quiz_id}", quiz_page, methods=["GET"]),
    Route("/courses/{course_id}/v/{version:int}/quizzes/{quiz_id}", submit_quiz, methods=["POST"]),
    Route("/submissions/{submission_id}", submission_page),
]

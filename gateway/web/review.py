"""The review page: the whole course as a teacher will see it, every answer key beside its question,
a comment box per lesson and quiz, and what changed since the published version, line by line."""

from __future__ import annotations

import asyncio
import difflib
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web import draft_form as df
from gateway.web.app import ApiError, call_api, read_form, redirect, render, signed_in
from gateway.web.editor_calls import indicator_labels, preview_lesson
from gateway.web.editor_text import kind_names
from gateway.web.i18n import gettext as _

CONTEXT = 2  # unchanged lines shown around a change


def line_diff(before: str, after: str) -> list[tuple[str, str]]:
    """(kind, line) with kind "same", "del", "ins" or "skip" (unchanged lines left out)."""
    a, b = before.split("\n") if before else [], after.split("\n") if after else []
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            same = a[i1:i2]
            if len(same) > 2 * CONTEXT + 1:
                head = same[:CONTEXT] if out else []
                tail = same[-CONTEXT:] if i2 < len(a) else []
                out += [("same", line) for line in head]
                out.append(
                    ("skip", _("… %(n)s unchanged lines …") % {"n": len(same) - len(head) - len(tail)})
                )
                out += [("same", line) for line in tail]
            else:
                out += [("same", line) for line in same]
            continue
        out += [("del", line) for line in a[i1:i2]]
        out += [("ins", line) for line in b[j1:j2]]
    return out


def field_names() -> dict[str, str]:
    return {
        "title": _("Title"),
        "summary": _("Summary"),
        "markdown": _("Text"),
        "indicators": _("Competencies"),
        "prompt": _("Question"),
        "options": _("Options"),
        "answer": _("Answer key"),
        "kind": _("Type of question"),
        "pass_mark": _("Pass mark"),
        "estimated_minutes": _("Estimated minutes"),
        "level": _("Level"),
        "licence": _("Licence"),
        "audience": _("Audience"),
        "completion": _("Completion rule"),
        "framework": _("Competency framework"),
    }


def rendered_diff(diff: dict[str, Any]) -> dict[str, Any]:
    """The draft diff with each changed field as lines to show."""
    names = field_names()

    def fields(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"name": names.get(f["name"], f["name"]), "lines": line_diff(f["before"], f["after"])}
            for f in changes
        ]

    return {
        "base_version": diff["base_version"],
        "metadata": fields(diff["metadata"]),
        "items": [{**i, "fields": fields(i["fields"])} for i in diff["items"]],
        "questions": [{**q, "fields": fields(q["fields"])} for q in diff["questions"]],
    }


async def review_page(request: Request) -> Response:
    course_id = request.path_params["course_id"]
    user = await signed_in(request, "institute_admin")
    view = await call_api(request, "GET", f"/api/v1/courses/{quote(course_id)}/draft")
    draft = df.working_copy(view)
    problem, kept = None, {}
    if request.method == "POST":
        form = await read_form(request, max_fields=1000)
        kept = {k: df.text(form, k) for k in form if k.startswith("comment")}
        body = {
            "decision": df.text(form, "decision"),
            "comment": df.text(form, "comment"),
            "comments": [
                {"item_id": item["id"], "body": text}
                for _module, item in df.items(draft)
                if (text := df.text(form, f"comment.{item['id']}").strip())
            ],
        }
        try:
            await call_api(request, "POST", f"/api/v1/courses/{quote(course_id)}/review", json=body)
            return redirect("/author")
        except ApiError as exc:
            if exc.status not in (409, 422):
                raise
            problem = exc.problem
    lessons = [item for _module, item in df.items(draft) if item["type"] == "lesson"]
    codes = {c for _m, i in df.items(draft) for c in i.get("indicators") or []} | {
        c for _m, i in df.items(draft) for q in i.get("questions", []) for c in q.get("indicators") or []
    }
    previews, diff, labels = await asyncio.gather(
        asyncio.gather(*(preview_lesson(request, lesson, view["language"]) for lesson in lessons)),
        call_api(request, "GET", f"/api/v1/courses/{quote(course_id)}/draft/diff"),
        indicator_labels(request, draft.get("framework", ""), codes),
    )
    return render(
        request,
        "review.html",
        status_code=problem["status"] if problem else 200,
        user=user,
        view=view,
        draft=draft,
        previews=dict(zip([lesson["id"] for lesson in lessons], previews, strict=True)),
        diff=rendered_diff(diff),
        labels=labels,
        kinds=kind_names(),
        problem=problem,
        kept=kept,
        field_id=df.field_id,
    )


routes = [Route("/review/courses/{course_id}", review_page, methods=["GET", "POST"])]

"""Communities of practice (docs/practice.md): the index of spaces (and a form to open one), a space's
threads (featured best practice first), a thread with its posts, a reply form (a locked thread says
so; a suspended member is told), and moderators' forms (suspend or reinstate a member). JS off.

A new thread or reply lands on its thread with `?posted=thread|reply`: the page says "Posted." and
names the draft it accepted, which static/drafts.js then clears from the phone."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.app import ApiError, call_api, read_form, redirect, render, signed_in

P = "/api/v1/progress/practice"
MODERATORS = ("institute_admin", "coordinator", "platform_admin")


async def index(request: Request) -> Response:
    user = await signed_in(request)
    problem = None
    if request.method == "POST":  # a moderator suspends or reinstates a member by their user id
        form = await read_form(request)
        try:
            await call_api(
                request,
                "POST",
                f"{P}/members/{quote(str(form.get('user_id') or '-'), safe='')}/moderation",
                json={"action": form.get("action") or "", "reason": form.get("reason") or ""},
            )
            return redirect("/community?done=1")
        except ApiError as exc:
            if exc.status not in (403, 404, 422):
                raise
            problem = exc.problem
    wanted = request.query_params.get("kind"), request.query_params.get("code", "").strip()
    if wanted[0] in ("course", "competency", "cluster") and wanted[1]:
        return redirect(f"/community/{wanted[0]}:{quote(wanted[1], safe='')}")
    spaces = await call_api(request, "GET", f"{P}/spaces")
    return render(
        request,
        "community_index.html",
        user=user,
        spaces=spaces["items"],
        moderator=user.has(*MODERATORS),
        problem=problem,
        done=request.query_params.get("done") == "1",
        status_code=int(problem.get("status") or 422) if problem else 200,
    )


async def space(request: Request) -> Response:
    user = await signed_in(request)
    space_id = request.path_params["space_id"]
    problem = None
    if request.method == "POST":
        form = await read_form(request)
        body = {
            "title": form.get("title") or "",
            "text": form.get("text") or "",
            "language": form.get("language") or user.lang,
        }
        try:
            made = await call_api(request, "POST", f"{P}/spaces/{quote(space_id)}/threads", json=body)
            return redirect(f"/community/threads/{made['id']}?posted=thread")
        except ApiError as exc:
            if exc.status not in (403, 422):
                raise
            problem = exc.problem
    found = await call_api(request, "GET", f"{P}/spaces/{quote(space_id)}")
    return render(
        request,
        "community_space.html",
        user=user,
        space=found,
        problem=problem,
        status_code=int(problem.get("status") or 422) if problem else 200,
    )


async def thread(request: Request) -> Response:
    user = await signed_in(request)
    thread_id = request.path_params["thread_id"]
    problem = None
    if request.method == "POST":
        form = await read_form(request)
        try:
            if form.get("action"):
                target = (
                    f"posts/{quote(str(form['post_id']))}"
                    if form.get("post_id")
                    else f"threads/{quote(thread_id)}"
                )
                await call_api(
                    request,
                    "POST",
                    f"{P}/{target}/moderation",
                    json={"action": form["action"], "reason": form.get("reason") or ""},
                )
            else:
                await call_api(
                    request,
                    "POST",
                    f"{P}/threads/{quote(thread_id)}/posts",
                    json={"text": form.get("text") or "", "language": user.lang},
                )
                return redirect(f"/community/threads/{thread_id}?posted=reply")
            return redirect(f"/community/threads/{thread_id}")
        except ApiError as exc:
            if exc.status not in (403, 409, 422):
                raise
            problem = exc.problem
    found = await call_api(request, "GET", f"{P}/threads/{quote(thread_id)}")
    return render(
        request,
        "community_thread.html",
        user=user,
        thread=found,
        moderator=user.has(*MODERATORS),
        problem=problem,
        posted=request.query_params.get("posted") if not problem else None,
        status_code=int(problem.get("status") or 409) if problem else 200,
    )


routes = [
    Route("/community", index, methods=["GET", "POST"]),
    Route("/community/threads/{thread_id}", thread, methods=["GET", "POST"]),
    Route("/community/{space_id}", space, methods=["GET", "POST"]),
]

"""Pages: server-rendered HTML that works with JavaScript off, phone first. Account pages live here;
each area has its own module, assembled in `routes`."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import service
from gateway.proxy import merged_openapi
from gateway.registry.account_routes import throttled_login
from gateway.state import state
from gateway.web import (
    accounts,
    achievements,
    admin,
    analytics,
    authoring,
    case,
    certificates,
    coaching,
    community,
    courses,
    coverage,
    cpd,
    homes,
    institute,
    lrs,
    packages,
    progress,
    quizzes,
    registry_admin,
    review,
)
from gateway.web.accounts import problem_text
from gateway.web.app import (
    ACCESS_COOKIE,
    REFRESH_COOKIE,
    ApiError,
    page_lang,
    page_user,
    read_form,
    redirect,
    render,
    set_lang_cookie,
    set_session,
)
from gateway.web.i18n import LANGUAGES
from gateway.web.i18n import gettext as _
from gateway.web.roles import home_of
from libs.auth import Principal
from libs.db import in_transaction
from libs.errors import TooManyRequests, Unauthorized


async def login_form(request: Request) -> Response:
    page_lang(request)
    return render(
        request,
        "login.html",
        next=request.query_params.get("next", ""),
        error=None,
        reset=request.query_params.get("reset") == "1",
    )


async def login(request: Request) -> Response:
    page_lang(request)
    form = await read_form(request)
    target = str(form.get("next") or "")
    if not target.startswith("/") or target.startswith("//"):
        target = ""  # the home of the account's role
    try:  # throttled after failed attempts (gateway/registry/throttle.py)
        pair = await throttled_login(request, str(form.get("username", "")), str(form.get("password", "")))
    except Unauthorized:
        return render(
            request,
            "login.html",
            status_code=401,
            next=target,
            error=_("The username or password is not correct."),
        )
    except TooManyRequests as refused:
        page = render(request, "login.html", status_code=429, next=target, error=problem_text(refused))
        page.headers.update(refused.headers)
        return page
    account = Principal.from_claims(await state(request).verifier.verify(pair.access_token))
    response = redirect(target or home_of(account))
    set_session(response, request, pair.access_token, pair.refresh_token)
    if account.lang in LANGUAGES:  # the account's language follows the teacher to every device
        set_lang_cookie(response, request, account.lang)
    return response


async def logout(request: Request) -> Response:
    await read_form(request)  # the CSRF check: nothing else is posted
    refresh = request.cookies.get(REFRESH_COOKIE)
    if refresh:
        await in_transaction(request, service.logout, refresh)
    response = redirect("/login")
    response.delete_cookie(ACCESS_COOKIE)
    response.delete_cookie(REFRESH_COOKIE)
    return response


async def set_language(request: Request) -> Response:
    """The language switcher (a form on every page): this device remembers the choice in a cookie and,
    for a signed-in person, their account does too, so it follows them to the next login."""
    form = await read_form(request)
    lang, back = str(form.get("lang", "")), str(form.get("next") or "/")
    if lang not in LANGUAGES:
        page_lang(request)
        raise ApiError(
            400, {"title": _("Unknown language"), "detail": _("Choose one of the languages listed.")}
        )
    response = redirect(back if back.startswith("/") and not back.startswith("//") else "/")
    set_lang_cookie(response, request, lang)
    user = await page_user(request)
    if user is not None:  # always: the token's lang claim may be older than the last switch
        await in_transaction(request, service.set_lang, user.id, lang)
    refreshed = getattr(request.state, "refreshed", None)
    if refreshed is not None:
        set_session(response, request, refreshed.access_token, refreshed.refresh_token)
    return response


async def api_docs(request: Request) -> Response:
    page_lang(request)
    return render(request, "docs.html", spec=await merged_openapi(request))


# The service worker is served from the site root so its scope is the whole site; its modules and the
# page scripts from /static. Progressive enhancement only: every page works without them.
STATIC = Path(__file__).parent / "static"
SCRIPTS = {
    "sw.js": "no-cache",
    "offline.js": "public, max-age=86400",
    "sw-queue.js": "public, max-age=86400",
    "certificates.js": "public, max-age=86400",
    "saved.js": "public, max-age=86400",
    "editor.js": "public, max-age=86400",
    "observe.js": "public, max-age=86400",
    "drafts.js": "public, max-age=86400",
}


async def script(request: Request) -> Response:
    name = request.path_params.get("name", "sw.js")
    if name not in SCRIPTS:
        return Response(status_code=404)
    return Response(
        (STATIC / name).read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": SCRIPTS[name], "X-Content-Type-Options": "nosniff"},
    )


routes = [
    *case.routes,
    *achievements.routes,
    *courses.routes,
    *quizzes.routes,
    *authoring.routes,
    *review.routes,
    *certificates.routes,
    *analytics.routes,
    *coverage.routes,
    *progress.routes,
    *homes.routes,
    *institute.routes,
    *lrs.routes,
    *packages.routes,
    *accounts.routes,  # activation, password reset, join requests, sessions (gateway/registry)
    *registry_admin.routes,
    *admin.routes,
    *coaching.routes,  # coaching, observation, portfolio (docs/practice.md)
    *cpd.routes,  # webinars and the CPD transcript
    *community.routes,
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/lang", set_language, methods=["POST"]),
    Route("/docs", api_docs),
    Route("/sw.js", script),
    Route("/static/{name}", script),
]

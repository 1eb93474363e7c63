"""Jinja environment and session helpers for the pages the gateway renders (backend-for-frontend)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gateway import service
from gateway.state import app_state, state
from gateway.web import csrf
from gateway.web.i18n import (
    LANGUAGES,
    current_lang,
    format_date,
    format_datetime,
    format_month,
    format_number,
    format_percent,
    gettext,
    html_lang,
    negotiate,
    ngettext,
    parse_fallback,
)
from gateway.web.roles import home_of, nav_roles
from libs.auth import InvalidToken, Principal
from libs.db import in_transaction
from libs.errors import Unauthorized
from libs.logs import request_id_var, user_id_var

TEMPLATES = Path(__file__).parent / "templates"
log = logging.getLogger("ustaz.web")
ACCESS_COOKIE, REFRESH_COOKIE, LANG_COOKIE = "ustaz_at", "ustaz_rt", "ustaz_lang"


def setup_web(app: Starlette) -> None:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg", "xml"]),
        extensions=["jinja2.ext.i18n", csrf.FormTokens],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        languages=LANGUAGES,
        html_lang=html_lang,
        home_of=home_of,
        nav_roles=nav_roles,
        format_date=format_date,
        format_datetime=format_datetime,
        format_month=format_month,
        format_number=format_number,
        format_percent=format_percent,
    )
    st = app_state(app)
    st.templates = env
    st.content_fallback = parse_fallback(st.settings.content_fallback)


def page_lang(request: Request, user: Principal | None = None) -> str:
    """The UI language of this page: the choice made on this device (the switcher's cookie, which login
    sets from the account), else the account's language, else Accept-Language negotiation."""
    lang = next(
        (c for c in (request.cookies.get(LANG_COOKIE), user.lang if user else None) if c in LANGUAGES), None
    ) or negotiate(request.headers.get("accept-language", ""))
    current_lang.set(lang)
    return lang


def set_lang_cookie(response: Response, request: Request, lang: str) -> None:
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=365 * 86400,
        samesite="lax",
        secure=state(request).settings.cookie_secure,
    )


async def page_user(request: Request) -> Principal | None:
    """The signed-in person from the session cookies, refreshing an expired access token."""
    if hasattr(request.state, "user"):
        return request.state.user  # type: ignore[no-any-return]
    user = await _access_cookie_user(request)
    if user is None:
        user = await _refreshed_user(request)
    request.state.user = user  # an error page later in this request still shows who is signed in
    return user


async def _access_cookie_user(request: Request) -> Principal | None:
    token = request.cookies.get(ACCESS_COOKIE)
    if not token:
        return None
    try:
        principal = Principal.from_claims(await state(request).verifier.verify(token))
    except InvalidToken:
        return None
    user_id_var.set(principal.id)
    request.state.token = token
    return principal


async def _refreshed_user(request: Request) -> Principal | None:
    """Rotate the refresh cookie's token (the page's response sets the new pair: `render`)."""
    refresh = request.cookies.get(REFRESH_COOKIE)
    if not refresh:
        return None
    settings = state(request).settings
    try:
        pair = await in_transaction(
            request, service.refresh, state(request).issuer, refresh, settings.refresh_token_days
        )
    except Unauthorized:
        return None
    if pair is None:  # a reused token: its whole session is revoked
        return None
    request.state.refreshed = pair
    request.state.token = pair.access_token
    return Principal.from_claims(await state(request).verifier.verify(pair.access_token))


def set_session(response: Response, request: Request, access: str, refresh: str | None) -> None:
    secure = state(request).settings.cookie_secure
    days = state(request).settings.refresh_token_days * 86400
    response.set_cookie(ACCESS_COOKIE, access, max_age=days, httponly=True, samesite="lax", secure=secure)
    if refresh:
        response.set_cookie(
            REFRESH_COOKIE, refresh, max_age=days, httponly=True, samesite="lax", secure=secure
        )


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    env: Environment = state(request).templates
    lang = current_lang.get()
    context.setdefault("user", getattr(request.state, "user", None))
    html = env.get_template(template).render(
        request=request, lang=lang, request_id=request_id_var.get(), **context
    )
    response = HTMLResponse(
        html,
        status_code=status_code,
        headers={
            "Content-Language": html_lang(lang),
            "Cache-Control": "private, no-cache",
            "Vary": "Accept-Language, Cookie",
            "Content-Security-Policy": CSP,
        },
    )
    csrf.set_cookie(response, request)  # when this page's forms got a new token
    pair = getattr(request.state, "refreshed", None)
    if pair is not None:
        set_session(response, request, pair.access_token, pair.refresh_token)
    return response


CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'"
)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


class ApiError(Exception):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail") or problem.get("title"))
        self.status = status
        self.problem = problem


async def call_service(request: Request, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Call a service as the signed-in person (internal address, same token); an error answer or a
    service that does not answer is an ApiError, which pages show as an error page."""
    service_name = path.split("/")[3]
    base = state(request).settings.upstreams[service_name]
    headers = {"x-request-id": request_id_var.get() or "", **kwargs.pop("headers", {})}
    token = getattr(request.state, "token", None)
    if token:
        headers["authorization"] = f"Bearer {token}"
    client: httpx.AsyncClient = state(request).http
    try:
        response = await client.request(method, base + path, headers=headers, **kwargs)
    except httpx.TransportError as exc:
        raise ApiError(
            502,
            {
                "title": gettext("Service unavailable"),
                "detail": gettext("Part of Ustaz is not answering. Please try again in a minute."),
            },
        ) from exc
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:
            problem = {"title": response.reason_phrase}
        raise ApiError(response.status_code, problem)
    return response


async def call_api(request: Request, method: str, path: str, **kwargs: Any) -> Any:
    """A service's JSON answer (see `call_service`)."""
    response = await call_service(request, method, path, **kwargs)
    return response.json() if response.content else None


FORM_LIMIT = 64 * 1024


def xapi_actor(request: Request, user: Principal) -> dict[str, Any]:
    """The signed-in person as an xAPI agent (an account on this platform)."""
    return {
        "objectType": "Agent",
        "account": {"homePage": state(request).settings.public_url, "name": user.id},
    }


async def read_form(
    request: Request, *, max_files: int = 0, max_fields: int = 200, max_part_size: int = FORM_LIMIT
) -> dict[str, Any]:
    """A posted form from one of this site's pages: its CSRF token and origin are checked
    (gateway/web/csrf.py: every POST form carries the token), else the page is a 403. One value a
    name, or a list for a name sent several times (checkboxes)."""
    form = await request.form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)
    csrf.check(request, form)
    return {k: form.getlist(k) if len(form.getlist(k)) > 1 else form.get(k) for k in form.keys()}


def error_page(request: Request, exc: ApiError) -> Response:
    return render(request, "error.html", status_code=exc.status, problem=exc.problem)


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def signed_in(request: Request, *roles: str, next_path: str | None = None) -> Principal:
    """The person a page is for, with the page language set from their choice. Without a session
    the page becomes a redirect to the login form (back to `next_path`, by default this page); with
    none of `roles` it becomes a 403 page."""
    user = await page_user(request)
    if user is None:
        raise SignInRequired(next_path or request.url.path)
    page_lang(request, user)
    if roles and not user.has(*roles):
        raise ApiError(
            403, {"title": gettext("Forbidden"), "detail": gettext("This page is not for your role.")}
        )
    return user


async def api_error_page(request: Request, exc: Exception) -> Response:
    """A service's problem that a page does not handle itself becomes the error page."""
    assert isinstance(exc, ApiError)
    return error_page(request, exc)


async def sign_in_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return redirect(f"/login?next={quote(exc.next_path)}")


async def csrf_refused_page(request: Request, exc: Exception) -> Response:
    """A forged (or very stale) form POST changes nothing; the page says how to send it properly."""
    assert isinstance(exc, csrf.CsrfRefused)
    log.warning("form refused", extra={"path": request.url.path, "reason": str(exc)})
    page_lang(request)
    problem = {
        "title": gettext("This form cannot be accepted"),
        "detail": gettext("Open the page again and send the form from there."),
    }
    return error_page(request, ApiError(403, problem))


PAGE_EXCEPTION_HANDLERS = {
    ApiError: api_error_page,
    SignInRequired: sign_in_redirect,
    csrf.CsrfRefused: csrf_refused_page,
}

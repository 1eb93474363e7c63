"""CSRF protection for every HTML form, by construction (docs/adr/0014).

- A signed double-submit token: a random nonce and its HMAC (a key derived from the gateway's signing
  keys, so every replica agrees and no new secret is needed), kept in a cookie (`__Host-` prefixed when
  cookies are Secure, so a sibling subdomain cannot plant one) and repeated in a hidden field.
- `FormTokens`, a Jinja extension, adds that field to every `<form method="post">` of every template
  when the template is compiled, so a new form has it without anyone remembering.
- `check(request, form)`, called by `read_form`, refuses a POST whose field does not match the cookie,
  and any unsafe request whose `Sec-Fetch-Site` or `Origin` says another origin sent it (a sibling on
  the same site included: SameSite=Lax cookies travel there). Login forms are covered the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from jinja2 import pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.keys import SigningKey
from gateway.state import state
from libs.errors import problem

FIELD = "csrf_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
API = ("/api/", "/auth/")
log = logging.getLogger("ustaz.csrf")
_POST_FORM = re.compile(r"(<form\b[^>]*\bmethod=[\"']?post[\"']?[^>]*>)", re.IGNORECASE)


class CsrfRefused(Exception):
    """A form POST that did not come from one of this site's own pages (403; the page says why)."""


def cookie_name(request: Request) -> str:
    return "__Host-ustaz_csrf" if state(request).settings.cookie_secure else "ustaz_csrf"


def _keys(request: Request) -> list[bytes]:
    """HMAC keys, newest first: one per signing key, so a token outlives a key rotation."""
    return [_derive(k) for k in state(request).keys]


def _derive(key: SigningKey) -> bytes:
    raw = key.private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return hashlib.sha256(b"ustaz csrf v1\n" + raw).digest()


def _sign(key: bytes, nonce: str) -> str:
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()[:32]


def _valid(request: Request, token: str) -> bool:
    nonce, _, signature = token.partition(".")
    return bool(nonce) and any(hmac.compare_digest(_sign(k, nonce), signature) for k in _keys(request))


def token_for(request: Request) -> str:
    """This browser's token: the cookie's when it is valid, else a new one that `set_cookie` stores."""
    current = getattr(request.state, "csrf_token", None) or request.cookies.get(cookie_name(request), "")
    if not _valid(request, current):
        nonce = secrets.token_urlsafe(18)
        current = f"{nonce}.{_sign(_keys(request)[0], nonce)}"
        request.state.csrf_new = True
    request.state.csrf_token = current
    return current


def set_cookie(response: Response, request: Request) -> None:
    """Store a token made while rendering (called by `render`)."""
    if getattr(request.state, "csrf_new", False):
        settings = state(request).settings
        response.set_cookie(
            cookie_name(request),
            request.state.csrf_token,
            max_age=settings.refresh_token_days * 86400,
            httponly=True,
            samesite="lax",
            secure=settings.cookie_secure,
            path="/",
        )


def own_origins(request: Request) -> set[str]:
    public = urlsplit(state(request).settings.public_url)
    return {f"{public.scheme}://{public.netloc}", f"{request.url.scheme}://{request.url.netloc}"}


def check_origin(request: Request) -> None:
    """Browsers say who sent a request: `Sec-Fetch-Site` (same-origin, or none for what the person
    typed), else `Origin`. Anything else (another site, a sibling subdomain, `Origin: null`) is refused;
    a client that sends neither (an old browser, a script) still needs the token."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise CsrfRefused(f"sent from another site ({site})")
    origin = request.headers.get("origin")
    if origin is not None and origin not in own_origins(request):
        raise CsrfRefused("sent from another origin")


class SameOriginMiddleware:
    """Refuses (403) every unsafe request to a page path (not /api/ or /auth/, which take bearer tokens
    and JSON) that a browser says came from another origin, before any handler runs: by construction
    for every page route, the ones added later included. The token is checked by `read_form`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in SAFE_METHODS
            and not scope["path"].startswith(API)
        ):
            try:
                check_origin(Request(scope))
            except CsrfRefused as exc:
                log.warning("cross-origin request refused", extra={"path": scope["path"], "reason": str(exc)})
                response = problem(
                    403, "Forbidden", "This request came from another site.", slug="cross-origin"
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def check(request: Request, form: FormData) -> None:
    """A POST from one of this site's own forms: same origin, and the hidden field matching the cookie."""
    check_origin(request)
    sent = form.get(FIELD)
    cookie = request.cookies.get(cookie_name(request), "")
    if (
        not isinstance(sent, str)
        or not sent
        or not hmac.compare_digest(sent, cookie)
        or not _valid(request, sent)
    ):
        raise CsrfRefused("the form's token is missing or does not match this browser's")


@pass_context
def csrf_input(context: Context) -> Markup:
    token = token_for(context["request"])
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, token)


class FormTokens(Extension):
    """Adds `{{ csrf_input() }}` right after the opening tag of every POST form when a template is
    compiled (the templates stay plain HTML)."""

    def __init__(self, environment: object) -> None:
        super().__init__(environment)  # type: ignore[arg-type]
        self.environment.globals["csrf_input"] = csrf_input

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return _POST_FORM.sub(r"\1{{ csrf_input() }}", source)

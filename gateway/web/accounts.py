"""Account pages: activate an account from the teacher registry (national ID, then the code sent to
the registry's e-mail or phone, then a username and password), reset a password the same way, ask
to join the registry with a school's code, and see and end one's sessions. Phone first, no script."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.registry import accounts, joins, sessions
from gateway.registry.account_routes import throttled_login
from gateway.registry.throttle import LoginThrottle
from gateway.registry.uploads import ids_of
from gateway.state import state
from gateway.web.app import REFRESH_COOKIE, page_lang, read_form, redirect, render, set_session, signed_in
from gateway.web.i18n import gettext as _
from gateway.web.roles import home_of
from libs.auth import Principal
from libs.db import in_transaction, read_only
from libs.errors import ProblemError


def field(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    return (value[0] if isinstance(value, list) else str(value or "")).strip()


def problem_text(exc: ProblemError) -> str:
    """The words a person reads for the problems these forms meet (the API's own text otherwise)."""
    known = {
        "not-found": _(
            "We could not find this in the registry. Check it, or ask to join with your school's code."
        ),
        "conflict": _("This national ID already has an account: log in, or reset your password."),
        "rate-limited": _("Too many attempts: wait a minute and try again."),
        "login-throttled": _("Too many failed attempts: wait a little and try again."),
        "account-locked": _(
            "After too many failed attempts logging in is locked for a while. We told the account's owner; "
            "resetting the password unlocks it."
        ),
        "forbidden": _("The registry lists you as having left teaching: ask your school's coordinator."),
    }
    return known.get(exc.slug) or str(exc.detail or exc.title)


# -- activation -----------------------------------------------------------------------------------------


async def activate(request: Request) -> Response:
    page_lang(request)
    if request.method == "GET":
        return render(request, "activate.html", step="national_id", form={}, error=None, sent=None)
    form = await read_form(request)
    values = {k: field(form, k) for k in ("national_id", "channel", "code", "username")}
    settings = state(request).settings
    if field(form, "step") != "confirm":
        try:
            sent = await in_transaction(
                request,
                accounts.start_activation,
                ids_of(request),
                settings,
                values["national_id"],
                values["channel"] or None,
            )
        except ProblemError as exc:
            return render(
                request,
                "activate.html",
                status_code=exc.status,
                step="national_id",
                form=values,
                error=problem_text(exc),
                sent=None,
            )
        return render(request, "activate.html", step="confirm", form=values, error=None, sent=sent)
    password = field(form, "password")
    try:
        verdict = await in_transaction(
            request,
            accounts.confirm_activation,
            ids_of(request),
            settings,
            values["national_id"],
            values["code"],
            values["username"],
            password,
        )
    except ProblemError as exc:
        return render(
            request,
            "activate.html",
            status_code=exc.status,
            step="confirm",
            form=values,
            error=problem_text(exc),
            sent=None,
        )
    if verdict.problem:
        return render(
            request,
            "activate.html",
            status_code=400,
            step="confirm",
            form=values,
            error=_("This code is wrong, expired or already used. Check it, or ask for a new one."),
            sent=None,
        )
    pair = await throttled_login(request, values["username"], password)
    account = Principal.from_claims(await state(request).verifier.verify(pair.access_token))
    response = redirect(home_of(account))  # a teacher's home: /me
    set_session(response, request, pair.access_token, pair.refresh_token)
    return response


# -- password reset -------------------------------------------------------------------------------------


async def password_reset(request: Request) -> Response:
    page_lang(request)
    if request.method == "GET":
        login = request.query_params.get("login", "")
        step = "confirm" if login else "login"
        return render(request, "password_reset.html", step=step, login=login, error=None, sent=bool(login))
    form = await read_form(request)
    login, settings = field(form, "login"), state(request).settings
    if field(form, "step") != "confirm":
        try:
            await in_transaction(request, accounts.start_reset, ids_of(request), settings, login)
        except ProblemError as exc:
            return render(
                request,
                "password_reset.html",
                status_code=exc.status,
                step="login",
                login=login,
                error=problem_text(exc),
                sent=False,
            )
        return render(request, "password_reset.html", step="confirm", login=login, error=None, sent=True)
    try:
        verdict = await in_transaction(
            request,
            accounts.confirm_reset,
            ids_of(request),
            settings,
            login,
            field(form, "code"),
            field(form, "password"),
        )
    except ProblemError as exc:
        return render(
            request,
            "password_reset.html",
            status_code=exc.status,
            step="confirm",
            login=login,
            error=problem_text(exc),
            sent=False,
        )
    if verdict.problem:
        error = _("This code is wrong, expired or already used. Check it, or ask for a new one.")
        return render(
            request,
            "password_reset.html",
            status_code=400,
            step="confirm",
            login=login,
            error=error,
            sent=False,
        )
    await LoginThrottle(state(request).redis, settings).clear(login)
    return redirect("/login?reset=1")


# -- join -----------------------------------------------------------------------------------------------

JOIN_FIELDS = (
    "school_code",
    "national_id",
    "last_name",
    "first_name",
    "patronymic",
    "email",
    "phone",
    "subjects",
)


async def join(request: Request) -> Response:
    lang = page_lang(request)
    if request.method == "GET":
        return render(request, "join.html", form={}, error=None, done=False)
    form = await read_form(request)
    values = {k: field(form, k) for k in JOIN_FIELDS}
    details = joins.JoinDetails(**values, lang=lang)
    try:
        await in_transaction(request, joins.request_join, ids_of(request), details)
    except ProblemError as exc:
        error = (
            _("No school has this code: check it with your school.")
            if exc.slug == "not-found"
            else problem_text(exc)
        )
        if exc.slug == "conflict":
            error = _("You are in the registry at this school already: activate your account.")
        return render(request, "join.html", status_code=exc.status, form=values, error=error, done=False)
    return render(request, "join.html", form={}, error=None, done=True)


# -- sessions -------------------------------------------------------------------------------------------


async def my_sessions(request: Request) -> Response:
    user = await signed_in(request)
    days = state(request).settings.refresh_token_days
    current = await read_only(request, sessions.current_family, request.cookies.get(REFRESH_COOKIE))
    items = await read_only(request, sessions.list_sessions, user.id, days, current)
    return render(
        request, "sessions.html", user=user, sessions=items, ended=request.query_params.get("ended")
    )


async def end_session(request: Request) -> Response:
    user = await signed_in(request, next_path="/me/sessions")
    await in_transaction(request, sessions.end_session, user.id, request.path_params["family_id"])
    return redirect("/me/sessions?ended=1")


async def end_other_sessions(request: Request) -> Response:
    user = await signed_in(request, next_path="/me/sessions")
    current = await read_only(request, sessions.current_family, request.cookies.get(REFRESH_COOKIE))
    await in_transaction(request, sessions.end_other_sessions, user.id, current)
    return redirect("/me/sessions?ended=all")


routes = [
    Route("/activate", activate, methods=["GET", "POST"]),
    Route("/password-reset", password_reset, methods=["GET", "POST"]),
    Route("/join", join, methods=["GET", "POST"]),
    Route("/me/sessions", my_sessions),
    Route("/me/sessions/end-others", end_other_sessions, methods=["POST"]),
    Route("/me/sessions/{family_id}/end", end_session, methods=["POST"]),
]

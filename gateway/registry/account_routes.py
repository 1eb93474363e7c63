"""The JSON API of accounts (activation, password reset, join requests, sessions, the throttled login)
and of administration (users, institutes, institute staff, join decisions, the audit log)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.registry import accounts, admin, audit, joins, sessions
from gateway.registry.schemas import (
    ActivationConfirm,
    ActivationStart,
    CodeSentView,
    InstituteIn,
    JoinIn,
    JoinView,
    ResetConfirm,
    ResetStart,
    StaffInvite,
    UserEdit,
)
from gateway.registry.throttle import LoginThrottle
from gateway.registry.uploads import actor_of, ids_of
from gateway.schemas import LoginRequest, TokenPair
from gateway.state import state
from libs.api import api, json_response, read_json
from libs.auth import Principal, current_user
from libs.db import in_transaction, read_only
from libs.errors import BadRequest, Forbidden, ProblemError, TooManyRequests, Unauthorized

SMALL = 16 * 1024
NO_STORE = {"Cache-Control": "no-store"}


class LoginRefused(TooManyRequests):
    slug = "login-throttled"


class AccountLocked(TooManyRequests):
    slug = "account-locked"
    title = "The account is locked for a while"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def throttled_login(request: Request, username: str, password: str) -> TokenPair:
    """gateway.service.login behind the failed-login throttle (per account and per client): a refusal is
    429 with Retry-After; the failure that locks an account notifies its owner."""
    settings = state(request).settings
    throttle = LoginThrottle(state(request).redis, settings)
    ip = client_ip(request)
    refusal = await throttle.check(username, ip)
    if refusal is not None:
        raise refused(refusal.locked, refusal.retry_after)
    try:
        pair = await in_transaction(
            request,
            sessions.login,
            state(request).issuer,
            username,
            password,
            settings.refresh_token_days,
            request.headers.get("user-agent", ""),
        )
    except Unauthorized:
        lock = await throttle.failed(username, ip)
        if lock is not None:
            if lock.account:
                await in_transaction(
                    request,
                    sessions.notify_locked,
                    ids_of(request),
                    settings,
                    username,
                    settings.login_lock_minutes,
                )
            raise refused(True, lock.retry_after) from None
        raise
    await throttle.succeeded(username)
    return pair


class CodeRefused(BadRequest):
    """400: an account code that is wrong, used, expired or out of attempts."""

    slug, title = "code-refused", "The code cannot be used"


def refused(locked: bool, retry_after: int) -> ProblemError:
    if locked:
        minutes = max(1, round(retry_after / 60))
        return AccountLocked(
            retry_after,
            f"After too many failed attempts logging in is locked for {minutes} min; the account's owner was "
            "told. Resetting the password unlocks it.",
        )
    return LoginRefused(retry_after, f"Too many failed attempts: wait {retry_after} s before trying again.")


@api(
    summary="Log in (throttled after failures)",
    body=LoginRequest,
    response=TokenPair,
    tags=["identity"],
    public=True,
)
async def login(request: Request) -> Response:
    body = await read_json(request, LoginRequest, max_bytes=SMALL)
    return json_response(await throttled_login(request, body.username, body.password), headers=NO_STORE)


# -- activation, reset, join ----------------------------------------------------------------------------


@api(
    summary="Send an activation code to the registry's e-mail or phone of a teacher",
    body=ActivationStart,
    response=CodeSentView,
    status=202,
    tags=["accounts"],
    public=True,
)
async def start_activation(request: Request) -> Response:
    body = await read_json(request, ActivationStart, max_bytes=SMALL)
    sent = await in_transaction(
        request,
        accounts.start_activation,
        ids_of(request),
        state(request).settings,
        body.national_id,
        body.channel,
    )
    return json_response(
        CodeSentView(channel=sent.channel, destination=sent.destination, minutes=sent.minutes), 202
    )


@api(
    summary="Activate a registry teacher's account with the code; answers a login",
    body=ActivationConfirm,
    response=TokenPair,
    status=201,
    tags=["accounts"],
    public=True,
)
async def confirm_activation(request: Request) -> Response:
    body = await read_json(request, ActivationConfirm, max_bytes=SMALL)
    settings = state(request).settings
    verdict = await in_transaction(
        request,
        accounts.confirm_activation,
        ids_of(request),
        settings,
        body.national_id,
        body.code,
        body.username,
        body.password,
    )
    if verdict.problem:  # after the commit: the wrong attempt stays counted
        raise CodeRefused(verdict.problem, field="code")
    pair = await throttled_login(request, body.username.strip(), body.password)
    return json_response(pair, 201, headers=NO_STORE)


@api(
    summary="Send a password-reset code (the answer is the same whether the account exists or not)",
    body=ResetStart,
    status=202,
    tags=["accounts"],
    public=True,
)
async def start_reset(request: Request) -> Response:
    body = await read_json(request, ResetStart, max_bytes=SMALL)
    await in_transaction(request, accounts.start_reset, ids_of(request), state(request).settings, body.login)
    return json_response(
        {"detail": "If the account exists, a code is on its way to its e-mail or phone."}, 202
    )


@api(
    summary="Set a new password with a reset or invitation code; ends every session",
    body=ResetConfirm,
    status=204,
    tags=["accounts"],
    public=True,
)
async def confirm_reset(request: Request) -> Response:
    body = await read_json(request, ResetConfirm, max_bytes=SMALL)
    settings = state(request).settings
    verdict = await in_transaction(
        request, accounts.confirm_reset, ids_of(request), settings, body.login, body.code, body.password
    )
    if verdict.problem:
        raise CodeRefused(verdict.problem, field="code")
    await LoginThrottle(state(request).redis, settings).clear(body.login)
    return Response(status_code=204)


@api(
    summary="Ask to join the registry with your school's code (a coordinator decides)",
    body=JoinIn,
    response=JoinView,
    status=201,
    tags=["accounts"],
    public=True,
)
async def request_join(request: Request) -> Response:
    body = await read_json(request, JoinIn, max_bytes=SMALL)
    details = joins.JoinDetails(**body.model_dump())
    join_id, status = await in_transaction(request, _join, ids_of(request), details)
    return json_response(JoinView(id=join_id, status=status), 201)


def _join(session: Any, ids: Any, details: joins.JoinDetails) -> tuple[str, str]:
    join = joins.request_join(session, ids, details)
    session.flush()
    return join.id, join.status


# -- sessions -----------------------------------------------------------------------------------------


@api(summary="Your login sessions", tags=["accounts"])
async def list_sessions(request: Request) -> Response:
    user = current_user(request)
    days = state(request).settings.refresh_token_days
    items = await read_only(request, sessions.list_sessions, user.id, days, None)
    return json_response({"items": [s.model_dump(mode="json") for s in items]}, headers=NO_STORE)


@api(summary="End one of your sessions", status=204, tags=["accounts"])
async def end_session(request: Request) -> Response:
    user = current_user(request)
    await in_transaction(request, sessions.end_session, user.id, request.path_params["family_id"])
    return Response(status_code=204)


# -- join decisions -------------------------------------------------------------------------------------


@api(summary="Join requests in your jurisdiction (coordinator, platform admin)", tags=["registry"])
async def list_join_requests(request: Request) -> Response:
    user = current_user(request, "coordinator", "platform_admin")
    status = request.query_params.get("status") or "pending"
    items = await read_only(
        request, joins.join_requests, ids_of(request), user, None if status == "any" else status
    )
    return json_response({"items": items}, headers=NO_STORE)


@api(
    summary="Approve a join request: links or creates the registry entry (coordinator)",
    response=JoinView,
    tags=["registry"],
)
async def approve_join(request: Request) -> Response:
    return await _decide(request, True)


@api(summary="Reject a join request (coordinator)", response=JoinView, tags=["registry"])
async def reject_join(request: Request) -> Response:
    return await _decide(request, False)


async def _decide(request: Request, approve: bool) -> Response:
    user = current_user(request, "coordinator", "platform_admin")
    join = await in_transaction(
        request,
        joins.decide_join,
        ids_of(request),
        state(request).settings,
        actor_of(user),
        user,
        request.path_params["request_id"],
        approve,
    )
    return json_response(JoinView(id=join.id, status=join.status))


# -- administration -------------------------------------------------------------------------------------


@api(summary="Search users (platform admin)", tags=["admin"])
async def list_users(request: Request) -> Response:
    current_user(request, "platform_admin")
    q, role = request.query_params.get("q", ""), request.query_params.get("role") or None
    return json_response({"items": await read_only(request, admin.find_users, q, role)}, headers=NO_STORE)


@api(
    summary="Change a user's roles, scope, org unit, institute or activity (platform admin)",
    body=UserEdit,
    tags=["admin"],
)
async def edit_user(request: Request) -> Response:
    user = current_user(request, "platform_admin")
    body = await read_json(request, UserEdit, max_bytes=SMALL)
    result = await in_transaction(
        request,
        admin.update_user,
        actor_of(user),
        request.path_params["user_id"],
        **body.model_dump(exclude_none=True),
    )
    return json_response(result)


@api(summary="Institutes (platform admin)", tags=["admin"])
async def list_institutes(request: Request) -> Response:
    current_user(request, "platform_admin")
    return json_response({"items": await read_only(request, admin.list_institutes)})


@api(summary="Create an institute (platform admin)", body=InstituteIn, status=201, tags=["admin"])
async def create_institute(request: Request) -> Response:
    user = current_user(request, "platform_admin")
    body = await read_json(request, InstituteIn, max_bytes=SMALL)
    result = await in_transaction(request, admin.save_institute, actor_of(user), None, body.code, body.name)
    return json_response(result, 201)


@api(summary="Edit an institute (platform admin)", body=InstituteIn, tags=["admin"])
async def edit_institute(request: Request) -> Response:
    user = current_user(request, "platform_admin")
    body = await read_json(request, InstituteIn, max_bytes=SMALL)
    result = await in_transaction(
        request,
        admin.save_institute,
        actor_of(user),
        request.path_params["institute_id"],
        body.code,
        body.name,
    )
    return json_response(result)


def _own_institute(user: Principal) -> str:
    if not user.institute:
        raise Forbidden("Your account belongs to no institute.")
    return user.institute


@api(summary="Your institute's staff (institute admin)", tags=["admin"])
async def list_staff(request: Request) -> Response:
    user = current_user(request, "institute_admin")
    items = await read_only(request, admin.find_users, "", None, _own_institute(user))
    return json_response({"items": items}, headers=NO_STORE)


@api(
    summary="Invite an author or reviewer to your institute (institute admin)",
    body=StaffInvite,
    status=201,
    tags=["admin"],
)
async def invite_staff(request: Request) -> Response:
    user = current_user(request, "institute_admin")
    body = await read_json(request, StaffInvite, max_bytes=SMALL)
    invited = await in_transaction(
        request,
        _invite,
        ids_of(request),
        state(request).settings,
        actor_of(user),
        _own_institute(user),
        body,
    )
    return json_response(invited, 201)


def _invite(
    session: Any, ids: Any, settings: Any, actor: Any, institute_id: str, body: StaffInvite
) -> dict[str, Any]:
    invited = accounts.invite_staff(
        session, ids, settings, actor, institute_id, body.email, body.name, body.role, body.lang
    )
    return admin.user_summary(invited)


@api(
    summary="Remove a role from a member of your institute's staff (institute admin)",
    status=204,
    tags=["admin"],
)
async def remove_staff(request: Request) -> Response:
    user = current_user(request, "institute_admin")
    role = request.query_params.get("role", "author")
    await in_transaction(
        request,
        accounts.remove_staff,
        actor_of(user),
        _own_institute(user),
        request.path_params["user_id"],
        role,
    )
    return Response(status_code=204)


@api(summary="The audit log, newest first; ?format=csv exports it (platform admin)", tags=["admin"])
async def audit_log(request: Request) -> Response:
    current_user(request, "platform_admin")
    params = request.query_params
    entries = await read_only(
        request,
        audit.entries,
        action=params.get("action") or None,
        actor=params.get("actor") or None,
        before=None,
        limit=min(int(params.get("limit", "200") or 200), 100_000),
    )
    if params.get("format") == "csv":
        return Response(
            audit.export_csv(entries),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit-log.csv"', **NO_STORE},
        )
    items = [
        {
            "at": e.at.isoformat(),
            "actor_id": e.actor_id,
            "actor_name": e.actor_name,
            "action": e.action,
            "target": e.target,
            "before": e.before,
            "after": e.after,
            "request_id": e.request_id,
        }
        for e in entries
    ]
    return json_response({"items": items}, headers=NO_STORE)


routes = [
    Route("/auth/activate", start_activation, methods=["POST"]),
    Route("/auth/activate/confirm", confirm_activation, methods=["POST"]),
    Route("/auth/password-reset", start_reset, methods=["POST"]),
    Route("/auth/password-reset/confirm", confirm_reset, methods=["POST"]),
    Route("/auth/join", request_join, methods=["POST"]),
    Route("/auth/sessions", list_sessions),
    Route("/auth/sessions/{family_id}", end_session, methods=["DELETE"]),
    Route("/registry/join-requests", list_join_requests),
    Route("/registry/join-requests/{request_id}/approve", approve_join, methods=["POST"]),
    Route("/registry/join-requests/{request_id}/reject", reject_join, methods=["POST"]),
    Route("/identity/users", list_users),
    Route("/identity/users/{user_id}", edit_user, methods=["PATCH"]),
    Route("/identity/institutes", list_institutes, methods=["GET"]),
    Route("/identity/institutes", create_institute, methods=["POST"]),
    Route("/identity/institutes/{institute_id}", edit_institute, methods=["PATCH"]),
    Route("/identity/staff", list_staff, methods=["GET"]),
    Route("/identity/staff", invite_staff, methods=["POST"]),
    Route("/identity/staff/{user_id}", remove_staff, methods=["DELETE"]),
    Route("/identity/audit", audit_log),
]

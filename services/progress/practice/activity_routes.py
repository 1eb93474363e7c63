"""The professional-learning API, second half: webinars and the CPD record, communities of
practice, the coaching-coverage dashboard (docs/practice.md). The first half is routes.py."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.api import api, json_response, read_json
from libs.auth import current_user
from libs.db import in_transaction, read_only
from services.progress.practice import communities, dashboard, webinars
from services.progress.practice.routes import PREFIX, write
from services.progress.practice.schemas import (
    AttendanceIn,
    CoachingCoverage,
    CpdByUnit,
    MemberModerateIn,
    ModerateIn,
    ObservationResults,
    PostIn,
    RecordingIn,
    SpaceIndex,
    SpacePublic,
    ThreadIn,
    ThreadPublic,
    Transcript,
    WebinarIn,
    WebinarList,
    WebinarPublic,
)
from services.progress.state import state

# -- webinars and the CPD record --------------------------------------------------------------------


@api(
    summary="Schedule a webinar or master-class (a link to the deployment's BigBlueButton or Jitsi)",
    body=WebinarIn,
    response=WebinarPublic,
    status=201,
    tags=["practice"],
)
async def schedule_webinar(request: Request) -> Response:
    user = current_user(request, *webinars.ORGANISERS)
    body = await read_json(request, WebinarIn)
    row = await in_transaction(request, webinars.schedule, user, body)
    return json_response(row, status_code=201)


@api(
    summary="Webinars of the last month and to come, with your registration",
    response=WebinarList,
    tags=["practice"],
)
async def list_webinars(request: Request) -> Response:
    user = current_user(request)
    return json_response(
        await read_only(request, webinars.upcoming, user), headers={"Cache-Control": "no-store"}
    )


@api(
    summary="Register for a webinar (again: no change); a reminder follows",
    response=WebinarPublic,
    tags=["practice"],
)
async def register(request: Request) -> Response:
    user = current_user(request, "teacher")
    row = await write(
        request, user, webinars.register, state(request).settings, user, request.path_params["webinar_id"]
    )
    return json_response(row)


@api(
    summary="Add a past webinar's recording link (its organisers); registrants see it and get a notice once per link",
    body=RecordingIn,
    response=WebinarPublic,
    tags=["practice"],
    errors={
        409: "the webinar has not taken place yet",
        422: "the link is not http(s) or over 500 characters",
    },
)
async def add_recording(request: Request) -> Response:
    user = current_user(request, *webinars.ORGANISERS)
    body = await read_json(request, RecordingIn)
    row = await in_transaction(
        request, webinars.set_recording, user, request.path_params["webinar_id"], str(body.recording)
    )
    return json_response(row)


@api(
    summary="Record who attended: an xAPI `attended` statement and CPD hours each, once",
    body=AttendanceIn,
    tags=["practice"],
)
async def attendance(request: Request) -> Response:
    user = current_user(request, *webinars.ORGANISERS)
    body = await read_json(request, AttendanceIn)
    new = await in_transaction(
        request, webinars.record_attendance, user, request.path_params["webinar_id"], body.user_ids
    )
    return json_response({"recorded": new})


@api(
    summary="Your CPD record in the current attestation cycle: hours per activity type",
    response=Transcript,
    tags=["practice"],
)
async def transcript(request: Request) -> Response:
    user = current_user(request)
    return json_response(
        await read_only(request, webinars.transcript, user.id), headers={"Cache-Control": "no-store"}
    )


# -- communities ------------------------------------------------------------------------------------


@api(
    summary="The community spaces with threads, the most recently active first",
    response=SpaceIndex,
    tags=["practice"],
)
async def list_spaces(request: Request) -> Response:
    current_user(request)
    return json_response(await read_only(request, communities.index), headers={"Cache-Control": "no-cache"})


@api(
    summary="Suspend a member from posting in the communities, or reinstate them (a moderator; audited)",
    body=MemberModerateIn,
    tags=["practice"],
    errors={404: "reinstating a member who is not suspended"},
)
async def moderate_member(request: Request) -> Response:
    user = current_user(request)
    body = await read_json(request, MemberModerateIn)
    await in_transaction(
        request, communities.moderate_member, user, request.path_params["user_id"][:80], body
    )
    return json_response({"ok": True})


@api(
    summary="A community space (`course:<id>`, `competency:<code>`, `cluster:<code>`) and its threads",
    response=SpacePublic,
    tags=["practice"],
)
async def get_space(request: Request) -> Response:
    current_user(request)
    return json_response(
        await in_transaction(request, communities.view_space, request.path_params["space_id"])
    )


@api(
    summary="Start a thread in a space",
    body=ThreadIn,
    status=201,
    tags=["practice"],
    errors={403: "a suspended member"},
)
async def start_thread(request: Request) -> Response:
    user = current_user(request)
    body = await read_json(request, ThreadIn)
    row = await in_transaction(request, communities.start_thread, user, request.path_params["space_id"], body)
    return json_response({"id": row.id}, status_code=201)


@api(
    summary="A thread and its posts (hidden posts' text only for moderators)",
    response=ThreadPublic,
    tags=["practice"],
)
async def get_thread(request: Request) -> Response:
    user = current_user(request)
    return json_response(
        await read_only(request, communities.view_thread, user, request.path_params["thread_id"])
    )


@api(
    summary="Reply in a thread",
    body=PostIn,
    status=201,
    tags=["practice"],
    errors={403: "a suspended member", 409: "the thread is locked"},
)
async def reply(request: Request) -> Response:
    user = current_user(request)
    body = await read_json(request, PostIn)
    row = await in_transaction(request, communities.reply, user, request.path_params["thread_id"], body)
    return json_response({"id": row.id}, status_code=201)


@api(summary="Lock, unlock or feature a thread (a moderator; audited)", body=ModerateIn, tags=["practice"])
async def moderate_thread(request: Request) -> Response:
    user = current_user(request)
    body = await read_json(request, ModerateIn)
    await in_transaction(request, communities.moderate_thread, user, request.path_params["thread_id"], body)
    return json_response({"ok": True})


@api(
    summary="Report a post, or hide it or suspend its author (a moderator); audited",
    body=ModerateIn,
    tags=["practice"],
)
async def moderate_post(request: Request) -> Response:
    user = current_user(request)
    body = await read_json(request, ModerateIn)
    await in_transaction(request, communities.moderate_post, user, request.path_params["post_id"], body)
    return json_response({"ok": True})


# -- dashboard --------------------------------------------------------------------------------------


@api(
    summary="Coaching coverage in your jurisdiction: teachers with a coach, sessions per month (suppressed)",
    response=CoachingCoverage,
    tags=["practice"],
)
async def coaching_coverage(request: Request) -> Response:
    user = current_user(request, *dashboard.READERS)
    report = await read_only(request, dashboard.coverage, user, state(request).settings.analytics_min_cell)
    return json_response(report, headers={"Cache-Control": "private, no-cache"})


@api(
    summary="Observation results per indicator by org unit in your jurisdiction (suppressed)",
    response=ObservationResults,
    tags=["practice"],
)
async def observation_results(request: Request) -> Response:
    user = current_user(request, *dashboard.READERS)
    report = await read_only(
        request, dashboard.observation_results, user, state(request).settings.analytics_min_cell
    )
    return json_response(report, headers={"Cache-Control": "private, no-cache"})


@api(
    summary="CPD hours by org unit in your jurisdiction against the cycle's requirement (suppressed); "
    "`cycle`: a date in the attestation cycle",
    response=CpdByUnit,
    tags=["practice"],
)
async def cpd_by_unit(request: Request) -> Response:
    user = current_user(request, *dashboard.READERS)
    report = await read_only(
        request,
        dashboard.cpd_by_unit,
        user,
        state(request).settings.analytics_min_cell,
        request.query_params.get("cycle", ""),
    )
    return json_response(report, headers={"Cache-Control": "private, no-cache"})


routes = [
    Route(PREFIX + "/webinars", schedule_webinar, methods=["POST"]),
    Route(PREFIX + "/webinars", list_webinars, methods=["GET"]),
    Route(PREFIX + "/webinars/{webinar_id}/register", register, methods=["POST"]),
    Route(PREFIX + "/webinars/{webinar_id}/attendance", attendance, methods=["POST"]),
    Route(PREFIX + "/webinars/{webinar_id}/recording", add_recording, methods=["POST"]),
    Route(PREFIX + "/transcript/me", transcript),
    Route(PREFIX + "/spaces", list_spaces),
    Route(PREFIX + "/members/{user_id}/moderation", moderate_member, methods=["POST"]),
    Route(PREFIX + "/spaces/{space_id}", get_space),
    Route(PREFIX + "/spaces/{space_id}/threads", start_thread, methods=["POST"]),
    Route(PREFIX + "/threads/{thread_id}", get_thread),
    Route(PREFIX + "/threads/{thread_id}/posts", reply, methods=["POST"]),
    Route(PREFIX + "/threads/{thread_id}/moderation", moderate_thread, methods=["POST"]),
    Route(PREFIX + "/posts/{post_id}/moderation", moderate_post, methods=["POST"]),
    Route(PREFIX + "/dashboard/coaching", coaching_coverage),
    Route(PREFIX + "/dashboard/observations", observation_results),
    Route(PREFIX + "/dashboard/cpd", cpd_by_unit),
]

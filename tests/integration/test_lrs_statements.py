"""The Statement resource of /xapi on SQLite and PostgreSQL: what xAPI 1.0.3 calls invalid is a 400
with the property named that stores nothing; unknown and revoked client keys are 401; resends,
conflicts, voiding, filters, paging, the alternate syntax, attachments and signatures."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from services.progress.lrs.multipart import build, sha2
from tests.integration.lrs_app import LRS, VERSION, basic, lrs, statement
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio
_ = lrs


async def test_an_mbox_actor_with_any_verb_is_stored_and_read_back_as_itself(lrs: LRS) -> None:
    sent = statement()
    response = await lrs.post(sent)
    assert response.status_code == 200, response.text
    assert response.json() == [sent["id"]]
    assert response.headers["x-experience-api-version"] == "1.0.3"
    got = await lrs.get(statementId=sent["id"])
    assert got.status_code == 200
    body = got.json()  # the statement itself, not a wrapper
    assert body["id"] == sent["id"] and body["actor"] == sent["actor"] and body["verb"] == sent["verb"]
    assert body["version"] == "1.0.0" and body["timestamp"] == body["stored"]
    assert body["authority"]["account"]["name"] == "i1-key"
    assert "x-experience-api-consistent-through" in got.headers


def _sub(**extra: Any) -> dict[str, Any]:
    return {k: v for k, v in statement(**extra).items() if k != "id"}


INVALID: list[tuple[str, Any]] = [
    ("statement.actor", lambda s: s.pop("actor")),
    ("statement.actor", lambda s: s["actor"].update(openid="http://example.org/me")),
    ("statement.actor.mbox", lambda s: s["actor"].update(mbox="learner@example.org")),
    ("statement.actor.objectType", lambda s: s["actor"].update(objectType="agent")),
    ("statement.actor.member", lambda s: s.update(actor={"objectType": "Group"})),
    ("statement.verb.id", lambda s: s["verb"].update(id="attended")),
    ("statement.verb.display.a12345678", lambda s: s["verb"].update(display={"a12345678": "x"})),
    ("statement.object.id", lambda s: s["object"].update(id="ab=c://x")),
    ("statement.colour", lambda s: s.update(colour="blue")),
    ("statement.result.score", lambda s: s.update(result={"score": None})),
    ("statement.result.score.scaled", lambda s: s.update(result={"score": {"scaled": 1.5}})),
    ("statement.result.score.raw", lambda s: s.update(result={"score": {"raw": 11, "min": 0, "max": 10}})),
    ("statement.result.success", lambda s: s.update(result={"success": "yes"})),
    ("statement.result.duration", lambda s: s.update(result={"duration": "P4W1D"})),
    ("statement.timestamp", lambda s: s.update(timestamp="2026-11-20T09:30:00-00:00")),
    ("statement.timestamp", lambda s: s.update(timestamp="01/011/2015")),
    ("statement.version", lambda s: s.update(version="1.1.0")),
    ("statement.id", lambda s: s.update(id="MA97B177-9383-4934-8543-0F91A7A02836")),
    ("statement.context.registration", lambda s: s.update(context={"registration": "not-a-uuid"})),
    (
        "statement.context.platform",
        lambda s: s.update(
            object={"objectType": "Agent", "mbox": "mailto:x@example.org"}, context={"platform": "x"}
        ),
    ),
    (
        "statement.context.team.objectType",
        lambda s: s.update(context={"team": {"mbox": "mailto:t@example.org"}}),
    ),
    ("statement.context.language", lambda s: s.update(context={"language": "a12345678"})),
    (
        "statement.context.extensions.not an iri",
        lambda s: s.update(context={"extensions": {"not an iri": 1}}),
    ),
    (
        "statement.object.object",
        lambda s: s.update(
            object={"objectType": "SubStatement", **_sub(object={"objectType": "SubStatement"})}
        ),
    ),
    (
        "statement.object.id",
        lambda s: s.update(object={"objectType": "SubStatement", **{k: v for k, v in statement().items()}}),
    ),
    ("statement.object.id", lambda s: s.update(object={"objectType": "StatementRef", "id": "nope"})),
    (
        "statement.object",
        lambda s: s.update(verb={"id": "http://adlnet.gov/expapi/verbs/voided"}),
    ),
    (
        "statement.object.definition.interactionType",
        lambda s: s["object"].update(definition={"interactionType": "essay"}),
    ),
    (
        "statement.object.definition.choices[1].id",
        lambda s: s["object"].update(
            definition={"interactionType": "choice", "choices": [{"id": "a"}, {"id": "a"}]}
        ),
    ),
    (
        "statement.object.definition.scale",
        lambda s: s["object"].update(definition={"interactionType": "choice", "scale": [{"id": "a"}]}),
    ),
    (
        "statement.authority",
        lambda s: s.update(
            authority={
                "objectType": "Group",
                "mbox": "mailto:g@example.org",
                "member": [{"mbox": "mailto:a@example.org"}, {"mbox": "mailto:b@example.org"}],
            }
        ),
    ),
    (
        "statement.authority.member",
        lambda s: s.update(authority={"objectType": "Group", "member": [{"mbox": "mailto:a@example.org"}]}),
    ),
    (
        "statement.attachments[0].sha2",
        lambda s: s.update(
            attachments=[
                {
                    "usageType": "http://example.org/u",
                    "display": {"en": "x"},
                    "contentType": "text/plain",
                    "length": 1,
                    "sha2": "xyz",
                }
            ]
        ),
    ),
]


async def test_what_xapi_calls_invalid_is_400_naming_the_property_and_stores_nothing(lrs: LRS) -> None:
    for path, change in INVALID:  # one app for every case: each is a request that must change nothing
        bad = statement()
        change(bad)
        body = assert_problem(await lrs.post([statement(), bad]), 400)
        assert body["detail"].startswith(path.replace("statement", "statements[1]", 1)), (
            path,
            body["detail"],
        )
    assert lrs.count() == 0


async def test_bodies_that_are_not_statements_are_400(lrs: LRS) -> None:
    headers = {**basic(), "content-type": "application/json"}
    for content in (b"{nope", b'"a statement"', b"[1]"):
        assert_problem(await lrs.client.post("/xapi/statements", content=content, headers=headers), 400)
    text = {**basic(), "content-type": "text/plain"}
    assert_problem(await lrs.client.post("/xapi/statements", content=b"{}", headers=text), 400)
    assert lrs.count() == 0


async def test_unknown_wrong_and_revoked_keys_are_401_with_a_basic_challenge(lrs: LRS) -> None:
    cases = [
        {**VERSION},
        basic("nobody"),
        basic("i1-key", "wrong"),
        basic("revoked-key"),
        {**VERSION, "authorization": "Basic !!"},
    ]
    for headers in cases:
        response = await lrs.client.post("/xapi/statements", json=statement(), headers=headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Basic")
        assert response.headers["x-experience-api-version"] == "1.0.3"
    assert lrs.count() == 0


async def test_the_version_header_is_required_except_on_about(lrs: LRS) -> None:
    auth = {"authorization": basic()["authorization"]}
    assert_problem(await lrs.client.get("/xapi/statements", headers=auth), 400)
    assert_problem(
        await lrs.client.get("/xapi/statements", headers={**auth, "X-Experience-API-Version": "0.95"}), 400
    )
    about = await lrs.client.get("/xapi/about")
    assert about.status_code == 200 and "1.0.3" in about.json()["version"]
    assert about.headers["x-experience-api-version"] == "1.0.3"
    preflight = await lrs.client.options("/xapi/statements", headers={"origin": "https://content.example"})
    assert (
        preflight.status_code == 204 and "Authorization" in preflight.headers["access-control-allow-headers"]
    )


async def test_a_resend_is_a_noop_and_other_content_under_an_id_is_409(lrs: LRS) -> None:
    first = statement(timestamp="2026-11-20T09:30:00+05:00")
    assert (await lrs.post(first)).status_code == 200
    same_instant = {**first, "timestamp": "2026-11-20T04:30:00Z"}
    assert (await lrs.post(same_instant)).json() == [first["id"]]
    changed = {**first, "verb": {"id": "http://adlnet.gov/expapi/verbs/left"}}
    assert_problem(await lrs.post([statement(), changed]), 409)
    assert_problem(await lrs.post(first, key="other-key"), 409)  # another institute's store
    assert lrs.count() == 1
    repeated = statement()
    assert_problem(await lrs.post([repeated, repeated]), 400)
    assert lrs.count() == 1


async def test_put_stores_by_statement_id(lrs: LRS) -> None:
    sent = statement()
    url = f"/xapi/statements?statementId={sent['id']}"
    assert (await lrs.client.put(url, json=sent, headers=basic())).status_code == 204
    assert (await lrs.client.put(url, json=sent, headers=basic())).status_code == 204
    assert_problem(await lrs.client.put("/xapi/statements", json=sent, headers=basic()), 400)
    other = f"/xapi/statements?statementId={uuid.uuid4()}"
    assert_problem(await lrs.client.put(other, json=sent, headers=basic()), 400)
    assert lrs.count() == 1


async def test_stores_are_the_institutes_own(lrs: LRS) -> None:
    mine = statement()
    await lrs.post(mine)
    assert (await lrs.get(key="other-key")).json()["statements"] == []
    assert_problem(await lrs.get(key="other-key", statementId=mine["id"]), 404)
    assert [s["id"] for s in (await lrs.get()).json()["statements"]] == [mine["id"]]


async def test_voiding_hides_the_target_and_filters_still_find_what_references_it(lrs: LRS) -> None:
    verb = f"http://example.org/verbs/{uuid.uuid4()}"
    target = statement(verb={"id": verb})
    await lrs.post(target)
    void = statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        object={"objectType": "StatementRef", "id": target["id"]},
    )
    ref = statement(verb={"id": verb}, object={"objectType": "StatementRef", "id": target["id"]})
    await lrs.post(void)
    await lrs.post(ref)
    assert_problem(await lrs.get(statementId=target["id"]), 404)
    assert (await lrs.get(voidedStatementId=target["id"])).json()["id"] == target["id"]
    found = (await lrs.get(verb=verb)).json()["statements"]
    assert [s["id"] for s in found] == [ref["id"], void["id"]]
    # a voiding statement is never voided
    again = statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        object={"objectType": "StatementRef", "id": void["id"]},
    )
    assert (await lrs.post(again)).status_code == 200
    assert (await lrs.get(statementId=void["id"])).status_code == 200


async def test_a_reference_stored_before_its_target_matches_once_the_target_arrives(lrs: LRS) -> None:
    activity = f"http://example.org/activities/{uuid.uuid4()}"
    target = statement(object={"id": activity})
    ref = statement(object={"objectType": "StatementRef", "id": target["id"]})
    await lrs.post(ref)
    assert (await lrs.get(activity=activity)).json()["statements"] == []
    await lrs.post(target)
    assert {s["id"] for s in (await lrs.get(activity=activity)).json()["statements"]} == {
        ref["id"],
        target["id"],
    }


async def test_filters_and_more_pages_cover_everything_once(lrs: LRS) -> None:
    registration = str(uuid.uuid4())
    agent = {"mbox": "mailto:someone@example.org"}
    parent = f"http://example.org/courses/{uuid.uuid4()}"
    batch = [
        statement(
            actor=agent,
            context={"registration": registration, "contextActivities": {"parent": {"id": parent}}},
        )
        for _ in range(5)
    ]
    batch += [
        statement(context={"instructor": agent}),
        statement(verb={"id": "http://example.org/verbs/other"}),
    ]
    await lrs.post(batch)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    pages = 0
    while True:
        page = (await lrs.get(**params)).json()
        seen += [s["id"] for s in page["statements"]]
        pages += 1
        if not page["more"]:
            break
        params = dict(parse_qsl(urlsplit(page["more"]).query))
    assert pages == 3 and seen == [s["id"] for s in reversed(batch)]

    async def ids(**query: Any) -> list[str]:
        response = await lrs.get(**query)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["statements"]]

    first5 = [s["id"] for s in reversed(batch[:5])]
    assert await ids(agent=json.dumps(agent)) == first5
    assert await ids(agent=json.dumps(agent), related_agents="true") == [batch[5]["id"], *first5]
    assert await ids(registration=registration, ascending="true") == first5[::-1]
    assert await ids(activity=parent) == []
    assert await ids(activity=parent, related_activities="true") == first5
    assert await ids(verb="http://example.org/verbs/other") == [batch[6]["id"]]
    stored = (await lrs.get(statementId=batch[2]["id"])).json()["stored"]
    assert await ids(since=stored, ascending="true") == [s["id"] for s in batch[3:]]
    assert await ids(until=stored, ascending="true") == [s["id"] for s in batch[:3]]
    ids_format = (await lrs.get(format="ids", statementId=batch[0]["id"])).json()
    assert ids_format["actor"] == agent and ids_format["object"] == {"id": batch[0]["object"]["id"]}
    for bad in (
        {"agent": "{}"},
        {"limit": "-1"},
        {"since": "yesterday"},
        {"Limit": "1"},
        {"statementId": batch[0]["id"], "verb": "http://x.org/v"},
        {"more": "garbage!"},
    ):
        assert_problem(await lrs.get(**bad), 400)


async def test_the_alternate_request_syntax(lrs: LRS) -> None:
    sent = statement()
    form = {
        "statementId": sent["id"],
        "content": json.dumps(sent),
        "Authorization": basic()["authorization"],
        "X-Experience-API-Version": "1.0.3",
    }
    response = await lrs.client.post("/xapi/statements?method=PUT", data=form)
    assert response.status_code == 204, response.text
    listed = await lrs.client.post("/xapi/statements?method=GET", data={"limit": "1"}, headers=basic())
    assert [s["id"] for s in listed.json()["statements"]] == [sent["id"]]
    assert_problem(
        await lrs.client.post(f"/xapi/statements?method=PUT&statementId={sent['id']}", data=form), 400
    )
    assert_problem(await lrs.client.put("/xapi/statements?method=POST", data=form), 400)
    assert_problem(
        await lrs.client.post(
            "/xapi/statements?method=PUT", data={**form, "X-Experience-API-Version": "0.8"}
        ),
        400,
    )


def _attachment(content: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "usageType": "http://example.org/attachment",
        "display": {"en-US": "a note"},
        "contentType": "text/plain",
        "length": len(content),
        "sha2": sha2(content),
        **extra,
    }


async def test_attachments_travel_in_multipart_and_come_back_with_attachments_true(lrs: LRS) -> None:
    content = "заметка учителя".encode()
    sent = statement(attachments=[_attachment(content)])
    body, ctype = build(json.dumps(sent).encode(), [(sha2(content), "text/plain", content)])
    response = await lrs.client.post(
        "/xapi/statements", content=body, headers={**basic(), "content-type": ctype}
    )
    assert response.status_code == 200, response.text
    back = await lrs.get(statementId=sent["id"], attachments="true")
    assert back.headers["content-type"].startswith("multipart/mixed")
    assert content in back.content and sent["id"].encode() in back.content
    # without the content, with content that does not match its hash, or with an extra part: 400
    other = b"other"
    missing = statement(attachments=[_attachment(other)])
    assert_problem(await lrs.post(missing), 400)
    wrong = body.replace(content, "подделка учителя".encode())
    assert_problem(
        await lrs.client.post("/xapi/statements", content=wrong, headers={**basic(), "content-type": ctype}),
        400,
    )
    extra, etype = build(json.dumps(statement()).encode(), [(sha2(other), "text/plain", other)])
    assert_problem(
        await lrs.client.post("/xapi/statements", content=extra, headers={**basic(), "content-type": etype}),
        400,
    )
    assert lrs.count() == 1


def _signed(
    sent: dict[str, Any], algorithm: str = "RS256", payload: dict[str, Any] | None = None
) -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.api_jws.encode(json.dumps(payload or sent).encode(), key, algorithm=algorithm).encode()
    signed = {
        **sent,
        "attachments": [
            _attachment(
                token,
                usageType="http://adlnet.gov/expapi/attachments/signature",
                contentType="application/octet-stream",
            )
        ],
    }
    return build(json.dumps(signed).encode(), [(sha2(token), "application/octet-stream", token)])


async def test_signed_statements_are_checked(lrs: LRS) -> None:
    good = statement()
    body, ctype = _signed(good)
    assert (
        await lrs.client.post("/xapi/statements", content=body, headers={**basic(), "content-type": ctype})
    ).status_code == 200
    for bad_body, bad_type in (_signed(statement(), "PS256"), _signed(statement(), payload=statement())):
        assert_problem(
            await lrs.client.post(
                "/xapi/statements", content=bad_body, headers={**basic(), "content-type": bad_type}
            ),
            400,
        )
    assert lrs.count() == 1
    _ = base64


async def test_each_client_has_its_rate_limit(lrs: LRS) -> None:
    statuses = [(await lrs.get(key="slow-key")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]

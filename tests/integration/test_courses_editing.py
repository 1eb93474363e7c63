"""The editor's API on SQLite and PostgreSQL: drafts with ETag / If-Match (428, 412), the rules a draft
must meet (answer keys that can grade, known indicators: 422 naming item, question and field), review
comments per item, translations made from their original, the draft's diff against the published
version, lesson images (413, 415, 422; re-encoded, content-addressed, cached for a year) and the
competency picker's search. Every refusal changes nothing."""

from __future__ import annotations

import copy
import io
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from PIL import Image

from deploy.seed import COURSE_EN_ID, COURSE_RU_ID, INSTITUTE_ID, demo_course
from tests.conftest import Databases, mint, seed_courses_service, serve, service_settings
from tests.integration.test_courses_authoring import (  # noqa: F401 (fixtures)
    OTHER_INSTITUTE,
    admin,
    author,
    bearer,
    create,
    draft_body,
    publish,
    put,
    stranger,
)
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")
Headers = dict[str, str]


async def draft(c: httpx.AsyncClient, cid: str, headers: Headers) -> httpx.Response:
    response = await c.get(f"/api/v1/courses/{cid}/draft", headers=headers)
    assert response.status_code == 200, response.text
    return response


def quiz_of(body: dict[str, Any]) -> dict[str, Any]:
    return next(i for m in body["modules"] for i in m["items"] if i["type"] == "quiz")


# --- ETag / If-Match ----------------------------------------------------------------------------------


async def test_two_authors_editing_one_draft_get_412_not_an_overwrite(
    courses_client: httpx.AsyncClient, author: Headers, issuer: Any
) -> None:
    c = courses_client
    created = await c.post("/api/v1/courses", json=draft_body(slug="etags"), headers=author)
    assert created.status_code == 201 and created.headers["etag"] == created.json()["etag"]
    cid = created.json()["id"]
    read = await draft(c, cid, author)
    etag = read.headers["etag"]
    assert etag == read.json()["etag"] == created.headers["etag"]
    second = bearer(mint(issuer, roles=("author",), inst=INSTITUTE_ID, name="Second author"))

    mine = draft_body(slug="etags", title="Mine")
    saved = await c.put(f"/api/v1/courses/{cid}/draft", json=mine, headers={**author, "if-match": etag})
    assert saved.status_code == 200 and saved.headers["etag"] != etag
    assert saved.json()["etag"] == saved.headers["etag"]

    # The second author edited the state they read before the first one saved: 412, nothing written.
    theirs = draft_body(slug="etags", title="Theirs")
    stale = await c.put(f"/api/v1/courses/{cid}/draft", json=theirs, headers={**second, "if-match": etag})
    problem = assert_problem(stale, 412)
    assert problem["type"] == "/problems/precondition-failed" and problem["etag"] == saved.headers["etag"]
    # Without If-Match: 428, nothing written.
    bare = await c.put(f"/api/v1/courses/{cid}/draft", json=theirs, headers=second)
    assert assert_problem(bare, 428)["type"] == "/problems/precondition-required"
    now = await draft(c, cid, author)
    assert now.json()["draft"]["title"] == "Mine" and now.headers["etag"] == saved.headers["etag"]

    # With the ETag they now read, the second author's save goes through; several tags and weak ones.
    current = now.headers["etag"]
    listed = await c.put(
        f"/api/v1/courses/{cid}/draft", json=theirs, headers={**second, "if-match": f'"x", {current}'}
    )
    assert listed.status_code == 200 and listed.json()["draft"]["title"] == "Theirs"
    weak = await c.put(
        f"/api/v1/courses/{cid}/draft",
        json=mine,
        headers={**author, "if-match": "W/" + listed.headers["etag"]},
    )
    assert_problem(weak, 412)  # If-Match compares strongly (RFC 9110)
    # A stale If-Match on submit is refused too; the course stays a draft.
    assert_problem(await c.post(f"/api/v1/courses/{cid}/submit", headers={**author, "if-match": etag}), 412)
    assert (await draft(c, cid, author)).json()["status"] == "draft"
    # Every workflow step gives the draft a new ETag.
    submitted = await c.post(
        f"/api/v1/courses/{cid}/submit", headers={**author, "if-match": listed.headers["etag"]}
    )
    assert submitted.status_code == 200 and submitted.headers["etag"] != listed.headers["etag"]


# --- Rules a draft meets ------------------------------------------------------------------------------

NO_KEY = [
    ("single", {"options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}], "answer": {"correct": []}}),
    ("multiple", {"options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}], "answer": None}),
    ("true_false", {"answer": {"correct": []}}),
    ("numeric", {"answer": {"value": None, "tolerance": 1}}),
    ("short_text", {"answer": {"accepted": ["  "]}}),
]


@pytest.mark.parametrize(("kind", "fields"), NO_KEY, ids=[k for k, _ in NO_KEY])
async def test_a_question_without_a_correct_answer_is_422(
    courses_client: httpx.AsyncClient, author: Headers, kind: str, fields: dict[str, Any]
) -> None:
    c = courses_client
    cid = (await create(c, author, slug=f"nokey-{kind.replace('_', '-')}"))["id"]
    before = (await draft(c, cid, author)).json()
    body = draft_body(slug=f"nokey-{kind.replace('_', '-')}")
    quiz = quiz_of(body)
    quiz["questions"].append({"id": "qx", "kind": kind, "prompt": "Which?", **fields})
    problem = assert_problem(await put(c, cid, body, author), 422)
    errors = [e for e in problem["errors"] if e["question"] == "qx"]
    assert errors and errors[0]["item"] == quiz["id"]
    assert errors[0]["code"] in ("no_correct", "no_value", "no_accepted")
    assert errors[0]["name"] in ("correct", "value", "accepted")
    # Nor can a new course start with one; nothing changed.
    assert_problem(await c.post("/api/v1/courses", json={**body, "slug": "nokey-new"}, headers=author), 422)
    assert (await draft(c, cid, author)).json() == before


async def test_questions_that_could_not_be_graded_are_422_each_named(
    courses_client: httpx.AsyncClient, author: Headers
) -> None:
    c = courses_client
    body = draft_body(slug="bad-keys")
    quiz = quiz_of(body)
    two = [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]
    quiz["questions"] += [
        {"id": "s2", "kind": "single", "prompt": "One?", "options": two, "answer": {"correct": ["a", "b"]}},
        {"id": "s1", "kind": "single", "prompt": "Few?", "options": two[:1], "answer": {"correct": ["a"]}},
        {"id": "sz", "kind": "single", "prompt": "Ghost?", "options": two, "answer": {"correct": ["z"]}},
        {"id": "tol", "kind": "numeric", "prompt": "N?", "answer": {"value": 3, "tolerance": -1}},
        {"id": "blank", "kind": "true_false", "prompt": " ", "answer": {"correct": ["true"]}},
        {
            "id": "ex",
            "kind": "true_false",
            "prompt": "Ex?",
            "answer": {"correct": ["true"], "explanations": {"maybe": "no such option"}},
        },
    ]
    problem = assert_problem(await c.post("/api/v1/courses", json=body, headers=author), 422)
    codes = {(e["question"], e["code"]) for e in problem["errors"]}
    assert codes == {
        ("s2", "one_correct"),
        ("s1", "few_options"),
        ("sz", "unknown_option"),
        ("tol", "bad_tolerance"),
        ("blank", "no_prompt"),
        ("ex", "unknown_option"),
    }
    listed = (await c.get("/api/v1/courses/authoring", headers=author)).json()
    assert "bad-keys" not in {v["slug"] for v in listed}


async def test_an_unknown_indicator_or_framework_or_a_repeated_id_is_422(
    courses_client: httpx.AsyncClient, author: Headers
) -> None:
    c = courses_client
    cid = (await create(c, author, slug="tags"))["id"]
    before = (await draft(c, cid, author)).json()
    body = draft_body(slug="tags")
    lesson = body["modules"][0]["items"][0]
    lesson["indicators"] = ["II.KA.1", "IX.ZZ.9"]
    quiz_of(body)["questions"][0]["indicators"] = ["nope"]
    problem = assert_problem(await put(c, cid, body, author), 422)
    assert {(e["item"], e["question"], e["code"], e["value"]) for e in problem["errors"]} == {
        (lesson["id"], None, "unknown_indicator", "IX.ZZ.9"),
        (quiz_of(body)["id"], quiz_of(body)["questions"][0]["id"], "unknown_indicator", "nope"),
    }
    unknown = draft_body(slug="tags", framework="NO-SUCH-FRAMEWORK")
    assert assert_problem(await put(c, cid, unknown, author), 422)["errors"][0]["code"] == "unknown_framework"
    twice = draft_body(slug="tags")
    twice["modules"][0]["items"].append(copy.deepcopy(twice["modules"][0]["items"][0]))
    assert assert_problem(await put(c, cid, twice, author), 422)["errors"][0]["code"] == "bad_id"
    dotted = draft_body(slug="tags")
    dotted["modules"][0]["items"][0]["id"] = "l.1"  # ids go into URLs and form field names
    assert_problem(await put(c, cid, dotted, author), 422)
    assert (await draft(c, cid, author)).json() == before


async def test_only_a_whole_course_goes_to_review(courses_client: httpx.AsyncClient, author: Headers) -> None:
    c = courses_client
    cid = (await create(c, author, slug="ready"))["id"]
    body = draft_body(slug="ready")
    body["modules"].append({"id": "m2", "title": "Empty", "items": []})
    body["modules"][0]["items"].append({"type": "quiz", "id": "qempty", "title": "Later", "questions": []})
    body["modules"][0]["items"].append({"type": "lesson", "id": "lempty", "title": "Later", "markdown": " "})
    assert (await put(c, cid, body, author)).status_code == 200  # a draft may be unfinished
    problem = assert_problem(await c.post(f"/api/v1/courses/{cid}/submit", headers=author), 422)
    assert {(e["item"], e["code"]) for e in problem["errors"]} == {
        ("m2", "empty_module"),
        ("qempty", "empty_quiz"),
        ("lempty", "empty_lesson"),
    }
    assert (await draft(c, cid, author)).json()["status"] == "draft"


async def test_explanations_reach_the_grader_never_the_learner(
    courses_client: httpx.AsyncClient, author: Headers, admin: Headers, issuer: Any
) -> None:
    c = courses_client
    body = draft_body(slug="explained")
    question = quiz_of(body)["questions"][0]
    question["answer"] = {
        "correct": ["b"],
        "explanation": "SECRET-WHY",
        "explanations": {"a": "SECRET-A", "b": "SECRET-B"},
    }
    created = await c.post("/api/v1/courses", json=body, headers=author)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    await publish(c, cid, author, admin)
    for path in (f"/api/v1/courses/{cid}", f"/api/v1/courses/{cid}/versions/1"):
        assert "SECRET" not in (await c.get(path)).text
    service = bearer(mint(issuer, roles=("service",)))
    key = (await c.get(f"/api/v1/courses/{cid}/versions/1/answer-key", headers=service)).json()
    answer = key["quizzes"][0]["questions"][0]["answer"]
    assert answer["explanation"] == "SECRET-WHY" and answer["explanations"]["a"] == "SECRET-A"


# --- Review comments per item -------------------------------------------------------------------------


async def test_review_comments_per_item_reach_the_author_until_resubmission(
    courses_client: httpx.AsyncClient, author: Headers, admin: Headers
) -> None:
    c = courses_client
    cid = (await create(c, author, slug="commented"))["id"]
    assert (await c.post(f"/api/v1/courses/{cid}/submit", headers=author)).status_code == 200
    lesson_id = demo_course("en")["modules"][0]["items"][0]["id"]
    bad = {"decision": "send_back", "comments": [{"item_id": "ghost", "body": "?"}]}
    assert_problem(await c.post(f"/api/v1/courses/{cid}/review", json=bad, headers=admin), 422)
    empty = {"decision": "send_back", "comment": " ", "comments": [{"item_id": lesson_id, "body": " "}]}
    assert_problem(await c.post(f"/api/v1/courses/{cid}/review", json=empty, headers=admin), 422)
    assert (await draft(c, cid, author)).json()["status"] == "in_review"

    decision = {
        "decision": "send_back",
        "comment": "",
        "comments": [{"item_id": lesson_id, "body": "Add an example from a village school."}],
    }
    back = await c.post(f"/api/v1/courses/{cid}/review", json=decision, headers=admin)
    assert back.status_code == 200 and back.json()["status"] == "draft"
    view = (await draft(c, cid, author)).json()
    assert [(x["item_id"], x["body"], x["decision"]) for x in view["comments"]] == [
        (lesson_id, "Add an example from a village school.", "send_back")
    ]
    assert (await c.post(f"/api/v1/courses/{cid}/submit", headers=author)).status_code == 200
    assert (await draft(c, cid, author)).json()["comments"] == []
    approved = await c.post(
        f"/api/v1/courses/{cid}/review",
        json={"decision": "approve", "comments": [{"item_id": lesson_id, "body": "Good now."}]},
        headers=admin,
    )
    assert approved.status_code == 200 and approved.json()["latest_version"] == 1


# --- Translations -------------------------------------------------------------------------------------


async def test_a_translation_starts_from_its_published_original_and_is_linked(
    courses_client: httpx.AsyncClient, author: Headers, admin: Headers, stranger: Headers
) -> None:
    c = courses_client
    made = await c.post(
        f"/api/v1/courses/{COURSE_EN_ID}/translations",
        json={"language": "kk", "slug": "assessment-kk"},
        headers=author,
    )
    assert made.status_code == 201, made.text
    kk = made.json()
    assert kk["translation_of"] == COURSE_EN_ID and kk["language"] == "kk" and kk["status"] == "draft"
    original = demo_course("en")
    assert [i["id"] for m in kk["draft"]["modules"] for i in m["items"]] == [
        i["id"] for m in original["modules"] for i in m["items"]
    ]
    assert quiz_of(kk["draft"])["questions"][0]["answer"] == {
        **quiz_of(original)["questions"][0]["answer"],
        **{"tolerance": 0.0, "value": None, "accepted": [], "explanation": "", "explanations": {}},
    }
    # The source a translator reads: the published original with lesson text and keys (its institute).
    source = await c.get(f"/api/v1/courses/{COURSE_EN_ID}/source", headers=author)
    assert source.status_code == 200 and source.json()["modules"][0]["items"][0]["markdown"]
    assert_problem(await c.get(f"/api/v1/courses/{COURSE_EN_ID}/source", headers=stranger), 403)

    # Translating a translation links to the original; one course per language in a family.
    from_ru = await c.post(
        f"/api/v1/courses/{COURSE_RU_ID}/translations",
        json={"language": "ky", "slug": "assessment-ky"},
        headers=author,
    )
    assert from_ru.status_code == 201 and from_ru.json()["translation_of"] == COURSE_EN_ID
    for lang, slug, status in (
        ("kk", "assessment-kk-2", 409),
        ("en", "again-en", 409),
        ("mn", "assessment-kk", 409),
    ):
        response = await c.post(
            f"/api/v1/courses/{COURSE_EN_ID}/translations",
            json={"language": lang, "slug": slug},
            headers=author,
        )
        assert_problem(response, status)
    # Only the original's institute links translations to it; an unpublished course has nothing to copy.
    assert_problem(
        await c.post(
            f"/api/v1/courses/{COURSE_EN_ID}/translations",
            json={"language": "tg", "slug": "takeover-tg"},
            headers=stranger,
        ),
        403,
    )
    assert_problem(
        await c.post(
            f"/api/v1/courses/{kk['id']}/translations",
            json={"language": "tg", "slug": "x-tg"},
            headers=author,
        ),
        409,
    )
    assert_problem(
        await c.post(
            f"/api/v1/courses/{COURSE_EN_ID}/translations",
            json={"language": "xx", "slug": "x-xx"},
            headers=author,
        ),
        422,
    )
    slugs = {v["slug"] for v in (await c.get("/api/v1/courses/authoring", headers=author)).json()}
    assert {"assessment-kk", "assessment-ky"} <= slugs and not {"takeover-tg", "x-tg", "x-xx"} & slugs
    await publish(c, kk["id"], author, admin)
    family = (await c.get(f"/api/v1/courses/{COURSE_EN_ID}/translations")).json()
    assert {t["language"] for t in family} == {"ru", "kk"}


# --- The draft against the published version -----------------------------------------------------------


async def test_the_draft_diff_shows_both_sides_of_each_change(
    courses_client: httpx.AsyncClient, author: Headers, stranger: Headers
) -> None:
    c = courses_client
    body = draft_body(slug="formative-assessment-with-digital-tools", title=demo_course("en")["title"])
    lessons = body["modules"][0]["items"]
    lessons[0]["markdown"] = lessons[0]["markdown"].replace("**while**", "**during the lesson**")
    removed = lessons.pop(1)
    quiz = quiz_of(body)
    quiz["questions"][2]["answer"]["tolerance"] = 1.5
    body["pass_mark"] = 0.8
    assert (await put(c, COURSE_EN_ID, body, author)).status_code == 200
    diff = (await c.get(f"/api/v1/courses/{COURSE_EN_ID}/draft/diff", headers=author)).json()
    assert diff["base_version"] == 1
    assert diff["metadata"] == [{"name": "pass_mark", "before": "0.7", "after": "0.8"}]
    changed = next(i for i in diff["items"] if i["change"] == "changed")
    assert changed["id"] == lessons[0]["id"] and changed["fields"][0]["name"] == "markdown"
    assert (
        "**while**" in changed["fields"][0]["before"]
        and "**during the lesson**" in changed["fields"][0]["after"]
    )
    assert {
        "id": removed["id"],
        "type": "lesson",
        "title": removed["title"],
        "change": "removed",
        "fields": [],
    } in diff["items"]
    (numeric,) = diff["questions"]
    assert numeric["fields"] == [
        {"name": "answer", "before": "value: 70\ntolerance: 0.5", "after": "value: 70\ntolerance: 1.5"}
    ]
    assert_problem(await c.get(f"/api/v1/courses/{COURSE_EN_ID}/draft/diff", headers=stranger), 403)
    # Nothing published yet: every item is new.
    cid = (await create(c, author, slug="first-diff"))["id"]
    first = (await c.get(f"/api/v1/courses/{cid}/draft/diff", headers=author)).json()
    assert first["base_version"] is None and {i["change"] for i in first["items"]} == {"added"}


# --- Images -------------------------------------------------------------------------------------------


def picture(width: int, height: int, fmt: str = "PNG", *, noise: bool = False, **save: Any) -> bytes:
    image = Image.new("RGB", (width, height), (240, 240, 230))
    pixels = image.load()
    assert pixels is not None
    rng = random.Random(7)
    for x in range(0, width, 4):
        for y in range(0, height, 4):
            colour = (
                (rng.randrange(256), rng.randrange(256), rng.randrange(256))
                if noise
                else (x * 255 // width, y * 255 // height, 120)
            )
            for dx in range(4):
                for dy in range(4):
                    if x + dx < width and y + dy < height:
                        pixels[x + dx, y + dy] = colour
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


@pytest_asyncio.fixture
async def small_caps(databases: Databases, gateway_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The courses service with a 200 KB upload cap and 12 KB per image, JPEG out."""
    from services.courses.app import build_app

    settings = service_settings(
        "courses",
        databases.fresh("courses", seed_courses_service),
        gateway_url=gateway_url,
        max_image_upload_bytes=200 * 1024,
        image_max_bytes=12 * 1024,
        image_format="jpeg",
    )
    async with serve(build_app(settings)) as client:
        yield client


async def upload(
    c: httpx.AsyncClient, cid: str, headers: Headers, data: bytes, alt: str | None, ctype: str = "image/png"
) -> httpx.Response:
    form = {"alt": alt} if alt is not None else {}
    return await c.post(
        f"/api/v1/courses/{cid}/images", files={"file": ("photo", data, ctype)}, data=form, headers=headers
    )


async def test_an_image_is_reencoded_for_phones_and_served_immutable(
    courses_client: httpx.AsyncClient, author: Headers, stranger: Headers
) -> None:
    c = courses_client
    cid = (await create(c, author, slug="pictures"))["id"]
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to show upright
    exif[0x013B] = "Private Person"  # Artist: metadata that must not travel
    original = picture(1600, 1200, "JPEG", exif=exif.tobytes(), quality=95)
    response = await upload(c, cid, author, original, "  Pupils   raising [answer] cards ", "image/jpeg")
    assert response.status_code == 201, response.text
    info = response.json()
    assert info["media_type"] == "image/webp" and info["url"].endswith(".webp")
    assert info["width"] == 640 and info["height"] == 853  # upright, then resized to the phone width
    assert info["bytes"] <= 30 * 1024 and info["alt"] == "Pupils raising (answer) cards"
    assert info["markdown"] == f"![Pupils raising (answer) cards]({info['url']})"

    served = await c.get(info["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["etag"] == f'"{info["sha256"]}"' and len(served.content) == info["bytes"]
    kept = Image.open(io.BytesIO(served.content))
    assert kept.size == (640, 853) and not kept.getexif()
    assert (await c.get(info["url"], headers={"if-none-match": served.headers["etag"]})).status_code == 304
    assert_problem(await c.get(info["url"].replace(".webp", ".jpg")), 404)
    assert_problem(await c.get("/api/v1/courses/images/../../x"), 404)

    # The same picture again is the same stored image; the course lists it once.
    again = await upload(c, cid, author, original, "Cards", "image/jpeg")
    assert again.json()["sha256"] == info["sha256"]
    listed = (await c.get(f"/api/v1/courses/{cid}/images", headers=author)).json()
    assert [(i["sha256"], i["alt"]) for i in listed] == [(info["sha256"], "Cards")]
    assert_problem(await c.get(f"/api/v1/courses/{cid}/images", headers=stranger), 403)
    assert_problem(await upload(c, cid, stranger, original, "x", "image/jpeg"), 403)

    # The lesson preview counts the image's bytes.
    preview = await c.post(
        "/api/v1/courses/authoring/preview",
        json={"markdown": f"Text\n\n{info['markdown']}\n\n![Elsewhere](https://example.org/x.png)"},
        headers=author,
    )
    body = preview.json()
    assert body["images"] == [
        {"src": info["url"], "alt": "Pupils raising (answer) cards", "bytes": info["bytes"]},
        {"src": "https://example.org/x.png", "alt": "Elsewhere", "bytes": None},
    ]
    assert body["image_max_bytes"] == 30 * 1024 and f'src="{info["url"]}"' in body["html"]


async def test_bad_uploads_are_refused_and_store_nothing(small_caps: httpx.AsyncClient, issuer: Any) -> None:
    c = small_caps
    author = bearer(mint(issuer, roles=("author",), inst=INSTITUTE_ID))
    cid = (await create(c, author, slug="bad-pictures"))["id"]
    oversize = picture(900, 900, "BMP")  # 2.4 MB, over the 200 KB cap
    assert len(oversize) > 200 * 1024
    assert assert_problem(await upload(c, cid, author, oversize, "Big", "image/bmp"), 413)["type"] == (
        "/problems/payload-too-large"
    )
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for data, ctype in ((b"just some text, not a picture", "image/png"), (svg, "image/svg+xml")):
        problem = assert_problem(await upload(c, cid, author, data, "Text", ctype), 415)
        assert problem["type"] == "/problems/unsupported-media-type"
    png = picture(300, 200)
    for alt in (None, "", "   "):
        problem = assert_problem(await upload(c, cid, author, png, alt), 422)
        assert problem["errors"][0]["field"] == "alt"
    assert_problem(await upload(c, cid, author, png, "x" * 301), 422)
    not_multipart = await c.post(
        f"/api/v1/courses/{cid}/images", content=png, headers={**author, "content-type": "image/png"}
    )
    assert_problem(not_multipart, 415)
    no_file = await c.post(
        f"/api/v1/courses/{cid}/images", data={"alt": "x"}, files={"other": ("a", b"")}, headers=author
    )
    assert_problem(no_file, 422)
    assert (await c.get(f"/api/v1/courses/{cid}/images", headers=author)).json() == []

    # What is kept fits the budget (here JPEG, 12 KB): a noisy photo is made smaller until it does.
    noisy = await upload(c, cid, author, picture(700, 500, noise=True), "Noise")
    assert noisy.status_code == 201, noisy.text
    info = noisy.json()
    assert info["media_type"] == "image/jpeg" and info["bytes"] <= 12 * 1024 and info["width"] < 640
    transparent = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    out = io.BytesIO()
    transparent.save(out, "PNG")
    flat = await upload(c, cid, author, out.getvalue(), "Nothing")
    assert (
        flat.status_code == 201
        and Image.open(io.BytesIO((await c.get(flat.json()["url"])).content)).mode == "RGB"
    )
    # While in review the draft cannot change, so neither can its images.
    assert (await c.post(f"/api/v1/courses/{cid}/submit", headers=author)).status_code == 200
    assert_problem(await upload(c, cid, author, picture(100, 100), "Late"), 409)


# --- The competency picker ----------------------------------------------------------------------------


async def test_indicators_are_found_by_code_and_words(courses_client: httpx.AsyncClient) -> None:
    c = courses_client
    url = "/api/v1/courses/frameworks/UNESCO-ICT-CFT-3/indicators"
    by_code = (await c.get(url, params={"q": "ii.ka"})).json()
    assert by_code["framework"] == "UNESCO-ICT-CFT-3"
    assert [i["code"] for i in by_code["items"]] == ["II.KA.1", "II.KA.2"]
    assert by_code["items"][0]["kind"] == "indicator" and by_code["items"][0]["parent_code"] == "II.KA"
    words = (await c.get(url, params={"q": "explains II"})).json()["items"]
    assert words and all(i["code"].startswith("II") and "Explains" in i["title"] for i in words)
    assert (await c.get(url, params={"q": "zzzz-nothing"})).json()["items"] == []
    exact = (await c.get(url, params={"codes": "III.KA.1,II.KA,nope"})).json()["items"]
    assert [i["code"] for i in exact] == ["II.KA", "III.KA.1"]
    assert len((await c.get(url, params={"limit": 3})).json()["items"]) == 3
    assert_problem(await c.get(url, params={"limit": 0}), 422)
    assert_problem(await c.get("/api/v1/courses/frameworks/NOPE/indicators"), 404)

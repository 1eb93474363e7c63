"""Course packages on SQLite and PostgreSQL: export, import round trip, every problem reported with its file
and line and nothing stored, oversize packages and lessons refused with 413."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from deploy.seed import COURSE_EN_ID, INSTITUTE_ID, seed_framework
from tests.conftest import Databases, mint, serve, service_settings
from tests.integration.test_courses_authoring import admin, author, publish, stranger  # noqa: F401 (fixtures)
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")
ZIP = {"content-type": "application/zip"}
EXPORT = f"/api/v1/courses/{COURSE_EN_ID}/versions/1/package"


@pytest_asyncio.fixture
async def framework_only(databases: Databases, gateway_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another platform: the same framework, none of the courses."""
    from services.courses.app import build_app

    app = build_app(
        service_settings(
            "courses",
            databases.fresh("courses", seed_framework),
            gateway_url=gateway_url,
            max_package_bytes=200_000,
            max_package_unpacked_bytes=400_000,
        )
    )
    async with serve(app) as client:
        yield client


def unzip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def rezip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


async def exported(client: httpx.AsyncClient, author: dict[str, str]) -> dict[str, str]:
    response = await client.get(EXPORT, headers=author)
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    return unzip(response.content)


async def test_package_round_trip_without_loss(
    courses_client: httpx.AsyncClient,
    framework_only: httpx.AsyncClient,
    author: dict[str, str],
    admin: dict[str, str],
) -> None:
    files = await exported(courses_client, author)
    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == "ustaz-course/1" and "answer" in files["manifest.json"]
    lesson_files = [n for n in files if n.startswith("lessons/")]
    assert lesson_files and all(n.endswith(".md") for n in lesson_files)
    assert "## Small checks" in files["lessons/l1.md"]

    response = await framework_only.post(
        "/api/v1/courses/packages", content=rezip(dict(files)), headers={**author, **ZIP}
    )
    assert response.status_code == 201, response.text
    view = response.json()
    assert view["status"] == "draft" and view["institute_id"] == INSTITUTE_ID and view["warnings"] == []
    await publish(framework_only, view["id"], author, admin)
    again = await framework_only.get(f"/api/v1/courses/{view['id']}/versions/1/package", headers=author)
    assert unzip(again.content) == files
    original = (await courses_client.get(f"/api/v1/courses/{COURSE_EN_ID}/versions/1")).json()
    copied = (await framework_only.get(f"/api/v1/courses/{view['id']}/versions/1")).json()
    assert {**copied, "course_id": None} == {**original, "course_id": None}


async def test_every_problem_is_reported_with_file_and_line(
    courses_client: httpx.AsyncClient, framework_only: httpx.AsyncClient, author: dict[str, str]
) -> None:
    files: dict[str, str | bytes] = dict(await exported(courses_client, author))
    manifest = json.loads(str(files["manifest.json"]))
    items = manifest["modules"][0]["items"]
    items[0]["indicators"] = ["ZZ.9.9"]
    items[1]["file"] = "lessons/missing.md"
    manifest["licence"] = "All rights reserved"
    files["manifest.json"] = json.dumps(manifest, indent=2)
    files["lessons/l1.md"] = "# Title\n\nText\n\n![](https://example.org/x.png)\n"
    files["notes.txt"] = "left over"
    body = assert_problem(
        await framework_only.post(
            "/api/v1/courses/packages", content=rezip(files), headers={**author, **ZIP}
        ),
        422,
    )
    text = str(files["manifest.json"]).splitlines()
    found = {(e["file"], e["line"]) for e in body["errors"]}
    assert ("lessons/l1.md", 5) in found  # image without alt text
    missing_line = next(n for n, line in enumerate(text, 1) if "lessons/missing.md" in line)
    assert ("manifest.json", missing_line) in found
    licence_line = next(n for n, line in enumerate(text, 1) if '"licence"' in line)
    assert ("manifest.json", licence_line) in found
    assert [w["file"] for w in body["warnings"]] == ["lessons/l2.md", "notes.txt"]  # only warnings
    assert (await framework_only.get("/api/v1/courses")).json()["items"] == []

    # The unknown indicator is reported once the manifest itself is valid.
    manifest["licence"] = "CC-BY-4.0"
    items[1]["file"] = "lessons/l2.md"
    files["manifest.json"] = json.dumps(manifest, indent=2)
    files["lessons/l1.md"] = "fixed"
    body = assert_problem(
        await framework_only.post(
            "/api/v1/courses/packages", content=rezip(files), headers={**author, **ZIP}
        ),
        422,
    )
    line = next(n for n, t in enumerate(str(files["manifest.json"]).splitlines(), 1) if "ZZ.9.9" in t)
    assert body["errors"] == [
        {
            "file": "manifest.json",
            "line": line,
            "message": "l1: indicator 'ZZ.9.9' is not in UNESCO-ICT-CFT-3 (or is retired)",
        }
    ]


@pytest.mark.parametrize(
    ("files", "file", "line"),
    [
        ({"manifest.json": '{"format": "ustaz-course/1",\n  "slug": }'}, "manifest.json", 2),
        ({"manifest.json": '{"format": "other/9"}'}, "manifest.json", 1),
        ({"lessons/a.md": "hi"}, "manifest.json", None),
        ({"manifest.json": b"\xff\xfe{}"}, "manifest.json", 1),
    ],
)
async def test_broken_packages(
    framework_only: httpx.AsyncClient,
    author: dict[str, str],
    files: dict[str, Any],
    file: str,
    line: int | None,
) -> None:
    body = assert_problem(
        await framework_only.post(
            "/api/v1/courses/packages", content=rezip(files), headers={**author, **ZIP}
        ),
        422,
    )
    assert {"file": file, "line": line} in [{"file": e["file"], "line": e["line"]} for e in body["errors"]]


async def test_oversize_and_wrong_bodies(
    framework_only: httpx.AsyncClient, courses_client: httpx.AsyncClient, author: dict[str, str], issuer: Any
) -> None:
    post = framework_only.post
    assert_problem(
        await post("/api/v1/courses/packages", content=b"x" * 200_001, headers={**author, **ZIP}), 413
    )
    bomb = rezip({"manifest.json": "{}", "lessons/a.md": "a" * 500_000})  # small zip, big inside
    assert len(bomb) < 200_000
    assert_problem(await post("/api/v1/courses/packages", content=bomb, headers={**author, **ZIP}), 413)
    lesson = rezip({"manifest.json": "{}", "lessons/a.md": "a" * (200 * 1024 + 1)})
    assert_problem(await post("/api/v1/courses/packages", content=lesson, headers={**author, **ZIP}), 413)
    body = assert_problem(
        await post("/api/v1/courses/packages", content=b"not a zip", headers={**author, **ZIP}), 422
    )
    assert body["errors"][0]["message"] == "not a zip file"
    assert_problem(
        await post(
            "/api/v1/courses/packages", content=b"{}", headers={**author, "content-type": "application/json"}
        ),
        422,
    )
    teacher = {"authorization": f"Bearer {mint(issuer)}"}
    assert_problem(await post("/api/v1/courses/packages", content=b"", headers={**teacher, **ZIP}), 403)
    assert_problem(await courses_client.get(EXPORT, headers=teacher), 403)  # packages carry answer keys
    assert_problem(await courses_client.get(EXPORT), 401)
    assert (await framework_only.get("/api/v1/courses")).json()["items"] == []


async def test_answer_keys_leave_only_with_their_institute_or_a_sharing_licence(
    courses_client: httpx.AsyncClient,
    framework_only: httpx.AsyncClient,
    author: dict[str, str],
    admin: dict[str, str],
    stranger: dict[str, str],
) -> None:
    own = await courses_client.get(EXPORT, headers=author)
    assert own.headers["x-answer-keys"] == "included" and '"answer"' in unzip(own.content)["manifest.json"]
    assert_problem(await courses_client.get(EXPORT + "?answer_keys=include", headers=stranger), 403)
    cartridge = EXPORT.replace("/package", "/cartridge")  # CC QTI quizzes always carry their keys
    assert_problem(await courses_client.get(cartridge, headers=stranger), 403)
    assert (await courses_client.get(cartridge, headers=author)).status_code == 200
    other = await courses_client.get(EXPORT, headers=stranger)
    assert other.status_code == 200 and other.headers["x-answer-keys"] == "omitted"
    manifest = json.loads(unzip(other.content)["manifest.json"])
    questions = [q for m in manifest["modules"] for i in m["items"] for q in i.get("questions", [])]
    assert questions and all("answer" not in q for q in questions), "no key, no explanation"
    assert '"correct"' not in unzip(other.content)["manifest.json"]
    omitted = await courses_client.get(EXPORT + "?answer_keys=omit", headers=author)
    assert omitted.headers["x-answer-keys"] == "omitted"
    assert_problem(await courses_client.get(EXPORT + "?answer_keys=all", headers=author), 422)

    # A course whose licence shares its keys: another institute exports them.
    files = unzip(own.content)
    shared = {**json.loads(files["manifest.json"]), "answer_keys_shared": True, "slug": "shared-keys"}
    files["manifest.json"] = json.dumps(shared)
    created = await framework_only.post(
        "/api/v1/courses/packages", content=rezip(dict(files)), headers={**author, **ZIP}
    )
    assert created.status_code == 201, created.text
    await publish(framework_only, created.json()["id"], author, admin)
    url = f"/api/v1/courses/{created.json()['id']}/versions/1/package?answer_keys=include"
    theirs = await framework_only.get(url, headers=stranger)
    assert theirs.status_code == 200 and theirs.headers["x-answer-keys"] == "included"
    assert '"answer"' in unzip(theirs.content)["manifest.json"]

"""Common Cartridge 1.3 through the API on SQLite and PostgreSQL: an export passes 1EdTech's CC 1.3
XSDs and re-imports as the same course on another platform (competencies by CASE GUID); cartridges
Canvas exported import (questions, pages, pictures); broken input is refused naming the file."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from deploy.seed import COURSE_EN_ID, seed_framework
from tests.cc_schemas import MANIFEST, MANIFEST_11, QTI, moodle_detects, problems
from tests.conftest import Databases, serve, service_settings
from tests.integration.test_courses_authoring import admin, author  # noqa: F401 (fixtures)
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")
CANVAS = Path(__file__).parents[1] / "data" / "cc" / "canvas"
ZIP = {"content-type": "application/zip"}
IMPORT = "/api/v1/courses/cartridges"


@pytest_asyncio.fixture
async def framework_only(databases: Databases, gateway_url: str) -> AsyncIterator[httpx.AsyncClient]:
    from services.courses.app import build_app

    app = build_app(
        service_settings(
            "courses",
            databases.fresh("courses", seed_framework),
            gateway_url=gateway_url,
            max_package_bytes=300_000,
            max_package_unpacked_bytes=600_000,
        )
    )
    async with serve(app) as client:
        yield client


QUIZ_ONLY = (
    b'<manifest xmlns="http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1" identifier="m"><organizations>'
    b'<organization identifier="o"><item identifier="r"><item identifier="i" identifierref="q"><title>Q'
    b'</title></item></item></organization></organizations><resources><resource identifier="q" '
    b'type="imsqti_xmlv1p2/imscc_xmlv1p3/assessment"><file href="quiz.xml"/></resource></resources></manifest>'
)


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def directory(path: Path) -> dict[str, bytes]:
    return {str(f.relative_to(path)): f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file()}


async def test_an_export_passes_the_schemas_and_reimports_as_the_same_course(
    courses_client: httpx.AsyncClient, framework_only: httpx.AsyncClient, author: dict[str, str]
) -> None:
    response = await courses_client.get(
        f"/api/v1/courses/{COURSE_EN_ID}/versions/1/cartridge", headers=author
    )
    assert response.status_code == 200 and ".imscc" in response.headers["content-disposition"]
    files = unzip(response.content)
    assert problems(MANIFEST, files["imsmanifest.xml"]) == []
    quizzes = [name for name in files if name.endswith("assessment.xml")]
    assert quizzes and all(problems(QTI, files[name]) == [] for name in quizzes)
    framework = (await courses_client.get("/api/v1/courses/frameworks/UNESCO-ICT-CFT-3")).json()
    guids = {i["identifier"] for i in framework["CFItems"]}
    manifest = files["imsmanifest.xml"].decode()
    assert any(g in manifest for g in guids)

    created = await framework_only.post(IMPORT, content=response.content, headers={**author, **ZIP})
    assert created.status_code == 201, created.text
    draft = created.json()["draft"]
    original = (await courses_client.get(f"/api/v1/courses/{COURSE_EN_ID}/source", headers=author)).json()
    same = ("title", "summary", "language", "licence", "framework")
    assert {k: {**created.json(), **draft}[k] for k in same} == {k: original[k] for k in same}

    def outline(modules: list[dict[str, Any]]) -> list[Any]:
        return [
            (
                m["title"],
                [
                    (i["type"], i["title"], i.get("markdown"), sorted(i.get("indicators", [])))
                    for i in m["items"]
                ],
            )
            for m in modules
        ]

    assert outline(draft["modules"]) == outline(original["modules"])
    questions = [
        q for m in draft["modules"] for i in m["items"] if i["type"] == "quiz" for q in i["questions"]
    ]
    before = [
        q for m in original["modules"] for i in m["items"] if i["type"] == "quiz" for q in i["questions"]
    ]
    assert [(q["id"], q["prompt"]) for q in questions] == [(q["id"], q["prompt"]) for q in before]
    # CC carries competencies per resource: every question of a quiz comes back with the quiz's.
    assert {c for q in questions for c in q["indicators"]} == {c for q in before for c in q["indicators"]}


async def test_a_cc_11_export_for_moodle_passes_its_schemas_and_reimports(
    courses_client: httpx.AsyncClient, framework_only: httpx.AsyncClient, author: dict[str, str]
) -> None:
    path = f"/api/v1/courses/{COURSE_EN_ID}/versions/1/cartridge"
    response = await courses_client.get(path, params={"version": "1.1"}, headers=author)
    assert response.status_code == 200 and "-cc11.imscc" in response.headers["content-disposition"]
    files = unzip(response.content)
    assert problems(MANIFEST_11, files["imsmanifest.xml"]) == [] and moodle_detects(files["imsmanifest.xml"])
    quizzes = [name for name in files if name.endswith("assessment.xml")]
    assert quizzes and all(problems(QTI, files[name]) == [] for name in quizzes)
    created = await framework_only.post(IMPORT, content=response.content, headers={**author, **ZIP})
    assert created.status_code == 201, created.text
    original = (await courses_client.get(f"/api/v1/courses/{COURSE_EN_ID}/source", headers=author)).json()
    draft = created.json()["draft"]
    assert [[i["title"] for i in m["items"]] for m in draft["modules"]] == [
        [i["title"] for i in m["items"]] for m in original["modules"]
    ]
    bad = await courses_client.get(path, params={"version": "1.2"}, headers=author)
    assert assert_problem(bad, 422)["errors"][0]["field"] == "version"


async def test_cartridges_exported_by_canvas_import(
    framework_only: httpx.AsyncClient, author: dict[str, str]
) -> None:
    canvas = directory(CANVAS / "all-question-types")
    # Canvas writes CC 1.1 resource types into a CC 1.3 manifest, which 1EdTech's 1.3 schema refuses.
    assert any("imscc_xmlv1p1" in p for p in problems(MANIFEST, canvas["imsmanifest.xml"]))
    # Its CC assessment is valid CC QTI: the schema the exports pass judges others' files the same way.
    assert problems(QTI, canvas["iaa8f9f400b29e514ea8d28fd7ed067f4/assessment_qti.xml"]) == []
    created = await framework_only.post(IMPORT, content=zipped(canvas), headers={**author, **ZIP})
    assert created.status_code == 201, created.text
    body = created.json()
    quiz = body["draft"]["modules"][0]["items"][0]
    kinds = {q["kind"] for q in quiz["questions"]}
    assert {"single", "multiple", "true_false"} <= kinds
    assert all(q["answer"]["correct"] or q["answer"]["accepted"] for q in quiz["questions"])
    assert any("essay" in w["message"] for w in body["warnings"])  # left out, and said so

    pages = directory(CANVAS / "rich-content-cc-file")
    created = await framework_only.post(IMPORT, content=zipped(pages), headers={**author, **ZIP})
    assert created.status_code == 201, created.text
    lesson = created.json()["draft"]["modules"][0]["items"][0]
    assert lesson["type"] == "lesson" and lesson["markdown"].count("/api/v1/courses/images/") == 2
    assert lesson["title"] == "Front Page!"  # no outline: the page's own title
    stored = await framework_only.get(f"/api/v1/courses/{created.json()['id']}/images", headers=author)
    assert len(stored.json()) == 2 and all(i["width"] <= 640 for i in stored.json())

    single = (CANVAS / "single-page.imscc").read_bytes()
    created = await framework_only.post(IMPORT, content=single, headers={**author, **ZIP})
    assert created.status_code == 201, created.text


@pytest.mark.parametrize(
    "files,file",
    [
        ({"imsmanifest.xml": b"<manifest><resources>"}, "imsmanifest.xml"),
        ({"lessons/a.html": b"<p>x</p>"}, "imsmanifest.xml"),
        ({"imsmanifest.xml": b"<manifest/>", "../evil.html": b"x"}, "../evil.html"),
        ({"imsmanifest.xml": QUIZ_ONLY}, "quiz.xml"),  # the assessment's file is missing
        ({"imsmanifest.xml": QUIZ_ONLY, "quiz.xml": b"<questestinterop><item>"}, "quiz.xml"),
        ({"imsmanifest.xml": b"<manifest><resources/></manifest>"}, "imsmanifest.xml"),  # nothing to carry
    ],
)
async def test_broken_cartridges_are_refused_naming_the_file(
    framework_only: httpx.AsyncClient, author: dict[str, str], files: dict[str, bytes], file: str
) -> None:
    body = assert_problem(
        await framework_only.post(IMPORT, content=zipped(files), headers={**author, **ZIP}), 422
    )
    assert body["errors"][0]["file"] == file
    assert (await framework_only.get("/api/v1/courses/authoring", headers=author)).json() == []


async def test_the_same_cartridge_twice_is_a_conflict(
    framework_only: httpx.AsyncClient, author: dict[str, str]
) -> None:
    canvas = zipped(directory(CANVAS / "rich-content-cc-file"))
    assert (await framework_only.post(IMPORT, content=canvas, headers={**author, **ZIP})).status_code == 201
    before = (await framework_only.get("/api/v1/courses/authoring", headers=author)).json()
    assert_problem(await framework_only.post(IMPORT, content=canvas, headers={**author, **ZIP}), 409)
    assert (await framework_only.get("/api/v1/courses/authoring", headers=author)).json() == before
    assert_problem(
        await framework_only.post(IMPORT, content=canvas, headers={**author, "content-type": "text/plain"}),
        422,
    )


async def test_oversize_cartridges_are_413(framework_only: httpx.AsyncClient, author: dict[str, str]) -> None:
    assert_problem(await framework_only.post(IMPORT, content=b"x" * 300_001, headers={**author, **ZIP}), 413)
    bomb = zipped({"imsmanifest.xml": b"<manifest/>", "big.html": b"a" * 700_000})
    assert len(bomb) < 300_000
    assert_problem(await framework_only.post(IMPORT, content=bomb, headers={**author, **ZIP}), 413)
    assert_problem(await framework_only.post(IMPORT, content=b"not a zip", headers={**author, **ZIP}), 422)

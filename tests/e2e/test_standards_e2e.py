"""The standards against the real processes, through the gateway at its public URL: every URI of a
CASE export is a record that 1EdTech's CASE 1.1 schema accepts (and a page for people); a course's
Common Cartridge passes 1EdTech's CC 1.3 XSDs (and as 1.1, the schemas Moodle checks) and imports
back, as does a cartridge Canvas wrote."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft201909Validator

from deploy.demo import login
from deploy.seed import COURSE_EN_ID
from tests.cc_schemas import MANIFEST, MANIFEST_11, QTI, moodle_detects, problems

pytestmark = pytest.mark.e2e
DATA = Path(__file__).parents[1] / "data"
API = "/ims/case/v1p1"
SCHEMA_OF = {"CFDocuments": "cfdocument", "CFItems": "cfitem", "CFAssociations": "cfassociation"}
SCHEMA_OF |= {"CFPackages": "cfpackage"}


def case_errors(entity: str, document: Any) -> list[str]:
    path = DATA / "standards" / "case-v1p1" / f"case_v1p1_{entity}-jsonschema1.json"
    validator = Draft201909Validator(
        json.loads(path.read_text()), format_checker=Draft201909Validator.FORMAT_CHECKER
    )
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def uris(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {v for k, v in value.items() if k == "uri" and isinstance(v, str)} | {
            u for k, v in value.items() if k != "uri" for u in uris(v)
        }
    if isinstance(value, list):
        return {u for v in value for u in uris(v)}
    return set()


def test_every_uri_of_a_case_export_resolves_through_the_gateway(platform: Any) -> None:
    base = platform.urls["gateway"]
    with httpx.Client(timeout=30) as client:
        package = client.get(f"{base}/api/v1/courses/frameworks/UNESCO-ICT-CFT-3").json()
        assert case_errors("cfpackage", package) == []
        found = uris(package)
        assert len(found) > 60 and all(u.startswith(f"{base}{API}/") for u in found)
        kinds, seen = set(), set()
        while found - seen:  # the export's URIs, then the ones each record links to (its document, package)
            uri = min(found - seen)
            seen.add(uri)
            response = client.get(
                uri, headers={"accept": "application/json"}
            )  # as written: nothing rewritten
            assert response.status_code == 200, uri
            kind = uri.removeprefix(f"{base}{API}/").split("/")[0]
            assert case_errors(SCHEMA_OF[kind], response.json()) == [], uri
            kinds.add(kind)
            found |= uris(response.json())
        assert kinds == set(SCHEMA_OF)
        item = next(i for i in package["CFItems"] if i["humanCodingScheme"] == "II.KA.1")
        page = client.get(item["uri"], headers={"accept": "text/html"})
        assert page.status_code == 200 and item["fullStatement"] in page.text


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zipped(path: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(path.rglob("*")):
            if file.is_file():
                archive.write(file, str(file.relative_to(path)))
    return buffer.getvalue()


def test_a_common_cartridge_through_the_gateway(platform: Any) -> None:
    base = platform.urls["gateway"]
    with httpx.Client(base_url=base, timeout=60) as client:
        author = login(client, "author")
        response = client.get(f"/api/v1/courses/{COURSE_EN_ID}/versions/1/cartridge", headers=author)
        assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
        files = unzip(response.content)
        assert problems(MANIFEST, files["imsmanifest.xml"]) == []
        quizzes = [name for name in files if name.endswith("assessment.xml")]
        assert quizzes and all(problems(QTI, files[name]) == [] for name in quizzes)

        moodle = client.get(
            f"/api/v1/courses/{COURSE_EN_ID}/versions/1/cartridge", params={"version": "1.1"}, headers=author
        )
        manifest = unzip(moodle.content)["imsmanifest.xml"]
        assert problems(MANIFEST_11, manifest) == [] and moodle_detects(manifest)

        zip_type = {"content-type": "application/zip"}
        created = client.post(
            "/api/v1/courses/cartridges", content=response.content, headers=author | zip_type
        )
        assert created.status_code == 201, created.text
        draft = client.get(created.headers["location"], headers=author)
        assert draft.status_code == 200
        source = client.get(f"/api/v1/courses/{COURSE_EN_ID}/source", headers=author).json()
        assert [m["title"] for m in draft.json()["draft"]["modules"]] == [
            m["title"] for m in source["modules"]
        ]

        canvas = zipped(DATA / "cc" / "canvas" / "all-question-types")
        created = client.post("/api/v1/courses/cartridges", content=canvas, headers=author | zip_type)
        assert created.status_code == 201, created.text
        assert created.json()["draft"]["modules"][0]["items"][0]["type"] == "quiz"

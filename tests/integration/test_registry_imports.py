"""The import contract through the gateway's API, on SQLite and PostgreSQL: org units and teachers from
CSV (UTF-8, Windows-1251, semicolons) and XLSX, round trips, dry runs, moves that carry descendants and
a moved teacher's next token, and every bad input answered with a problem and nothing changed."""

from __future__ import annotations

import io

import httpx
import jwt
import pytest

from tests.integration.registry_data import (
    SCHOOLS,
    csv_bytes,
    engine_of,
    org_units_file,
    scalar,
    snapshot,
    teacher_rows,
    teachers_file,
)
from tests.integration.test_gateway_identity import assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")
CSV = {"content-type": "text/csv"}


async def token(
    client: httpx.AsyncClient, username: str = "admin", password: str = "admin-demo"
) -> dict[str, str]:
    response = await client.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['access_token']}"}


async def upload(
    client: httpx.AsyncClient, kind: str, data: bytes, headers: dict[str, str], dry_run: bool = False
) -> httpx.Response:
    params = {"dry_run": "1"} if dry_run else {}
    return await client.post(
        f"/registry/imports/{kind}", content=data, params=params, headers={**headers, **CSV}
    )


async def country(client: httpx.AsyncClient, headers: dict[str, str], teachers: int = 12) -> None:
    assert (await upload(client, "org-units", org_units_file(), headers)).status_code == 200
    response = await upload(client, "teachers", teachers_file(teachers), headers)
    assert response.status_code == 200, response.text


async def test_two_files_stand_up_a_country_and_an_export_imports_unchanged(
    gateway_client: httpx.AsyncClient,
) -> None:
    admin = await token(gateway_client)
    first = await upload(gateway_client, "org-units", org_units_file(), admin)
    assert first.status_code == 200, first.text
    assert first.json()["summary"] == "created 6, updated 0, unchanged 0, rejected 0"
    units = (await gateway_client.get("/org-units", headers=admin)).json()["items"]
    school = next(u for u in units if u["code"] == "KZ-TST-D1-S2")
    assert school["path"] == "KZ/KZ-TST/KZ-TST-D1/KZ-TST-D1-S2" and school["parent"] == "KZ-TST-D1"
    teachers = await upload(gateway_client, "teachers", teachers_file(12), admin)
    assert teachers.json()["summary"] == "created 12, updated 0, unchanged 0, rejected 0"
    for kind in ("org-units", "teachers"):
        exported = await gateway_client.get(f"/registry/export/{kind}", headers=admin)
        assert exported.status_code == 200 and exported.content.startswith(b"\xef\xbb\xbf")
        before = snapshot(gateway_client)
        again = await upload(gateway_client, kind, exported.content, admin)
        assert again.status_code == 200, again.text
        body = again.json()
        assert (
            body["created"] == body["updated"] == body["rejected"] == 0
            and body["unchanged"] == body["rows"] > 0
        )
        assert snapshot(gateway_client) == before  # nothing written
    # The national ID is sealed at rest: the table never holds it in clear.
    iin = teacher_rows(1)[1][0]
    assert (
        scalar(
            gateway_client, "SELECT count(*) FROM registry_teachers WHERE nid_sealed LIKE :v", v=f"%{iin}%"
        )
        == 0
    )


async def test_windows_1251_semicolons_and_xlsx_read_alike(gateway_client: httpx.AsyncClient) -> None:
    admin = await token(gateway_client)
    response = await upload(gateway_client, "org-units", org_units_file("cp1251", ";"), admin)
    assert response.json()["summary"] == "created 6, updated 0, unchanged 0, rejected 0"
    assert scalar(gateway_client, "SELECT name FROM org_units WHERE code = 'KZ-TST'") == "Test Region"
    from openpyxl import Workbook

    book = Workbook()
    for row in teacher_rows(5):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    xlsx = await gateway_client.post(
        "/registry/imports/teachers", content=out.getvalue(), params={"filename": "t.xlsx"}, headers=admin
    )
    assert xlsx.json()["summary"] == "created 5, updated 0, unchanged 0, rejected 0", xlsx.text
    csv_again = await upload(gateway_client, "teachers", teachers_file(5), admin)
    assert csv_again.json()["summary"] == "created 0, updated 0, unchanged 5, rejected 0"


async def test_a_dry_run_counts_and_writes_nothing(gateway_client: httpx.AsyncClient) -> None:
    admin = await token(gateway_client)
    before = snapshot(gateway_client)
    response = await upload(gateway_client, "org-units", org_units_file(), admin, dry_run=True)
    assert response.json()["summary"] == "created 6, updated 0, unchanged 0, rejected 0"
    assert response.json()["dry_run"] is True and snapshot(gateway_client) == before


async def test_transfers_and_leavers_keep_their_history(gateway_client: httpx.AsyncClient) -> None:
    admin = await token(gateway_client)
    await country(gateway_client, admin, 6)
    rows = teacher_rows(6)
    rows[1][4] = SCHOOLS[2]  # transferred
    rows[2][10] = "left"  # left teaching
    response = await upload(gateway_client, "teachers", csv_bytes(rows), admin)
    assert response.json()["summary"] == "created 0, updated 2, unchanged 4, rejected 0"
    moved = scalar(
        gateway_client,
        "SELECT h.after FROM registry_teacher_history h WHERE h.change = 'transfer'",
    )
    assert SCHOOLS[2] in str(moved) and SCHOOLS[1] not in str(moved)  # the history names the new school
    assert (
        scalar(gateway_client, "SELECT count(*) FROM registry_teacher_history WHERE change = 'transfer'") == 1
    )
    assert scalar(gateway_client, "SELECT count(*) FROM registry_teacher_history WHERE change = 'left'") == 1
    assert scalar(gateway_client, "SELECT count(*) FROM registry_teachers WHERE status = 'left'") >= 1


async def test_moving_a_unit_carries_its_schools_and_a_teachers_next_token(
    gateway_client: httpx.AsyncClient,
) -> None:
    admin = await token(gateway_client)
    # The demo teacher's school moves to another district: the path of the school follows, and so does
    # the org claim of the teacher's next token.
    moved = await gateway_client.patch(
        "/registry/org-units/KZ-ALM-TAL-S01", json={"parent_code": "KZ-ALM-ESK"}, headers=admin
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["path"] == "KZ/KZ-ALM/KZ-ALM-ESK/KZ-ALM-TAL-S01"
    teacher = (
        await gateway_client.post("/auth/login", json={"username": "teacher", "password": "teacher-demo"})
    ).json()
    assert jwt.decode(teacher["access_token"], options={"verify_signature": False})["org"] == [
        "KZ", "KZ-ALM", "KZ-ALM-ESK", "KZ-ALM-TAL-S01"
    ]  # fmt: skip
    # A district moved to another region carries every school under it.
    region = await gateway_client.patch(
        "/registry/org-units/KZ-ALM-ESK", json={"parent_code": "KZ-AKM"}, headers=admin
    )
    assert region.status_code == 200, region.text
    paths = {
        u["code"]: u["path"] for u in (await gateway_client.get("/org-units", headers=admin)).json()["items"]
    }
    assert paths["KZ-ALM-TAL-S01"] == "KZ/KZ-AKM/KZ-ALM-ESK/KZ-ALM-TAL-S01"
    assert paths["KZ-ALM-ESK-S02"] == "KZ/KZ-AKM/KZ-ALM-ESK/KZ-ALM-ESK-S02"
    history = (await gateway_client.get("/registry/org-units/KZ-ALM-ESK", headers=admin)).json()["history"]
    assert history[0]["change"] == "moved" and history[0]["before"]["parent_code"] == "KZ-ALM"
    renamed = await gateway_client.patch(
        "/registry/org-units/KZ-ALM-ESK",
        json={"name": "Eskeldi", "names": {"ru": "Ескельдинский район"}},
        headers=admin,
    )
    assert renamed.json()["names"] == {"ru": "Ескельдинский район"}
    audit = (
        await gateway_client.get("/identity/audit", params={"action": "org_unit."}, headers=admin)
    ).json()["items"]
    assert [e["action"] for e in audit][:3] == ["org_unit.update"] * 3


async def test_retiring_a_school_with_teachers_is_refused(gateway_client: httpx.AsyncClient) -> None:
    admin = await token(gateway_client)
    before = snapshot(gateway_client)
    body = assert_problem(
        await gateway_client.patch(
            "/registry/org-units/KZ-ALM-TAL-S01", json={"retired": True}, headers=admin
        ),
        409,
    )
    assert "active teacher" in body["detail"] and snapshot(gateway_client) == before


# -- bad input: a problem, and nothing changed ----------------------------------------------------------


async def test_an_unknown_header_is_named(gateway_client: httpx.AsyncClient) -> None:
    admin = await token(gateway_client)
    before = snapshot(gateway_client)
    data = csv_bytes(
        [["national_id", "surname", "first_name", "school_code"], ["860904350504", "A", "B", "X"]]
    )
    body = assert_problem(await upload(gateway_client, "teachers", data, admin), 422)
    assert (
        body["type"] == "/problems/unknown-header"
        and body["column"] == "surname"
        and "surname" in body["detail"]
    )
    assert snapshot(gateway_client) == before


async def test_bad_rows_are_reported_by_row_column_and_reason(gateway_client: httpx.AsyncClient) -> None:
    admin = await token(gateway_client)
    await upload(gateway_client, "org-units", org_units_file(), admin)
    before = snapshot(gateway_client)
    rows = teacher_rows(5)
    rows[2][0] = rows[2][0][:-1] + str((int(rows[2][0][-1]) + 1) % 10)  # wrong check digit (row 3)
    rows[3][4] = "KZ-NOWHERE"  # row 4
    rows[4][9] = "retired"  # row 5
    rows.append(list(rows[1]))  # row 7: the national ID of row 2 again
    body = assert_problem(await upload(gateway_client, "teachers", csv_bytes(rows), admin), 422)
    assert body["type"] == "/problems/invalid-rows" and body["rejected"] == 4
    found = {(e["row"], e["column"]) for e in body["errors"]}
    assert found == {(3, "national_id"), (4, "school_code"), (5, "employment"), (7, "national_id")}
    assert next(e for e in body["errors"] if e["row"] == 7)["reason"] == "the same national ID as row 2"
    assert snapshot(gateway_client) == before  # the good rows were not written either
    run = (await gateway_client.get(f"/registry/imports/{body['import_id']}", headers=admin)).json()
    assert run["status"] == "rejected" and run["summary"] == "created 0, updated 0, unchanged 0, rejected 4"
    errors = await gateway_client.get(f"/registry/imports/{body['import_id']}/errors.csv", headers=admin)
    assert (
        errors.status_code == 200
        and "4,school_code,KZ-NOWHERE is not a school in the registry" in errors.text
    )


async def test_an_undecodable_file_is_refused(gateway_client: httpx.AsyncClient) -> None:
    admin = await token(gateway_client)
    before = snapshot(gateway_client)
    data = "code,parent_code,kind,name\nKZ-X,KZ,region,Обл".encode("cp1251") + b"\x98\n"
    body = assert_problem(await upload(gateway_client, "org-units", data, admin), 422)
    assert body["type"] == "/problems/import-file-refused" and "Windows-1251" in body["detail"]
    assert snapshot(gateway_client) == before


@pytest.mark.parametrize(
    "who", [("teacher", "teacher-demo"), ("analyst", "analyst-demo"), ("coordinator", "coordinator-demo")]
)
async def test_only_platform_admins_import(gateway_client: httpx.AsyncClient, who: tuple[str, str]) -> None:
    headers = await token(gateway_client, *who)
    before = snapshot(gateway_client)
    refused = assert_problem(await upload(gateway_client, "org-units", org_units_file(), headers), 403)
    assert refused["type"] == "/problems/forbidden"
    refused = assert_problem(await upload(gateway_client, "teachers", teachers_file(2), headers), 403)
    assert refused["type"] == "/problems/forbidden"
    assert_problem(await gateway_client.get("/registry/export/teachers", headers=headers), 403)
    assert_problem(await upload(gateway_client, "org-units", org_units_file(), {}), 401)
    assert snapshot(gateway_client) == before


async def test_a_national_id_linked_to_another_account_is_a_409_naming_the_row(
    gateway_client: httpx.AsyncClient,
) -> None:
    admin = await token(gateway_client)
    await upload(gateway_client, "org-units", org_units_file(), admin)
    rows = teacher_rows(3)
    rows[0].append("username")
    rows[1].append("author")  # links row 2's teacher to the `author` account
    rows[2].append("")
    rows[3].append("")
    linked = await upload(gateway_client, "teachers", csv_bytes(rows), admin)
    assert linked.json().get("summary") == ("created 3, updated 0, unchanged 0, rejected 0"), linked.text
    before = snapshot(gateway_client)
    rows[1][-1] = "institute"  # the same national ID, now claimed for another account
    body = assert_problem(await upload(gateway_client, "teachers", csv_bytes(rows), admin), 409)
    assert body["type"] == "/problems/conflicting-rows"
    assert body["errors"] == [
        {
            "row": 2,
            "column": "national_id",
            "reason": "this national ID is already linked to another account",
            "code": "conflict",
        }
    ]
    rows[1][-1], rows[2][-1] = "", "author"  # an account already linked, claimed for another national ID
    body = assert_problem(await upload(gateway_client, "teachers", csv_bytes(rows), admin), 409)
    assert body["errors"][0]["row"] == 3 and "already linked" in body["errors"][0]["reason"]
    assert snapshot(gateway_client) == before


async def test_a_file_of_several_chunks_is_checked_across_them(gateway_client: httpx.AsyncClient) -> None:
    """More rows than one chunk (imports.CHUNK): a national ID repeated in a later chunk is found and
    nothing is written; without it every row is created once, and the same file again is unchanged in
    every chunk, names and subjects with spaces and hyphens too (checked by their patterns)."""
    from gateway.registry.imports import CHUNK, from_bytes, import_teachers
    from gateway.registry.national_id import national_ids

    admin = await token(gateway_client)
    await upload(gateway_client, "org-units", org_units_file(), admin)
    engine = engine_of(gateway_client)
    ids = national_ids(gateway_client.app.state.settings)  # type: ignore[attr-defined]
    rows = teacher_rows(CHUNK + 300, seed=2011)  # national IDs no other test imports
    rows[CHUNK + 50][1], rows[CHUNK + 60][8] = "Серик-Ахметова", "история Казахстана;физика"
    before, count = snapshot(gateway_client), "SELECT count(DISTINCT nid_hash) FROM registry_teachers"
    repeated = [*rows, list(rows[1])]  # file row CHUNK + 302: the national ID of row 2, a chunk later
    outcome = import_teachers(engine, ids, from_bytes("teachers", csv_bytes(repeated)))
    assert (outcome.rejected, outcome.created, outcome.would["created"]) == (1, 0, CHUNK + 300)
    assert [(e.row, e.reason) for e in outcome.errors] == [(CHUNK + 302, "the same national ID as row 2")]
    assert snapshot(gateway_client) == before
    outcome = import_teachers(engine, ids, from_bytes("teachers", csv_bytes(rows)))
    assert outcome.summary() == f"created {CHUNK + 300}, updated 0, unchanged 0, rejected 0"
    assert scalar(gateway_client, count) == before[1] + CHUNK + 300
    assert (
        scalar(gateway_client, "SELECT count(*) FROM registry_teachers WHERE last_name LIKE 'Серик-%'") == 1
    )
    written = snapshot(gateway_client)
    again = import_teachers(engine, ids, from_bytes("teachers", csv_bytes(rows)))
    assert again.summary() == f"created 0, updated 0, unchanged {CHUNK + 300}, rejected 0"
    assert snapshot(gateway_client) == written

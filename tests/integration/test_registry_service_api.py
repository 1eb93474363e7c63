"""What the progress side reads, on SQLite and PostgreSQL: teachers resolved by national ID or filter,
counts per org unit, the change feed with its cursor; national IDs only for the EMIS client; the audit
log append-only in the database; and the command line's import contract."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text, update

from gateway.registry.clients import emis_token
from gateway.registry.repository import TEACHERS
from gateway.schemas import ResolveResponse, ServiceTokenRequest, TeacherCounts
from tests.integration.registry_data import (
    engine_of,
    org_units_file,
    scalar,
    snapshot,
    teacher_rows,
    teachers_file,
)
from tests.integration.test_gateway_identity import assert_problem
from tests.integration.test_registry_imports import CSV, token

pytestmark = pytest.mark.asyncio(loop_scope="session")
ROOT = Path(__file__).resolve().parents[2]


async def service_headers(client: httpx.AsyncClient) -> dict[str, str]:
    answer = await client.post(
        "/auth/service-token",
        json={"client_id": "progress", "client_secret": "test-service-secret", "audience": "gateway"},
    )
    assert answer.status_code == 200, answer.text
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


async def loaded(client: httpx.AsyncClient) -> dict[str, str]:
    admin = await token(client)
    for kind, data in (("org-units", org_units_file()), ("teachers", teachers_file(9))):
        assert (
            await client.post(f"/registry/imports/{kind}", content=data, headers={**admin, **CSV})
        ).status_code == 200
    return admin


async def test_resolve_by_national_ids_never_echoes_them(gateway_client: httpx.AsyncClient) -> None:
    await loaded(gateway_client)
    svc = await service_headers(gateway_client)
    wanted = [teacher_rows(9)[3][0], "860904350504", "not-an-id", teacher_rows(9)[1][0]]
    answer = await gateway_client.post("/registry/resolve", json={"national_ids": wanted}, headers=svc)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["unknown"] == [1, 2] and len(body["items"]) == 2
    first = body["items"][0]
    assert first["org_path"].startswith("KZ/KZ-TST/") and first["national_id"] is None
    assert wanted[0] not in answer.text and wanted[3] not in answer.text


async def test_resolve_by_registry_or_account_ids_gives_name_and_org_unit(
    gateway_client: httpx.AsyncClient,
) -> None:
    await loaded(gateway_client)
    svc = await service_headers(gateway_client)
    by_nid = ResolveResponse.model_validate(
        (
            await gateway_client.post(
                "/registry/resolve", json={"national_ids": [teacher_rows(9)[2][0]]}, headers=svc
            )
        ).json()
    )
    known = by_nid.items[0]
    linked = scalar(gateway_client, "SELECT id FROM users WHERE username = 'teacher'")  # the demo teacher
    answer = await gateway_client.post(
        "/registry/resolve", json={"user_ids": [known.registry_id, "no-such-id", linked]}, headers=svc
    )
    assert answer.status_code == 200, answer.text
    body = ResolveResponse.model_validate(answer.json())
    assert body.unknown == [1] and [t.registry_id for t in body.items][0] == known.registry_id
    assert body.items[0].display_name == known.display_name and body.items[0].org_path == known.org_path
    assert body.items[1].user_id == linked and body.items[1].school_code and body.items[1].last_name
    both = {"national_ids": [], "user_ids": [known.registry_id]}
    assert_problem(await gateway_client.post("/registry/resolve", json=both, headers=svc), 422)


async def test_resolve_and_count_by_filter(gateway_client: httpx.AsyncClient) -> None:
    await loaded(gateway_client)
    svc = await service_headers(gateway_client)
    page = await gateway_client.post(
        "/registry/resolve",
        json={"filter": {"org": "KZ-TST-D1", "subject": "физика"}, "limit": 2},
        headers=svc,
    )
    body = page.json()
    assert len(body["items"]) == 2 and body["next"] and all("физика" in t["subjects"] for t in body["items"])
    rest = await gateway_client.post(
        "/registry/resolve",
        json={"filter": {"org": "KZ-TST-D1", "subject": "физика"}, "after": body["next"]},
        headers=svc,
    )
    everyone = body["items"] + rest.json()["items"]
    assert all(t["org_path"].startswith("KZ/KZ-TST/KZ-TST-D1/") for t in everyone)
    counts = (await gateway_client.get("/registry/counts", params={"org": "KZ-TST"}, headers=svc)).json()
    by_code = {c["code"]: c["teachers"] for c in counts["items"]}
    assert by_code["KZ-TST"] == 9 == counts["total"]
    assert by_code["KZ-TST-D1"] == 6 and by_code["KZ-TST-D1-S1"] == 3 and by_code["KZ-TST-D2"] == 3
    pre = (
        await gateway_client.get(
            "/registry/counts", params={"org": "KZ-TST", "employment": "pre_service"}, headers=svc
        )
    ).json()
    assert pre["total"] == 1 and TeacherCounts.model_validate(pre).filter.employment == "pre_service"
    pre_teachers = ResolveResponse.model_validate(
        (
            await gateway_client.post(
                "/registry/resolve",
                json={"filter": {"org": "KZ-TST", "employment": "pre_service"}},
                headers=svc,
            )
        ).json()
    )
    assert [t.employment for t in pre_teachers.items] == ["pre_service"]
    national = (await gateway_client.get("/registry/counts", headers=svc)).json()
    assert national["items"][0]["code"] == "KZ" and national["total"] > 9  # the demo registry too
    assert_problem(
        await gateway_client.get("/registry/counts", params={"org": "KZ-NOWHERE"}, headers=svc), 404
    )
    assert_problem(
        await gateway_client.post("/registry/resolve", json={"filter": {"school": "x"}}, headers=svc), 422
    )
    teacher = await token(gateway_client, "teacher", "teacher-demo")
    assert_problem(
        await gateway_client.post("/registry/resolve", json={"national_ids": []}, headers=teacher), 403
    )


async def test_the_change_feed_pages_with_a_cursor_and_stops_at_its_horizon(
    gateway_client: httpx.AsyncClient,
) -> None:
    svc = await service_headers(gateway_client)
    with engine_of(gateway_client).begin() as conn:  # the seed's rows, all at one time, before the horizon
        conn.execute(update(TEACHERS).values(updated_at=datetime(2026, 1, 1, tzinfo=UTC)))
    seen: list[str] = []
    since = ""
    for _ in range(20):
        page = (
            await gateway_client.get("/registry/changes", params={"since": since, "limit": 100}, headers=svc)
        ).json()
        seen += [t["registry_id"] for t in page["teachers"]]
        since = page["next"]
        if not page["more"]:
            break
    assert len(seen) == len(set(seen)) == scalar(gateway_client, "SELECT count(*) FROM registry_teachers")
    # A change made now is behind the horizon (a few seconds): not yet shown, shown later, never lost.
    admin = await loaded(gateway_client)
    later = (await gateway_client.get("/registry/changes", params={"since": since}, headers=svc)).json()
    assert later["teachers"] == [] and later["next"].startswith(since.split("|")[0][:10])
    arrived: list[str] = []
    deadline = time.monotonic() + 20
    while len(arrived) < 9 and time.monotonic() < deadline:  # the horizon passes the import's commit
        await asyncio.sleep(0.25)
        page = (await gateway_client.get("/registry/changes", params={"since": since}, headers=svc)).json()
        arrived += [t["registry_id"] for t in page["teachers"]]
        since = page["next"]
    assert len(arrived) == len(set(arrived)) == 9 and admin
    assert_problem(
        await gateway_client.get("/registry/changes", params={"since": "yesterday"}, headers=svc), 422
    )


async def test_only_the_emis_client_receives_national_ids(gateway_client: httpx.AsyncClient) -> None:
    await loaded(gateway_client)
    app = gateway_client.app  # type: ignore[attr-defined]
    settings = app.state.settings.model_copy(update={"emis_client_secret": "emis-secret"})
    request = ServiceTokenRequest(client_id="emis", client_secret="emis-secret", audience="gateway")
    emis = emis_token(app.state.issuer, settings, request)
    assert emis is not None
    iin = teacher_rows(9)[2][0]
    answer = await gateway_client.post(
        "/registry/resolve",
        json={"national_ids": [iin]},
        headers={"authorization": f"Bearer {emis.access_token}"},
    )
    assert answer.json()["items"][0]["national_id"] == iin
    # Without a configured secret there is no EMIS client at all.
    refused = await gateway_client.post(
        "/auth/service-token", json={"client_id": "emis", "client_secret": "", "audience": "gateway"}
    )
    assert_problem(refused, 401)


async def test_the_audit_log_is_append_only_and_masked(gateway_client: httpx.AsyncClient) -> None:
    admin = await loaded(gateway_client)
    await gateway_client.patch(
        f"/registry/teachers/{scalar(gateway_client, 'SELECT id FROM registry_teachers WHERE source = :s', s='import')}",
        json={"email": "new@school.kz"},
        headers=admin,
    )
    entries = (await gateway_client.get("/identity/audit", headers=admin)).json()["items"]
    assert [e["action"] for e in entries][:3] == ["teacher.update", "import.teachers", "import.org-units"]
    assert entries[0]["after"]["email"] == "n•••@school.kz"
    exported = await gateway_client.get("/identity/audit", params={"format": "csv"}, headers=admin)
    assert (
        exported.status_code == 200
        and "teacher.update" in exported.text
        and "new@school.kz" not in exported.text
    )
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            with engine_of(gateway_client).begin() as conn:
                conn.execute(text(statement))
    assert scalar(gateway_client, "SELECT count(*) FROM audit_log WHERE action = 'x'") == 0
    analyst = await token(gateway_client, "analyst", "analyst-demo")
    assert_problem(await gateway_client.get("/identity/audit", headers=analyst), 403)


async def test_the_command_line_contract(gateway_client: httpx.AsyncClient, tmp_path: Path) -> None:
    url = str(engine_of(gateway_client).url.render_as_string(hide_password=False))
    env = {**os.environ, "USTAZ_GATEWAY_DATABASE_URL": url}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway.registry", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    units, teachers = tmp_path / "units.csv", tmp_path / "teachers.csv"
    units.write_bytes(org_units_file("cp1251", ";"))
    teachers.write_bytes(teachers_file(7))
    untouched = snapshot(gateway_client)
    dry = cli("import", "org-units", str(units), "--dry-run")
    assert snapshot(gateway_client) == untouched  # a dry run writes nothing
    assert (
        dry.returncode == 0
        and dry.stdout == "created 6, updated 0, unchanged 0, rejected 0\n"
        and "dry run" in dry.stderr
    )
    assert cli("import", "org-units", str(units)).stdout == "created 6, updated 0, unchanged 0, rejected 0\n"
    assert (
        cli("import", "teachers", str(teachers)).stdout == "created 7, updated 0, unchanged 0, rejected 0\n"
    )
    exported = tmp_path / "export.xlsx"
    assert cli("export", "teachers", str(exported)).returncode == 0
    before = snapshot(gateway_client)
    again = cli("import", "teachers", str(exported))
    assert (
        again.returncode == 0
        and again.stdout.endswith("rejected 0\n")
        and "created 0, updated 0" in again.stdout
    )
    assert snapshot(gateway_client) == before
    units_export = tmp_path / "units-export.csv"
    assert cli("export", "org-units", str(units_export)).returncode == 0
    units_again = cli("import", "org-units", str(units_export))
    assert units_again.returncode == 0 and units_again.stdout.startswith("created 0, updated 0, unchanged ")
    assert snapshot(gateway_client) == before
    rows = teacher_rows(7)
    rows[4][5] = "not-an-email"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    rejected = cli("import", "teachers", str(bad))
    assert rejected.returncode == 1 and rejected.stdout == "created 0, updated 0, unchanged 0, rejected 1\n"
    assert (
        "row 5 email: is not an e-mail address" in rejected.stderr
        and "nothing was written" in rejected.stderr
    )
    refused = tmp_path / "refused.csv"
    refused.write_text("national_id,nickname\n1,2\n", encoding="utf-8")
    header = cli("import", "teachers", str(refused))
    assert header.returncode == 2 and "'nickname'" in header.stderr and header.stdout.count("\n") == 1
    assert snapshot(gateway_client) == before

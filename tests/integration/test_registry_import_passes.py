"""The teacher import's passes on SQLite and PostgreSQL: the writing pass that begins at the first chunk
with something to write rolls every chunk back when a later chunk holds a bad row (on PostgreSQL the
earlier chunks were already sent by the write thread), and national IDs sealed with Fernet before
AES-GCM still read, export and re-import as unchanged."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

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
from tests.integration.test_registry_imports import token, upload

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_bad_row_chunks_after_the_writing_began_rolls_all_of_it_back(
    gateway_client: httpx.AsyncClient,
) -> None:
    from gateway.registry.imports import CHUNK, from_bytes, import_teachers
    from gateway.registry.national_id import national_ids

    admin = await token(gateway_client)
    await upload(gateway_client, "org-units", org_units_file(), admin)
    engine = engine_of(gateway_client)
    ids = national_ids(gateway_client.app.state.settings)  # type: ignore[attr-defined]
    rows = teacher_rows(2 * CHUNK + 200, seed=2023)  # national IDs no other test imports
    first = import_teachers(engine, ids, from_bytes("teachers", csv_bytes(rows[: CHUNK + 1])))
    assert first.summary() == f"created {CHUNK}, updated 0, unchanged 0, rejected 0"
    # chunk 1: the first CHUNK teachers, one moved; chunk 2: new; chunk 3: new, one bad e-mail
    rows[3][4] = next(s for s in SCHOOLS if s != rows[3][4])
    rows[2 * CHUNK + 150][5] = "not-an-address"
    before = snapshot(gateway_client)
    outcome = import_teachers(engine, ids, from_bytes("teachers", csv_bytes(rows)))
    assert (outcome.rejected, outcome.created, outcome.updated, outcome.unchanged) == (1, 0, 0, 0)
    assert outcome.would == {"created": CHUNK + 199, "updated": 1, "unchanged": CHUNK - 1}
    assert [(e.row, e.column) for e in outcome.errors] == [(2 * CHUNK + 151, "email")]
    assert snapshot(gateway_client) == before  # the moved teacher and 2,000 new ones: all rolled back
    rows[2 * CHUNK + 150][5] = ""
    outcome = import_teachers(engine, ids, from_bytes("teachers", csv_bytes(rows)))
    assert outcome.summary() == f"created {CHUNK + 200}, updated 1, unchanged {CHUNK - 1}, rejected 0"
    assert scalar(gateway_client, "SELECT count(*) FROM registry_teachers") == before[1] + CHUNK + 200
    assert scalar(gateway_client, "SELECT count(*) FROM registry_teacher_history") == before[3] + 1
    written = snapshot(gateway_client)
    dry = import_teachers(engine, ids, from_bytes("teachers", csv_bytes(rows)), dry_run=True)
    assert dry.summary() == f"created 0, updated 0, unchanged {2 * CHUNK + 200}, rejected 0"
    assert snapshot(gateway_client) == written


async def test_national_ids_sealed_with_fernet_before_still_read_and_reimport_unchanged(
    gateway_client: httpx.AsyncClient,
) -> None:
    from gateway.registry.national_id import national_ids
    from libs.crypto import fernet

    admin = await token(gateway_client)
    await upload(gateway_client, "org-units", org_units_file(), admin)
    settings = gateway_client.app.state.settings  # type: ignore[attr-defined]
    ids = national_ids(settings)
    rows = teacher_rows(6, seed=2029)
    created = await upload(gateway_client, "teachers", csv_bytes(rows), admin)
    assert created.json()["created"] == 6, created.text
    hashes = {ids.lookup(row[0]): row[0] for row in rows[1:]}
    sealed = "SELECT nid_sealed FROM registry_teachers WHERE nid_hash = :h"
    assert all(scalar(gateway_client, sealed, h=h).startswith("v2:") for h in hashes)
    box = fernet(settings.national_id_key)  # how every national ID was sealed until "v2:"
    with engine_of(gateway_client).begin() as conn:
        for nid_hash, iin in hashes.items():
            conn.execute(
                text("UPDATE registry_teachers SET nid_sealed = :s WHERE nid_hash = :h"),
                {"s": box.encrypt(iin.encode()).decode(), "h": nid_hash},
            )
    assert all(scalar(gateway_client, sealed, h=h).startswith("gAAAAA") for h in hashes)
    exported = await gateway_client.get("/registry/export/teachers", headers=admin)
    assert exported.status_code == 200
    assert all(iin.encode() in exported.content for iin in hashes.values())  # unsealed from Fernet
    before = snapshot(gateway_client)
    for again in (exported.content, csv_bytes(rows), teachers_file(6, seed=2029)):
        body = (await upload(gateway_client, "teachers", again, admin)).json()
        assert (body["created"], body["updated"], body["rejected"]) == (0, 0, 0), body
        assert snapshot(gateway_client) == before  # nothing written, the old tokens kept
    assert all(scalar(gateway_client, sealed, h=h).startswith("gAAAAA") for h in hashes)


async def test_an_account_links_to_one_registry_entry_at_most(gateway_client: httpx.AsyncClient) -> None:
    """user_id is unique where set (a partial index): many entries without an account, never two with
    the same one."""
    from sqlalchemy.exc import IntegrityError

    admin = await token(gateway_client)
    await upload(gateway_client, "org-units", org_units_file(), admin)
    created = await upload(gateway_client, "teachers", teachers_file(3, seed=2031), admin)
    assert created.json()["created"] == 3, created.text
    engine = engine_of(gateway_client)
    with engine.connect() as conn:
        first, second = conn.execute(
            text("SELECT id FROM registry_teachers WHERE user_id IS NULL ORDER BY id LIMIT 2")
        ).scalars()
        account = conn.execute(
            text(
                "SELECT id FROM users WHERE id NOT IN"
                " (SELECT user_id FROM registry_teachers WHERE user_id IS NOT NULL) LIMIT 1"
            )
        ).scalar_one()
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE registry_teachers SET user_id = :a WHERE id = :t"), {"a": account, "t": first}
        )
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text("UPDATE registry_teachers SET user_id = :a WHERE id = :t"), {"a": account, "t": second}
        )
    with engine.begin() as conn:
        conn.execute(text("UPDATE registry_teachers SET user_id = NULL WHERE id = :t"), {"t": first})
    assert scalar(gateway_client, "SELECT count(*) FROM registry_teachers WHERE user_id IS NULL") >= 3


async def test_a_one_row_file_links_a_registered_teacher_to_an_account(
    gateway_client: httpx.AsyncClient,
) -> None:
    """A row with a username is checked in full, never recognised as unchanged by its digest; in a
    chunk of one row its teacher is still found (an update, not a second entry)."""
    admin = await token(gateway_client)
    await upload(gateway_client, "org-units", org_units_file(), admin)
    rows = teacher_rows(1, seed=2037)
    assert (await upload(gateway_client, "teachers", csv_bytes(rows), admin)).json()["created"] == 1
    username = scalar(
        gateway_client,
        "SELECT username FROM users WHERE id NOT IN"
        " (SELECT user_id FROM registry_teachers WHERE user_id IS NOT NULL) ORDER BY username LIMIT 1",
    )
    linked = [[*rows[0], "username"], [*rows[1], username]]
    before = scalar(gateway_client, "SELECT count(*) FROM registry_teachers")
    body = (await upload(gateway_client, "teachers", csv_bytes(linked), admin)).json()
    assert (body["created"], body["updated"], body["rejected"]) == (0, 1, 0), body
    assert scalar(gateway_client, "SELECT count(*) FROM registry_teachers") == before
    again = (await upload(gateway_client, "teachers", csv_bytes(linked), admin)).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1), again

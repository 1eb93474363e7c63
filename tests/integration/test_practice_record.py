"""The CPD record beyond the transcript page (SQLite and PostgreSQL): the signed PDF transcript and its
public verification (link, QR code's signed form, the file itself), tampering refused."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest

from services.progress.practice.models import TranscriptRecord
from tests.integration.practice_app import PracticeAPI, practice_api  # noqa: F401
from tests.integration.test_practice import INSTITUTE, P, problem

pytestmark = pytest.mark.asyncio


async def attended_webinar(api: PracticeAPI, teacher: str = "teacher-1", minutes: int = 90) -> None:
    admin = api.auth("admin-1", **INSTITUTE)
    body = {
        "title": "Digital assessment",
        "starts_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "minutes": minutes,
        "link": "https://meet.example.kz/b/ustaz-1",
    }
    webinar = (await api.client.post(f"{P}/webinars", json=body, headers=admin)).json()
    r = await api.client.post(
        f"{P}/webinars/{webinar['id']}/attendance", json={"user_ids": [teacher]}, headers=admin
    )
    assert r.status_code == 200, r.text


def flip(text: str) -> str:
    """One character in the middle changed (the last one of a base64url signature holds padding bits:
    changing it may decode to the same bytes)."""
    i = len(text) // 2
    return text[:i] + ("B" if text[i] == "A" else "A") + text[i + 1 :]


def token_in(pdf: bytes) -> str:
    found = re.search(rb"ustaz-transcript:([A-Za-z0-9_.\-]+)", pdf)
    assert found, "the signed form is in the PDF's keywords"
    return found.group(1).decode()


async def test_signed_transcript_pdf_verifies_and_tampering_fails(practice_api: PracticeAPI) -> None:
    api = practice_api
    await attended_webinar(api)
    teacher = api.auth("teacher-1", name="Aigerim Sadykova", lang="kk")
    r = await api.client.get(f"{P}/transcript/me/pdf", headers=teacher)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text
    pdf = r.content
    assert pdf.startswith(b"%PDF") and len(pdf) < 60_000
    again = await api.client.get(f"{P}/transcript/me/pdf", headers=teacher)
    assert again.content == pdf  # the same figures: the same record, the same bytes
    assert api.count(TranscriptRecord) == 1
    token = token_in(pdf)

    record_id = (await api.client.post(f"{P}/transcripts/verify", json={"token": token})).json()
    assert record_id["status"] == "valid" and record_id["reason"] == "signed"
    figures = record_id["transcript"]
    assert figures["name"] == "Aigerim Sadykova" and figures["total_hours"] == 1.5
    assert figures["by_kind"] == {"webinar": 1.5} and figures["required_hours"] == 72
    by_link = (await api.client.get(f"{P}/transcripts/{figures['id']}/verification")).json()
    assert by_link == {"status": "valid", "reason": "issued", "transcript": figures}
    sha = hashlib.sha256(pdf).hexdigest()
    by_file = (
        await api.client.post(f"{P}/transcripts/verify", json={"pdf_sha256": sha, "token": token})
    ).json()
    assert by_file["status"] == "valid" and by_file["transcript"] == figures

    # a changed payload (another figure, the signature kept) and a changed signature both fail
    head, payload, signature = token.split(".")
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["total"] = 99.0
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for bad in (f"{head}.{forged}.{signature}", f"{head}.{payload}.{flip(signature)}", "not-a-token"):
        verdict = (await api.client.post(f"{P}/transcripts/verify", json={"token": bad})).json()
        assert verdict == {"status": "invalid", "reason": "signature", "transcript": None}, bad
    # a PDF whose printed text was changed is not the file issued: invalid, with the signed figures
    tampered = pdf.replace(b"/Creator (Ustaz)", b"/Creator (Ustay)")
    assert tampered != pdf
    altered = (
        await api.client.post(
            f"{P}/transcripts/verify",
            json={"pdf_sha256": hashlib.sha256(tampered).hexdigest(), "token": token_in(tampered)},
        )
    ).json()
    assert altered["status"] == "invalid" and altered["reason"] == "altered_file"
    assert altered["transcript"]["total_hours"] == 1.5
    unknown = (
        await api.client.get(f"{P}/transcripts/00000000-0000-0000-0000-000000000000/verification")
    ).json()
    assert unknown["status"] == "unknown"
    key = (await api.client.get(f"{P}/transcripts/key")).json()["keys"][0]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519"

    # new hours: a new record (the old one still verifies with its own figures)
    await attended_webinar(api, minutes=60)
    newer = await api.client.get(f"{P}/transcript/me/pdf", headers=teacher)
    assert newer.content != pdf and api.count(TranscriptRecord) == 2
    old = (await api.client.post(f"{P}/transcripts/verify", json={"token": token})).json()
    assert old["status"] == "valid" and old["transcript"]["total_hours"] == 1.5


async def test_transcript_bad_input_is_refused(practice_api: PracticeAPI) -> None:
    api = practice_api
    problem(
        await api.client.post(f"{P}/transcripts/verify", json={"pdf_sha256": "xyz"}), 422, "validation-error"
    )
    problem(await api.client.post(f"{P}/transcripts/verify", json={"other": 1}), 422, "validation-error")
    problem(await api.client.get(f"{P}/transcript/me/pdf"), 401, "unauthorized")
    assert api.count(TranscriptRecord) == 0


def ledger(api: PracticeAPI, person: str, hours: float) -> None:
    """Hours in the CPD ledger (as webinars attended write them), in the current cycle."""
    from libs.db import session_scope
    from services.progress.practice.models import CpdEntry

    with session_scope(api.engine) as session:
        session.add(
            CpdEntry(
                key=f"webinar:w:{person}",
                user_id=person,
                kind="webinar",
                title="Webinar",
                hours=hours,
                at=datetime.now(UTC) - timedelta(days=1),
            )
        )


async def test_cpd_hours_by_unit_against_the_requirement_suppressed(practice_api: PracticeAPI) -> None:
    from tests.integration.practice_app import S02
    from tests.integration.test_practice import COORDINATOR

    api = practice_api
    for n in range(1, 21):  # S01: ten reached the 72 required hours, ten did not
        assert (await api.client.get(f"{P}/plans/me", headers=api.auth(f"t-{n}"))).status_code == 200
        ledger(api, f"t-{n}", 80 if n <= 10 else 5)
    for n in range(21, 32):  # S02: eleven without hours
        assert (await api.client.get(f"{P}/plans/me", headers=api.auth(f"t-{n}", org=S02))).status_code == 200
    coordinator = api.auth("coord-1", **COORDINATOR)
    report = (await api.client.get(f"{P}/dashboard/cpd", headers=coordinator)).json()
    assert report["required_hours"] == 72 and report["scope"] == "KZ/KZ-ALM/KZ-ALM-TAL"
    rows = {r["unit"]: r for r in report["rows"]}
    assert rows["KZ-ALM-TAL-S01"] == {
        "unit": "KZ-ALM-TAL-S01", "teachers": 20, "met": 10, "not_met": 10, "mean_hours": 42.5,
    }  # fmt: skip
    assert rows["KZ-ALM-TAL-S02"] == {
        "unit": "KZ-ALM-TAL-S02", "teachers": 11, "met": 0, "not_met": 11, "mean_hours": 0.0,
    }  # fmt: skip
    # one teacher of S02 reaches the requirement: a small cell, hidden with its complements
    assert (await api.client.get(f"{P}/plans/me", headers=api.auth("t-32", org=S02))).status_code == 200
    ledger(api, "t-32", 90)
    rows = {
        r["unit"]: r for r in (await api.client.get(f"{P}/dashboard/cpd", headers=coordinator)).json()["rows"]
    }
    assert rows["KZ-ALM-TAL-S02"]["met"] is None and rows["KZ-ALM-TAL-S02"]["not_met"] is None
    assert rows["KZ-ALM-TAL-S02"]["teachers"] == 12 and rows["KZ-ALM-TAL-S01"]["teachers"] == 20
    # another cycle has no hours; bad input and the wrong role are refused
    later = (await api.client.get(f"{P}/dashboard/cpd?cycle=2031-02-01", headers=coordinator)).json()
    assert later["cycle_start"].startswith("2030-01-01") and {r["met"] for r in later["rows"]} == {0}
    problem(
        await api.client.get(f"{P}/dashboard/cpd?cycle=soon", headers=coordinator), 422, "validation-error"
    )
    problem(await api.client.get(f"{P}/dashboard/cpd", headers=api.auth("t-1")), 403, "forbidden")


async def test_a_very_long_name_still_prints_and_verifies(practice_api: PracticeAPI) -> None:
    """200 Cyrillic letters make a signed form too long for the QR code: it carries the link alone,
    and the form in the PDF still verifies (and fits its column on PostgreSQL)."""
    api = practice_api
    await attended_webinar(api)
    name = "Ә" * 200
    r = await api.client.get(f"{P}/transcript/me/pdf", headers=api.auth("teacher-1", name=name))
    assert r.status_code == 200, r.text
    token = token_in(r.content)
    assert len(token) > 1800
    verdict = (await api.client.post(f"{P}/transcripts/verify", json={"token": token})).json()
    assert verdict["status"] == "valid" and verdict["transcript"]["name"] == name

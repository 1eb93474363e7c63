"""The certificate pages through the gateway (in-process) and the certificates service (real HTTP):
my certificates with PDF, wallet download and share link; the public verification page by id, by the
QR code's compact form, and by a pasted or uploaded credential, all without JavaScript."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
import pytest_asyncio
from sqlalchemy import Engine

from libs.auth import Principal
from libs.crypto import fernet
from libs.db import create_db_engine, session_scope
from services.certificates import service
from services.certificates.models import Issuer
from tests.conftest import Databases, serve, service_settings, thread_server
from tests.forms import post_form
from tests.integration.certificates_app import completion

pytestmark = pytest.mark.asyncio
PUBLIC = "https://ustaz.test"


@dataclass
class Site:
    client: httpx.AsyncClient
    engine: Engine
    settings: Any

    def issue(self, user_id: str, **payload: Any) -> Any:
        with session_scope(self.engine) as session:
            return service.issue_certificate(
                session, completion(user_id=user_id, **payload), service.issuance(self.settings)
            )

    def compact(self, cert: Any) -> str:
        with session_scope(self.engine, readonly=True) as session:
            return service.compact_form(session, cert, fernet(self.settings.key_encryption_key)) or ""


@pytest_asyncio.fixture
async def site(
    databases: Databases, redis_url: str, key_dir: Path, gateway_url: str, tmp_path: Path
) -> AsyncIterator[Site]:
    from deploy.seed import seed_gateway
    from gateway.app import build_app as build_gateway
    from services.certificates.app import build_app as build_certificates

    url = databases.fresh("certificates")
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        session.add(Issuer(institute_id="i1", name="Институт"))
    settings = service_settings(
        "certificates", url, gateway_url=gateway_url, public_url=PUBLIC, var_dir=tmp_path
    )
    with thread_server(build_certificates(settings)) as certificates_url:
        gateway = service_settings(
            "gateway",
            databases.fresh("gateway", seed_gateway),
            signing_key_dir=key_dir,
            rate_limit_per_ip=10_000,
            certificates_url=certificates_url,
            public_url=PUBLIC,
        )
        async with serve(build_gateway(gateway)) as client:
            yield Site(client, engine, settings)
    engine.dispose()


async def sign_in(client: httpx.AsyncClient, username: str = "teacher") -> str:
    response = await post_form(client, "/login", data={"username": username, "password": f"{username}-demo"})
    assert response.status_code == 303, response.text
    return jwt.decode(client.cookies["ustaz_at"], options={"verify_signature": False})["sub"]


def status_of(html: str) -> str:
    return html.split('data-status="', 1)[1].split('"', 1)[0]


async def test_my_certificates_offers_pdf_wallet_download_and_a_share_link(site: Site) -> None:
    user_id = await sign_in(site.client)
    cert = site.issue(user_id, course_title="Сандық сауаттылық")
    page = await site.client.get("/me/certificates")
    assert page.status_code == 200
    html = page.text
    assert "Сандық сауаттылық" in html and cert.number in html
    assert f'href="/me/certificates/{cert.id}/certificate.pdf"' in html
    assert f'href="/me/certificates/{cert.id}/credential.jwt"' in html
    assert f'value="{PUBLIC}/verify/{cert.id}"' in html  # the share link, selectable without JavaScript
    assert '<script src="/static/certificates.js" defer>' in html
    assert (await site.client.get("/static/certificates.js")).status_code == 200

    pdf = await site.client.get(f"/me/certificates/{cert.id}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) <= 150 * 1024
    assert f"certificate-{cert.number}.pdf" in pdf.headers["content-disposition"]
    wallet = await site.client.get(f"/me/certificates/{cert.id}/credential.jwt")
    assert wallet.status_code == 200 and wallet.text == cert.credential_jwt
    assert wallet.headers["content-type"].startswith("application/vc+jwt")

    # Someone else's certificate: an error page, no file.
    other = site.issue("someone-else")
    response = await site.client.get(f"/me/certificates/{other.id}/certificate.pdf")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")

    # The owner sees the PDF link on the verification page; a visitor does not.
    assert f"/me/certificates/{cert.id}/certificate.pdf" in (await site.client.get(f"/verify/{cert.id}")).text
    site.client.cookies.clear()
    visitor = await site.client.get(f"/verify/{cert.id}")
    assert status_of(visitor.text) == "valid" and "certificate.pdf" not in visitor.text
    assert (await site.client.get("/me/certificates")).status_code == 303


async def test_the_verification_page_by_id_qr_paste_and_upload_without_javascript(site: Site) -> None:
    cert = site.issue("teacher-x")
    client = site.client
    page = await client.get(f"/verify/{cert.id}", headers={"accept-language": "ru"})
    assert page.status_code == 200 and status_of(page.text) == "valid"
    assert '<html lang="ru">' in page.text and page.headers["content-language"] == "ru"
    assert 'name="viewport"' in page.text and '<form method="post" action="/verify"' in page.text
    assert status_of((await client.get("/verify/no-such-id")).text) == "unknown"

    qr = await client.get(f"/verify/c/{site.compact(cert)}")
    assert qr.status_code == 200 and status_of(qr.text) == "valid" and cert.number in qr.text

    pasted = await post_form(client, "/verify", data={"credential": cert.credential_jwt})
    assert pasted.status_code == 200 and status_of(pasted.text) == "valid"
    uploaded = await post_form(
        client,
        "/verify",
        data={"credential": ""},
        files={"file": ("certificate.jwt", cert.credential_jwt.encode(), "application/octet-stream")},
    )
    assert uploaded.status_code == 200 and status_of(uploaded.text) == "valid"

    header, payload, signature = cert.credential_jwt.split(".")
    tampered = await post_form(
        client, "/verify", data={"credential": f"{header}.{payload[:-3]}AAA.{signature}"}
    )
    assert status_of(tampered.text) == "signature_invalid" and "altered or forged" in tampered.text

    for data, code in (({"credential": ""}, 422), ({"credential": "{broken"}, 422)):
        response = await post_form(client, "/verify", data=data)
        assert (
            response.status_code == code
            and 'role="alert"' in response.text
            and "data-status" not in response.text
        )
    huge = await post_form(
        client, "/verify", files={"file": ("big.json", b"x" * 100_001, "application/json")}
    )
    assert huge.status_code in (400, 413) and "data-status" not in huge.text

    # Revoked: the page says so, with the reason.
    with session_scope(site.engine) as session:
        service.revoke(
            session,
            Principal(id="a", roles=("institute_admin",), institute="i1"),
            cert.id,
            "issued in error",
            fernet(site.settings.key_encryption_key),
            PUBLIC,
        )
    revoked = await client.get(f"/verify/{cert.id}")
    assert status_of(revoked.text) == "revoked" and "issued in error" in revoked.text
    assert status_of((await client.get(f"/verify/c/{site.compact(cert)}")).text) == "revoked"


async def test_a_wallet_gets_json_ld_and_the_teacher_chooses_whether_their_name_is_inside(site: Site) -> None:
    user_id = await sign_in(site.client)
    before = site.issue(user_id)
    page = await site.client.get("/me/certificates")
    assert f'href="/me/certificates/{before.id}/credential.json"' in page.text
    assert 'action="/me/certificates/holder"' in page.text and 'name="name_in_credential"' in page.text
    assert 'value="yes" checked' not in page.text  # off unless the teacher (or the policy) says so
    wallet = await site.client.get(f"/me/certificates/{before.id}/credential.json")
    assert wallet.status_code == 200 and wallet.headers["content-type"].startswith("application/vc+ld+json")
    assert wallet.json() == json.loads(before.credential_ld)
    assert f"certificate-{before.number}.json" in wallet.headers["content-disposition"]

    # The setting, without JavaScript: a checkbox and a submit.
    saved = await post_form(site.client, "/me/certificates/holder", data={"name_in_credential": "yes"})
    assert saved.status_code == 303 and saved.headers["location"] == "/me/certificates?saved=1"
    page = await site.client.get("/me/certificates?saved=1")
    assert 'value="yes" checked' in page.text and 'role="status"' in page.text
    named = site.issue(user_id, enrolment_id="e-named", user_name="Айгерим Нурлановна")
    assert "Айгерим Нурлановна" in named.credential_ld
    shown = await site.client.get(f"/verify/{named.id}")
    assert "<td data-holder>Айгерим Нурлановна</td>" in shown.text
    assert "data-holder" not in (await site.client.get(f"/verify/{before.id}")).text
    # The course links to what the certificate was awarded for: the achievement inside the credential.
    achievement = json.loads(named.credential_ld)["credentialSubject"]["achievement"]["id"]
    path = urlsplit(achievement).path
    assert achievement.endswith(path) and f'<a href="{path}" data-achievement>' in shown.text
    pasted = await post_form(site.client, "/verify", data={"credential": named.credential_ld})
    assert status_of(pasted.text) == "valid" and "Айгерим Нурлановна" in pasted.text

    # And back off: an unchecked box is absent from the form.
    await post_form(site.client, "/me/certificates/holder", data={})
    assert 'value="yes" checked' not in (await site.client.get("/me/certificates")).text
    later = site.issue(user_id, enrolment_id="e-later", user_name="Айгерим Нурлановна")
    assert "Айгерим" not in later.credential_ld

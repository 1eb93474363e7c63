"""The printable certificate: A4 landscape, embedded font, Cyrillic and Uzbek Latin text that comes out
exactly, in the teacher's language, at most 150 KB, cached, and only for its owner or the issuing
institute's admins."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
import zxingcpp
from PIL import Image

from libs import pdf as libs_pdf
from libs.db import session_scope
from services.certificates import pdf, service
from tests.integration.certificates_app import CertificatesAPI, certificates_api

pytestmark = pytest.mark.asyncio
__all__ = ["certificates_api"]

NAME = "Маʼrifat Oʻzbekiston-Әйгерім"
COURSE = "Сандық сауаттылық: ә ғ қ ң ө ұ ү һ і"
INSTITUTE_NAME = "Боловсролын их сургууль: өвөрмөц үнэлгээ"


def qr_image_bits(payload: str) -> bytes:
    """The hex of the 1-bit image mask pdf.py draws for a payload."""
    rows = libs_pdf.qr_modules(payload)
    return Image.frombytes("L", (len(rows), len(rows)), b"".join(rows)).convert("1").tobytes().hex().encode()


def decode_qr(payload: str) -> str:
    """Draw the modules as a picture (quiet zone, 4 px a module) and read it back with a QR decoder."""
    rows = libs_pdf.qr_modules(payload)
    n = len(rows)
    image = Image.new("L", (n + 8, n + 8), 255)
    image.paste(Image.frombytes("L", (n, n), b"".join(rows)), (4, 4))
    found = zxingcpp.read_barcodes(image.resize(((n + 8) * 4, (n + 8) * 4), Image.NEAREST))
    assert len(found) == 1
    return found[0].text


def text_of(data: bytes) -> tuple[str, pypdf.PdfReader]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text(), reader


def rename_institute(api: CertificatesAPI, name: str) -> None:
    from libs.db import session_scope
    from services.certificates.models import Issuer

    with session_scope(api.engine) as session:
        issuer = session.get(Issuer, "i1")
        issuer.name = name
        session.add(issuer)


async def test_the_pdf_shows_cyrillic_and_uzbek_latin_exactly_in_the_teachers_language(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    rename_institute(api, INSTITUTE_NAME)
    cert = api.issue(user_name=NAME, course_title=COURSE, language="kk", indicators=["II.KA.1", "IV.KC.3"])
    response = await api.client.get(f"/api/v1/certificates/{cert.id}/pdf", headers=api.token(lang="kk"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="certificate-{cert.number}.pdf"' in response.headers["content-disposition"]
    assert len(response.content) <= 150 * 1024
    text, reader = text_of(response.content)
    lines = text.splitlines()
    for expected in (NAME, f"«{COURSE}»", INSTITUTE_NAME, cert.number, f"{cert.issued_at:%Y-%m-%d}"):
        assert expected in lines, (expected, lines)
    assert "Меңгерілген құзыреттер: II.KA.1 · IV.KC.3" in text
    assert "Берілген күні" in lines and "СЕРТИФИКАТ" in lines  # Kazakh labels
    assert f"https://ustaz.test/verify/{cert.id}" in lines
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4 landscape
    fonts = {str(f["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values()}
    assert fonts and all("DejaVuSans" in f for f in fonts)  # the embedded TTF (subset), no base-14 font

    # The QR code on the page is the verification URL with the compact signed form, and it decodes.
    with session_scope(api.engine, readonly=True) as session:
        compact = service.compact_form(session, cert, api.box)
    qr_url = f"https://ustaz.test/verify/c/{compact}"
    assert qr_image_bits(qr_url) in reader.pages[0].get_contents().get_data()
    assert decode_qr(qr_url) == qr_url
    assert (await api.client.post("/api/v1/certificates/verify", json={"credential": qr_url})).json()[
        "status"
    ] == "valid"

    # Uzbek Latin labels with ʻ, and Russian, by ?lang= or the teacher's own language.
    uz = await api.client.get(f"/api/v1/certificates/{cert.id}/pdf?lang=uz", headers=api.token(lang="kk"))
    assert "malaka oshirish toʻgʻrisida" in text_of(uz.content)[0]
    ru = await api.client.get(f"/api/v1/certificates/{cert.id}/pdf", headers=api.token(lang="ru"))
    assert "Дата выдачи" in text_of(ru.content)[0] and len(ru.content) <= 150 * 1024
    odd = await api.client.get(f"/api/v1/certificates/{cert.id}/pdf?lang=../../etc", headers=api.token())
    assert "Date of issue" in text_of(odd.content)[0]  # unknown languages fall back to English


async def test_the_pdf_is_cached_per_certificate_and_credential(certificates_api: CertificatesAPI) -> None:
    api = certificates_api
    cert = api.issue(user_name="Aigerm")
    url = f"/api/v1/certificates/{cert.id}/pdf"
    first = await api.client.get(url, headers=api.token(lang="ru"))
    cache = Path(api.settings.var_dir) / "certificate-pdfs"
    files = sorted(p.name for p in cache.iterdir())
    assert len(files) == 1 and files[0].startswith(f"{cert.id}-ru-") and files[0].endswith(".pdf")
    (cache / files[0]).write_bytes(b"%PDF-cached")  # a second request reads the file, renders nothing
    assert (await api.client.get(url, headers=api.token(lang="ru"))).content == b"%PDF-cached"
    (cache / files[0]).write_bytes(first.content)

    # A corrected re-issue is a new certificate with its own file; the old file stays valid for the old id.
    reissued = await api.client.post(
        f"/api/v1/certificates/{cert.id}/reissue",
        headers=api.admin(),
        json={"recipient_name": "Aigerim", "reason": "name misspelt"},
    )
    new_id = reissued.json()["id"]
    new_pdf = await api.client.get(f"/api/v1/certificates/{new_id}/pdf", headers=api.token(lang="ru"))
    assert "Aigerim" in text_of(new_pdf.content)[0].splitlines()
    assert len(list(cache.iterdir())) == 2


async def test_only_the_owner_and_the_issuing_institutes_admins_get_the_pdf(
    certificates_api: CertificatesAPI,
) -> None:
    api = certificates_api
    cert = api.issue()
    url = f"/api/v1/certificates/{cert.id}/pdf"
    assert (await api.client.get(url, headers=api.admin())).status_code == 200
    assert (await api.client.get(url, headers=api.platform_admin())).status_code == 200
    for headers, code in ((api.token(sub="someone-else"), 404), (api.admin("i2"), 404), ({}, 401)):
        response = await api.client.get(url, headers=headers)
        assert response.status_code == code
        assert response.headers["content-type"] == "application/problem+json"
    missing = await api.client.get("/api/v1/certificates/no-such-id/pdf", headers=api.token())
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


async def test_every_label_renders_in_the_embedded_font() -> None:
    """Every label of every language comes out of the PDF as it went in (no missing glyphs)."""
    for lang, table in pdf.LABELS.items():
        page = pdf.Page(
            lang=lang,
            recipient_name="Oʻzbekiston ʼ",
            course_title="ә ғ қ ң ө ұ ү һ і",
            institute_name="Монгол өү",
            issued_on="2026-11-24",
            number="2026-0001",
            competencies=("II.KA.1",),
            verify_url="https://x.test/verify/1",
            qr_payload="https://x.test/v",
        )
        data = pdf.render(page)
        text = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
        for key, label in table.items():
            expected = label.upper() if key == "title" else label
            assert expected in text, (lang, key, label)
        assert len(data) <= 150 * 1024


async def test_pages_rendered_on_many_threads_at_once_each_come_out_right() -> None:
    """The route renders on worker threads; the shared font subset and caches must not mix pages up."""
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> tuple[int, str]:
        page = pdf.Page(
            lang=("kk", "uz", "ru", "mn")[i % 4],
            recipient_name=f"Oʻzbekiston ʼ Әйгерім {i}",
            course_title=f"Курс {i}: ә ғ қ ң ө ұ ү һ і",
            institute_name="Монгол өү",
            issued_on="2026-11-24",
            number=f"2026-{i:04d}",
            competencies=("II.KA.1",),
            verify_url=f"https://x.test/verify/{i}",
            qr_payload=f"https://x.test/verify/c/{i}",
        )
        return i, pypdf.PdfReader(io.BytesIO(pdf.render(page))).pages[0].extract_text()

    with ThreadPoolExecutor(8) as pool:
        for i, text in pool.map(one, range(48)):
            lines = [line.strip() for line in text.splitlines()]
            assert f"Oʻzbekiston ʼ Әйгерім {i}" in lines and f"2026-{i:04d}" in lines
            assert f"«Курс {i}: ә ғ қ ң ө ұ ү һ і»" in lines

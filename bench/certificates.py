"""Certificates (issue 5): issuance, PDF rendering and verification.

1. Issuance: `service.issue_certificate` in a loop, one transaction per certificate, on a migrated
   SQLite database in one process (what a Celery worker does per `course.completed`); beside it the
   time of signing alone (decrypting the institute key + EdDSA VC-JWT) and of a bare Ed25519 signature.
2. PDF: renders of distinct certificates (different names, numbers and QR payloads; no PDF file
   cache, no QR cache; the font subset cache is warm, as in a running service) in one process, rated
   by its CPU time = pages/s per core (the machine is shared, so wall time would measure the others
   too); also the page without its QR code and the QR encoding alone, to show where the time goes.
3. Verification through the gateway: GET /api/v1/certificates/{id}/verification and POST
   /api/v1/certificates/verify (a pasted VC-JWT) against the processes `make run` starts, direct to
   the service and through the gateway, at 1 and 16 clients.

    python -m bench certificates     (BENCH_SECONDS=5, BENCH_ISSUE=400, BENCH_PDF=300)
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bench.common import load, table
from libs.crypto import fernet

DURATION = float(os.environ.get("BENCH_SECONDS", "5"))
N_ISSUE = int(os.environ.get("BENCH_ISSUE", "400"))
N_PDF = int(os.environ.get("BENCH_PDF", "300"))


def _payload(i: int) -> Any:
    from services.progress.schemas import CourseCompleted

    return CourseCompleted.model_validate(
        {
            "enrolment_id": str(uuid.uuid4()),
            "user_id": f"teacher-{i}",
            "user_name": f"Әйгерім {i}",
            "course_id": "c1",
            "version": 1,
            "course_title": "Формативное оценивание с цифровыми инструментами",
            "language": "ru",
            "institute_id": "i1",
            "org_path": "KZ/KZ-ALM",
            "indicators": ["II.KA.1", "III.TA.2"],
            "completed_at": "2026-11-24T10:00:00+00:00",
        }
    )


def issuance() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from libs.db import create_db_engine, session_scope
    from libs.migrate import upgrade
    from services.certificates import credentials, repository, service
    from services.certificates.models import Issuer

    box = fernet("bench-key-encryption-key")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'certificates.db'}"
        upgrade("certificates", url)
        engine = create_db_engine(url)
        with session_scope(engine) as session:
            session.add(Issuer(institute_id="i1", name="Институт"))
        for i in range(20):  # warm-up: the key, the status list, the statement caches
            with session_scope(engine) as session:
                service.issue_certificate(session, _payload(-i - 1), box, "https://ustaz.example", "salt")
        started = time.perf_counter()
        for i in range(N_ISSUE):
            with session_scope(engine) as session:
                service.issue_certificate(session, _payload(i), box, "https://ustaz.example", "salt")
        issue_rate = N_ISSUE / (time.perf_counter() - started)
        with session_scope(engine, readonly=True) as session:
            key = repository.signing_key(session, "i1")
            cert = repository.certificates_of(session, "teacher-0")[0]
            issuer = repository.issuer(session, "i1")
        engine.dispose()
    credential = credentials.build_credential(cert, issuer, "https://ustaz.example", "salt")
    n = 2000
    started = time.perf_counter()
    for _ in range(n):
        credentials.sign(credential, key, box)
    sign_rate = n / (time.perf_counter() - started)
    private = Ed25519PrivateKey.generate()
    message = b"x" * 1500
    started = time.perf_counter()
    for _ in range(n * 5):
        private.sign(message)
    raw_rate = n * 5 / (time.perf_counter() - started)
    rows = [
        [
            "issue_certificate (index, sign, store, outbox), 1 transaction each",
            issue_rate,
            1000 / issue_rate,
            1.0,
        ],
        ["sign alone (decrypt key + VC-JWT EdDSA)", sign_rate, 1000 / sign_rate, issue_rate / sign_rate],
        ["bare Ed25519 signature (1.5 KB)", raw_rate, 1000 / raw_rate, issue_rate / raw_rate],
    ]
    return f"### Issuance (SQLite, one process, {N_ISSUE} certificates)\n\n" + table(
        ["operation", "per s", "ms each", "share of issuance time"], rows
    )


def pdfs() -> str:
    from services.certificates import pdf

    pdf.register_fonts()

    def page(i: int) -> Any:
        compact = uuid.uuid4().hex * 12  # ~ the size of a real compact form (a ~530-character URL)
        return pdf.Page(
            lang=("ru", "kk", "uz", "en")[i % 4],
            recipient_name=f"Маʼrifat Oʻzbekiston-Әйгерім {i}",
            course_title="Формативное оценивание с цифровыми инструментами",
            institute_name="Национальный институт повышения квалификации",
            issued_on="2026-11-24",
            number=f"2026-{i:08X}",
            competencies=("II.KA.1", "III.TA.2", "IV.KC.3"),
            verify_url=f"https://ustaz.example/verify/{uuid.uuid4()}",
            qr_payload=f"https://ustaz.example/verify/c/{compact[:500]}",
        )

    pages = [page(i) for i in range(N_PDF)]
    for p in pages[:5]:
        pdf.render(p)  # warm-up
    pdf.qr_modules.cache_clear()
    started = time.process_time()
    sizes = [len(pdf.render(p)) for p in pages]
    full = N_PDF / (time.process_time() - started)

    real_qr = pdf._draw_qr
    pdf._draw_qr = lambda *args: None  # type: ignore[assignment]
    try:
        started = time.process_time()
        for p in pages:
            pdf.render(p)
        no_qr = N_PDF / (time.process_time() - started)
    finally:
        pdf._draw_qr = real_qr  # type: ignore[assignment]
    pdf.qr_modules.cache_clear()
    started = time.process_time()
    for p in pages:
        pdf.qr_modules(p.qr_payload)
    qr = N_PDF / (time.process_time() - started)
    rows = [
        ["full page (text + embedded TTF subset + QR)", full, 1000 / full],
        ["page without the QR code", no_qr, 1000 / no_qr],
        ["QR encoding alone (zxing-cpp, ~530 chars, ECC M)", qr, 1000 / qr],
    ]
    return (
        f"### PDF (one process, CPU time = per core, {N_PDF} distinct certificates, no PDF cache; "
        f"size {min(sizes) / 1024:.0f}–{max(sizes) / 1024:.0f} KB)\n\n"
        + table(["render", "pages/s", "ms each"], rows)
    )


async def _measure(method: str, url: str, concurrency: int, body: Any = None) -> dict[str, float]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def call() -> None:
            async with session.request(method, url, json=body) as response:
                await response.read()
                assert response.status == 200, response.status

        return await load(call, concurrency, DURATION)


def verification() -> str:
    from deploy.demo import walk_journey
    from tests.servers import platform_on_free_ports

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "USTAZ_RATE_LIMIT_PER_USER": "100000000",
            "USTAZ_RATE_LIMIT_PER_IP": "100000000",
            "USTAZ_LOG_LEVEL": "WARNING",
        }
        with platform_on_free_ports(Path(tmp), extra_env=env) as platform:
            platform.start(timeout=120)
            urls = platform.urls
            cert = walk_journey(urls["gateway"], say=lambda _: None)["certificates"][0]
            token = httpx.post(
                urls["gateway"] + "/auth/login", json={"username": "teacher", "password": "teacher-demo"}
            ).json()["access_token"]
            jwt_text = httpx.get(
                f"{urls['gateway']}/api/v1/certificates/{cert['id']}/credential",
                headers={"authorization": f"Bearer {token}"},
            ).text
            rows = []
            for concurrency in (1, 16):
                for name, method, path, body in (
                    (
                        "GET …/{id}/verification",
                        "GET",
                        f"/api/v1/certificates/{cert['id']}/verification",
                        None,
                    ),
                    (
                        "POST …/verify (VC-JWT)",
                        "POST",
                        "/api/v1/certificates/verify",
                        {"credential": jwt_text},
                    ),
                ):
                    direct = asyncio.run(_measure(method, urls["certificates"] + path, concurrency, body))
                    hop = asyncio.run(_measure(method, urls["gateway"] + path, concurrency, body))
                    rows.append(
                        [
                            name,
                            concurrency,
                            direct["rps"],
                            hop["rps"],
                            direct["p50"],
                            hop["p50"],
                            direct["p99"],
                            hop["p99"],
                        ]
                    )
    return "### Verification (the processes `make run` starts; SQLite)\n\n" + table(
        [
            "request",
            "clients",
            "direct req/s",
            "gateway req/s",
            "direct p50 ms",
            "gateway p50 ms",
            "direct p99 ms",
            "gateway p99 ms",
        ],
        rows,
    )


def main() -> str:
    return "## Certificates (issue 5)\n\n" + issuance() + "\n" + pdfs() + "\n" + verification()


if __name__ == "__main__":
    print(main())

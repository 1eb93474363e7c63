"""Certificates (issues 5 and 16): issuance, PDF rendering and verification.

1. Issuance: `service.issue_certificate` in a loop, one transaction per certificate, on a migrated
   SQLite database in one process (what a Celery worker does per `course.completed`), both secured
   forms (VC-JWT and the eddsa-rdfc-2022 Data Integrity proof), rated by CPU time (target: 200 per
   second per core); beside it signing alone, the share of RDF canonicalization, the VC-JWT alone,
   checking a Data Integrity proof, and a bare Ed25519 signature.
2. PDF: renders of distinct certificates (different names, numbers and QR payloads; no PDF file
   cache, no QR cache; the font subset cache is warm, as in a running service) in one process, rated
   by its CPU time = pages/s per core (the machine is shared, so wall time would measure the others
   too); also the page without its QR code and the QR encoding alone, to show where the time goes.
3. Verification through the gateway: GET /api/v1/certificates/{id}/verification and POST
   /api/v1/certificates/verify (a pasted VC-JWT, and the JSON-LD form) against the processes `make run` starts, direct to
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
from libs.encoding import b64url_decode

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
    """Issuance with both secured forms (docs/adr/0017), rated by CPU time (per core: the machine is
    shared); the Data Integrity proof's RDF canonicalization measured apart, as its share of the time."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from libs.db import create_db_engine, session_scope
    from libs.migrate import upgrade
    from services.certificates import credentials, dids, integrity, keys, repository, secured, service
    from services.certificates.models import Issuer

    box = fernet("bench-key-encryption-key")
    how = service.Issuance(box, "https://ustaz.example")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'certificates.db'}"
        upgrade("certificates", url)
        engine = create_db_engine(url)
        with session_scope(engine) as session:
            session.add(Issuer(institute_id="i1", name="Институт"))
        for i in range(20):  # warm-up: the key, the status list, the parsed contexts, the statement caches
            with session_scope(engine) as session:
                service.issue_certificate(session, _payload(-i - 1), how)
        rounds: list[tuple[float, float]] = []  # (CPU rate, wall rate) of each of three rounds
        for r in range(3):
            started, cpu = time.perf_counter(), time.process_time()
            for i in range(r * N_ISSUE, (r + 1) * N_ISSUE):
                with session_scope(engine) as session:
                    service.issue_certificate(session, _payload(i), how)
            rounds.append((N_ISSUE / (time.process_time() - cpu), N_ISSUE / (time.perf_counter() - started)))
        issue_rate, issue_wall = sorted(rounds)[1]  # the median round
        with session_scope(engine, readonly=True) as session:
            key = repository.signing_key(session, "i1")
            cert = repository.certificates_of(session, "teacher-0")[0]
            issuer = repository.issuer(session, "i1")
        engine.dispose()
    assert key is not None and issuer is not None
    did = dids.did_web(how.public_url, "i1")
    credential = credentials.build_credential(
        cert, issuer, how.public_url, did, credentials.Holder("t", "salt")
    )
    n = max(200, N_ISSUE // 2)
    timing: list[integrity.Timing] = []
    cpu = time.process_time()
    for _ in range(n):
        secured.sign(credential, key, box, timing)
    both_rate = n / (time.process_time() - cpu)
    canon = sum(t.canonicalize for t in timing) / n
    method = dids.verification_method(did, key.kid, key.public_jwk)
    cpu = time.process_time()
    for _ in range(n):
        keys.sign_jwt(secured.jwt_claims(credential), key, box, secured.JWT_TYP, kid=method)
    jwt_rate = n / (time.process_time() - cpu)
    signed = integrity.add_proof(credential, keys.private_key(key, box), method, credential["validFrom"])
    public = b64url_decode(key.public_jwk["x"])
    cpu = time.process_time()
    for _ in range(n):
        assert integrity.verify_proof(signed, public)
    check_rate = n / (time.process_time() - cpu)
    private = Ed25519PrivateKey.generate()
    message = b"x" * 1500
    started = time.perf_counter()
    for _ in range(n * 5):
        private.sign(message)
    raw_rate = n * 5 / (time.perf_counter() - started)
    rows = [
        [
            "issue_certificate (index, both forms, store, outbox), 1 transaction each; median of "
            + "three rounds ("
            + " / ".join(f"{cpu:.0f}" for cpu, _ in rounds)
            + ")",
            issue_rate,
            1000 / issue_rate,
            1.0,
        ],
        [
            "  the same, wall clock (the machine is shared)",
            issue_wall,
            1000 / issue_wall,
            issue_rate / issue_wall,
        ],
        [
            "sign both forms alone (decrypt key, VC-JWT, Data Integrity proof)",
            both_rate,
            1000 / both_rate,
            issue_rate / both_rate,
        ],
        [
            "  of which RDF canonicalization (document + proof options)",
            1 / canon,
            canon * 1000,
            canon * issue_rate,
        ],
        ["VC-JWT alone (decrypt key + EdDSA)", jwt_rate, 1000 / jwt_rate, issue_rate / jwt_rate],
        [
            "check a Data Integrity proof (canonicalize twice + Ed25519 verify)",
            check_rate,
            1000 / check_rate,
            issue_rate / check_rate,
        ],
        ["bare Ed25519 signature (1.5 KB)", raw_rate, 1000 / raw_rate, issue_rate / raw_rate],
    ]
    return (
        f"### Issuance (SQLite, one process, 3 × {N_ISSUE} certificates; CPU time, so per core)\n\n"
        + table(["operation", "per s", "ms each", "share of issuance time"], rows)
    )


def pdfs() -> str:
    from libs import pdf as libs_pdf
    from services.certificates import pdf

    libs_pdf.register_fonts()

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
    libs_pdf.qr_modules.cache_clear()
    started = time.process_time()
    sizes = [len(pdf.render(p)) for p in pages]
    full = N_PDF / (time.process_time() - started)

    real_qr = pdf.draw_qr
    pdf.draw_qr = lambda *args: None  # type: ignore[assignment]
    try:
        started = time.process_time()
        for p in pages:
            pdf.render(p)
        no_qr = N_PDF / (time.process_time() - started)
    finally:
        pdf.draw_qr = real_qr  # type: ignore[assignment]
    libs_pdf.qr_modules.cache_clear()
    started = time.process_time()
    for p in pages:
        libs_pdf.qr_modules(p.qr_payload)
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
            ld_text = httpx.get(
                f"{urls['gateway']}/api/v1/certificates/{cert['id']}/credential",
                headers={"authorization": f"Bearer {token}", "accept": "application/vc+ld+json"},
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
                    (
                        "POST …/verify (JSON-LD, Data Integrity)",
                        "POST",
                        "/api/v1/certificates/verify",
                        {"credential": ld_text},
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
    return "## Certificates (issues 5, 16)\n\n" + issuance() + "\n" + pdfs() + "\n" + verification()


if __name__ == "__main__":
    print(main())

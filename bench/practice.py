"""Issue 14 benchmarks (docs/practice.md): page weight on 2G and the offline sync of observations.

1. The observation form of 20 rubric rows, and a community thread of 50 posts: bytes and gzip bytes
   (budgets 14 KB and 30 KB compressed), the transfer time at 240 kbps with 840 ms round trip, and
   the first contentful paint in Chromium throttled so (the pages and their script served gzipped
   from a local HTTP server; target <= 2 s).
2. Offline sync: 100 observations queued on a phone, sent as one batch, then the whole batch again
   (a resend after a lost answer): seconds for each and the rows stored (must be 100), in-process on
   SQLite through the service function the API calls.

BENCH_PRACTICE_FORMS (default 100).
"""

from __future__ import annotations

import gzip
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.common import first_paints, table

FORMS = int(os.environ.get("BENCH_PRACTICE_FORMS", "100"))
KBPS, RTT = 240, 0.84


def transfer(compressed: int) -> float:
    return RTT * 2 + compressed * 8 / (KBPS * 1000)  # TCP+TLS handshakes folded into two round trips


def _serve(files: dict[str, bytes]) -> tuple[Any, str]:
    """A local HTTP server answering each path with its gzipped bytes (as the edge sends them)."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            body = files.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            kind = "text/javascript" if self.path.endswith(".js") else "text/html; charset=utf-8"
            self.send_response(200)
            for name, value in (("Content-Type", kind), ("Content-Encoding", "gzip")):
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server API
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def pages() -> list[list[object]]:
    from libs.auth import Principal
    from tests.unit.test_practice_pages import environment, observation_page

    form = observation_page(20)
    posts = [
        {
            "id": str(n),
            "author_name": f"Teacher {n}",
            "language": "ru",
            "hidden": False,
            "created_at": "2026-12-01T09:00:00Z",
            "text": "Мы попробовали работу в парах с одним планшетом на двоих; ученики объясняли друг другу шаги. "
            * 3,
        }
        for n in range(50)
    ]
    thread = {
        "id": "t",
        "space_id": "competency:TL.KD",
        "title": "Pair work with one tablet",
        "locked": False,
        "featured": True,
        "posts": posts,
    }
    request = SimpleNamespace(url=SimpleNamespace(path="/community/threads/t", query=""))
    user = Principal(id="t-1", roles=("teacher",), name="Teacher")
    community = (
        environment()
        .get_template("community_thread.html")
        .render(request=request, lang="ru", user=user, thread=thread, moderator=False, problem=None)
    )
    static = Path(__file__).parents[1] / "gateway" / "web" / "static"
    files = {f"/static/{js.name}": gzip.compress(js.read_bytes(), 6) for js in static.glob("*.js")}
    files |= {"/observe": gzip.compress(form.encode(), 6), "/thread": gzip.compress(community.encode(), 6)}
    server, base = _serve(files)
    try:
        paints = first_paints([f"{base}/observe", f"{base}/thread"], KBPS, int(RTT * 1000))
    finally:
        server.shutdown()
    rows = []
    named = (("observation form, 20 rows", form, 14), ("thread, 50 posts", community, 30))
    for (name, html, budget), paint in zip(named, paints, strict=True):
        raw = html.encode()
        packed = len(gzip.compress(raw, 6))
        fcp = "no paint" if paint is None else f"{paint / 1000:.2f}"
        rows.append([name, len(raw), packed, budget * 1024, f"{transfer(packed):.2f}", fcp])
    return rows


def sync() -> list[list[object]]:
    from sqlmodel import select

    from libs.auth import Principal
    from libs.db import create_db_engine, session_scope
    from libs.migrate import upgrade
    from services.progress.models import OrgUnitView
    from services.progress.practice import observations, service
    from services.progress.practice.models import Coach, Observation, ObservationForm
    from services.progress.practice.schemas import CoachAppoint, ObservationIn

    with tempfile.TemporaryDirectory(prefix="bench-practice-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'progress.db'}"
        upgrade("progress", url)
        engine = create_db_engine(url)
        admin = Principal(id="admin", roles=("platform_admin",), scope="org:KZ")
        coach = Principal(id="coach", roles=("teacher",), name="Coach")
        with session_scope(engine) as session:
            session.add(OrgUnitView(code="KZ", name="KZ", kind="country", path="KZ", level=0))
            session.add(
                OrgUnitView(code="S1", name="S1", kind="school", parent_code="KZ", path="KZ/S1", level=1)
            )
            session.flush()
            service.appoint(session, admin, CoachAppoint(user_id="coach", school="S1"))
            for n in range(FORMS):
                service.touch_member(session, Principal(id=f"t{n}", roles=("teacher",), org=("KZ", "S1")))
            rows = [{"indicator": f"I.{i}", "title": "", "levels": ["1", "2", "3", "4"]} for i in range(20)]
            session.add(ObservationForm(id="f", title="f", framework="x", rows=rows, created_by="admin"))
        now = datetime.now(UTC)
        batch = [
            ObservationIn(
                id=uuid.uuid4(),
                form_id="f",
                teacher_id=f"t{n}",
                observed_on=now,
                ratings={f"I.{i}": 1 + (n + i) % 4 for i in range(20)},
            )
            for n in range(FORMS)
        ]
        out: list[list[object]] = []
        for label in ("first send", "resend"):
            start = time.perf_counter()
            with session_scope(engine) as session:
                stored = observations.submit_observations(session, coach, batch)
            seconds = time.perf_counter() - start
            with session_scope(engine, readonly=True) as session:
                held = len(session.exec(select(Observation)).all())
                assert session.get(Coach, "coach") is not None
            out.append([label, FORMS, len(stored.new), held, f"{seconds:.3f}"])
        engine.dispose()
        return out


def main() -> str:
    return "\n".join(
        [
            "## Practice (issue 14)",
            table(
                ["page", "bytes", "gzip bytes", "budget", "transfer s at 240 kbps / 840 ms", "first paint s"],
                pages(),
            ),
            table(["offline sync", "queued", "new", "stored", "seconds"], sync()),
        ]
    )

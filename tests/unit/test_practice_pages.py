"""The observation form a coach opens on a phone: 20 rubric rows of four level descriptors stay
under 14 KB compressed (issue 14's budget for 2G), and the form works without JavaScript."""

from __future__ import annotations

import gzip
import uuid
from types import SimpleNamespace

from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.web import i18n
from gateway.web.app import TEMPLATES
from gateway.web.roles import home_of, nav_roles
from libs.auth import Principal
from services.progress.practice.dashboard import months_back

LEVELS = [
    "Not seen in the lesson",
    "Tried with the teacher's help; few students take part",
    "Used with confidence; most students take part and explain their work",
    "Students lead and adapt it; the teacher helps others do the same",
]


def environment() -> Environment:
    i18n.load_catalogues()
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        languages=i18n.LANGUAGES, html_lang=i18n.html_lang, home_of=home_of, nav_roles=nav_roles
    )
    return env


def observation_page(rows: int = 20) -> str:
    form = {
        "id": str(uuid.uuid4()),
        "title": "Lesson observation: ICT in the classroom",
        "rows": [
            {
                "indicator": f"TL.KD.{n}",
                "title": f"Indicator {n}: students use ICT to solve a real problem",
                "levels": LEVELS,
            }
            for n in range(rows)
        ],
        "fields": ["What went well", "What to try next"],
    }
    request = SimpleNamespace(url=SimpleNamespace(path=f"/coach/observe/{form['id']}", query="teacher=t-1"))
    user = Principal(id="coach-1", roles=("teacher",), name="Coach")
    return (
        environment()
        .get_template("observe.html")
        .render(
            request=request,
            lang="ru",
            user=user,
            form=form,
            teacher="t-1",
            id=str(uuid.uuid4()),
            today="2026-12-01T09:00",
            saved=False,
        )
    )


def test_observation_form_of_20_rows_is_under_14_kb_compressed() -> None:
    html = observation_page(20)
    assert html.count('type="radio"') == 80 and 'action="/coach/observations"' in html
    size = len(gzip.compress(html.encode(), 6))
    assert size <= 14 * 1024, size


def test_months_back_crosses_the_year() -> None:
    from datetime import UTC, datetime

    assert months_back(datetime(2026, 2, 10, tzinfo=UTC), 3) == ["2025-12", "2026-01", "2026-02"]


def page(template: str, path: str, **context: object) -> str:
    request = SimpleNamespace(url=SimpleNamespace(path=path, query=""))
    user = Principal(id="coord-1", roles=("coordinator",), name="Coordinator")
    env = environment()
    token = i18n.current_lang.set("ru")
    try:
        return env.get_template(template).render(request=request, lang="ru", user=user, **context)
    finally:
        i18n.current_lang.reset(token)


def test_coordinator_page_shows_cpd_and_observation_tables_with_hidden_cells() -> None:
    cpd = {
        "scope": "KZ", "cycle_start": "2025-01-01T00:00:00Z", "cycle_end": "2030-01-01T00:00:00Z",
        "required_hours": 72, "min_cell": 10,
        "rows": [{"unit": "S01", "teachers": 20, "met": 10, "not_met": 10, "mean_hours": 42.5},
                 {"unit": "S02", "teachers": None, "met": None, "not_met": None, "mean_hours": None}],
    }  # fmt: skip
    observed = {
        "scope": "KZ",
        "min_cell": 10,
        "cells": [{"unit": "S01", "indicator": "TL.KD.1", "observed": 11, "met": None}],
    }
    html = page("coaching_coverage.html", "/coordinator/coaching", report=None, cpd=cpd, observed=observed)
    assert "Требуется: 72 ч" in html and "2025-01-01 – 2030-01-01" in html
    assert "<td>S01</td><td>20</td><td>10</td><td>10</td><td>42.5</td>" in html
    assert "<td>S02</td><td>&lt;10</td><td>&lt;10</td><td>&lt;10</td><td>—</td>" in html
    assert "<td>TL.KD.1</td><td>11</td><td>&lt;10</td>" in html


def test_transcript_verification_page_says_valid_or_invalid() -> None:
    figures = {
        "id": "t1", "name": "Aigerim", "issued_at": "2026-12-01T10:00:00Z", "cycle_start": "2025-01-01T00:00:00Z",
        "cycle_end": "2030-01-01T00:00:00Z", "required_hours": 72, "total_hours": 1.5, "by_kind": {"webinar": 1.5},
    }  # fmt: skip
    valid = page(
        "transcript_verify.html",
        "/verify/transcripts/t1",
        verdict={"status": "valid", "reason": "signed", "transcript": figures},
        error=None,
    )
    assert 'data-status="valid"' in valid and "Aigerim" in valid and "Вебинары" in valid
    assert 'enctype="multipart/form-data"' in valid
    bad = page(
        "transcript_verify.html",
        "/verify/transcripts/t1",
        verdict={"status": "invalid", "reason": "signature", "transcript": None},
        error=None,
    )
    assert 'data-status="invalid"' in bad and "Недействительна" in bad and "Aigerim" not in bad


def thread_page(posted: str | None) -> str:
    thread = {
        "id": "th-1", "space_id": "competency:TL.KD", "title": "One tablet, four students", "featured": False,
        "locked": False,
        "posts": [{"id": f"p{n}", "language": "ru", "author_name": f"Teacher {n}", "created_at": "2026-12-01T09:00:00Z",
                   "hidden": False, "text": f"Post {n}: roles rotate every ten minutes, the tablet passes on."}
                  for n in range(50)],
    }  # fmt: skip
    return page(
        "community_thread.html",
        "/community/threads/th-1",
        thread=thread,
        moderator=False,
        problem=None,
        posted=posted,
    )


def test_a_thread_of_50_posts_with_its_draft_reply_form_is_under_14_kb_and_names_its_draft() -> None:
    """The reply form is a plain POST (JavaScript off) carrying its draft's key, the signed-in user's,
    with the offline notice in the page's language; after a reply the page names that same draft."""
    import re

    html = thread_page(None)
    assert len(gzip.compress(html.encode(), 6)) <= 14 * 1024
    [form] = re.findall(r"<form method=\"post\" class=\"card\"[^>]*>", html)
    assert 'data-draft="coord-1:reply:th-1"' in form and "Нет связи" in form
    assert '<textarea name="text"' in html and 'src="/static/drafts.js"' in html
    assert "data-draft-sent" not in html
    assert 'data-draft-sent="coord-1:reply:th-1"' in thread_page("reply")
    assert 'data-draft-sent="coord-1:new:competency:TL.KD"' in thread_page("thread")
    assert "data-draft-sent" not in thread_page("something else")
    space = page(
        "community_space.html",
        "/community/competency:TL.KD",
        space={"id": "competency:TL.KD", "title": "TL.KD", "threads": []},
        problem=None,
    )
    assert 'data-draft="coord-1:new:competency:TL.KD"' in space

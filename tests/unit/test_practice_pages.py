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

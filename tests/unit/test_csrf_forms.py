"""Every POST form of every template carries the CSRF token (issue 15, item 5; docs/adr/0014).

The token is added when a template is compiled (gateway/web/csrf.py: FormTokens). This walks every
template's `<form>` tags with a scanner of its own (quotes and Jinja tags skipped, any spelling and
spacing of `method`), so a form the extension's pattern would miss fails here instead of shipping
without a token: a POST form must be followed by the token field once compiled, a form's method must
be plain text (a method chosen at render time cannot be checked), and no button may turn a GET form
into a POST (`formmethod`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from gateway.web import csrf
from gateway.web.app import TEMPLATES

TOKEN_CALL = "{{ csrf_input() }}"
METHOD = re.compile(r"\bmethod\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.IGNORECASE)


def templates() -> list[Path]:
    found = sorted(TEMPLATES.rglob("*.html"))
    assert len(found) > 20
    return found


def tag_end(source: str, start: int) -> int:
    """The index just past the `>` closing the tag that opens at `start` (quotes and Jinja skipped)."""
    i = start
    while i < len(source):
        if source.startswith(("{{", "{%", "{#"), i):
            close = {"{{": "}}", "{%": "%}", "{#": "#}"}[source[i : i + 2]]
            i = source.index(close, i + 2) + 2
        elif source[i] in "\"'":
            i = source.index(source[i], i + 1) + 1
        elif source[i] == ">":
            return i + 1
        else:
            i += 1
    raise AssertionError(f"unclosed tag at {start}")


def form_tags(source: str) -> list[tuple[int, str]]:
    return [
        (m.start(), source[m.start() : tag_end(source, m.start())])
        for m in re.finditer(r"<form\b", source, re.IGNORECASE)
    ]


def method_of(tag: str) -> str:
    found = METHOD.search(re.sub(r"\{[{%#].*?[}%#]\}", lambda m: " " * len(m.group(0)), tag))
    raw = METHOD.search(tag)
    if raw and found is None or (raw and "{" in raw.group(1)):
        raise AssertionError(f"a form's method is chosen at render time: {tag}")
    return found.group(1).strip("\"'").lower() if found else "get"


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_every_post_form_gets_the_token_field(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    compiled = csrf.FormTokens(Environment()).preprocess(source, path.name)
    assert not re.search(r"\bformmethod\s*=", source, re.IGNORECASE), f"{path.name}: formmethod on a button"
    for offset, tag in form_tags(source):
        if method_of(tag) != "post":
            continue
        # What the extension inserts is the only change before this tag, so its compiled position is
        # the source position shifted by the insertions before it.
        before = compiled[: compiled.index(tag, offset)]
        assert compiled.startswith(TOKEN_CALL, len(before) + len(tag)), f"{path.name}: {tag} has no token"


def test_the_scanner_finds_what_the_extension_would_miss() -> None:
    """The test's own scanner: forms the extension's pattern is not written for are still found as
    POST forms (so the test above would fail on them), and GET forms are left alone."""
    assert method_of('<form method = "POST" class="x">') == "post"
    assert method_of("<form class='a' METHOD=post>") == "post"
    assert method_of('<form action="/search">') == "get"
    assert method_of('<form method="get" data-x="{{ a > b }}">') == "get"
    with pytest.raises(AssertionError):
        method_of('<form method="{{ how }}">')
    source = '<form data-x="{{ a > b }}" method="post"><input name="x"></form>'
    compiled = csrf.FormTokens(Environment()).preprocess(source, "t.html")
    ((offset, tag),) = form_tags(source)
    assert tag == '<form data-x="{{ a > b }}" method="post">' and method_of(tag) == "post"
    assert not compiled.startswith(TOKEN_CALL, compiled.index(tag) + len(tag))  # the test would catch it


def test_a_rendered_post_form_carries_the_field_and_a_get_form_does_not() -> None:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), extensions=[csrf.FormTokens])
    env.globals["csrf_input"] = lambda: '<input type="hidden" name="csrf_token" value="t.s">'
    html = env.from_string('<form method="post" action="/a"></form><form method="get"></form>').render()
    assert html == (
        '<form method="post" action="/a"><input type="hidden" name="csrf_token" value="t.s"></form>'
        '<form method="get"></form>'
    )

"""Lesson Markdown is rendered to HTML with nothing executable left in it."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from services.courses.service import render_markdown

XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<iframe src="https://evil.example"></iframe>',
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    "![alt](javascript:alert(1))",
    '<svg onload="alert(1)"></svg>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<object data='x.swf'></object><embed src='x'>",
    '<form action="https://evil.example"><input></form>',
]


class Elements(HTMLParser):
    """Collects the elements and attributes a browser would build (escaped text is just text)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize("payload", XSS)
def test_xss_payloads_are_neutralised(payload: str) -> None:
    html = render_markdown(f"Before\n\n{payload}\n\nAfter")
    parser = Elements()
    parser.feed(html)
    for tag, attrs in parser.found:
        assert tag not in {"script", "iframe", "svg", "object", "embed", "form", "input", "style", "div"}, html
        assert not any(name.startswith("on") or name == "style" for name in attrs), html
        for name in ("href", "src"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), html
    assert "Before" in html and "After" in html


def test_ordinary_markdown_survives() -> None:
    html = render_markdown("## Title\n\n- a\n- **b**\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n"
                           "[link](https://example.org) ![a picture](https://example.org/p.png)")
    assert "<h2>Title</h2>" in html and "<strong>b</strong>" in html and "<table>" in html
    assert 'href="https://example.org"' in html and 'alt="a picture"' in html

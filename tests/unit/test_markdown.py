"""Lesson Markdown is rendered to HTML with nothing executable left in it."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from services.courses.markdown import markdown_problems, render_markdown

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
    "[a](&#106;avascript:alert(1))",
    "[a](vbscript:msgbox(1))",
    "<javascript:alert(1)>",
    "[a][r]\n\n[r]: javascript:alert(1)",
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "<details open ontoggle=alert(1)>x</details>",
    '<img src="x" onerror=alert(1)//',
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<body onload="alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "<base href='https://evil.example/'>",
    "<style>body{background:red}</style>",
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
        assert tag not in {
            "script",
            "iframe",
            "svg",
            "object",
            "embed",
            "form",
            "input",
            "style",
            "div",
            "math",
            "details",
            "body",
            "meta",
            "link",
            "base",
        }, html
        assert not any(name.startswith("on") or name == "style" for name in attrs), html
        for name in ("href", "src"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), html
    assert "Before" in html and "After" in html


def test_ordinary_markdown_survives() -> None:
    html = render_markdown(
        "## Title\n\n- a\n- **b**\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n"
        "[link](https://example.org) ![a picture](https://example.org/p.png)"
    )
    assert "<h2>Title</h2>" in html and "<strong>b</strong>" in html and "<table>" in html
    assert 'href="https://example.org"' in html and 'alt="a picture"' in html


def test_headings_lists_tables_links_and_lazy_images() -> None:
    html = render_markdown(
        "# One\n\n###### Six\n\n1. first\n2. second\n\n"
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n![A chart of results](https://example.org/c.png)"
    )
    assert "<h1>One</h1>" in html and "<h6>Six</h6>" in html and "<ol>" in html
    assert "<table>" in html and "<td>2</td>" in html and "style" not in html
    assert 'loading="lazy"' in html and 'alt="A chart of results"' in html
    assert 'rel="noopener nofollow"' in render_markdown("[x](https://example.org)")


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("Intro\n\n![](https://example.org/a.png)", 3, "no alt text"),
        ("![chart](data:image/png;base64,AAAA)", 1, "http(s) URL"),
        ("![chart](ftp://example.org/a.png)", 1, "http(s) URL"),
        ("\n".join(f"![p{i}](https://e.org/{i}.png)\n" for i in range(4)), 7, "more than 3 images"),
    ],
)
def test_markdown_problems_name_the_line(source: str, line: int, message: str) -> None:
    problems = markdown_problems(source, max_images=3)
    assert any(pline == line and message in text for pline, text in problems), problems


def test_good_images_have_no_problems() -> None:
    assert markdown_problems("![A chart](https://e.org/a.png) ![Local](images/b.png)", max_images=3) == []

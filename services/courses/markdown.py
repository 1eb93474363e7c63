"""Lesson Markdown: rendering to HTML that is safe to inline, and the problems an author must fix."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

# Images of this platform (services/courses/images.py): content-addressed, served by the courses API.
IMAGE_URL_PREFIX = "/api/v1/courses/images/"
IMAGE_NAME = re.compile(r"^([0-9a-f]{64})\.(webp|jpg)$")

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
ALLOWED_TAGS = {
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "br",
}


def render_markdown(source: str) -> str:
    """Markdown to HTML that is safe to inline: raw HTML is not rendered, and the result is sanitised
    again (no scripts, event handlers, iframes or javascript: links)."""
    return nh3.clean(
        _markdown.render(source),
        tags=ALLOWED_TAGS,
        attributes={
            "a": {"href", "title"},
            "img": {"src", "alt", "title", "width", "height"},
            "th": {"align"},
            "td": {"align"},
        },
        set_tag_attribute_values={"img": {"loading": "lazy", "decoding": "async"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow",
    )


def markdown_issues(source: str, *, max_images: int) -> list[tuple[int, str, str]]:
    """(line, code, message) for what an author must fix: an image without alt text (a teacher on a
    screen reader or with images off must still get the point), an image that is not http(s), too many
    images for a 2G phone. The same checks serve the draft API and package import."""
    problems: list[tuple[int, str, str]] = []
    images = 0
    for token in _markdown.parse(source):
        line = (token.map[0] + 1) if token.map else 1
        for child in token.children or []:
            if child.type != "image":
                continue
            images += 1
            src = str(child.attrGet("src") or "")
            if not child.content.strip():
                problems.append((line, "image_no_alt", f"image {src!r} has no alt text"))
            first = src.split("/", 1)[0]
            if ":" in first and first.split(":", 1)[0].lower() not in ("http", "https"):
                problems.append(
                    (
                        line,
                        "image_scheme",
                        f"image {src[:40]!r} must be an http(s) URL or a file of the package",
                    )
                )
            if images == max_images + 1:
                problems.append((line, "too_many_images", f"more than {max_images} images in one lesson"))
    return problems


def markdown_problems(source: str, *, max_images: int) -> list[tuple[int, str]]:
    """(line, message) of `markdown_issues`."""
    return [(line, message) for line, _code, message in markdown_issues(source, max_images=max_images)]


def image_sources(source: str) -> list[tuple[str, str]]:
    """(src, alt) of every image of a lesson, in order."""
    return [
        (str(child.attrGet("src") or ""), child.content)
        for token in _markdown.parse(source)
        for child in token.children or []
        if child.type == "image"
    ]


def sha_of(src: str) -> str | None:
    """The SHA-256 of an image of this platform named by a lesson (None for any other source)."""
    match = IMAGE_NAME.match(src.removeprefix(IMAGE_URL_PREFIX)) if src.startswith(IMAGE_URL_PREFIX) else None
    return match.group(1) if match else None

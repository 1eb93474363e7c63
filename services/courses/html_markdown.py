"""Lesson HTML from another tool (a Common Cartridge's web content) as Ustaz lesson Markdown: headings,
paragraphs, emphasis, links, images, lists, quotes, code and line breaks; scripts, styles and other
markup are dropped (what is left is rendered and sanitised like any lesson)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCKS = {"p", "div", "section", "article", "table", "tr", "header", "footer", "figure"}
SKIP = {"script", "style", "head", "title", "noscript", "template"}
INLINE = {"br": "\\\n", "strong": "**", "b": "**", "em": "*", "i": "*", "code": "`", "blockquote": "\n\n> "}


class _Converter(HTMLParser):
    def __init__(self, image: dict[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int | None]] = []
        self.links: list[str] = []
        self.skip = 0
        self.pre = False
        self.image = image  # src as written -> the src to use (images of the cartridge)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in SKIP:
            self.skip += 1
        elif tag in INLINE:
            self.out.append(INLINE[tag] if tag != "code" or not self.pre else "")
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in BLOCKS:
            self.out.append("\n\n")
        elif tag == "pre":
            self.pre = True
            self.out.append("\n\n```\n")
        else:
            self._structure(tag, a)

    def _structure(self, tag: str, a: dict[str, str]) -> None:
        if tag in ("ul", "ol"):
            self.lists.append([1 if tag == "ol" else None])
            self.out.append("\n")
        elif tag == "li":
            counter = self.lists[-1] if self.lists else [None]
            indent = "  " * max(len(self.lists) - 1, 0)
            marker = f"{counter[0]}." if counter[0] is not None else "-"
            if counter[0] is not None:
                counter[0] += 1
            self.out.append(f"\n{indent}{marker} ")
        elif tag == "a":
            self.links.append(a.get("href", ""))
            self.out.append("[")
        elif tag == "img":
            src = self.image.get(a.get("src", ""), a.get("src", ""))
            if not src:  # a picture the importer left out
                return
            alt = " ".join(a.get("alt", "").split()) or "image"
            self.out.append(f"![{alt.replace('[', '(').replace(']', ')')}]({src})")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP:
            self.skip = max(self.skip - 1, 0)
        elif re.fullmatch(r"h[1-6]", tag) or tag in BLOCKS:
            self.out.append("\n\n")
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag == "pre":
            self.pre = False
            self.out.append("\n```\n\n")
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self.out.append("\n\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            self.out.append(f"]({href})" if href.startswith(("http://", "https://", "mailto:")) else "]")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.out.append(data if self.pre else re.sub(r"\s+", " ", data))


def to_markdown(html: str, image: dict[str, str] | None = None) -> str:
    converter = _Converter(image or {})
    converter.feed(html)
    converter.close()
    text = "".join(converter.out)
    text = re.sub(r"\[\]\([^)]*\)|\[\]", "", text)  # links with no text
    text = re.sub(r"[ \t]+\n", "\n", text.replace("\u00a0", " "))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

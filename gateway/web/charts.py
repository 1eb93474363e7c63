"""Pure helpers of the server-drawn SVG charts: label widths and wrapping (so that no label is clipped
in any language), and the heat table's colours at WCAG contrast."""

from __future__ import annotations

import unicodedata

# Advance widths in em of a sans-serif UI font (system-ui, Roboto, Segoe UI) per character class,
# rounded up: a label measured with these is never wider on a phone than it is here.
WIDE = set("MWmwЖжШшЩщЮюФфЫыМмДдҮүҰұӨө@%")
NARROW = set("ilIjtfr.,:;'!|()[]ʻʼ ")


def text_width(text: str, size: float) -> float:
    """An upper estimate of the width of `text` at font size `size` (SVG user units)."""
    em = 0.0
    for ch in text:
        if ch in WIDE:
            em += 0.84
        elif ch in NARROW:
            em += 0.34
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            em += 1.0
        elif ch.isupper():
            em += 0.7
        else:
            em += 0.58
    return em * size


def wrap(text: str, width: float, size: float, lines: int = 2) -> list[str]:
    """`text` in at most `lines` lines of at most `width`: words wrapped, and the last line shortened
    with "…" if the rest does not fit (the full text stays in the chart's table and <title>)."""
    words, out, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if text_width(candidate, size) <= width or not line:
            line = candidate
        else:
            out.append(line)
            line = word
    out.append(line)
    if len(out) > lines:
        out = [*out[: lines - 1], " ".join(out[lines - 1 :])]
    last = out[-1]
    if text_width(last, size) > width:
        while last and text_width(last + "…", size) > width:
            last = last[:-1]
        out[-1] = last.rstrip() + "…"
    return out


def label_column(labels: list[str], size: float, most: float, least: float = 40) -> float:
    """The width the labels need beside the bars: the widest label, between `least` and `most`."""
    need = max([text_width(label, size) for label in labels] or [least])
    return max(least, min(most, need + 4))


# -- colours ------------------------------------------------------------------------------------------

ACCENT = (11, 92, 173)  # --accent, #0b5cad
DARK, LIGHT = (0, 0, 0), (255, 255, 255)  # black and white: one of them is ≥ 4.5:1 on any shade


def _channel(c: float) -> float:
    c /= 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgb: tuple[int, int, int]) -> float:
    r, g, b = (_channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """The WCAG 2 contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def hex_of(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def heat_colours(share: float) -> tuple[str, str]:
    """(background, text) of a heat-table cell: the accent blended over white by the share proficient,
    and whichever of the dark text or white has the higher contrast on it (always ≥ 4.5:1)."""
    alpha = 0.08 + 0.84 * max(0.0, min(1.0, share))
    background = tuple(round(255 * (1 - alpha) + c * alpha) for c in ACCENT)
    bg = (background[0], background[1], background[2])
    text = DARK if contrast(bg, DARK) >= contrast(bg, LIGHT) else LIGHT
    return hex_of(bg), hex_of(text)

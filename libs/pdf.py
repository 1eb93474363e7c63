"""PDF basics every printable page of the platform shares (the certificate, the CPD transcript): DejaVu
Sans embedded once per process as one cached glyph subset (Cyrillic and Latin Extended: every
language of the platform), compressed streams remembered, emphasis without a second font, text that
fits or wraps in a width, and a QR code drawn as a 1-bit stencil."""

from __future__ import annotations

import functools
import threading
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import zxingcpp
from PIL import Image
from reportlab import rl_config
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

if TYPE_CHECKING:
    from typing_extensions import Buffer

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVuSans"
rl_config.useA85 = 0  # binary streams: smaller and faster than ASCII85


# Glyph subsetting, cached. reportlab embeds, per document, a subset of each font holding the
# characters in the order the document first used them, so every certificate (another name) would
# get its own subset, built and compressed again (about half of a page's time). Instead each page
# first claims this fixed set of characters — every letter the platform's languages use, ASCII, and
# the punctuation on a certificate — in a fixed order, so pages share the same subset (≈ 200 glyphs,
# ≈ 30 KB a font) and it is built and compressed once per process. A character outside the set (a
# Greek name, say) still prints: reportlab adds it to a further, uncached subset.
GLYPHS = (
    "".join(chr(c) for c in range(32, 127))
    + "".join(chr(c) for c in range(0x410, 0x450))
    + "ЁёӘәҒғҚқҢңӨөҰұҮүҺһІіЎўҲҳҶҷӢӣЈјЉљЊњ"
    + "ʻʼ«»№—–·…’‘“”"
)


def _cache_subsets(face: Any) -> None:
    """Remember the face's subsets (built from GLYPHS, so the same few on every page): reportlab calls
    `face.makeSubset` for each document."""
    make_subset = face.makeSubset
    subsets: dict[tuple[int, ...], bytes] = {}

    def cached(subset: list[int]) -> bytes:
        key = tuple(subset)
        data = subsets.get(key)
        if data is None:
            data = make_subset(subset)
            with _lock:  # pages render on several worker threads at once
                subsets[key] = data
                while len(subsets) > 64:
                    subsets.pop(next(iter(subsets)))
        return data

    face.makeSubset = cached


_lock = threading.RLock()
_compressed: OrderedDict[bytes, bytes] = OrderedDict()


def _compress(text: bytes | str) -> bytes:
    """reportlab's Flate filter, remembering the last few results: the shared font subsets and their
    ToUnicode maps are the same bytes on every page (zlib is a pure function of its input)."""
    data = text.encode("utf8") if isinstance(text, str) else text
    packed = _compressed.get(data)
    if packed is None:
        packed = zlib.compress(data)
        with _lock:
            _compressed[data] = packed
            while len(_compressed) > 32:
                _compressed.popitem(last=False)
    return packed


_registered = False


def register_fonts() -> None:
    global _registered
    with _lock:
        if _registered:
            return
        font = TTFont(FONT, str(FONTS / "DejaVuSans.ttf"))
        _cache_subsets(font.face)
        pdfmetrics.registerFont(font)
        pdfdoc.PDFZCompress.encode = _compress
        _registered = True


@functools.lru_cache(maxsize=512)
def qr_modules(data: str) -> tuple[bytes, ...]:
    """The QR code's rows of modules (0 = dark, 255 = light), error correction M, mask chosen by the
    standard's penalty rules: zxing-cpp's encoder (C++, ~1.5 ms for a ~530-character URL; a pure-Python
    encoder took 20-40 ms and dominated the page). Cached per payload: another language reuses it."""
    barcode = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    rows, cols = image.shape
    pixels = memoryview(cast("Buffer", image)).tobytes()  # zxing-cpp's Image is a buffer; its stub omits it
    return tuple(pixels[r * cols : (r + 1) * cols] for r in range(rows))


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code as an inline 1-bit image mask (a stencil painted in black where a module is dark),
    scaled to `size` with a 4-module quiet zone. A stencil is drawn at device resolution without
    smoothing, so print and screen keep sharp module edges; it is ~1.7 KB of hex in the page instead
    of thousands of rectangle operators (which took longer to write than the rest of the page)."""
    rows = qr_modules(data)
    n = len(rows)
    packed = Image.frombytes("L", (n, n), b"".join(rows)).convert("1").tobytes()  # 1 bit a module, 0 = dark
    cell = size / (n + 8)
    canvas.addLiteral(
        f"q {cell * n:.4f} 0 0 {cell * n:.4f} {x + 4 * cell:.4f} {y + 4 * cell:.4f} cm 0 g\n"
        f"BI /IM true /W {n} /H {n} /BPC 1 /F /AHx ID\n{packed.hex()}>\nEI Q"
    )


def fit(canvas: Canvas, text: str, font: str, size: float, width: float) -> float:
    """The largest size ≤ `size` at which `text` fits in `width`."""
    w = canvas.stringWidth(text, font, size)
    return size if w <= width else max(8.0, size * width / w)


def wrap(canvas: Canvas, text: str, font: str, size: float, width: float) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if canvas.stringWidth(trial, font, size) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    return [*lines, line] if line else lines


def strong(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    rgb: tuple[float, float, float],
    *,
    centred: bool = False,
) -> None:
    """Emphasis without a second font: the glyphs filled and stroked (text render mode 2) in one colour.
    A bold face would be a second embedded subset, a quarter of a page's rendering time."""
    canvas.setFont(FONT, size)
    canvas.setFillColorRGB(*rgb)
    canvas.setStrokeColorRGB(*rgb)
    canvas.setLineWidth(size * 0.045)
    if centred:
        canvas.drawCentredString(x, y, text, mode=2)
    else:
        canvas.drawString(x, y, text, mode=2)

"""Pillow's part of lesson images (services/courses/images.py): decode what an upload may be, turn it
upright, strip its metadata, resize and re-encode it under a byte budget. Imported on first use."""

from __future__ import annotations

import io
import warnings
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

from libs.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType
from services.courses.images import Encoded

ACCEPTED = ["PNG", "JPEG", "WEBP", "GIF", "BMP"]  # decoders an upload may use; nothing more exotic
QUALITIES = (80, 70, 60, 50, 40, 30)
MIN_WIDTH = 80


def _decode(data: bytes, max_pixels: int) -> Image.Image:
    """The first frame of a PNG, JPEG, WebP, GIF or BMP (415 for anything else, 413 for too many pixels)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED)
            if image.width * image.height > max_pixels:
                raise PayloadTooLarge(
                    f"The image is {image.width}x{image.height} pixels; the limit is {max_pixels} pixels."
                )
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PayloadTooLarge("The image has too many pixels.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedMediaType("The file is not a PNG, JPEG, WebP, GIF or BMP image.") from exc
    return image


def _upright(image: Image.Image, fmt: str) -> Image.Image:
    image = ImageOps.exif_transpose(image)
    alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if not alpha:
        return image.convert("RGB")
    image = image.convert("RGBA")
    if fmt == "webp":
        return image
    flat = Image.new("RGB", image.size, (255, 255, 255))  # JPEG has no transparency: white behind it
    flat.paste(image, mask=image.getchannel("A"))
    return flat


def _encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    out = io.BytesIO()
    if fmt == "webp":
        image.save(out, "WEBP", quality=quality, method=4)
    else:
        image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def _best_quality(image: Image.Image, fmt: str, max_bytes: int) -> bytes | None:
    """The highest of QUALITIES whose encoding fits `max_bytes` (a binary search), None if none does."""
    lowest = _encode(image, fmt, QUALITIES[-1])
    if len(lowest) > max_bytes:
        return None
    best, low, high = lowest, 0, len(QUALITIES) - 2  # QUALITIES[low..high] are untried, best first
    while low <= high:
        middle = (low + high) // 2
        encoded = _encode(image, fmt, QUALITIES[middle])
        if len(encoded) <= max_bytes:
            best, high = encoded, middle - 1
        else:
            low = middle + 1
    return best


def reencode(
    data: bytes, *, max_width: int, max_bytes: int, fmt: Literal["webp", "jpeg"], max_pixels: int
) -> Encoded:
    """The smallest change that fits a phone: at most `max_width` wide, then the best quality under
    `max_bytes`; narrower (by the square root of the overshoot) if even the lowest quality is over."""
    image = _upright(_decode(data, max_pixels), fmt)
    width = min(image.width, max_width)
    while True:
        height = max(1, round(image.height * width / image.width))
        scaled = image if width == image.width else image.resize((width, height), Image.Resampling.LANCZOS)
        encoded = _best_quality(scaled, fmt, max_bytes)
        if encoded is not None:
            return Encoded(encoded, f"image/{fmt}", width, height)
        if width <= MIN_WIDTH:
            break
        over = len(_encode(scaled, fmt, QUALITIES[-1])) / max_bytes
        width = max(MIN_WIDTH, min(int(width * 0.9), int(width / over**0.5 * 0.95)))
    raise Unprocessable(
        f"The image cannot be made smaller than {max_bytes} bytes; use a simpler picture.",
        errors=[{"field": "file", "message": "over the byte budget", "code": "image_budget"}],
    )

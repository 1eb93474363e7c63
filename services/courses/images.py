"""Lesson images for cheap phones on 2G: an upload is decoded with Pillow (anything else is refused),
turned upright, stripped of its metadata (EXIF, GPS), resized to a phone width and re-encoded (WebP, or
JPEG) under a byte budget; the result is stored by the SHA-256 of its bytes and never changes, so a
published version that shows it stays as it was, and it is served with a year-long cache."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Conflict, NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from services.courses import repository
from services.courses.authoring import own_course
from services.courses.markdown import IMAGE_NAME, IMAGE_URL_PREFIX
from services.courses.models import CourseImage
from services.courses.models import Image as ImageRow
from services.courses.schemas import ImageInfo

EXTENSIONS = {"image/webp": "webp", "image/jpeg": "jpg"}
ACCEPTED = ["PNG", "JPEG", "WEBP", "GIF", "BMP"]  # decoders an upload may use; nothing more exotic
QUALITIES = (80, 70, 60, 50, 40, 30)
MIN_WIDTH = 80


@dataclass(frozen=True)
class Encoded:
    data: bytes
    media_type: str
    width: int
    height: int


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


def check_alt(alt: str | None) -> str:
    text = " ".join((alt or "").split())
    if not text:
        raise Unprocessable(
            "Describe the image (alt text): a teacher with images off or a screen reader gets only that.",
            errors=[{"field": "alt", "message": "required", "code": "no_alt", "name": "alt"}],
        )
    if len(text) > 300:
        raise Unprocessable(
            "The alt text is over 300 characters; put longer descriptions in the lesson text.",
            errors=[{"field": "alt", "message": "at most 300 characters", "code": "long_alt", "name": "alt"}],
        )
    return text.replace("[", "(").replace("]", ")")  # stays one Markdown image


def may_upload(session: Session, user: Principal, course_id: str) -> None:
    """403 for another institute's course, 409 while it is in review or archived (nothing to edit)."""
    course = own_course(session, course_id, user)
    if course.status in ("in_review", "archived"):
        raise Conflict(f"The course is {course.status.replace('_', ' ')}; its draft cannot change now.")


def info(row: ImageRow, alt: str) -> ImageInfo:
    url = f"{IMAGE_URL_PREFIX}{row.sha256}.{EXTENSIONS[row.media_type]}"
    return ImageInfo(
        sha256=row.sha256,
        url=url,
        media_type=row.media_type,
        width=row.width,
        height=row.height,
        bytes=row.byte_size,
        alt=alt,
        markdown=f"![{alt}]({url})",
    )


def store(session: Session, user: Principal, course_id: str, encoded: Encoded, alt: str) -> ImageInfo:
    """Keep the image (once, whatever the number of courses using it) and record it for the course."""
    may_upload(session, user, course_id)
    sha = hashlib.sha256(encoded.data).hexdigest()
    row = repository.image(session, sha)
    if row is None:
        row = ImageRow(
            sha256=sha,
            media_type=encoded.media_type,
            data=encoded.data,
            width=encoded.width,
            height=encoded.height,
            byte_size=len(encoded.data),
        )
        session.add(row)
        session.flush()
    link = repository.course_image(session, course_id, sha)
    if link is None:
        session.add(CourseImage(course_id=course_id, sha256=sha, alt=alt, uploaded_by=user.id))
    else:
        link.alt = alt
        session.add(link)
    return info(row, alt)


def course_images(session: Session, user: Principal, course_id: str) -> list[ImageInfo]:
    own_course(session, course_id, user)
    return [info(row, link.alt) for link, row in repository.course_images(session, course_id)]


def served(session: Session, name: str) -> ImageRow:
    match = IMAGE_NAME.match(name)
    row = repository.image(session, match.group(1)) if match else None
    if row is None or match is None or EXTENSIONS[row.media_type] != match.group(2):
        raise NotFound("No such image.")
    return row

"""Lesson images for cheap phones on 2G: an upload is decoded with Pillow (anything else is refused),
turned upright, stripped of its metadata (EXIF, GPS), resized to a phone width and re-encoded (WebP, or
JPEG) under a byte budget; the result is stored by the SHA-256 of its bytes and never changes, so a
published version that shows it stays as it was, and it is served with a year-long cache."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Conflict, NotFound, Unprocessable
from services.courses import repository
from services.courses.authoring import own_course
from services.courses.markdown import IMAGE_NAME, IMAGE_URL_PREFIX
from services.courses.models import CourseImage
from services.courses.models import Image as ImageRow
from services.courses.schemas import ImageInfo

EXTENSIONS = {"image/webp": "webp", "image/jpeg": "jpg"}


@dataclass(frozen=True)
class Encoded:
    data: bytes
    media_type: str
    width: int
    height: int


def reencode(
    data: bytes, *, max_width: int, max_bytes: int, fmt: Literal["webp", "jpeg"], max_pixels: int
) -> Encoded:
    """services.courses.imaging.reencode; Pillow loads with the first upload, not in every process."""
    from services.courses import imaging

    return imaging.reencode(data, max_width=max_width, max_bytes=max_bytes, fmt=fmt, max_pixels=max_pixels)


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

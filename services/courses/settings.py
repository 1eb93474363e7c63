from __future__ import annotations

from functools import lru_cache
from typing import Literal

from libs.settings import CommonSettings


class CoursesSettings(CommonSettings):
    courses_database_url: str | None = None
    # Course packages can be larger than ordinary JSON bodies.
    max_body_bytes: int = 20 * 1024 * 1024
    max_lesson_bytes: int = 200 * 1024
    max_lesson_images: int = 10
    max_package_bytes: int = 10 * 1024 * 1024
    max_package_unpacked_bytes: int = 20 * 1024 * 1024
    catalogue_max_age: int = 300
    # Images: an upload over the cap is refused (413); what is kept is re-encoded for phones, at most
    # image_max_width pixels wide and image_max_bytes per image (the lesson's text budget is separate).
    max_image_upload_bytes: int = 8 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    image_max_width: int = 640
    image_max_bytes: int = 30 * 1024
    image_format: Literal["webp", "jpeg"] = "webp"

    @property
    def database_url(self) -> str:
        return self.courses_database_url or self.sqlite_url("courses")


@lru_cache
def get_settings() -> CoursesSettings:
    return CoursesSettings()

from __future__ import annotations

from functools import lru_cache

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

    @property
    def database_url(self) -> str:
        return self.courses_database_url or self.sqlite_url("courses")


@lru_cache
def get_settings() -> CoursesSettings:
    return CoursesSettings()

from __future__ import annotations

from functools import lru_cache

from libs.settings import CommonSettings


class ProgressSettings(CommonSettings):
    progress_database_url: str | None = None
    processed_events_days: int = 30
    statements_batch_max: int = 100
    default_framework: str = "UNESCO-ICT-CFT-3"
    # The sweeper re-enqueues submissions ungraded for `grading_stale_seconds`, every `grading_sweep_seconds`.
    grading_stale_seconds: float = 120
    grading_sweep_seconds: float = 60
    # Self-enrolment's completion rule; cohort enrolments choose per cohort. Off until the reader
    # records lesson views for every client (see docs/progress.md).
    require_lesson_views: bool = False

    @property
    def database_url(self) -> str:
        return self.progress_database_url or self.sqlite_url("progress")


@lru_cache
def get_settings() -> ProgressSettings:
    return ProgressSettings()

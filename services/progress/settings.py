from __future__ import annotations

from functools import lru_cache

from libs.settings import CommonSettings


class ProgressSettings(CommonSettings):
    progress_database_url: str | None = None
    processed_events_days: int = 30
    statements_batch_max: int = 100
    # The LRS at /xapi (docs/lrs.md): statements per POST, how far behind "now" the
    # X-Experience-API-Consistent-Through header stays (longer than a store transaction), how long a
    # client row is trusted before it is read again (a revocation takes effect within it), the
    # largest body (attachments), and a new client's requests per minute.
    lrs_batch_max: int = 1000
    lrs_consistency_lag_seconds: float = 1.0
    lrs_client_cache_seconds: float = 2.0
    lrs_max_body_bytes: int = 16 * 1024 * 1024
    lrs_rate_limit: int = 6000
    # cmi5 / SCORM packages (docs/lrs.md "Packages"): the largest upload and what it may unpack to,
    # and how long a launch (its content address and cmi5 auth token) stays usable.
    package_max_bytes: int = 15 * 1024 * 1024
    package_max_unpacked_bytes: int = 60 * 1024 * 1024
    launch_hours: float = 12.0
    # Bodies up to the LRS's limit pass the request middleware; other endpoints read less (read_json).
    max_body_bytes: int = 16 * 1024 * 1024
    default_framework: str = "UNESCO-ICT-CFT-3"
    # The sweeper re-enqueues submissions ungraded for `grading_stale_seconds`, every `grading_sweep_seconds`.
    grading_stale_seconds: float = 120
    grading_sweep_seconds: float = 60
    # Self-enrolment's completion rule; cohort enrolments choose per cohort. Off until the reader
    # records lesson views for every client (see docs/progress.md).
    require_lesson_views: bool = False

    # Reminders: rules, the message outbox and its two external channels.
    reminder_inactive_days: int = 7
    reminder_deadline_days: int = 3
    reminder_sweep_seconds: float = 3600
    delivery_poll_seconds: float = 30
    delivery_max_attempts: int = 5
    delivery_backoff_seconds: float = 60
    default_time_zone: str = "Asia/Almaty"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_from: str = "Ustaz <no-reply@ustaz.local>"
    smtp_timeout: float = 10
    sms_gateway_url: str = ""  # empty: SMS is off
    sms_gateway_token: str = ""
    reminder_secret: str = "dev-change-me-reminder-secret"  # signs unsubscribe links

    # Analytics (docs/analytics.md): the org-unit read model's refresh, privacy threshold, export cap.
    org_units_refresh_seconds: float = 600
    analytics_min_cell: int = 10
    # how often every level's enrolment patterns are decided off the request path when the rollups or
    # the tree moved (analytics/stored.py, ADR 0019); 0 = never (answers decide on the request path)
    analytics_patterns_seconds: float = 120
    analytics_export_max_rows: int = 50_000
    # Coverage (ADR 0020): how often the registry copy is synced and every programme recomputed.
    coverage_refresh_seconds: float = 300

    def secret_fields(self) -> list[str]:
        return [*super().secret_fields(), "reminder_secret"]

    @property
    def database_url(self) -> str:
        return self.progress_database_url or self.sqlite_url("progress")


@lru_cache
def get_settings() -> ProgressSettings:
    return ProgressSettings()

"""The ministry's CPD rules and the attestation cycle (environment: USTAZ_CPD_*)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

from libs.settings import CommonSettings


class PracticeSettings(CommonSettings):
    # Hours credited per activity type (a webinar counts its own length).
    cpd_course_hours: float = 24
    cpd_observation_hours: float = 1
    cpd_evidence_hours: float = 0.5
    cpd_featured_hours: float = 1
    # The attestation cycle: its length in years from an origin, and the hours it requires.
    cpd_cycle_years: int = 5
    cpd_cycle_origin: date = date(2025, 1, 1)
    cpd_required_hours: float = 72
    # Webinars: the second reminder goes this many minutes before the start (beat looks every sweep).
    webinar_reminder_minutes: float = 60
    webinar_sweep_seconds: float = 600
    # Signs CPD transcripts (an Ed25519 key derived from it; its public half at .../transcripts/key).
    cpd_signing_secret: str = "dev-change-me-cpd-signing-secret"

    def secret_fields(self) -> list[str]:
        return [*super().secret_fields(), "cpd_signing_secret"]

    def hours(self, kind: str) -> float:
        return {
            "course": self.cpd_course_hours,
            "observation": self.cpd_observation_hours,
            "evidence": self.cpd_evidence_hours,
            "featured": self.cpd_featured_hours,
        }.get(kind, 0.0)

    def cycle(self, now: datetime) -> tuple[datetime, datetime]:
        """The attestation cycle holding `now`: [start, end)."""
        origin = self.cpd_cycle_origin
        n = max(0, (now.year - origin.year) // self.cpd_cycle_years)
        start = datetime(origin.year + n * self.cpd_cycle_years, origin.month, origin.day, tzinfo=UTC)
        if start > now:
            start = datetime(start.year - self.cpd_cycle_years, origin.month, origin.day, tzinfo=UTC)
        end = datetime(start.year + self.cpd_cycle_years, origin.month, origin.day, tzinfo=UTC)
        return start, end


@lru_cache
def get_practice_settings() -> PracticeSettings:
    return PracticeSettings()

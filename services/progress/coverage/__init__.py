"""Programmes and coverage (docs/analytics.md, "Coverage"; ADR 0020): a programme's target population from
the registry, against the enrolments, completions and certificates progress records."""

"""Celery tasks of the courses service (none needed yet: publishing is synchronous)."""

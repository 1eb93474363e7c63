"""Who consumes which event: topic -> Celery task names. Queues come from the task routes."""

SUBSCRIPTIONS: dict[str, list[str]] = {
    "submission.received": ["progress.grade_submission"],
    "course.completed": ["certificates.issue_certificate"],
    "certificate.issued": ["progress.deliver_certificate_ready"],
}

TASK_QUEUES: dict[str, str] = {
    "progress.grade_submission": "grading",
    "progress.requeue_stale_submissions": "grading",
    "certificates.*": "certificates",
    "progress.send_reminders": "reminders",
    "progress.deliver_*": "reminders",
    "progress.*rollup*": "analytics",
}
QUEUES = ("grading", "certificates", "reminders", "analytics")

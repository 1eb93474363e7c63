"""Who consumes which event: topic -> Celery task names. Queues come from the task routes."""

SUBSCRIPTIONS: dict[str, list[str]] = {
    "submission.received": ["progress.grade_submission"],
    "course.completed": ["certificates.issue_certificate", "progress.funnel_rollup"],
    "certificate.issued": ["progress.deliver_certificate_ready", "progress.certificate_rollup"],
    # Analytics rollups (services/progress/rollups.py), on the `analytics` queue.
    "enrolment.created": ["progress.funnel_rollup"],
    "enrolment.started": ["progress.funnel_rollup"],
    "submission.graded": ["progress.attainment_rollup"],
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

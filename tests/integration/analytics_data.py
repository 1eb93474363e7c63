"""A small, known population for the analytics tests, made through the progress service's own
functions (enrolment, graded submissions, completion) and rolled up by the recompute.

    KZ
    ├── KZ-ALM Almaty Region
    │   ├── KZ-ALM-TAL Talgar: S01 (25 teachers, 15 complete; 12 enrolled in both courses),
    │   │                      S02 (12 teachers, 10 complete)
    │   └── KZ-ALM-KAP Kapshagay: S03 (3 teachers, 1 completes)
    ├── KZ-AKM Akmola Region
    │   └── KZ-AKM-KOK Kokshetau: S07 (20 teachers, 5 complete)
    └── KZ-AST Astana (nobody)
"""

from __future__ import annotations

from typing import Any

from deploy.seed import org_unit_rows
from libs.auth import Principal
from libs.db import session_scope
from services.progress import service
from services.progress.analytics import rollups
from services.progress.analytics.service import upsert_org_units
from services.progress.schemas import SubmissionCreate
from tests.integration.test_analytics_rollups import HALF, WRONG
from tests.integration.test_progress_rules import COURSE, RIGHT, answer_key

TREE = [
    ("KZ", "Kazakhstan", "country", None),
    ("KZ-ALM", "Almaty Region", "region", "KZ"),
    ("KZ-ALM-TAL", "Talgar District", "district", "KZ-ALM"),
    ("KZ-ALM-TAL-S01", "Talgar School No. 1", "school", "KZ-ALM-TAL"),
    ("KZ-ALM-TAL-S02", "Talgar School No. 2", "school", "KZ-ALM-TAL"),
    ("KZ-ALM-KAP", "Kapshagay City", "district", "KZ-ALM"),
    ("KZ-ALM-KAP-S03", "Kapshagay School No. 3", "school", "KZ-ALM-KAP"),
    ("KZ-AKM", "Akmola Region", "region", "KZ"),
    ("KZ-AKM-KOK", "Kokshetau City", "district", "KZ-AKM"),
    ("KZ-AKM-KOK-S07", "Kokshetau School No. 7", "school", "KZ-AKM-KOK"),
    ("KZ-AST", "Astana", "region", "KZ"),
]
SCHOOLS = {
    "KZ/KZ-ALM/KZ-ALM-TAL/KZ-ALM-TAL-S01": (25, 15),
    "KZ/KZ-ALM/KZ-ALM-TAL/KZ-ALM-TAL-S02": (12, 10),
    "KZ/KZ-ALM/KZ-ALM-KAP/KZ-ALM-KAP-S03": (3, 1),
    "KZ/KZ-AKM/KZ-AKM-KOK/KZ-AKM-KOK-S07": (20, 5),
}
COURSE2 = COURSE.model_copy(update={"id": "c2", "title": "Demo EN", "language": "en", "institute_id": "i2"})


def populate(engine: Any) -> None:
    with session_scope(engine) as session:
        upsert_org_units(session, org_unit_rows(TREE))
        for course in (COURSE, COURSE2):
            key = answer_key().model_copy(update={"course_id": course.id})
            service.store_answer_key(session, course.id, 1, key)
    n = 0
    for path, (teachers, completing) in SCHOOLS.items():
        for i in range(teachers):
            n += 1
            teacher = Principal(
                id=f"t{n:03d}", roles=("teacher",), name=f"Teacher {n}", org=tuple(path.split("/"))
            )
            with session_scope(engine) as session:
                service.enrol(session, teacher, COURSE if n % 4 else COURSE2)
                course = COURSE if n % 4 else COURSE2
                answers = RIGHT if i < completing else (HALF if i % 2 else WRONG)
                submission, _ = service.submit(
                    session, teacher, SubmissionCreate(course_id=course.id, quiz_id="q1", answers=answers)
                )
                service.grade_submission(session, submission.id)
                if path.endswith("S01") and i < 12:  # 12 teachers take both courses
                    service.enrol(session, teacher, COURSE2 if n % 4 else COURSE)
    with session_scope(engine) as session:
        rollups.recompute(session)

"""The synthetic national population `deploy.seed_large` writes: the org-unit tree, and for each teacher
the enrolments, lesson views, quiz attempts, completions and certificates drawn from one seeded
`random.Random`. The order of the draws is what makes a seed give the same population: keep it.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from deploy.seed import NS

REGIONS = [
    ("KZ-AKM", "Akmola Region"),
    ("KZ-AKT", "Aktobe Region"),
    ("KZ-ALM", "Almaty Region"),
    ("KZ-ATY", "Atyrau Region"),
    ("KZ-VOS", "East Kazakhstan Region"),
    ("KZ-ZHA", "Jambyl Region"),
    ("KZ-ZAP", "West Kazakhstan Region"),
    ("KZ-KAR", "Karaganda Region"),
    ("KZ-KUS", "Kostanay Region"),
    ("KZ-KZY", "Kyzylorda Region"),
    ("KZ-MAN", "Mangystau Region"),
    ("KZ-PAV", "Pavlodar Region"),
    ("KZ-SEV", "North Kazakhstan Region"),
    ("KZ-YUZ", "Turkistan Region"),
]
COURSES = [
    (f"large-course-{i}", title, lang, inst)
    for i, (title, lang, inst) in enumerate(
        [
            ("Formative assessment with digital tools", "en", "NDI"),
            ("Формативное оценивание", "ru", "NDI"),
            ("Цифрлық құралдармен бағалау", "kk", "NDI"),
            ("Safe internet in school", "ru", "ORLEU"),
            ("Data literacy for teachers", "en", "ORLEU"),
            ("Жобалық оқыту", "kk", "ORLEU"),
            ("Инклюзивное образование онлайн", "ru", "NIS"),
            ("Coding in the classroom", "en", "NIS"),
        ]
    )
]
QUIZ_ANSWERS = {
    "right": {"q1a": "b", "q1b": False, "q1c": 70},
    "half": {"q1a": "b", "q1b": True, "q1c": 1},
    "wrong": {"q1a": "a", "q1b": True, "q1c": 1},
}
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"


Unit = tuple[str, str, str, str | None]
COURSE_COUNTS = (1, 1, 2, 2, 2, 3, 3, 4, 5)  # how many courses a teacher takes, drawn uniformly
HOMEPAGE = "https://ustaz.example"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def tree(rng: random.Random, districts: int, schools: int) -> list[Unit]:
    """(code, name, kind, parent code), country first; districts and schools spread unevenly."""
    units: list[Unit] = [("KZ", "Kazakhstan", "country", None)]
    weights = [rng.uniform(0.5, 1.8) for _ in REGIONS]
    per_region = _split(districts, weights, rng)
    district_codes = []
    for (code, name), count in zip(REGIONS, per_region, strict=True):
        units.append((code, name, "region", "KZ"))
        for d in range(1, count + 1):
            district_codes.append(f"{code}-D{d:02d}")
            units.append((f"{code}-D{d:02d}", f"{name.split()[0]} District {d}", "district", code))
    per_district = _split(schools, [rng.uniform(0.3, 2.0) for _ in district_codes], rng)
    for district, count in zip(district_codes, per_district, strict=True):
        for s in range(1, count + 1):
            units.append((f"{district}-S{s:03d}", f"School No. {s} ({district})", "school", district))
    return units


def _split(total: int, weights: list[float], rng: random.Random) -> list[int]:
    scale = total / sum(weights)
    counts = [max(1, int(w * scale)) for w in weights]
    while sum(counts) < total:
        counts[rng.randrange(len(counts))] += 1
    while sum(counts) > total:
        i = rng.randrange(len(counts))
        if counts[i] > 1:
            counts[i] -= 1
    return counts


def paths_of(units: list[Unit]) -> dict[str, str]:
    paths: dict[str, str] = {}
    for code, _, _, parent in units:
        paths[code] = f"{paths[parent]}/{code}" if parent else code
    return paths


class Rows(Protocol):
    """Where drawn rows go, by progress table name (enrolments, statements, submissions, completions,
    certificates)."""

    def add(self, name: str, row: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Population:
    """Where the teachers work and how likely they are to complete: a propensity per region, noise per
    district; `schools[n]` is teacher n's school."""

    paths: dict[str, str]
    schools: list[str]
    propensity: dict[str, float]
    district_noise: dict[str, float]
    institutes: dict[str, str]

    @classmethod
    def draw(cls, units: list[Unit], teachers: int, rng: random.Random) -> Population:
        paths = paths_of(units)
        schools = [code for code, _, kind, _ in units if kind == "school"]
        districts = sorted({paths[code].split("/")[2] for code in schools})
        propensity = {code: rng.uniform(0.25, 0.85) for code, _ in REGIONS}
        district_noise = {d: rng.uniform(-0.15, 0.15) for d in districts}
        school_weights = [rng.uniform(0.2, 3.0) for _ in schools]
        institutes = {inst: str(uuid.uuid5(NS, f"institute:{inst}")) for inst in ("NDI", "ORLEU", "NIS")}
        picks = rng.choices(schools, weights=school_weights, k=teachers)
        return cls(paths, picks, propensity, district_noise, institutes)

    def p_complete(self, school: str) -> float:
        _, region, district, *_ = self.paths[school].split("/")
        return min(0.95, max(0.05, self.propensity[region] + self.district_noise[district]))


@dataclass(frozen=True)
class Course:
    """One enrolment as drawn: `last` is the teacher's last activity in the course."""

    enrolment_id: str
    user_id: str
    course_id: str
    enrolled_at: datetime
    completed_at: datetime | None
    last: datetime


class Teachers:
    """Draws each teacher's enrolments, lesson views, quiz attempts, completions and certificates.
    The order of the draws from `rng` is what makes a seed give the same population: keep it."""

    def __init__(
        self, population: Population, key: dict[str, Any], rng: random.Random, now: datetime
    ) -> None:
        from services.progress import service

        self.population, self.rng, self.now = population, rng, now
        self.lessons: list[str] = key["lessons"]
        self.grade = {name: service.grade_quiz(key["quizzes"][0], a) for name, a in QUIZ_ANSWERS.items()}

    def teacher(self, n: int, out: Rows) -> None:
        school = self.population.schools[n]
        p_complete = self.population.p_complete(school)
        for course in self.rng.sample(COURSES, self.rng.choice(COURSE_COUNTS)):
            self.enrol(f"teacher-{n:07d}", school, course, p_complete, out)

    def enrol(
        self, user_id: str, school: str, course: tuple[str, str, str, str], p_complete: float, out: Rows
    ) -> None:
        rng, now = self.rng, self.now
        course_id, title, lang, inst = course
        enrolment_id = _uuid(rng)
        enrolled_at = now - timedelta(days=rng.uniform(0, 365))
        p_start = min(0.98, p_complete + 0.2)
        started = rng.random() < p_start
        completes = started and rng.random() < p_complete / p_start
        completed_at = min(now, enrolled_at + timedelta(days=rng.expovariate(1 / 21))) if completes else None
        out.add(
            "enrolments",
            {
                "id": enrolment_id,
                "user_id": user_id,
                "user_name": "",
                "course_id": course_id,
                "version": 1,
                "course_title": title,
                "language": lang,
                "institute_id": self.population.institutes[inst],
                "org_path": self.population.paths[school],
                "status": "completed" if completes else "active",
                "enrolled_at": enrolled_at,
                "completed_at": completed_at,
                "deadline": None,
                "require_lessons": False,
                "enrolled_by": None,
            },
        )
        if not started:
            return
        last = completed_at or min(now, enrolled_at + timedelta(days=rng.uniform(0.1, 60)))
        drawn = Course(enrolment_id, user_id, course_id, enrolled_at, completed_at, last)
        self.lesson_views(drawn, out)
        self.quiz_attempts(drawn, out)
        if completed_at is not None:
            self.completion(drawn, completed_at, self.population.paths[school], out)

    def lesson_views(self, c: Course, out: Rows) -> None:
        for lesson in self.lessons[: self.rng.randint(1, len(self.lessons))]:
            moment = c.enrolled_at + (c.last - c.enrolled_at) * self.rng.random()
            statement_id = _uuid(self.rng)
            activity = f"urn:ustaz:course:{c.course_id}/item/{lesson}"
            body = {
                "id": statement_id,
                "actor": {"account": {"homePage": HOMEPAGE, "name": c.user_id}},
                "verb": {"id": EXPERIENCED},
                "object": {"id": activity},
            }
            out.add(
                "statements",
                {
                    "id": statement_id,
                    "user_id": c.user_id,
                    "course_id": c.course_id,
                    "verb": EXPERIENCED,
                    "activity_id": activity,
                    "body": body,
                    "digest": hashlib.sha256(statement_id.encode()).hexdigest(),
                    "timestamp": moment,
                    "stored": moment,
                    "future_timestamp": False,
                    "voided": False,
                    "voids": None,
                },
            )

    def quiz_attempts(self, c: Course, out: Rows) -> None:
        """A completer passes, maybe after one wrong attempt; anyone else has one attempt that fails."""
        if c.completed_at is not None:
            outcomes = ["wrong"] * self.rng.randint(0, 1) + ["right"]
        else:
            outcomes = [self.rng.choice(("half", "wrong"))]
        for attempt, outcome in enumerate(outcomes):
            score, passed, results = self.grade[outcome]
            submitted = c.last - timedelta(minutes=10 * (len(outcomes) - attempt))
            out.add(
                "submissions",
                {
                    "id": _uuid(self.rng),
                    "enrolment_id": c.enrolment_id,
                    "user_id": c.user_id,
                    "quiz_id": "q1",
                    "answers": QUIZ_ANSWERS[outcome],
                    "status": "graded",
                    "score": score,
                    "passed": passed,
                    "results": results,
                    "submitted_at": submitted,
                    "graded_at": submitted + timedelta(seconds=2),
                    "requeued_at": None,
                },
            )

    def completion(self, c: Course, completed_at: datetime, org_path: str, out: Rows) -> None:
        """The completion and, for nine in ten, its certificate."""
        out.add(
            "completions",
            {
                "enrolment_id": c.enrolment_id,
                "user_id": c.user_id,
                "course_id": c.course_id,
                "version": 1,
                "org_path": org_path,
                "completed_at": completed_at,
            },
        )
        if self.rng.random() < 0.9:
            out.add(
                "certificates",
                {
                    "certificate_id": _uuid(self.rng),
                    "user_id": c.user_id,
                    "course_id": c.course_id,
                    "issued_at": completed_at + timedelta(minutes=1),
                },
            )

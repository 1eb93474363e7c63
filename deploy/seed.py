"""Demo data for `make run`: one user per role, an org-unit tree, an institute, the UNESCO ICT CFT
outline with illustrative indicators, and one short course in English and Russian.

Every row has a fixed id (uuid5 of a name), and each step checks before it writes, so running the
seed again changes nothing.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from sqlmodel import Session

from gateway.schemas import OrgUnitNode
from libs.db import create_db_engine, session_scope

NS = uuid.UUID("5b1d3c1e-2f0a-4c83-9a57-0c1e8a7b2d10")
DATA = Path(__file__).resolve().parent.parent / "services" / "courses" / "data"


def fixed_id(name: str) -> str:
    return str(uuid.uuid5(NS, name))


INSTITUTE_ID = fixed_id("institute:ndi")
COURSE_EN_ID = fixed_id("course:assessment-en")
COURSE_RU_ID = fixed_id("course:assessment-ru")

ORG_UNITS = [  # code, name, kind, parent code
    ("KZ", "Kazakhstan", "country", None),
    ("KZ-ALM", "Almaty Region", "region", "KZ"),
    ("KZ-ALM-TAL", "Talgar District", "district", "KZ-ALM"),
    ("KZ-ALM-TAL-S01", "Talgar Secondary School No. 1", "school", "KZ-ALM-TAL"),
    ("KZ-AKM", "Akmola Region", "region", "KZ"),
    ("KZ-AKM-KOK", "Kokshetau City", "district", "KZ-AKM"),
    ("KZ-AKM-KOK-S07", "Kokshetau School-Gymnasium No. 7", "school", "KZ-AKM-KOK"),
    # More schools for the demo teacher registry (deploy.seed.seed_registry).
    ("KZ-ALM-TAL-S02", "Talgar Secondary School No. 2", "school", "KZ-ALM-TAL"),
    ("KZ-ALM-TAL-S03", "Talgar Lyceum No. 3", "school", "KZ-ALM-TAL"),
    ("KZ-ALM-ESK", "Eskeldi District", "district", "KZ-ALM"),
    ("KZ-ALM-ESK-S01", "Karabulak Secondary School No. 1", "school", "KZ-ALM-ESK"),
    ("KZ-ALM-ESK-S02", "Eskeldi Rural School No. 2", "school", "KZ-ALM-ESK"),
    ("KZ-AKM-KOK-S12", "Kokshetau Secondary School No. 12", "school", "KZ-AKM-KOK"),
    ("KZ-AKM-BUR", "Burabay District", "district", "KZ-AKM"),
    ("KZ-AKM-BUR-S01", "Shchuchinsk Secondary School No. 1", "school", "KZ-AKM-BUR"),
    ("KZ-AKM-BUR-S04", "Burabay Rural School No. 4", "school", "KZ-AKM-BUR"),
]
REGISTRY_SCHOOLS = [code for code, _, kind, _ in ORG_UNITS if kind == "school"]
REGISTRY_TEACHERS = 300  # the demo registry: fixed seed, valid IINs, spread over REGISTRY_SCHOOLS

DEMO_USERS: list[dict[str, Any]] = [
    {
        "username": "teacher",
        "password": "teacher-demo",
        "role": "teacher",
        "name": "Aigerim Nurlanovna",
        "org": "KZ-ALM-TAL-S01",
        "lang": "ru",
        "description": "teacher in Talgar, Almaty Region",
    },
    {
        "username": "author",
        "password": "author-demo",
        "role": "author",
        "name": "Daniyar Seitkali",
        "org": "KZ-ALM",
        "lang": "en",
        "description": "course author at the demo institute",
    },
    {
        "username": "institute",
        "password": "institute-demo",
        "role": "institute_admin",
        "name": "Gulnara Abenova",
        "org": "KZ-ALM",
        "lang": "ru",
        "scope": "institute",
        "description": "admin of the demo institute",
    },
    {
        "username": "analyst",
        "password": "analyst-demo",
        "role": "analyst",
        "name": "Marat Zhaksylykov",
        "org": "KZ",
        "lang": "ru",
        "scope": "org:KZ",
        "description": "national M&E analyst (all of Kazakhstan)",
    },
    {
        "username": "analyst-akm",
        "password": "analyst-demo",
        "role": "analyst",
        "name": "Saule Ermekova",
        "org": "KZ-AKM",
        "lang": "ru",
        "scope": "org:KZ-AKM",
        "description": "regional M&E analyst (Akmola Region)",
    },
    {
        "username": "coordinator",
        "password": "coordinator-demo",
        "role": "coordinator",
        "name": "Bakyt Ospanov",
        "org": "KZ-ALM-TAL",
        "lang": "ru",
        "scope": "org:KZ-ALM-TAL",
        "description": "coordinator of Talgar District (approves join requests)",
    },
    {
        "username": "admin",
        "password": "admin-demo",
        "role": "platform_admin",
        "name": "Platform Admin",
        "org": "KZ",
        "lang": "en",
        "scope": "org:KZ",
        "description": "platform administrator",
    },
]


def seed_gateway(session: Session) -> None:
    from gateway import repository
    from gateway.models import Institute, OrgUnit, User
    from gateway.service import hash_password

    paths: dict[str, str] = {}
    for code, name, kind, parent in ORG_UNITS:
        paths[code] = f"{paths[parent]}/{code}" if parent else code
        if repository.org_unit_by_code(session, code) is None:
            session.add(
                OrgUnit(
                    id=fixed_id(f"org:{code}"),
                    code=code,
                    name=name,
                    kind=kind,
                    parent_id=fixed_id(f"org:{parent}") if parent else None,
                    path=paths[code],
                )
            )
            session.flush()
    if session.get(Institute, INSTITUTE_ID) is None:
        session.add(
            Institute(
                id=INSTITUTE_ID,
                code="NDI",
                name="National Institute for Teacher Development (demo)",
                org_unit_id=fixed_id("org:KZ"),
            )
        )
        session.flush()
    for demo in DEMO_USERS:
        if repository.user_by_login(session, demo["username"]) is None:
            scope = f"institute:{INSTITUTE_ID}" if demo.get("scope") == "institute" else demo.get("scope")
            session.add(
                User(
                    id=fixed_id(f"user:{demo['username']}"),
                    username=demo["username"],
                    email=f"{demo['username']}@demo.ustaz.example",
                    display_name=demo["name"],
                    password_hash=hash_password(demo["password"]),
                    roles=[demo["role"]],
                    org_unit_id=fixed_id(f"org:{demo['org']}"),
                    scope=scope,
                    lang=demo["lang"],
                    institute_id=INSTITUTE_ID if demo["role"] in ("author", "institute_admin") else None,
                )
            )
    session.flush()
    seed_registry(session)


LAST_NAMES = ["Ахметова", "Серикбаев", "Нурланова", "Жумабаев", "Оспанова", "Иванова", "Ким", "Петров", "Касымова", "Бекова", "Тулегенов", "Абенова"]  # fmt: skip
FIRST_NAMES = ["Айгерим", "Данияр", "Гульнара", "Марат", "Сауле", "Ерлан", "Алия", "Нурлан", "Асель", "Ольга", "Тимур", "Динара"]  # fmt: skip
SUBJECTS = ["математика", "физика", "информатика", "казахский язык", "русский язык", "английский язык", "история", "биология"]  # fmt: skip


def demo_iins(count: int, seed: int = 11) -> list[str]:
    """Valid IINs (check digit included), the same every run."""
    import random

    from gateway.registry.national_id import iin_check_digit

    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        first11 = f"{rng.randrange(60, 100):02d}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
        first11 += f"{rng.choice((3, 4))}{rng.randrange(10_000):04d}"
        check = iin_check_digit(first11)
        if check is not None and first11 + str(check) not in out:
            out.append(first11 + str(check))
    return out


def seed_registry(session: Session) -> None:
    """The demo teacher registry: the demo teacher (linked to their account, registry id = account id)
    and REGISTRY_TEACHERS more across the demo schools; rows whose national ID is there are skipped."""
    import random

    from gateway.registry import repository
    from gateway.registry.models import RegistryTeacher
    from gateway.registry.national_id import national_ids
    from gateway.registry.teachers import digest_for
    from gateway.settings import get_settings

    ids = national_ids(get_settings())
    rng = random.Random(11)
    iins = demo_iins(REGISTRY_TEACHERS + 1)
    existing = repository.teacher_keys(session, [ids.lookup(i) for i in iins])
    schools = {code: fixed_id(f"org:{code}") for code in REGISTRY_SCHOOLS}
    for n, iin in enumerate(iins):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        values = {
            "last_name": last,
            "first_name": first,
            "patronymic": "",
            "school_code": "KZ-ALM-TAL-S01" if n == 0 else rng.choice(REGISTRY_SCHOOLS),
            "email": f"teacher{n}@school.demo.ustaz.example",
            "phone": f"+7701{n:07d}" if n % 2 else "",
            "lang": rng.choice(("ru", "kk")),
            "subjects": ";" + ";".join(rng.sample(SUBJECTS, rng.randint(1, 2))) + ";",
            "employment": "pre_service" if n % 10 == 9 else "in_service",
            "status": "left" if n % 25 == 24 else "active",
        }
        if n == 0:  # the demo teacher, linked to the `teacher` account
            values.update(
                last_name="Nurlanovna", first_name="Aigerim", email="teacher@demo.ustaz.example", lang="ru"
            )
        if ids.lookup(iin) in existing:
            continue
        # Ids never derive from the national ID (a hash of an IIN is found by trying them all).
        teacher_id = fixed_id("user:teacher") if n == 0 else fixed_id(f"registry:demo:{n}")
        session.add(
            RegistryTeacher(
                id=teacher_id,
                nid_hash=ids.lookup(iin),
                nid_sealed=ids.seal(iin),
                school_id=schools[values["school_code"]],
                user_id=teacher_id if n == 0 else None,
                digest=digest_for(values),
                source="seed",
                last_name=values["last_name"],
                first_name=values["first_name"],
                patronymic=values["patronymic"],
                email=values["email"],
                phone=values["phone"],
                lang=values["lang"],
                subjects=values["subjects"],
                employment=values["employment"],
                status=values["status"],
            )
        )


LEVEL_CODES = {"Knowledge Acquisition": "KA", "Knowledge Deepening": "KD", "Knowledge Creation": "KC"}


def seed_framework(session: Session) -> None:
    from services.courses import repository
    from services.courses.models import Framework, FrameworkItem

    if repository.framework_by_code(session, "UNESCO-ICT-CFT-3") is not None:
        return
    outline = json.loads((DATA / "ict-cft-v3-outline.json").read_text(encoding="utf-8"))
    framework = Framework(
        id=fixed_id("framework:ict-cft-3"),
        code="UNESCO-ICT-CFT-3",
        title=outline["title"],
        note="Indicators are illustrative wording of the Ustaz demo, not UNESCO's text.",
    )
    session.add(framework)
    session.flush()
    position = 0
    for aspect in outline["aspects"]:
        aspect_item = FrameworkItem(
            id=fixed_id(f"cft:{aspect['code']}"),
            framework_id=framework.id,
            kind="aspect",
            code=aspect["code"],
            title=aspect["name"],
            position=position,
        )
        session.add(aspect_item)
        position += 1
        for level, name in zip(outline["levels"], aspect["competencies"], strict=True):
            code = f"{aspect['code']}.{LEVEL_CODES[level]}"
            competency = FrameworkItem(
                id=fixed_id(f"cft:{code}"),
                framework_id=framework.id,
                kind="competency",
                parent_id=aspect_item.id,
                code=code,
                title=name,
                level=level,
                position=position,
            )
            session.add(competency)
            position += 1
            for n, wording in enumerate(
                (
                    f"Explains how {name.lower()} applies in their own classroom",
                    f"Shows {name.lower()} in a lesson plan or activity",
                ),
                start=1,
            ):
                session.add(
                    FrameworkItem(
                        id=fixed_id(f"cft:{code}.{n}"),
                        framework_id=framework.id,
                        kind="indicator",
                        parent_id=competency.id,
                        code=f"{code}.{n}",
                        title=f"{wording} (illustrative)",
                        level=level,
                        position=position,
                    )
                )
                position += 1
        session.flush()


def demo_course(lang: str) -> dict[str, Any]:
    course: dict[str, Any] = json.loads((DATA / f"demo-course-{lang}.json").read_text(encoding="utf-8"))
    return course


def seed_courses(session: Session) -> None:
    from services.courses import repository, service
    from services.courses.models import Course
    from services.courses.schemas import CourseContent

    for lang, course_id in (("en", COURSE_EN_ID), ("ru", COURSE_RU_ID)):
        if repository.course(session, course_id) is not None:
            continue
        data = demo_course(lang)
        course = Course(
            id=course_id,
            slug=data["slug"],
            title=data["title"],
            summary=data["summary"],
            language=lang,
            institute_id=INSTITUTE_ID,
            translation_of=COURSE_EN_ID if lang != "en" else None,
        )
        session.add(course)
        session.flush()
        content = CourseContent.model_validate(
            {**data, "course_id": course_id, "version": 0, "institute_id": INSTITUTE_ID, "language": lang}
        )
        service.publish(session, course, content)


def seed_certificates(session: Session) -> None:
    from services.certificates.models import Issuer

    if session.get(Issuer, INSTITUTE_ID) is None:
        session.add(
            Issuer(institute_id=INSTITUTE_ID, name="National Institute for Teacher Development (demo)")
        )


def org_unit_rows(units: list[tuple[str, str, str, str | None]]) -> list[OrgUnitNode]:
    """(code, name, kind, parent code) from the country down -> the gateway's list, with paths."""
    paths: dict[str, str] = {}
    rows = []
    for code, name, kind, parent in units:
        paths[code] = f"{paths[parent]}/{code}" if parent else code
        rows.append(OrgUnitNode(code=code, name=name, kind=kind, parent=parent, path=paths[code]))
    return rows


def seed_progress(session: Session) -> None:
    """The org-unit read model of the progress service (ADR 0011), so dashboards work before the
    first refresh from the gateway."""
    from services.progress.analytics.service import upsert_org_units

    upsert_org_units(session, org_unit_rows(ORG_UNITS))


def seed_all(urls: dict[str, str] | None = None) -> None:
    from libs.migrate import database_url

    steps = {
        "gateway": [seed_gateway],
        "courses": [seed_framework, seed_courses],
        "certificates": [seed_certificates],
        "progress": [seed_progress],
    }
    for service_name, functions in steps.items():
        engine = create_db_engine((urls or {}).get(service_name) or database_url(service_name))
        for fn in functions:
            with session_scope(engine) as session:
                fn(session)
        engine.dispose()


if __name__ == "__main__":
    seed_all()
    print("demo data in place")

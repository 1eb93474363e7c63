"""Files for the registry tests: a region with districts and schools under the demo country, teachers
with valid IINs (fixed seed), and helpers to read what the gateway wrote (its outbox, its tables)."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

import httpx
from sqlalchemy import text

from gateway.registry.national_id import iin_check_digit

TEACHER_HEADER = [
    "national_id", "last_name", "first_name", "patronymic", "school_code", "email", "phone", "lang",
    "subjects", "employment", "status",
]  # fmt: skip
SCHOOLS = ["KZ-TST-D1-S1", "KZ-TST-D1-S2", "KZ-TST-D2-S1"]


def iins(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        first11 = f"{rng.randrange(70, 99):02d}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}3{rng.randrange(10_000):04d}"
        check = iin_check_digit(first11)
        if check is not None and first11 + str(check) not in out:
            out.append(first11 + str(check))
    return out


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue().encode(encoding)


def org_units_file(encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    rows = [
        ["code", "parent_code", "kind", "name", "name_ru", "name_kk"],
        ["KZ-TST", "KZ", "region", "Test Region", "Тестовая область", "Тест облысы"],
        ["KZ-TST-D1", "KZ-TST", "district", "First District", "Первый район", ""],
        ["KZ-TST-D2", "KZ-TST", "district", "Second District", "Второй район", ""],
        ["KZ-TST-D1-S1", "KZ-TST-D1", "school", "School One", "Школа № 1", ""],
        ["KZ-TST-D1-S2", "KZ-TST-D1", "school", "School Two", "Школа № 2", ""],
        ["KZ-TST-D2-S1", "KZ-TST-D2", "school", "School Three", "Школа № 3", ""],
    ]
    return csv_bytes(rows, encoding, delimiter)


def teacher_rows(count: int, seed: int = 7) -> list[list[str]]:
    rows = [list(TEACHER_HEADER)]
    for n, iin in enumerate(iins(count, seed)):
        rows.append(
            [iin, "Ахметова", f"Айгерим{'а' * (n % 3)}", "Нурлановна", SCHOOLS[n % len(SCHOOLS)], f"t{n}@school.kz",
             f"+7701{n:07d}" if n % 2 else "", "kk" if n % 2 else "ru", "математика;физика" if n % 2 else "информатика",
             "pre_service" if n % 5 == 4 else "in_service", "active"]
        )  # fmt: skip
    return rows


def teachers_file(count: int = 12, seed: int = 7, encoding: str = "utf-8") -> bytes:
    return csv_bytes(teacher_rows(count, seed), encoding)


def engine_of(client: httpx.AsyncClient) -> Any:
    return client.app.state.engine  # type: ignore[attr-defined]


def scalar(client: httpx.AsyncClient, sql: str, **params: Any) -> Any:
    with engine_of(client).connect() as conn:
        return conn.execute(text(sql), params).scalar()


def last_account_message(client: httpx.AsyncClient, kind: str | None = None) -> dict[str, Any]:
    """The newest account message the gateway's outbox holds (what progress would deliver)."""
    with engine_of(client).connect() as conn:
        rows = conn.execute(
            text("SELECT payload FROM outbox WHERE topic = 'account.message' ORDER BY created_at DESC")
        ).all()
    import json

    for (payload,) in rows:
        body = payload if isinstance(payload, dict) else json.loads(payload)
        if kind is None or body["kind"] == kind:
            return body
    raise AssertionError(f"no account message {kind}")


def snapshot(client: httpx.AsyncClient) -> tuple[Any, ...]:
    """Everything an import could change: a rejected import leaves this equal."""
    with engine_of(client).connect() as conn:
        return tuple(
            conn.execute(text(sql)).scalar()
            for sql in (
                "SELECT count(*) FROM org_units",
                "SELECT count(*) FROM registry_teachers",
                "SELECT max(updated_at) FROM registry_teachers",
                "SELECT count(*) FROM registry_teacher_history",
                "SELECT count(*) FROM org_unit_history",
                "SELECT count(*) FROM users",
            )
        )

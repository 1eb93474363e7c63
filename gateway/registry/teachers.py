"""The teacher registry's rows: parsing and checking a file row, recognising it against the registry
(a chunk at a time, by the keyed hash of the national ID: one query per 2,000 rows), and writing the
creates and changes of a chunk as multi-row statements with a history row per change."""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Row
from sqlmodel import Session

from gateway.models import new_id, new_ids
from gateway.registry import repository
from gateway.registry.formats import NAME_LANGS, TEACHER_COLUMNS, Header
from gateway.registry.models import EMPLOYMENTS, TEACHER_STATUSES
from gateway.registry.national_id import NationalIds
from gateway.registry.rows import (
    EMAIL,
    PHONE,
    SUBJECT,
    USERNAME,
    Outcome,
    RowError,
    check_name,
    normalize_phone,
)
from libs.outbox import utcnow

FIELDS = (
    "last_name",
    "first_name",
    "patronymic",
    "school_code",
    "email",
    "phone",
    "lang",
    "subjects",
    "employment",
    "status",
)
LANGS = frozenset(NAME_LANGS)
_LANG_CODES = {code.lower(): code for code in NAME_LANGS}  # a file's "UZ_CYRL" is uz_Cyrl


@dataclass(frozen=True)
class School:
    id: str
    path: str
    active: bool


@dataclass(slots=True)
class TeacherRow:
    """One teacher as a file row gives them, normalised."""

    row: int
    nid: str
    nid_hash: str
    last_name: str
    first_name: str
    patronymic: str
    school_code: str
    email: str
    phone: str
    lang: str
    subjects: str  # ";a;b;" or ""
    employment: str
    status: str
    username: str
    digest: str = ""


def digest_of(parts: Sequence[str]) -> str:
    """The hash of a teacher's fields in the file's form (FIELDS order, subjects as "a;b"): the national
    ID is the key and the username a link, so neither is in it. A file row whose stripped cells hash to
    the stored digest is that row unchanged, recognised without checking it again."""
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def digest_for(values: dict[str, str]) -> str:
    """The digest of stored values (subjects as stored, ";a;b;")."""
    return digest_of([values[f].strip(";") if f == "subjects" else values[f] for f in FIELDS])


@dataclass(slots=True)
class RawRow:
    """A file row before it is checked: its cells in TEACHER_COLUMNS order, and its key and digest."""

    number: int
    cells: tuple[str, ...]
    nid: str
    nid_hash: str
    quick: str
    overflow: bool = False  # cells past the header's last column (an unquoted delimiter in a name?)


class Layout:
    """Where each of our columns sits in this file's rows (computed once per file). A column the file
    lacks reads the empty cell appended after the row's last one."""

    def __init__(self, header: Header) -> None:
        self.width = max(header.index.values()) + 1
        positions = [header.index.get(c, self.width) for c in TEACHER_COLUMNS]
        self._pick = operator.itemgetter(*positions)
        self._pad = [""] * (self.width + 1)

    def raw(self, number: int, cells: list[str], ids: NationalIds) -> RawRow:
        width = self.width
        if len(cells) > width:
            overflow = any(c.strip() for c in cells[width:])
            cells = [*cells[:width], ""]
        else:
            overflow = False
            cells = cells + self._pad[len(cells) :]
        values: tuple[str, ...] = tuple(map(str.strip, self._pick(cells)))
        nid = ids.rule.normalize(values[0])
        return RawRow(number, values, nid, ids.lookup(nid), digest_of(values[1:11]), overflow)


def normalize_subjects(raw: str, number: int, errors: list[RowError]) -> str:
    seen: list[str] = []
    for part in raw.split(";"):
        subject = part if part.isalnum() else " ".join(part.split())
        if not subject or subject in seen:
            continue
        # one word of letters and digits matches SUBJECT without the regex ("_" is not alphanumeric)
        if len(subject) > 60 or not (subject.isalnum() or SUBJECT.fullmatch(subject)):
            errors.append(RowError(number, "subjects", f"{subject[:30]!r} is not a subject name"))
            return ""
        seen.append(subject)
    value = ";" + ";".join(seen) + ";" if seen else ""
    if len(value) > 500:
        errors.append(RowError(number, "subjects", "are longer than 500 characters together"))
    return value


def parse_teacher_row(  # noqa: C901 - one check per column, in column order
    raw: RawRow, ids: NationalIds, schools: dict[str, School]
) -> tuple[TeacherRow | None, list[RowError]]:
    number = raw.number
    (_, last_c, first_c, patronymic_c, school_code, email_c, phone_c, lang_c, subjects_c, employment_c, status_c,
     username) = raw.cells  # fmt: skip
    errors: list[RowError] = []
    if raw.overflow:
        errors.append(RowError(number, "", "the row has more cells than the header has columns"))
    nid = raw.nid
    if not nid:
        errors.append(RowError(number, "national_id", "is required"))
    elif problem := ids.rule.problem(nid):
        errors.append(RowError(number, "national_id", problem))
    last = check_name(last_c, "last_name", number, True, errors)
    first = check_name(first_c, "first_name", number, True, errors)
    patronymic = check_name(patronymic_c, "patronymic", number, False, errors)
    school = schools.get(school_code)
    if not school_code:
        errors.append(RowError(number, "school_code", "is required"))
    elif school is None:
        errors.append(
            RowError(number, "school_code", f"{school_code} is not a school in the registry", "unknown")
        )
    elif not school.active:
        errors.append(RowError(number, "school_code", f"{school_code} is retired"))
    email = email_c.lower()
    if email and (len(email) > 200 or not EMAIL.fullmatch(email)):
        errors.append(RowError(number, "email", "is not an e-mail address"))
    phone = normalize_phone(phone_c)
    if phone and not PHONE.fullmatch(phone):
        errors.append(RowError(number, "phone", "is not a phone number (7 to 15 digits, + allowed first)"))
    lang = _LANG_CODES.get(lang_c.lower(), lang_c)
    if lang and lang not in LANGS:
        errors.append(RowError(number, "lang", f"must be one of {', '.join(NAME_LANGS)}"))
    subjects = normalize_subjects(subjects_c, number, errors)
    employment = employment_c.lower() or "in_service"
    if employment not in EMPLOYMENTS:
        errors.append(RowError(number, "employment", "must be in_service or pre_service"))
    status = status_c.lower() or "active"
    if status not in TEACHER_STATUSES:
        errors.append(RowError(number, "status", "must be active or left"))
    if username and not USERNAME.fullmatch(username):
        errors.append(RowError(number, "username", "is not a username"))
    if errors:
        return None, errors
    row = TeacherRow(
        number, nid, raw.nid_hash, last, first, patronymic, school_code, email, phone, lang, subjects,
        employment, status, username,
    )  # fmt: skip
    values = (
        last,
        first,
        patronymic,
        school_code,
        email,
        phone,
        lang,
        subjects.strip(";"),
        employment,
        status,
    )
    # a row already in the stored form (an export's) hashes to the digest of its cells, computed already
    row.digest = raw.quick if raw.quick and values == raw.cells[1:11] else digest_of(values)
    return row, []


@dataclass
class Seen:
    """What earlier rows of the same file claimed: a national ID or a username twice is an error."""

    nids: dict[str, int] = field(default_factory=dict)
    usernames: dict[str, int] = field(default_factory=dict)


@dataclass
class ChunkPlan:
    creates: list[TeacherRow] = field(default_factory=list)
    updates: list[tuple[TeacherRow, Any, str | None]] = field(default_factory=list)  # row, key (a Row), link


def classify(
    session: Session,
    raw_rows: list[RawRow],
    ids: NationalIds,
    schools: dict[str, School],
    seen: Seen,
    outcome: Outcome,
) -> ChunkPlan:
    """Sort a chunk into creates, updates and unchanged (counted on `outcome`, with every rejected row).
    A row whose cells hash to its stored digest is unchanged without further checks; the others are
    parsed and checked in full, and links to accounts checked in one query per chunk."""
    plan = ChunkPlan()
    quick = [r.quick if not (r.cells[11] or r.overflow) else "" for r in raw_rows]
    keys = repository.changed_keys(session, [r.nid_hash for r in raw_rows], quick)
    full: list[TeacherRow] = []
    for raw, digest in zip(raw_rows, quick, strict=True):
        if digest and raw.nid_hash not in keys:  # stored with the digest of these very cells
            if (error := _duplicate(raw.number, raw.nid_hash, "", seen)) is not None:
                _reject(outcome, [error])
            else:
                outcome.unchanged += 1
            continue
        parsed, errors = parse_teacher_row(raw, ids, schools)
        if parsed is None:
            _reject(outcome, errors)
        else:
            full.append(parsed)
    named = [r.username for r in full if r.username]
    accounts = repository.users_by_usernames(session, named) if named else {}
    linked = repository.teachers_linked_to(session, [a.id for a in accounts.values()]) if accounts else {}
    for row in full:
        key = keys.get(row.nid_hash)
        error = _duplicate(row.row, row.nid_hash, row.username, seen) or _link_problem(
            row, key, accounts, linked
        )
        if error is not None:
            _reject(outcome, [error])
            continue
        link = accounts[row.username].id if row.username else None
        if key is None:
            plan.creates.append(row)
        elif key.digest != row.digest or (link is not None and key.user_id != link):
            plan.updates.append((row, key, link))
        else:
            outcome.unchanged += 1
    outcome.created += len(plan.creates)
    outcome.updated += len(plan.updates)
    return plan


def _reject(outcome: Outcome, errors: list[RowError]) -> None:
    outcome.rejected += 1
    for error in errors:
        outcome.reject(error)


def _duplicate(number: int, nid_hash: str, username: str, seen: Seen) -> RowError | None:
    first = seen.nids.get(nid_hash)
    if first is not None:
        return RowError(number, "national_id", f"the same national ID as row {first}", "duplicate")
    seen.nids[nid_hash] = number
    if username:
        other = seen.usernames.get(username)
        if other is not None:
            return RowError(number, "username", f"the same account as row {other}", "duplicate")
        seen.usernames[username] = number
    return None


def _link_problem(
    row: TeacherRow, key: Row[Any] | None, accounts: dict[str, Row[Any]], linked: dict[str, str]
) -> RowError | None:
    """A row may link its teacher to an existing account (`username`), never re-link one."""
    if not row.username:
        return None
    account = accounts.get(row.username)
    if account is None:
        return RowError(row.row, "username", f"no account {row.username}", "unknown")
    if key is not None and key.user_id is not None and key.user_id != account.id:
        return RowError(
            row.row, "national_id", "this national ID is already linked to another account", "conflict"
        )
    holder = linked.get(account.id)
    if holder is not None and (key is None or holder != key.id):
        return RowError(
            row.row,
            "username",
            f"account {row.username} is already linked to another national ID",
            "conflict",
        )
    return None


def write_chunk(
    session: Session,
    plan: ChunkPlan,
    schools: dict[str, School],
    ids: NationalIds,
    *,
    import_id: str | None,
    actor_id: str | None,
) -> None:
    """The chunk's creates in one multi-row INSERT, its updates grouped into executemany UPDATEs, a
    history row per update, and linked accounts moved with their teacher (their next token follows)."""
    now = utcnow()
    new = plan.creates
    creates = [
        {
            "id": teacher_id,
            "nid_hash": row.nid_hash,
            "nid_sealed": sealed,
            **_columns(row, schools),
            "digest": row.digest,
            "user_id": None,
            "source": "import",
            "created_at": now,
            "updated_at": now,
        }
        for row, teacher_id, sealed in zip(
            new, new_ids(len(new)), ids.seal_many([row.nid for row in new]), strict=True
        )
    ]
    links = {row.nid_hash: (row, creates[i]["id"]) for i, row in enumerate(plan.creates) if row.username}
    repository.insert_teachers(session, creates)
    if links:  # a new teacher linked to an existing account: set after the insert, like any change
        accounts = repository.users_by_usernames(session, [row.username for row, _ in links.values()])
        plan.updates += [
            (row, _NewKey(teacher_id, row.digest), accounts[row.username].id)
            for row, teacher_id in links.values()
        ]
    if not plan.updates:
        return
    before = repository.teacher_rows(session, [key.id for _, key, _ in plan.updates])
    updates: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    accounts_moved: list[dict[str, Any]] = []
    codes: dict[str, str] = {}
    for row, key, link in plan.updates:
        old = before[key.id]
        values = _columns(row, schools)
        changed = {k: v for k, v in values.items() if getattr(old, k) != v}
        update = {"_id": key.id, **changed, "digest": row.digest, "updated_at": now}
        if link is not None and old.user_id != link:
            update["user_id"] = link
        updates.append(update)
        user_id = update.get("user_id", old.user_id)
        if user_id is not None and ("school_id" in changed or "user_id" in update or _names_changed(changed)):
            accounts_moved.append(
                {"_id": user_id, "org_unit_id": values["school_id"], "display_name": display_name(row)}
            )
        if isinstance(key, _NewKey):
            history.append(_history(key.id, "linked", {}, {"user_id": link}, import_id, actor_id, now))
        else:
            after = {k: update[k] for k in (*changed, "user_id") if k in update}
            earlier = _before(old, after)
            if "school_id" in after:  # the history names schools by code, as the files do
                codes = codes or {s.id: code for code, s in schools.items()}
                earlier["school_code"], after["school_code"] = codes.get(old.school_id, ""), row.school_code
            kind = change_kind(old, changed, update)
            history.append(_history(key.id, kind, earlier, after, import_id, actor_id, now))
    repository.update_teachers(session, updates)
    repository.insert_teacher_history(session, history)
    repository.set_user_units(session, accounts_moved)


@dataclass(frozen=True)
class _NewKey:
    id: str
    digest: str
    user_id: None = None


def _columns(row: TeacherRow, schools: dict[str, School]) -> dict[str, Any]:
    return {
        "last_name": row.last_name,
        "first_name": row.first_name,
        "patronymic": row.patronymic,
        "school_id": schools[row.school_code].id,
        "email": row.email,
        "phone": row.phone,
        "lang": row.lang,
        "subjects": row.subjects,
        "employment": row.employment,
        "status": row.status,
    }


def _names_changed(changed: dict[str, Any]) -> bool:
    return bool({"last_name", "first_name", "patronymic"} & set(changed))


def display_name(row: TeacherRow | Any) -> str:
    """The name a linked account shows (and a certificate prints): the registry's, never a request's."""
    return " ".join(p for p in (row.first_name, row.patronymic, row.last_name) if p)


def change_kind(old: Any, changed: dict[str, Any], update: dict[str, Any]) -> str:
    if "status" in changed:
        return "left" if changed["status"] == "left" else "returned"
    if "school_id" in changed:
        return "transfer"
    if "user_id" in update and not changed:
        return "linked"
    return "updated"


def _before(old: Any, after: dict[str, Any]) -> dict[str, Any]:
    return {k: getattr(old, k) for k in after}


def _history(
    teacher_id: str,
    change: str,
    before: dict[str, Any],
    after: dict[str, Any],
    import_id: str | None,
    actor_id: str | None,
    now: Any,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "teacher_id": teacher_id,
        "at": now,
        "change": change,
        "before": before,
        "after": after,
        "import_id": import_id,
        "actor_id": actor_id,
    }


def load_schools(session: Session) -> dict[str, School]:
    return {r.code: School(r.id, r.path, r.retired_at is None) for r in repository.schools(session)}


def export_row(row: Any, ids: NationalIds) -> list[str]:
    """A registry row as the file's row: what an unchanged import recognises as unchanged."""
    subjects = row.subjects.strip(";") if row.subjects else ""
    return [
        ids.unseal(row.nid_sealed),
        row.last_name,
        row.first_name,
        row.patronymic,
        row.school_code,
        row.email,
        row.phone,
        row.lang,
        subjects,
        row.employment,
        row.status,
        row.username or "",
    ]

"""The org-unit registry: the country's tree (country > region > district > school), imported from a
file or edited one unit at a time. Codes never change (a school keeps its EMIS code); a unit is
renamed, moved (its path and every descendant's path follow) or retired, and each change is a history
row. The whole tree fits in memory (a country has some 10,000 schools), so a plan is made there and
written in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session

from gateway.models import OrgUnit, new_id
from gateway.registry import repository
from gateway.registry.formats import NAME_LANGS, Header
from gateway.registry.rows import CODE, Outcome, RowError, cell
from libs.errors import Conflict, NotFound, Unprocessable
from libs.outbox import utcnow

LEVELS = {"country": 0, "region": 1, "district": 2, "school": 3}
STATUSES = ("active", "retired")


@dataclass(frozen=True)
class UnitState:
    """A unit as a file row says it (and as the database has it): what decides "unchanged"."""

    code: str
    parent_code: str | None
    kind: str
    name: str
    names: tuple[tuple[str, str], ...] = ()
    retired: bool = False

    def row(self) -> list[str]:
        names = dict(self.names)
        return [
            self.code,
            self.parent_code or "",
            self.kind,
            self.name,
            *(names.get(lang, "") for lang in NAME_LANGS),
            "retired" if self.retired else "active",
        ]


def state_of(unit: OrgUnit, parent_code: str | None) -> UnitState:
    return UnitState(
        unit.code,
        parent_code,
        unit.kind,
        unit.name,
        tuple(sorted((unit.names or {}).items())),
        unit.retired_at is not None,
    )


def parse_unit_row(number: int, cells: list[str], header: Header) -> tuple[UnitState | None, list[RowError]]:
    index = header.index
    errors: list[RowError] = []
    code = cell(cells, index, "code")
    parent = cell(cells, index, "parent_code") or None
    kind = cell(cells, index, "kind").lower()
    name = " ".join(cell(cells, index, "name").split())
    status = cell(cells, index, "status").lower() or "active"
    if not CODE.fullmatch(code):
        errors.append(RowError(number, "code", "is required: up to 40 letters, digits, dots, dashes"))
    if parent is not None and not CODE.fullmatch(parent):
        errors.append(RowError(number, "parent_code", "is not a valid code"))
    if kind not in LEVELS:
        errors.append(RowError(number, "kind", f"must be one of {', '.join(LEVELS)}"))
    if not name or len(name) > 200:
        errors.append(RowError(number, "name", "is required, up to 200 characters"))
    if status not in STATUSES:
        errors.append(RowError(number, "status", "must be active or retired"))
    names: dict[str, str] = {}
    for lang in NAME_LANGS:
        value = " ".join(cell(cells, index, f"name_{lang}").split())
        if len(value) > 200:
            errors.append(RowError(number, f"name_{lang}", "is longer than 200 characters"))
        elif value:
            names[lang] = value
    if errors:
        return None, errors
    return UnitState(code, parent, kind, name, tuple(sorted(names.items())), status == "retired"), []


@dataclass
class Tree:
    """The tree in memory: units by code and their state; a plan changes `states` and records what."""

    units: dict[str, OrgUnit]
    states: dict[str, UnitState]
    code_of: dict[str, str]  # unit id -> code
    changes: dict[str, str] = field(default_factory=dict)  # code -> created | updated
    rows: dict[str, int] = field(default_factory=dict)  # code -> the file row that set it

    @classmethod
    def load(cls, session: Session) -> Tree:
        units = {u.code: u for u in repository.all_units(session)}
        code_of = {u.id: u.code for u in units.values()}
        states = {code: state_of(u, code_of.get(u.parent_id or "")) for code, u in units.items()}
        return cls(units, states, code_of)

    def ancestors(self, code: str) -> Iterator[str]:
        seen = {code}
        parent = self.states[code].parent_code
        while parent is not None:
            if parent in seen:
                raise ValueError(code)  # a cycle
            seen.add(parent)
            yield parent
            state = self.states.get(parent)
            parent = state.parent_code if state else None

    def path(self, code: str) -> str:
        return "/".join([*reversed(list(self.ancestors(code))), code])


def plan_units(session: Session, parsed: list[tuple[int, UnitState]], outcome: Outcome) -> Tree:
    """Apply the file's rows to the tree in memory and check the result as a whole: parents exist and
    sit one level up or more, one country, no unit inside itself, no retired unit with active children
    or teachers. Errors and counts go to `outcome`; the tree holds the planned state."""
    tree = Tree.load(session)
    bad: set[int] = set()
    for number, state in parsed:
        if state.code in tree.rows:
            first = tree.rows[state.code]
            outcome.reject(RowError(number, "code", f"appears again (first on row {first})", "duplicate"))
            bad.add(number)
            continue
        tree.rows[state.code] = number
        old = tree.states.get(state.code)
        if old != state:
            tree.changes[state.code] = "updated" if old else "created"
            tree.states[state.code] = state
    for code in tree.rows:
        for error in _check_unit(tree, code):
            outcome.reject(error)
            bad.add(error.row)
    _check_retired(session, tree, outcome, bad)
    outcome.rejected += len(bad)
    for code, number in tree.rows.items():
        if number in bad:
            continue
        change = tree.changes.get(code)
        if change == "created":
            outcome.created += 1
        elif change == "updated":
            outcome.updated += 1
        else:
            outcome.unchanged += 1
    return tree


def _check_unit(tree: Tree, code: str) -> list[RowError]:
    state, number = tree.states[code], tree.rows[code]
    if state.parent_code is None:
        if state.kind != "country":
            return [RowError(number, "parent_code", f"is required for a {state.kind}")]
        roots = [c for c, s in tree.states.items() if s.parent_code is None and c != code]
        if roots:
            return [RowError(number, "code", f"a deployment has one country; {roots[0]} is already the root")]
        return []
    parent = tree.states.get(state.parent_code)
    if parent is None:
        return [
            RowError(
                number,
                "parent_code",
                f"{state.parent_code} is neither in the file nor in the registry",
                "unknown",
            )
        ]
    if LEVELS[parent.kind] >= LEVELS[state.kind]:
        return [RowError(number, "kind", f"a {state.kind} cannot sit under a {parent.kind} ({parent.code})")]
    if not state.retired and parent.retired:
        return [RowError(number, "parent_code", f"{parent.code} is retired")]
    try:
        path = tree.path(code)
    except ValueError:
        return [
            RowError(
                number, "parent_code", f"{state.parent_code} is inside {code}: a unit cannot be inside itself"
            )
        ]
    if len(path) > 400:
        return [RowError(number, "parent_code", "the unit's path would be longer than 400 characters")]
    return []


def _check_retired(session: Session, tree: Tree, outcome: Outcome, bad: set[int]) -> None:
    retiring = [c for c in tree.changes if tree.states[c].retired and c in tree.units]
    if not retiring:
        return
    active_children = {
        s.parent_code for s in tree.states.values() if not s.retired and s.parent_code in set(retiring)
    }
    teachers = repository.active_teachers_per_school(session, [tree.units[c].id for c in retiring])
    for code in retiring:
        number = tree.rows[code]
        if code in active_children:
            outcome.reject(RowError(number, "status", "has active units under it: retire or move them first"))
            bad.add(number)
        elif teachers.get(tree.units[code].id):
            n = teachers[tree.units[code].id]
            outcome.reject(RowError(number, "status", f"has {n} active teacher(s): transfer them first"))
            bad.add(number)


def apply_units(session: Session, tree: Tree, *, import_id: str | None, actor_id: str | None) -> int:
    """Write the planned tree: new units parents first, changed ones, every path that changed (a move
    carries its descendants), a history row per change, and the teachers under a moved unit touched so
    the change feed shows their new paths. Returns how many units' paths changed."""
    now = utcnow()
    ids = {code: unit.id for code, unit in tree.units.items()}
    for code in tree.changes:
        ids.setdefault(code, new_id())
    created = sorted(
        (c for c, ch in tree.changes.items() if ch == "created"), key=lambda c: tree.path(c).count("/")
    )
    # One statement, parents first: both databases check a foreign key at the end of the statement.
    repository.insert_units(session, [{"id": ids[c], **_unit_row(ids, tree, c, now)} for c in created])
    history = [
        _history(ids[c], "created", {}, _public(tree.states[c]), import_id, actor_id, now) for c in created
    ]
    updates: list[dict[str, Any]] = []
    moved_schools: list[str] = []
    moved = 0
    for code, unit in tree.units.items():
        changed = tree.changes.get(code) == "updated"
        new_path = tree.path(code)
        if new_path != unit.path:
            moved += 1
            if tree.states[code].kind == "school":
                moved_schools.append(unit.id)
        if changed or new_path != unit.path:  # a unit the file did not name moves with its parent
            updates.append({"_id": unit.id, **_unit_row(ids, tree, code, now)})
        if changed:
            before = state_of(unit, tree.code_of.get(unit.parent_id or ""))
            after = tree.states[code]
            change = _change_kind(before, after)
            history.append(
                _history(unit.id, change, _public(before), _public(after), import_id, actor_id, now)
            )
    repository.update_units(session, updates)
    repository.insert_unit_history(session, history)
    repository.touch_teachers_at(session, moved_schools, now)
    return moved


def _unit_row(ids: dict[str, str], tree: Tree, code: str, now: Any) -> dict[str, Any]:
    state = tree.states[code]
    existing = tree.units.get(code)
    return {
        "code": code,
        "name": state.name,
        "kind": state.kind,
        "parent_id": ids[state.parent_code] if state.parent_code else None,
        "path": tree.path(code),
        "names": dict(state.names),
        "retired_at": ((existing.retired_at if existing else None) or now) if state.retired else None,
        "updated_at": now,
    }


def _change_kind(before: UnitState, after: UnitState) -> str:
    if before.retired != after.retired:
        return "retired" if after.retired else "restored"
    if before.parent_code != after.parent_code:
        return "moved"
    if before.name != after.name or before.names != after.names:
        return "renamed"
    return "updated"


def _public(state: UnitState) -> dict[str, Any]:
    return {
        "code": state.code,
        "parent_code": state.parent_code,
        "kind": state.kind,
        "name": state.name,
        "names": dict(state.names),
        "retired": state.retired,
    }


def _history(
    unit_id: str,
    change: str,
    before: dict[str, Any],
    after: dict[str, Any],
    import_id: str | None,
    actor_id: str | None,
    now: Any,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "org_unit_id": unit_id,
        "at": now,
        "change": change,
        "before": before,
        "after": after,
        "import_id": import_id,
        "actor_id": actor_id,
    }


# -- one unit at a time (the admin pages and API) ---------------------------------------------------


def edit_unit(
    session: Session,
    code: str,
    *,
    name: str | None = None,
    names: dict[str, str] | None = None,
    parent_code: str | None = None,
    retired: bool | None = None,
    actor_id: str | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Rename, move, retire or restore one unit with the same checks an import makes; returns the
    state before and after (for the audit log)."""
    tree = Tree.load(session)
    old = tree.states.get(code)
    if old is None:
        raise NotFound(f"No org unit {code}.")
    new = replace(
        old,
        name=" ".join(name.split()) if name is not None else old.name,
        names=tuple(sorted((k, " ".join(v.split())) for k, v in names.items() if v.strip()))
        if names is not None
        else old.names,
        parent_code=(parent_code or None) if parent_code is not None else old.parent_code,
        retired=retired if retired is not None else old.retired,
    )
    _check_fields(new)
    if new != old:
        _plan_one(session, new, actor_id)
    return _public(old), _public(new)


def _check_fields(state: UnitState) -> None:
    if not CODE.fullmatch(state.code):
        raise Unprocessable("The code is up to 40 letters, digits, dots and dashes.", field="code")
    if state.kind not in LEVELS:
        raise Unprocessable(f"The kind is one of {', '.join(LEVELS)}.", field="kind")
    if not state.name or len(state.name) > 200 or any(len(v) > 200 for _, v in state.names):
        raise Unprocessable("A name is required, up to 200 characters.", field="name")
    if unknown := set(dict(state.names)) - set(NAME_LANGS):
        raise Unprocessable(f"No such language: {', '.join(sorted(unknown))}.", field="names")


def _plan_one(session: Session, state: UnitState, actor_id: str | None) -> None:
    outcome = Outcome("org-units")
    planned = plan_units(session, [(1, state)], outcome)
    if outcome.errors:
        error = outcome.errors[0]
        raise Conflict(f"{error.column}: {error.reason}.", field=error.column)
    apply_units(session, planned, import_id=None, actor_id=actor_id)


def create_unit(session: Session, state: UnitState, *, actor_id: str | None) -> dict[str, Any]:
    _check_fields(state)
    if repository.unit_by_code(session, state.code) is not None:
        raise Conflict(f"There is already an org unit {state.code}.", field="code")
    _plan_one(session, state, actor_id)
    return _public(state)


def export_unit_rows(session: Session) -> Iterator[list[str]]:
    """Every unit, parents first, as the file's row (the export an unchanged import leaves unchanged)."""
    tree = Tree.load(session)
    for code in sorted(tree.states, key=lambda c: (tree.path(c).count("/"), tree.path(c))):
        yield tree.states[code].row()

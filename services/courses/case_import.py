"""Importing a competency framework from a CASE 1.1 package (docs/adr/0008, docs/adr/0018): a pure
plan, which makes every check and either refuses the package (every problem, by field and item) or
lists the rows to write, and a thin apply that writes them. All or nothing: a refused package changes
nothing.

Nothing is dropped silently: the document, items and associations are kept verbatim (the fields
1EdTech's package schema allows); what the schema does not allow (OpenSALT's `CFDocumentURI` on
items, CASE 1.0 fields), null values, and date-times without a time zone (read as UTC) come back as
warnings with the 201.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session

from libs.errors import Conflict
from services.courses import repository
from services.courses.case import (
    ASSOCIATION_FIELDS,
    CHILD_OF,
    DERIVATION,
    DOCUMENT_FIELDS,
    EDITED,
    ITEM_FIELDS,
    KINDS,
    LEGACY_DERIVED_FROM,
    SAME,
    CFAssociation,
    CFDocument,
    CFItem,
    CFPackage,
    problems_error,
    ustaz_document,
    ustaz_item,
)
from services.courses.models import Framework, FrameworkAssociation, FrameworkItem

UNPLACED = 10**9  # the position of an item without extensions.ustaz.position: after every placed one
# Text fields 1EdTech's schema requires of definitions (CFItemType, CFConcept, CFSubject, CFLicense).
REQUIRED_TEXT = frozenset({"title", "description", "hierarchyCode", "licenseText"})
NAIVE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$")


@dataclass(frozen=True)
class Problem:
    field: str  # where, e.g. CFItems.3.humanCodingScheme
    item: str  # the identifier of the item or association it is about
    message: str


@dataclass(frozen=True)
class Refused:
    """422: the package's problems, every one found."""

    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Exists:
    """409: a framework with the package's identifier or code is stored already, or (`taken`) some of
    its items or associations are stored in another framework."""

    identifier: str
    code: str
    taken: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """The rows a package becomes: the framework, its items with parents before children, every
    association, and what was left out or read differently (warnings)."""

    framework: Framework
    derived_from: str | None  # extensions.ustaz.derivedFrom: the original framework, linked if stored
    items: tuple[FrameworkItem, ...]
    associations: tuple[FrameworkAssociation, ...]
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Tree:
    """What the associations say: each item's parent (None: the document), its place among its
    siblings, and the item it was derived from."""

    parent: dict[str, str | None]
    order: dict[str, int]
    derived: dict[str, str]


def framework_code(doc: CFDocument) -> str:
    """Ours (extensions.ustaz.code), else made from the title and the identifier."""
    title = re.sub(r"[^A-Za-z0-9]+", "-", doc.title).strip("-")[:50]
    return ustaz_document(doc).code or title + "-" + doc.identifier[:8]


def _code(item: CFItem) -> str:
    return item.humanCodingScheme or item.identifier


def check_items(items: list[CFItem]) -> list[Problem]:
    """Identifiers unique, codes unique (Ustaz names items by code). Any CFItemType is accepted."""
    ids = Counter(i.identifier for i in items)
    codes = Counter(_code(i) for i in items)
    problems = [
        Problem(f"CFItems.{n}.identifier", item.identifier, "duplicate")
        for n, item in enumerate(items)
        if ids[item.identifier] > 1
    ]
    problems += [
        Problem(
            f"CFItems.{n}.humanCodingScheme",
            item.identifier,
            f"code {_code(item)!r} is used by more than one item",
        )
        for n, item in enumerate(items)
        if codes[_code(item)] > 1
    ]
    return problems


def _child_problem(n: int, assoc: CFAssociation, items: set[str], document: str) -> Problem | None:
    origin, dest = assoc.originNodeURI.identifier, assoc.destinationNodeURI.identifier
    if origin not in items:
        return Problem(
            f"CFAssociations.{n}.originNodeURI", assoc.identifier, f"no CFItem {origin} in the package"
        )
    if dest != document and dest not in items:
        message = f"no CFItem or CFDocument {dest} in the package"
        return Problem(f"CFAssociations.{n}.destinationNodeURI", assoc.identifier, message)
    return None


def read_tree(package: CFPackage) -> tuple[Tree, list[Problem]]:
    """The tree from the isChildOf associations (both ends must be in the package; a later one of an
    item overrides an earlier one) and the derivation links of its items: exactMatchOf / isRelatedTo
    to an item outside the package when the document says it is derived (extensions.ustaz.derivedFrom),
    or Ustaz's former isDerivedFrom. Every association is kept whatever its type."""
    items = {i.identifier for i in package.CFItems}
    document = package.CFDocument.identifier
    derived_doc = ustaz_document(package.CFDocument).derivedFrom is not None
    tree, problems = Tree({}, {}, {}), []
    for n, assoc in enumerate(package.CFAssociations):
        origin, dest = assoc.originNodeURI.identifier, assoc.destinationNodeURI.identifier
        if assoc.associationType == CHILD_OF:
            problem = _child_problem(n, assoc, items, document)
            if problem:
                problems.append(problem)
            else:
                tree.parent[origin] = None if dest == document else dest
                tree.order[origin] = assoc.sequenceNumber or 0
            continue
        derivation = assoc.associationType == LEGACY_DERIVED_FROM or (
            derived_doc and assoc.associationType in DERIVATION
        )
        if derivation and origin in items and dest not in items:
            tree.derived.setdefault(origin, dest)
    return tree, problems


def depths(items: list[CFItem], parent: dict[str, str | None]) -> dict[str, int] | Problem:
    """Each item's depth in the tree (0: under the document), or the isChildOf cycle found first."""
    depth = {}
    for item in items:
        identifier, seen, d = item.identifier, set(), 0
        while (p := parent.get(identifier)) is not None:
            if p in seen:
                return Problem("CFAssociations", identifier, "isChildOf cycle")
            seen.add(p)
            identifier, d = p, d + 1
        depth[item.identifier] = d
    return depth


class Kept:
    """Records as 1EdTech's package schema allows them, and the warnings of what had to go."""

    def __init__(self) -> None:
        self.warnings: Counter[tuple[str, str]] = Counter()

    def record(self, data: dict[str, Any], allowed: frozenset[str] | None, where: str) -> dict[str, Any]:
        kept: dict[str, Any] = {}
        for key, value in data.items():
            if allowed is not None and key not in allowed:
                self.warnings[(f"{where}.{key}", "not in the CASE 1.1 package schema; not kept")] += 1
            elif value is None and where.startswith("CFDefinitions") and key in REQUIRED_TEXT:
                self.warnings[
                    (f"{where}.{key}", "null; written as an empty string (the schema requires it)")
                ] += 1
                kept[key] = ""
            elif value is None:
                self.warnings[(f"{where}.{key}", "null; not kept")] += 1
            elif key in ("lastChangeDateTime",) and isinstance(value, str) and NAIVE.match(value):
                self.warnings[(f"{where}.{key}", "no time zone; read as UTC")] += 1
                kept[key] = value + ("+00:00" if value.count(":") == 2 else ":00+00:00")
            elif isinstance(value, dict) and key != "extensions":
                kept[key] = self.record(value, None, f"{where}.{key}")
            elif isinstance(value, list):
                kept[key] = [
                    self.record(v, None, f"{where}.{key}[]") if isinstance(v, dict) else v for v in value
                ]
            else:
                kept[key] = value
        return kept

    def problems(self) -> tuple[Problem, ...]:
        return tuple(
            Problem(field, f"{count} record(s)", message)
            for (field, message), count in sorted(self.warnings.items())
        )


def _dump(model: Any) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json", exclude_unset=True)
    return data


def _rows(package: CFPackage, tree: Tree, depth: dict[str, int], kept: Kept) -> tuple[FrameworkItem, ...]:
    """Positions from extensions.ustaz.position, else by depth and sequenceNumber; a kind from a
    CFItemType of ours, else from the depth. Written parents first, so the self-referencing foreign key
    holds on every database."""

    def place(item: CFItem) -> tuple[int, int, int]:
        position = ustaz_item(item).position
        return (
            position if position is not None else UNPLACED,
            depth[item.identifier],
            tree.order.get(item.identifier, 0),
        )

    order = {item.identifier: n for n, item in enumerate(package.CFItems)}
    rows = []
    for position, item in enumerate(sorted(package.CFItems, key=place)):
        typed = (item.CFItemType or "").lower()
        rows.append(
            FrameworkItem(
                id=item.identifier,
                framework_id=package.CFDocument.identifier,
                parent_id=tree.parent.get(item.identifier),
                kind=typed if typed in KINDS else KINDS[min(depth[item.identifier], 2)],
                code=_code(item),
                title=item.fullStatement,
                level=ustaz_item(item).level,
                position=position,
                retired=item.statusEndDate is not None,
                derived_from_id=tree.derived.get(item.identifier),
                item_type=item.CFItemType,
                last_change=item.lastChangeDateTime,
                package_order=order[item.identifier],
                case_item=kept.record(_dump(item), ITEM_FIELDS, f"CFItems.{order[item.identifier]}"),
            )
        )
    return tuple(sorted(rows, key=lambda row: depth[row.id]))


def _associations(package: CFPackage, kept: Kept) -> tuple[FrameworkAssociation, ...]:
    statements = {i.identifier: i.fullStatement for i in package.CFItems}
    rows = []
    for n, assoc in enumerate(package.CFAssociations):
        data = kept.record(_dump(assoc), ASSOCIATION_FIELDS, f"CFAssociations.{n}")
        kind = assoc.associationType
        if kind == LEGACY_DERIVED_FROM:  # not CASE: written as CASE has it
            same = statements.get(assoc.originNodeURI.identifier) == assoc.destinationNodeURI.title
            kind = data["associationType"] = SAME if same else EDITED
            kept.warnings[
                (f"CFAssociations.{n}.associationType", f"isDerivedFrom (not CASE) kept as {kind}")
            ] += 1
        rows.append(
            FrameworkAssociation(
                id=assoc.identifier,
                framework_id=package.CFDocument.identifier,
                association_type=kind,
                origin_id=assoc.originNodeURI.identifier,
                destination_id=assoc.destinationNodeURI.identifier,
                sequence_number=assoc.sequenceNumber,
                package_order=n,
                last_change=assoc.lastChangeDateTime,
                case_association=data,
            )
        )
    return tuple(rows)


def _framework(package: CFPackage, code: str, kept: Kept) -> Framework:
    doc = package.CFDocument
    stored: dict[str, Any] = {"CFDocument": kept.record(_dump(doc), DOCUMENT_FIELDS, "CFDocument")}
    if package.CFDefinitions is not None:
        stored["CFDefinitions"] = kept.record(package.CFDefinitions, None, "CFDefinitions")
    if package.CFRubrics is not None:
        stored["CFRubrics"] = [kept.record(r, None, "CFRubrics[]") for r in package.CFRubrics]
    if package.extensions is not None:
        stored["extensions"] = package.extensions
    return Framework(
        id=doc.identifier,
        code=code,
        title=doc.title,
        language=(doc.language or "en")[:10],
        note=doc.notes or "",
        last_change=stored["CFDocument"]["lastChangeDateTime"],
        case_package=stored,
    )


def plan_import(
    package: CFPackage, *, stored: bool, taken: frozenset[str] = frozenset()
) -> Plan | Refused | Exists:
    """Every check, in order: the items and associations (all their problems at once), that the
    framework is new (`stored`: one with its identifier or code is stored already; `taken`: identifiers
    of the package stored in another framework), that the tree has no cycle; then the rows."""
    tree, tree_problems = read_tree(package)
    problems = check_items(package.CFItems) + tree_problems
    if problems:
        return Refused(tuple(problems))
    doc, code = package.CFDocument, framework_code(package.CFDocument)
    if stored or taken:
        return Exists(doc.identifier, code, tuple(sorted(taken)))
    depth = depths(package.CFItems, tree.parent)
    if isinstance(depth, Problem):
        return Refused((depth,))
    kept = Kept()
    framework = _framework(package, code, kept)
    items, associations = _rows(package, tree, depth, kept), _associations(package, kept)
    return Plan(framework, ustaz_document(doc).derivedFrom, items, associations, kept.problems())


def import_package(session: Session, package: CFPackage) -> tuple[Framework, list[dict[str, str]]]:
    """Create the framework of a CASE package: all of it, or nothing (422 listing every problem)."""
    doc = package.CFDocument
    stored = repository.framework(session, doc.identifier) is not None
    stored = stored or repository.framework_by_code(session, framework_code(doc)) is not None
    ids = [i.identifier for i in package.CFItems] + [a.identifier for a in package.CFAssociations]
    plan = plan_import(package, stored=stored, taken=frozenset(repository.taken_case_ids(session, ids)))
    if isinstance(plan, Refused):
        raise problems_error([asdict(p) for p in plan.problems])
    if isinstance(plan, Exists):
        if plan.taken:
            raise Conflict(
                f"{len(plan.taken)} identifier(s) of the package belong to another framework here.",
                identifiers=list(plan.taken[:50]),
            )
        raise Conflict(f"The framework {plan.identifier} ({plan.code}) exists already.")
    return apply(session, plan), [asdict(w) for w in plan.warnings]


def apply(session: Session, plan: Plan) -> Framework:
    framework = plan.framework
    if plan.derived_from and repository.framework(session, plan.derived_from):
        framework.derived_from_id = plan.derived_from
    session.add(framework)
    session.flush()
    for row in plan.items:
        session.add(row)
        session.flush()
    session.add_all(plan.associations)
    session.flush()
    return framework

"""Importing a competency framework from a CASE 1.1 package (docs/adr/0008): a pure plan, which makes
every check and either refuses the package (every problem, by field and item) or lists the rows to
write, and a thin apply that writes them. All or nothing: a refused package changes nothing."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session

from libs.errors import Conflict
from services.courses import repository
from services.courses.case import (
    CHILD_OF,
    DERIVED_FROM,
    ITEM_TYPES,
    KINDS,
    CFDocument,
    CFItem,
    CFPackage,
    problems_error,
)
from services.courses.models import Framework, FrameworkItem

UNPLACED = 10**9  # the position of an item without extensions.ustaz.position: after every placed one


@dataclass(frozen=True)
class Problem:
    field: str  # where, e.g. CFItems.3.CFItemType
    item: str  # the identifier of the item or association it is about
    message: str


@dataclass(frozen=True)
class Refused:
    """422: the package's problems, every one found."""

    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Exists:
    """409: a framework with the package's identifier or code is stored already."""

    identifier: str
    code: str


@dataclass(frozen=True)
class Plan:
    """The rows a package becomes: the framework, and its items with parents before children."""

    framework: Framework
    derived_from: Any  # extensions.ustaz.derivedFrom: the original framework, linked if it is stored
    items: tuple[FrameworkItem, ...]


@dataclass(frozen=True)
class Tree:
    """What the associations say: each item's parent (None: the document), its place among its
    siblings, and the item it was derived from."""

    parent: dict[str, str | None]
    order: dict[str, int]
    derived: dict[str, str]


def _ustaz(extensions: dict[str, Any] | None) -> Any:
    """Our own extension (what CASE has no field for); packages from other tools have none."""
    return (extensions or {}).get("ustaz") or {}


def framework_code(doc: CFDocument) -> str:
    """Ours (extensions.ustaz.code), else made from the title and the identifier."""
    title = re.sub(r"[^A-Za-z0-9]+", "-", doc.title).strip("-")[:50]
    return str(_ustaz(doc.extensions).get("code") or title + "-" + doc.identifier[:8])


def _code(item: CFItem) -> str:
    return item.humanCodingScheme or item.identifier[:8]


def check_items(items: list[CFItem]) -> list[Problem]:
    """Identifiers unique, item types ours, codes unique."""
    ids = [i.identifier for i in items]
    codes = [_code(i) for i in items]
    expected = ", ".join(ITEM_TYPES.values())
    problems = []
    for n, item in enumerate(items):
        if ids.count(item.identifier) > 1:
            problems.append(Problem(f"CFItems.{n}.identifier", item.identifier, "duplicate"))
        if item.CFItemType and item.CFItemType.lower() not in ITEM_TYPES:
            message = f"expected one of {expected}, got {item.CFItemType!r}"
            problems.append(Problem(f"CFItems.{n}.CFItemType", item.identifier, message))
    problems += [
        Problem(
            f"CFItems.{n}.humanCodingScheme",
            item.identifier,
            f"code {codes[n]!r} is used by more than one item",
        )
        for n, item in enumerate(items)
        if codes.count(codes[n]) > 1
    ]
    return problems


def read_tree(package: CFPackage) -> tuple[Tree, list[Problem]]:
    """The tree from the isChildOf associations (both ends must be in the package) and the
    isDerivedFrom links of its items (their originals may live elsewhere). Other types are accepted
    and not kept; a later association of an item overrides an earlier one."""
    items = {i.identifier for i in package.CFItems}
    document = package.CFDocument.identifier
    tree, problems = Tree({}, {}, {}), []
    for n, assoc in enumerate(package.CFAssociations):
        origin, dest = assoc.originNodeURI.identifier, assoc.destinationNodeURI.identifier
        if assoc.associationType == CHILD_OF:
            if origin not in items:
                problems.append(
                    Problem(
                        f"CFAssociations.{n}.originNodeURI",
                        assoc.identifier,
                        f"no CFItem {origin} in the package",
                    )
                )
            elif dest != document and dest not in items:
                message = f"no CFItem or CFDocument {dest} in the package"
                problems.append(Problem(f"CFAssociations.{n}.destinationNodeURI", assoc.identifier, message))
            else:
                tree.parent[origin] = None if dest == document else dest
                tree.order[origin] = assoc.sequenceNumber or 0
        elif assoc.associationType == DERIVED_FROM and origin in items:
            tree.derived[origin] = dest
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


def _rows(package: CFPackage, tree: Tree, depth: dict[str, int]) -> tuple[FrameworkItem, ...]:
    """Positions from extensions.ustaz.position, else by depth and sequenceNumber; a kind from the
    CFItemType, else from the depth. Written parents first, so the self-referencing foreign key holds
    on every database."""

    def place(item: CFItem) -> tuple[int, int, int]:
        position = _ustaz(item.extensions).get("position")
        return (
            position if isinstance(position, int) else UNPLACED,
            depth[item.identifier],
            tree.order.get(item.identifier, 0),
        )

    rows = [
        FrameworkItem(
            id=item.identifier,
            framework_id=package.CFDocument.identifier,
            parent_id=tree.parent.get(item.identifier),
            kind=item.CFItemType.lower() if item.CFItemType else KINDS[min(depth[item.identifier], 2)],
            code=_code(item),
            title=item.fullStatement,
            level=_ustaz(item.extensions).get("level"),
            position=position,
            retired=item.statusEndDate is not None,
            derived_from_id=tree.derived.get(item.identifier),
        )
        for position, item in enumerate(sorted(package.CFItems, key=place))
    ]
    return tuple(sorted(rows, key=lambda row: depth[row.id]))


def plan_import(package: CFPackage, *, stored: bool) -> Plan | Refused | Exists:
    """Every check, in order: the items and associations (all their problems at once), that the
    framework is new (`stored`: one with its identifier or code is stored already), that the tree has
    no cycle; then the rows."""
    tree, tree_problems = read_tree(package)
    problems = check_items(package.CFItems) + tree_problems
    if problems:
        return Refused(tuple(problems))
    doc, code = package.CFDocument, framework_code(package.CFDocument)
    if stored:
        return Exists(doc.identifier, code)
    depth = depths(package.CFItems, tree.parent)
    if isinstance(depth, Problem):
        return Refused((depth,))
    framework = Framework(
        id=doc.identifier, code=code, title=doc.title, language=doc.language or "en", note=doc.notes or ""
    )
    return Plan(framework, _ustaz(doc.extensions).get("derivedFrom"), _rows(package, tree, depth))


def import_package(session: Session, package: CFPackage) -> Framework:
    """Create the framework of a CASE package: all of it, or nothing (422 listing every problem)."""
    doc = package.CFDocument
    stored = repository.framework(session, doc.identifier) is not None
    stored = stored or repository.framework_by_code(session, framework_code(doc)) is not None
    plan = plan_import(package, stored=stored)
    if isinstance(plan, Refused):
        raise problems_error([asdict(p) for p in plan.problems])
    if isinstance(plan, Exists):
        raise Conflict(f"The framework {plan.identifier} ({plan.code}) exists already.")
    return apply(session, plan)


def apply(session: Session, plan: Plan) -> Framework:
    framework = plan.framework
    if plan.derived_from and repository.framework(session, plan.derived_from):
        framework.derived_from_id = plan.derived_from
    session.add(framework)
    session.flush()
    for row in plan.items:
        session.add(row)
        session.flush()
    return framework

"""Competency frameworks as 1EdTech CASE 1.1 packages (CFPackage: CFDocument, CFItems, CFAssociations).

Mapping (see docs/adr/0008-case-frameworks.md): a framework is a CFDocument; aspects, competencies and
indicators are CFItems (CFItemType "Aspect"/"Competency"/"Indicator", humanCodingScheme = our code,
fullStatement = our title); the tree is `isChildOf` associations ordered by sequenceNumber; an item of a
derived framework carries `isDerivedFrom` to the original item; a retired indicator has a statusEndDate.
What CASE has no field for (the framework's code, an item's level) travels in `extensions.ustaz`.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session

from libs.errors import Conflict, NotFound, Unprocessable
from services.courses import repository
from services.courses.models import Framework, FrameworkItem, new_id

# The CASE vocabulary Ustaz reads and writes, in one place (docs/adr/0008). Our item kinds and their
# CFItemType, in tree order (depth 0, 1, 2); every CASE 1.1 association type is accepted, and two are
# kept: the tree (isChildOf) and derivation (isDerivedFrom).
ITEM_TYPES = {"aspect": "Aspect", "competency": "Competency", "indicator": "Indicator"}
KINDS = tuple(ITEM_TYPES)
AssociationType = Literal[
    "isChildOf",
    "isPeerOf",
    "isPartOf",
    "exactMatchOf",
    "precedes",
    "isRelatedTo",
    "replacedBy",
    "exemplar",
    "hasSkillLevel",
    "isDerivedFrom",
]
CHILD_OF: AssociationType = "isChildOf"
DERIVED_FROM: AssociationType = "isDerivedFrom"
EPOCH = "2026-01-01T00:00:00+00:00"


class LinkURI(BaseModel):
    title: str = Field(min_length=1)
    identifier: str = Field(min_length=1, max_length=36)
    uri: str = Field(min_length=1)


class CFDocument(BaseModel):
    model_config = ConfigDict(extra="allow")
    identifier: str = Field(min_length=1, max_length=36)
    uri: str = Field(min_length=1)
    creator: str = Field(min_length=1)
    title: str = Field(min_length=1, max_length=300)
    lastChangeDateTime: str
    language: str = Field("en", max_length=10)
    notes: str | None = None
    extensions: dict[str, Any] | None = None


class CFItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    identifier: str = Field(min_length=1, max_length=36)
    uri: str = Field(min_length=1)
    fullStatement: str = Field(min_length=1, max_length=500)
    lastChangeDateTime: str
    humanCodingScheme: str | None = Field(None, max_length=40)
    CFItemType: str | None = None
    language: str | None = None
    statusEndDate: str | None = None
    CFDocumentURI: LinkURI | None = None
    extensions: dict[str, Any] | None = None


class CFAssociation(BaseModel):
    model_config = ConfigDict(extra="allow")
    identifier: str = Field(min_length=1)
    uri: str = Field(min_length=1)
    associationType: AssociationType
    originNodeURI: LinkURI
    destinationNodeURI: LinkURI
    lastChangeDateTime: str
    sequenceNumber: int | None = None


class CFPackage(BaseModel):
    model_config = ConfigDict(extra="allow")
    CFDocument: CFDocument
    CFItems: list[CFItem] = []
    CFAssociations: list[CFAssociation] = []


def _uri(base: str, kind: str, identifier: str) -> str:
    return f"{base}/api/v1/courses/frameworks/case/{kind}/{identifier}"


def _link(base: str, kind: str, identifier: str, title: str) -> dict[str, str]:
    return {"title": title, "identifier": identifier, "uri": _uri(base, kind, identifier)}


def export_package(session: Session, code: str, base: str) -> dict[str, Any]:
    framework = repository.framework_by_code(session, code)
    if framework is None:
        raise NotFound(f"No framework {code}.")
    items = repository.framework_items(session, framework.id)
    by_id = {i.id: i for i in items}
    originals = repository.framework_items_by_ids(
        session, [i.derived_from_id for i in items if i.derived_from_id]
    )
    doc_link = _link(base, "CFDocuments", framework.id, framework.title)
    document: dict[str, Any] = {
        "identifier": framework.id,
        "uri": doc_link["uri"],
        "creator": "Ustaz",
        "title": framework.title,
        "lastChangeDateTime": EPOCH,
        "language": framework.language,
        "notes": framework.note,
        "extensions": {"ustaz": {"code": framework.code, "derivedFrom": framework.derived_from_id}},
    }
    cf_items, associations = [], []
    siblings: dict[str | None, int] = {}
    for item in items:
        cf: dict[str, Any] = {
            "identifier": item.id,
            "uri": _uri(base, "CFItems", item.id),
            "fullStatement": item.title,
            "humanCodingScheme": item.code,
            "CFItemType": ITEM_TYPES[item.kind],
            "language": framework.language,
            "lastChangeDateTime": EPOCH,
            "CFDocumentURI": doc_link,
            "extensions": {"ustaz": {"level": item.level, "position": item.position}},
        }
        if item.retired:
            cf["statusEndDate"] = date(2026, 1, 1).isoformat()
        cf_items.append(cf)
        parent = by_id.get(item.parent_id or "")
        siblings[item.parent_id] = siblings.get(item.parent_id, 0) + 1
        destination = _link(base, "CFItems", parent.id, parent.title) if parent else doc_link
        associations.append(
            {
                "identifier": new_assoc_id(item.id, CHILD_OF),
                "uri": _uri(base, "CFAssociations", item.id + "c"),
                "associationType": CHILD_OF,
                "originNodeURI": _link(base, "CFItems", item.id, item.title),
                "destinationNodeURI": destination,
                "lastChangeDateTime": EPOCH,
                "sequenceNumber": siblings[item.parent_id],
                "CFDocumentURI": doc_link,
            }
        )
        if item.derived_from_id:
            original = originals.get(item.derived_from_id)
            # The original may live only on another platform (an imported national framework).
            title = original.title if original else f"{item.code} (original framework)"
            associations.append(
                {
                    "identifier": new_assoc_id(item.id, DERIVED_FROM),
                    "uri": _uri(base, "CFAssociations", item.id + "d"),
                    "associationType": DERIVED_FROM,
                    "originNodeURI": _link(base, "CFItems", item.id, item.title),
                    "destinationNodeURI": _link(base, "CFItems", item.derived_from_id, title),
                    "lastChangeDateTime": EPOCH,
                    "CFDocumentURI": doc_link,
                }
            )
    return {"CFDocument": document, "CFItems": cf_items, "CFAssociations": associations}


def new_assoc_id(item_id: str, kind: str) -> str:
    """Stable association ids, so an export of the same framework is byte-identical (ETag-friendly)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ustaz:{kind}:{item_id}"))


def problems_error(errors: list[dict[str, str]]) -> Unprocessable:
    """422 listing every problem of a package, each as {field, item, message}."""
    return Unprocessable(f"{len(errors)} problem(s) in the CASE package", errors=errors)


def parse_package(data: Any) -> CFPackage:
    """Validate the shape; 422 naming the item (by identifier where it has one) and the field."""
    try:
        return CFPackage.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors(include_url=False, include_input=False):
            loc = list(err["loc"])
            item = None
            if len(loc) >= 2 and loc[0] in ("CFItems", "CFAssociations") and isinstance(loc[1], int):
                entries = data.get(loc[0]) if isinstance(data, dict) else None
                entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
                item = entry.get("identifier") if isinstance(entry, dict) else None
            errors.append(
                {
                    "field": ".".join(str(p) for p in loc),
                    "item": item or "(no identifier)",
                    "message": err["msg"],
                }
            )
        raise problems_error(errors) from exc


class IndicatorEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=40)
    title: str = Field(min_length=1, max_length=500)


class IndicatorAdd(IndicatorEdit):
    parent_code: str = Field(max_length=40)


class DeriveRequest(BaseModel):
    """A national framework from an international one: copy everything, then edit, add and retire."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{1,59}$")
    title: str = Field(min_length=1, max_length=300)
    language: str = Field("en", max_length=10)
    edit: list[IndicatorEdit] = []
    add: list[IndicatorAdd] = []
    retire: list[str] = []


def derive(session: Session, source_code: str, request: DeriveRequest) -> Framework:
    source = repository.framework_by_code(session, source_code)
    if source is None:
        raise NotFound(f"No framework {source_code}.")
    if repository.framework_by_code(session, request.code) is not None:
        raise Conflict(f"A framework {request.code} exists already.")
    items = repository.framework_items(session, source.id)
    by_code = {i.code: i for i in items}
    errors = [
        {"field": f"edit.{n}.code", "item": e.code, "message": "no such item"}
        for n, e in enumerate(request.edit)
        if e.code not in by_code
    ]
    errors += [
        {"field": f"retire.{n}", "item": c, "message": "no such indicator"}
        for n, c in enumerate(request.retire)
        if by_code.get(c) is None or by_code[c].kind != "indicator"
    ]
    errors += [
        {"field": f"add.{n}.parent_code", "item": a.code, "message": "no such competency"}
        for n, a in enumerate(request.add)
        if by_code.get(a.parent_code) is None or by_code[a.parent_code].kind != "competency"
    ]
    errors += [
        {"field": f"add.{n}.code", "item": a.code, "message": "code already used"}
        for n, a in enumerate(request.add)
        if a.code in by_code
    ]
    if errors:
        raise Unprocessable(f"{len(errors)} problem(s) in the derivation", errors=errors)
    framework = Framework(
        code=request.code,
        title=request.title,
        language=request.language,
        derived_from_id=source.id,
        note=f"Derived from {source.code}.",
    )
    session.add(framework)
    session.flush()
    edits = {e.code: e.title for e in request.edit}
    new_ids = {i.id: new_id() for i in items}
    copies = [
        FrameworkItem(
            id=new_ids[i.id],
            framework_id=framework.id,
            parent_id=new_ids[i.parent_id] if i.parent_id else None,
            kind=i.kind,
            code=i.code,
            title=edits.get(i.code, i.title),
            level=i.level,
            position=i.position,
            retired=i.retired or i.code in request.retire,
            derived_from_id=i.id,
        )
        for i in items
    ]
    last = max((i.position for i in items), default=0)
    for n, add in enumerate(request.add, start=1):
        parent = by_code[add.parent_code]
        copies.append(
            FrameworkItem(
                framework_id=framework.id,
                parent_id=new_ids[parent.id],
                kind="indicator",
                code=add.code,
                title=add.title,
                level=parent.level,
                position=last + n,
            )
        )
    for kind in KINDS:  # parents first
        for row in copies:
            if row.kind == kind:
                session.add(row)
        session.flush()
    return framework

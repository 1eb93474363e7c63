"""The CASE 1.1 REST API, provider side, read-only (CASE Service 1.1 REST binding; docs/adr/0018): every
record of every framework by its identifier, in the JSON shapes of 1EdTech's schemas. Public: the
frameworks are open, and every URI a CASE export names resolves here."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from libs.errors import NotFound
from services.courses import repository
from services.courses.case import DEFINITION_KINDS
from services.courses.case_export import (
    Json,
    association_json,
    document_json,
    item_json,
    nodes_of,
    package_of,
)
from services.courses.models import Framework


def unknown(kind: str, identifier: str) -> NotFound:
    """404 as problem+json that also carries the CASE binding's imsx_StatusInfo fields."""
    return NotFound(
        f"No {kind} {identifier}.",
        imsx_codeMajor="failure",
        imsx_severity="error",
        imsx_description=f"Unknown Object: {kind} {identifier}",
        imsx_codeMinor={
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "sourcedId", "imsx_codeMinorFieldValue": "unknownobject"}
            ]
        },
    )


def _framework(session: Session, identifier: str) -> Framework:
    framework = repository.framework(session, identifier)
    if framework is None:
        raise unknown("CFDocument", identifier)
    return framework


def documents(session: Session, base: str, limit: int, offset: int) -> tuple[Json, int]:
    """getAllCFDocuments: a page of documents, and how many there are (X-Total-Count)."""
    rows = repository.frameworks(session)
    page = rows[offset : offset + limit]
    return {"CFDocuments": [document_json(f, base, alone=True) for f in page]}, len(rows)


def document(session: Session, identifier: str, base: str) -> Json:
    return document_json(_framework(session, identifier), base, alone=True)


def package(session: Session, identifier: str, base: str) -> Json:
    return package_of(session, _framework(session, identifier), base)


def item(session: Session, identifier: str, base: str) -> Json:
    row = repository.framework_item(session, identifier)
    if row is None:
        raise unknown("CFItem", identifier)
    framework = repository.framework(session, row.framework_id)
    assert framework is not None
    return item_json(row, framework, base, alone=True)


def association(session: Session, identifier: str, base: str) -> Json:
    row = repository.framework_association(session, identifier)
    if row is None:
        raise unknown("CFAssociation", identifier)
    framework = repository.framework(session, row.framework_id)
    assert framework is not None
    return association_json(row, nodes_of(session, framework, [row]), base, alone=True)


def item_associations(session: Session, identifier: str, base: str) -> Json:
    """getCFItemAssociations: the item and every association it is an end of (any framework)."""
    cf_item = item(session, identifier, base)
    out = []
    rows = repository.item_associations(session, identifier)
    for framework_id in dict.fromkeys(r.framework_id for r in rows):
        framework = repository.framework(session, framework_id)
        assert framework is not None
        mine = [r for r in rows if r.framework_id == framework_id]
        nodes = nodes_of(session, framework, mine)
        out += [association_json(r, nodes, base) for r in mine]
    return {"CFItem": cf_item, "CFAssociations": out}


def _definition(session: Session, kind: str, identifier: str) -> dict[str, Any]:
    for framework in repository.imported_frameworks(session):
        definitions = (framework.case_package or {}).get("CFDefinitions") or {}
        for entry in definitions.get(kind) or []:
            if isinstance(entry, dict) and entry.get("identifier") == identifier:
                return entry
        if kind == "CFRubrics":
            for rubric in (framework.case_package or {}).get("CFRubrics") or []:
                if isinstance(rubric, dict) and rubric.get("identifier") == identifier:
                    return rubric
    raise unknown(kind.removesuffix("s"), identifier)


def definition(session: Session, kind: str, identifier: str) -> Json:
    """CFItemTypes, CFConcepts, CFSubjects (as sets of one, as the binding's set schemas have them),
    CFLicenses, CFAssociationGroupings, CFRubrics (the record itself), from imported packages."""
    entry = _definition(session, kind, identifier)
    if kind in ("CFItemTypes", "CFConcepts", "CFSubjects"):
        return {kind: [entry]}
    return entry


DEFINITIONS = (*DEFINITION_KINDS, "CFRubrics")

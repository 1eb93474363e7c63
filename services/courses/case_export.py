"""CASE 1.1 JSON from the stored rows (docs/adr/0018), for the package export and the CASE REST API.

Records of an imported package are written back as they came (the fields 1EdTech's schema allows, in
the package's order); records made here are built from their columns, with URIs of this platform's
CASE REST API. A record standing alone (REST API) carries what the package leaves implicit: an item's
or association's `CFDocumentURI`, a document's `CFPackageURI`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from libs.errors import NotFound
from services.courses import repository
from services.courses.case import CHILD_OF, ITEM_TYPES, case_uri
from services.courses.models import Framework, FrameworkAssociation, FrameworkItem

CREATOR = "Ustaz"  # the creator of frameworks made (seeded or derived) on this platform
CASE_VERSION = "1.1"
Json = dict[str, Any]


def document_uri(framework: Framework, base: str) -> str:
    stored = (framework.case_package or {}).get("CFDocument")
    return str(stored["uri"]) if stored else case_uri(base, "CFDocuments", framework.id)


def item_uri(item: FrameworkItem, base: str) -> str:
    return str(item.case_item["uri"]) if item.case_item else case_uri(base, "CFItems", item.id)


def link(title: str, identifier: str, uri: str) -> Json:
    return {"title": title, "identifier": identifier, "uri": uri}


def document_link(framework: Framework, base: str) -> Json:
    return link(framework.title, framework.id, document_uri(framework, base))


def document_json(framework: Framework, base: str, *, alone: bool = False) -> Json:
    stored = (framework.case_package or {}).get("CFDocument")
    if stored:
        doc: Json = copy.deepcopy(stored)
    else:
        ustaz: Json = {"code": framework.code}
        if framework.derived_from_id:
            ustaz["derivedFrom"] = framework.derived_from_id
        doc = {
            "identifier": framework.id,
            "uri": case_uri(base, "CFDocuments", framework.id),
            "creator": CREATOR,
            "title": framework.title,
            "lastChangeDateTime": framework.last_change,
            "language": framework.language,
            "caseVersion": CASE_VERSION,
            "extensions": {"ustaz": ustaz},
        }
        if framework.note:
            doc["notes"] = framework.note
    if alone:
        doc["CFPackageURI"] = link(framework.title, framework.id, case_uri(base, "CFPackages", framework.id))
    return doc


def item_json(item: FrameworkItem, framework: Framework, base: str, *, alone: bool = False) -> Json:
    if item.case_item:
        cf: Json = copy.deepcopy(item.case_item)
    else:
        cf = {
            "identifier": item.id,
            "uri": case_uri(base, "CFItems", item.id),
            "fullStatement": item.title,
            "humanCodingScheme": item.code,
            "CFItemType": item.item_type or ITEM_TYPES[item.kind],
            "language": framework.language,
            "lastChangeDateTime": item.last_change,
            "extensions": {"ustaz": {"level": item.level, "position": item.position}},
        }
        if item.retired:
            cf["statusEndDate"] = item.last_change[:10]
    if alone:
        cf["CFDocumentURI"] = document_link(framework, base)
    return cf


@dataclass
class Nodes:
    """What the ends of a framework's associations are: its document, its items, and items of other
    frameworks stored here (the originals of a derived framework)."""

    framework: Framework
    items: dict[str, FrameworkItem]
    others: dict[str, FrameworkItem]

    def link(self, identifier: str, base: str) -> Json:
        if identifier == self.framework.id:
            return document_link(self.framework, base)
        item = self.items.get(identifier) or self.others.get(identifier)
        if item is None:  # an original that lives only on another platform
            return link(identifier, identifier, case_uri(base, "CFItems", identifier))
        return link(item.title, item.id, item_uri(item, base))


def nodes_of(session: Session, framework: Framework, associations: list[FrameworkAssociation]) -> Nodes:
    items = {i.id: i for i in repository.framework_items(session, framework.id)}
    outside = {a.destination_id for a in associations if a.destination_id not in items} | {
        a.origin_id for a in associations if a.origin_id not in items
    }
    outside.discard(framework.id)
    return Nodes(framework, items, repository.framework_items_by_ids(session, sorted(outside)))


def association_json(
    association: FrameworkAssociation, nodes: Nodes, base: str, *, alone: bool = False
) -> Json:
    if association.case_association:
        cf: Json = copy.deepcopy(association.case_association)
    else:
        cf = {
            "identifier": association.id,
            "uri": case_uri(base, "CFAssociations", association.id),
            "associationType": association.association_type,
            "originNodeURI": nodes.link(association.origin_id, base),
            "destinationNodeURI": nodes.link(association.destination_id, base),
            "lastChangeDateTime": association.last_change,
        }
        if association.association_type == CHILD_OF and association.sequence_number is not None:
            cf["sequenceNumber"] = association.sequence_number
    if alone:
        cf["CFDocumentURI"] = document_link(nodes.framework, base)
    return cf


def package_of(session: Session, framework: Framework, base: str) -> Json:
    """The framework as a CFPackage, valid against 1EdTech's CASE 1.1 package schema."""
    associations = repository.framework_associations(session, framework.id)
    nodes = nodes_of(session, framework, associations)
    items = sorted(nodes.items.values(), key=lambda i: (i.package_order, i.position))
    package: Json = {
        "CFDocument": document_json(framework, base),
        "CFItems": [item_json(i, framework, base) for i in items],
        "CFAssociations": [association_json(a, nodes, base) for a in associations],
    }
    for key in ("CFDefinitions", "CFRubrics", "extensions"):
        if key in (framework.case_package or {}):
            package[key] = copy.deepcopy((framework.case_package or {})[key])
    return package


def export_package(session: Session, code: str, base: str) -> Json:
    framework = repository.framework_by_code(session, code)
    if framework is None:
        raise NotFound(f"No framework {code}.")
    return package_of(session, framework, base)

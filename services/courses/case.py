"""Competency frameworks as 1EdTech CASE 1.1 (docs/adr/0008, docs/adr/0018): the CASE vocabulary Ustaz
reads and writes, in one place, the URI scheme of the CASE REST API, and the shape an imported package
must have (`parse_package`, 422 per field). Building CASE JSON from rows is case_export.py, importing
case_import.py, deriving a national framework case_derive.py.

A framework is a CFDocument; its items are CFItems (CFItemType free text: Ustaz reads "Aspect",
"Competency" and "Indicator" as its own kinds and any other type by depth); every CFAssociation is kept
as a row, of every type CASE defines and `ext:` ones. What CASE has no field for (the framework's code,
an item's level and position) travels in `extensions.ustaz`.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from libs.errors import Unprocessable

# Our item kinds and their CFItemType, in tree order (depth 0, 1, 2).
ITEM_TYPES = {"aspect": "Aspect", "competency": "Competency", "indicator": "Indicator"}
KINDS = tuple(ITEM_TYPES)
# Every association type CASE 1.1 defines (the CFPckgAssociation enumeration); `ext:` types are
# allowed too (EXT_TYPE). `isDerivedFrom` is not CASE: Ustaz wrote it before 2026-12 and reads it as
# derivation (case_import turns it into exactMatchOf / isRelatedTo).
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
    "isTranslationOf",
]
ASSOCIATION_TYPES: tuple[str, ...] = get_args(AssociationType)
EXT_TYPE = re.compile(r"(ext:)[a-z|A-Z|0-9|.|\-|_]+")  # the pattern of 1EdTech's schema
LEGACY_DERIVED_FROM = "isDerivedFrom"
CHILD_OF = "isChildOf"
# Derivation, expressed as CASE allows: the copy is an exact match of the original, or related to it
# when its statement was edited.
SAME, EDITED = "exactMatchOf", "isRelatedTo"
DERIVATION = (SAME, EDITED)

# The fields 1EdTech's CASE 1.1 package schema allows (CFPckgDocument, CFPckgItem, CFPckgAssociation).
# An import keeps exactly these, verbatim; anything else is dropped with a warning.
DOCUMENT_FIELDS = frozenset(
    "identifier uri frameworkType caseVersion creator title lastChangeDateTime officialSourceURL "
    "publisher description subject subjectURI language version adoptionStatus statusStartDate "
    "statusEndDate licenseURI notes extensions".split()
)
ITEM_FIELDS = frozenset(
    "identifier fullStatement alternativeLabel CFItemType uri humanCodingScheme listEnumeration "
    "abbreviatedStatement conceptKeywords conceptKeywordsURI notes subject subjectURI language "
    "educationLevel CFItemTypeURI licenseURI statusStartDate statusEndDate lastChangeDateTime "
    "extensions".split()
)
ASSOCIATION_FIELDS = frozenset(
    "identifier associationType sequenceNumber uri originNodeURI destinationNodeURI "
    "CFAssociationGroupingURI lastChangeDateTime notes extensions".split()
)
DEFINITION_KINDS = ("CFConcepts", "CFSubjects", "CFLicenses", "CFItemTypes", "CFAssociationGroupings")

# The CASE REST API (CASE Service 1.1 REST binding: every path under /ims/case/v1p1).
API_ROOT = "/ims/case/v1p1"
EPOCH = "2026-01-01T00:00:00+00:00"  # the date of records made before dates were kept


def case_uri(base: str, kind: str, identifier: str) -> str:
    """Where the CASE REST API serves a record, e.g. `{public}/ims/case/v1p1/CFItems/{identifier}`:
    the URI of every record made here, and what certificates align to (a page for people, CASE JSON
    for machines)."""
    return f"{base}{API_ROOT}/{kind}/{identifier}"


def new_assoc_id(item_id: str, kind: str) -> str:
    """Stable ids for associations made here, so the same framework exports to the same bytes."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ustaz:{kind}:{item_id}"))


def known_association_type(value: str) -> bool:
    return value in ASSOCIATION_TYPES or bool(EXT_TYPE.fullmatch(value)) or value == LEGACY_DERIVED_FROM


class LinkURI(BaseModel):
    model_config = ConfigDict(extra="allow")
    title: str = ""
    identifier: str = Field(min_length=1, max_length=255)
    uri: str = Field(min_length=1)


class UstazDocument(BaseModel):
    """Our own extension of a CFDocument (what CASE has no field for)."""

    model_config = ConfigDict(extra="allow")
    code: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{1,59}$")
    derivedFrom: str | None = Field(None, min_length=1, max_length=36)


class UstazItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    level: str | None = Field(None, max_length=60)
    position: int | None = None


class DocumentExtensions(BaseModel):
    model_config = ConfigDict(extra="allow")
    ustaz: UstazDocument | None = None


class ItemExtensions(BaseModel):
    model_config = ConfigDict(extra="allow")
    ustaz: UstazItem | None = None


class CFDocument(BaseModel):
    model_config = ConfigDict(extra="allow")
    identifier: str = Field(min_length=1, max_length=36)
    uri: str = Field(min_length=1)
    creator: str = Field(min_length=1)
    title: str = Field(min_length=1)
    lastChangeDateTime: str = Field(min_length=1, max_length=40)
    language: str | None = Field(None, max_length=10)
    notes: str | None = None
    extensions: DocumentExtensions | None = None


class CFItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    identifier: str = Field(min_length=1, max_length=36)
    uri: str = Field(min_length=1)
    fullStatement: str = Field(min_length=1)
    lastChangeDateTime: str = Field(min_length=1, max_length=40)
    humanCodingScheme: str | None = Field(None, max_length=120)
    CFItemType: str | None = Field(None, max_length=200)
    language: str | None = None
    statusEndDate: str | None = None
    extensions: ItemExtensions | None = None


class CFAssociation(BaseModel):
    model_config = ConfigDict(extra="allow")
    identifier: str = Field(min_length=1, max_length=255)
    uri: str = Field(min_length=1)
    associationType: str
    originNodeURI: LinkURI
    destinationNodeURI: LinkURI
    lastChangeDateTime: str = Field(min_length=1, max_length=40)
    sequenceNumber: int | None = None

    @field_validator("associationType")
    @classmethod
    def _known(cls, value: str) -> str:
        if not known_association_type(value):
            raise ValueError(f"expected one of {', '.join(ASSOCIATION_TYPES)} or ext:<name>, got {value!r}")
        return value


class CFPackage(BaseModel):
    model_config = ConfigDict(extra="allow")
    CFDocument: CFDocument
    CFItems: list[CFItem] = []
    CFAssociations: list[CFAssociation] = []
    CFDefinitions: dict[str, Any] | None = None
    CFRubrics: list[dict[str, Any]] | None = None
    extensions: dict[str, Any] | None = None


def ustaz_document(doc: CFDocument) -> UstazDocument:
    return (doc.extensions.ustaz if doc.extensions else None) or UstazDocument()


def ustaz_item(item: CFItem) -> UstazItem:
    return (item.extensions.ustaz if item.extensions else None) or UstazItem()


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
            elif loc and loc[0] == "CFDocument" and isinstance(data, dict):
                document = data.get("CFDocument")
                item = document.get("identifier") if isinstance(document, dict) else None
            errors.append(
                {
                    "field": ".".join(str(p) for p in loc),
                    "item": str(item or "(no identifier)"),
                    "message": err["msg"],
                }
            )
        raise problems_error(errors) from exc

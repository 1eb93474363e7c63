"""A national framework derived from an international one (docs/adr/0008, docs/adr/0018): copy
everything, then edit, add and retire indicators. Each copy keeps a CASE association to its original
item: `exactMatchOf` when its statement is unchanged, `isRelatedTo` when it was edited (CASE 1.1 has
no derivation type); the document names its source in `extensions.ustaz.derivedFrom` and `notes`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from libs.errors import Conflict, NotFound, Unprocessable
from services.courses import repository
from services.courses.case import CHILD_OF, EDITED, ITEM_TYPES, KINDS, SAME, new_assoc_id
from services.courses.models import Framework, FrameworkAssociation, FrameworkItem, case_now, new_id


class IndicatorEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=120)
    title: str = Field(min_length=1, max_length=4000)


class IndicatorAdd(IndicatorEdit):
    parent_code: str = Field(max_length=120)


class DeriveRequest(BaseModel):
    """A national framework from an international one: copy everything, then edit, add and retire."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{1,59}$")
    title: str = Field(min_length=1, max_length=300)
    language: str = Field("en", max_length=10)
    edit: list[IndicatorEdit] = []
    add: list[IndicatorAdd] = []
    retire: list[str] = []


def _problems(request: DeriveRequest, by_code: dict[str, FrameworkItem]) -> list[dict[str, str]]:
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
    return errors


def tree_associations(framework: Framework, items: list[FrameworkItem]) -> list[FrameworkAssociation]:
    """The isChildOf associations of items made here (parents before children, in position order), and
    the derivation link of each copy to its original."""
    rows: list[FrameworkAssociation] = []
    siblings: dict[str | None, int] = {}
    for item in sorted(items, key=lambda i: i.position):
        siblings[item.parent_id] = siblings.get(item.parent_id, 0) + 1
        rows.append(
            FrameworkAssociation(
                id=new_assoc_id(item.id, CHILD_OF),
                framework_id=framework.id,
                association_type=CHILD_OF,
                origin_id=item.id,
                destination_id=item.parent_id or framework.id,
                sequence_number=siblings[item.parent_id],
                package_order=len(rows),
                last_change=item.last_change,
            )
        )
    return rows


def derive(session: Session, source_code: str, request: DeriveRequest) -> Framework:
    source = repository.framework_by_code(session, source_code)
    if source is None:
        raise NotFound(f"No framework {source_code}.")
    if repository.framework_by_code(session, request.code) is not None:
        raise Conflict(f"A framework {request.code} exists already.")
    items = repository.framework_items(session, source.id)
    by_code = {i.code: i for i in items}
    errors = _problems(request, by_code)
    if errors:
        raise Unprocessable(f"{len(errors)} problem(s) in the derivation", errors=errors)
    now = case_now()
    framework = Framework(
        code=request.code,
        title=request.title,
        language=request.language,
        derived_from_id=source.id,
        note=f"Derived from {source.code} ({source.title}).",
        last_change=now,
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
            item_type=i.item_type or ITEM_TYPES.get(i.kind),
            last_change=now,
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
                item_type=ITEM_TYPES["indicator"],
                last_change=now,
            )
        )
    for kind in KINDS:  # parents first
        for row in copies:
            if row.kind == kind:
                session.add(row)
        session.flush()
    originals = {i.id: i for i in items}
    links = tree_associations(framework, copies)
    for copy in copies:
        if copy.derived_from_id:
            same = originals[copy.derived_from_id].title == copy.title
            kind = SAME if same else EDITED
            links.append(
                FrameworkAssociation(
                    id=new_assoc_id(copy.id, kind),
                    framework_id=framework.id,
                    association_type=kind,
                    origin_id=copy.id,
                    destination_id=copy.derived_from_id,
                    package_order=len(links),
                    last_change=now,
                )
            )
    session.add_all(links)
    session.flush()
    return framework

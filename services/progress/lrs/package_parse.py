"""Reading a content package (pure): a cmi5 course (`cmi5.xml`, cmi5 "Quartz" course structure) or
a SCORM 1.2 / 2004 package (`imsmanifest.xml`) in a zip, into a `Plan`: its kind, title and the
units a teacher launches (cmi5 AUs, SCORM SCOs and assets) with their launch address and rules.

Every problem is reported with its file and what is wrong; any problem is fatal. The zip is checked
against size limits before and while it is read (zip bombs), its names against escaping the
package (`..`, absolute paths), and XML with a DOCTYPE is refused (defusedxml: no entities)."""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from libs.errors import PayloadTooLarge
from services.progress.lrs import formats

CMI5, SCORM12, SCORM2004 = "cmi5", "scorm12", "scorm2004"
MOVE_ON = ("Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed", "NotApplicable")


@dataclass(frozen=True)
class Unit:
    """A launchable unit: a cmi5 AU (`activity_id` its IRI) or a SCORM SCO/asset (an IRI minted from
    the package and the item's identifier). `href` is a path inside the package or, for cmi5, may be
    an absolute URL."""

    activity_id: str
    title: str
    href: str
    move_on: str = "NotApplicable"
    mastery_score: float | None = None
    launch_parameters: str = ""
    scorm_type: str = "sco"
    blocks: tuple[str, ...] = ()  # cmi5: the ids of the blocks holding the AU, outermost first


@dataclass
class Plan:
    kind: str = ""
    title: str = ""
    course_activity_id: str = ""
    units: list[Unit] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)


def read_zip(data: bytes, *, max_unpacked: int, package_iri: str) -> Plan:
    """The plan of a package zip; `package_iri` names activities a SCORM package leaves unnamed."""
    plan = Plan()
    if data.lstrip()[:1] == b"<":  # a bare cmi5.xml (cmi5 14.0): its AUs' URLs must be absolute
        plan.files["cmi5.xml"] = data
        _cmi5(plan)
        return plan
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        plan.problems.append(("(package)", "is not a zip file (nor a cmi5.xml)"))
        return plan
    with archive:
        _read_files(archive, plan, max_unpacked)
    if plan.problems:
        return plan
    if "cmi5.xml" in plan.files:
        _cmi5(plan)
    elif "imsmanifest.xml" in plan.files:
        _scorm(plan, package_iri)
    else:
        plan.problems.append(("(package)", "has neither cmi5.xml nor imsmanifest.xml at its top"))
    return plan


def _read_files(archive: zipfile.ZipFile, plan: Plan, max_unpacked: int) -> None:
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if sum(i.file_size for i in infos) > max_unpacked:
        raise PayloadTooLarge(f"The package unpacks to more than {max_unpacked} bytes.")
    total = 0
    for info in infos:
        name = info.filename.replace("\\", "/")
        if name.startswith("/") or ".." in name.split("/"):
            plan.problems.append((name, "a file name may not leave the package"))
            continue
        with archive.open(info) as stream:
            content = stream.read(max_unpacked - total + 1)
        total += len(content)
        if total > max_unpacked:
            raise PayloadTooLarge(f"The package unpacks to more than {max_unpacked} bytes.")
        plan.files[name] = content


def _xml(plan: Plan, name: str) -> ElementTree.Element | None:
    try:
        return fromstring(plan.files[name], forbid_dtd=True)
    except DefusedXmlException:
        plan.problems.append((name, "XML with a DOCTYPE or entities is not accepted"))
        return None
    except ElementTree.ParseError as exc:
        plan.problems.append((name, f"is not well-formed XML ({exc})"))
        return None


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [c for c in element if local(c.tag) == name]


def child(element: ElementTree.Element, name: str) -> ElementTree.Element | None:
    found = children(element, name)
    return found[0] if found else None


def attr(element: ElementTree.Element, name: str) -> str | None:
    """An attribute by its local name, whatever namespace prefix it carries."""
    for key, value in element.attrib.items():
        if local(key) == name:
            return value
    return None


def _langstring(element: ElementTree.Element | None) -> str:
    if element is None:
        return ""
    strings = children(element, "langstring")
    return ((strings[0].text if strings else element.text) or "").strip()


def _cmi5(plan: Plan) -> None:
    plan.kind = CMI5
    root = _xml(plan, "cmi5.xml")
    if root is None:
        return
    course = child(root, "course")
    if local(root.tag) != "courseStructure" or course is None or not course.get("id"):
        plan.problems.append(("cmi5.xml", "needs a courseStructure with a course that has an id"))
        return
    plan.course_activity_id, plan.title = course.get("id", ""), _langstring(child(course, "title"))
    _ids(plan, root)
    _walk(plan, root, ())
    if not plan.units:
        plan.problems.append(("cmi5.xml", "has no AU"))


def _au(plan: Plan, au: ElementTree.Element) -> Unit | None:
    au_id, url = au.get("id", ""), _text(child(au, "url")).strip()
    where = f"cmi5.xml au {au_id or '(no id)'}"
    move_on, mastery = au.get("moveOn", "NotApplicable"), au.get("masteryScore")
    problems = [
        *(["needs a url"] if not url else []),
        *([f"moveOn must be one of {', '.join(MOVE_ON)}"] if move_on not in MOVE_ON else []),
    ]
    problems.extend(_url_problems(plan, url))
    score = _score(mastery, 1.0)
    if mastery is not None and score is None:
        problems.append("masteryScore must be a decimal from 0 to 1")
    plan.problems.extend((where, p) for p in problems)
    if problems:
        return None
    params = child(au, "launchParameters")
    return Unit(
        activity_id=au_id,
        title=_langstring(child(au, "title")) or au_id,
        href=url,
        move_on=move_on,
        mastery_score=score,
        launch_parameters=(params.text or "").strip() if params is not None else "",
    )


def _walk(plan: Plan, element: ElementTree.Element, blocks: tuple[str, ...]) -> None:
    for node in element:
        kind = local(node.tag)
        if kind == "au":
            unit = _au(plan, node)
            if unit is not None:
                plan.units.append(replace(unit, blocks=blocks))
        elif kind == "block":
            _walk(plan, node, (*blocks, node.get("id", "")))


LAUNCH_PARAMETERS = {"endpoint", "fetch", "actor", "registration", "activityid"}


def _ids(plan: Plan, root: ElementTree.Element) -> None:
    """Every course, block, AU and objective id is an IRI (with a scheme) and unique (cmi5 13.1)."""
    seen: set[str] = set()
    for element in root.iter():
        kind = local(element.tag)
        if kind not in ("course", "block", "au", "objective"):
            continue
        value = element.get("id", "")
        if not formats.is_iri(value):
            plan.problems.append(
                (f"cmi5.xml {kind} {value or '(no id)'}", "its id must be an IRI (with a scheme)")
            )
        elif value in seen:
            plan.problems.append((f"cmi5.xml {kind} {value}", "repeats an id of the course structure"))
        seen.add(value)


def _url_problems(plan: Plan, url: str) -> list[str]:
    if not url:
        return []
    if any(c.isspace() for c in url):
        return [f"its url {url!r} is not a URL"]
    parts = urlsplit(url)
    taken = sorted({k.lower() for k, _ in parse_qsl(parts.query)} & LAUNCH_PARAMETERS)
    if taken:
        return [f"its url's query string uses {', '.join(taken)}, which the LMS adds at launch"]
    if parts.scheme:
        return (
            []
            if parts.scheme in ("http", "https") and parts.netloc
            else [f"its url {url} is not an http(s) URL"]
        )
    if url.startswith("/") or posixpath.normpath(parts.path) not in plan.files:
        return [f"its url {url} is not a file of the package"]
    return []


def _score(raw: str | None, top: float) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value / top if 0 <= value <= top else None


def _scorm(plan: Plan, package_iri: str) -> None:
    root = _xml(plan, "imsmanifest.xml")
    if root is None:
        return
    plan.kind = _scorm_version(root)
    resources = {r.get("identifier", ""): r for r in root.iter() if local(r.tag) == "resource"}
    organizations = child(root, "organizations")
    orgs = children(organizations, "organization") if organizations is not None else []
    default = organizations.get("default") if organizations is not None else None
    org = next((o for o in orgs if o.get("identifier") == default), orgs[0] if orgs else None)
    if org is None:
        plan.problems.append(("imsmanifest.xml", "has no organization"))
        return
    plan.title = (_text(child(org, "title")) or root.get("identifier", "")).strip()
    plan.course_activity_id = package_iri
    for item in org.iter():
        if local(item.tag) == "item" and item.get("identifierref"):
            unit = _sco(plan, item, resources, package_iri)
            if unit is not None:
                plan.units.append(unit)
    if not plan.units and not plan.problems:
        plan.problems.append(("imsmanifest.xml", "has no item that launches a resource"))


def _scorm_version(root: ElementTree.Element) -> str:
    metadata = child(root, "metadata")
    version = _text(child(metadata, "schemaversion")) if metadata is not None else ""
    namespaces = " ".join(root.attrib.values()) + root.tag
    if version.strip() == "1.2" or ("adlcp_rootv1p2" in namespaces and "2004" not in version):
        return SCORM12
    return SCORM2004


def _text(element: ElementTree.Element | None) -> str:
    return (element.text or "") if element is not None else ""


def _sco(
    plan: Plan, item: ElementTree.Element, resources: dict[str, ElementTree.Element], package_iri: str
) -> Unit | None:
    identifier, ref = item.get("identifier", ""), item.get("identifierref", "")
    resource = resources.get(ref)
    where = f"imsmanifest.xml item {identifier or '(no identifier)'}"
    if resource is None or not resource.get("href"):
        plan.problems.append((where, f"names resource {ref}, which the manifest lacks or gives no href"))
        return None
    base = resource.get(f"{{{_XML}}}base", "")
    href = posixpath.normpath(posixpath.join(base, resource.get("href", "")).split("?")[0])
    if href not in plan.files:
        plan.problems.append((where, f"launches {href}, which is not a file of the package"))
        return None
    mastery_text = _text(next((c for c in item if local(c.tag) == "masteryscore"), None)).strip()
    mastery = _score(mastery_text, 100.0) if mastery_text else None
    if mastery_text and mastery is None:
        plan.problems.append((where, "masteryscore must be a number from 0 to 100"))
        return None
    query = resource.get("href", "").partition("?")[2]
    return Unit(
        activity_id=f"{package_iri}/sco/{identifier}",
        title=_text(child(item, "title")).strip() or identifier,
        href=href + (f"?{query}" if query else ""),
        mastery_score=mastery,
        launch_parameters=item.get("parameters", ""),
        scorm_type=(attr(resource, "scormtype") or attr(resource, "scormType") or "sco").lower(),
    )


_XML = "http://www.w3.org/XML/1998/namespace"

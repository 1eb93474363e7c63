"""A published course version as an IMS Common Cartridge 1.3 (docs/adr/0018), for Moodle, Canvas and
other LMSs; the own zip (packages.py) stays the format of full fidelity.

    imsmanifest.xml                  CC 1.3 manifest: LOM metadata, the outline as organization items,
                                     a resource per lesson and quiz, each with its competencies as
                                     curriculum standards metadata (CASE GUIDs of the indicators)
    lessons/<id>.html                the lesson as web content (the sanitised HTML the reader shows)
    lessons/<id>.md                  its Markdown source (ignored by other tools; read back by Ustaz)
    web_resources/images/<sha>.<ext> the pictures the lessons show
    quizzes/<id>/assessment.xml      the quiz as a CC QTI 1.2 assessment (qti.py), with answer keys
"""

from __future__ import annotations

import html
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Forbidden
from services.courses import packages, qti, repository, service
from services.courses.markdown import sha_of
from services.courses.schemas import CourseContent, Lesson, Quiz

XSI = "http://www.w3.org/2001/XMLSchema-instance"
Version = Literal["1.3", "1.1"]


@dataclass(frozen=True)
class Profile:
    """What differs between the Common Cartridge versions written: namespaces, schema locations, the
    assessment type, and whether competencies can travel (curriculum standards metadata came in 1.2)."""

    cp: str
    lom_manifest: str
    lom_resource: str
    csmd: str | None
    schemas: tuple[tuple[str, str], ...]
    schemaversion: str
    assessment: str
    qti_schema: str


def _profile(v: str, schemas: dict[str, str], csmd: str | None) -> Profile:
    base = f"http://www.imsglobal.org/profile/cc/ccv1p{v}"
    return Profile(
        cp=f"http://www.imsglobal.org/xsd/imsccv1p{v}/imscp_v1p1",
        lom_manifest=f"http://ltsc.ieee.org/xsd/imsccv1p{v}/LOM/manifest",
        lom_resource=f"http://ltsc.ieee.org/xsd/imsccv1p{v}/LOM/resource",
        csmd=csmd,
        schemas=tuple(
            (ns.replace("{v}", v), f"{base}/{path}".replace("{v}", v)) for ns, path in schemas.items()
        ),
        schemaversion=f"1.{v}.0",
        assessment=f"imsqti_xmlv1p2/imscc_xmlv1p{v}/assessment",
        qti_schema=f"{base}/ccv1p{v}_qtiasiv1p2p1_v1p0.xsd",
    )


_SCHEMAS = {
    "http://www.imsglobal.org/xsd/imsccv1p{v}/imscp_v1p1": "ccv1p{v}_imscp_v1p2_v1p0.xsd",
    "http://ltsc.ieee.org/xsd/imsccv1p{v}/LOM/manifest": "LOM/ccv1p{v}_lommanifest_v1p0.xsd",
    "http://ltsc.ieee.org/xsd/imsccv1p{v}/LOM/resource": "LOM/ccv1p{v}_lomresource_v1p0.xsd",
}
CSMD = "http://www.imsglobal.org/xsd/imsccv1p3/imscsmd_v1p0"
PROFILES: dict[str, Profile] = {
    "1.3": _profile("3", {**_SCHEMAS, CSMD: "ccv1p3_imscsmd_v1p0.xsd"}, CSMD),
    "1.1": _profile("1", _SCHEMAS, None),  # what Moodle imports (it reads CC 1.0 and 1.1 only)
}
CP = PROFILES["1.3"].cp
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
IMAGE = re.compile(r'src="(/api/v1/courses/images/([0-9a-f]{64})\.(webp|jpg))"')


def _el(parent: ET.Element, ns: str, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _lang_string(parent: ET.Element, ns: str, tag: str, text: str, language: str) -> None:
    _el(_el(parent, ns, tag), ns, "string", text, language=language)


def ident(kind: str, value: str) -> str:
    """An xs:ID from our ids (which may start with a digit)."""
    return f"{kind}_{re.sub(r'[^A-Za-z0-9_.-]', '_', value)}"


def _standards(metadata: ET.Element, codes: list[str], guids: dict[str, str], csmd: str) -> None:
    """The competencies of a resource as CC curriculum standards metadata: CASE GUIDs of the items."""
    known = [c for c in codes if c in guids]
    if not known:
        return
    meta_set = _el(metadata, csmd, "curriculumStandardsMetadataSet")
    meta = _el(meta_set, csmd, "curriculumStandardsMetadata", providerId="CASE")
    guid_set = _el(meta, csmd, "setOfGUIDs")
    for code in known:
        labelled = _el(guid_set, csmd, "labelledGUID")
        _el(labelled, csmd, "label", code)
        _el(labelled, csmd, "GUID", guids[code])


def _lesson_html(lesson: Lesson, language: str) -> str:
    body = IMAGE.sub(lambda m: f'src="../web_resources/images/{m.group(2)}.{m.group(3)}"', lesson.html)
    title = html.escape(lesson.title)
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(language)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    )


def _metadata(root: ET.Element, content: CourseContent, p: Profile) -> None:
    metadata = _el(root, p.cp, "metadata")
    _el(metadata, p.cp, "schema", "IMS Common Cartridge")
    _el(metadata, p.cp, "schemaversion", p.schemaversion)
    lom = _el(metadata, p.lom_manifest, "lom")
    general = _el(lom, p.lom_manifest, "general")
    _lang_string(general, p.lom_manifest, "title", content.title, content.language)
    _el(general, p.lom_manifest, "language", content.language)
    if content.summary:
        _lang_string(general, p.lom_manifest, "description", content.summary, content.language)
    rights = _el(lom, p.lom_manifest, "rights")
    _el(_el(rights, p.lom_manifest, "copyrightAndOtherRestrictions"), p.lom_manifest, "value", "yes")
    _lang_string(rights, p.lom_manifest, "description", content.licence, "en")


def _resource(
    resources: ET.Element, entry: Lesson | Quiz, ref: str, content: CourseContent, p: Profile
) -> tuple[ET.Element, list[str], dict[str, bytes]]:
    """The resource of a lesson or quiz, its competency codes and its files."""
    files: dict[str, bytes] = {}
    if isinstance(entry, Lesson):
        hrefs = [f"lessons/{entry.id}.html", f"lessons/{entry.id}.md"]
        files[hrefs[0]] = _lesson_html(entry, content.language).encode()
        files[hrefs[1]] = entry.markdown.encode()
        resource = _el(resources, p.cp, "resource", identifier=ref, type="webcontent", href=hrefs[0])
        return resource, entry.indicators, files
    name = f"quizzes/{entry.id}/assessment.xml"
    files[name] = qti.assessment(
        ident("quiz", entry.id), entry.title, entry.questions, content.language, schema=p.qti_schema
    )
    resource = _el(resources, p.cp, "resource", identifier=ref, type=p.assessment)
    return resource, sorted({c for question in entry.questions for c in question.indicators}), files


def build(
    content: CourseContent, guids: dict[str, str], images: dict[str, bytes], version: Version = "1.3"
) -> dict[str, bytes]:
    """The cartridge's files (pure: the version, CASE GUIDs by indicator code, image bytes by name)."""
    p = PROFILES[version]
    for prefix, ns in (("lomimscc", p.lom_manifest), ("lom", p.lom_resource), ("csmd", CSMD), ("xsi", XSI)):
        ET.register_namespace(prefix, ns)
    root = ET.Element(
        f"{{{p.cp}}}manifest",
        {
            "identifier": ident("course", f"{content.course_id}_v{content.version}"),
            f"{{{XSI}}}schemaLocation": " ".join(part for pair in p.schemas for part in pair),
        },
    )
    _metadata(root, content, p)
    organization = _el(
        _el(root, p.cp, "organizations"),
        p.cp,
        "organization",
        identifier="organization",
        structure="rooted-hierarchy",
    )
    top = _el(organization, p.cp, "item", identifier="root")
    resources = _el(root, p.cp, "resources")
    files: dict[str, bytes] = {}
    for module in content.modules:
        module_item = _el(top, p.cp, "item", identifier=ident("module", module.id))
        _el(module_item, p.cp, "title", module.title)
        for entry in module.items:
            ref = ident("resource", entry.id)
            leaf = _el(module_item, p.cp, "item", identifier=ident("item", entry.id), identifierref=ref)
            _el(leaf, p.cp, "title", entry.title)
            resource, codes, own = _resource(resources, entry, ref, content, p)
            if isinstance(entry, Lesson):
                for _src, sha, ext in IMAGE.findall(entry.html):
                    if f"{sha}.{ext}" in images:
                        own[f"web_resources/images/{sha}.{ext}"] = images[f"{sha}.{ext}"]
            files |= own
            if p.csmd is not None:
                metadata = _el(resource, p.cp, "metadata")
                _standards(metadata, codes, guids, p.csmd)
                if not len(metadata):
                    resource.remove(metadata)
            for href in own:
                _el(resource, p.cp, "file", href=href)
    ET.indent(root)
    return {
        "imsmanifest.xml": qti.default_namespace(ET.tostring(root, encoding="utf-8", xml_declaration=True)),
        **files,
    }


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def export_cartridge(
    session: Session, course_id: str, version: int, user: Principal, cc_version: Version = "1.3"
) -> bytes:
    """The version as a cartridge. Its quizzes carry their answer keys (CC QTI has no place for a quiz
    without them), so it leaves only as a course package with keys does (packages.may_export_keys)."""
    content = service.published_content(session, course_id, version)
    if not packages.may_export_keys(user, content):
        raise Forbidden(
            "Only the course's institute exports it as a cartridge (its quizzes carry the answer keys), "
            "unless its licence shares them; other institutes can export the package without keys."
        )
    framework = repository.framework_by_code(session, content.framework)
    items = repository.framework_items(session, framework.id) if framework else []
    guids = {i.code: i.id for i in items}
    images: dict[str, bytes] = {}
    for entry in content.items():
        if isinstance(entry, Lesson):
            for src, sha, ext in IMAGE.findall(entry.html):
                row = repository.image(session, sha_of(src) or sha)
                if row is not None:
                    images[f"{sha}.{ext}"] = row.data
    return zipped(build(content, guids, images, cc_version))

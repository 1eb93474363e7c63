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

from sqlmodel import Session

from services.courses import qti, repository, service
from services.courses.markdown import sha_of
from services.courses.schemas import CourseContent, Lesson

CP = "http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1"
LOMM = "http://ltsc.ieee.org/xsd/imsccv1p3/LOM/manifest"
LOMR = "http://ltsc.ieee.org/xsd/imsccv1p3/LOM/resource"
CSMD = "http://www.imsglobal.org/xsd/imsccv1p3/imscsmd_v1p0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PROFILE = "http://www.imsglobal.org/profile/cc/ccv1p3"
SCHEMA_LOCATION = " ".join(
    [
        CP,
        f"{PROFILE}/ccv1p3_imscp_v1p2_v1p0.xsd",
        LOMM,
        f"{PROFILE}/LOM/ccv1p3_lommanifest_v1p0.xsd",
        LOMR,
        f"{PROFILE}/LOM/ccv1p3_lomresource_v1p0.xsd",
        CSMD,
        f"{PROFILE}/ccv1p3_imscsmd_v1p0.xsd",
    ]
)
ASSESSMENT = "imsqti_xmlv1p2/imscc_xmlv1p3/assessment"
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


def _standards(metadata: ET.Element, codes: list[str], guids: dict[str, str]) -> None:
    """The competencies of a resource as CC curriculum standards metadata: CASE GUIDs of the items."""
    known = [c for c in codes if c in guids]
    if not known:
        return
    meta_set = _el(metadata, CSMD, "curriculumStandardsMetadataSet")
    meta = _el(meta_set, CSMD, "curriculumStandardsMetadata", providerId="CASE")
    guid_set = _el(meta, CSMD, "setOfGUIDs")
    for code in known:
        labelled = _el(guid_set, CSMD, "labelledGUID")
        _el(labelled, CSMD, "label", code)
        _el(labelled, CSMD, "GUID", guids[code])


def _lesson_html(lesson: Lesson, language: str) -> str:
    body = IMAGE.sub(lambda m: f'src="../web_resources/images/{m.group(2)}.{m.group(3)}"', lesson.html)
    title = html.escape(lesson.title)
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(language)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    )


def _metadata(root: ET.Element, content: CourseContent) -> None:
    metadata = _el(root, CP, "metadata")
    _el(metadata, CP, "schema", "IMS Common Cartridge")
    _el(metadata, CP, "schemaversion", "1.3.0")
    lom = _el(metadata, LOMM, "lom")
    general = _el(lom, LOMM, "general")
    _lang_string(general, LOMM, "title", content.title, content.language)
    _el(general, LOMM, "language", content.language)
    if content.summary:
        _lang_string(general, LOMM, "description", content.summary, content.language)
    rights = _el(lom, LOMM, "rights")
    _el(_el(rights, LOMM, "copyrightAndOtherRestrictions"), LOMM, "value", "yes")
    _lang_string(rights, LOMM, "description", content.licence, "en")


def build(content: CourseContent, guids: dict[str, str], images: dict[str, bytes]) -> dict[str, bytes]:
    """The cartridge's files (pure: the version, CASE GUIDs by indicator code, image bytes by name)."""
    for prefix, ns in (("lomimscc", LOMM), ("lom", LOMR), ("csmd", CSMD), ("xsi", XSI)):
        ET.register_namespace(prefix, ns)
    root = ET.Element(
        f"{{{CP}}}manifest",
        {
            "identifier": ident("course", f"{content.course_id}_v{content.version}"),
            f"{{{XSI}}}schemaLocation": SCHEMA_LOCATION,
        },
    )
    _metadata(root, content)
    organization = _el(
        _el(root, CP, "organizations"),
        CP,
        "organization",
        identifier="organization",
        structure="rooted-hierarchy",
    )
    top = _el(organization, CP, "item", identifier="root")
    resources = _el(root, CP, "resources")
    files: dict[str, bytes] = {}
    for module in content.modules:
        module_item = _el(top, CP, "item", identifier=ident("module", module.id))
        _el(module_item, CP, "title", module.title)
        for entry in module.items:
            ref = ident("resource", entry.id)
            leaf = _el(module_item, CP, "item", identifier=ident("item", entry.id), identifierref=ref)
            _el(leaf, CP, "title", entry.title)
            if isinstance(entry, Lesson):
                codes, hrefs = entry.indicators, [f"lessons/{entry.id}.html", f"lessons/{entry.id}.md"]
                files[hrefs[0]] = _lesson_html(entry, content.language).encode()
                files[hrefs[1]] = entry.markdown.encode()
                for _src, sha, ext in IMAGE.findall(entry.html):
                    name = f"web_resources/images/{sha}.{ext}"
                    if f"{sha}.{ext}" in images:
                        files[name] = images[f"{sha}.{ext}"]
                        hrefs.append(name)
                resource = _el(resources, CP, "resource", identifier=ref, type="webcontent", href=hrefs[0])
            else:
                codes = sorted({c for question in entry.questions for c in question.indicators})
                hrefs = [f"quizzes/{entry.id}/assessment.xml"]
                files[hrefs[0]] = qti.assessment(
                    ident("quiz", entry.id), entry.title, entry.questions, content.language
                )
                resource = _el(resources, CP, "resource", identifier=ref, type=ASSESSMENT)
            metadata = _el(resource, CP, "metadata")
            _standards(metadata, codes, guids)
            if not len(metadata):
                resource.remove(metadata)
            for href in dict.fromkeys(hrefs):
                _el(resource, CP, "file", href=href)
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


def export_cartridge(session: Session, course_id: str, version: int) -> bytes:
    content = service.published_content(session, course_id, version)
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
    return zipped(build(content, guids, images))

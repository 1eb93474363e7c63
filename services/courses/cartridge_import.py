"""An IMS Common Cartridge (1.3, and the 1.1/1.2 resource types Canvas writes) as a new draft of the
importer's institute (docs/adr/0018): the organization's items become modules, web content lessons
(their Markdown when Ustaz wrote it, else their HTML as Markdown, their pictures re-encoded), CC QTI
assessments quizzes, curriculum standards GUIDs competencies. Everything is read and checked first;
a broken manifest, an unsafe path or an unreadable file is a 422 naming the file, a package too big a
413, and nothing is stored. What cannot be carried over (essays, other resource types) is a warning."""

from __future__ import annotations

import hashlib
import html
import io
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError
from sqlmodel import Session

from libs.auth import Principal
from libs.errors import PayloadTooLarge, ProblemError, Unprocessable
from services.courses import authoring, images, qti, repository
from services.courses.html_markdown import to_markdown
from services.courses.markdown import IMAGE_URL_PREFIX
from services.courses.schemas import LANGUAGES, LICENCES, AuthoringView, CourseDraft

MANIFEST = "imsmanifest.xml"
ASSESSMENT = re.compile(r"^imsqti_xmlv1p2/imscc_xmlv1p[0-3]/assessment$")
IMG = re.compile(r'<img\b[^>]*\bsrc="([^"]+)"', re.I)
TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


@dataclass
class Settings:
    max_unpacked_bytes: int
    max_width: int
    max_image_bytes: int
    image_format: Any
    max_pixels: int


@dataclass
class Read:
    draft: dict[str, Any]
    images: dict[str, tuple[images.Encoded, str]] = field(default_factory=dict)  # url -> (image, alt)
    warnings: list[dict[str, Any]] = field(default_factory=list)


def _problem(file: str, message: str, line: int | None = None) -> Unprocessable:
    return Unprocessable(f"{file}: {message}", errors=[{"file": file, "line": line, "message": message}])


def unpack(data: bytes, limit: int) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise _problem("(package)", "not a zip file") from exc
    infos = [i for i in archive.infolist() if not i.is_dir()]
    total = sum(i.file_size for i in infos)
    if total > limit:
        raise PayloadTooLarge(f"The cartridge unpacks to {total} bytes; the limit is {limit}.")
    files, seen = {}, 0
    for info in infos:
        name = info.filename
        if name.startswith("/") or ".." in name.replace("\\", "/").split("/") or ":" in name.split("/")[0]:
            raise _problem(name, "unsafe path (outside the cartridge)")
        raw = archive.read(info)
        seen += len(raw)
        if seen > limit:  # sizes in the zip's headers could lie
            raise PayloadTooLarge("The cartridge unpacks too big.")
        files[name] = raw
    if MANIFEST not in files:
        raise _problem(MANIFEST, "the cartridge has no imsmanifest.xml")
    return files


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in element if _local(c.tag) == name]


def _first_text(element: ET.Element, *path: str) -> str:
    for node in element.iter():
        if _local(node.tag) == path[0]:
            inner = [n for n in node.iter() if _local(n.tag) == path[-1]]
            if inner and (inner[0].text or "").strip():
                return (inner[0].text or "").strip()
    return ""


def _parse(files: dict[str, bytes], name: str) -> ET.Element:
    try:
        # expat 2.4+ refuses entity expansion bombs and ElementTree resolves no external entities.
        return ET.fromstring(files[name])  # noqa: S314
    except ET.ParseError as exc:
        raise _problem(name, f"not well-formed XML: {exc}", exc.position[0]) from exc


def _guids(resource: ET.Element) -> list[str]:
    return [
        (g.text or "").strip() for g in resource.iter() if _local(g.tag) == "GUID" and (g.text or "").strip()
    ]


class Reader:
    def __init__(self, session: Session, files: dict[str, bytes], settings: Settings) -> None:
        self.session, self.files, self.settings = session, files, settings
        self.manifest = _parse(files, MANIFEST)
        self.resources = {
            r.get("identifier", ""): r for r in self.manifest.iter() if _local(r.tag) == "resource"
        }
        self.codes: dict[str, str] = {}
        self.framework = ""
        self.read = Read({})

    def _framework(self) -> None:
        """The framework the cartridge's GUIDs belong to (else the first one here)."""
        guids = {g for r in self.resources.values() for g in _guids(r)}
        items = repository.framework_items_by_ids(self.session, sorted(guids))
        frameworks = {f.id: f for f in repository.frameworks(self.session)}
        chosen = next((frameworks[i.framework_id] for i in items.values()), None) or next(
            iter(frameworks.values()), None
        )
        if chosen is None:
            raise _problem(MANIFEST, "no competency framework on this platform to map the course to")
        self.framework = chosen.code
        self.codes = {i.id: i.code for i in items.values() if i.framework_id == chosen.id}

    def _file(self, html_name: str, src: str) -> str | None:
        """The cartridge's file a page's `src` names: relative to the page, or under the cartridge's
        file base (Canvas writes `$IMS-CC-FILEBASE$/…` and `%24IMS_CC_FILEBASE%24/files/…`, the latter
        for files that sit in web_resources/ itself); None for an outside address."""
        path = unquote(src.split("?")[0].split("#")[0])
        base = re.match(r"^\$IMS[-_]CC[-_]FILEBASE\$/", path)
        if base:
            path = "web_resources/" + path[base.end() :]
        elif "://" in path or path.startswith(("/", "data:")):
            return None
        else:
            path = posixpath.normpath(posixpath.join(posixpath.dirname(html_name), path))
        if path in self.files:
            return path
        if base and path.startswith("web_resources/files/"):
            alias = "web_resources/" + path[len("web_resources/files/") :]
            return alias if alias in self.files else None
        return None

    def _image(self, html_name: str, src: str) -> str:
        """The platform URL of a picture of the cartridge, the `src` itself for an outside address, or
        "" (a warning: the picture is left out) for a file that is missing or not a readable image."""
        if re.match(r"^https?://", src, re.I):
            return src
        name = self._file(html_name, src)
        if name is None:
            self._warn(html_name, f"picture {src[:80]!r} is not in the cartridge; left out")
            return ""
        s = self.settings
        try:
            encoded = images.reencode(
                self.files[name],
                max_width=s.max_width,
                max_bytes=s.max_image_bytes,
                fmt=s.image_format,
                max_pixels=s.max_pixels,
            )
        except ProblemError as exc:
            self._warn(name, f"{exc.detail}; the picture is left out")
            return ""
        sha = hashlib.sha256(encoded.data).hexdigest()
        url = f"{IMAGE_URL_PREFIX}{sha}.{images.EXTENSIONS[encoded.media_type]}"
        self.read.images[url] = (encoded, posixpath.basename(name))
        return url

    def _warn(self, file: str, message: str) -> None:
        self.read.warnings.append({"file": file, "line": None, "message": message})

    def lesson(self, identifier: str, title: str, resource: ET.Element) -> dict[str, Any] | None:
        href = resource.get("href") or next((f.get("href") for f in _children(resource, "file")), None)
        if not href or href not in self.files:
            self.read.warnings.append(
                {"file": href or MANIFEST, "line": None, "message": f"{identifier}: no file; left out"}
            )
            return None
        source = href[: -len(".html")] + ".md" if href.endswith(".html") else ""
        if source in self.files:
            markdown = self.files[source].decode("utf-8", "replace")
            title = title or identifier
        elif href.lower().endswith((".html", ".htm")):
            text = self.files[href].decode("utf-8", "replace")
            named = TITLE.search(text)
            title = title or (" ".join(html.unescape(named.group(1)).split()) if named else "") or identifier
            mapped = {
                src: self._image(href, src)
                for src in dict.fromkeys(html.unescape(s) for s in IMG.findall(text))
            }
            markdown = to_markdown(text, mapped)
            markdown = (
                re.sub(r"^# .*\n+", "", markdown, count=1) if markdown.startswith(f"# {title}") else markdown
            )
        else:
            self.read.warnings.append({"file": href, "line": None, "message": "not a web page; left out"})
            return None
        codes = [self.codes[g] for g in _guids(resource) if g in self.codes]
        return {"type": "lesson", "id": identifier, "title": title, "markdown": markdown, "indicators": codes}

    def quiz(self, identifier: str, title: str, resource: ET.Element) -> dict[str, Any] | None:
        name = next((f.get("href", "") for f in _children(resource, "file")), "")
        if name not in self.files:
            raise _problem(name or MANIFEST, f"the assessment {identifier} names no file of the cartridge")
        root = _parse(self.files, name)
        assessment = root.find(qti.q("assessment"))
        title = title or (assessment.get("title", "") if assessment is not None else "") or identifier
        questions = []
        for item in root.iter(qti.q("item")):
            question, why = qti.read_item(item)
            if question is None:
                self.read.warnings.append(
                    {"file": name, "line": None, "message": f"{item.get('ident')}: {why}; left out"}
                )
                continue
            question.indicators = [self.codes[g] for g in _guids(resource) if g in self.codes]
            questions.append(question.model_dump(mode="json"))
        if not questions:
            self.read.warnings.append(
                {
                    "file": name,
                    "line": None,
                    "message": f"{identifier}: no question Ustaz can grade; left out",
                }
            )
            return None
        return {"type": "quiz", "id": identifier, "title": title, "questions": questions}

    def entry(self, item: ET.Element, n: int) -> dict[str, Any] | None:
        ref = item.get("identifierref", "")
        resource = self.resources.get(ref)
        title = _first_text(item, "title", "title")  # else the page's or the assessment's own title
        identifier = re.sub(
            r"[^A-Za-z0-9_-]", "-", re.sub(r"^(item|resource)_", "", item.get("identifier", f"i{n}"))
        )[:60]
        if resource is None:
            return None
        kind = resource.get("type", "")
        if kind == "webcontent":
            return self.lesson(identifier, title, resource)
        if ASSESSMENT.match(kind):
            return self.quiz(identifier, title, resource)
        self.read.warnings.append(
            {"file": MANIFEST, "line": None, "message": f"{ref}: resource type {kind} is not carried over"}
        )
        return None

    def modules(self) -> list[dict[str, Any]]:
        organization = next((o for o in self.manifest.iter() if _local(o.tag) == "organization"), None)
        roots = (
            _children(_children(organization, "item")[0], "item")
            if organization is not None and _children(organization, "item")
            else []
        )
        modules = []
        for n, top in enumerate(roots):
            leaves = [top] if top.get("identifierref") else _children(top, "item")
            entries = [e for m, leaf in enumerate(leaves) if (e := self.entry(leaf, m))]
            if entries:
                module_id = re.sub(
                    r"[^A-Za-z0-9_-]", "-", re.sub(r"^module_", "", top.get("identifier", f"m{n}"))
                )[:60]
                modules.append(
                    {
                        "id": module_id,
                        "title": _first_text(top, "title", "title") or f"Module {n + 1}",
                        "items": entries,
                    }
                )
        if not modules:  # no outline (Canvas puts it in its own files): every page and assessment, in order
            loose = [ET.Element("item", {"identifier": r, "identifierref": r}) for r in self.resources]
            entries = [e for m, leaf in enumerate(loose) if (e := self.entry(leaf, m))]
            if entries:
                modules.append(
                    {
                        "id": "m1",
                        "title": _first_text(self.manifest, "title", "string") or "Course",
                        "items": entries,
                    }
                )
        return modules

    def course(self) -> Read:
        self._framework()
        title = _first_text(self.manifest, "title", "string") or "Imported course"
        rights = _first_text(self.manifest, "rights", "string")
        identifier = self.manifest.get("identifier", "") or title
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80] or "course"
        modules = self.modules()
        if not modules:
            raise _problem(MANIFEST, "no web content or assessment Ustaz can carry over")
        self.read.draft = {
            "slug": f"{slug}-{hashlib.sha256(identifier.encode()).hexdigest()[:8]}",
            "title": title[:300],
            "summary": _first_text(self.manifest, "description", "string")[:2000],
            "language": language(_first_text(self.manifest, "language", "language")),
            "licence": rights if rights in LICENCES else "CC-BY-4.0",
            "framework": self.framework,
            "modules": modules,
        }
        return self.read


def language(tag: str) -> str:
    """The course language of a LOM language tag: `uz-Cyrl-UZ` is uz-Cyrl, `ru-RU` ru, others en."""
    known = {code.lower(): code for code in LANGUAGES}
    parts = tag.strip().replace("_", "-").lower().split("-")
    return next((known[c] for c in ("-".join(parts[:2]), parts[0]) if c in known), "en")


def import_cartridge(
    session: Session, user: Principal, data: bytes, settings: Settings
) -> tuple[AuthoringView, list[dict[str, Any]]]:
    read = Reader(session, unpack(data, settings.max_unpacked_bytes), settings).course()
    try:
        draft = CourseDraft.model_validate(read.draft)
    except ValidationError as exc:  # the cartridge's content does not fit a course (too long, too many)
        errors = [
            {"file": MANIFEST, "line": None, "field": ".".join(map(str, e["loc"])), "message": e["msg"]}
            for e in exc.errors()
        ]
        raise Unprocessable(f"{MANIFEST}: the course does not fit Ustaz", errors=errors) from exc
    view = authoring.create_draft(session, user, draft)
    for encoded, alt in read.images.values():
        images.store(session, user, view.id, encoded, images.check_alt(alt))
    return view, read.warnings

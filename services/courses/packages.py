"""Course packages: a whole course as one zip of Markdown lessons plus a manifest, to share open
educational resources between institutes (see docs/adr/0009-course-packages.md).

    manifest.json        {"format": "ustaz-course/1", course metadata, "modules": [...]}; a lesson item
                         names its file ("file": "lessons/<id>.md"), a quiz item carries its questions
    lessons/<id>.md      the lesson's Markdown

Import reads everything, reports every problem with its file and line, and stores nothing if any
problem is fatal (422). Unreferenced files are only warnings.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from libs.auth import Principal
from libs.errors import PayloadTooLarge, Unprocessable
from services.courses import authoring, checks, repository, service
from services.courses.markdown import markdown_problems
from services.courses.schemas import AuthoringView, CourseDraft, Lesson, Quiz

FORMAT = "ustaz-course/1"
MANIFEST = "manifest.json"
# A fixed timestamp makes the same version export to the same bytes.
ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def export_zip(session: Session, course_id: str, version: int) -> bytes:
    content = service.published_content(session, course_id, version)
    course = repository.course(session, course_id)
    assert course is not None
    manifest = content.model_dump(mode="json", exclude={"course_id", "version", "institute_id"})
    manifest = {"format": FORMAT, "slug": course.slug, "translation_of": course.translation_of, **manifest}
    files: dict[str, str] = {}
    for module in manifest["modules"]:
        for item in module["items"]:
            if item["type"] == "lesson":
                name = f"lessons/{item['id']}.md"
                files[name] = item.pop("markdown")
                item.pop("html", None)
                item["file"] = name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in [
            (MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"),
            *files.items(),
        ]:
            archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), text.encode(), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@dataclass
class Report:
    problems: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def fatal(self, file: str, line: int | None, message: str) -> None:
        self.problems.append({"file": file, "line": line, "message": message})


@dataclass
class Limits:
    max_lesson_bytes: int
    max_images: int
    max_unpacked_bytes: int


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def _read(data: bytes, limits: Limits, report: Report) -> tuple[dict[str, str], str | None]:
    """Files of the zip as text (413 for a zip that unpacks too big or a lesson over the cap)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        report.fatal("(package)", None, "not a zip file")
        return {}, None
    infos = [i for i in archive.infolist() if not i.is_dir()]
    total = sum(i.file_size for i in infos)
    if total > limits.max_unpacked_bytes:
        raise PayloadTooLarge(
            f"The package unpacks to {total} bytes; the limit is {limits.max_unpacked_bytes}."
        )
    files: dict[str, str] = {}
    for info in infos:
        if info.filename.startswith("/") or ".." in info.filename.split("/"):
            report.fatal(info.filename, None, "unsafe path")
            continue
        if info.filename.endswith(".md") and info.file_size > limits.max_lesson_bytes:
            raise PayloadTooLarge(
                f"{info.filename} is {info.file_size} bytes; the limit for a lesson is "
                f"{limits.max_lesson_bytes}.",
                file=info.filename,
            )
        raw = archive.read(info)[: limits.max_unpacked_bytes + 1]  # sizes in the header could lie
        if len(raw) > limits.max_unpacked_bytes:
            raise PayloadTooLarge("The package unpacks too big.")
        try:
            files[info.filename] = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            report.fatal(info.filename, raw[: exc.start].count(b"\n") + 1, "not UTF-8 text")
    return files, files.get(MANIFEST)


def parse_package(session: Session, data: bytes, limits: Limits) -> tuple[CourseDraft | None, Report]:
    report = Report()
    files, manifest_text = _read(data, limits, report)
    if manifest_text is None:
        if files or not report.problems:
            report.fatal(MANIFEST, None, "the package has no manifest.json")
        return None, report
    try:
        manifest = json.loads(manifest_text)
    except json.JSONDecodeError as exc:
        report.fatal(MANIFEST, exc.lineno, f"not valid JSON: {exc.msg}")
        return None, report
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        report.fatal(MANIFEST, _line_of(manifest_text, '"format"'), f'"format" must be "{FORMAT}"')
        return None, report
    used = {MANIFEST}
    for m, module in enumerate(manifest.get("modules") or []):
        for i, item in enumerate(module.get("items") or [] if isinstance(module, dict) else []):
            if not isinstance(item, dict) or item.get("type") != "lesson":
                continue
            name = item.pop("file", None)
            line = (
                _line_of(manifest_text, f'"{name}"')
                if name
                else _line_of(manifest_text, f'"{item.get("id")}"')
            )
            if not isinstance(name, str) or name not in files:
                report.fatal(
                    MANIFEST, line, f"modules[{m}].items[{i}]: lesson file {name!r} is not in the package"
                )
                continue
            used.add(name)
            item["markdown"] = files[name]
            for number, message in markdown_problems(files[name], max_images=limits.max_images):
                report.fatal(name, number, message)
    report.warnings += [
        {"file": name, "line": None, "message": "not used by the manifest"}
        for name in sorted(set(files) - used)
    ]
    manifest.pop("format", None)
    try:
        draft = CourseDraft.model_validate(manifest)
    except ValidationError as exc:
        for err in exc.errors(include_url=False, include_input=False):
            path = ".".join(str(p) for p in err["loc"])
            key = next((str(p) for p in reversed(err["loc"]) if isinstance(p, str)), "")
            report.fatal(
                MANIFEST, _line_of(manifest_text, f'"{key}"') if key else None, f"{path}: {err['msg']}"
            )
        return None, report
    _check_references(session, draft, manifest_text, report)
    _check_rules(session, draft, manifest_text, report)
    return draft, report


def _check_rules(session: Session, draft: CourseDraft, text: str, report: Report) -> None:
    """The rules every draft meets (answer keys that can grade, unique ids), reported by line, once the
    references are right."""
    if report.problems:
        return
    try:
        checks.check_draft(session, draft)
    except Unprocessable as exc:
        for error in exc.extra.get("errors", []):
            anchor = error.get("question") or error.get("item")
            line = _line_of(text, f'"{anchor}"') if anchor else None
            report.fatal(MANIFEST, line, f"{error['field']}: {error['message']}")


def _check_references(session: Session, draft: CourseDraft, text: str, report: Report) -> None:
    """Ids unique, indicator codes known in the course's framework."""
    framework = repository.framework_by_code(session, draft.framework)
    if framework is None:
        report.fatal(
            MANIFEST, _line_of(text, '"framework"'), f"unknown competency framework {draft.framework!r}"
        )
        return
    known = {i.code for i in repository.framework_items(session, framework.id) if not i.retired}
    seen: set[str] = set()
    for item in [i for m in draft.modules for i in m.items]:
        if item.id in seen:
            report.fatal(MANIFEST, _line_of(text, f'"{item.id}"'), f"item id {item.id!r} is used twice")
        seen.add(item.id)
        codes = (
            item.indicators if isinstance(item, Lesson) else [c for q in item.questions for c in q.indicators]
        )
        for code in codes:
            if code not in known:
                report.fatal(
                    MANIFEST,
                    _line_of(text, f'"{code}"'),
                    f"{item.id}: indicator {code!r} is not in {draft.framework} (or is retired)",
                )
        if isinstance(item, Quiz):
            for q in item.questions:
                if q.answer is None:
                    report.fatal(
                        MANIFEST, _line_of(text, f'"{q.id}"'), f"{item.id}/{q.id}: question has no answer key"
                    )


def import_zip(
    session: Session, user: Principal, data: bytes, limits: Limits
) -> tuple[AuthoringView, list[dict[str, Any]]]:
    draft, report = parse_package(session, data, limits)
    if report.problems or draft is None:
        raise Unprocessable(
            f"{len(report.problems)} problem(s) in the package",
            errors=report.problems,
            warnings=report.warnings,
        )
    return authoring.create_draft(session, user, draft), report.warnings

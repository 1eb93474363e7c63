"""The registry's file formats: which columns each kind of file has, reading CSV (UTF-8 with or without
a BOM, or Windows-1251 as Excel in the region saves it; comma, semicolon or tab) and XLSX into rows of
strings, and writing both. Nothing here knows about the database."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from libs.errors import Unprocessable

NAME_LANGS = ("ru", "kk", "ky", "uz", "uz_Cyrl", "tg", "mn", "en")
ORG_UNIT_COLUMNS = ("code", "parent_code", "kind", "name", *(f"name_{lang}" for lang in NAME_LANGS), "status")
TEACHER_COLUMNS = (
    "national_id",
    "last_name",
    "first_name",
    "patronymic",
    "school_code",
    "email",
    "phone",
    "lang",
    "subjects",
    "employment",
    "status",
    "username",
)
REQUIRED = {
    "org-units": ("code", "kind", "name"),
    "teachers": ("national_id", "last_name", "first_name", "school_code"),
}
COLUMNS = {"org-units": ORG_UNIT_COLUMNS, "teachers": TEACHER_COLUMNS}
KINDS = tuple(COLUMNS)
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


class FileRefused(Unprocessable):
    """The file as a whole cannot be read: nothing in it is looked at further."""

    slug = "import-file-refused"
    title = "The file cannot be imported"


class UnknownHeader(FileRefused):
    slug = "unknown-header"
    title = "The file has a column this import does not know"


@dataclass(frozen=True)
class Header:
    """The file's columns mapped to ours: `index[column]` is its position in a row."""

    index: dict[str, int]
    width: int


def parse_header(kind: str, cells: Sequence[Any]) -> Header:
    """Match the header row to the kind's columns (case and surrounding spaces do not matter). An unknown
    or repeated column, or a missing required one, refuses the file and names the column."""
    known = {c.lower(): c for c in COLUMNS[kind]}
    index: dict[str, int] = {}
    for position, cell in enumerate(cells):
        raw = "" if cell is None else str(cell).strip().lstrip("\ufeff")
        if not raw and all(c in (None, "") for c in cells[position:]):
            break  # trailing empty cells (spreadsheets keep them)
        column = known.get(raw.lower())
        if column is None:
            raise UnknownHeader(
                f"Column {position + 1} is headed {raw!r}, which a {kind} file does not have; "
                f"the columns are: {', '.join(COLUMNS[kind])}.",
                column=raw,
                position=position + 1,
            )
        if column in index:
            raise FileRefused(f"Column {column!r} appears twice in the header.", column=column)
        index[column] = position
    missing = [c for c in REQUIRED[kind] if c not in index]
    if missing:
        raise FileRefused(
            f"The header lacks the required column(s): {', '.join(missing)}.",
            column=missing[0],
            missing=missing,
        )
    return Header(index, len(index))


# -- reading ------------------------------------------------------------------------------------------


def is_xlsx(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04")


def detect_encoding(stream: IO[bytes]) -> str:
    """'utf-8-sig' (with or without a BOM) or 'cp1251', reading the whole stream once in chunks; a file
    that is neither is refused with the offending byte's offset."""
    stream.seek(0)
    head = stream.read(4)
    stream.seek(0)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused(
            "The file is UTF-16; save it as CSV UTF-8 (or Windows-1251) and import again.", encoding="utf-16"
        )
    if _decodes(stream, "utf-8-sig"):
        return "utf-8-sig"
    problem = _cp1251_problem(stream)
    if problem is None:
        return "cp1251"
    raise FileRefused(
        f"The file is neither UTF-8 nor Windows-1251 ({problem}); save it as CSV UTF-8 and import again.",
        encoding="unknown",
    )


def _decodes(stream: IO[bytes], encoding: str) -> bool:
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := stream.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False
    finally:
        stream.seek(0)


def _cp1251_problem(stream: IO[bytes]) -> str | None:
    """Windows-1251 maps every byte but 0x98; a control character other than tab and line breaks means
    a binary file, not text."""
    stream.seek(0)
    offset = 0
    try:
        while chunk := stream.read(1 << 20):
            at = chunk.find(b"\x98")
            if at >= 0:
                return f"byte 0x98 at offset {offset + at} is not a character in either"
            text = chunk.decode("cp1251")
            for i, char in enumerate(text):
                if char < " " and char not in _ALLOWED_CONTROLS:
                    return f"control byte 0x{ord(char):02x} at offset {offset + i}"
            offset += len(chunk)
        return None
    finally:
        stream.seek(0)


def sniff_delimiter(first_line: str) -> str:
    """The header has no separators inside names, so whichever of ; , tab it uses most is the delimiter."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass
class Rows:
    """The rows of an opened file: the header, then (row number as a spreadsheet shows it, cells)."""

    header: Header
    rows: Iterator[tuple[int, list[str]]]
    encoding: str
    format: str
    estimated_rows: int


def open_rows(kind: str, stream: IO[bytes]) -> Rows:
    """Read a CSV or XLSX file of `kind` from a seekable binary stream (a file on disk or BytesIO)."""
    stream.seek(0)
    head = stream.read(4)
    stream.seek(0)
    if is_xlsx(head):
        return _open_xlsx(kind, stream)
    encoding = detect_encoding(stream)
    estimated = max(_count_lines(stream) - 1, 0)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    first = text.readline()
    if not first.strip():
        raise FileRefused("The file is empty: it has no header row.")
    delimiter = sniff_delimiter(first)
    header = parse_header(kind, next(csv.reader([first], delimiter=delimiter)))
    reader = csv.reader(text, delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, cells in enumerate(reader, start=2):
            if cells and any(cells):
                yield number, cells

    return Rows(header, rows(), encoding, "csv", estimated)


def _count_lines(stream: IO[bytes]) -> int:
    stream.seek(0)
    lines = 0
    while chunk := stream.read(1 << 20):
        lines += chunk.count(b"\n")
    stream.seek(0)
    return lines + 1


def _open_xlsx(kind: str, stream: IO[bytes]) -> Rows:
    from openpyxl import load_workbook  # loaded with the first spreadsheet, not in every process

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileRefused(f"The spreadsheet cannot be opened: {exc}.") from exc
    sheet = book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    first = next(values, None)
    if first is None:
        raise FileRefused("The spreadsheet's first sheet is empty: it has no header row.")
    header = parse_header(kind, list(first))
    estimated = max((sheet.max_row or 1) - 1, 0)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, cells in enumerate(values, start=2):
            texts = [_cell_text(c) for c in cells]
            if any(texts):
                yield number, texts
        book.close()

    return Rows(header, rows(), "xlsx", "xlsx", estimated)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number cell: 870101300123.0 is the ID 870101300123
    return str(value)


def open_path(kind: str, path: Path) -> tuple[Rows, IO[bytes]]:
    handle = path.open("rb")
    try:
        return open_rows(kind, handle), handle
    except BaseException:
        handle.close()
        raise


# -- writing ------------------------------------------------------------------------------------------


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[str]], out: IO[bytes]) -> int:
    """UTF-8 with a BOM (spreadsheet programs then read Cyrillic right), comma-separated."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    text.flush()
    text.detach()
    return count


def write_xlsx(columns: Sequence[str], rows: Iterable[Sequence[str]], out: IO[bytes], title: str) -> int:
    """Every cell as text, so IDs and phone numbers keep their leading zeros and plus signs."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(columns))
    count = 0
    for row in rows:
        sheet.append([str(v) for v in row])
        count += 1
    book.save(out)
    return count


def format_of(filename: str) -> str:
    return "xlsx" if filename.lower().endswith(".xlsx") else "csv"

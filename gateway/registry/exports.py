"""Exports: the registry as the same files the imports read (so an unchanged export imports unchanged),
CSV or XLSX, streamed a batch of rows at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from sqlalchemy import Engine

from gateway.registry import repository
from gateway.registry.formats import COLUMNS, write_csv, write_xlsx
from gateway.registry.national_id import NationalIds
from gateway.registry.org_units import export_unit_rows
from gateway.registry.teachers import export_row
from libs.db import session_scope


def export(engine: Engine, ids: NationalIds, kind: str, fmt: str, out: IO[bytes]) -> int:
    """Write the registry of `kind` to `out`; returns the number of rows. Teachers carry their national
    IDs in clear: an export is for registry administrators and the EMIS office only."""
    with session_scope(engine, readonly=True) as session:
        rows: Iterator[list[str]]
        if kind == "org-units":
            rows = export_unit_rows(session)
        else:
            rows = (export_row(r, ids) for r in repository.all_teacher_rows(session))
        if fmt == "xlsx":
            return write_xlsx(COLUMNS[kind], rows, out, kind)
        return write_csv(COLUMNS[kind], rows, out)

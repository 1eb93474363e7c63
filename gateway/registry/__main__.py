"""The registry from the command line (docs/registry.md):

    python -m gateway.registry import teachers|org-units FILE [--dry-run]
    python -m gateway.registry export teachers|org-units FILE

An import prints one summary line on stdout, `created N, updated N, unchanged N, rejected N`, the
rejected rows (row, column, reason) and a progress bar on stderr, and exits 1 when anything was
rejected (2 when the file as a whole was refused). It runs here, in this process, against the
gateway's database (USTAZ_GATEWAY_DATABASE_URL), and is recorded like an import from the pages.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from gateway.registry.audit import Actor
from gateway.registry.exports import export
from gateway.registry.formats import KINDS, FileRefused, format_of
from gateway.registry.imports import cli_actor, from_path, new_run, run_recorded
from gateway.registry.national_id import national_ids
from gateway.registry.rows import Outcome
from gateway.settings import get_settings
from libs.db import create_db_engine, session_scope

SHOWN_ERRORS = 50


class Bar:
    """A progress bar on stderr, redrawn at most ten times a second (a line per phase when not a tty)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.phase = ""
        self.drawn = 0.0
        self.started = time.monotonic()

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        new_phase = phase != self.phase
        if new_phase and self.phase and self.tty:
            self.stream.write("\n")
        self.phase = phase
        if not self.tty:
            if new_phase:
                self.stream.write(f"{phase}…\n")
            return
        if not new_phase and now - self.drawn < 0.1 and done < total:
            return
        self.drawn = now
        share = min(done / total, 1.0) if total else 1.0
        bar = "#" * int(share * 30)
        self.stream.write(
            f"\r{phase:<9} [{bar:<30}] {share:4.0%} {done:,}/{total:,} rows {now - self.started:5.1f} s"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.phase:
            self.stream.write("\n")


def run_import(kind: str, path: Path, dry_run: bool, actor: Actor | None = None) -> int:
    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    actor = actor or cli_actor()
    with session_scope(engine) as session:
        run_id = new_run(session, kind, filename=path.name, dry_run=dry_run, via="cli", actor=actor).id
    bar = Bar()
    try:
        outcome = run_recorded(engine, national_ids(settings), run_id, from_path(kind, path), actor, bar)
    except FileRefused as refused:
        bar.close()
        print(f"{path}: {refused.detail}", file=sys.stderr)
        print(Outcome(kind, dry_run).summary())
        return 2
    finally:
        engine.dispose()
    bar.close()
    report(outcome)
    print(outcome.summary())
    return 1 if outcome.rejected else 0


def report(outcome: Outcome) -> None:
    for error in outcome.errors[:SHOWN_ERRORS]:
        column = f" {error.column}" if error.column else ""
        print(f"row {error.row}{column}: {error.reason}", file=sys.stderr)
    if outcome.rejected > SHOWN_ERRORS:
        print(f"… {outcome.rejected - SHOWN_ERRORS} more rejected rows", file=sys.stderr)
    if outcome.rejected:
        would = outcome.would
        print(
            f"nothing was written; without the rejected rows {would.get('created', 0)} would be created, "
            f"{would.get('updated', 0)} updated and {would.get('unchanged', 0)} left unchanged",
            file=sys.stderr,
        )
    elif outcome.dry_run:
        print("dry run: nothing was written", file=sys.stderr)


def run_export(kind: str, path: Path) -> int:
    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    try:
        with path.open("wb") as out:
            count = export(engine, national_ids(settings), kind, format_of(path.name), out)
    finally:
        engine.dispose()
    print(f"exported {count} rows to {path}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.registry",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="import a CSV or XLSX file")
    imp.add_argument("kind", choices=KINDS)
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    exp = commands.add_parser("export", help="export the registry (CSV, or XLSX for a .xlsx name)")
    exp.add_argument("kind", choices=KINDS)
    exp.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "import":
        if not args.file.is_file():
            parser.error(f"{args.file} is not a file")
        return run_import(args.kind, args.file, args.dry_run)
    return run_export(args.kind, args.file)


if __name__ == "__main__":
    sys.exit(main())

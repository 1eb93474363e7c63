"""The audit log: every administrative action and import, who did it, when, to what, the state before
and after. Append-only: only `record` writes it (the migration makes the database refuse UPDATE and
DELETE too), and personal data is masked before it is written, so the log can be read and exported
by platform admins without becoming a second copy of the registry."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from gateway.models import new_id
from gateway.registry import accounts_repository
from gateway.registry.models import AuditEntry
from gateway.registry.national_id import mask
from libs.logs import request_id_var
from libs.outbox import utcnow

PERSONAL = {"national_id", "nid", "nid_hash", "nid_sealed", "password", "password_hash", "code"}
CONTACT = {"email", "phone"}


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in person, or the operator at the command line (`cli:<os user>`)."""

    id: str | None
    name: str = ""
    roles: tuple[str, ...] = ()


def masked(value: Any) -> Any:
    """A copy of `value` with national IDs and secrets replaced by a mask, and e-mail addresses and
    phone numbers shortened to what tells two apart."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in PERSONAL:
                out[key] = mask(str(item)) if key in ("national_id", "nid") and item else "•••"
            elif key in CONTACT and isinstance(item, str) and item:
                out[key] = mask_contact(item)
            else:
                out[key] = masked(item)
        return out
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def mask_contact(value: str) -> str:
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}•••@{domain}"
    return "•" * max(len(value) - 2, 0) + value[-2:]


def record(
    session: Session,
    actor: Actor,
    action: str,
    target: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    accounts_repository.append_audit(
        session,
        {
            "id": new_id(),
            "at": utcnow(),
            "actor_id": actor.id,
            "actor_name": actor.name[:200],
            "action": action,
            "target": target[:120],
            "before": masked(before or {}),
            "after": masked(after or {}),
            "request_id": request_id_var.get(),
        },
    )


def entries(
    session: Session, *, action: str | None, actor: str | None, before: datetime | None, limit: int
) -> list[AuditEntry]:
    return accounts_repository.audit_entries(session, action, actor, before, limit)


def export_csv(rows: Iterable[AuditEntry]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["at", "actor_id", "actor_name", "action", "target", "before", "after", "request_id"])
    for e in rows:
        writer.writerow(
            [
                e.at.isoformat(),
                e.actor_id or "",
                e.actor_name,
                e.action,
                e.target,
                json.dumps(e.before, ensure_ascii=False, sort_keys=True),
                json.dumps(e.after, ensure_ascii=False, sort_keys=True),
                e.request_id or "",
            ]
        )
    return out.getvalue().encode("utf-8-sig")

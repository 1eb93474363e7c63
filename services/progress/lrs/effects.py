"""What a stored statement about a teacher changes in their progress (docs/lrs.md "Attribution")."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session


def apply(session: Session, rows: list[dict[str, Any]]) -> None:
    """Placeholder until the rules land."""

"""Content negotiation by the Accept header (RFC 9110 §12.5.1): the quality a client gives each type."""

from __future__ import annotations

from collections.abc import Sequence


def qualities(accept: str) -> dict[str, float]:
    """Each media type the header names with its q (1 when absent, 0 when unreadable)."""
    wanted: dict[str, float] = {}
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        key = media.strip().lower()
        wanted[key] = max(q, wanted.get(key, 0.0))
    return wanted


def wants_page(accept: str, machine_types: Sequence[str]) -> bool:
    """A person's browser: text/html at least as wanted as any of the machine types (no Accept, or
    */*, is a machine)."""
    wanted = qualities(accept)
    html = wanted.get("text/html", 0.0)
    return html > 0 and html >= max(wanted.get(t, 0.0) for t in machine_types)

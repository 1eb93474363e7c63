"""The merged OpenAPI document: the gateway's own operations and every service's, with the problems the
gateway itself answers on the way (rate limits, an unreachable or slow service).

The gateway serves it at /openapi.json, merging what the services serve (gateway/proxy.py); the same
document is built in-process from the four route tables, with no server running, by

    .venv/bin/python -m gateway.openapi > docs/openapi.json

and docs/openapi.json is committed (tests/unit/test_openapi.py fails when it is out of date).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from gateway.ratelimit import LIMITED_PREFIXES
from libs.api import add_problems, build_openapi

TITLE = "Ustaz API"
RATE_LIMITED = {429: "more requests a minute than this address or user may make (see Retry-After)"}
PROXIED = {
    **RATE_LIMITED,
    502: "the service behind the gateway is not reachable",
    503: "the service behind the gateway is unavailable",
    504: "the service behind the gateway did not answer in time",
}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def merge(gateway: dict[str, Any], services: Mapping[str, dict[str, Any] | None]) -> dict[str, Any]:
    """The gateway's document plus each service's (None: that service did not answer; its name goes in
    `info.x-unavailable-services`). The inputs are left as they are."""
    spec: dict[str, Any] = json.loads(json.dumps(gateway))
    spec["info"] = {"title": TITLE, "version": gateway["info"]["version"]}
    for path, operations in spec["paths"].items():
        if path.startswith(LIMITED_PREFIXES):
            _add_to_each(operations, RATE_LIMITED)
    missing = []
    for name, part in services.items():
        if part is None:
            missing.append(name)
            continue
        for path, operations in json.loads(json.dumps(part.get("paths", {}))).items():
            _add_to_each(operations, PROXIED)
            spec["paths"][path] = operations
        spec["components"]["schemas"].update(part.get("components", {}).get("schemas", {}))
    spec["paths"] = dict(sorted(spec["paths"].items()))
    if missing:
        spec["info"]["x-unavailable-services"] = missing
    return spec


def _add_to_each(operations: dict[str, Any], problems: Mapping[int, str]) -> None:
    for method, operation in operations.items():
        if method in METHODS:
            add_problems(operation, problems)


def document() -> dict[str, Any]:
    """The merged document from the route tables in this process (what a gateway serves once every
    service answers)."""
    from gateway.routes import routes
    from services.certificates.routes import routes as certificates
    from services.courses.routes import routes as courses
    from services.progress.routes import routes as progress

    parts = {"courses": courses, "progress": progress, "certificates": certificates}
    return merge(
        build_openapi(routes, title="Ustaz gateway"),
        {name: build_openapi(table, title=f"Ustaz {name}") for name, table in parts.items()},
    )


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    sys.stdout.write(render(document()))


if __name__ == "__main__":
    main()

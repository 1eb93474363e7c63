"""The HTTP rules every /xapi request follows (Communication 1, 3.3): the alternate request syntax
(a POST with `?method=` and a form carrying headers, `content` and parameters), the
`X-Experience-API-Version` header required on requests (except /about) and sent on every answer,
CORS for browser content, and the body limit."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.requests import Request

from libs.errors import BadRequest, PayloadTooLarge

VERSION = "1.0.3"
SUPPORTED_VERSION = re.compile(r"^1\.0(\.[0-9]+)?$")
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
# Form fields of the alternate syntax that are headers (Communication 1.3.s3.b7).
FORM_HEADERS = {
    "authorization",
    "x-experience-api-version",
    "content-type",
    "content-length",
    "if-match",
    "if-none-match",
}
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "HEAD, GET, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Content-Type, Content-Length, Authorization, X-Experience-API-Version, If-Match, If-None-Match, "
        "X-Experience-API-Hash, Accept-Language"
    ),
    "Access-Control-Expose-Headers": (
        "ETag, Last-Modified, Cache-Control, Content-Type, Content-Length, WWW-Authenticate, "
        "X-Experience-API-Version, X-Experience-API-Consistent-Through"
    ),
}


@dataclass
class XapiRequest:
    method: str
    resource: str  # the path after /xapi/: "statements", "activities/state", ...
    params: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    alternate: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


async def read(request: Request, resource: str, max_bytes: int) -> XapiRequest:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"the body exceeds {max_bytes} bytes")
    headers = {k.lower(): v for k, v in request.headers.items()}
    params = _single(list(request.query_params.multi_items()))
    method = request.method
    if "method" not in params:
        return XapiRequest(method, resource, params, headers, bytes(body))
    if method != "POST":
        raise BadRequest("The alternate request syntax (?method=) is a POST.")
    return _alternate(resource, params, headers, bytes(body))


def _single(items: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in items:
        if name in out:
            raise BadRequest(f"The parameter {name!r} is given twice.")
        out[name] = value
    return out


def _alternate(resource: str, params: dict[str, str], headers: dict[str, str], body: bytes) -> XapiRequest:
    """A POST standing for another method: the query string holds only `method`; the form holds the
    headers, the `content` and every parameter (Communication 1.3)."""
    method = params.pop("method").upper()
    if params:
        raise BadRequest(
            f"With ?method= the parameters go in the form body, not the query ({', '.join(sorted(params))})."
        )
    if method not in METHODS:
        raise BadRequest(f"method must be one of {', '.join(METHODS)}.")
    if headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise BadRequest("The alternate request syntax sends application/x-www-form-urlencoded.")
    try:
        form = _single(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("The form body is not application/x-www-form-urlencoded.") from exc
    content = form.pop("content", None)
    if method in ("PUT", "POST") and content is None:
        raise BadRequest("The alternate request syntax carries the content in a form field named 'content'.")
    merged = {k: v for k, v in headers.items() if k not in ("content-type", "content-length")}
    merged["content-type"] = "application/json"
    for name in [n for n in form if n.lower() in FORM_HEADERS]:
        merged[name.lower()] = form.pop(name)
    return XapiRequest(method, resource, form, merged, (content or "").encode("utf-8"), alternate=True)


def check_version(xreq: XapiRequest) -> None:
    version = xreq.header("X-Experience-API-Version")
    if version is None:
        raise BadRequest("Every request to this LRS needs the X-Experience-API-Version header (1.0.3).")
    if not SUPPORTED_VERSION.match(version.strip()):
        raise BadRequest(f"X-Experience-API-Version {version!r} is not supported; this LRS speaks 1.0.3.")


def base_headers() -> dict[str, str]:
    return {"X-Experience-API-Version": VERSION, **CORS}

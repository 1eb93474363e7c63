"""Calls from one service to another, with a service token from the gateway (client credentials).

Synchronous on purpose: it runs in Celery tasks and in worker threads of routes, next to the
synchronous business functions that need it.
"""

from __future__ import annotations

import threading
import time
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from libs.errors import BadGateway, validation_errors
from libs.ids import identifier
from libs.settings import CommonSettings

M = TypeVar("M", bound=BaseModel)
# uvicorn closes a connection idle for 5 s (--timeout-keep-alive): a pooled one kept as long races
# that close and fails "Server disconnected without sending a response". Ours expire well before.
KEEPALIVE_SECONDS = 2.0


class UnexpectedBody(BadGateway):
    """The other service answered 200 with a body that is not the model it promises (a contract
    mismatch between two deployments: never retried, never half-read)."""


class ServicePath(str):
    """A path this module built from typed parts (`service_path`): the client sends nothing else, so
    no value from a request can add segments, a `..`, a query or a fragment to it."""

    __slots__ = ()


def service_path(*parts: str | int) -> ServicePath:
    """`/part/part/...`, each part an identifier (libs.ids; an invalid one is a 404 problem: nothing
    can be at such a path) or an int, percent-quoted as one segment."""
    segments = [str(p) if isinstance(p, int) else quote(identifier(p), safe="") for p in parts]
    return ServicePath("/" + "/".join(segments))


class UpstreamRefused(BadGateway):
    """The other service refused a request this one built (a 4xx): `status` says how."""

    def __init__(self, detail: str, status: int) -> None:
        super().__init__(detail)
        self.upstream_status = status


class ServiceClient:
    def __init__(
        self,
        *,
        gateway_url: str,
        client_id: str,
        client_secret: str,
        target: str,
        base_url: str,
        timeout: float = 10.0,
    ) -> None:
        self.gateway_url = gateway_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.target = target
        self.http = httpx.Client(
            base_url=base_url, timeout=timeout, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS)
        )
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() > self._expires - 60:
                response = httpx.post(
                    f"{self.gateway_url}/auth/service-token",
                    timeout=10,
                    json={
                        "client_id": self.client_id,
                        "client_secret": self.client_secret,
                        "audience": self.target,
                    },
                )
                if response.status_code != 200:
                    raise BadGateway(f"the gateway refused a service token ({response.status_code})")
                body = response.json()
                self._token = body["access_token"]
                self._expires = time.monotonic() + body["expires_in"]
            return self._token

    def get_json(self, path: ServicePath, **params: Any) -> Any:
        """GET `path` (built by `service_path`; any other string is refused) with query `params`."""
        if not isinstance(path, ServicePath):
            raise TypeError("ServiceClient paths are built with service_path(...), not formatted strings")
        headers = {"Authorization": f"Bearer {self.token()}"}
        try:
            response = self.http.get(path, params=params or None, headers=headers)
        except httpx.RemoteProtocolError:  # a pooled connection the server had just closed: once more
            response = self.http.get(path, params=params or None, headers=headers)
        if response.status_code >= 500:
            response.raise_for_status()
        if response.status_code != 200:
            raise BadGateway(f"{self.target} answered {response.status_code} for {path}")
        return response.json()

    def get_model(self, path: ServicePath, model: type[M], **params: Any) -> M:
        """`get_json` validated against the body model the producing service owns (its schemas.py,
        the one its route serialises through)."""
        body = self.get_json(path, **params)
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            raise UnexpectedBody(
                f"{self.target} answered {path} with a body that is not a {model.__name__}",
                errors=validation_errors(exc),
            ) from exc

    def post_model(self, path: ServicePath, body: BaseModel, model: type[M]) -> M:
        """POST `body` as JSON to `path` (built by `service_path`); the answer validated like
        `get_model`. A 4xx is a BadGateway carrying the other service's status (a request this
        service built wrongly)."""
        if not isinstance(path, ServicePath):
            raise TypeError("ServiceClient paths are built with service_path(...), not formatted strings")
        response = self.http.post(
            path,
            content=body.model_dump_json(exclude_none=True),
            headers={"Authorization": f"Bearer {self.token()}", "Content-Type": "application/json"},
        )
        if response.status_code >= 500:
            response.raise_for_status()
        if response.status_code != 200:
            raise UpstreamRefused(
                f"{self.target} answered {response.status_code} for {path}", response.status_code
            )
        try:
            return model.model_validate(response.json())
        except ValidationError as exc:
            raise UnexpectedBody(
                f"{self.target} answered {path} with a body that is not a {model.__name__}",
                errors=validation_errors(exc),
            ) from exc

    def close(self) -> None:
        self.http.close()


def service_client(settings: CommonSettings, client_id: str, target: str) -> ServiceClient:
    """`client_id`'s client of `target` ("gateway", "courses", "progress", "certificates") at its internal
    address from the settings."""
    return ServiceClient(
        gateway_url=settings.gateway_url,
        client_id=client_id,
        client_secret=settings.service_client_secret,
        target=target,
        base_url=getattr(settings, f"{target}_url"),
    )

"""The gateway's typed app state (built by libs.web.create_app and the start-up hooks in app.py and
web/app.py; read through `state(request)`)."""

from __future__ import annotations

from typing import Any

import aiohttp
from jinja2 import Environment
from starlette.applications import Starlette
from starlette.requests import Request

from gateway.keys import SigningKey
from gateway.service import TokenIssuer
from gateway.settings import GatewaySettings
from libs.state import ServiceState, typed_state


class GatewayState(ServiceState):
    settings: GatewaySettings
    keys: list[SigningKey]
    issuer: TokenIssuer
    proxy_sessions: dict[str, aiohttp.ClientSession]  # one pool per upstream service
    templates: Environment
    content_fallback: dict[str, list[str]]
    merged_openapi: tuple[float, dict[str, Any]]  # (expires at, spec): the services' merged document


def state(request: Request) -> GatewayState:
    return typed_state(request.app, GatewayState)


def app_state(app: Starlette) -> GatewayState:
    return typed_state(app, GatewayState)

"""Typed app state: what every process keeps on `app.state`, as a class the checker sees."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import redis.asyncio as aioredis
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.requests import Request

from libs.auth import TokenVerifier
from libs.redis_guard import RedisGuard
from libs.settings import CommonSettings

if TYPE_CHECKING:
    from libs.outbox import OutboxRelay


class ServiceState(State):
    """The typed `app.state` of every process: `create_app` installs an instance of the service's
    subclass (services/<name>/state.py), its lifespan fills it, handlers read it through the
    service's `state(request)` accessor instead of untyped attributes."""

    settings: CommonSettings
    openapi: Callable[[], dict[str, Any]]  # the OpenAPI document, built on first use and kept
    http: httpx.AsyncClient
    redis: aioredis.Redis  # sub-second timeouts, no retries: use it through redis_guard.run
    redis_guard: RedisGuard
    verifier: TokenVerifier
    engine: Engine  # only in a process with a database
    relay: OutboxRelay


S = TypeVar("S", bound=ServiceState)


def typed_state(app: Starlette, kind: type[S]) -> S:
    state = app.state
    if not isinstance(state, kind):
        raise TypeError(
            f"app.state is {type(state).__name__}, not {kind.__name__}: build the app with create_app"
        )
    return state


def base_state(request: Request) -> ServiceState:
    """What every process has (libs code that serves any service)."""
    return typed_state(request.app, ServiceState)

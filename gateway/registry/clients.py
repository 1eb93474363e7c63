"""The EMIS-export client: its own client credentials (USTAZ_EMIS_CLIENT_SECRET; empty = no such
client), a token for the gateway's registry and the progress service with the `emis_export` role, the
only service role that receives national IDs (docs/registry.md)."""

from __future__ import annotations

import hmac

from gateway.schemas import ServiceTokenRequest, TokenPair
from gateway.service import TokenIssuer
from gateway.settings import GatewaySettings
from libs.auth import audience
from libs.errors import Unauthorized

EMIS_CLIENT = "emis"


def emis_token(issuer: TokenIssuer, settings: GatewaySettings, body: ServiceTokenRequest) -> TokenPair | None:
    """A token for the EMIS client, or None when the request is for another client."""
    if body.client_id != EMIS_CLIENT:
        return None
    secret = settings.emis_client_secret
    if not secret or not hmac.compare_digest(body.client_secret.encode(), secret.encode()):
        raise Unauthorized("Unknown client or wrong secret.")
    token = issuer.sign(
        f"service:{EMIS_CLIENT}",
        [audience("gateway"), audience("progress")],
        {"roles": ["service", "emis_export"], "name": EMIS_CLIENT},
    )
    return TokenPair(access_token=token, expires_in=int(issuer.ttl.total_seconds()))

"""Every way a token can be wrong gets a definite refusal from the verifier every service uses."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.keys import jwks, public_jwk
from libs.auth import InvalidToken, KeySet, TokenVerifier

ISS, AUD = "ustaz-gateway", "ustaz-courses"


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def kid(key: Ed25519PrivateKey) -> str:
    return public_jwk(key.public_key())["kid"]


def verifier_for(key: Ed25519PrivateKey) -> TokenVerifier:
    keyset = KeySet("http://unused.invalid/jwks", httpx.AsyncClient(), refresh_interval=float("inf"))
    jwk = public_jwk(key.public_key())
    keyset.load({"keys": [jwk]})
    return TokenVerifier(keyset, ISS, AUD)


def claims(**over: object) -> dict[str, object]:
    now = datetime.now(UTC)
    base: dict[str, object] = {
        "iss": ISS,
        "aud": [AUD, "ustaz-progress"],
        "sub": "u1",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": "j1",
        "roles": ["teacher"],
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: Ed25519PrivateKey, kid: str, **over: object) -> str:
    return jwt.encode(claims(**over), key, algorithm="EdDSA", headers={"kid": kid})


def verify(verifier: TokenVerifier, token: str) -> dict[str, object]:
    return asyncio.run(verifier.verify(token))


def test_a_good_token_verifies(key: Ed25519PrivateKey, kid: str) -> None:
    assert verify(verifier_for(key), sign(key, kid))["sub"] == "u1"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"exp": datetime.now(UTC) - timedelta(minutes=5)}, "expired"),
        ({"aud": ["ustaz-progress"]}, "aud"),
        ({"iss": "someone-else"}, "iss"),
        ({"jti": None}, "jti"),
        ({"sub": None}, "sub"),
    ],
)
def test_claims_are_enforced(
    key: Ed25519PrivateKey, kid: str, change: dict[str, object], reason: str
) -> None:
    with pytest.raises(InvalidToken, match=reason):
        verify(verifier_for(key), sign(key, kid, **change))


def test_a_signature_by_another_key_under_our_kid_is_refused(key: Ed25519PrivateKey, kid: str) -> None:
    forged = sign(Ed25519PrivateKey.generate(), kid)
    with pytest.raises(InvalidToken, match="signature"):
        verify(verifier_for(key), forged)


def test_alg_none_is_refused(key: Ed25519PrivateKey, kid: str) -> None:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": kid}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims(iat=0, exp=2**40)).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="algorithm"):
        verify(verifier_for(key), f"{header}.{body}.")


def test_hs256_signed_with_the_public_key_is_refused(key: Ed25519PrivateKey, kid: str) -> None:
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    import hashlib
    import hmac

    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": kid}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims(iat=0, exp=2**40)).encode()).rstrip(b"=")
    mac = hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest()
    token = (header + b"." + body + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
    with pytest.raises(InvalidToken, match="algorithm 'HS256'"):
        verify(verifier_for(key), token)


def test_an_unknown_kid_is_refused(key: Ed25519PrivateKey) -> None:
    with pytest.raises(InvalidToken, match="kid"):
        verify(verifier_for(key), sign(key, "not-a-known-kid"))


def test_a_token_without_kid_is_refused(key: Ed25519PrivateKey) -> None:
    token = jwt.encode(claims(), key, algorithm="EdDSA")
    with pytest.raises(InvalidToken, match="kid"):
        verify(verifier_for(key), token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "e30.e30.e30"])
def test_malformed_tokens_are_refused(key: Ed25519PrivateKey, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verify(verifier_for(key), garbage)


def test_jwks_lists_every_key_newest_first(tmp_path: object) -> None:
    from pathlib import Path

    from gateway.keys import load_or_create_keys, write_new_key

    directory = Path(str(tmp_path))
    first = load_or_create_keys(directory, create=True)
    import os
    import time

    path = write_new_key(directory)
    os.utime(path, (time.time() + 5, time.time() + 5))
    keys = load_or_create_keys(directory, create=False)
    assert len(keys) == 2 and keys[1].kid == first[0].kid
    assert [k["kid"] for k in jwks(keys)["keys"]] == [keys[0].kid, first[0].kid]


def test_a_verified_token_is_remembered_only_until_it_expires(key: Ed25519PrivateKey, kid: str) -> None:
    verifier = verifier_for(key)
    token = sign(key, kid)
    first = verify(verifier, token)
    verifier.keys.load({"keys": []})  # the key is gone: only the remembered verdict can answer
    assert verify(verifier, token) == first
    # Once the remembered claims have expired the token is checked again, and now refused.
    verifier._verified[token] = {**first, "exp": datetime.now(UTC).timestamp() - 1}
    with pytest.raises(InvalidToken):
        verify(verifier, token)
    # A token differing in one character is never served from the cache.
    verifier.keys.load({"keys": [public_jwk(key.public_key())]})
    verify(verifier, token)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(InvalidToken):
        verify(verifier, tampered)

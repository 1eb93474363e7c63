"""The gateway's Ed25519 signing keys for access tokens, and the JWKS that publishes them."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from libs.encoding import b64url_encode as b64url


def public_jwk(public: Ed25519PublicKey) -> dict[str, str]:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    # RFC 7638 thumbprint: stable, derived from the key, so every process agrees on the kid.
    thumbprint = hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest()
    return {**jwk, "kid": b64url(thumbprint), "alg": "EdDSA", "use": "sig"}


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey
    jwk: dict[str, str]


def load_or_create_keys(key_dir: Path, *, create: bool) -> list[SigningKey]:
    """All keys in `key_dir`, newest first. The newest signs; the others stay published for rotation."""
    key_dir.mkdir(parents=True, exist_ok=True)
    files = sorted(key_dir.glob("*.pem"), key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    if not files:
        if not create:
            raise RuntimeError(f"no signing key in {key_dir}; mount one (see docs/operations.md)")
        files = [write_new_key(key_dir)]
    keys = []
    for path in files:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise RuntimeError(f"{path} is not an Ed25519 private key")
        jwk = public_jwk(private.public_key())
        keys.append(SigningKey(jwk["kid"], private, jwk))
    return keys


def write_new_key(key_dir: Path) -> Path:
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kid = public_jwk(private.public_key())["kid"]
    path = key_dir / f"{kid}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return path


def jwks(keys: list[SigningKey]) -> dict[str, Any]:
    return {"keys": [k.jwk for k in keys]}


def main(argv: list[str] | None = None) -> int:
    """`python -m gateway.keys ensure|rotate [DIR]`: create the first signing key, or add a newer one
    (the newest signs; older keys stay published until removed from the directory)."""
    import argparse

    from gateway.settings import get_settings

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("action", choices=["ensure", "rotate"])
    parser.add_argument("key_dir", nargs="?", type=Path)
    args = parser.parse_args(argv)
    key_dir: Path = args.key_dir or get_settings().key_dir
    key_dir.mkdir(parents=True, exist_ok=True)
    if args.action == "rotate" or not any(key_dir.glob("*.pem")):
        print(f"new signing key {write_new_key(key_dir)}")
    else:
        print(f"signing key present in {key_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""W3C Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite (VC Data Integrity EdDSA
Cryptosuites v1.0, §3.3): the document and the proof configuration are each canonicalized (RDFC-1.0,
linked_data.canonize) and hashed with SHA-256; Ed25519 signs proofConfigHash ‖ documentHash; the
signature is the proof's `proofValue`, multibase base58btc. Keys are Multikeys (`z6Mk…`). Pure
functions of their inputs."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from libs.encoding import b58btc_decode, b58btc_encode
from services.certificates import linked_data

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
ED25519_MULTICODEC = b"\xed\x01"  # the multicodec prefix of an Ed25519 public key


class ProofError(ValueError):
    """The proof is not one this suite can check, or the document cannot be canonicalized."""


def multikey(raw_public: bytes) -> str:
    """An Ed25519 public key as a Multikey `publicKeyMultibase` (`z6Mk…`), as did:key writes it."""
    return "z" + b58btc_encode(ED25519_MULTICODEC + raw_public)


def raw_public_key(multibase: str) -> bytes:
    """The 32 raw bytes of an Ed25519 Multikey; ValueError if it is not one."""
    if not multibase.startswith("z"):
        raise ValueError("not a base58btc multibase value")
    data = b58btc_decode(multibase[1:])
    if not data.startswith(ED25519_MULTICODEC) or len(data) != 34:
        raise ValueError("not an Ed25519 Multikey")
    return data[2:]


_CREATED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_SENTINEL = "1970-01-01T00:00:00Z"
_CONFIGS: dict[str, str] = {}  # canonical proof options with the sentinel `created`, by their other members


def _canonical_config(config: Mapping[str, Any]) -> str:
    """The proof options' canonical N-Quads. They differ between credentials only in `created`; with a
    single blank node (the proof) and one `created` quad, its value changes neither the labels nor the
    order of the lines, so the options are canonicalized once with a sentinel date and the date is put
    in its place (checked: the sentinel occurs exactly once). Any other shape is canonicalized whole."""
    created = config.get("created")
    if not isinstance(created, str) or not _CREATED.fullmatch(created):
        return linked_data.canonize(config)
    key = json.dumps({k: v for k, v in config.items() if k != "created"}, sort_keys=True)
    template = _CONFIGS.get(key)
    if template is None:
        template = linked_data.canonize({**config, "created": _SENTINEL})
        if template.count(_SENTINEL) != 1 or template.count("_:") != template.count("_:c14n0"):
            return linked_data.canonize(config)
        if len(_CONFIGS) < 256:
            _CONFIGS[key] = template
    return template.replace(_SENTINEL, created)


def _hash_data(document: Mapping[str, Any], config: Mapping[str, Any]) -> bytes:
    try:
        config_hash = hashlib.sha256(_canonical_config(config).encode()).digest()
        document_hash = hashlib.sha256(linked_data.canonize(document).encode()).digest()
    except linked_data.NotLinkedData as exc:
        raise ProofError(str(exc)) from exc
    return config_hash + document_hash


@dataclass(frozen=True)
class Timing:
    """Where a proof's CPU time went (the benchmark reports the share of canonicalization)."""

    canonicalize: float = 0.0
    sign: float = 0.0


def add_proof(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    timing: list[Timing] | None = None,
) -> dict[str, Any]:
    """The document with an `eddsa-rdfc-2022` DataIntegrityProof (proofPurpose assertionMethod) made
    with the key that `verification_method` names. `proof` is a list of that one proof: VC 2.0 allows
    an object or a list, 1EdTech's OB 3.0 JSON schema only a list."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    started = time.process_time()
    data = _hash_data(unsecured, {"@context": unsecured["@context"], **proof})
    canonicalized = time.process_time()
    signature = private_key.sign(data)
    if timing is not None:
        timing.append(Timing(canonicalized - started, time.process_time() - canonicalized))
    return {**unsecured, "proof": [{**proof, "proofValue": "z" + b58btc_encode(signature)}]}


def proof_of(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The document's one Data Integrity proof; ProofError if it has none, several, or another kind."""
    proof = document.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    if not isinstance(proof, Mapping):
        raise ProofError("The credential has no single proof object.")
    if proof.get("type") != PROOF_TYPE:
        raise ProofError(f"The proof is a {proof.get('type')!r}, not a {PROOF_TYPE}.")
    if proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"The proof uses the cryptosuite {proof.get('cryptosuite')!r}, not {CRYPTOSUITE}.")
    if proof.get("proofPurpose") != "assertionMethod":
        raise ProofError("The proof's purpose is not assertionMethod.")
    if not isinstance(proof.get("verificationMethod"), str) or not isinstance(proof.get("proofValue"), str):
        raise ProofError("The proof names no verification method or carries no proofValue.")
    return proof


def verify_proof(document: Mapping[str, Any], raw_public: bytes) -> bool:
    """True if the document's proof is a valid `eddsa-rdfc-2022` signature by the key. ProofError if the
    proof or the document cannot be checked at all (another suite, not JSON-LD we can read)."""
    proof = proof_of(document)
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if "@context" not in unsecured:
        raise ProofError("The credential has no @context.")
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in config and config["@context"] != unsecured["@context"]:
        return False
    config["@context"] = unsecured["@context"]
    try:
        signature = b58btc_decode(str(proof["proofValue"]).removeprefix("z"))
    except ValueError:
        return False
    if not str(proof["proofValue"]).startswith("z") or len(signature) != 64:
        return False
    data = _hash_data(unsecured, config)
    try:
        Ed25519PublicKey.from_public_bytes(raw_public).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def raw_from_private(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

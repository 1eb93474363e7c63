"""A certificate issued by the processes `make run` starts, checked by tools nobody here wrote
(docs/adr/0017):

- the Digital Credentials Consortium's verifier-core (npm, the engine of the Learner Credential Wallet)
  says the JSON-LD credential's signature and revocation status are valid, and "revoked" once the
  institute revokes it. It runs offline: its HTTP (did:web documents, the status list) goes to the
  platform under test (tests/outside/verify.mjs);
- 1EdTech's Open Badges 3.0 JSON Schema finds 0 errors in it (both forms);
- every URI in the credential, both forms, resolves: nothing is a 404.

Two platforms of their own: one whose public URL is HTTPS (the issuer is a did:web, resolved through
the platform), one on plain HTTP as `make run` is (the issuer is a did:key)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from jsonschema import Draft201909Validator
from referencing import Registry, Resource

from deploy.demo import login, walk_journey
from services.certificates import linked_data
from tests.servers import platform_on_free_ports

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = ROOT / "tests" / "outside"
PUBLIC_HTTPS = "https://ustaz.test"
# 1EdTech's published OB 3.0 schema: verifier-core fetches it by this URL (served from the local copy).
SCHEMA_FILE = "ob_v3p0_achievementcredential_schema.json"
OB_SCHEMA_URL = f"https://purl.imsglobal.org/spec/ob/v3p0/schema/json/{SCHEMA_FILE}"


def ob_schema_dir() -> Path:
    """1EdTech's OB 3.0 JSON schema (ob_v3p0_achievementcredential_schema.json): the copy committed in
    tests/outside/ob_v3p0_schema (its NOTICE.md says where it comes from), or USTAZ_OB3_SCHEMA_DIR."""
    chosen = os.environ.get("USTAZ_OB3_SCHEMA_DIR")
    directory = Path(chosen) if chosen else OUTSIDE / "ob_v3p0_schema"
    assert (directory / SCHEMA_FILE).exists(), f"{directory / SCHEMA_FILE} is missing"
    return directory


@pytest.fixture(scope="module", params=["https", "http"])
def issued(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A platform of its own and the demo teacher's certificate on it, in both forms."""
    https = request.param == "https"
    extra = {"USTAZ_PUBLIC_URL": PUBLIC_HTTPS} if https else None
    running = platform_on_free_ports(tmp_path_factory.mktemp(f"outside-{request.param}"), extra_env=extra)
    with running:
        running.start(timeout=120)
        base = running.urls["gateway"]
        seen = walk_journey(base, say=lambda _: None)
        (cert,) = seen["certificates"]
        with httpx.Client(base_url=base, timeout=30) as client:
            teacher = login(client, "teacher")
            path = f"/api/v1/certificates/{cert['id']}/credential"
            ld = client.get(path, headers={**teacher, "accept": "application/vc+ld+json"})
            token = client.get(path, headers=teacher).text
        assert ld.status_code == 200, ld.text
        yield {
            "base": base,
            "public": PUBLIC_HTTPS if https else base,
            "cert": cert,
            "credential": ld.json(),
            "jwt": token,
            "https": https,
        }


def verifier_core(credential: dict[str, Any], issued: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is missing: `make test` installs Debian's nodejs and npm"
    assert (OUTSIDE / "node_modules" / "@digitalcredentials" / "verifier-core").exists(), (
        "run `npm ci` in tests/outside (make test does)"
    )
    files = {OB_SCHEMA_URL: str(ob_schema_dir() / SCHEMA_FILE)}
    payload = {"credential": credential, "origins": {issued["public"]: issued["base"]}, "files": files}
    done = subprocess.run(
        [node, str(OUTSIDE / "verify.mjs")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=OUTSIDE,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def steps(result: dict[str, Any]) -> dict[str, Any]:
    assert not result.get("errors"), json.dumps(result.get("errors"), indent=1)[:3000]
    return {step["id"]: step for step in result["log"]}


def test_verifier_core_says_valid_then_revoked(issued: dict[str, Any]) -> None:
    answer = verifier_core(issued["credential"], issued)
    log = steps(answer["result"])
    assert log["valid_signature"]["valid"] is True
    assert log["revocation_status"]["valid"] is True, log["revocation_status"]
    assert log["expiration"]["valid"] is True
    # It resolved our issuer and our status list, and reached nothing else but 1EdTech's schema.
    public = issued["public"]
    assert all(
        url.startswith(public) or url.startswith("https://purl.imsglobal.org/") for url in answer["requested"]
    )
    assert any("/status-lists/" in url for url in answer["requested"])
    if issued["https"]:
        assert (
            issued["credential"]["issuer"]["id"]
            == f"did:web:ustaz.test:institutes:{issued['cert']['institute_id']}"
        )
        assert f"{public}/institutes/{issued['cert']['institute_id']}/did.json" in answer["requested"]
    else:
        assert issued["credential"]["issuer"]["id"].startswith("did:key:z6Mk")
    # verifier-core's own check against 1EdTech's schema (fetched by its URL, served from the copy).
    assert OB_SCHEMA_URL in answer["requested"]
    (schema,) = answer["result"]["additionalInformation"][0]["results"]
    assert schema["schema"] == OB_SCHEMA_URL and schema["result"]["valid"] is True, schema

    # A tampered copy is refused.
    tampered = json.loads(json.dumps(issued["credential"]))
    tampered["name"] += "!"
    bad = verifier_core(tampered, issued)["result"]
    assert bad.get("errors") or steps(bad)["valid_signature"]["valid"] is False

    # The institute revokes it: the re-signed list says so to verifier-core.
    with httpx.Client(base_url=issued["base"], timeout=30) as client:
        admin = login(client, "institute")
        revoked = client.post(
            f"/api/v1/certificates/{issued['cert']['id']}/revoke",
            headers=admin,
            json={"reason": "outside check"},
        )
        assert revoked.status_code == 200, revoked.text
    log = steps(verifier_core(issued["credential"], issued)["result"])
    assert log["valid_signature"]["valid"] is True
    assert log["revocation_status"]["valid"] is False  # revoked


def uris(value: Any) -> set[str]:
    """Every absolute URI in a JSON value (strings that are URLs or DIDs), @context entries aside."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key != "@context":
                found |= uris(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= uris(inner)
    elif isinstance(value, str) and (value.startswith(("http://", "https://", "did:"))):
        found.add(value)
    return found


def test_no_uri_in_the_credential_is_dead(issued: dict[str, Any]) -> None:
    credential = issued["credential"]
    claims = jwt.decode(issued["jwt"], options={"verify_signature": False})
    header = jwt.get_unverified_header(issued["jwt"])
    everything = uris(credential) | uris(claims) | {header["kid"]}
    public, base = issued["public"], issued["base"]
    # The contexts are not ours to serve: the document loader ships every one.
    assert set(credential["@context"]) <= set(linked_data.CONTEXTS)
    kinds = {"achievement": 0, "criteria": 0, "alignment": 0, "status": 0, "did": 0}
    with httpx.Client(base_url=base, timeout=30) as client:
        for uri in sorted(everything):
            if uri.startswith("did:key:"):
                continue  # a did:key resolves from itself: its key is the identifier
            if uri.startswith("did:web:"):
                did, _, fragment = uri.partition("#")
                institute = did.rsplit(":", 1)[1]
                response = client.get(f"/institutes/{institute}/did.json")
                assert response.status_code == 200, uri
                document = response.json()
                assert document["id"] == did
                if fragment:
                    assert uri in {m["id"] for m in document["verificationMethod"]}, uri
                    assert uri in document["assertionMethod"], uri
                kinds["did"] += 1
                continue
            assert uri.startswith(public), f"{uri} points outside the platform"
            path = uri.removeprefix(public).split("#", 1)[0] or "/"
            for accept in ("text/html", "application/ld+json"):
                response = client.get(path, headers={"accept": accept})
                assert response.status_code == 200, f"{uri} ({accept}): {response.status_code}"
            if "/achievement" in path:
                kinds["achievement"] += 1
            elif "/criteria" in path:
                kinds["criteria"] += 1
            elif "/frameworks/" in path:
                kinds["alignment"] += 1
            elif "/status-lists/" in path:
                kinds["status"] += 1
        # People get pages and machines JSON-LD, from the same address.
        achievement = credential["credentialSubject"]["achievement"]
        for uri in (
            achievement["id"],
            achievement["criteria"]["id"],
            achievement["alignment"][0]["targetUrl"],
        ):
            path = uri.removeprefix(public)
            page = client.get(path, headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
            assert page.headers["content-type"].startswith("text/html") and "<h1" in page.text
            machine = client.get(path, headers={"accept": "application/ld+json"})
            assert machine.headers["content-type"].startswith("application/ld+json")
            document = machine.json()
            assert document["id"] == uri
            linked_data.canonize(document)  # JSON-LD that expands with no term left out
        assert (
            client.get("/frameworks/NOPE/items/X", headers={"accept": "application/ld+json"}).status_code
            == 404
        )
        # The JWT VC issuer metadata at its well-known address names the JWT's key under its kid.
        institute = issued["cert"]["institute_id"]
        for path in ("/.well-known/jwt-vc-issuer", f"/.well-known/jwt-vc-issuer/institutes/{institute}"):
            metadata = client.get(path)
            assert metadata.status_code == 200, path
            assert header["kid"] in {k["kid"] for k in metadata.json()["jwks"]["keys"]}
    assert kinds["achievement"] and kinds["criteria"] and kinds["alignment"] and kinds["status"]
    assert kinds["did"] == (2 if issued["https"] else 0)  # the issuer and the key (twice: JWT kid, proof)


def test_the_credential_passes_1edtechs_schema(issued: dict[str, Any]) -> None:
    schemas = ob_schema_dir()
    loaded = {p.name: json.loads(p.read_text("utf-8")) for p in schemas.glob("*.json")}
    registry: Registry[Any] = Registry().with_resources(
        (
            doc.get("$id", f"https://purl.imsglobal.org/spec/ob/v3p0/schema/json/{name}"),
            Resource.from_contents(doc),
        )
        for name, doc in loaded.items()
    )
    validator = Draft201909Validator(loaded["ob_v3p0_achievementcredential_schema.json"], registry=registry)
    claims = jwt.decode(issued["jwt"], options={"verify_signature": False})
    unsecured = {k: v for k, v in claims.items() if k not in ("iss", "jti", "sub", "nbf", "exp")}
    for form in (issued["credential"], unsecured):
        errors = sorted(validator.iter_errors(form), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    # The schema does find faults: without its issuer, or with a proof that is not a list, it fails.
    no_issuer = {k: v for k, v in issued["credential"].items() if k != "issuer"}
    bare_proof = {**issued["credential"], "proof": issued["credential"]["proof"][0]}
    for broken in (no_issuer, bare_proof):
        assert any(True for _ in validator.iter_errors(broken))

"""The production shape stays in step with the code: every process, variable and module named in
docker-compose.yml, the Kubernetes manifests, the Dockerfile and the Procfile exists."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from deploy.platform import ROOT, read_procfile
from gateway.settings import GatewaySettings
from services.certificates.settings import CertificatesSettings
from services.courses.settings import CoursesSettings
from services.progress.practice.settings import PracticeSettings
from services.progress.settings import ProgressSettings

SETTINGS = [GatewaySettings, CoursesSettings, ProgressSettings, PracticeSettings, CertificatesSettings]
KNOWN_VARS = {f"USTAZ_{field.upper()}" for cls in SETTINGS for field in cls.model_fields}
QUEUES = {"grading", "certificates", "reminders", "analytics", "registry"}


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def manifests() -> list[dict[str, Any]]:
    docs = []
    for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])


def app_modules(argv: list[str]) -> list[str]:
    """Python modules a command starts: `uvicorn pkg.mod:app`, `celery -A pkg.mod`, `python -m pkg.mod`."""
    text = " ".join(argv)
    found = re.findall(r"uvicorn\s+([\w.]+):\w+", text) + re.findall(r"-A\s+([\w.]+)", text)
    found += re.findall(r"python -m ([\w.]+)", text)
    return found


def test_every_procfile_process_is_in_compose_and_kubernetes() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "gateway", "courses", "progress", "certificates", "beat"} <= set(
        services
    )
    worker_queues = {
        q
        for name, svc in services.items()
        if name.startswith("worker")
        for q in svc["command"][svc["command"].index("-Q") + 1].split(",")
    }
    assert worker_queues == QUEUES  # a worker per queue
    assert services["postgres"]["image"].startswith("postgres:16") and services["redis"]["image"].startswith(
        "redis:7"
    )
    kinds = {(d["kind"], d["metadata"]["name"]) for d in manifests()}
    for name in read_procfile():
        assert ("Deployment", f"ustaz-{name}") in kinds, name
    for name in ("gateway", "courses", "progress", "certificates"):
        assert ("Service", f"ustaz-{name}") in kinds, name
    assert ("Job", "ustaz-migrate") in kinds and ("HorizontalPodAutoscaler", "ustaz-worker") in kinds


def test_every_started_module_exists() -> None:
    commands = [
        svc["command"] for svc in compose()["services"].values() if isinstance(svc.get("command"), list)
    ]
    commands += [c["command"] for d in manifests() for c in containers(d)]
    commands += [line.split() for line in read_procfile().values()]
    modules = {m for argv in commands for m in app_modules(argv)}
    modules |= {
        env.get("APP", "").split(":")[0]
        for svc in compose()["services"].values()
        if isinstance(env := svc.get("environment"), dict)
    } - {""}
    assert {"gateway.app", "services.courses.app", "libs.celery_app", "libs.migrate"} <= modules
    for module in modules:
        importlib.util.find_spec(module) or pytest.fail(f"{module} does not exist")


def test_every_configured_variable_is_a_setting() -> None:
    env = compose()["x-app"]["environment"]
    config = [d for d in manifests() if d["kind"] in ("ConfigMap", "Secret")]
    names = set(env) | {k for d in config for k in {**d.get("data", {}), **d.get("stringData", {})}}
    unknown = {n for n in names if n.startswith("USTAZ_")} - KNOWN_VARS
    assert not unknown, f"not a setting of any process: {unknown}"


def test_the_placeholder_secrets_refuse_to_start() -> None:
    secret = next(d for d in manifests() if d["metadata"]["name"] == "ustaz-secrets")
    values = {k.removeprefix("USTAZ_").lower(): v for k, v in secret["stringData"].items()}
    for cls in SETTINGS:
        fields = {k: v for k, v in values.items() if k in cls.model_fields}
        with pytest.raises(ValidationError, match="placeholder secrets"):
            cls(env="production", **fields)


def test_the_image_copies_what_the_processes_import() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    copied = re.findall(r"^COPY\s+(.+?)\s+\S+$", dockerfile, re.M)
    sources = {src for line in copied for src in line.split()}
    for needed in ("requirements.lock", "libs", "gateway", "services", "deploy/seed.py"):
        assert needed in sources, needed
    for src in sources:
        assert (ROOT / src).exists(), src


def test_the_event_table_names_every_topic_and_subscriber() -> None:
    """docs/architecture.md's event table stays in step with the code: every topic a service emits
    and every task subscribed in libs/events.py is in it."""
    import services.certificates.schemas
    import services.progress.schemas  # noqa: F401  (their event payloads register as subclasses)
    from libs.events import SUBSCRIPTIONS, EventPayload

    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    emitted = {
        p.topic for p in EventPayload.__subclasses__() if p.__module__.startswith(("services.", "gateway."))
    }
    assert {"submission.received", "course.completed", "certificate.issued"} <= emitted
    for topic in emitted | set(SUBSCRIPTIONS):
        assert f"`{topic}`" in doc, topic
    for task in {t for tasks in SUBSCRIPTIONS.values() for t in tasks}:
        assert f"`{task}`" in doc, task

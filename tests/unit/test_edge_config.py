"""The edge's limits agree wherever they are written (issue 15, items 1 and 10): the nginx configuration
in deploy/nginx against the gateway's settings, `nginx -t` on it, and the upstream keep-alive of the
gateway below the services' in every way the platform is started."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from gateway.settings import GatewaySettings
from libs.settings import CommonSettings

ROOT = Path(__file__).resolve().parents[2]
NGINX = ROOT / "deploy" / "nginx" / "ustaz.conf"
SECONDS = {"s": 1, "m": 60}
SIZES = {"k": 1024, "m": 1024 * 1024}


def directives(text: str) -> dict[str, list[str]]:
    """`name value...;` lines of an nginx file (comments dropped), every occurrence of each name."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"(\w+)\s+(.+);", line)
        if match:
            found.setdefault(match[1], []).append(match[2])
    return found


def seconds(value: str) -> float:
    return float(value[:-1]) * SECONDS[value[-1]] if value[-1] in SECONDS else float(value)


def size(value: str) -> int:
    return int(value[:-1]) * SIZES[value[-1]] if value[-1] in SIZES else int(value)


def uvicorn_keep_alive(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"--timeout-keep-alive\W+(\d+)", text)]


def test_nginx_has_every_limit_and_the_gateways_numbers() -> None:
    d = directives(NGINX.read_text())
    gateway, common = GatewaySettings(), CommonSettings()
    for name in (
        "client_header_timeout",
        "client_body_timeout",
        "send_timeout",
        "limit_conn",
        "limit_req",
        "proxy_connect_timeout",
        "proxy_send_timeout",
        "proxy_read_timeout",
        "keepalive_timeout",
        "keepalive",
    ):
        assert name in d, name
    assert d["proxy_request_buffering"] == ["on"] and d["proxy_buffering"] == ["on"]
    assert size(d["client_max_body_size"][0]) == gateway.max_body_bytes
    assert seconds(d["client_body_timeout"][0]) <= common.body_grace_seconds
    assert (
        seconds(d["proxy_read_timeout"][0]) > gateway.proxy_timeout_seconds
    )  # the gateway's 504 comes first
    [rate] = re.findall(r"rate=(\d+)r/s", " ".join(d["limit_req_zone"]))
    assert int(rate) * 60 == gateway.rate_limit_per_ip
    # Upstream keep-alive (the second keepalive_timeout, inside `upstream`) below the gateway's uvicorn.
    to_gateway = seconds(d["keepalive_timeout"][1])
    assert to_gateway < min(uvicorn_keep_alive((ROOT / "deploy" / "Procfile").read_text()))
    assert "proxy_set_header" in d and 'Connection ""' in d["proxy_set_header"]  # keep-alive upstream


def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing: `make test` installs Debian's nginx-light"
    checked = subprocess.run(
        [nginx, "-t", "-c", str(NGINX), "-p", f"{tmp_path}/", "-g", f"pid {tmp_path}/nginx.pid;"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_the_gateways_upstream_keep_alive_is_below_every_services() -> None:
    """uvicorn closes an idle connection after --timeout-keep-alive (5 s by default); a gateway that
    kept it longer wrote requests into connections being closed: bursts of 502 after an idle spell."""
    keep = GatewaySettings().upstream_keepalive_seconds
    for path in ("deploy/Procfile", "deploy/k8s/apps.yaml", "docker-compose.yml", "deploy/Dockerfile"):
        text = (ROOT / path).read_text()
        starts = len(re.findall(r"\buvicorn\b.{0,40}(?:app|\$\$APP)\b", text))
        found = uvicorn_keep_alive(text)
        assert starts and len(found) >= starts, f"{path}: every uvicorn needs --timeout-keep-alive"
        assert all(keep + 3 <= n for n in found), (path, keep, found)

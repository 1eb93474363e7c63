"""/healthz, /readyz and /metrics for processes that are not HTTP apps (Celery worker and beat)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import redis
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from libs.events import QUEUES


class QueueLengthCollector(Collector):
    """Tasks waiting in each Celery queue, read from Redis at scrape time (the first thing an
    operator looks at when grading or certificates fall behind)."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url

    def collect(self):  # type: ignore[no-untyped-def]
        gauge = GaugeMetricFamily("celery_queue_length", "Tasks waiting in a Celery queue", labels=["queue"])
        try:
            client = redis.Redis.from_url(self.redis_url, socket_timeout=2)
            for queue in QUEUES:
                gauge.add_metric([queue], client.llen(queue))
        except redis.RedisError:
            return
        yield gauge


def start_probe_server(port: int, redis_url: str, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    REGISTRY.register(QueueLengthCollector(redis_url))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            if self.path == "/healthz":
                self._send(200, "application/json", json.dumps({"status": "ok"}).encode())
            elif self.path == "/readyz":
                try:
                    redis.Redis.from_url(redis_url, socket_timeout=2).ping()
                    self._send(200, "application/json", json.dumps({"status": "ready"}).encode())
                except redis.RedisError as exc:
                    body = {
                        "type": "/problems/not-ready",
                        "title": "Service unavailable",
                        "status": 503,
                        "detail": f"redis: {type(exc).__name__}",
                    }
                    self._send(503, "application/problem+json", json.dumps(body).encode())
            elif self.path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest())
            else:
                body = {"type": "/problems/not-found", "title": "Not found", "status": 404}
                self._send(404, "application/problem+json", json.dumps(body).encode())

        def _send(self, status: int, ctype: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="probe", daemon=True).start()
    return server

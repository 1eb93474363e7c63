"""Free local ports for a platform started on the side (the lite run, benchmarks, tests)."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_block(size: int) -> int:
    """The first port of `size` consecutive free ports."""
    for _ in range(50):
        base = free_port()
        if base + size > 65000:
            continue
        try:
            sockets = []
            for port in range(base, base + size):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no block of free ports")

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from bench.common import machine


def main(names: list[str]) -> int:
    available = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name not in ("common", "__main__")
    )
    unknown = [n for n in names if n not in available]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr
        )
        return 2
    print(machine())
    for name in names or available:
        print(importlib.import_module(f"bench.{name}").main(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`make run` keeps the platform up: a process that dies is restarted after a back-off that doubles
while it keeps dying soon after its start, with a line saying so (deploy/platform.py: supervise)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from deploy.platform import Platform


def test_a_dead_process_is_restarted_with_a_growing_back_off(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    marker = tmp_path / "starts"
    # Dies at once each time it starts, recording each start.
    script = f"open({str(marker)!r}, 'a').write('x'); raise SystemExit(3)"
    procfile.write_text(
        f'crashy: {sys.executable} -c "{script}"\nsteady: {sys.executable} -c "import time; time.sleep(60)"\n'
    )
    platform = Platform(tmp_path, procfile=procfile, log_dir=tmp_path / "logs")
    try:
        platform.start_process("crashy")
        platform.start_process("steady")
        platform.procs["crashy"].wait(10)
        now = time.monotonic()
        first = platform.supervise(now)
        assert first == [
            f"crashy exited with code 3 after 0 s; restarting it in 1 s (logs: {tmp_path / 'logs'})"
        ]
        assert platform.supervise(now + 0.5) == []  # waiting out the back-off
        assert platform.supervise(now + 1.0) == ["crashy restarted (restart 1 in a row)"]
        platform.procs["crashy"].wait(10)
        now = time.monotonic()
        assert "restarting it in 2 s" in platform.supervise(now)[0]  # died again at once: twice as long
        assert platform.supervise(now + 2.0) == ["crashy restarted (restart 2 in a row)"]
        platform.procs["crashy"].wait(10)
        assert marker.read_text() == "xxx"
        assert platform.procs["steady"].poll() is None  # the others were never touched
    finally:
        platform.stop()


def test_a_process_that_ran_a_while_starts_its_back_off_afresh(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text(f'crashy: {sys.executable} -c "raise SystemExit(1)"\n')
    platform = Platform(tmp_path, procfile=procfile)
    try:
        platform.start_process("crashy")
        platform.procs["crashy"].wait(10)
        platform._failures["crashy"] = 4  # it had been dying in a loop before...
        platform._started_at["crashy"] -= 120  # ...but this time it had run for two minutes
        assert "restarting it in 1 s" in platform.supervise()[0]
    finally:
        platform.stop()

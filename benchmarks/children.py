"""Benchmark children: each measured run in a fresh process, a few at a time."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_children(jobs: list[list[str]], parallel: int) -> None:
    """Run the commands of `jobs` in order, at most `parallel` at once, from the project root, and
    print each child's last output line (its JSON result) as it finishes, or a failure line."""
    pending = list(jobs)
    running: list[subprocess.Popen[str]] = []
    while pending or running:
        while pending and len(running) < parallel:
            running.append(
                subprocess.Popen(pending.pop(0), cwd=ROOT, stdout=subprocess.PIPE, text=True)
            )
        time.sleep(1.0)
        for child in [c for c in running if c.poll() is not None]:
            running.remove(child)
            assert child.stdout is not None
            lines = child.stdout.read().strip().splitlines()
            print(lines[-1] if lines else json.dumps({"failed": child.args}), flush=True)

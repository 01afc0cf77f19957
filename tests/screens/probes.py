"""Runs the geometry probe (geometry_probe.py) in one child process per screen, all at once, and collects results."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_probes(out: Path, screens: dict) -> dict:
    """``screens`` maps (width, height, device pixel ratio) to the scenario file names to probe on that screen;
    returns, for each, the probe's parsed RESULT line. Each screen gets its own settings folder under ``out``."""
    procs = {}
    for (w, h, dpr), names in screens.items():
        env = dict(os.environ, XDG_CONFIG_HOME=str(out / f"config-{w}x{h}@{dpr:g}"), PYTHONPATH=str(ROOT))
        procs[(w, h, dpr)] = subprocess.Popen(
            [sys.executable, "-m", "tests.screens.geometry_probe", str(w), str(h), str(dpr), str(out), *names],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = {}
    for key, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=180)
        lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
        assert proc.returncode == 0 and lines, stderr[-3000:]
        results[key] = json.loads(lines[-1][len("RESULT "):])
    return results

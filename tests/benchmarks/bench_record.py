"""Recording benchmark, run by hand (not collected by pytest): prints times measured in the same run.

    python tests/benchmarks/bench_record.py                 # 10 s at 30 fps, 1280x720, scenario 01
    python tests/benchmarks/bench_record.py --seconds 3     # quicker

The issue asks for a 10 s, 30 fps, 1280x720 MP4 of a bundled scenario in under 30 s on a 2-core machine.
Printed: (a) the reference, the same frames rendered and grabbed without encoding; (b) the MP4 recording
end to end (window set-up, 300 steps, grabbing, H.264 encoding, atomic rename); (c) the same as a GIF at
640x360; and the ratio (b)/(a), the share of the time the encoder adds. Each line also gives the CPU time
of all the process's threads: on a machine shared with other jobs the wall time grows with their load, the
CPU time much less (an idle 2-core machine needs between cpu/2 and cpu of wall time).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--scenario", default="01-a-good-learning-rate.gdscenario")
    args = ap.parse_args()

    from gd_studio import media
    from gd_studio.ui.offscreen import ensure_app, scenario_window
    from gd_studio.ui.record import RecordResult, RecordSettings, frames, record

    ensure_app()
    scene = ROOT / "resources" / "scenarios" / args.scenario
    steps = int(round(args.seconds * args.fps)) - 1  # frames: step 0 … steps
    settings = RecordSettings(steps=steps, fps=args.fps, size=(1280, 720))

    t0, c0 = time.perf_counter(), time.process_time()
    with scenario_window(scene, size=settings.size) as sw:
        t_open = time.perf_counter() - t0
        n = 0
        res = RecordResult(path=Path("."), frames=0, size=(0, 0), last_step=0)
        for rgb in frames(sw, settings, res):
            n += int(rgb.shape[0] > 0)
    t_grab, c_grab = time.perf_counter() - t0, time.process_time() - c0

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.mp4"
        if media.mp4_available():
            t0, c0 = time.perf_counter(), time.process_time()
            r = record(out, settings, scenario_path=scene)
            t_mp4, c_mp4 = time.perf_counter() - t0, time.process_time() - c0
            size_mb = out.stat().st_size / 1e6
        else:
            t_mp4, c_mp4, r, size_mb = float("nan"), float("nan"), None, float("nan")
        gif = Path(tmp) / "bench.gif"
        t0, c0 = time.perf_counter(), time.process_time()
        rg = record(gif, RecordSettings(steps=steps, fps=min(args.fps, 50), size=(640, 360)), scenario_path=scene)
        t_gif, c_gif = time.perf_counter() - t0, time.process_time() - c0
        gif_mb = gif.stat().st_size / 1e6

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"scenario {args.scenario}: {n} frames ({args.seconds:g} s at {args.fps:g} fps), cpus {os.cpu_count()}, "
          f"load average {load:.1f}")
    print(f"  (a) reference: render + grab 1280x720, no encoder   {t_grab:6.1f} s  cpu {c_grab:5.1f} s  "
          f"(window set-up {t_open:.1f} s)")
    if r is not None:
        print(f"  (b) MP4 1280x720 H.264, end to end                 {t_mp4:6.1f} s  cpu {c_mp4:5.1f} s  ({r.frames} frames, "
              f"{size_mb:.2f} MB)  asks < 30 s: {'met' if t_mp4 < 30 else 'NOT met'}")
        print(f"      ratio (b)/(a) = {t_mp4 / t_grab:.2f}  (encoding adds {100 * (t_mp4 / t_grab - 1):.0f} %)")
    else:
        print("  (b) MP4: PyAV not installed (pip install 'gd-studio[video]')")
    print(f"  (c) GIF 640x360, end to end                        {t_gif:6.1f} s  cpu {c_gif:5.1f} s  ({rg.frames} frames, "
          f"{gif_mb:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

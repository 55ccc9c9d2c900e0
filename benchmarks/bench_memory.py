"""Benchmark: peak memory of reading and counting a long trace (prints figures; asserts nothing).

A 6-hour trace at 100 Hz (2,160,000 samples, about 47 MB) is written from a
repeated synthetic walk, then each step below runs in a fresh Python process
that reports its own peak resident set size (VmHWM in /proc/self/status, Linux;
getrusage's ru_maxrss would include the parent's size inherited through fork):

- python with stepclip's modules imported (the floor);
- trace.read of the file;
- trace.read and the device view (resampled to the device rate);
- the whole `stepclip detect` command.

Run with `make bench` or `python benchmarks/bench_memory.py [HOURS]`.
"""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from stepclip import synth
from stepclip import trace as tracefile

RATE = 100

STEPS = {
    "imports only": "",
    "trace.read": "tr = trace.read(PATH)",
    "trace.read + device view": "tr = trace.read(PATH); v = sensor.device_view(tr)",
}
PRELUDE = "import sys; from stepclip import trace, sensor, detector; PATH = sys.argv[1]\n"
REPORT = "\nprint([ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM:')][0])"


def long_trace(path, hours):
    """A trace of `hours` at 100 Hz: one synthetic 10-minute demo walk, repeated."""
    part = synth.demo_trace(seed=3, rate_hz=RATE)
    n = int(hours * 3600 * RATE)
    reps = -(-n // len(part))
    xyz = np.tile(part.xyz, (reps, 1))[:n]
    step = np.tile(part.step, reps)[:n]
    t_ms = np.arange(n, dtype=np.int64) * (1000 // RATE)
    tr = tracefile.Trace(RATE, t_ms, xyz, step, {"source": "synthetic, repeated (bench_memory.py)"})
    tracefile.write(path, tr)
    return tr


def peak_mb(code, path):
    out = subprocess.run([sys.executable, "-c", PRELUDE + code + REPORT, str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1]) / 1024  # VmHWM is in kB


def main():
    hours = float(sys.argv[1]) if len(sys.argv) > 1 else 6
    with tempfile.TemporaryDirectory(prefix="stepclip-bench-") as tmp:
        path = Path(tmp) / "long.csv"
        tr = long_trace(path, hours)
        size = os.path.getsize(path)
        print(f"trace: {hours:g} h at {RATE} Hz, {len(tr):,} samples, {size / 1e6:.0f} MB on disk")
        print(f"{'':32} {'peak RSS':>9}")
        for name, code in STEPS.items():
            print(f"{name:32} {peak_mb(code, path):7.0f} MB")
        t0 = time.perf_counter()
        code = "from stepclip import cli; cli.main(['detect', PATH])"
        print(f"{'stepclip detect (whole command)':32} {peak_mb(code, path):7.0f} MB  ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()

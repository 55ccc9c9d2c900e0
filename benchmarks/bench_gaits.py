"""Accuracy on the synthetic gaits of issue 8, over the whole grid.

Prints figures; it is not a test and asserts nothing (tests/test_gaits.py holds a
sample of these cases to their targets). Run with `make bench` or
`.venv/bin/python benchmarks/bench_gaits.py [--quick] [--bits 8]`.

Each walk is synthetic (stepclip.synth: a model, not data): 5 s standing, a walk
of WALK_S seconds, 5 s standing, in a random orientation with a random sensor
offset, seen as the device sees it (25 Hz, +-4 g, 10-bit or --bits) and counted by
the firmware's detector. The grid: every gait kind at its cadences (45-130 steps/min)
x interval asymmetry (long:short step 1, 1.5, 2) x amplitude asymmetry (strong:weak
leg 1, 2, 3) x step intensity (0.05, 0.1, 0.2, 0.4 g). Then start-stop sequences
(6 bouts of a few steps, a turn on the spot, a stop) with bouts of 6-10 and of
10-16 steps.
"""
import argparse
import itertools
import sys
import time
from collections import defaultdict

import numpy as np

from stepclip import synth
from stepclip.evaluate import count_synthetic
from stepclip_firmware import config

WALK_S = 120
KINDS = {
    "normal": (60, 80, 100, 115, 130),
    "slow": (45, 55, 65, 80),
    "shuffle": (100, 120, 130),
    "cane": (45, 60, 80),
    "rollator": (50, 70, 90),
}
STEP_RATIOS = (1.0, 1.5, 2.0)
AMP_RATIOS = (1.0, 2.0, 3.0)
INTENSITIES = (0.05, 0.1, 0.2, 0.4)


def grid(quick):
    cases = []
    for kind, cadences in KINDS.items():
        for cadence, sr, ar, g in itertools.product(cadences, STEP_RATIOS, AMP_RATIOS, INTENSITIES):
            if quick and (sr, ar) not in ((1.0, 1.0), (2.0, 3.0)):
                continue
            cases.append((kind, cadence, sr, ar, g))
    return cases


def table(title, rows):
    print(f"\nby {title}:")
    print(f"  {title:<22} {'cases':>5}  {'within 5%':>9}  {'mean |error|':>12}  {'worst':>7}")
    for name, errs in rows:
        e = np.abs(errs)
        print(f"  {name:<22} {len(e):>5}  {(e <= 5).mean() * 100:>8.0f}%  {e.mean():>11.1f}%  {e.max():>6.1f}%")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only even gaits and the most asymmetric ones")
    ap.add_argument("--bits", type=int, choices=(8, 10, 12), default=config.RESOLUTION_BITS,
                    help="the sensor's resolution (default: firmware/config.py's)")
    args = ap.parse_args(argv)
    # count_synthetic sees the walks at the device settings of firmware/config.py
    config.RESOLUTION_BITS = args.bits
    t0 = time.perf_counter()
    cases = grid(args.quick)
    by = defaultdict(lambda: defaultdict(list))
    misses = []
    for i, (kind, cadence, sr, ar, g) in enumerate(cases):
        walk = synth.walk(WALK_S, cadence, g, step_ratio=sr, amp_ratio=ar, gait=kind)
        counted, true = count_synthetic([synth.stand(5), walk, synth.stand(5)], seed=i)
        err = 100.0 * (counted - true) / true
        for key, value in (("gait", kind), ("cadence (steps/min)", cadence), ("interval asymmetry", f"1:{sr:g}"),
                           ("amplitude asymmetry", f"1:{ar:g}"), ("step intensity (g)", f"{g:g}")):
            by[key][value].append(err)
        if abs(err) > 5:
            misses.append((kind, cadence, sr, ar, g, true, counted, err))
    print(f"synthetic walks of {WALK_S} s at 25 Hz, +-4 g, {args.bits}-bit, random orientation: {len(cases)} cases")
    for key, groups in by.items():
        rows = sorted(groups.items(), key=lambda kv: (isinstance(kv[0], str), kv[0]))
        table(key, rows)
    allerr = np.abs([e for errs in by["gait"].values() for e in errs])
    print(f"\nall walks: {(allerr <= 5).sum()} of {len(allerr)} within 5%")
    if misses:
        print("outside 5% (gait, cadence, interval, amplitude, intensity g: true -> counted):")
        for kind, cadence, sr, ar, g, true, counted, err in misses:
            print(f"  {kind:<8} {cadence:>3}  1:{sr:<3g} 1:{ar:<3g} {g:<4g}  {true:>4} -> {counted:>4}  {err:+.1f}%")
    print("\nstart-stop (6 bouts: walk, turn on the spot, stop):")
    print(f"  {'gait':<8} {'cadence':>7}  {'steps a bout':>12}  {'true':>5}  {'counted':>7}  {'error':>7}")
    for kind, cadence in (("normal", 100), ("slow", 60), ("shuffle", 115), ("cane", 60)):
        for steps in ((6, 10), (10, 16)):
            segs = synth.start_stop(bouts=6, steps=steps, cadence_spm=cadence, intensity_g=0.2, gait=kind, seed=cadence)
            counted, true = count_synthetic(segs, seed=cadence + 1)
            print(f"  {kind:<8} {cadence:>7}  {f'{steps[0]}-{steps[1]}':>12}  {true:>5}  {counted:>7}  {100 * (counted - true) / true:>+6.1f}%")
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    sys.exit(main())

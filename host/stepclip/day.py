"""A realistic synthetic day on the emulated device: counts with and without deep
sleep, the clock error, and the day profile hardware/power.py takes.

    from stepclip import day
    tr = day.realistic_day()                # 24 h at 25 Hz from 07:00 (a Trace)
    res = day.measure(tr, deep_after_s=30)  # one emulated run: steps, POWER figures
    day.profile(res, "name")                # a "stepclip-day-profile 1" dict

`python hardware/power.py --emulate` runs the whole day twice (deep sleep off and
on) and writes hardware/profiles/today.json and deepsleep.json from it.
"""
from datetime import datetime

import numpy as np

from . import detector, emulator, synth
from .trace import Trace

RATE_HZ = 25
START = datetime(2026, 11, 30, 7, 0)  # the day starts at 07:00: the night and midnight are in it
# The day (issue 12: "2 h of walking in 10-20 bouts, sitting, standing, a night still"):
WALK_S = 2 * 3600  # in WALKS bouts of 3-20 minutes
WALKS = 14
MOVING_S = 4 * 3600  # standing and moving about (kitchen, shop) in MOVING stretches
MOVING = 24
NIGHT_S = 8 * 3600  # the clip lies still on the bedside table
FIDGETS_PER_H = 6  # sitting (the rest, 10 h) shifts in the chair this often
PROFILE_FORMAT = "stepclip-day-profile 1"  # hardware/power.py's format (its docstring, "Day profiles")


def describe():
    """The day in words, for the profiles' "day" field."""
    sitting = (86400 - WALK_S - MOVING_S - NIGHT_S) / 3600
    return (f"synthetic, from {START:%H:%M}: {WALK_S / 3600:g} h walking in {WALKS} bouts (85-115 steps/min, some "
            f"slow and asymmetric), {MOVING_S / 3600:g} h standing and moving about in {MOVING} stretches (a few "
            f"steps, turns, standing), {sitting:g} h sitting (shifting {FIDGETS_PER_H} times an hour), "
            f"{NIGHT_S / 3600:g} h lying still at night")


def _split(rng, total, n, low):
    # n durations (s) of at least `low` adding up to total
    w = rng.dirichlet(np.ones(n))
    return low + w * (total - n * low)


def _moving(rng, seconds):
    # standing and moving about: a few steps and turns, standing, handling things
    segs, left = [], seconds
    while left > 20:
        part = synth.start_stop(bouts=int(rng.integers(1, 4)), steps=(3, 10), cadence_spm=float(rng.uniform(80, 100)),
                                intensity_g=float(rng.uniform(0.15, 0.3)), seed=int(rng.integers(1 << 30)))
        part += [synth.stand(float(rng.uniform(10, 40)), sway_mg=15.0),
                 synth.bumps(float(rng.uniform(3, 10)), rate_per_s=1.0, strength_g=0.15)]
        segs += part
        left -= sum(s.seconds for s in part)
    if left > 0:
        segs.append(synth.stand(left))
    return segs


def _sitting(rng, seconds):
    # sitting, shifting in the chair FIDGETS_PER_H times an hour (a few seconds of bumps)
    n = int(round(seconds / 3600 * FIDGETS_PER_H))
    segs, at = [], 0.0
    times = np.sort(rng.uniform(0, seconds - 5, n)) if n else []
    for t in times:
        if t > at + 1:
            segs.append(synth.sit(t - at))
            at = t
        d = float(rng.uniform(2, 5))
        segs.append(synth.bumps(d, rate_per_s=2.0, strength_g=0.2))
        at += d
    if seconds - at > 0.04:
        segs.append(synth.sit(seconds - at))
    return segs


def realistic_day(seed=0, scale=1.0):
    """The day described in this module (describe()) as a Trace at 25 Hz, milli-g,
    with its true steps; `scale` (0 < scale <= 1) shortens every part in proportion
    (scale 1/24: an hour). Deterministic for `seed`. Generated piece by piece (24 h
    at synth's internal 400 Hz at once would take gigabytes)."""
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], not {scale!r}")
    rng = np.random.default_rng(seed)
    walks = _split(rng, WALK_S * scale, WALKS, 180 * scale)
    moves = _split(rng, MOVING_S * scale, MOVING, 120 * scale)
    episodes = [("walk", s) for s in walks] + [("moving", s) for s in moves]
    rng.shuffle(episodes)
    sitting = _split(rng, (86400 - WALK_S - MOVING_S - NIGHT_S) * scale, len(episodes), 60 * scale)
    pieces = []
    for (kind, secs), sit_s in zip(episodes, sitting):
        if kind == "walk":
            slow = bool(rng.integers(3) == 0)  # a third of the walks slow and asymmetric
            pieces.append([synth.walk(secs, cadence_spm=float(rng.uniform(85, 100) if slow else rng.uniform(95, 115)),
                                      intensity_g=float(rng.uniform(0.2, 0.4)), turn=bool(rng.integers(2)),
                                      gait="slow" if slow else "normal", step_ratio=1.3 if slow else 1.0,
                                      amp_ratio=1.5 if slow else 1.0)])
        else:
            pieces.append(_moving(rng, secs))
        pieces.append(_sitting(rng, sit_s))
    # the night, lying flat on the table (as the emulated board lies after its
    # samples): the rest of the day (moving about may have run a few seconds over)
    night = 86400 * scale - sum(sum(seg.seconds for seg in segs) for segs in pieces)
    pieces.append([synth.sit(night, tilt_deg=0.0, sway_mg=0.0)])
    xyz, step = [], []
    for i, segs in enumerate(pieces):
        t = synth.generate(segs, rate_hz=RATE_HZ, seed=seed * 1000 + i)
        xyz.append(t.xyz)
        step.append(t.step)
    xyz = np.concatenate(xyz)
    step = np.concatenate(step)
    n = len(xyz)
    meta = {"stepclip-trace": "1", "rate_hz": str(RATE_HZ), "units": "mg", "placement": "hip (synthetic)",
            "activity": describe() if scale == 1 else f"{describe()}, scaled by {scale:g}",
            "steps": str(int(step.sum())), "source": f"synthetic: stepclip.day, seed {seed}"}
    return Trace(RATE_HZ, np.rint(np.arange(n) * (1000 / RATE_HZ)).astype(np.int64), xyz.astype(np.int32),
                 step.astype(np.int32), meta)


def detect_count(tr):
    """Steps the firmware's detector counts on the trace's device view, every sample
    seen (`stepclip detect`, under the MicroPython unix port)."""
    return detector.run(emulator.device_samples([tr]), RATE_HZ, "micropython").counted


def measure(tr, deep_after_s, start=START, timeout=900, **ppm):
    """Play the trace on the emulated device (run_to_end) with config.DEEP_SLEEP_AFTER_S
    = deep_after_s (0: never); ppm: clock_ppm, sleep_ppm, odr_ppm (emulator.Emulator).
    Returns run_to_end()'s result ("days", "total_steps", "power")."""
    emu = emulator.Emulator([tr], start=start, deep_after_s=deep_after_s, **ppm)
    try:
        return emu.run_to_end(timeout=timeout)
    finally:
        emu.close()


def profile(result, name, source=""):
    """A day profile (hardware/power.py's format, a dict for JSON) from measure()'s
    result: seconds in the loop (lightsleep, its short times awake included) and in
    deep sleep, wakes by kind, samples read from the FIFO."""
    power = result["power"]
    ms, deep = power["ms"], power["deep_ms"]
    return {
        "format": PROFILE_FORMAT,
        "name": name,
        "day": describe(),
        "source": source,
        "seconds": {"lightsleep": (ms - deep) / 1000, "deepsleep": deep / 1000},
        "wakes": {k: power[k] for k in ("fifo", "motion", "timer")},
        "samples": power["samples"],
    }

"""Synthetic hip-worn walking traces (always labelled *synthetic*).

A quick way to get a trace with an exactly known step count, for tests and
demos when no recording is at hand.  It is a model, not data: results on it
say nothing about accuracy on real people.

    >>> from stepclip import synth
    >>> tr = synth.generate([synth.stand(5), synth.walk(30, cadence_spm=110),
    ...                      synth.sit(10)], seed=1)
    >>> tr.steps                                      # doctest: +SKIP
    55

Body frame: x forward, y left, z up.  The sensor frame equals the body frame
when ``orientation == (0, 0, 0)``, so at rest the sensor reads about
(0, 0, +1000) mg.  ``orientation = (pitch, roll, yaw)`` in degrees rotates
the sensor relative to the body (yaw about z, then pitch about y, then roll
about x); e.g. pitch 90 moves gravity from +z to -x.

Model, per segment:

* walk -- vertical: step-frequency wave with 2nd and 3rd harmonics and a
  heel-strike impulse (peak at each heel contact); forward: step-frequency
  wave, phase-shifted; lateral: sway at half the step frequency (one stride).
  Step intervals jitter by +-3 % (without drifting), amplitudes by +-10 %;
  the first two steps ramp up from standing and the last two ramp down.
  ``turn=True`` slows three steps in the middle and adds a sideways pull.
  The gait of the people stepclip is for (see GAITS and
  ../shared/reference/step-detection.md, "The gait of the people stepclip is
  for"): ``step_ratio`` makes the intervals alternate short/long (an antalgic
  gait: the stride stays regular), ``amp_ratio`` makes one leg's steps weaker,
  and ``gait`` picks the waveform: "normal", "slow" (0.4 m/s: little energy at
  the step frequency, more at its harmonics), "shuffle" (short quick steps,
  flat-foot contacts), "cane" and "rollator" (walking aids: smoothed, small
  trunk accelerations; a cane adds a jolt once per stride).
  :func:`start_stop` builds daily-life sequences of a few steps, a turn on the
  spot and a stop.
* stand -- slow postural sway (~15 mg) only.
* sit -- the hip tilts back (gravity moves towards the forward axis), tiny
  sway; posture changes take about a second.
* bumps -- non-walking motion: random jolts at irregular (Poisson) times, each
  a short damped oscillation in a random direction, plus low rumble.

Everything is generated at >= 400 Hz, band-limited and resampled to
``rate_hz``; then the constant sensor offset and white noise are added and
values rounded to int32 milli-g.  The ``step`` column holds a 1 at the
sample of each heel strike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence, Union

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import resample_poly

from .trace import Trace

__all__ = [
    "Segment", "walk", "stand", "sit", "bumps", "start_stop", "GAITS",
    "generate", "demo_trace", "walk_strike_times", "describe",
]

G_MG = 1000.0
_INTERNAL_HZ = 400.0     # synthesis rate before band-limiting to rate_hz
_POSTURE_S = 1.0         # time taken to sit down / stand up
_HEEL_SIGMA_S = 0.025    # width (sd) of the heel-strike impulse
_RAMP = (0.45, 0.75)     # amplitude of the first two (and last two) steps
_TURN_STEPS = 3          # intervals slowed by a turn
_TURN_SLOW = 1.35        # ... by this factor


@dataclass(frozen=True)
class Gait:
    """Waveform of one kind of walking, relative to ``intensity_g``.

    Vertical = h1 cos(phi) + h2 cos(2 phi - 0.6) + h3 cos(3 phi + 0.9) plus a
    heel impulse of height ``impact`` and width ``impact_s`` (sd) at each heel
    contact; forward = ``fwd`` sin(phi + 0.5) (+ a small 2nd harmonic);
    lateral = ``sway`` sin(phi / 2), once per stride.  ``smooth_s`` is a moving
    average over the trunk's dynamic acceleration (a walking aid takes load off
    the trunk and smooths it); ``aid_jolt`` is a jolt at each cane contact, once
    per stride, a quarter step before the weaker leg's heel contact.
    """

    h1: float
    h2: float
    h3: float
    fwd: float
    sway: float
    impact: float
    impact_s: float
    smooth_s: float = 0.0
    aid_jolt: float = 0.0


# The shapes follow ../shared/reference/step-detection.md: at 1 m/s and more the
# vertical trunk acceleration is mostly at the step frequency; at 0.4 m/s it
# shrinks steeply there while impacts and double support keep energy at 2-3x
# the step frequency; shuffling has no heel strike (flat-foot contact); walking
# aids take load off the trunk.
GAITS = {
    "normal": Gait(h1=0.55, h2=0.20, h3=0.0, fwd=0.30, sway=0.18, impact=0.35, impact_s=0.025),
    "slow": Gait(h1=0.10, h2=0.30, h3=0.20, fwd=0.20, sway=0.30, impact=0.45, impact_s=0.03),
    "shuffle": Gait(h1=0.45, h2=0.15, h3=0.05, fwd=0.25, sway=0.12, impact=0.12, impact_s=0.05),
    "cane": Gait(h1=0.25, h2=0.25, h3=0.10, fwd=0.20, sway=0.25, impact=0.25, impact_s=0.04,
                 smooth_s=0.12, aid_jolt=0.30),
    "rollator": Gait(h1=0.45, h2=0.15, h3=0.05, fwd=0.15, sway=0.15, impact=0.10, impact_s=0.05,
                     smooth_s=0.20),
}


@dataclass(frozen=True)
class Segment:
    """One stretch of activity.  Build with :func:`walk`, :func:`stand`,
    :func:`sit` or :func:`bumps`."""

    kind: str                      # 'walk', 'stand', 'sit' or 'bumps'
    seconds: float
    cadence_spm: float = 0.0       # walk: steps per minute
    intensity_g: float = 0.0       # walk: ~peak vertical acceleration; bumps: median jolt
    turn: bool = False             # walk: slow down for a turn in the middle
    step_ratio: float = 1.0        # walk: long/short step interval (1 = even; the stride stays)
    amp_ratio: float = 1.0         # walk: strong/weak leg's step amplitude (1 = even)
    gait: str = "normal"           # walk: a key of GAITS
    tilt_deg: float = 0.0          # sit: backwards tilt of the hip
    sway_mg: float = 0.0           # stand/sit: postural sway amplitude
    rate_per_s: float = 0.0        # bumps: mean jolts per second

    def describe(self) -> str:
        s = f"{self.kind} {self.seconds:g} s"
        if self.kind == "walk":
            s += f" at {self.cadence_spm:g} spm" + (" with a turn" if self.turn else "")
            if self.gait != "normal":
                s += f", {self.gait}"
            if self.step_ratio != 1.0 or self.amp_ratio != 1.0:
                s += f", asymmetry 1:{self.step_ratio:g} (intervals) 1:{self.amp_ratio:g} (amplitude)"
        return s

    @property
    def steps(self) -> int:
        """Number of heel strikes this segment generates (0 unless walking)."""
        return len(walk_strike_times(self)) if self.kind == "walk" else 0


def _positive(name, v):
    v = float(v)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive number, got {v!r}")
    return v


def walk(seconds, cadence_spm=110, intensity_g=0.35, turn=False, step_ratio=1.0,
         amp_ratio=1.0, gait="normal") -> Segment:
    """Walking at ``cadence_spm`` steps/minute; about cadence*seconds/60 steps.

    ``step_ratio`` (1-4): the long step interval over the short one, alternating
    (the stride, two steps, keeps 2 x 60/cadence s); ``amp_ratio`` (1-4): the
    strong leg's step amplitude over the weak leg's, around ``intensity_g`` (their
    mean); ``gait``: a key of GAITS.
    Raises ValueError on anything else.
    """
    cadence = _positive("cadence_spm", cadence_spm)
    if not 30 <= cadence <= 250:
        raise ValueError(f"cadence_spm must be between 30 and 250, got {cadence_spm!r}")
    for name, v in (("step_ratio", step_ratio), ("amp_ratio", amp_ratio)):
        if not 1.0 <= _positive(name, v) <= 4.0:
            raise ValueError(f"{name} must be between 1 and 4, got {v!r}")
    if gait not in GAITS:
        raise ValueError(f"gait must be one of {', '.join(GAITS)}, got {gait!r}")
    return Segment("walk", _positive("seconds", seconds), cadence_spm=cadence,
                   intensity_g=_positive("intensity_g", intensity_g), turn=bool(turn),
                   step_ratio=float(step_ratio), amp_ratio=float(amp_ratio), gait=gait)


def stand(seconds, sway_mg=15.0) -> Segment:
    """Standing still: slow postural sway of about ``sway_mg``."""
    return Segment("stand", _positive("seconds", seconds), sway_mg=float(sway_mg))


def sit(seconds, tilt_deg=30.0, sway_mg=3.0) -> Segment:
    """Sitting: the hip (and sensor) tilted back by ``tilt_deg``, tiny sway."""
    return Segment("sit", _positive("seconds", seconds), tilt_deg=float(tilt_deg),
                   sway_mg=float(sway_mg))


def bumps(seconds, rate_per_s=1.5, strength_g=0.3) -> Segment:
    """Non-walking motion (car ride, fidgeting): irregular jolts, no rhythm."""
    return Segment("bumps", _positive("seconds", seconds),
                   intensity_g=_positive("strength_g", strength_g),
                   rate_per_s=_positive("rate_per_s", rate_per_s))


def walk_strike_times(seg: Segment) -> np.ndarray:
    """Nominal heel-strike times (s, from the segment start) of a walk segment.

    The first strike comes half a step after the start; strikes follow every
    60/cadence s, alternately shorter and longer by ``step_ratio`` (three
    intervals in the middle are 35 % longer with a turn) for as long as the last
    one is at least half a step before the end.  Jitter (added by
    :func:`generate`) never changes the count.
    """
    if seg.kind != "walk":
        return np.zeros(0)
    d = 60.0 / seg.cadence_spm
    n_max = int(seg.seconds / d) + 2
    iv = np.full(n_max, d)
    if seg.step_ratio != 1.0:
        iv[0::2] = 2 * d / (1 + seg.step_ratio)
        iv[1::2] = 2 * d * seg.step_ratio / (1 + seg.step_ratio)
    if seg.turn:
        n_nom = int((seg.seconds - d) / d) + 1
        mid = max(0, n_nom // 2 - _TURN_STEPS // 2 - 1)
        iv[mid:mid + _TURN_STEPS] *= _TURN_SLOW
    t = 0.5 * d + np.concatenate(([0.0], np.cumsum(iv)))
    return t[t <= seg.seconds - 0.5 * d + 1e-9]


def describe(segments: Iterable[Segment]) -> str:
    return ", ".join(s.describe() for s in segments)


def _rotation(orientation) -> np.ndarray:
    """Matrix M with sensor_vector = M @ body_vector."""
    pitch, roll, yaw = (math.radians(float(a)) for a in orientation)
    cz, sz = math.cos(yaw), math.sin(yaw)
    cy, sy = math.cos(pitch), math.sin(pitch)
    cx, sx = math.cos(roll), math.sin(roll)
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    return (rz @ ry @ rx).T


def _sway(rng, t, amp_mg):
    """Slow sway: three random low-frequency sines per axis, ~amp_mg peak."""
    out = np.zeros((t.size, 3))
    if amp_mg <= 0:
        return out
    weights = (1.0, 0.8, 0.3)  # forward, lateral, vertical
    for a in range(3):
        for _ in range(3):
            f = rng.uniform(0.1, 0.6)
            out[:, a] += weights[a] * amp_mg / 2 * rng.uniform(0.5, 1.0) * np.sin(
                2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    return out


def _walk(rng, seg, t, fs):
    """Dynamic acceleration (n, 3) for a walk segment; t from segment start."""
    A = seg.intensity_g * G_MG
    d = 60.0 / seg.cadence_spm
    gait = GAITS[seg.gait]
    nominal = walk_strike_times(seg)
    out = np.zeros((t.size, 3))
    n = nominal.size
    if n == 0:
        return out, nominal
    # +-3 % interval jitter without drift: move each strike by up to 1.5 % of d
    strikes = nominal + rng.uniform(-0.015, 0.015, n) * d
    amp = rng.uniform(0.9, 1.1, n)
    if seg.amp_ratio != 1.0:  # the legs share the intensity: its mean stays intensity_g
        amp[0::2] *= 2 * seg.amp_ratio / (1 + seg.amp_ratio)
        amp[1::2] *= 2 / (1 + seg.amp_ratio)
    for k, r in enumerate(_RAMP):
        if k < n:
            amp[k] *= r
        if n - 1 - k > k:  # don't ramp a single middle step twice
            amp[n - 1 - k] *= r
    if seg.turn and n > 6:
        slow = np.argmax(np.diff(nominal) > d * 1.1)
        amp[slow:slow + _TURN_STEPS + 1] *= 0.8
    # phase: 0 at the first strike, k at strike k, one step before/after
    knots_t = np.concatenate(([strikes[0] - d], strikes, [strikes[-1] + d]))
    knots_p = np.arange(-1, n + 1, dtype=float)
    phase = np.interp(t, knots_t, knots_p, left=-1.0, right=float(n))
    # envelope: 0 half a step before the first strike / after the last one
    env_t = np.concatenate(([strikes[0] - 0.5 * d], strikes, [strikes[-1] + 0.5 * d]))
    env_a = np.concatenate(([0.0], amp, [0.0]))
    env = A * np.interp(t, env_t, env_a, left=0.0, right=0.0)
    phi = 2 * np.pi * phase
    vert = gait.h1 * np.cos(phi) + gait.h2 * np.cos(2 * phi - 0.6)
    if gait.h3:
        vert += gait.h3 * np.cos(3 * phi + 0.9)
    fwd = -gait.fwd * np.sin(phi + 0.5) + 0.08 * np.sin(2 * phi)
    lat = gait.sway * np.sin(0.5 * phi)              # half the step frequency
    out[:, 0] = env * fwd
    out[:, 1] = env * lat
    out[:, 2] = env * vert
    # heel-strike impulses; their mean is removed over each step so the
    # vertical acceleration still averages to zero (no net climb)
    sig = gait.impact_s
    half = int(math.ceil(4 * sig * fs))
    for k in range(n):
        c = int(round(strikes[k] * fs))
        lo, hi = max(0, c - half), min(t.size, c + half + 1)
        if lo >= hi:
            continue
        h = gait.impact * A * amp[k]
        out[lo:hi, 2] += h * np.exp(-0.5 * ((t[lo:hi] - strikes[k]) / sig) ** 2)
        out[lo:hi, 0] -= 0.3 * h * np.exp(-0.5 * ((t[lo:hi] - strikes[k] - sig) / sig) ** 2)
        area = h * sig * math.sqrt(2 * math.pi)
        nxt = strikes[k + 1] if k + 1 < n else strikes[k] + d
        s0, s1 = int(round(strikes[k] * fs)), int(round(nxt * fs))
        s0, s1 = max(0, s0), min(t.size, s1)
        if s1 > s0:
            out[s0:s1, 2] -= area / (nxt - strikes[k])
            out[s0:s1, 0] += 0.3 * area / (nxt - strikes[k])
    if seg.turn and n > 6:
        # centripetal pull during the slowed steps
        i0 = np.argmax(np.diff(nominal) > d * 1.1)
        ta, tb = strikes[i0], strikes[min(i0 + _TURN_STEPS, n - 1)]
        w = np.clip((t - ta) / max(tb - ta, 1e-9), 0, 1)
        out[:, 1] += 0.12 * A * np.sin(np.pi * w)
    if gait.aid_jolt:
        # the cane lands a quarter step before each weak-leg heel contact
        jsig = 0.03
        for k in range(1, n, 2):
            tc = strikes[k] - 0.25 * d
            m = np.abs(t - tc) < 4 * jsig
            jolt = gait.aid_jolt * A * amp[k - 1] * np.exp(-0.5 * ((t[m] - tc) / jsig) ** 2)
            out[m, 2] += jolt
            out[m, 1] -= 0.5 * jolt
    if gait.smooth_s:
        w = max(1, int(round(gait.smooth_s * fs)))
        out = uniform_filter1d(out, w, axis=0, mode="nearest")
    return out, strikes


def _bumps(rng, seg, t):
    out = np.zeros((t.size, 3))
    n_ev = rng.poisson(seg.rate_per_s * seg.seconds)
    times = np.sort(rng.uniform(0, seg.seconds, n_ev))
    fs = 1.0 / (t[1] - t[0]) if t.size > 1 else _INTERNAL_HZ
    for te in times:
        direction = rng.normal(size=3) * np.array([0.6, 0.6, 1.0])
        direction /= np.linalg.norm(direction) + 1e-12
        a = seg.intensity_g * G_MG * rng.lognormal(0.0, 0.5)
        f = rng.uniform(1.5, 6.0)
        tau = rng.uniform(0.05, 0.3)
        i0 = int(te * fs)
        i1 = min(t.size, i0 + int(5 * tau * fs) + 1)
        dt = t[i0:i1] - te
        wave = a * np.exp(-dt / tau) * np.sin(2 * np.pi * f * dt + rng.uniform(0, np.pi))
        wave *= np.clip(dt / 0.02, 0, 1)             # no jump at the onset
        out[i0:i1] += wave[:, None] * direction
    # low rumble: smoothed noise, ~0.06 x strength
    rumble = rng.normal(size=(t.size, 3))
    rumble = uniform_filter1d(uniform_filter1d(rumble, int(0.1 * fs) or 1, axis=0),
                              int(0.1 * fs) or 1, axis=0)
    rumble *= 0.06 * seg.intensity_g * G_MG / (rumble.std() + 1e-12)
    return out + rumble


def generate(segments: Union[Segment, Sequence[Segment]], rate_hz=100,
             orientation=(0.0, 0.0, 0.0), offset_mg=(0, 0, 0), noise_mg=5.0,
             seed=0) -> Trace:
    """Synthesize a trace from ``segments`` (see module docstring for the model).

    Deterministic for a given ``seed``.  ``orientation`` = (pitch, roll, yaw)
    degrees of the sensor on the body, ``offset_mg`` a constant sensor offset
    added per axis, ``noise_mg`` white-noise standard deviation.
    """
    if isinstance(segments, Segment):
        segments = [segments]
    segments = list(segments)
    if not segments or not all(isinstance(s, Segment) for s in segments):
        raise ValueError("segments must be a non-empty list of Segment (use walk(), stand(), ...)")
    rate = _positive("rate_hz", rate_hz)
    if len(tuple(orientation)) != 3 or len(tuple(offset_mg)) != 3:
        raise ValueError("orientation and offset_mg must have 3 values")
    noise = float(noise_mg)
    if not noise >= 0:
        raise ValueError(f"noise_mg must be >= 0, got {noise_mg!r}")
    rng = np.random.default_rng(seed)

    # internal rate: an integer multiple of the output rate, at least 400 Hz
    factor = max(1, math.ceil(_INTERNAL_HZ / rate - 1e-9))
    fs = rate * factor
    total_s = sum(s.seconds for s in segments)
    n_out = int(round(total_s * rate))
    if n_out < 1:
        raise ValueError("trace would have no samples")
    n_in = n_out * factor
    t = np.arange(n_in) / fs

    dyn = np.zeros((n_in, 3))
    tilt = np.zeros(n_in)
    strike_t = []
    start = 0.0
    for seg in segments:
        i0 = int(round(start * fs))
        i1 = min(n_in, int(round((start + seg.seconds) * fs)))
        ts = t[i0:i1] - start
        if seg.kind == "walk":
            part, strikes = _walk(rng, seg, ts, fs)
            strike_t.extend(start + strikes)
        elif seg.kind in ("stand", "sit"):
            part = _sway(rng, ts, seg.sway_mg)
            tilt[i0:i1] = math.radians(seg.tilt_deg)
        elif seg.kind == "bumps":
            part = _bumps(rng, seg, ts)
        else:
            raise ValueError(f"unknown segment kind {seg.kind!r}")
        dyn[i0:i1] += part
        start += seg.seconds

    # posture changes take about a second (triangular smoothing)
    w = max(1, int(_POSTURE_S * fs / 2))
    tilt = uniform_filter1d(uniform_filter1d(tilt, w, mode="nearest"), w, mode="nearest")
    # hip tilted back by `tilt` (rotation about the lateral axis): in the hip
    # frame, gravity's reaction tilts towards +x (forward axis points up-ish)
    grav = np.column_stack([G_MG * np.sin(tilt), np.zeros(n_in), G_MG * np.cos(tilt)])
    body = grav + dyn
    if factor > 1:
        body = resample_poly(body, 1, factor, axis=0, padtype="antireflect")
    sensor = body[:n_out] @ _rotation(orientation).T
    sensor += np.asarray(offset_mg, dtype=float)
    if noise > 0:
        sensor += rng.normal(0.0, noise, sensor.shape)

    step = np.zeros(n_out, dtype=np.int32)
    idx = np.clip(np.rint(np.asarray(strike_t) * rate).astype(np.int64), 0, n_out - 1)
    np.add.at(step, idx, 1)
    total = int(step.sum())

    rate_s = f"{rate:.6f}".rstrip("0").rstrip(".")
    meta = {
        "stepclip-trace": "1",
        "rate_hz": rate_s,
        "units": "mg",
        "placement": "hip (synthetic)",
        "activity": describe(segments),
        "steps": str(total),
        "source": f"synthetic: stepclip.synth, seed {seed}",
        "synth": (f"orientation {tuple(float(a) for a in orientation)} deg, "
                  f"offset {tuple(float(o) for o in offset_mg)} mg, noise {noise:g} mg"),
    }
    return Trace(
        rate_hz=rate,
        t_ms=np.rint(np.arange(n_out) * (1000.0 / rate)).astype(np.int64),
        xyz=np.rint(sensor).astype(np.int32),
        step=step,
        meta=meta,
        path=None,
    )


def start_stop(bouts=6, steps=(4, 10), cadence_spm=90, intensity_g=0.2, gait="normal",
               step_ratio=1.0, amp_ratio=1.0, pause_s=(2.5, 6.0), seed=0) -> list:
    """Daily life at home: ``bouts`` times a few steps (``steps`` = (fewest, most)),
    a turn on the spot (3-4 small slow steps), a stop of ``pause_s`` seconds
    standing.  Returns a list of segments for :func:`generate`; deterministic
    for ``seed``.  Raises ValueError on bad arguments.
    """
    lo, hi = (int(v) for v in steps)
    if not 1 <= lo <= hi or int(bouts) < 1:
        raise ValueError("start_stop needs bouts >= 1 and 1 <= fewest <= most steps")
    rng = np.random.default_rng(seed)
    d = 60.0 / cadence_spm
    segs = [stand(float(rng.uniform(*pause_s)))]
    for _ in range(int(bouts)):
        n = int(rng.integers(lo, hi + 1))
        segs.append(walk(n * d, cadence_spm, intensity_g, gait=gait,
                         step_ratio=step_ratio, amp_ratio=amp_ratio))
        # turn on the spot: short, slower, weaker steps
        k = int(rng.integers(3, 5))
        segs.append(walk(k * d * 1.3, cadence_spm / 1.3, intensity_g * 0.6, gait="shuffle"))
        segs.append(stand(float(rng.uniform(*pause_s))))
    return segs


def demo_trace(seed=0, **kwargs) -> Trace:
    """About three minutes (185 s) of synthetic activity: stand 10 s, walk 60 s
    at 105 spm, stand 10 s, walk 15 s at 95 spm with a turn, sit 30 s, bumps
    20 s, walk 40 s at 115 spm.  ``kwargs`` go to :func:`generate`."""
    return generate([
        stand(10),
        walk(60, cadence_spm=105),
        stand(10),
        walk(15, cadence_spm=95, turn=True),
        sit(30),
        bumps(20),
        walk(40, cadence_spm=115),
    ], seed=seed, **kwargs)

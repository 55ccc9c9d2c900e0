"""The device view of a trace: what the Pico's LIS3DH would have reported.

A recording (phone, watch, or synthetic) is usually sampled faster and with
more resolution than the step counter's sensor.  :func:`device_view` turns a
:class:`~stepclip.trace.Trace` into the trace the device would see:

1. put the samples on a uniform time grid (gaps filled by linear interpolation);
2. resample with an anti-aliasing filter to the device output data rate
   (:func:`scipy.signal.resample_poly`, rational factor up/down);
3. quantize to the LIS3DH's mg/digit for the chosen full scale and resolution,
   and clip at the ends of its output range.

The defaults (rate, range, resolution) come from the firmware configuration
``stepclip_firmware.config`` so the host always tests what the device runs.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from stepclip_firmware import config

from .trace import Trace

__all__ = [
    "DEVICE_RATES_HZ",
    "check_device_rate",
    "SENSITIVITY_MG",
    "sensitivity",
    "quantize",
    "resample_factors",
    "uniform_grid",
    "resample",
    "device_view",
    "NOISE_DENSITY_UG",
    "on_a_table",
]

#: LIS3DH sensitivity in mg/digit, keyed by (full scale in g, resolution in bits).
#: 12 bits = high-resolution mode, 10 = normal mode, 8 = low-power mode
#: (LIS3DH datasheet, table 4).
SENSITIVITY_MG: dict[tuple[int, int], int] = {
    (2, 12): 1, (2, 10): 4, (2, 8): 16,
    (4, 12): 2, (4, 10): 8, (4, 8): 32,
    (8, 12): 4, (8, 10): 16, (8, 8): 64,
    (16, 12): 12, (16, 10): 48, (16, 8): 192,
}

#: Device rates (Hz) the step counter can be set to: the LIS3DH's output data
#: rates in normal mode (datasheet DocID17530, CTRL_REG1 ODR: 1, 10, 25, 50, 100,
#: 200, 400 Hz; the 1.344 kHz and low-power-only rates are left out) at which the
#: firmware works.  1 Hz is left out too: it cannot see steps (its Nyquist
#: frequency, 0.5 Hz, is below the 1-3 Hz step rhythm).  From 10 to 400 Hz every
#: detector intermediate stays within +-2**30 (tests/test_int_range.py) and the
#: 25-sample FIFO watermark fits the 32-sample FIFO (a wake every 2.5 s at 10 Hz,
#: every 62.5 ms at 400 Hz).  A recording's own rate (the Bangle.js traces' 12.5
#: Hz) is not a device setting and is not limited by this list.
DEVICE_RATES_HZ = (10, 25, 50, 100, 200, 400)
_LIS3DH_RATES_HZ = (1,) + DEVICE_RATES_HZ
#: LIS3DH noise density, micro-g per root hertz (ST datasheet DocID17530,
#: table 4, "noise density", high-resolution mode).
NOISE_DENSITY_UG = 220
#: Typical zero-g offset of a LIS3DH, mg per axis (datasheet table 4, TyOff +-40 mg).
ZERO_G_OFFSET_MG = 40
#: Zero-g level change with temperature, mg per degree C (datasheet table 4, TCOff +-0.5).
OFFSET_DRIFT_MG_PER_C = 0.5

#: Largest numerator/denominator accepted for the resampling ratio.
MAX_RATIO_TERM = 1000

# Padding for resample_poly: an odd reflection about the end value keeps both
# the value and the slope continuous at the edges, so the filter sees no step
# there (zero padding would fake a 1 g step at each end because of gravity).
_PADTYPE = "antireflect"


def sensitivity(range_g, bits) -> int:
    """mg/digit for a full scale (2, 4, 8, 16 g) and resolution (8, 10, 12 bits)."""
    try:
        key = (int(range_g), int(bits))
        if key != (range_g, bits):  # e.g. 4.5 g
            raise ValueError
        return SENSITIVITY_MG[key]
    except (KeyError, TypeError, ValueError):
        raise ValueError(
            f"unsupported LIS3DH setting: range +-{range_g} g, {bits}-bit "
            f"(range must be 2, 4, 8 or 16; bits 8, 10 or 12)"
        ) from None


def check_device_rate(rate_hz) -> int:
    """The device rate as an int Hz if it is one of DEVICE_RATES_HZ; ValueError (one line) if not."""
    choices = ", ".join(str(r) for r in DEVICE_RATES_HZ[:-1]) + f" or {DEVICE_RATES_HZ[-1]} Hz"
    try:
        rate = float(rate_hz)
    except (TypeError, ValueError):
        raise ValueError(f"device rate must be a number of Hz ({choices}), not {rate_hz!r}") from None
    if rate in DEVICE_RATES_HZ:
        return int(rate)
    if rate in _LIS3DH_RATES_HZ:
        raise ValueError(f"device rate {rate:g} Hz: the LIS3DH has it, but it is too slow to see steps "
                         f"(the step rhythm is 1-3 Hz); choose {choices}")
    raise ValueError(f"device rate {rate:g} Hz: the LIS3DH has no such rate in normal mode; choose {choices} "
                     "(a recording's own rate, such as the Bangle.js 12.5 Hz, needs no option)")


def quantize(mg, range_g, bits) -> np.ndarray:
    """Quantize acceleration in milli-g like the LIS3DH does.

    ``counts = clip(round(mg / sens), -2**(bits-1), 2**(bits-1) - 1)`` and the
    result is ``counts * sens`` as int32 milli-g (same shape as ``mg``).
    """
    sens = sensitivity(range_g, bits)
    bits = int(bits)
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    counts = np.clip(np.rint(np.asarray(mg, dtype=np.float64) / sens), lo, hi)
    return (counts * sens).astype(np.int32)


def _check_rate(rate, what) -> float:
    try:
        r = float(rate)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number of Hz, got {rate!r}") from None
    if not math.isfinite(r) or r <= 0:
        raise ValueError(f"{what} must be a positive number of Hz, got {rate!r}")
    return r


def resample_factors(src_rate, dst_rate) -> tuple[int, int]:
    """(up, down) with dst/src == up/down, both <= MAX_RATIO_TERM.

    Rates are taken as exact decimals (12.5 -> 25/2).  Raises ValueError when
    the ratio is not a reasonable fraction.
    """
    src = _check_rate(src_rate, "source rate")
    dst = _check_rate(dst_rate, "device rate")
    exact = Fraction(dst).limit_denominator(10**6) / Fraction(src).limit_denominator(10**6)
    ratio = exact
    if ratio.numerator > MAX_RATIO_TERM or ratio.denominator > MAX_RATIO_TERM:
        ratio = exact.limit_denominator(MAX_RATIO_TERM)
        if abs(ratio - exact) > exact * Fraction(1, 10**6) or ratio.numerator > MAX_RATIO_TERM:
            raise ValueError(
                f"cannot resample {src:g} Hz to {dst:g} Hz: ratio {exact} is not a "
                f"fraction with terms <= {MAX_RATIO_TERM}"
            )
    return ratio.numerator, ratio.denominator


def uniform_grid(t_ms, xyz, step, rate_hz):
    """Put samples on a uniform grid of 1000/rate_hz ms starting at t_ms[0].

    Returns ``(xyz_float64, step_or_None, n_filled)``.  Samples already on the
    grid (every t_ms within half a period of its index) pass through unchanged;
    otherwise each axis is linearly interpolated onto the grid and each step
    mark moves to its nearest grid sample.
    """
    xyz = np.asarray(xyz)
    slots = _grid_slots(t_ms, rate_hz)
    out = np.empty((len(xyz) if slots is None else int(slots[-1]) + 1, 3), dtype=np.float64)
    for a in range(3):
        out[:, a] = _axis_on_grid(t_ms, xyz[:, a], slots, rate_hz)
    return out, _steps_on_grid(step, slots), len(out) - len(xyz)


def _grid_slots(t_ms, rate_hz):
    """The grid slot (int64) of each sample, or None when each sample has its own slot in turn."""
    t = np.asarray(t_ms)
    if t.size < 2:
        return None
    dt = np.diff(t)
    if np.any(dt <= 0):
        i = int(np.argmax(dt <= 0)) + 1
        raise ValueError(f"t_ms must be strictly increasing (sample {i}: {t[i - 1]:g} -> {t[i]:g})")
    k = np.rint((t - t[0]) / (1000.0 / rate_hz)).astype(np.int64)
    return None if np.all(np.diff(k) == 1) else k


def _axis_on_grid(t_ms, values, slots, rate_hz):
    """One axis on the grid as float64: a copy, or linear interpolation where samples are missing."""
    if slots is None:
        return np.array(values, dtype=np.float64)
    t = np.asarray(t_ms, dtype=np.float64)
    grid = t[0] + np.arange(int(slots[-1]) + 1) * (1000.0 / rate_hz)
    return np.interp(grid, t, np.asarray(values, dtype=np.float64))


def _steps_on_grid(step, slots):
    if step is None or slots is None:
        return None if step is None else np.asarray(step).copy()
    new_step = np.bincount(slots, weights=np.asarray(step, dtype=np.float64), minlength=int(slots[-1]) + 1)
    return np.rint(new_step).astype(np.int64)


def resample(xyz, src_rate, dst_rate):
    """Anti-aliased resampling of an (n, 3) float array; same rate = copy."""
    up, down = resample_factors(src_rate, dst_rate)
    xyz = np.asarray(xyz, dtype=np.float64)
    if up == down or xyz.shape[0] == 0:
        return xyz.copy()
    if xyz.shape[0] == 1:  # nothing to filter; hold the value
        n_out = -(-up // down)
        return np.repeat(xyz, n_out, axis=0)
    return resample_poly(xyz, up, down, axis=0, padtype=_PADTYPE)


def _resample_steps(step, up, down, n_out):
    """Move each step at source sample i to output sample round(i*up/down)."""
    step = np.asarray(step, dtype=np.int64)
    if up == down:
        return step.copy()
    i = np.nonzero(step)[0]
    j = np.minimum((2 * i * up + down) // (2 * down), max(n_out - 1, 0))
    out = np.zeros(n_out, dtype=np.int64)
    np.add.at(out, j, step[i])
    return out


def _fmt_hz(rate: float) -> str:
    return f"{rate:.6f}".rstrip("0").rstrip(".")


def device_view(trace: Trace, rate_hz=None, range_g=None, bits=None) -> Trace:
    """What the device would see of ``trace``: uniform grid, device rate, LIS3DH counts.

    ``rate_hz``, ``range_g`` and ``bits`` default to ``RATE_HZ``, ``RANGE_G``
    and ``RESOLUTION_BITS`` in ``stepclip_firmware.config``.  The step column
    (if any) keeps its total exactly.  Raises ValueError on unsupported
    settings or a resampling ratio that is not a reasonable fraction.
    """
    rate = _check_rate(config.RATE_HZ if rate_hz is None else rate_hz, "device rate")
    range_g = config.RANGE_G if range_g is None else range_g
    bits = config.RESOLUTION_BITS if bits is None else bits
    sens = sensitivity(range_g, bits)
    range_g, bits = int(range_g), int(bits)
    src_rate = _check_rate(trace.rate_hz, "trace rate_hz")
    up, down = resample_factors(src_rate, rate)

    # one axis at a time, so that a long trace needs one float64 column at a time
    slots = _grid_slots(trace.t_ms, src_rate)
    n_filled = 0 if slots is None else int(slots[-1]) + 1 - len(trace.t_ms)
    axes = []
    for a in range(3):
        col = _axis_on_grid(trace.t_ms, trace.xyz[:, a], slots, src_rate)
        axes.append(quantize(resample(col[:, None], src_rate, rate)[:, 0], range_g, bits))
        del col
    out_xyz = np.column_stack(axes)
    n_out = out_xyz.shape[0]
    out_step = None
    if trace.step is not None:
        out_step = _resample_steps(_steps_on_grid(trace.step, slots), up, down, n_out).astype(np.int32)

    t0 = int(trace.t_ms[0]) if len(trace.t_ms) else 0
    t_ms = t0 + np.rint(np.arange(n_out) * (1000.0 / rate)).astype(np.int64)

    meta = dict(trace.meta)
    meta["rate_hz"] = _fmt_hz(rate)
    desc = f"{_fmt_hz(rate)} Hz, +-{range_g} g, {bits}-bit ({sens} mg/digit)"
    if up != down:
        desc += f", resampled from {_fmt_hz(src_rate)} Hz"
    if n_filled:
        desc += f", {n_filled} missing samples interpolated"
    meta["device_view"] = desc

    return Trace(
        rate_hz=rate,
        t_ms=t_ms,
        xyz=out_xyz.reshape(-1, 3),
        step=out_step,
        meta=meta,
        path=trace.path,
    )


def on_a_table(seconds, rate_hz=None, range_g=None, bits=None, noise_ug=NOISE_DENSITY_UG,
               degrees_per_hour=2.0, seed=0) -> Trace:
    """A clip lying on a table: what its LIS3DH reports, as a synthetic device view.

    Gravity (1 g) in a random direction (the clip on its back, side or edge), a
    zero-g offset per axis drawn within +-ZERO_G_OFFSET_MG, white noise of
    ``noise_ug`` micro-g per root hertz over the sensor's bandwidth (half its
    output rate: 0.78 mg rms per axis at 25 Hz and 220 ug/sqrt(Hz)), and a slow
    offset drift of OFFSET_DRIFT_MG_PER_C for a room warming or cooling by
    ``degrees_per_hour``; then quantized to the sensor's digits at ``range_g`` and
    ``bits`` (defaults: the firmware's settings). Nothing moves it. Returns a
    Trace of int32 milli-g, labelled synthetic, with 0 true steps. Raises
    ValueError for a bad rate, range or resolution, or seconds <= 0.
    """
    rate = _check_rate(config.RATE_HZ if rate_hz is None else rate_hz, "device rate")
    range_g = config.RANGE_G if range_g is None else range_g
    bits = config.RESOLUTION_BITS if bits is None else bits
    sens = sensitivity(range_g, bits)
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds!r}")
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate))
    direction = rng.normal(size=3)
    gravity = 1000.0 * direction / np.linalg.norm(direction)
    offset = rng.uniform(-ZERO_G_OFFSET_MG, ZERO_G_OFFSET_MG, size=3)
    t_s = np.arange(n) / rate
    drift = np.outer(t_s / 3600.0 * degrees_per_hour * OFFSET_DRIFT_MG_PER_C, rng.choice([-1.0, 1.0], size=3))
    sigma_mg = noise_ug / 1000.0 * math.sqrt(rate / 2.0)
    mg = gravity + offset + drift + rng.normal(scale=sigma_mg, size=(n, 3))
    meta = {
        "stepclip-trace": "1",
        "rate_hz": _fmt_hz(rate),
        "units": "mg",
        "placement": "table",
        "activity": "lying on a table (sensor noise only)",
        "steps": "0",
        "source": f"synthetic (stepclip sensor.on_a_table, seed {seed}): LIS3DH noise {noise_ug:g} ug/sqrt(Hz), "
                  f"{sigma_mg:.2f} mg rms per axis",
        "device_view": f"{_fmt_hz(rate)} Hz, +-{int(range_g)} g, {int(bits)}-bit ({sens} mg/digit)",
    }
    return Trace(
        rate_hz=rate,
        t_ms=np.rint(t_s * 1000.0).astype(np.int64),
        xyz=quantize(mg, range_g, bits).reshape(-1, 3),
        step=None,
        meta=meta,
    )

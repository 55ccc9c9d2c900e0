"""Tests for stepclip.sensor: the device view of a trace."""

import math
from pathlib import Path

import numpy as np
import pytest

from stepclip import sensor
from stepclip.trace import Trace
from stepclip_firmware import config

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def make_trace(xyz, rate_hz, step=None, t_ms=None, meta=None, path=None):
    xyz = np.asarray(xyz)
    if xyz.ndim == 1:
        xyz = np.column_stack([np.zeros_like(xyz), np.zeros_like(xyz), xyz])
    n = len(xyz)
    if t_ms is None:
        t_ms = np.rint(np.arange(n) * 1000.0 / rate_hz)
    m = {"stepclip-trace": "1", "rate_hz": f"{rate_hz:g}", "units": "mg"}
    m.update(meta or {})
    return Trace(rate_hz=float(rate_hz), t_ms=np.asarray(t_ms, dtype=np.int64),
                 xyz=np.rint(xyz).astype(np.int32),
                 step=None if step is None else np.asarray(step, dtype=np.int32),
                 meta=m, path=path)


def tone_fit(t_s, y, f):
    """Amplitude and offset of the best fit a*sin + b*cos + c at frequency f."""
    A = np.column_stack([np.sin(2 * np.pi * f * t_s), np.cos(2 * np.pi * f * t_s),
                         np.ones_like(t_s)])
    (a, b, c), *_ = np.linalg.lstsq(A, y, rcond=None)
    return math.hypot(a, b), c


# ---------------------------------------------------------------- quantization

EXPECTED_SENS = {
    2: {12: 1, 10: 4, 8: 16},
    4: {12: 2, 10: 8, 8: 32},
    8: {12: 4, 10: 16, 8: 64},
    16: {12: 12, 10: 48, 8: 192},
}


def test_sensitivity_table_matches_datasheet():
    flat = {(r, b): s for r, d in EXPECTED_SENS.items() for b, s in d.items()}
    assert sensor.SENSITIVITY_MG == flat


def test_quantize_examples_4g_10bit():
    q = sensor.quantize(np.array([5000, 13, -4100, 0, 4, -3, 4088, -4096]), 4, 10)
    assert q.dtype == np.int32
    assert q.tolist() == [4088, 16, -4096, 0, 0, 0, 4088, -4096]


@pytest.mark.parametrize("range_g,bits", sorted(sensor.SENSITIVITY_MG))
def test_quantize_steps_and_clips(range_g, bits):
    s = EXPECTED_SENS[range_g][bits]
    top, bottom = (2 ** (bits - 1) - 1) * s, -(2 ** (bits - 1)) * s
    mg = np.array([0.0, 1.4 * s, 1.6 * s, -0.6 * s, -2.4 * s, 3 * s,
                   top + 10 * s, bottom - 10 * s, 1e6, -1e6, top, bottom])
    q = sensor.quantize(mg, range_g, bits)
    assert q.tolist() == [0, s, 2 * s, -s, -2 * s, 3 * s, top, bottom, top, bottom, top, bottom]
    # every output is a whole number of digits
    assert np.all(q % s == 0)


def test_quantize_keeps_shape():
    mg = np.arange(30, dtype=float).reshape(10, 3) * 37.3
    q = sensor.quantize(mg, 2, 12)
    assert q.shape == (10, 3) and q.dtype == np.int32
    assert np.array_equal(q, np.rint(mg).astype(np.int32))


@pytest.mark.parametrize("range_g,bits", [(3, 10), (4, 11), (4.5, 10), (32, 12), (4, 16), ("4", 10)])
def test_unsupported_setting_raises(range_g, bits):
    with pytest.raises(ValueError) as e:
        sensor.quantize(np.zeros(3), range_g, bits)
    assert "\n" not in str(e.value)
    tr = make_trace(np.full(100, 1000), 100)
    with pytest.raises(ValueError):
        sensor.device_view(tr, range_g=range_g, bits=bits)


# ------------------------------------------------------------------ resampling


@pytest.mark.parametrize("phase", [0.0, 0.7, math.pi / 2, 2.5, 4.0])
def test_sine_resampled_keeps_amplitude_mean_and_edges(phase):
    fs, f, amp, dc = 100, 2.0, 500.0, 1000.0
    t = np.arange(30 * fs) / fs
    tr = make_trace(dc + amp * np.sin(2 * np.pi * f * t + phase), fs)
    dv = sensor.device_view(tr, rate_hz=25, range_g=4, bits=12)
    assert dv.rate_hz == 25 and len(dv) == len(tr) // 4
    td = dv.t_ms / 1000.0
    z = dv.xyz[:, 2].astype(float)
    a, c = tone_fit(td, z, f)
    assert abs(a - amp) < 0.03 * amp
    assert abs(c - dc) < 5
    assert abs(z.mean() - dc) < 5
    truth = dc + amp * np.sin(2 * np.pi * f * td + phase)
    # no edge artefacts: zero padding would be off by hundreds of mg here
    assert np.max(np.abs(z[:5] - truth[:5])) < 25
    assert np.max(np.abs(z[-5:] - truth[-5:])) < 25
    # and the quiet axes stay at zero
    assert np.all(dv.xyz[:, :2] == 0)


def test_constant_gravity_has_no_edge_steps():
    tr = make_trace(np.column_stack([np.full(1000, -250), np.full(1000, 40), np.full(1000, 970)]), 100)
    for rate in (25, 12.5, 10, 1, 50, 200):
        dv = sensor.device_view(tr, rate_hz=rate, range_g=2, bits=12)
        assert np.all(np.abs(dv.xyz - [-250, 40, 970]) <= 1), rate


def test_anti_aliasing_attenuates_20hz_by_20db():
    fs, amp = 100, 400.0
    t = np.arange(20 * fs) / fs
    z = 1000 + amp * np.sin(2 * np.pi * 20 * t)
    dv = sensor.device_view(make_trace(z, fs), rate_hz=25, range_g=2, bits=12)
    td = dv.t_ms / 1000.0
    # at 25 Hz a 20 Hz tone would alias to 5 Hz
    aliased, _ = tone_fit(td, dv.xyz[:, 2].astype(float), 5.0)
    assert aliased < amp / 10  # -20 dB
    # sanity: plain decimation would have kept it
    naive, _ = tone_fit(t[::4], z[::4], 5.0)
    assert naive > amp * 0.9
    # a 3 Hz tone next to it passes
    z2 = 1000 + amp * np.sin(2 * np.pi * 3 * t)
    dv2 = sensor.device_view(make_trace(z2, fs), rate_hz=25, range_g=2, bits=12)
    kept, _ = tone_fit(dv2.t_ms / 1000.0, dv2.xyz[:, 2].astype(float), 3.0)
    assert abs(kept - amp) < 0.03 * amp


@pytest.mark.parametrize("src,dst", [(100, 25), (100, 50), (100, 12.5), (12.5, 25),
                                     (12.5, 50), (100, 100), (12.5, 12.5), (100, 1),
                                     (100, 400), (50, 100 / 3)])
def test_rates_lengths_and_step_totals(src, dst):
    rng = np.random.default_rng(3)
    n = 1237
    step = (rng.random(n) < 0.1).astype(int)
    step[0] = step[-1] = 1
    xyz = rng.normal(0, 200, (n, 3)) + [0, 0, 1000]
    tr = make_trace(xyz, src, step=step)
    dv = sensor.device_view(tr, rate_hz=dst, range_g=8, bits=12)
    n_out = math.ceil(n * dst / src - 1e-9)
    assert len(dv) == n_out
    assert dv.xyz.shape == (n_out, 3) and dv.xyz.dtype == np.int32
    assert dv.t_ms.dtype == np.int64
    assert np.array_equal(dv.t_ms, np.rint(np.arange(n_out) * 1000.0 / dst).astype(np.int64))
    assert dv.step.dtype == np.int32 and dv.step.shape == (n_out,)
    assert dv.step.sum() == step.sum()
    assert dv.rate_hz == pytest.approx(dst)
    assert float(dv.meta["rate_hz"]) == pytest.approx(dst, rel=1e-6)


def test_step_goes_to_nearest_output_sample():
    n = 1000
    step = np.zeros(n, int)
    for i in (5, 6, 9, 10, 401, 998, 999):
        step[i] = 1
    tr = make_trace(np.full(n, 1000), 100, step=step)
    dv = sensor.device_view(tr, rate_hz=25)
    # 5/4=1.25->1, 6/4=1.5->2, 9/4=2.25->2, 10/4=2.5->3, 401->100, 998->250 clamped to 249, 999->249.75->249 (clamped)
    expected = np.zeros(250, int)
    for j in (1, 2, 2, 3, 100, 249, 249):
        expected[j] += 1
    assert dv.step.tolist() == expected.tolist()
    up = sensor.device_view(make_trace(np.full(10, 1000), 12.5, step=[0, 1, 0, 0, 0, 0, 0, 0, 0, 2]),
                            rate_hz=25)
    assert np.flatnonzero(up.step).tolist() == [2, 18] and up.step[18] == 2


def test_same_rate_is_a_no_op_apart_from_quantization():
    rng = np.random.default_rng(0)
    xyz = rng.integers(-2000, 2000, (500, 3))
    step = (rng.random(500) < 0.05).astype(int)
    tr = make_trace(xyz, 100, step=step, meta={"steps": str(step.sum())})
    dv = sensor.device_view(tr, rate_hz=100, range_g=2, bits=12)
    assert np.array_equal(dv.xyz, xyz)
    assert np.array_equal(dv.step, step)
    assert np.array_equal(dv.t_ms, tr.t_ms)
    # coarser resolution: exactly the quantization of the input
    dv8 = sensor.device_view(tr, rate_hz=100, range_g=4, bits=8)
    assert np.array_equal(dv8.xyz, sensor.quantize(xyz, 4, 8))


def test_device_view_is_idempotent():
    rng = np.random.default_rng(1)
    t = np.arange(3000) / 100
    z = 1000 + 300 * np.sin(2 * np.pi * 1.8 * t) + rng.normal(0, 20, t.size)
    once = sensor.device_view(make_trace(z, 100))
    twice = sensor.device_view(once)
    assert np.array_equal(once.xyz, twice.xyz)
    assert np.array_equal(once.t_ms, twice.t_ms)


def test_clipping_through_device_view():
    t = np.arange(1000) / 100
    z = 1000 + 3500 * np.sin(2 * np.pi * 1 * t)  # -2.5 g .. +4.5 g
    dv = sensor.device_view(make_trace(z, 100), rate_hz=25, range_g=2, bits=12)
    assert dv.xyz[:, 2].max() == 2047 and dv.xyz[:, 2].min() == -2048
    dv16 = sensor.device_view(make_trace(z, 100), rate_hz=25, range_g=16, bits=10)
    assert dv16.xyz[:, 2].max() > 4400 and np.all(dv16.xyz % 48 == 0)


# ------------------------------------------------------------------------ gaps


def test_gaps_are_filled_by_interpolation():
    fs = 100
    n = 1000
    t_ms = np.arange(n) * 10
    z = 1000 + 0.5 * np.arange(n)  # a slow ramp, 0.5 mg per sample
    step = np.zeros(n, int)
    step[[50, 200, 700]] = 1
    keep = np.ones(n, bool)
    keep[300:420] = False  # 1.2 s missing
    keep[800] = False      # one missing sample
    tr = make_trace(z[keep], fs, step=step[keep], t_ms=t_ms[keep])
    dv = sensor.device_view(tr, rate_hz=100, range_g=2, bits=12)
    assert len(dv) == n
    assert np.array_equal(dv.t_ms, t_ms)
    assert np.max(np.abs(dv.xyz[:, 2] - z)) <= 1  # the ramp is restored exactly
    assert dv.step.sum() == 3 and np.flatnonzero(dv.step).tolist() == [50, 200, 700]
    assert "121 missing samples" in dv.meta["device_view"]
    # resampled as well
    dv25 = sensor.device_view(tr, rate_hz=25, range_g=2, bits=12)
    assert len(dv25) == n // 4
    assert np.max(np.abs(dv25.xyz[:, 2] - z[::4])) <= 3
    assert dv25.step.sum() == 3


def test_jittered_timestamps_without_gaps_are_taken_as_uniform():
    n = 400
    t_ms = np.arange(n) * 10 + np.tile([0, 3, -2, 1], n // 4)
    t_ms[0] = 0
    z = np.full(n, 1000)
    dv = sensor.device_view(make_trace(z, 100, t_ms=t_ms), rate_hz=100, range_g=2, bits=12)
    assert len(dv) == n and np.array_equal(dv.t_ms, np.arange(n) * 10)


def test_step_near_gap_goes_to_nearest_grid_sample():
    # 12.5 Hz, timestamps every 80 ms; sample at 400 ms missing, step recorded at 480 ms
    t_ms = np.array([0, 80, 160, 240, 320, 480, 560])
    step = np.array([0, 0, 0, 0, 0, 1, 0])
    z = np.array([1000, 1010, 1020, 1030, 1040, 1060, 1070])
    dv = sensor.device_view(make_trace(z, 12.5, step=step, t_ms=t_ms), rate_hz=12.5, range_g=2, bits=12)
    assert dv.t_ms.tolist() == [0, 80, 160, 240, 320, 400, 480, 560]
    assert dv.xyz[:, 2].tolist() == [1000, 1010, 1020, 1030, 1040, 1050, 1060, 1070]
    assert dv.step.tolist() == [0, 0, 0, 0, 0, 0, 1, 0]


# ------------------------------------------------------------- 12.5 Hz sources


def test_12_5_to_25_hz():
    fs = 12.5
    t = np.arange(500) / fs
    z = 1000 + 300 * np.sin(2 * np.pi * 1.5 * t + 1.0)
    step = np.zeros(500, int)
    step[[3, 100, 499]] = 1
    dv = sensor.device_view(make_trace(z, fs, step=step), rate_hz=25, range_g=4, bits=12)
    assert len(dv) == 1000 and dv.rate_hz == 25
    assert dv.t_ms[:4].tolist() == [0, 40, 80, 120]
    assert np.flatnonzero(dv.step).tolist() == [6, 200, 998]
    td = dv.t_ms / 1000
    truth = 1000 + 300 * np.sin(2 * np.pi * 1.5 * td + 1.0)
    a, c = tone_fit(td, dv.xyz[:, 2].astype(float), 1.5)
    assert abs(a - 300) < 9 and abs(c - 1000) < 5
    # the new in-between samples are real interpolations, not zeros or copies
    assert np.max(np.abs(dv.xyz[10:-10, 2] - truth[10:-10])) < 15
    assert dv.meta["rate_hz"] == "25"


# --------------------------------------------------------- defaults, meta, errors


def test_defaults_come_from_firmware_config(monkeypatch):
    tr = make_trace(1000 + 13 * np.arange(800) % 97, 100)
    dv = sensor.device_view(tr)
    sens = sensor.SENSITIVITY_MG[(config.RANGE_G, config.RESOLUTION_BITS)]
    assert dv.rate_hz == config.RATE_HZ
    assert np.all(dv.xyz % sens == 0)
    assert f"+-{config.RANGE_G} g" in dv.meta["device_view"]
    monkeypatch.setattr(config, "RATE_HZ", 50)
    monkeypatch.setattr(config, "RANGE_G", 16)
    monkeypatch.setattr(config, "RESOLUTION_BITS", 8)
    dv2 = sensor.device_view(tr)
    assert dv2.rate_hz == 50 and len(dv2) == 400
    assert np.all(dv2.xyz % 192 == 0)


def test_meta_and_path():
    tr = make_trace(np.full(400, 1000), 100, step=np.zeros(400, int),
                    meta={"steps": "0", "placement": "hip", "source": "test"}, path="/x/y.csv")
    before = dict(tr.meta)
    dv = sensor.device_view(tr, rate_hz=25, range_g=4, bits=10)
    assert dv.meta["device_view"].startswith("25 Hz, +-4 g, 10-bit (8 mg/digit)")
    assert dv.meta["rate_hz"] == "25"
    assert dv.meta["placement"] == "hip" and dv.meta["source"] == "test" and dv.meta["steps"] == "0"
    assert tr.meta == before  # input untouched
    assert dv.path == "/x/y.csv"
    dv12 = sensor.device_view(tr, rate_hz=12.5, range_g=2, bits=12)
    assert dv12.meta["rate_hz"] == "12.5"
    assert dv12.meta["device_view"].startswith("12.5 Hz, +-2 g, 12-bit (1 mg/digit)")


def test_device_view_writes_and_reads_back(tmp_path):
    from stepclip import trace as trace_mod
    t = np.arange(2000) / 100
    step = (np.arange(2000) % 55 == 20).astype(int)
    tr = make_trace(1000 + 200 * np.sin(2 * np.pi * 1.8 * t), 100, step=step)
    dv = sensor.device_view(tr, rate_hz=12.5)
    p = tmp_path / "dv.csv"
    trace_mod.write(p, dv)
    back = trace_mod.read(p)
    assert back.rate_hz == 12.5
    assert np.array_equal(back.xyz, dv.xyz) and np.array_equal(back.t_ms, dv.t_ms)
    assert back.steps == step.sum()
    assert back.meta["device_view"] == dv.meta["device_view"]


@pytest.mark.parametrize("rate", [0, -25, float("nan"), float("inf"), 33.33, 7.77, "fast"])
def test_bad_rate_raises(rate):
    tr = make_trace(np.full(100, 1000), 100)
    with pytest.raises(ValueError) as e:
        sensor.device_view(tr, rate_hz=rate)
    assert "\n" not in str(e.value)


def test_reasonable_fractions_accepted():
    assert sensor.resample_factors(100, 25) == (1, 4)
    assert sensor.resample_factors(100, 12.5) == (1, 8)
    assert sensor.resample_factors(12.5, 25) == (2, 1)
    assert sensor.resample_factors(12.5, 50) == (4, 1)
    assert sensor.resample_factors(100, 100) == (1, 1)
    assert sensor.resample_factors(100, 100 / 3) == (1, 3)
    assert sensor.resample_factors(400, 1) == (1, 400)
    assert sensor.resample_factors(104, 25) == (25, 104)


def test_time_not_increasing_raises():
    tr = make_trace(np.full(5, 1000), 100, t_ms=[0, 10, 20, 20, 30])
    with pytest.raises(ValueError):
        sensor.device_view(tr)


# -------------------------------------------------------------- real datasets


@pytest.mark.skipif(not DATASETS.is_dir(), reason=f"datasets folder {DATASETS} not present")
def test_datasets_convert_to_device_view_and_keep_steps():
    from stepclip import trace as trace_mod
    files = sorted(DATASETS.glob("*/*.csv"))
    assert files
    traces = [trace_mod.read(p) for p in files]
    views = [sensor.device_view(tr) for tr in traces]
    for tr, dv in zip(traces, views):
        assert dv.rate_hz == config.RATE_HZ
        assert len(dv) == math.ceil(len(tr) * config.RATE_HZ / tr.rate_hz - 1e-9)
        assert dv.steps == tr.steps, tr.name
        if tr.step is not None:
            assert dv.step.sum() == tr.step.sum(), tr.name
        # still gravity-sized at rest and on average
        mag = np.linalg.norm(dv.xyz.astype(float), axis=1)
        assert 800 < np.median(mag) < 1200, tr.name

"""Tests for stepclip.synth: the synthetic hip-walking generator."""

import math

import numpy as np
import pytest
from scipy.signal import find_peaks

from stepclip import sensor, synth
from stepclip import trace as trace_mod


def segment_slices(segments, rate_hz):
    out, start = [], 0.0
    for s in segments:
        out.append(slice(int(round(start * rate_hz)), int(round((start + s.seconds) * rate_hz))))
        start += s.seconds
    return out


def dominant_hz(x, rate_hz):
    x = x - x.mean()
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    f = np.fft.rfftfreq(x.size, 1 / rate_hz)
    spec[f < 0.3] = 0
    return f[np.argmax(spec)]


# ------------------------------------------------------------------ step count


@pytest.mark.parametrize("seconds,cadence", [(60, 105), (30, 110), (40, 115), (15, 95),
                                             (10, 80), (120, 130), (7.3, 100), (300, 112)])
def test_steps_match_cadence_times_duration(seconds, cadence):
    segs = [synth.stand(3), synth.walk(seconds, cadence_spm=cadence), synth.stand(3)]
    tr = synth.generate(segs, seed=4)
    expected = cadence * seconds / 60
    assert abs(tr.steps - expected) <= 1
    assert tr.step.sum() == tr.steps == segs[1].steps
    assert tr.meta["steps"] == str(tr.steps)
    assert set(np.unique(tr.step).tolist()) <= {0, 1}
    sl = segment_slices(segs, 100)
    assert tr.step[sl[0]].sum() == 0 and tr.step[sl[2]].sum() == 0
    # cadence is right and intervals vary a little (+-3 %), not more
    iv = np.diff(np.flatnonzero(tr.step)) / 100
    d = 60 / cadence
    assert np.median(iv) == pytest.approx(d, rel=0.03)
    assert np.all(np.abs(iv - d) <= 0.03 * d + 0.011)  # + one 10 ms sample of rounding
    assert iv.std() > 0.002  # there is jitter


def test_turn_slows_steps_in_the_middle():
    seg = synth.walk(30, cadence_spm=100, turn=True)
    tr = synth.generate([synth.stand(2), seg, synth.stand(2)], seed=2)
    expected = 100 * 30 / 60
    assert expected - 3 <= tr.steps <= expected  # a turn costs up to two steps
    assert tr.steps == seg.steps
    marks = np.flatnonzero(tr.step) / 100
    iv = np.diff(marks)
    d = 0.6
    slow = np.flatnonzero(iv > 1.2 * d)
    assert 2 <= slow.size <= 3
    mid = 2 + 15
    assert np.all(np.abs(marks[slow] - mid) < 5)
    straight = synth.generate([synth.stand(2), synth.walk(30, 100), synth.stand(2)], seed=2)
    assert np.max(np.diff(np.flatnonzero(straight.step))) / 100 < 1.1 * d


@pytest.mark.parametrize("cadence", [70, 100, 130])
@pytest.mark.parametrize("frac", [0.1, 0.3, 0.6, 0.9])
def test_heel_strikes_stay_inside_the_bout(cadence, frac):
    # every step has room for its whole cycle: none in the first or last
    # ~half step of a walk segment, whatever fraction of a step is left over
    d = 60 / cadence
    segs = [synth.stand(5), synth.walk((20 + frac) * d, cadence), synth.stand(5),
            synth.walk((15 + frac) * d, cadence, turn=True)]
    tr = synth.generate(segs, seed=8)
    marks = np.flatnonzero(tr.step) / 100
    for sl in (segment_slices(segs, 100)[1], segment_slices(segs, 100)[3]):
        a, b = sl.start / 100, sl.stop / 100
        inside = marks[(marks >= a) & (marks < b)]
        assert inside.size > 5
        assert inside[0] - a >= 0.45 * d and b - inside[-1] >= 0.45 * d


@pytest.mark.parametrize("seg", [synth.stand(20), synth.sit(20), synth.bumps(20),
                                 synth.bumps(20, rate_per_s=4, strength_g=0.6)])
def test_non_walking_segments_have_no_steps(seg):
    tr = synth.generate([seg], seed=1)
    assert tr.steps == 0 and tr.step.sum() == 0 and seg.steps == 0


def test_each_step_mark_is_a_vertical_peak():
    segs = [synth.stand(5), synth.walk(40, 110), synth.stand(5)]
    tr = synth.generate(segs, seed=7, noise_mg=5)
    z = tr.xyz[:, 2].astype(float)
    peaks, _ = find_peaks(z, height=1150, distance=25)
    marks = np.flatnonzero(tr.step)
    # one clear vertical peak per heel strike, at the heel strike (+-50 ms)
    assert peaks.size == marks.size
    assert np.all(np.abs(peaks - marks) <= 5)
    # nothing like a step while standing
    sl = segment_slices(segs, 100)
    assert z[sl[0]].max() < 1060 and z[sl[2]].max() < 1060


def test_walking_frequencies_vertical_forward_lateral():
    cadence = 120
    segs = [synth.walk(60, cadence)]
    tr = synth.generate(segs, seed=3)
    f_step = cadence / 60
    x, y, z = (tr.xyz[:, a].astype(float) for a in range(3))
    assert dominant_hz(z, 100) == pytest.approx(f_step, abs=0.05)
    assert dominant_hz(x, 100) == pytest.approx(f_step, abs=0.05)
    assert dominant_hz(y, 100) == pytest.approx(f_step / 2, abs=0.05)  # sway per stride
    # vertical is the strongest, peaks of ~intensity above gravity
    assert z.std() > x.std() > y.std()
    assert 1250 < np.percentile(z, 99.5) < 1550


def test_intensity_scales_amplitude():
    a = synth.generate([synth.walk(30, 110, intensity_g=0.2)], seed=0, noise_mg=0)
    b = synth.generate([synth.walk(30, 110, intensity_g=0.4)], seed=0, noise_mg=0)
    ratio = b.xyz[:, 2].std() / a.xyz[:, 2].std()
    assert ratio == pytest.approx(2.0, rel=0.05)
    assert a.steps == b.steps


def test_ramp_up_and_down():
    tr = synth.generate([synth.stand(3), synth.walk(20, 100), synth.stand(3)], seed=5, noise_mg=0)
    z = tr.xyz[:, 2].astype(int)
    marks = np.flatnonzero(tr.step)
    h = [z[m - 5:m + 6].max() - 1000 for m in marks]
    full = np.median(h)
    assert h[0] < 0.6 * full and h[1] < 0.9 * full and h[2] > 0.8 * full
    assert h[-1] < 0.6 * full and h[-2] < 0.9 * full and h[-3] > 0.8 * full


# ------------------------------------------------------------- posture, gravity


def test_rest_magnitude_is_one_g():
    segs = [synth.stand(20), synth.sit(20)]
    tr = synth.generate(segs, seed=0)
    for sl in segment_slices(segs, 100):
        core = tr.xyz[sl][200:-200].astype(float)  # skip the posture change
        assert np.linalg.norm(core, axis=1).mean() == pytest.approx(1000, abs=5)
    stand = tr.xyz[:2000].astype(float)
    assert np.all(np.abs(stand.mean(0) - [0, 0, 1000]) < 5)
    assert 3 < stand[:, 0].std() < 20  # some sway, not much


def test_offset_is_added():
    off = (40, -25, 60)
    tr = synth.generate([synth.stand(20)], seed=0, offset_mg=off)
    m = tr.xyz.astype(float).mean(0)
    assert np.all(np.abs(m - (np.array(off) + [0, 0, 1000])) < 5)
    assert np.linalg.norm(m - off) == pytest.approx(1000, abs=5)


def test_sitting_tilts_gravity():
    segs = [synth.stand(10), synth.sit(10, tilt_deg=30), synth.sit(10, tilt_deg=60)]
    tr = synth.generate(segs, seed=0, noise_mg=1)
    means = [tr.xyz[sl][150:-150].astype(float).mean(0) for sl in segment_slices(segs, 100)]

    def angle(a, b):
        return math.degrees(math.acos(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b)))

    assert angle(means[0], means[1]) == pytest.approx(30, abs=2)
    assert angle(means[0], means[2]) == pytest.approx(60, abs=2)
    # sitting is quieter than standing
    assert tr.xyz[segment_slices(segs, 100)[1]][150:-150, 0].std() < \
        tr.xyz[segment_slices(segs, 100)[0]][150:-150, 0].std()
    # posture changes are smooth (about a second), not a jump
    z = tr.xyz[:, 2].astype(float)
    assert np.max(np.abs(np.diff(z[900:1100]))) < 20


@pytest.mark.parametrize("orientation,axis,sign", [((0, 0, 0), 2, 1), ((90, 0, 0), 0, -1),
                                                   ((-90, 0, 0), 0, 1), ((0, 90, 0), 1, 1),
                                                   ((0, -90, 0), 1, -1), ((180, 0, 0), 2, -1),
                                                   ((0, 0, 90), 2, 1)])
def test_orientation_moves_gravity(orientation, axis, sign):
    tr = synth.generate([synth.stand(10)], seed=0, orientation=orientation)
    m = tr.xyz.astype(float).mean(0)
    assert sign * m[axis] == pytest.approx(1000, abs=10)
    assert np.linalg.norm(m) == pytest.approx(1000, abs=5)


def test_yaw_swaps_forward_and_lateral():
    base = synth.generate([synth.walk(30, 110)], seed=0, noise_mg=0)
    yawed = synth.generate([synth.walk(30, 110)], seed=0, noise_mg=0, orientation=(0, 0, 90))
    assert np.allclose(yawed.xyz[:, 2], base.xyz[:, 2], atol=1)
    # the forward (step-frequency) signal now shows on one horizontal axis, the
    # stride sway on the other
    assert np.allclose(np.abs(yawed.xyz[:, :2].std(0)), base.xyz[:, [1, 0]].std(0), rtol=0.02)


def test_orientation_keeps_magnitude_while_walking():
    a = synth.generate([synth.walk(20, 110)], seed=9, noise_mg=0)
    b = synth.generate([synth.walk(20, 110)], seed=9, noise_mg=0, orientation=(35, -20, 70))
    ma = np.linalg.norm(a.xyz.astype(float), axis=1)
    mb = np.linalg.norm(b.xyz.astype(float), axis=1)
    assert np.max(np.abs(ma - mb)) < 2
    assert not np.allclose(a.xyz, b.xyz, atol=50)


# ------------------------------------------------------------------------ bumps


def test_bumps_are_motion_without_rhythm():
    segs = [synth.stand(30), synth.bumps(30), synth.walk(30, 110)]
    tr = synth.generate(segs, seed=11)
    sl = segment_slices(segs, 100)
    mag = np.linalg.norm(tr.xyz.astype(float), axis=1)
    assert mag[sl[1]].std() > 3 * mag[sl[0]].std()  # real motion
    assert np.abs(mag[sl[1]] - 1000).max() > 200    # with sizeable jolts

    def max_autocorr(x, lo, hi):
        x = x - x.mean()
        ac = np.correlate(x, x, "full")[x.size - 1:]
        ac /= ac[0]
        return ac[lo:hi].max()

    # walking repeats every step; bumps do not repeat
    walk_ac = max_autocorr(mag[sl[2]], 30, 150)
    bump_ac = max_autocorr(mag[sl[1]], 30, 150)
    assert walk_ac > 0.6
    assert bump_ac < 0.3


def rhythm_line(tr):
    """Strongest spectral line of the motion envelope in 0.5-4 Hz, relative
    to the median level there: a regular train of jolts (or steps) makes a
    sharp line, irregular (Poisson) jolts do not."""
    mag = np.linalg.norm(tr.xyz.astype(float), axis=1)
    e = np.abs(mag - np.median(mag))
    e -= e.mean()
    sp = np.abs(np.fft.rfft(e)) ** 2
    sp = np.convolve(sp, np.ones(5) / 5, mode="same")
    f = np.fft.rfftfreq(e.size, 1 / tr.rate_hz)
    band = (f > 0.5) & (f < 4)
    return sp[band].max() / np.median(sp[band])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bump_timing_has_no_rhythm(seed):
    bumpy = synth.generate([synth.bumps(300)], seed=seed)
    walking = synth.generate([synth.walk(300, 110)], seed=seed)
    # measured: bumps ~6-11, jolts every 0.55 s ~100, walking ~18000
    assert rhythm_line(bumpy) < 30
    assert rhythm_line(walking) > 1000


def test_bumps_differ_by_seed():
    a = synth.generate([synth.bumps(60, rate_per_s=1.0)], seed=1)
    b = synth.generate([synth.bumps(60, rate_per_s=1.0)], seed=2)
    assert not np.array_equal(a.xyz, b.xyz)


# ---------------------------------------------------------------- determinism, io


def test_deterministic_by_seed():
    a = synth.demo_trace(seed=3)
    b = synth.demo_trace(seed=3)
    c = synth.demo_trace(seed=4)
    assert np.array_equal(a.xyz, b.xyz) and np.array_equal(a.step, b.step)
    assert a.meta == b.meta
    assert not np.array_equal(a.xyz, c.xyz)
    assert not np.array_equal(a.step, c.step)  # jitter moves the heel strikes
    assert a.steps == c.steps  # ... but never changes the count


def test_meta_is_labelled_synthetic():
    tr = synth.generate([synth.stand(2), synth.walk(10, 100, turn=True), synth.bumps(3)], seed=42)
    m = tr.meta
    assert m["stepclip-trace"] == "1"
    assert m["rate_hz"] == "100"
    assert m["units"] == "mg"
    assert m["placement"] == "hip (synthetic)"
    assert m["source"] == "synthetic: stepclip.synth, seed 42"
    assert m["steps"] == str(tr.step.sum())
    assert "walk 10 s at 100 spm with a turn" in m["activity"] and "bumps 3 s" in m["activity"]
    assert all(isinstance(v, str) and "\n" not in v for v in m.values())


def test_arrays_and_times():
    tr = synth.generate([synth.walk(10, 100)], rate_hz=100)
    assert tr.xyz.dtype == np.int32 and tr.xyz.shape == (1000, 3)
    assert tr.t_ms.dtype == np.int64 and np.array_equal(tr.t_ms, np.arange(1000) * 10)
    assert tr.step.dtype == np.int32
    assert tr.duration_s == pytest.approx(10)


@pytest.mark.parametrize("rate", [12.5, 25, 50, 200])
def test_other_rates_same_steps(rate):
    segs = [synth.stand(3), synth.walk(30, 110), synth.stand(3)]
    ref = synth.generate(segs, seed=6)
    tr = synth.generate(segs, seed=6, rate_hz=rate)
    assert tr.rate_hz == rate and len(tr) == round(36 * rate)
    assert tr.meta["rate_hz"] == f"{rate:g}"
    assert tr.steps == ref.steps
    # the same heel strikes, each at its nearest sample
    dt = np.flatnonzero(tr.step) / rate - np.flatnonzero(ref.step) / 100
    assert np.all(np.abs(dt) <= 0.5 / rate + 0.005 + 1e-9)
    mag = np.linalg.norm(tr.xyz[: int(2 * rate)].astype(float), axis=1)
    assert mag.mean() == pytest.approx(1000, abs=10)


def test_write_read_round_trip(tmp_path):
    tr = synth.demo_trace(seed=1)
    p = tmp_path / "demo.csv"
    trace_mod.write(p, tr)
    back = trace_mod.read(p)
    assert back.rate_hz == tr.rate_hz
    assert np.array_equal(back.t_ms, tr.t_ms)
    assert np.array_equal(back.xyz, tr.xyz)
    assert np.array_equal(back.step, tr.step)
    assert back.meta == tr.meta
    assert back.steps == tr.steps
    assert "synthetic" in back.meta["source"]


def test_device_view_keeps_steps():
    tr = synth.demo_trace(seed=0)
    dv = sensor.device_view(tr)
    assert dv.steps == tr.steps and dv.step.sum() == tr.step.sum()
    assert "synthetic" in dv.meta["source"]


def test_demo_trace():
    tr = synth.demo_trace()
    assert tr.duration_s == pytest.approx(185)
    segs = [synth.stand(10), synth.walk(60, 105), synth.stand(10),
            synth.walk(15, 95, turn=True), synth.sit(30), synth.bumps(20), synth.walk(40, 115)]
    assert tr.steps == sum(s.steps for s in segs)
    sl = segment_slices(segs, 100)
    counts = [int(tr.step[s].sum()) for s in sl]
    assert counts[0] == counts[2] == counts[4] == counts[5] == 0
    assert abs(counts[1] - 105) <= 1 and abs(counts[6] - 40 * 115 / 60) <= 1
    assert 95 * 15 / 60 - 3 <= counts[3] <= 95 * 15 / 60


# --------------------------------------------------------------------- errors


@pytest.mark.parametrize("make", [lambda: synth.walk(0), lambda: synth.walk(-5),
                                  lambda: synth.walk(10, cadence_spm=0),
                                  lambda: synth.walk(10, cadence_spm=500),
                                  lambda: synth.stand(float("nan")),
                                  lambda: synth.bumps(10, rate_per_s=0),
                                  lambda: synth.generate([]),
                                  lambda: synth.generate([synth.stand(1)], rate_hz=0),
                                  lambda: synth.generate([synth.stand(1)], noise_mg=-1),
                                  lambda: synth.generate([synth.stand(1)], orientation=(1, 2)),
                                  lambda: synth.generate(["walk"])])
def test_bad_arguments_raise(make):
    with pytest.raises(ValueError):
        make()


# ------------------------------------------------------------ the gaits of issue 8


def test_step_ratio_alternates_short_and_long_intervals_and_keeps_the_stride():
    seg = synth.walk(30, cadence_spm=100, step_ratio=2.0)
    iv = np.diff(synth.walk_strike_times(seg))
    d = 60 / 100
    assert np.allclose(iv[0::2], 2 * d / 3) and np.allclose(iv[1::2], 4 * d / 3)
    assert np.allclose(iv[:-1:2] + iv[1::2], 2 * d)  # the stride stays regular
    tr = synth.generate([synth.stand(2), seg, synth.stand(2)], seed=1)
    assert tr.steps == seg.steps == len(synth.walk_strike_times(seg))


def test_amp_ratio_makes_one_leg_weaker_around_the_same_mean_intensity():
    tr = synth.generate([synth.walk(30, 100, intensity_g=0.3, amp_ratio=3.0)], seed=2, noise_mg=0)
    z = tr.xyz[:, 2].astype(int)
    marks = np.flatnonzero(tr.step)[2:-2]  # leave out the ramps
    h = np.array([z[m - 3:m + 4].max() - 1000 for m in marks])
    strong, weak = h[0::2], h[1::2]
    if strong.mean() < weak.mean():
        strong, weak = weak, strong
    assert strong.mean() / weak.mean() == pytest.approx(3.0, rel=0.25)
    even = synth.generate([synth.walk(30, 100, intensity_g=0.3)], seed=2, noise_mg=0)
    assert np.abs(tr.xyz[:, 2] - 1000).mean() == pytest.approx(np.abs(even.xyz[:, 2] - 1000).mean(), rel=0.2)


def _band_energy(x, rate, f, width=0.15):
    x = x - x.mean()
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / rate)
    return spec[np.abs(freqs - f) < width].sum()


def test_slow_gait_has_weak_step_frequency_energy_and_strong_harmonics():
    cadence = 60
    f = cadence / 60
    normal = synth.generate([synth.walk(60, cadence, gait="normal")], seed=3, noise_mg=0)
    slow = synth.generate([synth.walk(60, cadence, gait="slow")], seed=3, noise_mg=0)
    for tr, harmonics_win in ((normal, False), (slow, True)):
        z = tr.xyz[:, 2].astype(float)
        e1 = _band_energy(z, 100, f)
        e23 = _band_energy(z, 100, 2 * f) + _band_energy(z, 100, 3 * f)
        assert (e23 > e1) == harmonics_win


def test_shuffling_and_walking_aids_are_smaller_and_smoother_than_normal_walking():
    def peak_and_jerk(gait):
        tr = synth.generate([synth.walk(40, 90, intensity_g=0.3, gait=gait)], seed=4, noise_mg=0)
        z = tr.xyz[:, 2].astype(float) - 1000
        return np.percentile(z, 99), np.abs(np.diff(z)).mean()
    normal = peak_and_jerk("normal")
    for gait in ("shuffle", "cane", "rollator"):
        peak, jerk = peak_and_jerk(gait)
        assert peak < normal[0] and jerk < normal[1], gait


def test_start_stop_is_bouts_of_a_few_steps_a_turn_and_a_stop():
    segs = synth.start_stop(bouts=4, steps=(4, 8), cadence_spm=90, seed=5)
    kinds = [s.kind for s in segs]
    assert kinds == ["stand"] + ["walk", "walk", "stand"] * 4
    walks = [s for s in segs if s.kind == "walk"]
    assert all(4 <= s.steps <= 8 for s in walks[0::2])  # the walks
    assert all(s.gait == "shuffle" and 3 <= s.steps <= 4 for s in walks[1::2])  # the turns on the spot
    assert segs == synth.start_stop(bouts=4, steps=(4, 8), cadence_spm=90, seed=5)
    tr = synth.generate(segs, seed=5)
    assert tr.steps == sum(s.steps for s in segs)


@pytest.mark.parametrize("make", [lambda: synth.walk(10, step_ratio=0.5),
                                  lambda: synth.walk(10, amp_ratio=5),
                                  lambda: synth.walk(10, gait="crawl"),
                                  lambda: synth.start_stop(bouts=0),
                                  lambda: synth.start_stop(steps=(5, 2))])
def test_bad_gait_arguments_raise(make):
    with pytest.raises(ValueError):
        make()

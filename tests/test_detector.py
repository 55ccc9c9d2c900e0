"""The step counter (firmware/stepcounter.py), stage by stage, under CPython."""
import math
import random

import numpy as np
import pytest

from stepclip_firmware.stepcounter import StepCounter


def feed(det, xyz):
    credited = []
    for x, y, z in xyz:
        c = det.update(int(x), int(y), int(z))
        credited.extend(det.recent(k) for k in range(c, 0, -1))
    return credited


def gait(rate, seconds, cadence=110, amp=300, axis=2, rest_before=1.0, rest_after=3.0, gravity=1000):
    """A clean walking-like signal: gravity on one axis plus a wave at the step
    frequency (one positive peak per step). Returns (samples, true step count)."""
    f = cadence / 60.0
    true = max(1, int(round(seconds * f)))  # whole cycles, one peak each
    n_rest0 = int(rest_before * rate)
    n_walk = int(round(true / f * rate))
    n_rest1 = int(rest_after * rate)
    t = np.arange(n_walk) / rate
    wave = amp * np.sin(2 * math.pi * f * t - math.pi / 2)  # starts at a trough
    a = np.concatenate([np.zeros(n_rest0), wave, np.zeros(n_rest1)])
    xyz = np.zeros((len(a), 3))
    xyz[:, axis] = gravity + a
    return np.round(xyz).astype(int), true


# --- 1. magnitude -----------------------------------------------------------------


def test_magnitude_is_the_exact_integer_square_root_whatever_the_jump():
    det = StepCounter(25)
    rng = random.Random(1)
    for _ in range(3000):
        # mostly small changes, sometimes jumps across the whole range
        if rng.random() < 0.1:
            x, y, z = (rng.randint(-16000, 16000) for _ in range(3))
        else:
            x, y, z = (rng.randint(-1500, 1500) for _ in range(3))
        det.update(x, y, z)
        assert det.mag == math.isqrt(x * x + y * y + z * z)
    det.update(0, 0, 0)
    assert det.mag == 0


def test_magnitude_clamps_inputs_beyond_16_g():
    det = StepCounter(25)
    det.update(30000, -30000, 30000)
    assert det.mag == math.isqrt(3 * 16000**2)


# --- 2. baseline ------------------------------------------------------------------


@pytest.mark.parametrize("vec", [(0, 0, 1000), (1000, 0, 0), (577, -577, 577), (40, -30, 1060)])
def test_gravity_and_offset_in_any_orientation_is_removed(vec):
    det = StepCounter(25)
    for _ in range(200):
        det.update(*vec)
    assert abs(det.mag - (det.base >> 4)) <= 1
    assert abs(det.sum2) // (det.smooth_n**2) <= 1
    assert det.steps == 0


def test_a_change_of_posture_is_not_a_step():
    det = StepCounter(25)
    for _ in range(100):
        det.update(0, 0, 1000)  # standing
    for _ in range(300):
        det.update(0, 870, 500)  # tilted 60 degrees, sitting down
    for _ in range(100):
        det.update(0, 0, 1000)
    assert det.steps == 0


# --- 3. low-pass ------------------------------------------------------------------


def test_vibration_above_the_walking_band_is_damped_and_not_counted():
    # 10 Hz, 150 mg vibration (a car engine, a drill) at 50 Hz sampling
    rate = 50
    t = np.arange(30 * rate) / rate
    z = 1000 + 150 * np.sin(2 * math.pi * 10 * t)
    det = StepCounter(rate)
    filtered = []
    for v in z:
        det.update(0, 0, int(v))
        filtered.append(det.sum2 // det.smooth_n**2)
    assert max(abs(v) for v in filtered[100:]) < 40  # damped to a quarter and less
    assert det.steps == 0


def test_the_filter_delay_is_compensated_in_step_indices():
    rate = 50
    xyz, true = gait(rate, 20, cadence=120, rest_before=1.0)
    steps = feed(StepCounter(rate), xyz)
    f = 2.0
    expected = [int(rate * 1.0 + (k + 0.5) / f * rate) for k in range(true)]
    assert len(steps) == true
    assert max(abs(a - b) for a, b in zip(steps, expected)) <= 2


# --- 4. peaks ---------------------------------------------------------------------


@pytest.mark.parametrize("rate", [12.5, 25, 50, 100])
@pytest.mark.parametrize("cadence", [70, 110, 150])
def test_one_step_per_cycle_at_every_rate_and_cadence(rate, cadence):
    xyz, true = gait(rate, 30, cadence=cadence)
    det = StepCounter(rate)
    feed(det, xyz)
    assert det.steps == true


def test_two_peaks_closer_than_a_step_count_once():
    # each "step" is a double bump 160 ms apart (heel strike and toe-off)
    rate = 100
    period = 0.6
    t = np.arange(int(20 * rate)) / rate
    phase = t % period
    a = 400 * np.exp(-(((phase - 0.2) / 0.04) ** 2)) + 350 * np.exp(-(((phase - 0.36) / 0.04) ** 2)) - 120
    xyz = np.zeros((len(t) + 600, 3), dtype=int)
    xyz[:, 2] = 1000
    xyz[300 : 300 + len(t), 2] += a.astype(int)
    det = StepCounter(rate)
    feed(det, xyz)
    assert det.steps == pytest.approx(20 / period, abs=1)


# --- 5. adaptive threshold --------------------------------------------------------


def test_small_bumps_between_big_steps_are_skipped():
    # big steps of 600 mg with a 60 mg ripple between them: the ripple is above the
    # floor but far below a fifth of the recent peaks, so it is not a step
    rate = 50
    xyz, true = gait(rate, 30, cadence=100, amp=600)
    t = np.arange(len(xyz)) / rate
    ripple = (60 * np.sin(2 * math.pi * (100 / 60) * 2 * t + math.pi / 2)).astype(int)
    ripple[: rate] = 0
    ripple[int(31 * rate) :] = 0
    xyz[:, 2] += ripple
    det = StepCounter(rate)
    feed(det, xyz)
    assert det.steps == true


def test_threshold_falls_back_to_the_floor_after_a_bout():
    rate = 25
    loud, n1 = gait(rate, 20, amp=800)
    quiet, n2 = gait(rate, 20, amp=120)
    det = StepCounter(rate)
    feed(det, np.concatenate([loud, quiet]))
    assert det.steps == n1 + n2


# --- 6-9. periodicity, stride, walking, stride cap ------------------------------


def impulses(rate, times, amp=350, sway=0.0, seconds=None, third=None):
    """Step impulses at the given times (s) on the vertical axis (z, gravity 1 g),
    with a sideways sway (y) that swings once per two steps of `sway` mg, and
    optionally a second, smaller bump `third` = (delay s, fraction) after each."""
    seconds = seconds or times[-1] + 4
    n = int(seconds * rate)
    t = np.arange(n) / rate
    z = np.full(n, 1000.0)
    y = np.zeros(n)
    for k, ts in enumerate(times):
        z += amp * np.exp(-0.5 * ((t - ts) / 0.06) ** 2) - amp * 0.6 * np.exp(-0.5 * ((t - ts - 0.2) / 0.08) ** 2)
        if third:
            z += amp * third[1] * np.exp(-0.5 * ((t - ts - third[0]) / 0.06) ** 2)
    if sway:
        phase = np.interp(t, times, np.arange(len(times)), left=0, right=len(times) - 1)
        y = sway * np.sin(np.pi * phase)
    return np.column_stack([np.zeros(n), y, z]).round().astype(int)


def test_a_walk_shorter_than_walking_needs_is_not_counted():
    # walking must be periodic for a few seconds; three quick steps are not a walk
    rate = 25
    xyz, true = gait(rate, 2.0, cadence=110)
    assert true == 4
    det = StepCounter(rate)
    feed(det, xyz)
    assert det.steps == 0


def test_held_steps_are_credited_at_once_when_walking_is_confirmed():
    rate = 25
    xyz, true = gait(rate, 15, cadence=110)
    det = StepCounter(rate)
    returns = [det.update(*map(int, s)) for s in xyz]
    nonzero = [r for r in returns if r]
    assert nonzero[0] >= 4  # the steps before the confirmation, at once
    assert all(r == 1 for r in nonzero[1:])
    assert sum(nonzero) == det.steps == true


def test_a_steady_walk_is_periodic_and_sideways_sway_makes_its_stride_two_steps():
    rate = 25
    times = [1 + 0.6 * k for k in range(40)]
    det = StepCounter(rate)
    feed(det, impulses(rate, times, sway=120))
    assert min(det.recent_rho) >= 90 or det.steps == 40  # checks after the walk may see stillness
    assert det.steps == 40
    assert det.stride == pytest.approx(2 * 0.6 * rate, abs=2)


def test_without_sway_one_candidate_per_period_still_makes_the_period_a_step():
    # no sideways sway to tell (a phone in the hand): a period with one step in it is a step
    rate = 25
    times = [1 + 0.6 * k for k in range(40)]
    det = StepCounter(rate)
    steps = feed(det, impulses(rate, times)[: int(20 * rate)])
    assert det.stride == pytest.approx(2 * 0.6 * rate, abs=2)
    assert abs(len(steps) - sum(1 for t in times if t < 20)) <= 1  # the cut may fall inside a step


@pytest.mark.parametrize("ratio", [1.5, 2.0])
def test_a_limp_whose_short_and_long_steps_alternate_has_a_stride_period_and_every_step_counts(ratio):
    # intervals alternate short/long (the old rhythm gate counted 0): the period is a stride
    rate = 25
    stride = 1.1
    short = stride / (1 + ratio)
    times, t = [], 1.0
    for k in range(50):
        times.append(t)
        t += short if k % 2 == 0 else stride - short
    det = StepCounter(rate)
    feed(det, impulses(rate, times, amp=300))
    assert det.steps == len(times)
    assert det.stride == pytest.approx(stride * rate, abs=2)


def test_the_extra_peaks_of_slow_gait_are_merged_two_steps_per_stride():
    # 50 steps/min, each step with a second bump 0.5 s later as large as 70% of
    # it (harmonics): 2 candidates a step, 1 counted
    rate = 25
    times = [1 + 1.2 * k for k in range(30)]
    det = StepCounter(rate)
    feed(det, impulses(rate, times, sway=150, third=(0.55, 0.7)))
    assert det.steps == pytest.approx(len(times), abs=1)


def test_fidgeting_that_follows_a_walk_without_a_pause_stops_the_count():
    rate = 25
    rng = np.random.default_rng(3)
    walk = impulses(rate, [1 + 0.55 * k for k in range(30)], sway=100, seconds=17.5)
    n = 40 * rate
    z = np.full(n, 1000.0)
    i = 0
    while i < n - 10:  # a jolt every 0.3-0.9 s: never a pause that ends the bout
        i += int(rng.uniform(0.3, 0.9) * rate)
        z[i:i + 5] += rng.uniform(150, 500) * rng.choice([-1, 1]) * np.hanning(5)
    fidget = np.column_stack([rng.normal(0, 20, n), rng.normal(0, 20, n), z]).round().astype(int)
    det = StepCounter(rate)
    feed(det, np.concatenate([walk, fidget]))
    assert 30 <= det.steps <= 34


def test_irregular_first_steps_of_a_walk_count_once_the_rhythm_is_confirmed():
    # starting from standing: three steps at uneven intervals (1.0, 0.45, 0.8 s),
    # which break the rhythm check, then a steady walk; none of them is lost
    rate = 25
    t_steps = [1.0, 2.0, 2.45, 3.25]
    t_steps += [t_steps[-1] + 0.55 * (k + 1) for k in range(20)]
    n = int((t_steps[-1] + 4) * rate)
    t = np.arange(n) / rate
    z = np.full(n, 1000.0)
    for ts in t_steps:
        z += 350 * np.exp(-0.5 * ((t - ts) / 0.08) ** 2) - 350 * np.exp(-0.5 * ((t - ts - 0.25) / 0.08) ** 2)
    det = StepCounter(rate)
    for v in z.astype(int):
        det.update(0, 0, int(v))
    assert det.steps == len(t_steps)


def test_random_jolts_without_rhythm_are_not_counted():
    # an hour of irregular bumps (intervals 0.3-3 s, random size): a car on a bad road
    rate = 25
    rng = np.random.default_rng(7)
    n = 3600 * rate
    z = np.full(n, 1000.0)
    i = 0
    while i < n - 20:
        i += int(rng.uniform(0.3, 3.0) * rate)
        amp = rng.uniform(100, 800) * rng.choice([-1, 1])
        z[i : i + 5] += amp * np.hanning(5)
    z += rng.normal(0, 10, n)
    det = StepCounter(rate)
    for v in z.astype(int):
        det.update(0, 0, int(v))
    assert det.steps <= 10  # false steps per hour


def test_a_pause_ends_the_bout_and_a_new_bout_must_be_walking_again():
    rate = 25
    walk, n = gait(rate, 10, rest_after=3.0)
    det = StepCounter(rate)
    feed(det, walk)
    assert det.steps == n and not det.counting
    few, _ = gait(rate, 2.0, rest_after=3.0)  # 3 steps after the pause
    feed(det, few)
    assert det.steps == n


def test_a_slow_turn_in_the_middle_of_a_walk_keeps_counting():
    rate = 25
    a, n1 = gait(rate, 10, cadence=110, rest_after=0)
    turn, n2 = gait(rate, 3, cadence=60, rest_before=0, rest_after=0)  # three slow steps
    b, n3 = gait(rate, 10, cadence=110, rest_before=0)
    det = StepCounter(rate)
    feed(det, np.concatenate([a, turn, b]))
    assert det.steps == pytest.approx(n1 + n2 + n3, abs=1)


# --- outputs ----------------------------------------------------------------------


@pytest.mark.parametrize("cadence", [80, 100, 120])
def test_cadence_in_steps_per_minute(cadence):
    rate = 50
    xyz, _ = gait(rate, 20, cadence=cadence, rest_after=0)
    det = StepCounter(rate)
    feed(det, xyz)
    assert det.cadence() == pytest.approx(cadence, abs=3)


def test_cadence_is_zero_when_not_walking():
    det = StepCounter(25)
    for _ in range(100):
        det.update(0, 0, 1000)
    assert det.cadence() == 0


def test_sample_indices_wrap_at_2_30_without_breaking_counting():
    rate = 25
    xyz, true = gait(rate, 20)
    det = StepCounter(rate)
    det.n = (1 << 30) - 100  # about to wrap
    feed(det, xyz)
    assert det.steps == true
    assert 0 <= det.n < (1 << 30)


def test_rate_must_be_positive():
    with pytest.raises(ValueError):
        StepCounter(0)

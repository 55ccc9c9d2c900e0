"""The step counter on the gaits of the people stepclip is for (synthetic, issue 8).

Each case is a synthetic walk (stepclip.synth: labelled synthetic, a model, not
data) seen as the device sees it (25 Hz, +-4 g, 10-bit), in a random orientation
with a sensor offset, counted by the firmware's detector under CPython; the
MicroPython parity of the same detector is tested in test_micropython.py. The
whole grid (cadence 45-130 steps/min, interval asymmetry up to 1:2, amplitude
asymmetry up to 1:3, step intensity 0.05-0.4 g) is benchmarks/bench_gaits.py.
"""
import pytest

from stepclip import synth
from stepclip.evaluate import count_synthetic

WALK_S = 120  # a walk of two minutes: the unit a walking plan counts in


def walk_case(seed, **kwargs):
    cadence = kwargs.pop("cadence")
    return count_synthetic([synth.stand(5), synth.walk(WALK_S, cadence, **kwargs), synth.stand(5)], seed)


def assert_within(counted, true, pct):
    assert abs(counted - true) <= pct / 100 * true, f"counted {counted} of {true} true steps"


@pytest.mark.parametrize("step_ratio", [1.5, 2.0])
@pytest.mark.parametrize("cadence", [60, 90, 120])
def test_a_limp_with_alternating_short_and_long_steps_counts_every_step(cadence, step_ratio):
    # the old rhythm gate compared each interval with the mean and counted 0
    counted, true = walk_case(int(cadence * step_ratio), cadence=cadence, intensity_g=0.2, step_ratio=step_ratio)
    assert_within(counted, true, 5)


@pytest.mark.parametrize("amp_ratio", [2.0, 3.0])
@pytest.mark.parametrize("cadence", [60, 100])
def test_one_leg_three_times_weaker_than_the_other_counts_both(cadence, amp_ratio):
    counted, true = walk_case(cadence + 7, cadence=cadence, intensity_g=0.15, amp_ratio=amp_ratio)
    assert_within(counted, true, 5)


@pytest.mark.parametrize("cadence", [45, 55, 65, 80])
def test_slow_gait_with_strong_harmonics_counts_one_step_per_step(cadence):
    # at 0.4 m/s the step frequency is weak and its harmonics strong: the old
    # detector counted harmonic peaks as steps (+50%) or nothing at all
    counted, true = walk_case(cadence, cadence=cadence, intensity_g=0.2, gait="slow")
    assert_within(counted, true, 5)


def test_slow_asymmetric_gait_counts_one_step_per_step():
    counted, true = walk_case(3, cadence=56, intensity_g=0.25, gait="slow", step_ratio=1.6, amp_ratio=2.0)
    assert_within(counted, true, 5)


@pytest.mark.parametrize("cadence", [100, 120, 130])
def test_shuffling_short_quick_small_steps_are_counted(cadence):
    counted, true = walk_case(cadence, cadence=cadence, intensity_g=0.1, gait="shuffle")
    assert_within(counted, true, 5)


@pytest.mark.parametrize("aid,cadence", [("cane", 50), ("cane", 70), ("rollator", 60), ("rollator", 90)])
def test_walking_with_a_cane_or_a_rollator_is_counted(aid, cadence):
    counted, true = walk_case(cadence, cadence=cadence, intensity_g=0.1, gait=aid)
    assert_within(counted, true, 5)


@pytest.mark.parametrize("gait,cadence", [("normal", 100), ("slow", 60), ("shuffle", 115), ("cane", 60)])
def test_start_stop_bouts_of_ten_or_more_steps_with_a_turn_are_counted(gait, cadence):
    # walk, turn on the spot, stop, repeat: the first steps from standing count
    # once the bout is confirmed as walking; weak, slow steps of the turn after the
    # walk are the part still lost (measured: -6% to -14%; the old detector -20% to
    # +29%). The whole kind is in benchmarks/bench_gaits.py.
    segs = synth.start_stop(bouts=6, steps=(10, 16), cadence_spm=cadence, intensity_g=0.2, gait=gait, seed=cadence)
    counted, true = count_synthetic(segs, seed=cadence + 1)
    assert_within(counted, true, 15)


def test_a_bout_of_four_steps_from_standing_is_not_counted():
    # a limit, by design: a walk must be periodic for a few seconds before it is
    # walking; fidgeting and arm movements rarely are
    counted, true = count_synthetic([synth.stand(10), synth.walk(4 * 60 / 100, 100, 0.3), synth.stand(10)], seed=4)
    assert true == 4
    assert counted == 0


@pytest.mark.parametrize("seed", range(3))
def test_fidgeting_right_after_a_walk_adds_few_steps(seed):
    # counting stops within about a second once the movement is not walking
    walk = synth.walk(30, 100, 0.25)
    segs = [synth.stand(3), walk, synth.bumps(60, rate_per_s=1.5, strength_g=0.3), synth.sit(20)]
    counted, true = count_synthetic(segs, seed=seed)
    assert true == walk.steps
    assert 0 <= counted - true <= 6

"""Accuracy regression on the development recordings, at the device's settings."""
import pytest

from stepclip import evaluate

from conftest import DATASETS, needs_datasets

pytestmark = needs_datasets


@pytest.fixture(scope="module")
def results():
    return [evaluate.evaluate_file(p) for p in evaluate.find_traces([DATASETS])]


def test_oxford_walks_mean_absolute_error_at_most_2_5_percent_and_no_file_worse_than_10(results):
    oxford = [r for r in results if r.folder == "oxford"]
    assert len(oxford) == 48
    s = evaluate.summarize("oxford", oxford)
    assert s.mape <= 2.5, s
    assert s.worst_pct <= 10.0, [(r.file, r.error_pct) for r in oxford if abs(r.error_pct) > 10]


def test_every_carry_position_within_10_percent_total(results):
    for g in evaluate.group([r for r in results if r.folder == "oxford"], "placement"):
        assert abs(g.total_error_pct) <= 10.0, g


def test_at_most_10_false_steps_per_hour_on_zero_step_recordings(results):
    idle = [r for r in results if r.folder == "bangle" and r.true_steps == 0]
    assert len(idle) == 6
    s = evaluate.summarize("bangle idle", idle)
    assert s.zero_step_hours > 1.0
    assert s.false_steps_per_hour <= 10.0, s

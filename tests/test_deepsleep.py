"""Deep sleep while the wearer is still (issue 12, item 3), under the real firmware on
the emulated board: its deep sleep (lightsleep woken by the LIS3DH's motion
interrupt on INT1 or the next full hour), its wake sources and its time base (the
Pico's timer, which may drift; a deep-sleep clock other than the awake one; a
sensor whose sample rate is off nominal)."""
from datetime import datetime

import pytest

from stepclip import day, detector, emulator, synth

pytestmark = pytest.mark.skipif(not detector.has_micropython(), reason="needs the MicroPython unix port")


def detect(tr):
    return detector.run(emulator.device_samples([tr]), 25, "micropython").counted


@pytest.fixture(scope="module")
def still_then_walks():
    # sitting still long enough to sleep deeply, then walks that start in deep sleep
    segs = [synth.sit(120), synth.walk(60, cadence_spm=100), synth.sit(200),
            synth.walk(30, cadence_spm=88, gait="slow", step_ratio=1.4), synth.stand(100), synth.walk(20)]
    return synth.generate(segs, rate_hz=25, seed=1)


@pytest.fixture(scope="module")
def short_day():
    # the realistic day shortened to 2.4 hours: walks, moving about, sitting, fidgets, the night
    return day.realistic_day(seed=2, scale=0.1)


def test_walks_starting_in_deep_sleep_are_counted_as_detect_counts_them(still_then_walks):
    tr = still_then_walks
    res = day.measure(tr, 30)
    power = res["power"]
    assert power["motion"] >= 3 and power["deep_ms"] > 300_000  # it slept, and each walk woke it
    assert res["total_steps"] == detect(tr) == day.measure(tr, 0)["total_steps"] > 150


def test_no_deep_sleep_while_walking_or_when_switched_off(still_then_walks):
    off = day.measure(still_then_walks, 0)["power"]
    assert off["deep_ms"] == 0 and off["motion"] == off["timer"] == 0
    walk = synth.generate([synth.walk(300)], rate_hz=25, seed=4)
    assert day.measure(walk, 30)["power"]["deep_ms"] == 0  # steps every second: never still for 30 s


def test_counts_on_a_realistic_day_are_the_same_with_and_without_deep_sleep(short_day):
    on, off = day.measure(short_day, 30), day.measure(short_day, 0)
    assert on["total_steps"] == off["total_steps"] == detect(short_day) > 1000
    p = on["power"]
    assert p["deep_ms"] > 0.5 * p["ms"]  # still most of the time
    assert p["samples"] < 0.5 * off["power"]["samples"]  # far fewer samples read
    # no sample lost in the loop: the FIFO never overran while awake (the overrun in
    # deep sleep is by design and not reported as one)
    assert sum(r["overruns"] for r in on["days"]) == 0


@pytest.mark.parametrize("clock_ppm, odr_ppm", [(500, 0), (-500, 0), (30, 30_000), (0, -30_000)])
def test_a_drifting_pico_timer_or_an_off_nominal_sensor_rate_changes_no_count(short_day, clock_ppm, odr_ppm):
    res = day.measure(short_day, 30, clock_ppm=clock_ppm, odr_ppm=odr_ppm)
    assert res["total_steps"] == detect(short_day)
    # the clock error is the timer's own drift, nothing added at the wakes: within 1 s
    power = res["power"]
    assert power["clock_error_ms"] == pytest.approx(clock_ppm * power["ms"] / 1e6, abs=1000)


def test_clock_error_stays_within_a_minute_a_day_with_a_timer_500_ppm_fast(short_day):
    power = day.measure(short_day, 30, clock_ppm=500)["power"]
    per_day = power["clock_error_ms"] / power["ms"] * 86400  # seconds a day
    assert 40 < per_day <= 60  # the drift is really there, and within the budget


def test_a_deep_sleep_clock_other_than_the_awake_one_drifts_only_while_asleep(short_day):
    # as DORMANT's would (the firmware's lightsleep keeps the crystal): the clock
    # error is that drift over the time in deep sleep
    power = day.measure(short_day, 30, sleep_ppm=600)["power"]
    assert power["clock_error_ms"] == pytest.approx(600 * power["deep_ms"] / 1e6, abs=1000)
    assert power["clock_error_ms"] > 2000


def test_day_rollover_and_hourly_wakes_happen_on_time_in_deep_sleep():
    # a walk at 22:58, then still past midnight: the timer wakes it at 23:00 and at
    # midnight, so the day is closed and the new one started on time
    tr = synth.generate([synth.walk(60, cadence_spm=100), synth.sit(70 * 60)], rate_hz=25, seed=6)
    res = emulator.Emulator([tr], start=datetime(2026, 11, 30, 22, 58), deep_after_s=30).run_to_end(timeout=120)
    days = res["days"]
    assert [d["date"] for d in days] == ["2026-11-30", "2026-12-01"]
    assert days[0]["steps"] == detect(tr) == days[0]["hours"][22] + days[0]["hours"][23] > 50
    assert days[1]["steps"] == 0
    assert res["power"]["timer"] >= 2 and res["power"]["deep_ms"] > 60 * 60 * 1000


def test_a_walk_after_midnight_in_deep_sleep_goes_to_the_new_day_and_its_hour():
    tr = synth.generate([synth.sit(40 * 60), synth.walk(60, cadence_spm=105)], rate_hz=25, seed=7)
    res = emulator.Emulator([tr], start=datetime(2026, 11, 30, 23, 45), deep_after_s=30).run_to_end(timeout=120)
    days = {d["date"]: d for d in res["days"]}
    assert days["2026-11-30"]["steps"] == 0
    assert days["2026-12-01"]["steps"] == days["2026-12-01"]["hours"][0] == detect(tr) > 50


def test_emulate_cli_with_and_without_deep_sleep_counts_as_detect(tmp_path):
    import json
    import subprocess
    import sys

    from stepclip import trace as tracefile

    path = tmp_path / "sit-walk.csv"
    tracefile.write(path, synth.generate([synth.sit(90), synth.walk(40, cadence_spm=95)], rate_hz=25, seed=9))
    cli = [sys.executable, "-m", "stepclip.cli"]
    det = subprocess.run(cli + ["detect", str(path), "--json"], capture_output=True, text=True, timeout=120)
    counted = json.loads(det.stdout)["files"][0]["counted"]
    for after, slept in (("0", False), ("30", True)):
        emu = subprocess.run(cli + ["emulate", str(path), "--run-to-end", "--json", "--deep-after", after,
                                    "--start", "2026-11-30T10:00:00"], capture_output=True, text=True, timeout=120)
        assert emu.returncode == 0, emu.stderr
        out = json.loads(emu.stdout)
        assert out["total_steps"] == counted > 40
        assert (out["power"]["deep_ms"] > 30_000) == slept and (out["power"]["motion"] == 1) == slept


def test_a_power_cut_in_deep_sleep_loses_no_counted_step(tmp_path):
    # a walk, then still: it saves before it sleeps deeply, so a cut a few minutes
    # later (before the next 5-minute checkpoint of the loop) loses nothing
    from test_firmware import Port

    flash = tmp_path / "flash.img"
    tr = synth.generate([synth.walk(60, cadence_spm=100), synth.sit(600)], rate_hz=25, seed=11)
    emu = emulator.Emulator([tr], start=datetime(2026, 11, 30, 8, 0), speed=200, flash=flash, deep_after_s=30)
    port = Port(emu.start())
    try:
        while int(port.ident()["uptime_s"]) < 150:  # the walk is over, the device deep asleep
            pass
        counted = int(port.ident()["today"])
    finally:
        port.close()
        emu.stop()  # the cut: killed, no chance to save
    emu2 = emulator.Emulator([], clock_unset=True, flash=flash)
    result = emu2.run_to_end()
    emu2.close()
    assert [d["steps"] for d in result["days"] if d["date"] == "2026-11-30"] == [counted]
    assert counted == detect(tr) > 50


def test_wear_time_and_battery_hours_are_the_same_with_and_without_deep_sleep(short_day):
    on, off = day.measure(short_day, 30), day.measure(short_day, 0)
    assert [d["wear"] for d in on["days"]] == [d["wear"] for d in off["days"]]
    assert sum(sum(d["wear"]) for d in on["days"]) > 60
    # a battery reading in every hour it ran on battery, deep sleep or not
    assert [[mv > 0 for mv in d["battery"]] for d in on["days"]] == [[mv > 0 for mv in d["battery"]] for d in off["days"]]

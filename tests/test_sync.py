"""stepclip sync, end to end: emulated device (real firmware) → pty → pyserial → SQLite."""
import json
import os
import sqlite3
import subprocess
import sys
from datetime import date, datetime

import pytest

from stepclip import detector, emulator, synth
from stepclip import sync as syncmod
from stepclip.store import Database, DatabaseError
from stepclip_firmware.protocol import checked
from test_errors import fake_port

pytestmark = pytest.mark.skipif(not detector.has_micropython(), reason="micropython unix port not installed")

STEPCLIP = [sys.executable, "-m", "stepclip.cli"]
TODAY = date.today()


def walk(seed, seconds=60, cadence=105):
    return synth.generate([synth.stand(3), synth.walk(seconds, cadence_spm=cadence), synth.stand(3)], rate_hz=25, seed=seed)


def detect_count(*traces):
    return detector.run(emulator.device_samples(traces), 25).counted


def played(emu, seconds):
    """Wait until the device's clock has run `seconds` since power-up."""
    from stepclip.device import Device

    def done():
        with Device(emu.port) as dev:
            return int(dev.identify()["uptime_s"]) >= seconds

    assert emulator.wait_for(done, timeout=30, interval=0.1)


def dump(path):
    """Everything in the database, to compare before/after."""
    con = sqlite3.connect(path)
    try:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall())
                for t in ("devices", "days", "day_pieces", "uptime", "boots", "persons", "day_marks", "plan_events")}
    finally:
        con.close()


def morning(hour=9):
    return datetime.combine(TODAY, datetime.min.time().replace(hour=hour))


def sync_after_playing(traces, db_path, **emu_args):
    """Start an emulated device on the traces, wait until it has played them, sync."""
    emu = emulator.Emulator(traces, speed=100, **emu_args)
    emu.start()
    try:
        played(emu, sum(t.duration_s for t in traces) + 8)
        with Database(db_path) as db:
            return syncmod.sync(db, emu.port)
    finally:
        emu.close()


def run_cli(*argv):
    return subprocess.run(STEPCLIP + [str(a) for a in argv], capture_output=True, text=True, timeout=60)


# --- the whole path -------------------------------------------------------------------


def test_day_steps_in_the_database_equal_the_device_count_and_detect(tmp_path):
    tr = walk(1, seconds=90)
    emu = emulator.Emulator([tr], start=morning(), speed=100)
    emu.start()
    try:
        played(emu, tr.duration_s + 8)
        proc = run_cli("sync", "--port", emu.port, "--db", tmp_path / "s.db")
    finally:
        emu.close()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"new database: {tmp_path / 's.db'}\n")  # made by a sync that succeeded
    assert ": 1 new day\n" in proc.stdout and f"{detect_count(tr):,} steps" in proc.stdout
    with Database(tmp_path / "s.db") as db:
        (device_id,) = db.devices()
        daily = db.daily(device_id)
    assert list(daily) == [TODAY]
    assert daily[TODAY]["steps"] == detect_count(tr)
    assert sum(daily[TODAY]["hours"]) == daily[TODAY]["steps"]
    report = run_cli("report", "--json", "--db", tmp_path / "s.db")
    assert report.returncode == 0, report.stderr
    days = {d["date"]: d["steps"] for d in json.loads(report.stdout)["days"]}
    assert days[TODAY.isoformat()] == detect_count(tr)


def test_syncing_twice_changes_nothing_and_a_resynced_day_grows_to_its_new_count(tmp_path):
    a, b = walk(2), walk(3)
    db_path = tmp_path / "s.db"
    emu = emulator.Emulator([a, b], start=morning(), speed=100)
    emu.start()
    try:
        played(emu, a.duration_s + 2)
        with Database(db_path) as db:
            first = syncmod.sync(db, emu.port)
        mid = dump(db_path)
        played(emu, a.duration_s + b.duration_s + 8)
        with Database(db_path) as db:
            second = syncmod.sync(db, emu.port)
            third = syncmod.sync(db, emu.port)
            daily = db.daily(second.device_id)
    finally:
        emu.close()
    assert first.days_new == [TODAY.isoformat()]
    assert second.days_changed == [TODAY.isoformat()] and not second.days_new
    assert not third.days_new and not third.days_changed and third.days_unchanged == 1
    assert len(dump(db_path)["days"]) == 1  # updated, never added twice
    assert daily[TODAY]["steps"] == detect_count(a, b)
    assert mid["days"][0][2] < daily[TODAY]["steps"]


def test_steps_counted_with_the_clock_unset_are_placed_on_todays_date(tmp_path):
    tr = walk(4)
    result = sync_after_playing([tr], tmp_path / "s.db", clock_unset=True)
    with Database(tmp_path / "s.db") as db:
        daily = db.daily(result.device_id)
        assert db.unplaced_steps(result.device_id) == 0
    assert not result.clock_was_set and result.uptime_records == 1
    assert daily[TODAY]["steps"] == detect_count(tr)


def test_several_devices_share_a_database(tmp_path):
    db_path = tmp_path / "s.db"
    counts = {}
    for seed, dev_id in ((5, "e0000000000000a1"), (6, "e0000000000000a2")):
        tr = walk(seed, seconds=40 + 20 * seed)
        sync_after_playing([tr], db_path, start=morning(), device_id=dev_id)
        counts[dev_id] = detect_count(tr)
    with Database(db_path) as db:
        assert sorted(db.devices()) == sorted(counts)
        for dev_id, n in counts.items():
            assert db.daily(dev_id)[TODAY]["steps"] == n


# --- pulled out mid-way -----------------------------------------------------------------


@pytest.mark.parametrize("cut_before", ["identify", "stop", "time", "days"])
def test_a_sync_cut_at_any_step_leaves_the_database_as_it_was(tmp_path, cut_before):
    flash = tmp_path / "flash.img"
    db_path = tmp_path / "s.db"
    day1, day2 = walk(7), walk(8, seconds=80)
    start = morning()
    # a first, complete sync
    emu = emulator.Emulator([day1], start=start, speed=100, flash=flash)
    emu.start()
    try:
        played(emu, day1.duration_s + 8)
        with Database(db_path) as db:
            syncmod.sync(db, emu.port)
    finally:
        emu.interrupt()  # Ctrl-C: the device saves, as when mpremote takes over
        emu.close()
    before = dump(db_path)

    # more walking; the cable is pulled at one step of the next sync
    emu = emulator.Emulator([day2], start=start.replace(hour=11), speed=100, flash=flash)
    emu.start()
    played(emu, day2.duration_s + 8)
    emu.interrupt()  # let it save what it counted, then the cable goes
    emu = _restarted(emu, flash, start.replace(hour=12))

    def pull(name):
        if name == cut_before:
            emu.stop()

    with Database(db_path) as db:
        with pytest.raises(Exception) as err:
            syncmod.sync(db, emu.port, on_step=pull, timeout=0.5)
        db.check()
    emu.close()
    assert "Traceback" not in str(err.value)
    assert dump(db_path) == before

    # plugged in again: the next sync completes with exact totals
    emu = emulator.Emulator([], start=start.replace(hour=13), speed=100, flash=flash)
    emu.start()
    try:
        with Database(db_path) as db:
            result = syncmod.sync(db, emu.port)
            daily = db.daily(result.device_id)
    finally:
        emu.close()
    assert daily[TODAY]["steps"] == detect_count(day1) + detect_count(day2)


def _restarted(old, flash, when):
    old.close()
    emu = emulator.Emulator([], start=when, speed=100, flash=flash)
    emu.start()
    return emu


# --- bad inputs: one line, exit 2, database unchanged -------------------------------------


def _with_db(tmp_path):
    db_path = tmp_path / "s.db"
    with Database(db_path) as db, db.transaction():
        db.put_device("e0000000000000ff", {"fw": "0.2.0", "proto": "2"}, datetime(2026, 11, 1))
        db.put_day("e0000000000000ff", {"date": "2026-11-01", "steps": 4321, "brisk": 3, "overruns": 0, "hours": [0] * 24}, datetime(2026, 11, 1))
    return db_path


@pytest.mark.parametrize(
    "name, answer, expected",
    [
        ("nonsense", lambda line: b"hello? what is " + line + b"\r\n", "not a stepclip"),
        ("silent", lambda line: b"", "not a stepclip"),
        ("bad checksum", lambda line: b"OK device=stepclip proto=2 id=x *00000000\n", "port in use or replies garbled"),
        ("newer protocol", lambda line: _crc_line(b"OK device=stepclip proto=9 id=e0 boot=1 uptime_s=5"), "protocol 9 is not one this host speaks (2): update stepclip on this computer"),
        ("older firmware", lambda line: _crc_line(b"OK device=stepclip fw=0.1.0 proto=1 id=e0 boot=1 uptime_s=5"), "older firmware (protocol 1; this host speaks 2): run `stepclip deploy` to update it"),
    ],
)
def test_a_serial_device_that_is_not_a_stepclip_it_can_use_is_refused(tmp_path, name, answer, expected):
    db_path = _with_db(tmp_path)
    before = dump(db_path)
    proc = _sync_with_fake_device(answer, db_path)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and expected in proc.stderr
    assert "Traceback" not in proc.stderr
    assert dump(db_path) == before


def _crc_line(text):
    return checked(text.decode())  # the firmware's own reply framing


def _sync_with_fake_device(answer, db_path):
    port, close = fake_port(answer)
    try:
        return run_cli("sync", "--port", port, "--db", db_path)
    finally:
        close()


def test_garbled_days_reply_is_an_error_and_changes_nothing(tmp_path):
    db_path = _with_db(tmp_path)
    before = dump(db_path)

    def answer(line):
        if line.startswith(b"ID"):
            return _crc_line(b"OK device=stepclip proto=2 id=e0000000000000ff epoch=7 boot=1 seq=0 uptime_s=5 clock=set")
        if line.startswith(b"DAYS"):
            good = _crc_line(b"DAY date=2026-11-02 epoch=7 boot=1 seq=0 steps=10 brisk=0 overruns=0 hours=" + b",".join([b"0"] * 24))
            return good[:20] + b"X" + good[21:]  # one flipped byte: the checksum fails
        return _crc_line(b"OK")

    proc = _sync_with_fake_device(answer, db_path)
    assert proc.returncode == 2
    assert "checksum" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert dump(db_path) == before


def test_a_port_that_does_not_exist(tmp_path):
    proc = run_cli("sync", "--port", "/dev/does-not-exist", "--db", tmp_path / "s.db")
    assert proc.returncode == 2
    assert proc.stderr.startswith("stepclip: /dev/does-not-exist: cannot open")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_locked_database(tmp_path):
    db_path = _with_db(tmp_path)
    tr = walk(9)
    emu = emulator.Emulator([tr], start=morning(), speed=100)
    emu.start()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        played(emu, tr.duration_s + 8)
        proc = run_cli("sync", "--port", emu.port, "--db", db_path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        emu.close()
    assert proc.returncode == 2
    assert "locked" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_a_corrupt_database_file_is_refused_and_left_alone(tmp_path):
    db_path = tmp_path / "s.db"
    garbage = b"SQLite format 3\x00" + os.urandom(4000)
    db_path.write_bytes(garbage)
    proc = run_cli("sync", "--port", "/dev/does-not-exist", "--db", db_path)
    assert proc.returncode == 2
    assert str(db_path) in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert db_path.read_bytes() == garbage


def test_a_boots_count_never_goes_down_and_a_day_is_the_sum_of_its_boots(tmp_path):
    hours = lambda h, n: [n if i == h else 0 for i in range(24)]  # noqa: E731
    rec = lambda boot, n, h=9: {"date": "2026-11-27", "epoch": 7, "boot": boot, "steps": n, "brisk": 0, "overruns": 0, "hours": hours(h, n)}  # noqa: E731
    with Database(tmp_path / "s.db") as db, db.transaction():
        db.put_device("e1", {"proto": "2"}, datetime(2026, 11, 27, 10))
        assert db.put_day("e1", rec(1, 100), datetime(2026, 11, 27, 10)) == "new"
        assert db.put_day("e1", rec(1, 80), datetime(2026, 11, 27, 11)) is None  # the device lost 20 in a power cut
        assert db.put_day("e1", rec(2, 50, 11), datetime(2026, 11, 27, 12)) == "changed"  # the next boot
        assert db.put_day("e1", rec(2, 60, 11), datetime(2026, 11, 27, 13)) == "changed"
        day = db.daily("e1")[date(2026, 11, 27)]
        assert day["steps"] == 160 and day["hours"][9] == 100 and day["hours"][11] == 60
        # a record dated after the sync's date (a wrong clock) is kept but not counted, and stays so
        late = dict(rec(2, 500), date="2029-11-27")
        assert db.put_day("e1", late, datetime(2026, 11, 27, 13), misdated=True) is None
        assert db.put_day("e1", dict(late, steps=600), datetime(2029, 11, 28), misdated=False) is None
        assert date(2029, 11, 27) not in db.daily("e1") and db.misdated_steps("e1") == 600


def test_a_database_of_schema_1_is_migrated_and_keeps_its_days(tmp_path):
    from stepclip.store import MIGRATIONS

    db_path = tmp_path / "old.db"
    con = sqlite3.connect(db_path)
    con.executescript(MIGRATIONS[0][1])
    con.execute("INSERT INTO devices VALUES ('e1', '2026-11-01T09:00:00', '2026-11-20T09:00:00', '0.1.0', 1, 'pico', '1.24.1')")
    con.execute("INSERT INTO days VALUES ('e1', '2026-11-19', 4321, 3, 0, ?, '2026-11-20T09:00:00')", (",".join(["0"] * 9 + ["4321"] + ["0"] * 14),))
    con.execute("INSERT INTO uptime VALUES ('e1', 4, 0, 700, 0, 0, ?, '2026-11-20T09:00:00')", (",".join(["700"] + ["0"] * 23),))
    con.execute("INSERT INTO boots VALUES ('e1', 4, '2026-11-18T08:30:00')")  # naive local time
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    with Database(db_path) as db:
        daily = db.daily("e1")
        assert daily[date(2026, 11, 19)]["steps"] == 4321
        assert daily[date(2026, 11, 18)]["steps"] == 700 and daily[date(2026, 11, 18)]["hours"][8] == 700
        assert db.boot_start("e1", 0, 4) == datetime(2026, 11, 18, 8, 30).astimezone()
        assert db.cursor("e1") is None  # the first sync with protocol 2 fetches everything
        # the same day sent again by the updated firmware (converted to epoch 0, boot 0): merged, never doubled
        with db.transaction():
            old = {"date": "2026-11-19", "epoch": 0, "boot": 0, "steps": 4000, "brisk": 3, "overruns": 0, "hours": [0] * 24}
            assert db.put_day("e1", old, datetime(2026, 11, 21)) is None
        assert db.daily("e1")[date(2026, 11, 19)]["steps"] == 4321
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    con.close()


def test_a_database_from_a_newer_stepclip_is_refused(tmp_path):
    db_path = tmp_path / "s.db"
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(DatabaseError, match="newer stepclip"):
        Database(db_path)

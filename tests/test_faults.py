"""Faults that real devices meet: a wrong clock, a power cut after a sync, a wiped
flash, a stale clock after a restart, a full or failing flash, a second program
on the port, a pulled cable, two Picos, daylight saving, the last minute before
midnight, and the emulator's own process. Each test plays one scenario against
the real firmware on the emulated device where the firmware is involved, and
checks the rule that README.md and firmware/PROTOCOL.md state for it.
"""
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import serial

from stepclip import detector, emulator, synth
from stepclip import protocol as proto
from stepclip import sync as syncmod
from stepclip.device import Device
from stepclip.store import Database
from stepclip_firmware.protocol import checked
from test_errors import fake_port

pytestmark = pytest.mark.skipif(not detector.has_micropython(), reason="micropython unix port not installed")

RATE = 25
MP_DIR = Path(__file__).with_name("mp")
STEPCLIP = [sys.executable, "-m", "stepclip.cli"]
TODAY = date.today()


def day_at(hour, minute=0, day=TODAY):
    return datetime.combine(day, datetime.min.time().replace(hour=hour, minute=minute))


def session(*parts, seed=0):
    """A trace of ("walk", seconds[, steps a minute]) and ("stand", seconds) parts,
    and each walk's (first, end) second."""
    segs, walks, t = [], [], 0.0
    for kind, seconds, *cadence in parts:
        if kind == "walk":
            segs.append(synth.walk(seconds, cadence_spm=cadence[0] if cadence else 105))
            walks.append((t, t + seconds))
        else:
            segs.append(synth.stand(seconds))
        t += seconds
    return synth.generate(segs, rate_hz=RATE, seed=seed), walks


def steps_in(tr, first, end):
    """Steps the detector finds between two seconds of the trace (the device counts the same)."""
    found = detector.run(emulator.device_samples([tr]), RATE).step_index
    return int(((found >= first * RATE) & (found < end * RATE)).sum())


def played(emu, seconds):
    """Wait until the device's clock has run `seconds` since power-up."""

    def done():
        with Device(emu.port) as dev:
            return int(dev.identify()["uptime_s"]) >= seconds

    assert emulator.wait_for(done, timeout=60, interval=0.05)


def do_sync(db_path, port, now):
    with Database(db_path) as db:
        return syncmod.sync(db, port, now=lambda: now)


def daily(db_path):
    with Database(db_path) as db:
        (dev,) = db.devices()
        return {d: r["steps"] for d, r in db.daily(dev).items()}


# --- 1. a wrong date never freezes later syncs ---------------------------------------------


@pytest.mark.parametrize("wrong", ["computer clock 3 years ahead", "TIME typed with a wrong year"])
def test_a_wrong_date_does_not_freeze_later_syncs(tmp_path, wrong):
    tr, (a, b, c) = session(("stand", 3), ("walk", 40), ("stand", 150), ("walk", 40), ("stand", 150), ("walk", 40), ("stand", 150))
    db_path = tmp_path / "s.db"
    emu = emulator.Emulator([tr], start=day_at(9), speed=50)
    emu.start()
    try:
        played(emu, a[1] + 10)
        if wrong.startswith("computer"):
            do_sync(db_path, emu.port, now=day_at(9, 1, TODAY + timedelta(days=3 * 365)))
        else:
            do_sync(db_path, emu.port, now=day_at(9, 1))
            with Device(emu.port) as dev:  # by hand in a serial terminal
                dev.ask(f"TIME {TODAY + timedelta(days=30 * 365):%Y-%m-%d}T09:02:00")
        played(emu, b[1] + 10)
        do_sync(db_path, emu.port, now=day_at(9, 6))  # the right time: walk b is on a wrong date
        played(emu, c[1] + 10)
        do_sync(db_path, emu.port, now=day_at(9, 11))
    finally:
        emu.close()
    steps = daily(db_path)
    assert steps[TODAY] == steps_in(tr, *a) + steps_in(tr, *c) > 0


def test_a_device_clock_weeks_behind_never_puts_todays_walk_on_an_old_date(tmp_path):
    tr, (a, b) = session(("stand", 3), ("walk", 40), ("stand", 150), ("walk", 40), ("stand", 150))
    db_path = tmp_path / "s.db"
    behind = TODAY - timedelta(days=29)
    emu = emulator.Emulator([tr], start=day_at(9, day=behind), speed=50)  # a TIME typed with the wrong month
    emu.start()
    try:
        played(emu, a[1] + 10)
        first = do_sync(db_path, emu.port, now=day_at(9, 1))
        played(emu, b[1] + 10)
        do_sync(db_path, emu.port, now=day_at(9, 6))
    finally:
        emu.close()
    assert first.misdated_early == [behind.isoformat()]
    steps = daily(db_path)
    assert behind not in steps  # kept, not counted: the plan's start and that week stay as they were
    assert steps[TODAY] == steps_in(tr, *b) > 0  # counted on the right date once the sync set the clock


# --- 2. a day's steps never go down -------------------------------------------------------------


def test_a_power_cut_after_a_sync_never_lowers_the_days_steps(tmp_path):
    tr, (a, b) = session(("stand", 3), ("walk", 40), ("stand", 20), ("walk", 40), ("stand", 600))
    flash = tmp_path / "flash.img"
    db_path = tmp_path / "s.db"
    emu = emulator.Emulator([tr], start=day_at(10), speed=50, flash=flash)
    emu.start()
    try:
        played(emu, a[1] + 8)
        first = do_sync(db_path, emu.port, now=day_at(10, 1))
        synced = daily(db_path)[TODAY]
        played(emu, b[1] + 8)  # well before the first checkpoint (300 s)
    finally:
        emu.close()  # the power cut: no chance to save
    assert synced == steps_in(tr, *a) > 0 and first.days_new == [TODAY.isoformat()]
    emu = emulator.Emulator([], clock_unset=True, speed=50, flash=flash)
    emu.start()
    try:
        do_sync(db_path, emu.port, now=day_at(10, 10))
    finally:
        emu.close()
    assert daily(db_path)[TODAY] == synced  # saved at the sync, so kept; the rest was not saved


# --- 3. a boot is one boot for the device's whole life -----------------------------------------


def _unset_clock_session(flash, db_path, tr, when):
    emu = emulator.Emulator([tr], clock_unset=True, speed=50, flash=flash)
    emu.start()
    try:
        played(emu, tr.duration_s + 8)
        return do_sync(db_path, emu.port, now=when)
    finally:
        emu.close()


def test_a_wiped_flash_does_not_overwrite_the_first_boot_1(tmp_path):
    db_path = tmp_path / "s.db"
    first, _ = session(("stand", 3), ("walk", 40), ("stand", 5), seed=1)
    second, _ = session(("stand", 3), ("walk", 70), ("stand", 5), seed=2)
    d1, d2 = TODAY - timedelta(days=5), TODAY - timedelta(days=2)
    _unset_clock_session(tmp_path / "a.img", db_path, first, day_at(12, day=d1))
    _unset_clock_session(tmp_path / "b.img", db_path, second, day_at(12, day=d2))  # reinstalled: a new, empty flash
    steps = daily(db_path)
    assert steps[d1] == steps_in(first, 0, first.duration_s) > 0
    assert steps[d2] == steps_in(second, 0, second.duration_s) > steps[d1]


def test_a_restored_flash_that_repeats_a_boot_is_not_merged_over_it(tmp_path):
    db_path = tmp_path / "s.db"
    flash = tmp_path / "flash.img"
    walks = [session(("stand", 3), ("walk", 30 + 20 * i), ("stand", 5), seed=i)[0] for i in range(3)]
    days = [TODAY - timedelta(days=k) for k in (6, 5, 1)]
    _unset_clock_session(flash, db_path, walks[0], day_at(12, day=days[0]))  # boot 1
    backup = flash.read_bytes()
    _unset_clock_session(flash, db_path, walks[1], day_at(12, day=days[1]))  # boot 2
    flash.write_bytes(backup)  # an old image of the flash written back
    result = _unset_clock_session(flash, db_path, walks[2], day_at(12, day=days[2]))  # boot 2 again
    steps = daily(db_path)
    assert steps[days[0]] == steps_in(walks[0], 0, 60)
    assert steps[days[1]] == steps_in(walks[1], 0, 60)  # not replaced by the second "boot 2"
    assert days[2] not in steps
    assert result.refused and "boot 2" in result.refused[0]


# --- 4. a clock behind the newest record is not trusted ------------------------------------------


def test_after_a_restart_a_clock_days_behind_is_not_used_for_dates(tmp_path):
    flash = tmp_path / "flash.img"
    tr, _ = session(("stand", 3), ("walk", 40), ("stand", 5))
    emu = emulator.Emulator([tr], start=datetime(2026, 11, 27, 10, 0), flash=flash)
    before = emu.run_to_end()
    emu.close()
    # a soft reset with the RTC a week behind (it did not run during lightsleep)
    emu = emulator.Emulator([tr], start=datetime(2026, 11, 20, 18, 0), flash=flash)
    after = emu.run_to_end()
    emu.close()
    assert [d["date"] for d in after["days"]] == ["2026-11-27"]
    assert [d["steps"] for d in after["days"]] == [d["steps"] for d in before["days"]]
    assert sum(u["steps"] for u in after.get("uptime_records", [])) == steps_in(tr, 0, 60) > 0


# --- 5. a full or failing flash never stops counting ---------------------------------------------


def test_a_nearly_full_flash_keeps_counting_across_midnight(tmp_path):
    flash = tmp_path / "flash.img"
    emulator.fill_days(flash, date(2026, 11, 27), 380)
    fill_flash(flash, leave_bytes=24 * 1024)  # another program's files: little room left
    tr, _ = session(("stand", 3), ("walk", 120), ("stand", 5))
    emu = emulator.Emulator([tr], start=datetime(2026, 11, 27, 23, 59), flash=flash)
    result = emu.run_to_end()
    emu.close()
    dates = [d["date"] for d in result["days"]]
    assert dates[-2:] == ["2026-11-27", "2026-11-28"]
    assert result["total_steps"] - sum(d["steps"] for d in result["days"][:-2]) == steps_in(tr, 0, 130)


def run_with_failing_flash(tmp_path, tr, start, fail_from, fail_until, ask_every=60):
    """The app with a flash whose writes fail with EIO from wake fail_from to fail_until:
    {wake: [reply lines]}."""
    samples = tmp_path / "samples.bin"
    detector.samples_file(emulator.device_samples([tr]), samples)
    proc = subprocess.run(
        [detector.micropython_executable(), str(MP_DIR / "app_storage.py"), str(detector.FIRMWARE_DIR), str(samples),
         str(tmp_path / "flash.img"), str(emulator.seconds_since_2000(start)), str(fail_from), str(fail_until), str(ask_every)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0 and "DONE" in proc.stdout, proc.stderr[-2000:]
    replies = {}
    for line in proc.stdout.splitlines()[:-1]:
        wake, raw = line.split(" ", 1)
        replies.setdefault(int(wake), []).append(proto.check(raw.encode()))
    return replies


def test_a_failing_flash_never_stops_counting_and_the_records_wait_in_ram(tmp_path):
    # the flash fails (EIO) from 23:55 to 00:15: the checkpoints and the midnight
    # rollover cannot be written; counting goes on, ID says so, DAYS sends the
    # closed day from RAM, and once the flash works again everything is written
    tr, walks = session(("stand", 60), ("walk", 600), ("stand", 600), ("walk", 120), ("stand", 300))
    replies = run_with_failing_flash(tmp_path, tr, datetime(2026, 11, 27, 23, 50), 5 * 60, 25 * 60)
    ids = {w: proto.fields(r[-1]) for w, r in replies.items() if r[-1].startswith("OK device=")}
    assert all(ids[w]["storage"] == "error" for w in range(6 * 60, 25 * 60, 60)), ids
    assert ids[11 * 60]["unsaved"] == "1"  # the 27th, closed at midnight, only in RAM
    assert ids[27 * 60]["storage"] == "ok" and ids[27 * 60]["unsaved"] == "0"  # written at the next checkpoint
    end = max(replies)
    days = [proto.record(t)[1] for t in replies[end] if t.startswith("DAY ")]
    assert [d["date"] for d in days] == ["2026-11-27", "2026-11-28"]
    assert sum(d["steps"] for d in days) == sum(steps_in(tr, *w) for w in walks) > 0
    # and they are on the flash: a restart finds them
    emu = emulator.Emulator([], start=datetime(2026, 11, 28, 8, 0), flash=tmp_path / "flash.img")
    again = emu.run_to_end()
    emu.close()
    assert [(d["date"], d["steps"]) for d in again["days"][:2]] == [(d["date"], d["steps"]) for d in days]


def test_a_flash_that_never_works_still_counts_and_answers(tmp_path):
    tr, walks = session(("stand", 10), ("walk", 60), ("stand", 10))
    replies = run_with_failing_flash(tmp_path, tr, datetime(2026, 11, 27, 10, 0), -1, 10**6, ask_every=30)
    end = max(replies)
    ident = proto.fields(replies[end][0])
    assert ident["storage"] == "error" and ident["boot"] == "1"
    days = [proto.record(t)[1] for t in replies[end][1:] if t.startswith("DAY ")]
    assert len(days) == 1 and days[0]["steps"] == steps_in(tr, *walks[0]) > 0


def test_sync_says_when_the_device_flash_is_full_and_a_date_is_wrong(tmp_path):
    hours = ",".join(["0"] * 9 + ["500"] + ["0"] * 14)
    late = (TODAY + timedelta(days=3 * 365)).isoformat()

    def answer(line):
        if line.startswith(b"ID"):
            return checked(f"OK device=stepclip fw=0.2.0 proto=2 id={DEVICE} board=pico clock=set uptime_s=50 "
                           "epoch=77 boot=3 seq=1 today=500 storage=full unsaved=1 dropped=12")
        if line.startswith(b"DAYS"):
            return (checked(f"DAY date={late} epoch=77 boot=3 seq=1 steps=900 brisk=0 overruns=0 hours={hours}")
                    + checked(f"DAY date={TODAY.isoformat()} epoch=77 boot=3 seq=0 steps=500 brisk=0 overruns=0 hours={hours}")
                    + checked("OK records=2"))
        return checked("OK")

    port, close = fake_port(answer)
    try:
        proc = subprocess.run(STEPCLIP + ["sync", "--port", port, "--db", str(tmp_path / "s.db")], capture_output=True, text=True, timeout=60)
    finally:
        close()
    assert proc.returncode == 0, proc.stderr
    warnings = [ln for ln in proc.stdout.splitlines() if ln.startswith("warning: ")]
    assert len(warnings) == 3, proc.stdout
    assert "flash is full: 1 closed record(s) are only in its RAM" in warnings[0]
    assert "dropped its 12 oldest record(s)" in warnings[1]
    assert f"dated after today ({late})" in warnings[2] and "not counted" in warnings[2]
    assert "today" in proc.stdout and "500 steps" in proc.stdout
    assert daily(tmp_path / "s.db") == {TODAY: 500}


def fill_flash(flash, leave_bytes):
    """Write a file of another program onto the flash image until about leave_bytes stay free."""
    script = tmp_script = flash.with_suffix(".fill.py")
    tmp_script.write_text(
        "import sys, os\n"
        f"sys.path.insert(0, {str(detector.FIRMWARE_DIR)!r})\n"
        "import board_emulated\n"
        f"dev = board_emulated.FileBlockDevice({str(flash)!r})\n"
        "os.mount(os.VfsLfs2(dev), '/f')\n"
        "s = os.statvfs('/f')\n"
        f"n = s[0] * s[3] - {leave_bytes}\n"
        "f = open('/f/other.bin', 'wb')\n"
        "chunk = bytes(4096)\n"
        "while n > 0:\n"
        "    f.write(chunk[: min(n, 4096)])\n"
        "    n -= 4096\n"
        "f.close()\n"
        "s = os.statvfs('/f')\n"
        "print('FREE', s[0] * s[3])\n"
    )
    proc = subprocess.run([detector.micropython_executable(), str(script)], capture_output=True, text=True)
    assert proc.returncode == 0 and "FREE" in proc.stdout, proc.stderr
    return int(proc.stdout.split()[-1])


# --- 6. every reply line is accounted for ---------------------------------------------------


DEVICE = "e0000000000000fe"


def scripted_stepclip(days, drop_on):
    """answer() of a stepclip whose DAYS reply loses its second line on the tries in drop_on."""
    hours = ",".join(["0"] * 24)
    asked = {"DAYS": 0}

    def answer(line):
        if line.startswith(b"ID"):
            return checked(f"OK device=stepclip fw=0.2.0 proto=2 id={DEVICE} board=pico clock=set uptime_s=260000 epoch=77 boot=3 seq=2 today=7")
        if line.startswith(b"DAYS"):
            asked["DAYS"] += 1
            lines = [checked(f"DAY date={d} epoch=77 boot=3 seq={i + 1} steps={100 + i} brisk=0 overruns=0 hours={hours}") for i, d in enumerate(days)]
            if asked["DAYS"] in drop_on:
                del lines[1]  # read by another program
            return b"".join(lines) + checked(f"OK records={len(days)}")
        return checked("OK")

    return answer


@pytest.mark.parametrize("drop_on", [(1,), (1, 2, 3, 4, 5)], ids=["first try", "every try"])
def test_a_reply_that_lost_a_line_is_never_stored(tmp_path, drop_on):
    days = [(TODAY - timedelta(days=k)).isoformat() for k in (2, 1, 0)]
    port, close = fake_port(scripted_stepclip(days, drop_on))
    db_path = tmp_path / "s.db"
    try:
        proc = subprocess.run(STEPCLIP + ["sync", "--port", port, "--db", str(db_path)], capture_output=True, text=True, timeout=60)
    finally:
        close()
    if len(drop_on) == 1:  # the retry got every line
        assert proc.returncode == 0, proc.stderr
        assert sorted(d.isoformat() for d in daily(db_path)) == days
    else:
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "port in use or replies garbled" in proc.stderr
        with Database(db_path) as db:
            assert db.devices() == []


def test_a_second_program_reading_the_port_never_leaves_part_of_the_days(tmp_path):
    flash = tmp_path / "flash.img"
    emulator.fill_days(flash, TODAY, 40)
    emu = emulator.Emulator([], start=day_at(9), speed=20, flash=flash)
    emu.start()
    other = os.open(emu.port, os.O_RDWR | os.O_NOCTTY)  # a serial terminal left open
    stop = threading.Event()

    def steal():  # it reads now and then, as a terminal program does
        while not stop.is_set():
            r, _, _ = select.select([other], [], [], 0.05)
            if r:
                os.read(other, 64)
                time.sleep(0.02)

    thief = threading.Thread(target=steal, daemon=True)
    thief.start()
    db_path = tmp_path / "s.db"
    outcomes = []
    try:
        for _ in range(4):
            proc = subprocess.run(STEPCLIP + ["sync", "--port", emu.port, "--db", str(db_path)], capture_output=True, text=True, timeout=120)
            with Database(db_path) as db:
                stored = sorted(d for dev in db.devices() for d in db.daily(dev))
            outcomes.append((proc.returncode, proc.stderr.strip(), len(stored)))
            assert len(proc.stderr.strip().splitlines()) <= 1 and "Traceback" not in proc.stderr
            assert len(stored) in (0, 41), outcomes  # all the days, or none
    finally:
        stop.set()
        thief.join(1)
        os.close(other)
        emu.close()
    print(outcomes)


def test_a_port_held_by_another_program_is_named_as_in_use(tmp_path):
    emu = emulator.Emulator([], start=day_at(9), speed=20)
    emu.start()
    holder = serial.Serial(emu.port, exclusive=True)
    try:
        proc = subprocess.run(STEPCLIP + ["sync", "--port", emu.port, "--db", str(tmp_path / "s.db")], capture_output=True, text=True, timeout=60)
    finally:
        holder.close()
        emu.close()
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "in use" in proc.stderr and emu.port in proc.stderr


# --- 7. a pulled cable gets retries and one line -----------------------------------------------


@pytest.mark.parametrize("cut_before", ["identify", "stop", "time", "days"])
def test_a_cable_pulled_mid_sync_gets_one_line_and_changes_nothing(tmp_path, cut_before):
    from stepclip import cli

    tr, _ = session(("stand", 3), ("walk", 30), ("stand", 5))
    emu = emulator.Emulator([tr], start=day_at(9), speed=50)
    emu.start()
    played(emu, 40)

    def pull(name):
        if name == cut_before:
            emu.stop()

    db_path = tmp_path / "s.db"
    try:
        with Database(db_path) as db:
            with pytest.raises(cli._input_errors()) as err:
                syncmod.sync(db, emu.port, on_step=pull, timeout=0.5)
            assert db.devices() == []
    finally:
        emu.close()
    assert "\n" not in str(err.value) and emu.port in str(err.value)


# --- 8. two Picos plugged in -------------------------------------------------------------------


class FakePortInfo:
    def __init__(self, device):
        self.device = device
        self.vid, self.pid = 0x2E8A, 0x0005
        self.serial_number = device[-4:]
        self.description = "Board in FS mode"


@pytest.fixture
def two_picos(tmp_path, monkeypatch):
    """Two Picos running MicroPython: another project's board (a REPL that is no
    stepclip) sorts first, then an emulated stepclip."""
    from serial.tools import list_ports

    def repl(line):
        return b"\r\nTraceback (most recent call last):\r\nNameError: name 'ID' isn't defined\r\n>>> "

    other, close = fake_port(repl)
    emu = emulator.Emulator([], start=day_at(9), speed=20, device_id="e0000000000000b2")
    emu.start()
    links = [tmp_path / "ttyACM0", tmp_path / "ttyACM1"]
    links[0].symlink_to(other)
    links[1].symlink_to(emu.port)
    monkeypatch.setattr(list_ports, "comports", lambda *a, **k: [FakePortInfo(str(p)) for p in reversed(links)])
    yield [str(p) for p in links]
    emu.close()
    close()


def test_sync_finds_the_stepclip_among_several_picos(tmp_path, two_picos):
    with Database(tmp_path / "s.db") as db:
        result = syncmod.sync(db)
    assert result.port == two_picos[1] and result.device_id == "e0000000000000b2"


def test_deploy_refuses_to_choose_between_several_picos(two_picos):
    from stepclip import deploy

    with pytest.raises(deploy.DeployError) as err:
        deploy.deploy(None, dry_run=True, out=lambda s: None)
    msg = str(err.value)
    assert "\n" not in msg and "--port" in msg
    assert f"{two_picos[0]}: not a stepclip" in msg and f"{two_picos[1]}: stepclip" in msg


# --- 9. daylight saving -----------------------------------------------------------------------

PLACE_SCRIPT = """
import json, sys
from datetime import datetime
from stepclip.store import Database
from stepclip.sync import sync
port, db_path, now = sys.argv[1:4]
with Database(db_path) as db:
    result = sync(db, port, now=lambda: datetime.fromisoformat(now))
    print(json.dumps({d.isoformat(): r["hours"] for d, r in db.daily(result.device_id).items()}))
"""


def _sync_in_zone(zone, port, db_path, now):
    env = dict(os.environ, TZ=zone)
    proc = subprocess.run([sys.executable, "-c", PLACE_SCRIPT, port, str(db_path), now], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_steps_counted_before_a_dst_change_stay_on_their_evening(tmp_path):
    # Chile moves its clocks from 00:00 to 01:00 on 2026-09-06. A Pico powered up at
    # about 23:50 on the 5th (clock unset) counts a walk at about 23:51; it is synced
    # at 01:05 on the 6th: the walk belongs to 23:00 on the 5th.
    tr, (walk,) = session(("stand", 60), ("walk", 60), ("stand", 600))
    emu = emulator.Emulator([tr], clock_unset=True, speed=100)
    emu.start()
    try:
        played(emu, 15 * 60)
        hours = _sync_in_zone("America/Santiago", emu.port, tmp_path / "s.db", "2026-09-06T01:05:00")
    finally:
        emu.close()
    assert hours["2026-09-05"] == [0] * 23 + [steps_in(tr, *walk)]
    assert sum(hours.get("2026-09-06", [])) == 0


def test_travelling_west_keeps_each_step_on_the_date_and_hour_the_device_showed(tmp_path):
    # Set in Berlin (its clock 23:55 on 10 June), the device counts a walk at 23:57 and,
    # after its midnight, one at 00:03 on the 11th. Its owner is in New York by then:
    # synced there at 18:10 on the 10th (New York time), its clock goes back six hours,
    # onto the 10th again, and a walk at 18:13 is counted there. Each step keeps the date
    # and hour the device's clock showed; none is lost, none is refused as a wrong date.
    tr, (w1, w2, w3) = session(("stand", 120), ("walk", 60), ("stand", 300), ("walk", 60), ("stand", 200), ("walk", 60), ("stand", 600))
    db_path = tmp_path / "s.db"
    emu = emulator.Emulator([tr], start=datetime(2026, 6, 10, 23, 55), speed=50)
    emu.start()
    try:
        played(emu, w2[1] + 15)
        _sync_in_zone("America/New_York", emu.port, db_path, "2026-06-10T18:10:00")
        played(emu, w3[1] + 15)
        hours = _sync_in_zone("America/New_York", emu.port, db_path, "2026-06-10T18:16:00")
    finally:
        emu.close()
    assert hours["2026-06-10"][23] == steps_in(tr, *w1) > 0
    assert hours["2026-06-10"][18] == steps_in(tr, *w3) > 0
    assert hours["2026-06-11"][0] == steps_in(tr, *w2) > 0
    assert sum(map(sum, hours.values())) == sum(steps_in(tr, *w) for w in (w1, w2, w3))


# --- 10. the minute before a record change ---------------------------------------------------


def test_the_last_minute_before_midnight_is_a_brisk_minute_of_its_own_day():
    # 23:57:30 to 00:00:00 at 118 steps a minute: 23:58 and 23:59 are brisk minutes of the 27th
    tr, _ = session(("stand", 30), ("walk", 150, 118), ("stand", 60))
    emu = emulator.Emulator([tr], start=datetime(2026, 11, 27, 23, 57))
    days = emu.run_to_end()["days"]
    emu.close()
    assert [(d["date"], d["brisk"]) for d in days] == [("2026-11-27", 2), ("2026-11-28", 0)]


def test_a_brisk_minute_before_the_clock_is_set_stays_with_the_uptime_record(tmp_path):
    from test_protocol import parse_output, run_fuzz

    from stepclip_firmware.store import Record

    # clock unset, walking at 120 steps a minute from power-up; TIME arrives at uptime 119 s
    tr, _ = session(("walk", 200, 120), ("stand", 10))
    lines = [(b"", "n", None)] * 118 + [(b"TIME 2026-11-27T10:00:00", "n", "OK TIME")]
    _, data = run_fuzz(tmp_path, lines, emulator.device_samples([tr]), batch=1, start=None)
    recs = [Record.from_line(r) for r in parse_output(data)[3]]
    assert sorted((r.kind, r.brisk) for r in recs) == [("D", 1), ("U", 2)]


# --- 11. no process outlives the command ------------------------------------------------------


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].split()[0] == "Z"  # a zombie has ended
    except OSError:
        return True


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"])
def test_emulate_ends_its_device_process_whatever_ends_it(sig):
    proc = subprocess.Popen(
        [sys.executable, "-m", "stepclip.cli", "emulate", "--speed", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    children = []
    try:
        assert proc.stdout.readline().startswith("port: /dev/pts/")
        children = _children(proc.pid)
        (child,) = children
        assert not _gone(child)
        proc.send_signal(getattr(signal, sig))
        proc.wait(20)
        assert emulator.wait_for(lambda: _gone(child), timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in children:
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)  # the test failed: leave no device process behind

"""Benchmark: sync and report (prints figures; asserts nothing). Run with `make bench`.

- sync of 365 days from the emulated device (real firmware under the MicroPython
  unix port, over its pseudo-terminal) into an empty database;
- a sync with one new day;
- `stepclip report` (the whole command, process start included) on two years of data.
"""
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from stepclip import emulator, synth
from stepclip.store import Database
from stepclip.sync import sync


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def main():
    tmp = Path(tempfile.mkdtemp(prefix="stepclip-bench-"))
    flash = tmp / "flash.img"
    today = date.today()
    emulator.fill_days(flash, today, 365)
    db_path = tmp / "sync.db"

    emu = emulator.Emulator([], start=datetime.combine(today, datetime.min.time()) + timedelta(hours=9), flash=flash)
    port = emu.start()
    with Database(db_path) as db:
        t_full, full = timed(lambda: sync(db, port))
    emu.close()
    print(f"sync of {len(full.days_new)} days from the emulated device: {t_full:.2f} s")

    # the next day: a walk, then a sync that brings one new day
    walk = synth.generate([synth.walk(60)], rate_hz=25, seed=1)
    emu = emulator.Emulator([walk], start=datetime.combine(today + timedelta(days=1), datetime.min.time()) + timedelta(hours=9), flash=flash, speed=1000)
    port = emu.start()
    time.sleep(0.5)  # at 1000x the walk's 60 s take 60 ms: let it play
    with Database(db_path) as db:
        t_one, one = timed(lambda: sync(db, port, now=lambda: datetime.combine(today + timedelta(days=1), datetime.min.time()) + timedelta(hours=10)))
    emu.close()
    print(f"sync with {len(one.days_new)} new day ({len(one.days_changed)} updated): {t_one:.2f} s")

    # two years in a database, then the report command as a person runs it
    big = tmp / "two-years.db"
    with Database(big) as db, db.transaction():
        db.put_device("e0000000be000001", {"fw": "0.1.0", "proto": "1"}, datetime.now())
        for i in range(730):
            d = today - timedelta(days=729 - i)
            steps = 3000 + 5 * i
            db.put_day("e0000000be000001", {"date": d.isoformat(), "steps": steps, "brisk": 10, "overruns": 0, "hours": [steps // 24] * 24}, datetime.now())
    cmd = [str(Path(sys.executable).with_name("stepclip")), "report", "--db", str(big)]
    runs = []
    for _ in range(5):
        t, proc = timed(lambda: subprocess.run(cmd, capture_output=True, text=True))
        assert proc.returncode == 0, proc.stderr
        runs.append(t)
    print(f"stepclip report on 2 years (730 days), whole command: {min(runs):.2f} s (best of 5; median {sorted(runs)[2]:.2f} s)")


if __name__ == "__main__":
    sys.exit(main())

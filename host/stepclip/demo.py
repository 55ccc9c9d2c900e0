"""stepclip demo: the whole workflow on an emulated device, with synthetic walking.

Nearly three weeks of a plausible start of the walking plan (a baseline week
around 3,000 steps a day, then +500 a week, with one day the clip was forgotten
on the table) are walked by a synthetic person wearing the emulated stepclip:
each day the real firmware, under the MicroPython unix port, counts that day's
walks and keeps its records in its (emulated) flash. Then the device is plugged
in: `sync` reads it over its pseudo-terminal into a temporary database; the
person marks the forgotten day as not worn (`stepclip day DATE --not-worn`: the
firmware does not send wear time yet), and the report, the chart and the page
to share with the therapist follow.
"""
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from . import emulator, report, share, synth
from .store import Database
from .sync import sync

DAYS = 19  # today is the fifth day of week 2
BASELINE = 3000
MISSED_DAY = 10  # in week 1: forgot the clip on the table most of that day


def day_steps(rng, day_index):
    """How many steps the synthetic person walks on a day of the plan."""
    if day_index == MISSED_DAY:
        return 600
    week = day_index // 7
    goal = BASELINE + 500 * week
    return int(goal * rng.uniform(0.97, 1.15))


def day_trace(rng, steps, seed):
    """A synthetic day's walking: two or three walks, with standing in between."""
    cadence = rng.uniform(95, 112)
    minutes = steps / cadence
    parts = int(rng.integers(2, 4))
    segs = [synth.stand(5)]
    for k in range(parts):
        segs += [synth.walk(60 * minutes / parts, cadence_spm=cadence, turn=k % 2 == 1), synth.stand(8)]
    return synth.generate(segs, rate_hz=25, seed=seed)


def run(out_dir=None, today=None, say=print):
    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="stepclip-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    today = today or date.today()
    first = today - timedelta(days=DAYS - 1)
    rng = np.random.default_rng(0)
    work = tempfile.TemporaryDirectory(prefix="stepclip-demo-")
    flash = Path(work.name) / "flash.img"
    db_path = out / "stepclip-demo.db"
    if db_path.exists():
        db_path.unlink()

    say(f"Emulated stepclip, worn by a synthetic walker for {DAYS} days from {first:%a %Y-%m-%d} (synthetic data):")
    walked = 0
    for i in range(DAYS):
        day = first + timedelta(days=i)
        tr = day_trace(rng, day_steps(rng, i), seed=i)
        walked += tr.steps
        emu = emulator.Emulator([tr], start=datetime.combine(day, time(8, 0)), flash=flash, device_id="e0000000de000001")
        counted = emu.run_to_end()["days"][-1]["steps"]
        emu.close()
        note = "  (forgot the clip)" if i == MISSED_DAY else ""
        say(f"  {day:%a %Y-%m-%d}  walked {tr.steps:>5,}  the device counted {counted:>5,}{note}")

    say("Plugging the device in and syncing over its serial port:")
    now = datetime.combine(today, time(20, 0))
    emu = emulator.Emulator([], start=now, flash=flash, device_id="e0000000de000001")
    port = emu.start()
    try:
        with Database(db_path) as db:
            result = sync(db, port, now=lambda: now)
            say(f"  {port}: {len(result.days_new)} days synced into {db_path}")
            forgot = first + timedelta(days=MISSED_DAY)
            report.mark_day(db, forgot, False, now=now)
            say(f"The clip lay on the table on {forgot:%a %Y-%m-%d}: `stepclip day {forgot.isoformat()} --not-worn` leaves it out")
            report_text, chart, page = _report(db, out, today, now)
    finally:
        emu.close()
        work.cleanup()
    say("")
    say(report_text)
    say(f"chart: {chart}")
    say(f"page to share with the therapist: {page}")
    return {"db": str(db_path), "chart": str(chart), "page": str(page), "walked": walked}


def _report(db, out, today, now):
    data = report.build(db, weeks=2, today=today, now=now)
    chart = out / "stepclip-demo.png"
    report.plot(db, None, chart, weeks=3, today=today)
    page = out / "stepclip-demo.html"
    share.write_page(db, page, today=today, now=now)
    return report.render(data), chart, page

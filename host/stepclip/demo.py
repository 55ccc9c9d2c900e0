"""stepclip demo: the whole workflow on an emulated device, with synthetic walking.

Nearly three weeks of a plausible start of the walking plan (a baseline week
around 3,000 steps a day, then +500 a week, with one day the clip was forgotten
on the table) are walked by a synthetic person wearing the emulated stepclip:
each day the real firmware, under the MicroPython unix port, counts that day's
walks, its wear time (the walks and ten hours of sitting and standing between
them; on the forgotten day the clip lies still after a short walk) and its
battery's voltage, and keeps its records in its (emulated) flash. The battery
(firmware/battery_model.py) runs down, also between the days, and is charged on
USB every eighth evening. Then the device is plugged in: `sync` reads it over its
pseudo-terminal into a temporary database; the forgotten day is left out by the
device's own wear time, and the report, the chart, the page to share with the
therapist and the battery estimate (`stepclip battery`) follow.
"""
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from . import battery, emulator, report, share, synth
from .store import Database
from .sync import sync

DAYS = 19  # today is the fifth day of week 2
DEVICE = "e0000000de000001"
BASELINE = 3000
MISSED_DAY = 10  # in week 1: forgot the clip on the table most of that day
WORN_S = 10 * 3600 + 300  # a day's wear: walks, then sitting and standing, from 08:00 (the 10-hour rule, and 5 minutes)
CHARGE_EVERY = 8  # days: the clip is charged on USB in the evening of every eighth day (a charge lasts about 10)
CHARGE_S = 75 * 60  # from 20:00: 75 minutes at 400 mA fill a 500 mAh cell
RATE = 25


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


def filler(seconds, seed=0):
    """Device samples (an (n, 3) array at RATE) of sitting with a stretch of
    standing every ten minutes: the clip is worn, no steps."""
    piece = emulator.device_samples([synth.generate([synth.sit(540), synth.stand(60)], rate_hz=RATE, seed=seed)])
    n = int(seconds * RATE)
    return np.tile(piece, (n // len(piece) + 1, 1))[:n]


def run(out_dir=None, today=None, say=print):
    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="stepclip-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    today = today or date.today()
    first = today - timedelta(days=DAYS - 1)
    rng = np.random.default_rng(0)
    work = tempfile.TemporaryDirectory(prefix="stepclip-demo-")
    flash = Path(work.name) / "flash.img"
    cell = Path(work.name) / "battery.txt"  # the emulated battery's charge, from one run to the next
    sitting = filler(WORN_S)
    on_usb = np.tile(np.array([[0, 0, 1000]]), (CHARGE_S * RATE, 1))  # lying still on the desk
    db_path = out / "stepclip-demo.db"
    if db_path.exists():
        db_path.unlink()

    say(f"Emulated stepclip, worn by a synthetic walker for {DAYS} days from {first:%a %Y-%m-%d} (synthetic data):")
    walked = 0
    for i in range(DAYS):
        day = first + timedelta(days=i)
        tr = day_trace(rng, day_steps(rng, i), seed=i)
        walked += tr.steps
        samples = [emulator.device_samples([tr])]
        if i != MISSED_DAY:  # worn all day; the forgotten clip lies still on the table after its walk
            samples.append(sitting[: max(0, WORN_S * RATE - len(samples[0]))])
        emu = emulator.Emulator(samples, start=datetime.combine(day, time(8, 0)), flash=flash, device_id=DEVICE, battery=cell)
        rec = emu.run_to_end()["days"][-1]
        emu.close()
        worn = sum(rec["wear"])
        note = "  (forgot the clip on the table)" if i == MISSED_DAY else ""
        say(f"  {day:%a %Y-%m-%d}  walked {tr.steps:>5,}  the device counted {rec['steps']:>5,}  "
            f"worn {worn // 60:>2} h {worn % 60:02d} min{note}")
        if i % CHARGE_EVERY == CHARGE_EVERY - 1:
            charger = emulator.Emulator([on_usb], start=datetime.combine(day, time(20, 0)), flash=flash, device_id=DEVICE,
                                        battery=cell, usb=True)
            charger.run_to_end()
            charger.close()

    say("Plugging the device in and syncing over its serial port:")
    now = datetime.combine(today, time(20, 0))
    emu = emulator.Emulator([], start=now, flash=flash, device_id=DEVICE, battery=cell, usb=True)  # plugged into the computer
    port = emu.start()
    try:
        with Database(db_path) as db:
            result = sync(db, port, now=lambda: now)
            say(f"  {port}: {len(result.days_new)} days synced into {db_path}")
            forgot = first + timedelta(days=MISSED_DAY)
            say(f"The clip lay on the table on {forgot:%a %Y-%m-%d}: its own wear time leaves that day out")
            report_text, chart, page = _report(db, out, today, now)
            charge = battery.battery(db)
            battery_chart = out / "stepclip-demo-battery.png"
            battery.plot(charge, battery_chart)
    finally:
        emu.close()
        work.cleanup()
    say("")
    say(report_text)
    say(f"chart: {chart}")
    say(f"page to share with the therapist: {page}")
    say("")
    say(battery.render(charge))
    say(f"battery chart: {battery_chart}")
    return {"db": str(db_path), "chart": str(chart), "page": str(page), "walked": walked,
            "battery_chart": str(battery_chart)}


def _report(db, out, today, now):
    data = report.build(db, weeks=2, today=today, now=now)
    chart = out / "stepclip-demo.png"
    report.plot(db, None, chart, weeks=3, today=today)
    page = out / "stepclip-demo.html"
    share.write_page(db, page, today=today, now=now)
    return report.render(data), chart, page

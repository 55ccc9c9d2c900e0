"""stepclip report, plan and export (host/stepclip/report.py) on temporary databases.

The 2-year timing (build + render) is printed to the terminal.
"""
import csv
import io
import json
import random
import time
from datetime import date, datetime, timedelta

import pytest

from stepclip import report
from stepclip.store import Database

INFO = {"fw": "0.1.0", "proto": "1", "board": "emulated", "micropython": "1.29.0"}
START = date(2026, 11, 2)  # a Monday
TODAY = date(2026, 11, 25)  # a Wednesday, in week 3
WHEN = datetime(2026, 11, 25, 20, 0)

# baseline week 3,000 a day; week 1 (goal 3,500) met; week 2 (goal 4,000) missed on one
# missing day; week 3 (goal 4,000 again) running, three days so far
STEPS_A = (
    [2900, 3100, 3000, 3000, 2800, 3200, 3000]
    + [3600, 3400, 3700, 3500, 3500, 3600, 3200]
    + [4100, 3900, None, 3800, 4200, 3700, 3900]
    + [5234, 4100, 3000]
)


def day(d, steps, brisk=0, overruns=0):
    hours = [0] * 24
    hours[9] = steps // 3
    hours[17] = steps - steps // 3
    return {"date": d.isoformat(), "steps": steps, "brisk": brisk, "overruns": overruns, "hours": hours}


def fill(db, device_id, start, steps, when=WHEN, brisk=lambda i: i % 5, overruns=lambda i: 0):
    with db.transaction():
        db.put_device(device_id, INFO, when)
        for i, s in enumerate(steps):
            if s is not None:
                db.put_day(device_id, day(start + timedelta(i), s, brisk(i), overruns(i)), when)


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "x.db")
    fill(d, "pico-a", START, STEPS_A)
    yield d
    d.close()


def test_json_has_the_documented_fields(db):
    r = report.build(db, today=TODAY)
    r = json.loads(json.dumps(r))  # JSON-ready
    for key in ("person", "devices", "device", "today", "week_of", "plan", "worn_hours", "weeks", "days", "streak", "weeks_met",
                "weeks_done", "next_week", "today_needs", "last_sync", "sync_due", "unplaced_steps", "disclaimer"):
        assert key in r
    assert r["device"] == "pico-a" and r["disclaimer"] == "General guidance, not medical advice."
    assert len(r["days"]) == 7 and len(r["weeks"]) == 1
    assert [d["date"] for d in r["days"]] == [(START + timedelta(21 + i)).isoformat() for i in range(7)]
    first = r["days"][0]
    assert first == {"date": "2026-11-23", "weekday": "Mon", "steps": 5234, "goal": 4000, "met": True, "pct": 131, "brisk": 21 % 5, "future": False,
                     "wear_minutes": None, "worn": True, "worn_note": "no wear data"}
    assert r["days"][2]["steps"] == 3000 and r["days"][2]["met"] is False
    assert r["days"][3]["steps"] is None and r["days"][3]["future"] is True
    w = r["weeks"][0]
    for key in ("index", "start", "end", "goal", "days_with_data", "average", "met", "days_met", "complete", "brisk_minutes", "running", "days"):
        assert key in w
    assert (w["index"], w["goal"], w["days_with_data"], w["average"], w["days_met"]) == (3, 4000, 3, 4111, 2)
    assert w["met"] is True and w["complete"] is False and w["running"] is True
    assert w["brisk_minutes"] == sum(i % 5 for i in range(21, 24))
    p = r["plan"]
    assert (p["baseline"], p["baseline_source"], p["target"], p["target_source"], p["start"], p["start_source"]) == (
        3000, "first week", 8000, "default", START.isoformat(), "first data")
    assert r["streak"] == 0  # week 2 missed (a missing day is not a zero, but 3,933 < 4,000)
    assert r["next_week"]["goal"] == 4500 and r["next_week"]["goal_if_missed"] == 4000
    assert r["unplaced_steps"] == 0


def test_several_weeks_and_a_past_week(db):
    r = report.build(db, today=TODAY, weeks=4)
    assert [w["index"] for w in r["weeks"]] == [0, 1, 2, 3]
    assert [w["goal"] for w in r["weeks"]] == [None, 3500, 4000, 4000]
    assert [w["met"] for w in r["weeks"]] == [None, True, False, True]
    assert len(r["days"]) == 28
    r = report.build(db, week="2026-11-12", today=TODAY)  # week 1, ISO string as on the command line
    assert r["weeks"][0]["index"] == 1 and r["weeks"][0]["complete"]
    assert r["streak"] == 1 and (r["weeks_met"], r["weeks_done"]) == (1, 1)
    assert r["next_week"] == {"index": 2, "start": "2026-11-16", "goal": 4000, "goal_if_missed": 4000, "decided": True, "this_goal": 3500, "event": None}
    r = report.build(db, week=date(2026, 10, 20), weeks=1, today=TODAY)  # before the plan
    assert r["weeks"][0]["index"] == -2 and all(d["steps"] is None and d["goal"] is None for d in r["days"])
    assert "before the plan" in report.render(r)


def test_table_shows_each_day_and_the_disclaimer_once(db):
    text = report.render(report.build(db, today=TODAY, weeks=2))
    print(text)
    for i in range(14):
        d = START + timedelta(14 + i)
        assert sum(1 for line in text.splitlines() if d.isoformat() in line and line.strip().startswith(d.strftime("%a"))) == 1
    assert text.count("General guidance, not medical advice.") == 1
    assert text.count("not medical advice") == 1
    assert "Mon 2026-11-23   5,234 / 4,000  ████████████████████  131%  met" in text
    assert "Wed 2026-11-25   3,000 / 4,000  ███████████████░░░░░   75%" in text
    assert "Wed 2026-11-18       - / 4,000  no data" in text
    assert "average 3,933 / 4,000 a day over 6 days with data: not met" in text
    assert "2 of 7 days met" in text and "brisk minutes" in text
    assert "Streak: 0 weeks in a row with the goal met (1 of 2 complete weeks met)" in text
    assert "Wed 2026-11-25   3,000 / 4,000  ███████████████░░░░░   75%  (today, so far)" in text
    assert "Next week (from Mon 2026-11-30): 4,500 a day if this week's average reaches 4,000, otherwise 4,000 again" in text
    assert "target 8,000 (under 60; set --age or --target)" in text


def test_baseline_week_and_provisional_baseline(tmp_path):
    d = Database(tmp_path / "x.db")
    fill(d, "pico-a", START, [3000, 3200])
    r = report.build(d, today=START + timedelta(1))
    assert r["plan"]["provisional"] and r["plan"]["baseline"] == 3100
    text = report.render(r)
    assert "Week 0, the baseline week" in text and "provisional" in text
    assert "Next week (from Mon 2026-11-09): 3,600 a day (the baseline + 500; provisional" in text
    assert text.count("not medical advice") == 1


def test_a_device_without_data(tmp_path):
    d = Database(tmp_path / "x.db")
    with d.transaction():
        d.put_device("pico-a", INFO, WHEN)
    r = report.build(d, today=TODAY)
    assert len(r["days"]) == 7 and all(x["steps"] is None for x in r["days"])
    assert r["days"][0]["date"] == "2026-11-23"  # calendar week
    text = report.render(r)
    assert "No data yet" in text and text.count("not medical advice") == 1
    s = report.plan_summary(d, today=TODAY)
    assert s["plan"]["baseline"] is None and s["next_week"] is None
    assert "not medical advice" in report.render_plan(s)


def test_empty_database_and_unknown_device(tmp_path):
    d = Database(tmp_path / "x.db")
    with pytest.raises(report.ReportError, match="no device"):
        report.build(d)
    with pytest.raises(ValueError, match="stepclip sync"):
        report.plan_summary(d)
    fill(d, "pico-a", START, [3000])
    with pytest.raises(report.ReportError, match="no device 'pico-z'.*known: pico-a"):
        report.build(d, "pico-z")
    with pytest.raises(report.ReportError, match="--week"):
        report.build(d, week="last tuesday")
    with pytest.raises(report.ReportError, match="--weeks"):
        report.build(d, weeks=0)


def test_plot_writes_a_png(db, tmp_path):
    out = tmp_path / "chart.png"
    r = report.plot(db, None, out, weeks=4, today=TODAY)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000
    assert len(r["days"]) == 28
    import matplotlib.image

    img = matplotlib.image.imread(str(out))
    assert img.shape[0] >= 300 and img.shape[1] >= 600


def test_hourly_export_round_trips_the_device_records(db, tmp_path):
    # a second clip of the same person, overruns, and steps counted while the clock was unset placed on 2026-11-18
    fill(db, "pico-b", START, [1000, 2000], overruns=lambda i: 3 * i)
    with db.transaction():
        db.put_boot("pico-a", 4, datetime(2026, 11, 18, 8, 0))
        hours = [0] * 24
        hours[2] = 700  # uptime hour 2 = 10:00
        db.put_uptime("pico-a", {"boot": 4, "uptime_day": 0, "steps": 700, "brisk": 4, "overruns": 0, "hours": hours}, WHEN)
    buf = io.StringIO()
    n = report.export_csv(db, buf, hourly=True, today=TODAY)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert n == len(rows) == 23 + 1 + 2  # pico-a: 23 dated days + the placed day; pico-b: 2
    assert list(rows[0]) == report.HOURLY_FIELDS
    got = {(r["device"], r["date"]): r for r in rows}
    for i, s in enumerate(STEPS_A):
        if s is not None:
            r = got["pico-a", (START + timedelta(i)).isoformat()]
            assert int(r["steps"]) == s and int(r["brisk"]) == i % 5 and r["includes_placed"] == "0"
            assert sum(int(r[f"h{h:02d}"]) for h in range(24)) == s
            assert r["wear_minutes"] == "" and r["wear_h09"] == ""  # no wear data from this clip
    placed = got["pico-a", "2026-11-18"]
    assert (int(placed["steps"]), int(placed["placed_steps"]), placed["includes_placed"], int(placed["h10"])) == (700, 700, "1", 700)
    assert int(placed["brisk"]) == 4
    assert [(r["date"], int(r["steps"]), int(r["overruns"])) for r in rows if r["device"] == "pico-b"] == [
        ("2026-11-02", 1000, 0), ("2026-11-03", 2000, 3)]
    # one device only, and a date range
    buf = io.StringIO()
    assert report.export_csv(db, buf, "pico-b", hourly=True, today=TODAY) == 2
    assert "pico-a" not in buf.getvalue()
    buf = io.StringIO()
    assert report.export_csv(db, buf, hourly=True, first="2026-11-03", last="2026-11-04", today=TODAY) == 3
    # the report puts the placed steps on their date, and sums the person's two clips
    r = report.build(db, "pico-a", week="2026-11-18", today=TODAY)
    assert [x["steps"] for x in r["days"]][2] == 700
    r = report.build(db, week="2026-11-02", today=TODAY)
    assert [x["steps"] for x in r["days"]][:2] == [2900 + 1000, 3100 + 2000]


def test_compact_export_has_the_plan_columns_and_a_date_range(db):
    buf = io.StringIO()
    n = report.export_csv(db, buf, first="2026-11-16", last=date(2026, 11, 24), today=TODAY)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert list(rows[0]) == report.CSV_FIELDS == ["date", "steps", "goal", "met", "worn", "wear_minutes", "brisk"]
    assert n == len(rows) == 8  # 2026-11-18 has no data
    assert rows[0] == {"date": "2026-11-16", "steps": "4100", "goal": "4000", "met": "1", "worn": "1", "wear_minutes": "", "brisk": str(14 % 5)}
    assert rows[1]["met"] == "0" and rows[-1]["date"] == "2026-11-24"
    with pytest.raises(ValueError, match="--from 2026-11-20 is after --to 2026-11-19"):
        report.export_csv(db, io.StringIO(), first="2026-11-20", last="2026-11-19")
    with pytest.raises(ValueError, match="--from: not a date"):
        report.export_csv(db, io.StringIO(), first="yesterday")


def test_unplaced_steps_are_reported(db):
    with db.transaction():
        db.put_uptime("pico-a", {"boot": 9, "uptime_day": 0, "steps": 1234, "brisk": 0, "overruns": 0, "hours": [1234] + [0] * 23}, WHEN)
    r = report.build(db, today=TODAY)
    assert r["unplaced_steps"] == 1234
    assert "1,234 steps counted while the clock was unset" in report.render(r)


def plan_of(db, device):
    return db.plan(db.device_person(device))


def test_two_persons_are_kept_apart(db):
    with db.transaction():
        db.put_device("pico-b", INFO, WHEN)
        db.attach("pico-b", "ann")
    fill(db, "pico-b", START + timedelta(14), [8000] * 10, when=WHEN + timedelta(hours=1))
    assert db.devices()[0] == "pico-b"
    rb = report.build(db, today=TODAY)  # default: the wearer of the most recently synced
    assert rb["device"] == "pico-b" and rb["person"] == "ann"
    assert rb["plan"]["start"] == (START + timedelta(14)).isoformat() and rb["plan"]["baseline"] == 8000
    assert [d["steps"] for d in rb["days"]] == [8000] * 3 + [None] * 4  # week 1 of ann's plan
    assert rb["weeks"][0]["goal"] == 8000  # baseline 8,000: the target from week 1
    ra = report.build(db, "pico-a", today=TODAY)
    assert ra["person"] == "me" and report.build(db, person="me", today=TODAY) == ra
    assert ra["plan"]["baseline"] == 3000 and [d["steps"] for d in ra["days"]][:3] == [5234, 4100, 3000]
    report.set_plan(db, "pico-b", age=70)
    assert plan_of(db, "pico-b")["age"] == 70 and plan_of(db, "pico-a")["age"] is None
    assert report.build(db, "pico-b", today=TODAY)["plan"]["target"] == 6000
    assert report.build(db, "pico-a", today=TODAY)["plan"]["target"] == 8000
    with pytest.raises(ValueError, match="no person 'bob'.*known: me, ann"):
        report.build(db, person="bob")


def test_set_plan_and_plan_summary(db):
    s = report.plan_summary(db, today=TODAY)
    assert s["settings"] == {"age": None, "target": None, "baseline": None, "start": None}
    assert s["this_week"]["goal"] == 4000 and s["next_week"]["goal"] == 4500
    text = report.render_plan(s)
    print(text)
    assert "target 8,000 (under 60; set --age or --target)" in text and text.count("not medical advice") == 1
    report.set_plan(db, None, age="64")  # strings as argparse gives them
    assert plan_of(db, "pico-a")["age"] == 64
    assert report.plan_summary(db, today=TODAY)["plan"]["target"] == 6000
    report.set_plan(db, target=7000)
    p = report.plan_summary(db, today=TODAY)["plan"]
    assert (p["target"], p["target_source"], p["age"]) == (7000, "set", 64)
    report.set_plan(db, age=50)  # a new age: the target follows it again
    assert report.plan_summary(db, today=TODAY)["plan"]["target"] == 8000
    report.set_plan(db, baseline="2,500", start="2026-11-09")
    s = report.plan_summary(db, today=TODAY)
    p = s["plan"]
    assert (p["baseline"], p["baseline_source"], p["start"], p["start_source"]) == (2500, "set", "2026-11-09", "set")
    assert "baseline 2,500 (set by you)" in report.render_plan(s)
    report.set_plan(db, baseline="auto", start="auto")
    p = report.plan_summary(db, today=TODAY)["plan"]
    assert (p["baseline"], p["start"]) == (3000, START.isoformat())
    before = plan_of(db, "pico-a")
    for bad, match in (({"age": 60, "target": 6000}, "not both"), ({"start": "2026-13-01"}, "--start"),
                       ({"target": "lots"}, "--target"), ({"age": 300}, "--age"), ({"baseline": -1}, "--baseline")):
        with pytest.raises(ValueError, match=match):
            report.set_plan(db, **bad)
    assert plan_of(db, "pico-a") == before


def test_future_plan_start(db):
    report.set_plan(db, start="2026-12-07")
    r = report.build(db, today=TODAY)
    assert r["weeks"][0]["index"] == -2 and r["next_week"]["index"] == 0
    text = report.render(r)
    assert "Plan starts from Mon 2026-12-07 with a baseline week" in text
    assert "the plan starts on 2026-12-07" in report.plan_summary(db, today=TODAY)["plan"]["notes"]


def test_two_years_build_and_render_time(tmp_path, capsys):
    d = Database(tmp_path / "big.db")
    rnd = random.Random(7)
    first = TODAY - timedelta(729)
    with d.transaction():
        d.put_device("pico-a", INFO, WHEN)
        for i in range(730):
            hours = [rnd.randint(0, 700) if 7 <= h <= 21 else 0 for h in range(24)]
            d.put_day("pico-a", {"date": (first + timedelta(i)).isoformat(), "steps": sum(hours), "brisk": rnd.randint(0, 40), "overruns": 0, "hours": hours}, WHEN)
    d.close()
    t0 = time.perf_counter()
    d = Database(tmp_path / "big.db")
    r = report.build(d, today=TODAY)
    text = report.render(r)
    elapsed = time.perf_counter() - t0
    t0 = time.perf_counter()
    report.render(report.build(d, today=TODAY, weeks=104))
    elapsed104 = time.perf_counter() - t0
    d.close()
    with capsys.disabled():
        print(f"\n[report] 2 years (730 days): open + build + render {elapsed * 1000:.1f} ms (1 week shown), {elapsed104 * 1000:.1f} ms (104 weeks shown)")
    assert r["weeks"][0]["index"] == 104 and text.count("not medical advice") == 1


# --- worn days, today, last sync, flare-ups (issue 10) ------------------------------------------


def wear(minutes):
    out = [0] * 24
    h = 7
    while minutes > 0:
        out[h] = min(60, minutes)
        minutes -= out[h]
        h += 1
    return out


def worn_db(tmp_path, synced=WHEN):
    """Baseline week 3,000; week 1 (goal 3,500): 3,600 a day, but the clip lay on the
    table on the Wednesday (610 steps, 40 min of wear); week 2 running."""
    d = Database(tmp_path / "w.db")
    steps = [3000] * 7 + [3600, 3600, 610, 3600, 3600, 3600, 3600] + [4100, 3900, 1200]
    with d.transaction():
        d.put_device("pico-a", INFO, synced)
        for i, s in enumerate(steps):
            rec = day(START + timedelta(i), s)
            rec["wear"] = wear(40 if s == 610 else 780 if i < 16 else 300)
            d.put_day("pico-a", rec, synced)
    return d


def test_a_day_not_worn_enough_is_shown_and_left_out(tmp_path):
    d = worn_db(tmp_path, synced=datetime(2026, 11, 18, 12, 0))
    today = date(2026, 11, 18)
    r = report.build(d, weeks=2, today=today, now=datetime(2026, 11, 18, 13, 0))
    w1 = r["weeks"][0]
    assert (w1["average"], w1["days_with_data"], w1["days_not_worn"], w1["met"], w1["days_met"]) == (3600, 6, 1, True, 6)
    wed = next(x for x in r["days"] if x["date"] == "2026-11-11")
    assert (wed["steps"], wed["wear_minutes"], wed["worn"], wed["worn_note"], wed["met"]) == (610, 40, False, "not worn enough", None)
    assert r["worn_hours"] == 10
    text = report.render(r)
    assert "Wed 2026-11-11     610 / 3,500  ███░░░░░░░░░░░░░░░░░   17%  not worn enough (0 h 40 min worn): left out" in text
    assert "1 day not worn, left out" in text
    # today (Wed 2026-11-18, synced at noon): 5 hours worn so far, it counts
    wed2 = r["days"][9]
    assert (wed2["date"], wed2["worn"], wed2["worn_note"]) == ("2026-11-18", True, "so far")
    # marked worn by hand: it counts again and the week misses its goal
    report.mark_day(d, "2026-11-11", True, now=datetime(2026, 11, 18, 13))
    r = report.build(d, week="2026-11-11", today=today)
    assert (r["weeks"][0]["average"], r["weeks"][0]["met"]) == (3173, False)


def test_a_day_synced_before_it_ended_is_not_judged_on_its_wear(tmp_path):
    # synced on the Wednesday at 9:00 (1 h of wear so far), never again: that day still counts
    d = Database(tmp_path / "p.db")
    with d.transaction():
        d.put_device("pico-a", INFO, datetime(2026, 11, 11, 9, 0))
        for i in range(10):
            rec = day(START + timedelta(i), 3000)
            rec["wear"] = wear(60 if i == 9 else 800)
            d.put_day("pico-a", rec, datetime(2026, 11, 11, 9, 0))
    r = report.build(d, week="2026-11-11", today=date(2026, 11, 20))
    assert r["days"][2]["worn_note"] == "so far" and r["days"][2]["worn"] is True


def test_the_chart_hatches_the_days_left_out(tmp_path):
    d = worn_db(tmp_path)
    r = report.build(d, weeks=3, today=TODAY)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = {}
    real_savefig = matplotlib.figure.Figure.savefig

    def keep(fig, *a, **k):
        bars = [p for p in fig.axes[0].patches]
        drawn["hatched"] = [i for i, b in enumerate(bars) if b.get_hatch()]
        drawn["legend"] = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        return real_savefig(fig, *a, **k)

    matplotlib.figure.Figure.savefig = keep
    try:
        report.plot_report(r, tmp_path / "c.png")
    finally:
        matplotlib.figure.Figure.savefig = real_savefig
        plt.close("all")
    # Wed 11 Nov (forgotten on the table) and Wed 18 Nov (5 hours worn, synced after it ended)
    assert drawn["hatched"] == [2, 9] and "not worn (left out)" in drawn["legend"]


def test_the_today_line_says_what_today_and_the_week_need(tmp_path):
    d = worn_db(tmp_path, synced=datetime(2026, 11, 18, 12, 0))
    now = datetime(2026, 11, 18, 13, 0)
    r = report.build(d, today=now.date(), now=now)
    t = r["today_needs"]
    # week 2 (goal 4,000) so far: 4,100 and 3,900; today 1,200; 5 days left with today
    assert t == {"date": "2026-11-18", "steps": 1200, "goal": 4000, "synced_today": True, "steps_to_goal": 2800,
                 "days_left": 5, "week_needs_a_day": 4000, "week_met_already": False}
    text = report.render(r)
    assert ("Today (Wed): 2,800 more steps for today's goal of 4,000 (1,200 so far); "
            "the week's goal needs 4,000 a day over the 5 days left (today included)") in text
    assert "Last synced: Wed 2026-11-18 12:00 (today)" in text
    assert text.index("Last synced") < text.index("Week 2") < text.index("Today (Wed)") < text.index("Next week")


def test_the_today_line_when_the_week_is_already_met_or_the_goal_met_today(tmp_path):
    d = Database(tmp_path / "m.db")
    fill(d, "pico-a", START, [3000] * 7 + [9000, 9000, 9000, 9000, 3600])
    now = datetime(2026, 11, 13, 20)
    r = report.build(d, today=now.date(), now=now)
    assert r["today_needs"]["week_met_already"] and r["today_needs"]["steps_to_goal"] == 0
    assert "Today (Fri): today's goal of 3,500 is met (3,600 steps); the week's goal is already met" in report.render(r)


def test_the_last_sync_line_says_to_sync_after_a_day(tmp_path):
    d = worn_db(tmp_path, synced=datetime(2026, 11, 16, 20, 0))
    now = datetime(2026, 11, 19, 9, 0)
    r = report.build(d, today=now.date(), now=now)
    assert r["sync_due"] and r["last_sync"] == "2026-11-16T20:00:00"
    text = report.render(r)
    assert "Last synced: Mon 2026-11-16 20:00 (3 days ago): plug the clip in and run `stepclip sync`" in text
    assert "Today (Thu): no steps synced yet today" in text
    r = report.build(d, today=date(2026, 11, 17), now=datetime(2026, 11, 17, 19, 0))
    assert not r["sync_due"] and "(yesterday)" in report.render(r) and "run `stepclip sync`" not in report.render(r)


def test_hold_and_step_back_are_recorded_and_shown(db):
    with pytest.raises(ValueError, match="baseline week"):
        report.plan_decision(db, "hold", today=START + timedelta(3))
    n = report.plan_decision(db, "hold", today=TODAY, now=WHEN)  # week 3, goal 4,000
    assert (n["goal"], n["decided"], n["event"]) == (4000, True, "hold")
    r = report.build(db, today=TODAY)
    assert r["weeks"][0]["event"] == "hold" and r["next_week"]["goal"] == 4000
    text = report.render(r)
    assert "Next week (from Mon 2026-11-30): 4,000 a day (held at this week's goal, as you chose)" in text
    assert "you chose to hold next week's goal" in text and text.count("not medical advice") == 1
    n = report.plan_decision(db, "step-back", today=TODAY, now=WHEN + timedelta(minutes=5))
    assert n["goal"] == 3500
    s = report.plan_summary(db, today=TODAY)
    assert [(h["kind"], h["week"], h["next_goal"]) for h in s["history"]] == [("hold", 3, None), ("step-back", 3, 3500)]
    plan_text = report.render_plan(s)
    assert "Wed 2026-11-25 (week 3): step back next week's goal: next week 3,500 a day" in plan_text
    assert "Next week (from Mon 2026-11-30): 3,500 a day (a step back from 4,000, as you chose)" in plan_text
    report.plan_decision(db, "resume", today=TODAY, now=WHEN + timedelta(minutes=9))
    assert report.build(db, today=TODAY)["next_week"]["goal"] == 4500

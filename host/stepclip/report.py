"""stepclip report, plan and export: the database's day records against the walking plan.

Every function takes an open store.Database; the CLI only parses its arguments
and calls them:

    stepclip plan [--age N | --target N] [--baseline N] [--start DATE] [--device ID]
        set_plan(db, device, age=, target=, baseline=, start=)   (only when something is given)
        print(render_plan(plan_summary(db, device)))            (--json: the dict)
    stepclip report [--week DATE] [--weeks N] [--json] [--plot FILE.png] [--device ID]
        r = build(db, device, week=, weeks=)
        print(json.dumps(r, indent=2) if --json else render(r))
        plot(db, device, FILE.png, weeks=, week=)
    stepclip export [--format csv] [--out FILE] [--device ID]
        export_csv(db, out_file, device)

Bad input (unknown device, empty database, bad value) raises ReportError, a
ValueError with a one-line message. Nothing here imports matplotlib until plot().
"""
import csv
from datetime import date, timedelta

from . import plan as walking

DISCLAIMER = "General guidance, not medical advice."
BAR_WIDTH = 20
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class ReportError(ValueError):
    """Bad input for a report (one line, shown to the user; exit status 2)."""


# --- inputs -------------------------------------------------------------------------------------


def resolve_device(db, device_id=None):
    """The given device if the database knows it, else the most recently synced one."""
    known = db.devices()
    if device_id is None:
        if not known:
            raise ReportError(f"no device in {db.path} yet: plug the clip in and run `stepclip sync`")
        return known[0]
    if device_id not in known:
        hint = f"known: {', '.join(known)}" if known else "it is empty: run `stepclip sync` first"
        raise ReportError(f"no device {device_id!r} in {db.path} ({hint})")
    return device_id


def _as_date(value, name):
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ReportError(f"{name}: not a date (YYYY-MM-DD): {value!r}") from None


def _as_count(value, name):
    if value is None or isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value).strip().replace(",", "").replace("_", ""))
    except ValueError:
        raise ReportError(f"{name}: not a whole number: {value!r}") from None


def _steps(daily):
    return {d: rec["steps"] for d, rec in daily.items()}


# --- the plan -----------------------------------------------------------------------------------

AUTO = "auto"  # a setting given as "auto" is cleared: derived again from the data


def set_plan(db, device_id=None, age=None, target=None, baseline=None, start=None):
    """Store the plan settings given (None: leave as it is; "auto": clear it).
    Values may be ints/dates or the strings from the command line. Setting an age
    clears a target set before (the target then follows the age); giving both is
    an error. Returns the device id."""
    device_id = resolve_device(db, device_id)
    if age is not None and target is not None and AUTO not in (age, target):
        raise ReportError("give --age or --target, not both (a target you set wins over the age)")
    changes = {}
    for name, value, parse in (("age", age, _as_count), ("target", target, _as_count), ("baseline", baseline, _as_count), ("start", start, _as_date)):
        if value is None:
            continue
        if isinstance(value, str) and value.strip().lower() in (AUTO, "none", ""):
            changes[name] = None
        else:
            changes[name] = parse(value, "--" + name)
    try:
        walking.check_settings(age=changes.get("age"), target=changes.get("target"), baseline=changes.get("baseline"))
    except ValueError as e:
        raise ReportError(str(e)) from None
    if changes.get("age") is not None and "target" not in changes:
        changes["target"] = None
    if isinstance(changes.get("start"), date):
        changes["start"] = changes["start"].isoformat()
    if changes:
        with db.transaction():
            db.set_plan(device_id, **changes)
    return device_id


def _plan_for(db, device_id, today):
    daily = db.daily(device_id)
    steps = _steps(daily)
    return daily, steps, walking.resolve(db.plan(device_id), steps, today)


def plan_summary(db, device_id=None, today=None):
    """For `stepclip plan`: the settings as stored, the plan they resolve to
    (baseline, target, start and where each came from), this week's and next
    week's goal. JSON-ready."""
    device_id = resolve_device(db, device_id)
    today = today or date.today()
    _, steps, p = _plan_for(db, device_id, today)
    this_week = None
    if p.start is not None and today >= p.start:
        this_week = walking.weeks(p, steps, today, first=walking.week_index(p, today))[-1].as_dict()
    return {
        "device": device_id,
        "today": today.isoformat(),
        "settings": db.plan(device_id),
        "plan": p.as_dict(),
        "this_week": this_week,
        "next_week": walking.next_goal(p, steps, today),
        "rules": (
            f"week 0 (7 days from the start) measures the baseline; week 1's daily goal is the baseline "
            f"+ {walking.STEP_UP}, rounded to the nearest {walking.ROUND_TO}; each week after it {walking.STEP_UP} "
            f"more, up to the target; a week whose goal is not met keeps it"
        ),
        "disclaimer": DISCLAIMER,
    }


def _plan_line(p):
    """One line: baseline, target, start and where they come from."""
    if p["baseline"] is None:
        base = "baseline: not yet (no data in the first week)"
    elif p["baseline_source"] == "set":
        base = f"baseline {p['baseline']:,} (set by you)"
    elif p["provisional"]:
        base = f"baseline {p['baseline']:,} (from {p['baseline_days']} day{'s' if p['baseline_days'] != 1 else ''} of the first week: provisional)"
    else:
        base = f"baseline {p['baseline']:,} (first week)"
    target = {
        "set": f"target {p['target']:,} (set by you)",
        "age": f"target {p['target']:,} (age {p['age']})",
        "default": f"target {p['target']:,} (under {walking.AGE_THRESHOLD}; set --age or --target)",
    }[p["target_source"]]
    if p["start"] is None:
        start = "starts with the first synced day"
    else:
        start = f"started {_day(p['start'])}" + (" (set by you)" if p["start_source"] == "set" else " (first day with data)")
    return f"{base}, {target}, {start}"


def _next_line(n, this_week_label="this week's"):
    if n is None:
        return "Next week: the plan starts with the first synced day"
    when = f"from {_day(n['start'])}"
    if n["index"] == 0:
        return f"Plan starts {when} with a baseline week: walk as usual"
    if n["goal"] is None:
        return f"Next week ({when}): the goal follows from the baseline week"
    if n["decided"]:
        tail = ""
        if n["index"] == 1 and n.get("this_goal") is None:
            tail = " (the baseline + 500)"
        return f"Next week ({when}): {n['goal']:,} a day{tail}"
    if n["index"] == 1:
        return f"Next week ({when}): {n['goal']:,} a day (the baseline + 500; provisional until the baseline week is over)"
    return (
        f"Next week ({when}): {n['goal']:,} a day if {this_week_label} average reaches {n['this_goal']:,}, "
        f"otherwise {n['goal_if_missed']:,} again"
    )


def render_plan(summary):
    """The text `stepclip plan` prints."""
    p = summary["plan"]
    lines = [f"Walking plan for {summary['device']}", "  " + _plan_line(p)]
    for note in p["notes"]:
        if note.endswith("provisional") or note.startswith("the ") or note.startswith("no data") or note.startswith("baseline:"):
            lines.append("  " + note)
    lines.append("  Rule: " + summary["rules"])
    w = summary["this_week"]
    if w is not None:
        label = f"This week (week {w['index']}, {_day(w['start'])} to {_day(w['end'])})"
        if w["goal"] is None:
            avg = f"{w['average']:,} a day so far" if w["average"] is not None else "no data yet"
            lines.append(f"{label}: baseline week, {avg}")
        else:
            avg = f", average so far {w['average']:,}" if w["average"] is not None else ", no data yet"
            lines.append(f"{label}: goal {w['goal']:,} a day{avg}")
    lines.append(_next_line(summary["next_week"]))
    lines.append(DISCLAIMER)
    return "\n".join(lines)


# --- the report ---------------------------------------------------------------------------------


def _day(iso):
    d = date.fromisoformat(iso) if isinstance(iso, str) else iso
    return f"{WEEKDAYS[d.weekday()]} {d.isoformat()}"


def _monday(d):
    return d - timedelta(d.weekday())


def build(db, device_id=None, week=None, weeks=1, today=None):
    """The report as a JSON-ready dict: the `weeks` plan weeks ending with the one
    holding `week` (a date or ISO string; default today), each day by day against
    its goal; the streak of weeks met up to the last complete one shown; next
    week's goal; the plan; unplaced steps; the disclaimer. `days` lists every day
    shown: date, weekday, steps (None: no data), goal, met, pct, brisk, future."""
    device_id = resolve_device(db, device_id)
    today = today or date.today()
    anchor = _as_date(week, "--week") or today
    n = _as_count(weeks, "--weeks")
    if n is None or n < 1 or n > 520:
        raise ReportError(f"--weeks must be between 1 and 520, not {weeks!r}")
    daily, steps, p = _plan_for(db, device_id, today)
    if p.start is not None:
        last = walking.week_index(p, anchor)
        all_weeks = walking.weeks(p, steps, anchor, first=min(0, last - n + 1), today=today)
        shown = [w for w in all_weeks if w.index > last - n]
        done = [w for w in all_weeks if w.index >= 1 and w.complete and w.goal is not None]
        streak = walking.streak([w for w in all_weeks if w.index >= 0])
        weeks_met, weeks_done = sum(1 for w in done if w.met), len(done)
        nxt = walking.next_goal(p, steps, today, week_of=anchor)
    else:  # no data and no start: calendar weeks, no goals
        first = _monday(anchor) - timedelta(7 * (n - 1))
        shown = [walking.summarize_week(None, first + timedelta(7 * i), None, steps, today) for i in range(n)]
        streak, nxt, weeks_met, weeks_done = 0, None, 0, 0
    out_weeks, out_days = [], []
    for w in shown:
        days = []
        brisk = 0
        for i in range(7):
            d = w.start + timedelta(i)
            rec = daily.get(d)
            s = rec["steps"] if rec else None
            if rec:
                brisk += rec["brisk"]
            days.append(
                {
                    "date": d.isoformat(),
                    "weekday": WEEKDAYS[d.weekday()],
                    "steps": s,
                    "goal": w.goal,
                    "met": None if w.goal is None or s is None else s >= w.goal,
                    "pct": None if not w.goal or s is None else round(100.0 * s / w.goal),
                    "brisk": rec["brisk"] if rec else None,
                    "future": d > today,
                }
            )
        item = w.as_dict()
        item.update(brisk_minutes=brisk, running=w.start <= today <= w.end, days=days)
        out_weeks.append(item)
        out_days.extend(days)
    unplaced = db.unplaced_steps(device_id)
    return {
        "device": device_id,
        "today": today.isoformat(),
        "week_of": anchor.isoformat(),
        "plan": p.as_dict(),
        "weeks": out_weeks,
        "days": out_days,
        "streak": streak,
        "weeks_met": weeks_met,  # complete weeks with a goal, up to the last shown, that met it
        "weeks_done": weeks_done,  # complete weeks with a goal, up to the last shown
        "next_week": nxt,
        "unplaced_steps": unplaced,
        "disclaimer": DISCLAIMER,
    }


def _bar(pct):
    if pct is None:
        return " " * BAR_WIDTH
    full = max(0, min(BAR_WIDTH, int(BAR_WIDTH * pct // 100)))  # full only at 100%
    return "█" * full + "░" * (BAR_WIDTH - full)


def _week_title(w):
    span = f"{_day(w['start'])} to {_day(w['end'])}"
    if w["index"] is None:
        return f"{span} (no plan yet)"
    if w["index"] < 0:
        return f"{span} (before the plan started)"
    if w["index"] == 0:
        return f"Week 0, the baseline week: {span}"
    return f"Week {w['index']}: {span}, goal {w['goal']:,} a day" if w["goal"] is not None else f"Week {w['index']}: {span}"


def _week_line(w):
    parts = []
    if w["average"] is None:
        parts.append("no data")
    elif w["goal"] is None:
        parts.append(f"average {w['average']:,} a day over {w['days_with_data']} day{'s' if w['days_with_data'] != 1 else ''} with data")
    else:
        verdict = ("met" if w["met"] else "not met") if w["complete"] else ("on track" if w["met"] else "below the goal so far")
        parts.append(
            f"average {w['average']:,} / {w['goal']:,} a day over {w['days_with_data']} day{'s' if w['days_with_data'] != 1 else ''} "
            f"with data: {verdict}"
        )
        parts.append(f"{w['days_met']} of 7 days met")
    parts.append(f"{w['brisk_minutes']:,} brisk minute{'s' if w['brisk_minutes'] != 1 else ''}")
    return "  Week: " + ", ".join(parts)


def render(report):
    """The terminal table of a report from build()."""
    steps_w = max([6] + [len(f"{d['steps']:,}") for d in report["days"] if d["steps"] is not None])
    lines = [f"stepclip report for {report['device']} ({_day(report['today'])})", "Plan: " + _plan_line(report["plan"])]
    p = report["plan"]
    if p["start"] is None:
        lines.append("No data yet: plug the clip in and run `stepclip sync`.")
    for w in report["weeks"]:
        lines.append("")
        lines.append(_week_title(w))
        for d in w["days"]:
            label = _day(d["date"])
            if d["steps"] is None:
                status = "" if d["future"] else "no data"
                goal = f" / {d['goal']:,}" if d["goal"] is not None else ""
                lines.append(f"  {label}  {'-':>{steps_w}}{goal}  {status}".rstrip())
            elif d["goal"] is None:
                lines.append(f"  {label}  {d['steps']:>{steps_w},}")
            else:
                mark = "  met" if d["met"] else ""
                if d["date"] == report["today"]:
                    mark += "  (today, so far)"
                lines.append(f"  {label}  {d['steps']:>{steps_w},} / {d['goal']:,}  {_bar(d['pct'])}  {d['pct']:>3}%{mark}")
        lines.append(_week_line(w))
    lines.append("")
    s = report["streak"]
    done = report["weeks_done"]
    tally = f" ({report['weeks_met']} of {done} complete week{'s' if done != 1 else ''} met)" if done else " (no complete week with a goal yet)"
    lines.append(f"Streak: {s} week{'s' if s != 1 else ''} in a row with the goal met{tally}")
    shown_last = report["weeks"][-1] if report["weeks"] else None
    label = "this week's" if shown_last and shown_last["running"] else "that week's"
    lines.append(_next_line(report["next_week"], label))
    if report["unplaced_steps"]:
        lines.append(
            f"Not on any date: {report['unplaced_steps']:,} steps counted while the clock was unset "
            "(a sync during that power-up would have placed them)"
        )
    lines.append(DISCLAIMER)
    return "\n".join(lines)


# --- the chart ----------------------------------------------------------------------------------


def plot(db, device_id, out_png, weeks=4, today=None, week=None):
    """Daily steps as bars over the `weeks` plan weeks ending with the one holding
    `week` (default today), the goal as a step line, the target dashed. Returns the
    report the chart was drawn from."""
    report = build(db, device_id, week=week, weeks=weeks, today=today)
    plot_report(report, out_png)
    return report


def plot_report(report, out_png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    days = report["days"]
    x = [date.fromisoformat(d["date"]) for d in days]
    xn = mdates.date2num(x)
    heights = [d["steps"] or 0 for d in days]
    colors = []
    for d in days:
        if d["goal"] is None:
            colors.append("#9e9e9e")  # baseline week / before the plan
        elif d["met"]:
            colors.append("#2e7d32")
        else:
            colors.append("#64b5f6")
    fig, ax = plt.subplots(figsize=(min(16.0, max(7.0, 0.22 * len(days) + 3)), 4.2))
    ax.bar(xn, heights, width=0.8 if len(days) <= 120 else 1.0, color=colors, zorder=2)
    # goal: one level per week, drawn as a step line over the week's bars
    gx, gy = [], []
    for w in report["weeks"]:
        gx.append(mdates.date2num(date.fromisoformat(w["start"])) - 0.5)
        gy.append(w["goal"] if w["goal"] is not None else float("nan"))
    if report["weeks"]:
        gx.append(mdates.date2num(date.fromisoformat(report["weeks"][-1]["end"])) + 0.5)
        gy.append(gy[-1])
    ax.plot(gx, gy, drawstyle="steps-post", color="black", lw=2, label="daily goal", zorder=3)
    target = report["plan"]["target"]
    ax.axhline(target, color="#c62828", ls="--", lw=1.2, label=f"target {target:,}", zorder=1)
    from matplotlib.patches import Patch

    handles, _ = ax.get_legend_handles_labels()
    if not any(g == g for g in gy):  # no goal shown: no goal line in the legend
        handles = [h for h in handles if h.get_label() != "daily goal"]
    with_data = [d for d in days if d["steps"] is not None]
    for color, label, used in (
        ("#2e7d32", "day met", any(d["met"] for d in with_data)),
        ("#64b5f6", "below goal", any(d["met"] is False for d in with_data)),
        ("#9e9e9e", "baseline week / no goal", any(d["goal"] is None for d in with_data)),
    ):
        if used:
            handles.append(Patch(color=color, label=label))
    ax.legend(handles=handles, loc="upper left", fontsize=8, ncol=2, framealpha=0.9)
    if not with_data:
        ax.text(0.5, 0.45, "no data in these weeks", transform=ax.transAxes, ha="center", va="center", color="#555555")
    top = max([target] + heights + [g for g in gy if g == g])
    ax.set_ylim(0, top * 1.4)  # room for the legend above the target line
    ax.set_xlim(xn[0] - 0.6, xn[-1] + 0.6)
    nweeks = len(report["weeks"])
    weekday = date.fromisoformat(report["weeks"][0]["start"]).weekday()
    ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=weekday, interval=max(1, -(-nweeks // 10))))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%a\n%d %b" if nweeks <= 10 else "%d %b\n%Y"))
    if len(days) <= 28:
        ax.xaxis.set_minor_locator(mdates.DayLocator())
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{int(v):,}"))
    ax.set_ylabel("steps a day")
    ax.set_xlabel("date (plan weeks start on the labelled days)" if nweeks <= 10 else "date")
    ax.grid(axis="y", color="#dddddd", zorder=0)
    first, last = days[0]["date"], days[-1]["date"]
    ax.set_title(f"Daily steps against the walking plan: {report['device']}, {first} to {last}", fontsize=10)
    fig.text(0.99, 0.01, DISCLAIMER, ha="right", va="bottom", fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(out_png, dpi=100)
    plt.close(fig)


# --- export -------------------------------------------------------------------------------------

CSV_FIELDS = ["date", "device", "steps", "brisk", "overruns"] + [f"h{h:02d}" for h in range(24)] + ["placed_steps", "includes_placed"]


def _dated_rows(db, device_id):
    # the records the device dated itself, with overruns (Database.daily leaves those out)
    rows = db.db.execute("SELECT date, overruns, steps FROM days WHERE device=?", (device_id,))
    return {date.fromisoformat(d): (overruns, steps) for d, overruns, steps in rows}


def export_csv(db, out, device_id=None):
    """Write every day record (all devices, or one) as CSV to the file object `out`:
    date, device, steps, brisk, overruns, h00..h23, placed_steps (steps counted while
    the clock was unset and placed on this date; included in steps and the hours),
    includes_placed (1 or 0). Sorted by device, then date. Returns the rows written."""
    devices = [resolve_device(db, device_id)] if device_id is not None else sorted(db.devices())
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    n = 0
    for dev in devices:
        dated = _dated_rows(db, dev)
        for d, rec in db.daily(dev).items():
            overruns, own = dated.get(d, (0, 0))
            placed = rec["steps"] - own
            w.writerow([d.isoformat(), dev, rec["steps"], rec["brisk"], overruns, *rec["hours"], placed, int(placed > 0)])
            n += 1
    return n

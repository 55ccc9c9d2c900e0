"""stepclip report, plan, day, share and export: a person's day records against the walking plan.

Every function takes an open store.Database; the CLI only parses its arguments
and calls them. The plan belongs to a person (person.py): a day's steps are the
sum over the person's devices. Who is meant: `person` (a name), else the person
`device_id` is attached to, else the wearer of the most recently synced device.

    stepclip plan [--age N | --target N] [--baseline N] [--start DATE] [--hold | --step-back | --resume]
        set_plan(db, device, age=, target=, baseline=, start=, person=)   (when a setting is given)
        plan_decision(db, kind, person=)                                  (--hold, --step-back, --resume)
        print(render_plan(plan_summary(db, device, person=)))            (--json: the dict)
    stepclip report [--week DATE] [--weeks N] [--json] [--plot FILE.png]
        r = build(db, device, week=, weeks=, person=)
        print(json.dumps(r, indent=2) if --json else render(r))
        plot(db, device, FILE.png, weeks=, week=, person=)
    stepclip day DATE [--worn | --not-worn | --auto]
        mark_day(db, DATE, worn, person=); print(render_day(day_info(db, DATE, person=)))
    stepclip export [--from DATE] [--to DATE] [--hourly] [--out FILE]
        export_csv(db, out_file, device, person=, first=, last=, hourly=)

Bad input (unknown person or device, empty database, bad value) raises
ReportError, a ValueError with a one-line message. Nothing here imports
matplotlib until plot().
"""
import csv
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from . import dates
from . import plan as walking
from .person import resolve_person

DISCLAIMER = "General guidance, not medical advice."
BAR_WIDTH = 20
NOT_WORN_COLOR = "#e0e0e0"  # chart: a day left out (not worn enough), hatched
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SYNC_DUE = timedelta(days=1)  # a last sync older than this: the report says to sync


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
    try:
        return dates.parse_date(value, name)
    except dates.DateError as e:
        raise ReportError(str(e)) from None


def as_count(value, name):
    if value is None or isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value).strip().replace(",", "").replace("_", ""))
    except ValueError:
        raise ReportError(f"{name}: not a whole number: {value!r}") from None


def clock(today=None, now=None):
    """(today, now): now defaults to the current time, or noon of `today` if given."""
    if now is None:
        now = datetime.now() if today is None else datetime.combine(today, time(12, 0))
    return (today or now.date()), now


@dataclass
class PersonData:
    """What the plan of one person is computed from."""

    pid: int
    name: str
    devices: list  # ids, most recently synced first
    daily: dict  # {date: {"steps", "brisk", "hours", "wear"}} summed over the devices
    counts: dict  # {date: (counts for the plan, why)} for every day with data
    steps: dict  # {date: steps}, every day with data
    counted: dict  # {date: steps}, the days that count (worn)
    plan: walking.Plan
    events: dict  # {week index: decision}
    last_sync: "datetime | None"


def person_data(db, person=None, device_id=None, today=None):
    """The PersonData of the person meant (see the module docstring), with the
    worn-day rule applied (plan.day_counts) as of `today`."""
    pid, name = _who(db, person, device_id)
    today = today or date.today()
    daily = db.person_daily(pid)
    marks = db.day_marks(pid)
    last_sync = db.last_sync(pid)
    counts = {}
    for d, rec in daily.items():
        wear = None if rec["wear"] is None else sum(rec["wear"])
        # final: over, and one of the person's clips was synced after it ended
        final = d < today and last_sync is not None and last_sync.date() > d
        counts[d] = walking.day_counts(wear, marks.get(d), final)
    steps = {d: rec["steps"] for d, rec in daily.items()}
    counted = {d: s for d, s in steps.items() if counts[d][0]}
    p = walking.resolve(db.plan(pid), counted, today, first_day=min(steps) if steps else None)
    events = walking.week_events(p, db.plan_events(pid))
    return PersonData(pid, name, db.person_devices(pid), daily, counts, steps, counted, p, events, last_sync)


# --- the plan -----------------------------------------------------------------------------------

AUTO = "auto"  # a setting given as "auto" is cleared: derived again from the data


def set_plan(db, device_id=None, age=None, target=None, baseline=None, start=None, person=None):
    """Store the plan settings given (None: leave as it is; "auto": clear it).
    Values may be ints/dates or the strings from the command line. Setting an age
    clears a target set before (the target then follows the age); giving both is
    an error. Returns {setting: value stored} of what was given."""
    pid, _ = _who(db, person, device_id)
    if age is not None and target is not None and AUTO not in (age, target):
        raise ReportError("give --age or --target, not both (a target you set wins over the age)")
    changes = {}
    for name, value, parse in (("age", age, as_count), ("target", target, as_count), ("baseline", baseline, as_count), ("start", start, _as_date)):
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
            db.set_plan(pid, **changes)
    return changes


def _who(db, person=None, device_id=None):
    try:
        return resolve_person(db, person, device_id)
    except ValueError as e:
        raise ReportError(str(e)) from None


def plan_decision(db, kind, device_id=None, person=None, today=None, now=None):
    """Record a decision for next week's goal, given today: "hold" (keep this
    week's goal), "step-back" (one step, 500, below it) or "resume" (the usual
    rule again). Returns next week's goal as next_goal() gives it. ReportError in
    the baseline week or before the plan (there is no goal to hold yet)."""
    if kind not in walking.EVENTS:
        raise ReportError(f"unknown plan decision {kind!r} (choose from {', '.join(walking.EVENTS)})")
    today, now = clock(today, now)
    data = person_data(db, person, device_id, today)
    p = data.plan
    k = walking.week_index(p, today)
    if k is None or k < 1 or p.baseline is None:
        raise ReportError("this week has no goal yet (the baseline week, or before the plan): nothing to hold or step back from")
    with db.transaction():
        db.add_plan_event(data.pid, today, kind, now)
    events = {**data.events, k: kind}
    return walking.next_goal(p, data.counted, today, events=events)


def plan_summary(db, device_id=None, today=None, person=None):
    """For `stepclip plan`: the settings as stored, the plan they resolve to
    (baseline, target, start and where each came from), this week's and next
    week's goal, the history of hold/step-back decisions. JSON-ready."""
    today = today or date.today()
    data = person_data(db, person, device_id, today)
    p = data.plan
    this_week = None
    if p.start is not None and today >= p.start:
        this_week = walking.weeks(p, data.counted, today, first=walking.week_index(p, today), events=data.events)[-1].as_dict()
    return {
        "person": data.name,
        "devices": data.devices,
        "device": data.devices[0] if data.devices else None,
        "today": today.isoformat(),
        "settings": db.plan(data.pid),
        "plan": p.as_dict(),
        "this_week": this_week,
        "next_week": walking.next_goal(p, data.counted, today, events=data.events),
        "history": history(db, data),
        "rules": (
            f"week 0 (7 days from the start) measures the baseline; week 1's daily goal is the baseline "
            f"+ {walking.STEP_UP}, rounded to the nearest {walking.ROUND_TO}; each week after it {walking.STEP_UP} "
            f"more, up to the target; a week whose goal is not met keeps it; days worn less than "
            f"{walking.WORN_HOURS} hours are left out"
        ),
        "disclaimer": DISCLAIMER,
    }


def history(db, data):
    """The plan decisions with the week they were given in and the goal they set."""
    p = data.plan
    out = []
    for e in db.plan_events(data.pid):
        item = dict(e)
        k = walking.week_index(p, date.fromisoformat(e["date"])) if p.start else None
        item["week"] = k
        item["next_goal"] = None
        if k is not None and k >= 1 and data.events.get(k) == e["kind"]:
            ws = walking.weeks(p, data.counted, walking.week_start(p, k + 1), first=k, events=data.events)
            item["next_goal"] = ws[-1].goal
        out.append(item)
    return out


def plan_line(p):
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


def next_line(n, this_week_label="this week's"):
    if n is None:
        return "Next week: the plan starts with the first synced day"
    when = f"from {_day(n['start'])}"
    if n["index"] == 0:
        return f"Plan starts {when} with a baseline week: walk as usual"
    if n["goal"] is None:
        return f"Next week ({when}): the goal follows from the baseline week"
    if n.get("event") == "hold":
        return f"Next week ({when}): {n['goal']:,} a day (held at this week's goal, as you chose)"
    if n.get("event") == "step-back":
        return f"Next week ({when}): {n['goal']:,} a day (a step back from {n['this_goal']:,}, as you chose)"
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
    devices = ", ".join(summary["devices"]) or "no device yet"
    lines = [f"Walking plan for {summary['person']} (device{'s' if len(summary['devices']) != 1 else ''}: {devices})", "  " + plan_line(p)]
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
    lines.append(next_line(summary["next_week"]))
    for e in summary["history"]:
        lines.append("  " + event_line(e))
    lines.append(DISCLAIMER)
    return "\n".join(lines)


_EVENT_WORDS = {"hold": "hold next week's goal", "step-back": "step back next week's goal", "resume": "back to the usual rule"}


def event_line(e):
    week = f" (week {e['week']})" if e.get("week") is not None else ""
    goal = f": next week {e['next_goal']:,} a day" if e.get("next_goal") is not None else ""
    return f"{_day(e['date'])}{week}: {_EVENT_WORDS.get(e['kind'], e['kind'])}{goal}"


# --- the report ---------------------------------------------------------------------------------


def _day(iso):
    d = date.fromisoformat(iso) if isinstance(iso, str) else iso
    return f"{WEEKDAYS[d.weekday()]} {d.isoformat()}"


def _monday(d):
    return d - timedelta(d.weekday())


def build(db, device_id=None, week=None, weeks=1, today=None, person=None, now=None):
    """The report as a JSON-ready dict: the `weeks` plan weeks ending with the one
    holding `week` (a date or ISO string; default today), each day by day against
    its goal; the streak of weeks met up to the last complete one shown; next
    week's goal; the plan; what today needs; the last sync; unplaced steps; the
    disclaimer. `days` lists every day shown: date, weekday, steps (None: no
    data), goal, met, pct, brisk, future, wear_minutes (None: no wear data), worn
    (counts for the plan; None without data) and worn_note (why)."""
    today, now = clock(today, now)
    anchor = _as_date(week, "--week") or today
    n = as_count(weeks, "--weeks")
    if n is None or n < 1 or n > 520:
        raise ReportError(f"--weeks must be between 1 and 520, not {weeks!r}")
    data = person_data(db, person, device_id, today)
    p, counted = data.plan, data.counted
    if p.start is not None:
        last = walking.week_index(p, anchor)
        all_weeks = walking.weeks(p, counted, anchor, first=min(0, last - n + 1), today=today, events=data.events)
        shown = [w for w in all_weeks if w.index > last - n]
        done = [w for w in all_weeks if w.index >= 1 and w.complete and w.goal is not None]
        streak = walking.streak([w for w in all_weeks if w.index >= 0])
        weeks_met, weeks_done = sum(1 for w in done if w.met), len(done)
        nxt = walking.next_goal(p, counted, today, week_of=anchor, events=data.events)
    else:  # no data and no start: calendar weeks, no goals
        first = _monday(anchor) - timedelta(7 * (n - 1))
        shown = [walking.summarize_week(None, first + timedelta(7 * i), None, counted, today) for i in range(n)]
        streak, nxt, weeks_met, weeks_done = 0, None, 0, 0
    out_weeks, out_days = [], []
    for w in shown:
        days = [_day_item(data, w.start + timedelta(i), w.goal, today) for i in range(7)]
        item = w.as_dict()
        item.update(
            brisk_minutes=sum(d["brisk"] or 0 for d in days),
            days_not_worn=sum(1 for d in days if d["worn"] is False),
            running=w.start <= today <= w.end,
            days=days,
        )
        out_weeks.append(item)
        out_days.extend(days)
    running = out_weeks[-1] if out_weeks and out_weeks[-1]["running"] else None
    return {
        "person": data.name,
        "devices": data.devices,
        "device": data.devices[0] if data.devices else None,
        "today": today.isoformat(),
        "week_of": anchor.isoformat(),
        "plan": p.as_dict(),
        "worn_hours": walking.WORN_HOURS,
        "weeks": out_weeks,
        "days": out_days,
        "streak": streak,
        "weeks_met": weeks_met,  # complete weeks with a goal, up to the last shown, that met it
        "weeks_done": weeks_done,  # complete weeks with a goal, up to the last shown
        "next_week": nxt,
        "today_needs": _today_needs(data, running, today) if running and p.start is not None else None,
        "last_sync": data.last_sync.isoformat(timespec="seconds") if data.last_sync else None,
        "sync_due": data.last_sync is None or now - data.last_sync > SYNC_DUE,
        "unplaced_steps": sum(db.unplaced_steps(dev) for dev in data.devices),
        "disclaimer": DISCLAIMER,
    }


def _day_item(data, d, goal, today):
    rec = data.daily.get(d)
    s = rec["steps"] if rec else None
    counts, why = data.counts.get(d, (None, None))
    wear = None if rec is None or rec["wear"] is None else sum(rec["wear"])
    return {
        "date": d.isoformat(),
        "weekday": WEEKDAYS[d.weekday()],
        "steps": s,
        "goal": goal,
        "met": None if goal is None or s is None or not counts else s >= goal,
        "pct": None if not goal or s is None else _pct(s, goal),
        "brisk": rec["brisk"] if rec else None,
        "future": d > today,
        "wear_minutes": wear,
        "worn": counts,
        "worn_note": why,
    }


def _pct(steps, goal):
    """Percent of the goal, rounded, but 100 only when the goal is met."""
    pct = round(100.0 * steps / goal)
    return min(pct, 99) if steps < goal else pct


def _today_needs(data, week, today):
    """What today and the rest of the running week need: JSON-ready dict."""
    rec = data.daily.get(today)
    synced_today = data.last_sync is not None and data.last_sync.date() >= today
    steps = rec["steps"] if rec else (0 if synced_today else None)
    goal = week["goal"]
    out = {"date": today.isoformat(), "steps": steps, "goal": goal, "synced_today": synced_today,
           "steps_to_goal": None, "days_left": None, "week_needs_a_day": None, "week_met_already": None}
    if goal is None:
        return out
    end = date.fromisoformat(week["end"])
    days_left = (end - today).days + 1  # today included
    before = [s for d, s in data.counted.items() if date.fromisoformat(week["start"]) <= d < today]
    need_total = goal * (len(before) + days_left) - sum(before)  # for the week's average to reach the goal
    out.update(
        steps_to_goal=None if steps is None else max(0, goal - steps),
        days_left=days_left,
        week_needs_a_day=max(0, math.ceil(need_total / days_left)),
        week_met_already=need_total <= 0,
    )
    return out


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


def _plural(n, word):
    return f"{n:,} {word}{'s' if n != 1 else ''}"


def _week_line(w):
    parts = []
    if w["average"] is None:
        parts.append("no data")
    elif w["goal"] is None:
        parts.append(f"average {w['average']:,} a day over {_plural(w['days_with_data'], 'day')} with data")
    else:
        verdict = ("met" if w["met"] else "not met") if w["complete"] else ("on track" if w["met"] else "below the goal so far")
        parts.append(f"average {w['average']:,} / {w['goal']:,} a day over {_plural(w['days_with_data'], 'day')} with data: {verdict}")
        parts.append(f"{w['days_met']} of 7 days met")
    if w["days_not_worn"]:
        parts.append(f"{_plural(w['days_not_worn'], 'day')} not worn, left out")
    parts.append(_plural(w["brisk_minutes"], "brisk minute"))
    if w.get("event") in ("hold", "step-back"):
        parts.append("you chose to " + _EVENT_WORDS[w["event"]])
    return "  Week: " + ", ".join(parts)


def _hours(minutes):
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _worn_note(d):
    if d["worn_note"] == "marked not worn":
        return "  marked not worn: left out"
    if d["worn_note"] == "not worn enough":
        return f"  not worn enough ({_hours(d['wear_minutes'])} worn): left out"
    return ""


def today_line(t):
    """One line: what today and the rest of the week need."""
    if t is None:
        return None
    label = f"Today ({WEEKDAYS[date.fromisoformat(t['date']).weekday()]})"
    if t["goal"] is None:
        so_far = f"{t['steps']:,} steps so far" if t["steps"] is not None else "no data yet today"
        return f"{label}: the baseline week, walk as usual ({so_far})"
    if t["steps"] is None:
        today = "no steps synced yet today"
    elif t["steps_to_goal"]:
        today = f"{t['steps_to_goal']:,} more steps for today's goal of {t['goal']:,} ({t['steps']:,} so far)"
    else:
        today = f"today's goal of {t['goal']:,} is met ({t['steps']:,} steps)"
    if t["week_met_already"]:
        week = "the week's goal is already met"
    elif t["days_left"] == 1:
        week = f"the week's goal needs {t['week_needs_a_day']:,} today"
    else:
        week = f"the week's goal needs {t['week_needs_a_day']:,} a day over the {t['days_left']} days left (today included)"
    return f"{label}: {today}; {week}"


def sync_line(report, now=None):
    last = report["last_sync"]
    if last is None:
        return "Never synced: plug the clip in and run `stepclip sync`."
    when = datetime.fromisoformat(last)
    today = date.fromisoformat(report["today"])
    days = (today - when.date()).days
    ago = "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"
    line = f"Last synced: {_day(when.date())} {when:%H:%M} ({ago})"
    if report["sync_due"]:
        line += ": plug the clip in and run `stepclip sync` to see the days since"
    return line


def render(report):
    """The terminal table of a report from build()."""
    steps_w = max([6] + [len(f"{d['steps']:,}") for d in report["days"] if d["steps"] is not None])
    lines = [f"stepclip report for {report['person']} ({_day(report['today'])})", "Plan: " + plan_line(report["plan"]), sync_line(report)]
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
                lines.append(f"  {label}  {d['steps']:>{steps_w},}{_worn_note(d)}")
            else:
                mark = "  met" if d["met"] else ""
                if d["date"] == report["today"]:
                    mark += "  (today, so far)"
                mark += _worn_note(d)
                lines.append(f"  {label}  {d['steps']:>{steps_w},} / {d['goal']:,}  {_bar(d['pct'])}  {d['pct']:>3}%{mark}")
        lines.append(_week_line(w))
    lines.append("")
    line = today_line(report["today_needs"])
    if line:
        lines.append(line)
    s = report["streak"]
    done = report["weeks_done"]
    tally = f" ({report['weeks_met']} of {done} complete week{'s' if done != 1 else ''} met)" if done else " (no complete week with a goal yet)"
    lines.append(f"Streak: {s} week{'s' if s != 1 else ''} in a row with the goal met{tally}")
    shown_last = report["weeks"][-1] if report["weeks"] else None
    label = "this week's" if shown_last and shown_last["running"] else "that week's"
    lines.append(next_line(report["next_week"], label))
    if report["unplaced_steps"]:
        lines.append(
            f"Not on any date: {report['unplaced_steps']:,} steps counted while the clock was unset "
            "(a sync during that power-up would have placed them)"
        )
    lines.append(DISCLAIMER)
    return "\n".join(lines)


# --- a day --------------------------------------------------------------------------------------


def mark_day(db, day, worn, device_id=None, person=None, now=None):
    """Mark `day` (date or ISO string) worn (True), not worn (False), or remove the
    mark (None: the wear data decides again). ReportError for a bad or future date."""
    d = _as_date(day, "DATE")
    now = now or datetime.now()
    if d > now.date():
        raise ReportError(f"DATE: {d.isoformat()} is in the future")
    pid, _ = _who(db, person, device_id)
    with db.transaction():
        db.mark_day(pid, d, worn, now)


def day_info(db, day, device_id=None, person=None, today=None):
    """One day of a person: steps, goal, met, wear time, whether it counts and why,
    the mark if any. JSON-ready."""
    d = _as_date(day, "DATE")
    today = today or date.today()
    data = person_data(db, person, device_id, today)
    goal = walking.goal_for(data.plan, data.counted, d, events=data.events) if data.plan.start else None
    item = _day_item(data, d, goal, today)
    item["person"] = data.name
    item["mark"] = db.day_marks(data.pid).get(d)
    return item


def render_day(item):
    if item["steps"] is None:
        line = f"{_day(item['date'])} ({item['person']}): no data"
    else:
        goal = f" of {item['goal']:,}" if item["goal"] is not None else ""
        line = f"{_day(item['date'])} ({item['person']}): {item['steps']:,} steps{goal}"
        if item["wear_minutes"] is not None:
            line += f", worn {_hours(item['wear_minutes'])}"
        note = {
            "worn": f"counts (worn {walking.WORN_HOURS} hours or more)",
            "not worn enough": f"not worn enough (under {walking.WORN_HOURS} hours): left out of the plan",
            "marked worn": "marked worn: counts",
            "marked not worn": "marked not worn: left out of the plan",
            "no wear data": "counts (no wear data from the clip)",
            "so far": "counts (the day's wear time is not final yet)",
        }[item["worn_note"]]
        line += f": {note}"
    if item["mark"] is not None and item["steps"] is None:
        line += f" (marked {'worn' if item['mark'] else 'not worn'})"
    return line


# --- the chart ----------------------------------------------------------------------------------


def plot(db, device_id, out_png, weeks=4, today=None, week=None, person=None):
    """Daily steps as bars over the `weeks` plan weeks ending with the one holding
    `week` (default today), the goal as a step line, the target dashed, days not
    worn enough hatched. Returns the report the chart was drawn from."""
    report = build(db, device_id, week=week, weeks=weeks, today=today, person=person)
    plot_report(report, out_png)
    return report


def plot_report(report, out_png, dpi=100, size=None, disclaimer=True):
    """Draw the chart of a report from build() into out_png (a path or a binary
    file); size: (width, height) in inches (default: wider with more days);
    disclaimer: print the not-medical-advice line under it."""
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
        if d["worn"] is False:
            colors.append(NOT_WORN_COLOR)  # left out of the plan
        elif d["goal"] is None:
            colors.append("#9e9e9e")  # baseline week / before the plan
        elif d["met"]:
            colors.append("#2e7d32")
        else:
            colors.append("#64b5f6")
    fig, ax = plt.subplots(figsize=size or (min(16.0, max(7.0, 0.22 * len(days) + 3)), 4.2))
    bars = ax.bar(xn, heights, width=0.8 if len(days) <= 120 else 1.0, color=colors, zorder=2)
    for bar, d in zip(bars, days):
        if d["worn"] is False:
            bar.set_hatch("///")
            bar.set_edgecolor("#757575")
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
        ("#9e9e9e", "baseline week / no goal", any(d["goal"] is None and d["worn"] for d in with_data)),
    ):
        if used:
            handles.append(Patch(color=color, label=label))
    if any(d["worn"] is False for d in with_data):
        handles.append(Patch(facecolor=NOT_WORN_COLOR, edgecolor="#757575", hatch="///", label="not worn (left out)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False)
    if not with_data:
        ax.text(0.5, 0.45, "no data in these weeks", transform=ax.transAxes, ha="center", va="center", color="#555555")
    top = max([target] + heights + [g for g in gy if g == g])
    ax.set_ylim(0, top * 1.12)
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
    ax.set_title(f"Daily steps against the walking plan: {report['person']}, {first} to {last}", fontsize=10)
    if disclaimer:
        fig.text(0.99, 0.01, DISCLAIMER, ha="right", va="bottom", fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.03 if disclaimer else 0, 1, 1))
    fig.savefig(out_png, dpi=dpi, format="png")
    plt.close(fig)


# --- export -------------------------------------------------------------------------------------

CSV_FIELDS = ["date", "steps", "goal", "met", "worn", "wear_minutes", "brisk"]
HOURLY_FIELDS = (["date", "device", "steps", "brisk", "overruns", "wear_minutes"] + [f"h{h:02d}" for h in range(24)]
                 + [f"wear_h{h:02d}" for h in range(24)] + ["placed_steps", "includes_placed"])


def _dated_rows(db, device_id):
    # the records the device dated itself, with overruns (Database.daily leaves those out)
    rows = db.db.execute("SELECT date, overruns, steps FROM days WHERE device=?", (device_id,))
    return {date.fromisoformat(d): (overruns, steps) for d, overruns, steps in rows}


def export_csv(db, out, device_id=None, person=None, first=None, last=None, hourly=False, today=None):
    """Write a person's days as CSV to the file object `out`, from `first` to `last`
    (dates or ISO strings, inclusive; default: all). Returns the rows written.

    Default, one row per day: date, steps (summed over the person's devices),
    goal (empty in the baseline week), met (1/0, empty without a goal or when the
    day does not count), worn (1: the day counts for the plan, 0: not worn
    enough or marked not worn), wear_minutes (empty without wear data), brisk.

    hourly=True, one row per device and day (one device with `device_id`): date,
    device, steps, brisk, overruns, wear_minutes, h00..h23 (steps per hour),
    wear_h00..wear_h23 (minutes worn per hour, empty without wear data),
    placed_steps (steps counted while the clock was unset and placed on this
    date; included in steps and the hours), includes_placed (1 or 0)."""
    first, last = _as_date(first, "--from"), _as_date(last, "--to")
    if first and last and first > last:
        raise ReportError(f"--from {first.isoformat()} is after --to {last.isoformat()}")
    today = today or date.today()
    w = csv.writer(out, lineterminator="\n")
    n = 0
    if hourly:
        w.writerow(HOURLY_FIELDS)
        data = person_data(db, person, device_id, today)
        devices = [device_id] if device_id is not None else sorted(data.devices)
        for dev in devices:
            dated = _dated_rows(db, dev)
            for d, rec in db.daily(dev, first, last).items():
                overruns, own = dated.get(d, (0, 0))
                placed = rec["steps"] - own
                wear = rec["wear"]
                w.writerow([d.isoformat(), dev, rec["steps"], rec["brisk"], overruns, "" if wear is None else sum(wear),
                            *rec["hours"], *(wear if wear is not None else [""] * 24), placed, int(placed > 0)])
                n += 1
        return n
    w.writerow(CSV_FIELDS)
    data = person_data(db, person, device_id, today)
    for d, rec in data.daily.items():
        if (first and d < first) or (last and d > last):
            continue
        goal = walking.goal_for(data.plan, data.counted, d, events=data.events) if data.plan.start else None
        counts = data.counts[d][0]
        met = "" if goal is None or not counts else int(rec["steps"] >= goal)
        wear = rec["wear"]
        w.writerow([d.isoformat(), rec["steps"], "" if goal is None else goal, met, int(counts),
                    "" if wear is None else sum(wear), rec["brisk"]])
        n += 1
    return n

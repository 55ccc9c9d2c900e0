"""The walking plan: baseline, weekly goals rising by 500 steps a day, the target.

Pure functions over {date: steps}; no database (report.py reads it and calls these).
The rules (from ../shared/reference/walking-plan.md and issue 4):

- Start: the plan start date set by the user, else the first day with data.
  Weeks run seven days from the start (week k: start + 7k ... start + 7k + 6),
  whatever weekday that is.
- Week 0 is the baseline week: it has no goal. The baseline is the average daily
  steps over the days of week 0 that have data (days without data are gaps, not
  zeros), unless the user set one. Fewer than seven days of data: the baseline
  is what there is, marked provisional.
- Target: the one the user set; else 8,000 under 60 and 6,000 from 60 when the
  user gave an age; else 8,000 (said so). 10,000 is never assumed.
- Week 1's daily goal is the baseline + 500, rounded to the nearest 50 steps
  (half up), and never above the target: a baseline at or above the target gives
  goal = target from week 1. Each following week's goal is 500 above the last,
  capped at the target, but a week whose goal was not met keeps its goal for the
  next week (the ramp then resumes from there).
- Met: the week's daily average over its days with data (rounded to whole steps,
  as shown) >= its goal. A week with no data is not met. A day is met when its
  steps >= the goal.
- Streak: consecutive met weeks, counting back from the last complete week (one
  whose last day is before today); the running week does not count yet.
- Worn days (issue 10): a day counts for the plan (its average, days met and
  the baseline) only when the clip was worn enough: at least WORN_HOURS hours of
  wear time, as the device measured it. Ten hours is the usual rule of
  accelerometer research for a valid day (Troiano et al. 2008, NHANES; Tudor-Locke
  et al.): a day with less wear misses steps that were walked, so it would pull
  the average below what the person really walks. A clip forgotten on a table
  shows at most about an hour (the device's hold after the last movement). A day
  without wear data (older firmware), a day whose data is not final yet (today,
  or last synced before it ended) counts as worn; a day marked by hand counts as
  the mark says. Such days are passed to these functions by leaving the
  not-worn days out of `daily`.
- Flare-ups: a plan decision given during week k sets week k+1's goal: "hold"
  keeps week k's goal, "step-back" goes one step (500) below it (last week's
  goal in the usual ramp; never below STEP_UP), "resume" cancels an earlier
  decision that week (the latest decision in a week counts). The ramp then
  carries on from that goal.
"""
import math
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

STEP_UP = 500  # steps a day added each week
ROUND_TO = 50  # goals are rounded to the nearest 50 steps
AGE_THRESHOLD = 60  # from this age, the lower target
TARGET_UNDER_60 = 8000
TARGET_FROM_60 = 6000
WEEK = 7
WORN_HOURS = 10  # wear time a day needs to count for the plan (see above)
EVENTS = ("hold", "step-back", "resume")

# limits for values the user sets (checked by check_settings)
AGE_RANGE = (1, 120)
TARGET_RANGE = (500, 30000)
BASELINE_RANGE = (0, 30000)


@dataclass(frozen=True)
class Plan:
    """The resolved plan. baseline is None while there is no data to derive it."""

    baseline: "int | None"
    target: int
    start: "date | None"
    age: "int | None" = None
    target_source: str = "default"  # "set" (by the user), "age", "default" (8,000: no age, no target)
    baseline_source: str = "none"  # "set", "first week", "none" (no data in the baseline week yet)
    start_source: str = "none"  # "set", "first data", "none" (no data and none set)
    baseline_days: int = 0  # days with data the derived baseline averages over
    notes: tuple = field(default=())

    @property
    def provisional(self):
        """A derived baseline from fewer than seven days of data."""
        return self.baseline_source == "first week" and self.baseline_days < WEEK

    def as_dict(self):
        d = asdict(self)
        d["start"] = self.start.isoformat() if self.start else None
        d["provisional"] = self.provisional
        d["notes"] = list(self.notes)
        d["first_goal"] = first_goal(self)
        return d


@dataclass
class Week:
    index: int  # 0 = baseline week; negative = before the plan start
    start: date
    end: date  # last day (inclusive)
    goal: "int | None"  # None: baseline week, before the plan, or no baseline yet
    days_with_data: int
    average: "int | None"  # daily average over the days with data (rounded), None if none
    met: "bool | None"  # None when there is no goal
    days_met: int
    complete: bool  # the week's last day is before today
    event: "str | None" = None  # plan decision given in this week (hold, step-back, resume)

    def as_dict(self):
        d = asdict(self)
        d["start"] = self.start.isoformat()
        d["end"] = self.end.isoformat()
        return d


def round_goal(steps):
    """Nearest multiple of ROUND_TO, halves up (3,225 -> 3,250; 3,224 -> 3,200)."""
    return int(math.floor(steps / ROUND_TO + 0.5)) * ROUND_TO


def _mean(values):
    values = list(values)
    return sum(values) / len(values) if values else None


def _round_half_up(x):
    return None if x is None else int(x + 0.5)


def target_for(age=None, target=None):
    """(target, source, note): an explicit target wins over age; no age: 8,000, said so."""
    if target is not None:
        return int(target), "set", f"target {int(target):,} (set by you)"
    if age is not None:
        if age < AGE_THRESHOLD:
            return TARGET_UNDER_60, "age", f"target {TARGET_UNDER_60:,} (age {age}: under {AGE_THRESHOLD})"
        return TARGET_FROM_60, "age", f"target {TARGET_FROM_60:,} (age {age}: {AGE_THRESHOLD} or over)"
    return TARGET_UNDER_60, "default", f"target {TARGET_UNDER_60:,} (under {AGE_THRESHOLD}; set --age or --target)"


def baseline_from(daily, start):
    """(baseline, days): average daily steps over the days with data in the 7 days
    from start; (None, 0) when none of them has data."""
    if start is None:
        return None, 0
    days = [daily[d] for d in (start + timedelta(i) for i in range(WEEK)) if d in daily]
    return _round_half_up(_mean(days)), len(days)


def resolve(settings, daily, today=None, first_day=None):
    """The Plan from the user's settings {age, target, baseline, start} (any may be
    None; start a date or ISO string) and the data {date: steps} of the days that
    count (worn). Without a start set, the plan starts on `first_day` (the first
    day with data, worn or not; default: the first day of `daily`)."""
    settings = settings or {}
    age, target, baseline, start = (settings.get(k) for k in ("age", "target", "baseline", "start"))
    if isinstance(start, str):
        start = date.fromisoformat(start)
    target, target_source, target_note = target_for(age, target)
    notes = [target_note]
    if first_day is None and daily:
        first_day = min(daily)
    if start is not None:
        start_source = "set"
    elif first_day is not None:
        start, start_source = first_day, "first data"
    else:
        start_source = "none"
    if baseline is not None:
        baseline, baseline_source, baseline_days = int(baseline), "set", 0
        notes.append(f"baseline {baseline:,} (set by you)")
    else:
        baseline, baseline_days = baseline_from(daily, start)
        baseline_source = "first week" if baseline is not None else "none"
        if baseline is None:
            if start is None:
                notes.append("no data yet: sync the clip")
            elif today is not None and start > today:
                notes.append(f"the plan starts on {start.isoformat()}")
            else:
                notes.append(f"baseline: no data yet in the first week ({_span(start)})")
        elif baseline_days < WEEK:
            notes.append(
                f"baseline {baseline:,} from {baseline_days} day{'s' if baseline_days != 1 else ''} of data "
                f"in the first week ({_span(start)}): provisional"
            )
        else:
            notes.append(f"baseline {baseline:,} (the first week, {_span(start)})")
    if baseline is not None and baseline >= target:
        notes.append(f"the baseline is at or above the target: the goal is the target, {target:,}")
    return Plan(baseline, target, start, age, target_source, baseline_source, start_source, baseline_days, tuple(notes))


def _span(start):
    return f"{start.isoformat()} to {(start + timedelta(WEEK - 1)).isoformat()}"


def first_goal(plan):
    """Week 1's daily goal, or None without a baseline."""
    if plan.baseline is None:
        return None
    return min(plan.target, round_goal(plan.baseline + STEP_UP))


def week_index(plan, day):
    """The plan week holding day (0 = baseline week, negative before the start), None without a start."""
    if plan.start is None:
        return None
    return (day - plan.start).days // WEEK


def week_start(plan, index):
    return plan.start + timedelta(WEEK * index)


def summarize_week(index, start, goal, daily, today):
    """The Week of seven days from start with this goal (None: no goal)."""
    end = start + timedelta(WEEK - 1)
    steps = [daily[d] for d in (start + timedelta(i) for i in range(WEEK)) if d in daily]
    avg = _round_half_up(_mean(steps))  # whole steps: "met" agrees with the average shown
    if goal is None:
        met = None
        days_met = 0
    else:
        met = avg is not None and avg >= goal
        days_met = sum(1 for s in steps if s >= goal)
    complete = end < today
    return Week(index, start, end, goal, len(steps), avg, met, days_met, complete)


def week_events(plan, events):
    """{week index: kind} from plan decisions [{"date", "kind"}...] in the order
    they were given: the latest decision in each week."""
    out = {}
    if plan.start is None:
        return out
    for e in events or ():
        day = e["date"] if isinstance(e["date"], date) else date.fromisoformat(e["date"])
        out[week_index(plan, day)] = e["kind"]
    return out


def following_goal(plan, week, event=None):
    """The goal of the week after `week` (which has a goal): held, stepped back,
    or by the usual rule (500 up if met, capped at the target; else the same)."""
    if event == "hold":
        return week.goal
    if event == "step-back":
        return max(STEP_UP, week.goal - STEP_UP)
    return min(plan.target, week.goal + STEP_UP) if week.met else week.goal


def weeks(plan, daily, until, first=None, today=None, events=None):
    """Weeks from the plan start (or from week index `first`, which may be negative
    for weeks before the start) through the week holding `until`. A week is
    `complete` when its last day is before `today` (default: until); a running
    week counts its days with data so far. `events` is {week index: decision}
    (week_events)."""
    if plan.start is None:
        return []
    events = events or {}
    today = until if today is None else today
    last = week_index(plan, until)
    lo = 0 if first is None else first
    out = []
    goal = None
    for k in range(min(lo, 0), last + 1):
        if k < 1:
            goal = None
        elif k == 1 or goal is None:
            goal = first_goal(plan)
        else:
            goal = following_goal(plan, out[-1], events.get(k - 1))
        w = summarize_week(k, week_start(plan, k), goal, daily, today)
        w.event = events.get(k)
        out.append(w)
    return [w for w in out if w.index >= lo]


def goal_for(plan, daily, day, events=None):
    """The daily goal on `day` (None in the baseline week, before the start, or
    without a baseline). It depends only on the weeks before day's week; for a day
    weeks ahead, the weeks in between count as they are in `daily` (no data: not
    met), so use next_goal for the coming week."""
    k = week_index(plan, day)
    if k is None or k < 1:
        return None
    return weeks(plan, daily, day, events=events)[-1].goal


def next_goal(plan, daily, today, week_of=None, events=None):
    """The goal of the week after the one holding `week_of` (default: today), as a
    dict: index, start (ISO), goal (if that week's goal is met), goal_if_missed,
    decided (the week is over, or both are the same, or a hold or step-back
    decided it: then goal is the goal), this_goal (that week's goal), event (the
    decision given in that week, or None). None when there is no start yet."""
    if plan.start is None:
        return None
    events = events or {}
    day = today if week_of is None else week_of
    k = week_index(plan, day) + 1
    start = week_start(plan, max(k, 0)).isoformat()
    out = {"index": k, "start": start, "goal": None, "goal_if_missed": None, "decided": False, "this_goal": None, "event": None}
    if k <= 0:  # before the start: the plan starts with its baseline week
        out.update(index=0, decided=True)
        return out
    cur = weeks(plan, daily, day, first=k - 1, today=today, events=events)[-1]
    if k == 1:
        g = first_goal(plan)
        decided = plan.baseline_source == "set" or cur.complete or g == plan.target
        out.update(goal=g, goal_if_missed=g, decided=decided and g is not None)
        return out
    if cur.goal is None:  # no baseline yet
        return out
    out.update(this_goal=cur.goal, event=cur.event)
    if cur.event in ("hold", "step-back"):
        g = following_goal(plan, cur, cur.event)
        out.update(goal=g, goal_if_missed=g, decided=True)
        return out
    up = min(plan.target, cur.goal + STEP_UP)
    if cur.complete or up == cur.goal:
        g = up if cur.met else cur.goal
        out.update(goal=g, goal_if_missed=g, decided=True)
        return out
    out.update(goal=up, goal_if_missed=cur.goal)
    return out


def day_counts(wear_minutes, mark=None, final=True):
    """(counts, why) for a day with data: does it count for the plan?

    wear_minutes: minutes worn that day (None: no wear data); mark: True/False
    when the person marked the day worn/not worn by hand (wins), else None;
    final: the day is over and was synced after it ended (a running or partly
    synced day counts: its wear is not known yet). why is "marked worn",
    "marked not worn", "worn" (enough wear time), "not worn enough", "no wear
    data" or "so far"."""
    if mark is not None:
        return bool(mark), "marked worn" if mark else "marked not worn"
    if wear_minutes is None:
        return True, "no wear data"
    if not final:
        return True, "so far"
    if wear_minutes >= 60 * WORN_HOURS:
        return True, "worn"
    return False, "not worn enough"


def streak(weeks_list):
    """Consecutive met weeks ending at the last complete week with a goal."""
    n = 0
    for w in reversed([w for w in weeks_list if w.complete]):
        if w.goal is None:
            break
        if not w.met:
            break
        n += 1
    return n


def check_settings(age=None, target=None, baseline=None):
    """ValueError with a one-line message for values out of range."""
    for name, v, (lo, hi) in (("--age", age, AGE_RANGE), ("--target", target, TARGET_RANGE), ("--baseline", baseline, BASELINE_RANGE)):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{name} must be a whole number, not {v!r}")
        if not lo <= v <= hi:
            raise ValueError(f"{name} must be between {lo:,} and {hi:,}, not {v:,}")

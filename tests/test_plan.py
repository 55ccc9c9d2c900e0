"""The walking plan arithmetic (host/stepclip/plan.py): pure functions over {date: steps}."""
from datetime import date, timedelta

import pytest

from stepclip import plan as wp

START = date(2026, 11, 2)  # a Monday


def days(start, values):
    """{date: steps} from a list; None leaves the day out (no data)."""
    return {start + timedelta(i): v for i, v in enumerate(values) if v is not None}


def week_of(value, n=7):
    return [value] * n


def goals(p, daily, until):
    return [w.goal for w in wp.weeks(p, daily, until)]


# --- target ---------------------------------------------------------------------------------------


def test_age_threshold():
    assert wp.target_for(age=59)[:2] == (8000, "age")
    assert wp.target_for(age=60)[:2] == (6000, "age")
    assert wp.target_for(age=85)[:2] == (6000, "age")
    assert wp.target_for(age=30)[:2] == (8000, "age")


def test_no_age_no_target_is_8000_and_says_so():
    target, source, note = wp.target_for()
    assert (target, source) == (8000, "default")
    assert note == "target 8,000 (under 60; set --age or --target)"
    p = wp.resolve({}, days(START, week_of(3000)), START + timedelta(7))
    assert p.target == 8000 and p.target_source == "default"
    assert "target 8,000 (under 60; set --age or --target)" in p.notes


def test_ten_thousand_is_never_assumed():
    for age in (None, 20, 59, 60, 90):
        assert wp.target_for(age=age)[0] != 10000


def test_explicit_target_overrides_age():
    assert wp.target_for(age=65, target=7000)[:2] == (7000, "set")
    assert wp.target_for(age=30, target=5000)[:2] == (5000, "set")
    p = wp.resolve({"age": 65, "target": 7000}, days(START, week_of(6500)), START + timedelta(30))
    assert p.target == 7000
    assert goals(p, days(START, week_of(6500) + week_of(9000, 21)), START + timedelta(27)) == [None, 7000, 7000, 7000]


def test_age_60_caps_the_ramp_at_6000():
    daily = days(START, week_of(4900) + week_of(9000, 35))
    p = wp.resolve({"age": 60}, daily, START + timedelta(41))
    assert goals(p, daily, START + timedelta(41)) == [None, 5400, 5900, 6000, 6000, 6000]
    p59 = wp.resolve({"age": 59}, daily, START + timedelta(41))
    assert goals(p59, daily, START + timedelta(41)) == [None, 5400, 5900, 6400, 6900, 7400]


# --- baseline -------------------------------------------------------------------------------------


def test_baseline_is_the_first_weeks_average():
    daily = days(START, [3000, 3100, 3200, 3300, 3400, 3500, 3600, 9999])  # day 8 is week 1
    p = wp.resolve({}, daily, START + timedelta(8))
    assert p.baseline == 3300 and p.baseline_days == 7
    assert p.baseline_source == "first week" and not p.provisional
    assert p.start == START and p.start_source == "first data"


def test_baseline_with_fewer_than_seven_days_is_provisional():
    daily = days(START, [2000, 3000, 4001])
    p = wp.resolve({}, daily, START + timedelta(2))
    assert p.baseline == 3000  # (2000 + 3000 + 4001) / 3 = 3000.33: rounded
    assert p.baseline_days == 3 and p.provisional
    assert any("provisional" in n for n in p.notes)
    assert wp.first_goal(p) == 3500


def test_baseline_set_by_user_wins():
    daily = days(START, week_of(3000))
    p = wp.resolve({"baseline": 1000}, daily, START + timedelta(7))
    assert p.baseline == 1000 and p.baseline_source == "set" and not p.provisional
    assert wp.first_goal(p) == 1500


def test_data_before_the_plan_start_is_not_the_baseline():
    daily = days(START, week_of(9000) + week_of(2000))
    p = wp.resolve({"start": (START + timedelta(7)).isoformat()}, daily, START + timedelta(14))
    assert p.start == START + timedelta(7) and p.start_source == "set"
    assert p.baseline == 2000


def test_rounding_goals_to_the_nearest_50():
    assert wp.round_goal(3225) == 3250  # halves up
    assert wp.round_goal(3224) == 3200
    assert wp.round_goal(3274.6) == 3250
    assert wp.round_goal(3275) == 3300
    p = wp.resolve({"baseline": 3226}, {}, START)
    assert wp.first_goal(p) == 3750  # 3,726 -> 3,750
    assert all(g % 50 == 0 for g in goals(p, days(START, week_of(9000, 42)), START + timedelta(41))[1:])


# --- the ramp -------------------------------------------------------------------------------------


def test_ramp_500_a_week_when_every_week_is_met():
    # walk each week's goal exactly (met is >=)
    daily = days(START, week_of(3000))
    p = wp.resolve({}, daily, START)
    for k in range(1, 6):
        g = 3000 + 500 * k
        daily.update(days(START + timedelta(7 * k), week_of(g)))
    until = START + timedelta(6 * 7 - 1)
    ws = wp.weeks(p, daily, until, today=until + timedelta(1))
    assert [w.goal for w in ws] == [None, 3500, 4000, 4500, 5000, 5500]
    assert all(w.met for w in ws[1:])
    assert all(w.days_met == 7 for w in ws[1:])
    assert ws[0].met is None and ws[0].average == 3000


def test_cap_at_the_target():
    daily = days(START, week_of(6800) + week_of(9000, 35))
    p = wp.resolve({}, daily, START + timedelta(41))
    assert goals(p, daily, START + timedelta(41)) == [None, 7300, 7800, 8000, 8000, 8000]


def test_a_missed_week_keeps_its_goal_and_the_ramp_resumes():
    weekly = [3000, 3500, 3900, 4000, 4500, 4400, 4500, 5000]
    # week 0 baseline 3,000; week 1 goal 3,500 met; week 2 goal 4,000 missed (3,900);
    # week 3 goal 4,000 again, met; week 4 4,500 met; week 5 5,000 missed; week 6 5,000 missed (4,500); week 7 5,000 met
    daily = {}
    for k, v in enumerate(weekly):
        daily.update(days(START + timedelta(7 * k), week_of(v)))
    p = wp.resolve({}, daily, START)
    until = START + timedelta(7 * len(weekly) - 1)
    ws = wp.weeks(p, daily, until, today=until + timedelta(1))
    assert [w.goal for w in ws] == [None, 3500, 4000, 4000, 4500, 5000, 5000, 5000]
    assert [w.met for w in ws] == [None, True, False, True, True, False, False, True]
    assert wp.next_goal(p, daily, until + timedelta(1), week_of=until)["goal"] == 5500


def test_a_week_without_data_is_not_met_and_keeps_its_goal():
    daily = days(START, week_of(3000) + week_of(3500) + [None] * 7 + week_of(4000))
    p = wp.resolve({}, daily, START)
    ws = wp.weeks(p, daily, START + timedelta(27), today=START + timedelta(28))
    assert [w.goal for w in ws] == [None, 3500, 4000, 4000]
    assert ws[2].days_with_data == 0 and ws[2].average is None and ws[2].met is False
    assert ws[3].met


def test_gaps_are_not_zeros():
    # week 1: goal 3,500; only three days with data, all 3,600: met (4 days missing are not 0)
    daily = days(START, week_of(3000) + [3600, None, 3600, None, None, 3600, None])
    p = wp.resolve({}, daily, START)
    w1 = wp.weeks(p, daily, START + timedelta(13), today=START + timedelta(14))[1]
    assert w1.days_with_data == 3 and w1.average == 3600 and w1.met and w1.days_met == 3
    # baseline with gaps: average over the days that have data
    daily = days(START, [2000, None, None, 4000, None, None, None])
    p = wp.resolve({}, daily, START + timedelta(7))
    assert p.baseline == 3000 and p.baseline_days == 2 and p.provisional


def test_baseline_above_the_target_gives_the_target_from_week_1():
    daily = days(START, week_of(9500) + week_of(7000) + week_of(9000))
    p = wp.resolve({}, daily, START)
    assert p.baseline == 9500
    ws = wp.weeks(p, daily, START + timedelta(20), today=START + timedelta(21))
    assert [w.goal for w in ws] == [None, 8000, 8000]
    assert [w.met for w in ws[1:]] == [False, True]
    assert any("above the target" in n for n in p.notes)
    # just below: + 500 would pass the target, so the target
    p = wp.resolve({"baseline": 7700}, {}, START)
    assert wp.first_goal(p) == 8000
    p = wp.resolve({"baseline": 7000, "age": 70}, {}, START)
    assert wp.first_goal(p) == 6000


def test_no_data_at_all():
    today = date(2026, 11, 27)
    p = wp.resolve({}, {}, today)
    assert p.baseline is None and p.start is None and p.start_source == "none"
    assert any("no data" in n for n in p.notes)
    assert wp.weeks(p, {}, today) == []
    assert wp.next_goal(p, {}, today) is None
    assert wp.goal_for(p, {}, today) is None
    assert wp.streak([]) == 0
    assert wp.first_goal(p) is None


def test_start_set_but_no_data_yet():
    p = wp.resolve({"start": START.isoformat()}, {}, START + timedelta(10))
    assert p.baseline is None and p.start == START
    ws = wp.weeks(p, {}, START + timedelta(10))
    assert [w.goal for w in ws] == [None, None]
    assert wp.next_goal(p, {}, START + timedelta(10))["goal"] is None


def test_a_future_start():
    today = START
    start = START + timedelta(10)
    daily = days(START, [4000, 4200])  # before the plan: ignored
    p = wp.resolve({"start": start.isoformat()}, daily, today)
    assert p.baseline is None and p.start == start
    assert any("starts on" in n for n in p.notes)
    assert wp.weeks(p, daily, today) == []
    n = wp.next_goal(p, daily, today)
    assert n["index"] == 0 and n["start"] == start.isoformat() and n["goal"] is None
    assert wp.goal_for(p, daily, today) is None


# --- streak, next goal, goal_for ------------------------------------------------------------------


def test_streak_counts_complete_met_weeks_back_from_the_last_one():
    weekly = [3000, 3000, 3500, 4000, 4500]  # week 1 missed (goal 3,500), then met thrice
    daily = {}
    for k, v in enumerate(weekly):
        daily.update(days(START + timedelta(7 * k), week_of(v)))
    p = wp.resolve({}, daily, START)
    end = START + timedelta(7 * len(weekly) - 1)
    assert wp.streak(wp.weeks(p, daily, end, today=end + timedelta(1))) == 3
    # the running week (met so far) does not count yet
    daily.update(days(end + timedelta(1), [9000, 9000]))
    today = end + timedelta(2)
    ws = wp.weeks(p, daily, today)
    assert ws[-1].met and not ws[-1].complete
    assert wp.streak(ws) == 3
    # in week 2, the last complete week (1) was missed; in week 3, week 2 was met
    assert wp.streak(wp.weeks(p, daily, START + timedelta(15))) == 0
    assert wp.streak(wp.weeks(p, daily, START + timedelta(22))) == 1


def test_next_goal_in_a_running_week_depends_on_it():
    daily = days(START, week_of(3000) + week_of(3500) + [4200, 3000])
    p = wp.resolve({}, daily, START)
    today = START + timedelta(15)  # week 2, goal 4,000, two days so far
    n = wp.next_goal(p, daily, today)
    assert n == {"index": 3, "start": (START + timedelta(21)).isoformat(), "goal": 4500, "goal_if_missed": 4000, "decided": False, "this_goal": 4000, "event": None}
    # once the week is over it is decided: missed (average 3,600)
    n = wp.next_goal(p, daily, START + timedelta(21), week_of=today)
    assert n["decided"] and n["goal"] == n["goal_if_missed"] == 4000
    # at the target it is decided whatever happens
    daily = days(START, week_of(8000) + [8000])
    p = wp.resolve({}, daily, START)
    n = wp.next_goal(p, daily, START + timedelta(8))
    assert n["decided"] and n["goal"] == 8000


def test_next_goal_in_the_baseline_week_is_provisional():
    daily = days(START, [3000, 3100])
    p = wp.resolve({}, daily, START + timedelta(1))
    n = wp.next_goal(p, daily, START + timedelta(1))
    assert n["index"] == 1 and n["goal"] == 3550 and not n["decided"]  # 3,050 + 500
    p = wp.resolve({"baseline": 3000}, daily, START + timedelta(1))
    n = wp.next_goal(p, daily, START + timedelta(1))
    assert n["goal"] == 3500 and n["decided"]


def test_goal_for_a_day():
    daily = days(START, week_of(3000) + week_of(3600) + week_of(3000))
    p = wp.resolve({}, daily, START)
    assert wp.goal_for(p, daily, START) is None  # baseline week
    assert wp.goal_for(p, daily, START - timedelta(1)) is None  # before the plan
    assert wp.goal_for(p, daily, START + timedelta(8)) == 3500
    assert wp.goal_for(p, daily, START + timedelta(14)) == 4000
    assert wp.goal_for(p, daily, START + timedelta(21)) == 4000  # week 2 missed


def test_weeks_before_the_start_have_no_goal():
    daily = days(START, week_of(3000) + week_of(3500))
    p = wp.resolve({}, daily, START)
    ws = wp.weeks(p, daily, START + timedelta(13), first=-2)
    assert [w.index for w in ws] == [-2, -1, 0, 1]
    assert [w.goal for w in ws] == [None, None, None, 3500]
    assert ws[0].start == START - timedelta(14)


def test_weeks_start_on_the_plan_start_weekday():
    start = date(2026, 11, 5)  # a Thursday
    p = wp.resolve({"start": start.isoformat()}, days(start, week_of(3000)), start)
    ws = wp.weeks(p, days(start, week_of(3000)), start + timedelta(9))
    assert [(w.start, w.end) for w in ws] == [(start, start + timedelta(6)), (start + timedelta(7), start + timedelta(13))]


def test_plan_as_dict_is_json_ready():
    import json

    p = wp.resolve({"age": 61}, days(START, [3000, 3000]), START + timedelta(1))
    d = json.loads(json.dumps(p.as_dict()))
    assert d["start"] == START.isoformat() and d["target"] == 6000 and d["target_source"] == "age"
    assert d["provisional"] is True and d["first_goal"] == 3500


@pytest.mark.parametrize(
    "kw, message",
    [({"age": 0}, "--age"), ({"age": 200}, "--age"), ({"target": 100}, "--target"), ({"baseline": -5}, "--baseline"), ({"target": 7.5}, "whole number")],
)
def test_check_settings(kw, message):
    with pytest.raises(ValueError, match=message):
        wp.check_settings(**kw)
    wp.check_settings(age=60, target=6000, baseline=0)


def test_met_compares_the_average_as_shown():
    # week 1 goal 3,500: an average of 3,499.6 shows as 3,500 and is met; 3,499.4 is not
    daily = days(START, week_of(3000) + [3500, 3500, 3500, 3499, 3499])
    p = wp.resolve({}, daily, START)
    w = wp.weeks(p, daily, START + timedelta(13), today=START + timedelta(14))[1]
    assert (w.average, w.met, w.days_met) == (3500, True, 3)
    daily = days(START, week_of(3000) + [3500, 3500, 3499, 3499, 3499])
    w = wp.weeks(p, daily, START + timedelta(13), today=START + timedelta(14))[1]
    assert (w.average, w.met) == (3499, False)


# --- worn days (issue 10) -------------------------------------------------------------------------


def test_a_day_counts_with_ten_hours_of_wear_or_without_wear_data():
    assert wp.WORN_HOURS == 10
    assert wp.day_counts(600) == (True, "worn")
    assert wp.day_counts(599) == (False, "not worn enough")
    assert wp.day_counts(0) == (False, "not worn enough")
    assert wp.day_counts(None) == (True, "no wear data")  # older firmware: worn unless marked
    assert wp.day_counts(30, final=False) == (True, "so far")  # today, or synced before it ended
    assert wp.day_counts(900, mark=False) == (False, "marked not worn")  # the mark wins
    assert wp.day_counts(30, mark=True) == (True, "marked worn")
    assert wp.day_counts(None, mark=False) == (False, "marked not worn")


def test_a_day_left_out_does_not_pull_the_week_below_its_goal():
    # week 1 (goal 3,500): six days of 3,600 and the clip forgotten on the table one day (600 steps)
    week1 = [3600, 3600, 600, 3600, 3600, 3600, 3600]
    daily = days(START, week_of(3000) + week1)
    counted = {d: s for d, s in daily.items() if s != 600}
    p = wp.resolve({}, counted, START, first_day=min(daily))
    until = START + timedelta(13)
    all_in = wp.weeks(wp.resolve({}, daily, START), daily, until, today=until + timedelta(1))[1]
    assert (all_in.average, all_in.met) == (3171, False)  # counted as a day: the week fails
    w = wp.weeks(p, counted, until, today=until + timedelta(1))[1]
    assert (w.average, w.days_with_data, w.met, w.days_met) == (3600, 6, True, 6)
    assert wp.next_goal(p, counted, until + timedelta(1), week_of=until)["goal"] == 4000


def test_a_baseline_day_not_worn_is_left_out_of_the_baseline_but_not_the_start():
    daily = days(START, [200, 3000, 3000, 3000, 3000, 3000, 3000])
    counted = {d: s for d, s in daily.items() if s != 200}
    p = wp.resolve({}, counted, START + timedelta(6), first_day=min(daily))
    assert p.start == START and p.baseline == 3000 and p.baseline_days == 6


# --- hold and step back (issue 10) ---------------------------------------------------------------


def ramp(weeks_met, value_for=lambda k: 3000 + 500 * k):
    """Each week walks its ramp goal exactly: met."""
    daily = {}
    for k in range(weeks_met + 1):
        daily.update(days(START + timedelta(7 * k), week_of(value_for(k))))
    return daily


def test_hold_keeps_this_weeks_goal_next_week_and_the_ramp_resumes():
    daily = ramp(5, lambda k: 3000 + 500 * min(k, 2))  # weeks 3+ walk 4,000
    p = wp.resolve({}, daily, START)
    until = START + timedelta(7 * 6 - 1)
    events = wp.week_events(p, [{"date": (START + timedelta(16)).isoformat(), "kind": "hold"}])  # given in week 2
    assert events == {2: "hold"}
    ws = wp.weeks(p, daily, until, today=until + timedelta(1), events=events)
    assert [w.goal for w in ws] == [None, 3500, 4000, 4000, 4500, 4500]
    assert ws[2].event == "hold" and ws[3].event is None
    # without the hold: week 3 would have been 4,500
    assert goals(p, daily, until)[:4] == [None, 3500, 4000, 4500]


def test_step_back_lowers_next_weeks_goal_by_one_step_each_time():
    daily = ramp(2) | days(START + timedelta(21), week_of(3000, 21))
    p = wp.resolve({}, daily, START)
    until = START + timedelta(41)
    events = wp.week_events(p, [{"date": (START + timedelta(15)).isoformat(), "kind": "step-back"},
                                {"date": (START + timedelta(22)).isoformat(), "kind": "step-back"}])
    ws = wp.weeks(p, daily, until, today=until + timedelta(1), events=events)
    # week 2 (4,000) steps back: week 3 is 3,500 (last week's goal); week 3 steps back again: 3,000;
    # week 4 walks 3,000: met, so week 5 is 3,500
    assert [w.goal for w in ws] == [None, 3500, 4000, 3500, 3000, 3500]
    # never below one step
    low = wp.Plan(baseline=400, target=6000, start=START)
    w = wp.Week(1, START, START, 500, 7, 400, False, 0, True)
    assert wp.following_goal(low, w, "step-back") == 500


def test_the_latest_decision_in_a_week_counts_and_resume_cancels():
    daily = ramp(3)
    p = wp.resolve({}, daily, START)
    until = START + timedelta(27)
    made = [{"date": (START + timedelta(15)).isoformat(), "kind": "hold"},
            {"date": (START + timedelta(16)).isoformat(), "kind": "step-back"}]
    assert [w.goal for w in wp.weeks(p, daily, until, events=wp.week_events(p, made))] == [None, 3500, 4000, 3500]
    made.append({"date": (START + timedelta(17)).isoformat(), "kind": "resume"})
    assert [w.goal for w in wp.weeks(p, daily, until, events=wp.week_events(p, made))] == [None, 3500, 4000, 4500]


def test_next_goal_after_a_hold_is_decided():
    daily = ramp(1) | days(START + timedelta(14), [4100, 4200])
    p = wp.resolve({}, daily, START)
    today = START + timedelta(15)
    n = wp.next_goal(p, daily, today, events={2: "hold"})
    assert (n["goal"], n["goal_if_missed"], n["decided"], n["event"]) == (4000, 4000, True, "hold")
    n = wp.next_goal(p, daily, today, events={2: "step-back"})
    assert (n["goal"], n["decided"], n["event"]) == (3500, True, "step-back")

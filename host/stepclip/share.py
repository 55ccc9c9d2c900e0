"""stepclip share: one self-contained HTML page to take to the therapist.

    stepclip share [--weeks N] [--out FILE.html] [--person NAME]
        write_page(db, FILE.html, weeks=N, person=NAME)

The page holds the plan, each week's daily average against its goal, days met,
days worn, brisk minutes, the trend, the hold/step-back decisions and the
"not medical advice" line, with the chart embedded as a data: URI (PNG). It
loads nothing from anywhere (its Content-Security-Policy forbids it too) and is
laid out for A4 paper: one page up to about 12 weeks, two at most (MAX_WEEKS).
"""
import base64
import html
import io
from datetime import date, datetime

from . import __version__
from . import plan as walking
from . import report as rep

DEFAULT_WEEKS = 12  # at most this many plan weeks by default (the plan so far)
MAX_WEEKS = 26  # two A4 pages


def default_name(today=None):
    return f"stepclip-summary-{(today or date.today()).isoformat()}.html"


def summary(db, weeks=None, person=None, device_id=None, today=None, now=None):
    """The report (report.build) of the weeks to share, plus "trend" and "history":
    JSON-ready. weeks: how many plan weeks, ending with the current one (default:
    the plan so far, at most DEFAULT_WEEKS; 1 to MAX_WEEKS)."""
    today, now = rep.clock(today, now)
    data = rep.person_data(db, person, device_id, today)
    k = walking.week_index(data.plan, today) if data.plan.start else None
    so_far = k + 1 if k is not None and k >= 0 else 1  # weeks of the plan so far
    n = min(DEFAULT_WEEKS, so_far) if weeks is None else rep.as_count(weeks, "--weeks")
    if n is None or not 1 <= n <= MAX_WEEKS:
        raise rep.ReportError(f"--weeks must be between 1 and {MAX_WEEKS} (two A4 pages), not {weeks!r}")
    n = min(n, so_far)  # never the empty weeks before the plan
    r = rep.build(db, device_id, weeks=n, today=today, person=person, now=now)
    r["history"] = rep.history(db, data)
    r["trend"] = trend(r["weeks"])
    return r


def trend(weeks):
    """The change of the daily average over the weeks shown that have data:
    {"first", "last", "per_week" (least-squares slope, steps a day per week),
    "weeks"}; None with fewer than two such weeks."""
    pts = [(w["index"] if w["index"] is not None else i, w["average"]) for i, w in enumerate(weeks) if w["average"] is not None]
    if len(pts) < 2:
        return None
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    slope = sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else 0.0
    return {"first": pts[0][1], "last": pts[-1][1], "per_week": round(slope), "weeks": n}


CHART_INCHES = (7.2, 2.7)  # the chart at the width of the A4 text column


def chart_uri(report):
    """The report's chart as a data: URI (PNG, 150 dpi, sized for the A4 text column)."""
    buf = io.BytesIO()
    rep.plot_report(report, buf, dpi=150, size=CHART_INCHES, disclaimer=False)  # the page says it once
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


STYLE = """
@page { size: A4; margin: 12mm 14mm 12mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 9.5pt; color: #111;
       max-width: 182mm; margin: 0 auto; line-height: 1.3; }
h1 { font-size: 14pt; margin: 0 0 1.5mm 0; }
h2 { font-size: 11pt; margin: 3.5mm 0 1mm 0; }
p { margin: 1mm 0; }
.muted { color: #555; }
img.chart { width: 100%; height: auto; display: block; margin: 2mm 0; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; }
th, td { border-bottom: 1px solid #ccc; padding: 0.8mm 1.5mm; text-align: right; vertical-align: top; white-space: nowrap; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
th { background: #f0f0f0; white-space: normal; }
tr, img, .keep { break-inside: avoid; page-break-inside: avoid; }
.met { color: #1b5e20; font-weight: bold; }
.missed { color: #0d47a1; }
ul { margin: 1mm 0; }
.disclaimer { margin-top: 4mm; padding: 2mm 3mm; border: 1px solid #999; font-weight: bold; }
"""


def _fmt(v, suffix=""):
    return "–" if v is None else f"{v:,}{suffix}"


def _span(w):
    a, b = date.fromisoformat(w["start"]), date.fromisoformat(w["end"])
    return f"{a:%d %b} – {b:%d %b}"


def render_html(s, chart, generated=None):
    """The page for a summary() and its chart_uri(); `generated` (datetime) is
    printed at the foot (default: now)."""
    e = html.escape
    p = s["plan"]
    first, last = s["days"][0]["date"], s["days"][-1]["date"]
    devices = ", ".join(s["devices"]) or "none"
    rows = []
    for w in s["weeks"]:
        if w["index"] is None:
            label = "–"
        elif w["index"] < 0:
            label = "before the plan"
        elif w["index"] == 0:
            label = "0, baseline"
        else:
            label = str(w["index"])
        with_data = sum(1 for d in w["days"] if d["steps"] is not None)
        if w["goal"] is None or w["average"] is None:
            verdict = ""
        elif w["complete"]:
            verdict = '<span class="met">met</span>' if w["met"] else '<span class="missed">not met</span>'
        else:
            verdict = "on track so far" if w["met"] else "below so far"
        decision = {"hold": "hold", "step-back": "step back"}.get(w.get("event"), "")
        rows.append(
            "<tr>"
            f"<td>{e(label)}</td><td>{e(_span(w))}</td>"
            f"<td>{_fmt(w['goal'])}</td><td>{_fmt(w['average'])}</td><td>{verdict}</td>"
            f"<td>{str(w['days_met']) + ' of 7' if w['goal'] is not None else '–'}</td>"
            f"<td>{w['days_with_data']} of {with_data}</td>"
            f"<td>{w['brisk_minutes']:,}</td><td>{e(decision)}</td>"
            "</tr>"
        )
    t = s["trend"]
    if t is None:
        trend_text = "Not enough weeks with data yet to show a trend."
    else:
        sign = "+" if t["per_week"] >= 0 else ""
        trend_text = (f"Daily average from {t['first']:,} to {t['last']:,} steps over {t['weeks']} weeks with data: "
                      f"{sign}{t['per_week']:,} steps a day per week (least-squares line).")
    nxt = rep.next_line(s["next_week"])
    history = "".join(f"<li>{e(rep.event_line(h))}</li>" for h in s["history"]) or "<li>none</li>"
    today_line = rep.today_line(s["today_needs"])
    generated = (generated or datetime.now()).strftime("%Y-%m-%d %H:%M")
    plan_text = rep.plan_line(p)
    plan_text = plan_text[:1].upper() + plan_text[1:]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Walking summary: {e(s['person'])}, {e(first)} to {e(last)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>Walking summary: {e(s['person'])}</h1>
<p class="muted">{e(first)} to {e(last)} · stepclip step counter worn at the hip (device{'s' if len(s['devices']) != 1 else ''}: {e(devices)}) ·
{e(rep.sync_line(s))} · made by stepclip {e(__version__)} on {e(generated)}</p>
<h2>The plan</h2>
<p>{e(plan_text)}.</p>
<p class="muted">Each week's daily goal is 500 steps a day above the last, up to the target; a week whose average misses
its goal keeps it. Days the clip was worn less than {s['worn_hours']} hours (or marked not worn) are left out of the averages.</p>
<p><b>{e(nxt)}</b>{'<br>' + e(today_line) if today_line else ''}</p>
<div class="keep"><img class="chart" alt="Daily steps against the goal, {e(first)} to {e(last)}" src="{chart}"></div>
<h2>Week by week</h2>
<table>
<thead><tr><th>Week</th><th>Dates</th><th>Goal a day</th><th>Average a day</th><th>Result</th><th>Days met</th>
<th>Days worn</th><th>Brisk min</th><th>Flare-up</th></tr></thead>
<tbody>
{''.join(rows)}
</tbody>
</table>
<p class="muted">Average: over the days worn. Days worn: days that count, of the days with data. Brisk minutes: minutes
at 100 steps a minute or more. Streak: {s['streak']} week{'s' if s['streak'] != 1 else ''} in a row with the goal met.</p>
<div class="keep">
<h2>Trend and flare-ups</h2>
<p>{e(trend_text)}</p>
<p>Holds and step-backs of the goal:</p>
<ul>{history}</ul>
</div>
<p class="disclaimer">{e(rep.DISCLAIMER)}</p>
</body>
</html>
"""


def write_page(db, out, weeks=None, person=None, device_id=None, today=None, now=None, generated=None):
    """Write the page to `out` (a path). Returns the summary it shows."""
    s = summary(db, weeks, person, device_id, today, now)
    page = render_html(s, chart_uri(s), generated)
    with open(out, "w", encoding="utf-8") as f:
        f.write(page)
    return s

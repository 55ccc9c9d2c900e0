"""stepclip share: the self-contained HTML page, and the page in a real browser.

The browser tests render the page with headless Chromium (Debian's `chromium`
package; `make test` installs it) to PNG and to PDF, count the printed A4
pages, and read Chromium's network log for requests the page made. They skip,
saying why, when Chromium is absent. With STEPCLIP_SCREENSHOTS=1 the PNG is
also saved as docs/share-page.png (the README's screenshot).
"""
import base64
import html.parser
import json
import os
import re
import shutil
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from stepclip import report, share
from stepclip.store import Database

ROOT = Path(__file__).resolve().parents[1]
INFO = {"fw": "0.1.0", "proto": "1", "board": "emulated", "micropython": "1.29.0"}
START = date(2026, 10, 5)  # a Monday
TODAY = date(2026, 11, 25)  # a Wednesday, week 7
NOW = datetime(2026, 11, 25, 19, 30)


def wear(minutes=13 * 60):
    """Wear per hour adding up to `minutes` (morning to evening)."""
    out = [0] * 24
    h = 7
    while minutes > 0 and h < 24:
        out[h] = min(60, minutes)
        minutes -= out[h]
        h += 1
    return out


def make_db(path, start=START):
    """A person 67 years old, from `start` to TODAY: 400 more steps a day each
    week, one day the clip lay on the table (23 days after START), a flare-up
    (38 days after START) and a step back that week."""
    db = Database(path)
    rows = []
    for i in range((TODAY - start).days + 1):
        k = i // 7
        i -= (START - start).days
        steps = min(6500, 3000 + 400 * k + (i % 3) * 150)
        minutes = 13 * 60
        if i == 23:  # the clip forgotten on the table
            steps, minutes = 610, 35
        if i == 38:  # a flare-up day
            steps = 1800
        hours = [0] * 24
        hours[10], hours[16] = steps // 2, steps - steps // 2
        rows.append({"date": (START + timedelta(i)).isoformat(), "steps": steps, "brisk": 10 + i % 7,
                     "overruns": 0, "hours": hours, "wear": wear(minutes)})
    with db.transaction():
        db.put_device("e0000000de0000aa", INFO, NOW)
        for r in rows:
            db.put_day("e0000000de0000aa", r, NOW)
    report.set_plan(db, age=67)
    report.plan_decision(db, "step-back", today=START + timedelta(38), now=datetime(2026, 11, 12, 9, 0))
    return db


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("share")
    db = make_db(tmp / "s.db")
    out = tmp / "summary.html"
    s = share.write_page(db, out, today=TODAY, now=NOW, generated=datetime(2026, 11, 25, 19, 45))
    db.close()
    return out, s


class Refs(html.parser.HTMLParser):
    """Every URL-bearing attribute of the page."""

    def __init__(self):
        super().__init__()
        self.urls = []
        self.csp = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href", "srcset", "action", "data", "poster"):
            if key in a:
                self.urls.append((tag, key, a[key]))
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = a.get("content")


def test_the_page_holds_the_plan_weeks_events_chart_and_disclaimer(page):
    out, s = page
    text = out.read_text()
    refs = Refs()
    refs.feed(text)
    assert [(t, k) for t, k, _ in refs.urls] == [("img", "src")]  # the chart, and nothing else
    chart = refs.urls[0][2]
    assert chart.startswith("data:image/png;base64,")
    assert base64.b64decode(chart.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "default-src 'none'" in refs.csp and "img-src data:" in refs.csp
    assert not re.search(r"(?i)(https?:|//[a-z0-9.-]+\.[a-z]{2,}/)", text.replace(chart, ""))
    assert text.count("General guidance, not medical advice.") == 1
    assert "Walking summary: me" in text and "target 6,000 (age 67)" in text
    assert len(s["weeks"]) == 8 and [w["index"] for w in s["weeks"]] == list(range(8))
    assert text.count("<tr>") == 8 + 1
    # the forgotten day is left out: week 3 counts 6 days of 7 and is met
    w3 = s["weeks"][3]
    assert (w3["days_with_data"], w3["days_not_worn"], w3["met"]) == (6, 1, True)
    assert "6 of 7" in text
    # the step back given in week 5 (a flare-up) lowered week 6's goal by 500
    assert s["weeks"][5]["event"] == "step-back" and s["weeks"][6]["goal"] == s["weeks"][5]["goal"] - 500
    assert "<td>step back</td>" in text and "step back next week&#x27;s goal: next week 4,650 a day" in text
    assert s["trend"]["per_week"] > 0 and "steps a day per week" in text


def test_weeks_out_of_range_are_refused_and_never_before_the_plan(tmp_path):
    db = make_db(tmp_path / "s.db")
    for bad in (0, share.MAX_WEEKS + 1, "x"):
        with pytest.raises(ValueError, match="--weeks"):
            share.summary(db, weeks=bad, today=TODAY, now=NOW)
    assert [w["index"] for w in share.summary(db, weeks=20, today=TODAY, now=NOW)["weeks"]] == list(range(8))
    assert [w["index"] for w in share.summary(db, weeks=2, today=TODAY, now=NOW)["weeks"]] == [6, 7]


# --- in a real browser ---------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install chromium; `make test` installs it): the page is not rendered in a browser",
)
# a browser that makes no requests of its own, so that its network log holds the page's only
QUIET = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
         "--disable-features=Translate,OptimizationHints,MediaRouter", "--hide-scrollbars"]


def chromium(tmp_path, url, *args):
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    proc = subprocess.run([CHROMIUM, *QUIET, f"--user-data-dir={profile}", *args, url],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def page_requests(netlog):
    """URLs the page asked for (requests on behalf of a file:// page), from a Chromium net log."""
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = set()
    for ev in log["events"]:
        p = ev.get("params") or {}
        if ev["type"] == start and "file://" in p.get("network_isolation_key", "") and "url" in p:
            urls.add(p["url"])
    return {u for u in urls if not u.startswith(("file:", "data:"))}


def pdf_pages(pdf):
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf.read_bytes()))


@needs_chromium
def test_the_page_renders_in_chromium_and_makes_no_request(page, tmp_path):
    out, _ = page
    png, netlog = tmp_path / "page.png", tmp_path / "net.json"
    chromium(tmp_path, out.as_uri(), f"--screenshot={png}", "--window-size=794,1123", f"--log-net-log={netlog}")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # text, table and chart drawn
    assert page_requests(netlog) == set()
    if os.environ.get("STEPCLIP_SCREENSHOTS"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(png, ROOT / "docs" / "share-page.png")


@needs_chromium
def test_the_network_check_sees_a_page_that_loads_from_the_net(tmp_path):
    # the same check on a page that does load things (without a CSP) must see them
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><img src="http://127.0.0.1:9/probe.png">'
                   '<link rel="stylesheet" href="https://example.invalid/x.css"></body></html>')
    netlog = tmp_path / "net.json"
    chromium(tmp_path, bad.as_uri(), f"--screenshot={tmp_path / 'bad.png'}", f"--log-net-log={netlog}")
    assert page_requests(netlog) == {"http://127.0.0.1:9/probe.png", "https://example.invalid/x.css"}


@needs_chromium
@pytest.mark.parametrize("weeks", [None, 1, share.MAX_WEEKS])
def test_the_page_prints_on_one_or_two_a4_pages(tmp_path, weeks):
    db = make_db(tmp_path / "s.db", start=START - timedelta(7 * 25))  # 33 weeks of data
    out = tmp_path / "summary.html"
    s = share.write_page(db, out, weeks=weeks, today=TODAY, now=NOW)
    assert len(s["weeks"]) == weeks or share.DEFAULT_WEEKS
    pdf = tmp_path / "summary.pdf"
    chromium(tmp_path, out.as_uri(), "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    n = pdf_pages(pdf)
    assert 1 <= n <= 2, f"{n} pages"
    if weeks is None:
        assert n == 1  # the default, up to 12 weeks, fits one page
    assert b"/MediaBox [0 0 594.95996 841.91998]" in pdf.read_bytes() or b"/MediaBox [0 0 595" in pdf.read_bytes()

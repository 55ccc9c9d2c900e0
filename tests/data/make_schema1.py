# Builds a database with the code of the release before issue 10 (schema 1): two
# clips, their plans, an uptime record; prints what that release's report says.
# It made tests/data/stepclip-schema1.sql (sqlite3 iterdump + user_version) and
# tests/data/stepclip-schema1-report.json, with that release's package on the path:
#   git archive <release> host firmware | tar -x -C /tmp/old
#   mkdir /tmp/old/pkg; cp -r /tmp/old/host/stepclip /tmp/old/pkg/; cp -r /tmp/old/firmware /tmp/old/pkg/stepclip_firmware
#   PYTHONPATH=/tmp/old/pkg python tests/data/make_schema1.py /tmp/v1.db > tests/data/stepclip-schema1-report.json
import json, sys
from datetime import date, datetime, timedelta
from stepclip.store import Database, SCHEMA_VERSION
from stepclip import report
assert SCHEMA_VERSION == 1
INFO = {"fw": "0.1.0", "proto": "1", "board": "pico", "micropython": "1.24.1"}
path = sys.argv[1]
db = Database(path)
start = date(2026, 9, 7)  # a Monday
steps_a = [3000 + 37 * (i % 5) + 500 * (i // 7) for i in range(35)]
steps_a[16] = None  # a day without data
with db.transaction():
    db.put_device("e6614103e7452d2f", INFO, datetime(2026, 10, 11, 21, 0))
    for i, s in enumerate(steps_a):
        if s is not None:
            hours = [0] * 24; hours[9] = s // 2; hours[18] = s - s // 2
            db.put_day("e6614103e7452d2f", {"date": (start + timedelta(i)).isoformat(), "steps": s, "brisk": i % 9, "overruns": i % 2, "hours": hours}, datetime(2026, 10, 11, 21, 0))
    db.put_boot("e6614103e7452d2f", 3, datetime(2026, 9, 20, 7, 30))
    hours = [0] * 24; hours[3] = 450
    db.put_uptime("e6614103e7452d2f", {"boot": 3, "uptime_day": 0, "steps": 450, "brisk": 2, "overruns": 0, "hours": hours}, datetime(2026, 10, 11, 21, 0))
    # a second clip (another person's), synced last
    db.put_device("e66141040b1c2a33", INFO, datetime(2026, 10, 12, 8, 15))
    for i in range(10):
        s = 6100 + 50 * i
        hours = [0] * 24; hours[12] = s
        db.put_day("e66141040b1c2a33", {"date": (date(2026, 10, 1) + timedelta(i)).isoformat(), "steps": s, "brisk": 20, "overruns": 0, "hours": hours}, datetime(2026, 10, 12, 8, 15))
report.set_plan(db, "e6614103e7452d2f", age=64, baseline=2900)
report.set_plan(db, "e66141040b1c2a33", target=9000, start="2026-10-01")
out = {}
for dev in ("e6614103e7452d2f", "e66141040b1c2a33"):
    r = report.build(db, dev, week="2026-10-10", weeks=6, today=date(2026, 10, 12))
    out[dev] = {"plan": {k: r["plan"][k] for k in ("baseline", "target", "start", "age")},
                "weeks": [(w["index"], w["goal"], w["average"], w["met"], w["days_met"]) for w in r["weeks"]],
                "streak": r["streak"], "next_week": r["next_week"]}
print(json.dumps(out))

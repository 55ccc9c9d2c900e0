"""One plan per person: the schema migration on a database made by the release
before issue 10, devices attached to persons, a day summed over a person's
devices, and the `device` and `day` commands."""
import io
import json
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from stepclip import cli, person, report
from stepclip.store import SCHEMA_VERSION, Database

DATA = Path(__file__).with_name("data")
INFO = {"fw": "0.1.0", "proto": "1", "board": "pico", "micropython": "1.24.1"}
OLD_A, OLD_B = "e6614103e7452d2f", "e66141040b1c2a33"  # B was synced last


def old_database(path):
    """The schema-1 database the previous release made (tests/data/make_schema1.py)."""
    con = sqlite3.connect(path)
    con.executescript((DATA / "stepclip-schema1.sql").read_text())
    con.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1
    return path


def run_cli(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_migration_keeps_every_devices_plan_and_numbers(tmp_path):
    path = old_database(tmp_path / "old.db")
    expected = json.loads((DATA / "stepclip-schema1-report.json").read_text())
    with Database(path) as db:
        assert db.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        db.check()
        # the most recently synced device's wearer is "me"; the other keeps a plan of its own
        assert [(p["name"], p["devices"]) for p in db.persons()] == [("me", [OLD_B]), (OLD_A, [OLD_A])]
        for dev, exp in expected.items():
            r = report.build(db, dev, week="2026-10-10", weeks=6, today=date(2026, 10, 12))
            assert {k: r["plan"][k] for k in ("baseline", "target", "start", "age")} == exp["plan"]
            got = [[w["index"], w["goal"], w["average"], w["met"], w["days_met"]] for w in r["weeks"]]
            assert got == exp["weeks"], dev
            assert r["streak"] == exp["streak"]
            assert {k: v for k, v in r["next_week"].items() if k != "event"} == exp["next_week"]
        # the default is still the last synced device's plan
        assert report.build(db, today=date(2026, 10, 12))["person"] == "me"
        # nothing lost: days, uptime records and boots are all there, without wear data
        assert db.db.execute("SELECT COUNT(*), SUM(steps) FROM days").fetchone() == (44, sum(
            3000 + 37 * (i % 5) + 500 * (i // 7) for i in range(35) if i != 16) + sum(6100 + 50 * i for i in range(10)))
        assert db.db.execute("SELECT COUNT(*) FROM days WHERE wear_hours IS NOT NULL").fetchone() == (0,)
        assert db.db.execute("SELECT steps FROM uptime").fetchall() == [(450,)]
    with Database(path) as db:  # opening again changes nothing
        assert len(db.persons()) == 2


def test_migration_of_an_empty_old_database_makes_the_default_person(tmp_path):
    path = tmp_path / "empty.db"
    con = sqlite3.connect(path)
    con.executescript("\n".join(line for line in (DATA / "stepclip-schema1.sql").read_text().splitlines()
                                if not line.startswith("INSERT")))
    con.close()
    with Database(path) as db:
        assert [p["name"] for p in db.persons()] == ["me"]
        with db.transaction():
            db.put_device("e0", INFO, datetime(2026, 1, 1))
        assert db.device("e0")["person"] == "me"


def day(d, steps, wear=None):
    return {"date": d.isoformat(), "steps": steps, "brisk": 1, "overruns": 0, "hours": [steps] + [0] * 23, "wear": wear}


def test_a_replacement_clip_carries_on_with_the_plan_and_days_add_up(tmp_path):
    start = date(2026, 11, 2)
    with Database(tmp_path / "x.db") as db:
        with db.transaction():
            db.put_device("old", INFO, datetime(2026, 11, 12, 20))
            for i in range(10):
                db.put_day("old", day(start + timedelta(i), 3000), datetime(2026, 11, 12, 20))
        report.set_plan(db, age=70)
        with db.transaction():  # the new clip is synced: it joins the only person
            db.put_device("new", INFO, datetime(2026, 11, 20, 20))
            db.put_day("new", day(start + timedelta(9), 1200), datetime(2026, 11, 20, 20))  # both worn that day
            for i in range(10, 18):
                db.put_day("new", day(start + timedelta(i), 3600), datetime(2026, 11, 20, 20))
        assert db.device("new")["person"] == "me"
        r = report.build(db, week="2026-11-16", weeks=2, today=date(2026, 11, 20))
        assert r["plan"]["target"] == 6000 and r["plan"]["start"] == start.isoformat()  # the same plan, not week 0 again
        assert r["weeks"][0]["index"] == 1 and [d["steps"] for d in r["days"]][:6] == [3000, 3000, 4200, 3600, 3600, 3600]
        assert r["devices"] == ["new", "old"]


def test_device_list_and_attach(tmp_path, capsys):
    path = tmp_path / "x.db"
    with Database(path) as db, db.transaction():
        db.put_device("e1", INFO, datetime(2026, 11, 1, 9))
        db.put_day("e1", day(date(2026, 11, 1), 2000), datetime(2026, 11, 1, 9))
        db.put_device("e2", INFO, datetime(2026, 11, 2, 9))
    code, out, _ = run_cli(capsys, "device", "list", "--db", path)
    assert code == 0 and out.splitlines()[1].startswith("e2  me ") and out.splitlines()[2].split()[:2] == ["e1", "me"]
    code, out, _ = run_cli(capsys, "device", "attach", "e2", "--person", "ann", "--db", path)
    assert code == 0 and "e2 is attached to ann (it was attached to me)" in out
    code, out, _ = run_cli(capsys, "device", "list", "--json", "--db", path)
    listing = json.loads(out)
    assert [(d["id"], d["person"], d["days"]) for d in listing["devices"]] == [("e2", "ann", 0), ("e1", "me", 1)]
    code, out, _ = run_cli(capsys, "device", "attach", "e2", "--db", path)  # back to the default person
    assert "e2 is attached to me (it was attached to ann)" in out
    code, out, _ = run_cli(capsys, "device", "list", "--db", path)
    assert "Persons without a device: ann" in out
    with Database(path) as db:
        # several persons now: a new device gets a person of its own
        with db.transaction():
            db.put_device("e3", INFO, datetime(2026, 11, 3, 9))
        assert db.device("e3")["person"] == "e3"
    code, _, err = run_cli(capsys, "device", "attach", "e9", "--db", path)
    assert code == 2 and "no device 'e9'" in err and len(err.splitlines()) == 1
    with pytest.raises(ValueError, match="--person"):
        with Database(path) as db:
            person.attach_device(db, "e1", "\x07bell")


def test_day_marks_by_hand(tmp_path, capsys):
    path = tmp_path / "x.db"
    with Database(path) as db, db.transaction():
        db.put_device("e1", INFO, datetime(2026, 11, 5, 21))
        db.put_day("e1", day(date(2026, 11, 3), 600), datetime(2026, 11, 5, 21))
    code, out, _ = run_cli(capsys, "day", "2026-11-03", "--db", path)
    assert code == 0 and "600 steps" in out and "no wear data" in out
    code, out, _ = run_cli(capsys, "day", "2026-11-03", "--not-worn", "--db", path)
    assert code == 0 and "marked not worn: left out of the plan" in out
    code, out, _ = run_cli(capsys, "day", "2026-11-03", "--json", "--db", path)
    info = json.loads(out)
    assert (info["worn"], info["worn_note"], info["mark"]) == (False, "marked not worn", False)
    code, out, _ = run_cli(capsys, "day", "2026-11-03", "--auto", "--db", path)
    assert "no wear data" in out
    code, _, err = run_cli(capsys, "day", "2098-01-01", "--worn", "--db", path)
    assert code == 2 and "in the future" in err
    code, _, err = run_cli(capsys, "day", "yesterday", "--db", path)
    assert code == 2 and "DATE: not a date" in err


def test_export_by_person_sums_the_devices(tmp_path):
    with Database(tmp_path / "x.db") as db:
        with db.transaction():
            for dev in ("a", "b"):
                db.put_device(dev, INFO, datetime(2026, 11, 5, 21))
            db.put_day("a", day(date(2026, 11, 3), 600, [30] * 24), datetime(2026, 11, 5, 21))
            db.put_day("b", day(date(2026, 11, 3), 400, [40] * 24), datetime(2026, 11, 5, 21))
        buf = io.StringIO()
        report.export_csv(db, buf, today=date(2026, 11, 5))
        assert buf.getvalue().splitlines()[1] == "2026-11-03,1000,,,1,1440,2"  # wear: 60 a hour at most

"""Messages a person can act on: every command with bad arguments prints one line
on stderr, exits with status 2 and never shows a traceback; and the device and
file faults a person meets (a port that is a file, a busy port, an unplugged
device, a Pico without stepclip, a missing folder, a database that is not there)."""
import os
import subprocess
import sys
import threading
import tty
from datetime import date, datetime, timedelta

import pytest
import serial

from stepclip import synth
from stepclip import trace as tracefile
from stepclip.store import Database
from stepclip_firmware.protocol import checked

STEPCLIP = [sys.executable, "-m", "stepclip.cli"]
INFO = {"fw": "0.1.0", "proto": "1"}


def run(*argv, cwd=None):
    return subprocess.run(STEPCLIP + [str(a) for a in argv], capture_output=True, text=True, timeout=60, cwd=cwd)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")
    db = tmp / "s.db"
    first = date.today() - timedelta(days=3)  # the baseline week: nothing to hold yet
    with Database(db) as d, d.transaction():
        d.put_device("e0000000000000c1", INFO, datetime.now())
        for i in range(3):
            d.put_day("e0000000000000c1", {"date": (first + timedelta(i)).isoformat(), "steps": 3000, "brisk": 1,
                                           "overruns": 0, "hours": [0] * 24}, datetime.now())
    walk = tmp / "walk.csv"
    tracefile.write(walk, synth.generate([synth.walk(20)], rate_hz=25, seed=1))
    (tmp / "empty").mkdir()
    plain = tmp / "plain.txt"
    plain.write_text("not a serial port\n")
    return {"db": str(db), "walk": str(walk), "empty": str(tmp / "empty"), "file": str(plain),
            "missing": str(tmp / "no-such-folder"), "nodb": str(tmp / "nothing-here.db")}


BAD = [
    # (command line, a word the message must hold)
    ("--bogus", "required: COMMAND"),
    ("report --bogus", "unrecognized arguments: --bogus (see `stepclip report --help`)"),
    ("nosuchcommand", "invalid choice"),
    ("detect {missing}/walk.csv", "walk.csv"),
    ("detect {walk} --rate 0", "rate"),
    ("detect {walk} --range 3", "range"),
    ("detect {walk} --plot {missing}/x.png", "does not exist"),
    ("detect", "required"),
    ("evaluate {empty}", "no .csv traces"),
    ("import {missing}/phone.csv --out {empty}", "cannot read"),
    ("import {walk}", "required: --out"),
    ("evaluate {walk} --runtime pypy", "invalid choice"),
    ("sync --port {missing}/ttyACM0 --db {db}", "no such port"),
    ("sync --port {file} --db {db}", "not a serial port (it is a file)"),
    ("sync --port {empty} --db {db}", "not a serial port (it is a folder)"),
    ("plan --age sixty --db {db}", "--age"),
    ("plan --age 300 --db {db}", "--age"),
    ("plan --age 60 --target 6000 --db {db}", "not both"),
    ("plan --start 2026-13-01 --db {db}", "--start"),
    ("plan --hold --db {db}", "baseline week"),
    ("plan --hold --step-back --db {db}", "not allowed with"),
    ("plan --db {nodb}", "no database there"),
    ("plan --person nobody --db {db}", "no person 'nobody'"),
    ("report --week 2026-13-01 --db {db}", "--week"),
    ("report --weeks 0 --db {db}", "--weeks"),
    ("report --weeks many --db {db}", "--weeks"),
    ("report --plot {missing}/chart.png --db {db}", "does not exist"),
    ("report --device e9 --db {db}", "no device 'e9'"),
    ("report --db {nodb}", "no database there"),
    ("battery --db {db}", "no battery readings from e0000000000000c1"),
    ("battery --db {nodb}", "no database there"),
    ("battery --device e9 --db {db}", "no device 'e9'"),
    ("battery --plot {missing}/b.png --db {db}", "does not exist"),
    ("emulate --battery {file} --run-to-end", "not a battery file"),
    ("day yesterday --db {db}", "DATE: not a date"),
    ("day 2098-01-01 --not-worn --db {db}", "in the future"),
    ("day 2026-01-01 --worn --not-worn --db {db}", "not allowed with"),
    ("day --db {db}", "required"),
    ("device", "required: ACTION"),
    ("device list --db {nodb}", "no database there"),
    ("device attach e9 --db {db}", "no device 'e9'"),
    ("device attach e0000000000000c1 --person '' --db {db}", "--person"),
    ("share --weeks 0 --db {db}", "--weeks"),
    ("share --weeks 99 --db {db}", "--weeks"),
    ("share --out {missing}/summary.html --db {db}", "does not exist"),
    ("share --db {nodb}", "no database there"),
    ("export --from 2026-02-30 --db {db}", "--from"),
    ("export --from 2026-03-02 --to 2026-03-01 --db {db}", "after --to"),
    ("export --out {missing}/days.csv --db {db}", "does not exist"),
    ("export --format xlsx --db {db}", "invalid choice"),
    ("export --db {nodb}", "no database there"),
    ("record --out {missing}/t.csv --port {file}", "does not exist"),
    ("record --out {empty}/t.csv --port {file}", "not a serial port"),
    ("record --port {file}", "required"),
    ("deploy --port {missing}/ttyACM0", "no such port"),
    ("emulate {missing}/walk.csv", "walk.csv"),
    ("emulate --speed 0", "--speed"),
    ("emulate --start tomorrow", "--start"),
    ("emulate --speed nan", "--speed must be a positive number, not nan"),
    ("emulate --speed inf", "--speed must be a positive number, not inf"),
    ("emulate --flash {missing}/f.img --run-to-end", "f.img: the folder"),
    ("emulate --battery {missing}/b.txt --run-to-end", "does not exist"),
    ("emulate --flash {empty} --run-to-end", "is a folder"),
    ("emulate --start 2026-01-01T10:00:00 --clock-unset", "not allowed with"),
    ("emulate --json", "--json needs --run-to-end"),
    ("deploy --dry-run --port {file}", "not a serial port (it is a file)"),
    ("deploy --dry-run --port {empty}", "not a serial port (it is a folder)"),
    ("export --out {empty} --db {db}", "is a folder, not a file"),
    ("share --out {empty} --db {db}", "is a folder, not a file"),
    ("report --plot {empty} --db {db}", "is a folder, not a file"),
    ("record --out {empty} --port {file}", "is a folder, not a file"),
    ("synth {missing}/x.csv", "No such file or directory"),
    ("synth {empty}", "Is a directory"),
    ("demo --out {file}", "File exists"),
]


@pytest.mark.parametrize("line, expected", BAD, ids=[b[0].split(" {")[0] for b in BAD])
def test_every_command_with_bad_arguments_is_one_line_exit_2_no_traceback(files, line, expected):
    import shlex

    argv = [a.format(**files) for a in shlex.split(line)]
    proc = run(*argv)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert expected in lines[0], lines[0]
    assert "Traceback" not in proc.stderr
    assert not os.path.exists(files["nodb"])  # never made by a command other than sync


def test_the_bad_argument_table_covers_every_command():
    from stepclip import cli

    commands = set(cli.build_parser()._subparsers._group_actions[0].choices)
    covered = {line.split()[0] for line, _ in BAD}
    assert commands <= covered, commands - covered


# --- the database: only sync makes one ------------------------------------------------------------


def test_no_command_but_sync_makes_a_database(tmp_path):
    path = tmp_path / "new.db"
    for argv in (["report"], ["plan"], ["export"], ["share"], ["device", "list"], ["day", "2026-01-01"], ["battery"]):
        proc = run(*argv, "--db", path)
        assert proc.returncode == 2 and "no database there" in proc.stderr and not path.exists()


NOT_SYNC = (["report"], ["plan"], ["plan", "--age", "70"], ["export"], ["share"], ["device", "list"],
            ["device", "attach", "e9"], ["day", "2026-01-01", "--worn"], ["battery"])


def test_a_database_of_another_program_is_refused_by_every_command_and_left_alone(tmp_path, files):
    import sqlite3

    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE foo (x)")
    con.commit()
    con.close()
    before = path.read_bytes()
    for argv in NOT_SYNC + (["sync", "--port", files["file"]],):
        proc = run(*argv, "--db", path)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, (argv, proc.stderr)
        assert "not a stepclip database (tables foo, schema 0); it is left alone" in lines[0], (argv, lines)
        assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["other.db"], argv


def test_an_empty_file_is_no_database_for_every_command_but_sync(tmp_path):
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    for argv in NOT_SYNC:
        proc = run(*argv, "--db", path)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, (argv, proc.stderr)
        assert "an empty file, not a database (`stepclip sync` makes one" in proc.stderr, argv
        assert path.read_bytes() == b"" and sorted(os.listdir(tmp_path)) == ["empty.db"], argv


def test_an_sqlite_file_without_tables_is_no_database_for_every_command_but_sync(tmp_path):
    import sqlite3

    path = tmp_path / "bare.db"
    con = sqlite3.connect(path)
    con.execute("PRAGMA page_size = 4096")
    con.execute("VACUUM")  # a valid SQLite file, no table in it
    con.close()
    before = path.read_bytes()
    assert before.startswith(b"SQLite format 3")
    for argv in NOT_SYNC:
        proc = run(*argv, "--db", path)
        assert proc.returncode == 2 and "without tables, no database yet" in proc.stderr, (argv, proc.stderr)
        assert path.read_bytes() == before, argv


def test_a_failed_first_sync_leaves_no_database_behind(tmp_path):
    path = tmp_path / "new.db"
    port, close = fake_port(lambda line: b"")  # a silent device
    try:
        proc = run("sync", "--port", port, "--db", path)
        assert proc.returncode == 2 and "new database" not in proc.stdout, proc.stdout
        assert not path.exists() and os.listdir(tmp_path) == []
        other = serial.Serial(port, exclusive=True)  # a busy port
        try:
            proc = run("sync", "--port", port, "--db", path)
        finally:
            other.close()
        assert proc.returncode == 2 and "in use by another program" in proc.stderr
        assert "new database" not in proc.stdout and os.listdir(tmp_path) == []
        path.write_bytes(b"")  # an empty file stays an empty file
        proc = run("sync", "--port", port, "--db", path)
        assert proc.returncode == 2 and path.read_bytes() == b"" and os.listdir(tmp_path) == ["new.db"]
    finally:
        close()


def test_sync_refuses_a_database_in_a_missing_folder_and_makes_no_folder(tmp_path, files):
    path = tmp_path / "nodir" / "x.db"
    proc = run("sync", "--port", files["file"], "--db", path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert f"the folder {tmp_path / 'nodir'} does not exist" in proc.stderr
    assert not (tmp_path / "nodir").exists()


OUT_OF_RANGE = [
    ("plan", "--start", "9999-12-31"), ("plan", "--start", "0001-01-01"), ("day", "9999-12-31"),
    ("day", "1999-12-31", "--worn"), ("report", "--week", "9999-12-31"), ("report", "--week", "0001-01-03", "--weeks", "3"),
    ("report", "--week", "0001-01-03", "--plot", "{tmp}/x.png"), ("export", "--from", "0001-01-01"),
    ("export", "--to", "2100-01-01"), ("emulate", "--start", "9999-12-31T23:59:59", "--run-to-end"),
]


@pytest.mark.parametrize("argv", OUT_OF_RANGE, ids=[" ".join(a) for a in OUT_OF_RANGE])
def test_a_date_outside_2000_to_2099_is_one_line_and_nothing_saved(files, tmp_path, argv):
    import shutil

    db = tmp_path / "d.db"
    shutil.copyfile(files["db"], db)
    before = db.read_bytes()
    argv = [a.format(tmp=tmp_path) for a in argv] + (["--db", db] if argv[0] != "emulate" else [])
    proc = run(*argv)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "is outside 2000-01-01 .. 2099-12-31" in lines[0] and "Traceback" not in proc.stderr
    assert db.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["d.db"]
    assert run("plan", "--db", db).returncode == 0 and run("report", "--db", db).returncode == 0


# --- ports ---------------------------------------------------------------------------------------


def fake_port(answer):
    """A pseudo-terminal whose other end answers each line with answer(line);
    answer returns None to pull the cable (close that end). Returns (path, close)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    state = {"open": True}

    def serve():
        buf = b""
        while state["open"]:
            try:
                data = os.read(master, 1024)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                reply = answer(line)
                if reply is None:  # unplugged
                    state["open"] = False
                    os.close(master)
                    os.close(slave)
                    return
                if reply:
                    os.write(master, reply)

    threading.Thread(target=serve, daemon=True).start()

    def close():
        if state["open"]:
            state["open"] = False
            for fd in (master, slave):
                try:
                    os.close(fd)
                except OSError:
                    pass

    return os.ttyname(slave), close


def repl(line):
    # MicroPython's REPL, with no stepclip on the board
    return (line + b"\r\nTraceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\n"
            b"NameError: name '" + line.strip() + b"' isn't defined\r\n>>> ")


def test_a_pico_with_micropython_but_no_stepclip_says_run_deploy(files):
    port, close = fake_port(repl)
    try:
        proc = run("sync", "--port", port, "--db", files["db"])
    finally:
        close()
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "MicroPython without stepclip" in proc.stderr and "run `stepclip deploy`" in proc.stderr


def test_a_busy_port_is_in_use_by_another_program(files):
    port, close = fake_port(lambda line: b"")
    other = serial.Serial(port, exclusive=True)  # a serial terminal holding the port
    try:
        proc = run("sync", "--port", port, "--db", files["db"])
    finally:
        other.close()
        close()
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "in use by another program" in proc.stderr


def test_a_device_unplugged_mid_command_is_one_line(files):
    def answer(line):
        if line.startswith(b"ID"):
            return checked("OK device=stepclip proto=2 id=e0000000000000c1 epoch=7 boot=1 seq=0 uptime_s=5 clock=set")
        return None  # the cable is pulled before the next reply

    port, close = fake_port(answer)
    try:
        proc = run("sync", "--port", port, "--db", files["db"])
    finally:
        close()
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert "unplugged" in proc.stderr or "no answer" in proc.stderr


# --- what the commands say -------------------------------------------------------------------------


def test_plot_without_an_extension_writes_a_png_and_says_so(files, tmp_path):
    proc = run("report", "--plot", tmp_path / "chart", "--db", files["db"])
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "chart.png").read_bytes()[:4] == b"\x89PNG"
    assert f"chart: {tmp_path / 'chart.png'}" in proc.stdout


def test_plan_confirms_what_it_saved(files, tmp_path):
    import shutil

    db = tmp_path / "p.db"
    shutil.copyfile(files["db"], db)
    proc = run("plan", "--age", "64", "--db", db)
    assert proc.returncode == 0 and proc.stdout.startswith("saved for me: age 64\n")
    proc = run("plan", "--target", "7,000", "--baseline", "auto", "--db", db)
    assert proc.stdout.startswith("saved for me: target 7,000; baseline auto\n")
    proc = run("plan", "--db", db)
    assert "saved" not in proc.stdout


def test_plan_names_every_setting_given_as_auto(files, tmp_path):
    import shutil

    db = tmp_path / "p.db"
    shutil.copyfile(files["db"], db)
    proc = run("plan", "--target", "auto", "--baseline", "auto", "--age", "auto", "--db", db)
    assert proc.returncode == 0 and proc.stdout.startswith("saved for me: age auto; target auto; baseline auto\n"), proc.stdout


def test_export_of_one_day_says_day_in_the_singular(files, tmp_path):
    day = (date.today() - timedelta(days=3)).isoformat()
    proc = run("export", "--from", day, "--to", day, "--out", tmp_path / "one", "--db", files["db"])
    assert proc.returncode == 0 and proc.stderr == f"wrote 1 day to {tmp_path / 'one.csv'}\n", proc.stderr
    proc = run("export", "--out", tmp_path / "all.csv", "--db", files["db"])
    assert proc.stderr == f"wrote 3 days to {tmp_path / 'all.csv'}\n"


def test_sync_counts_days_not_records_a_date_with_several_boots_is_one_new_day():
    from stepclip import cli
    from stepclip.sync import SyncResult

    result = SyncResult("e1", "/dev/pts/1", datetime.now(), "set", days_unchanged=2,
                        days_new=["2026-01-01", "2026-01-02"],  # the first record of each date
                        days_changed=["2026-01-01", "2026-01-01", "2026-01-02", "2025-12-31"])  # more boots' records
    assert cli._day_changes(result) == ["2 new days", "1 day updated"]
    assert cli._day_changes(SyncResult("e1", "p", datetime.now(), "set", days_unchanged=3)) == ["no new steps"]


def test_export_help_says_what_it_exports():
    proc = run("export", "--help")
    for word in ("date", "steps", "goal", "met", "worn", "wear_minutes", "brisk", "--hourly", "--from", "--to"):
        assert word in proc.stdout, word


def test_an_unexpected_error_is_one_line_too(monkeypatch, capsys):
    from stepclip import cli

    def boom(args):
        raise KeyError("surprise")

    monkeypatch.setattr(cli, "cmd_report", boom)
    code = cli.main(["report"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "unexpected error (KeyError" in err

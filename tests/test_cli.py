"""The stepclip command line: detect and evaluate."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from stepclip import cli, detector, synth
from stepclip import trace as tracefile

STEPCLIP = [sys.executable, "-m", "stepclip.cli"]


@pytest.fixture(scope="module")
def walk_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("traces") / "walk.csv"
    tracefile.write(path, synth.demo_trace(seed=3))
    return path


def run_cli(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_detect_prints_counted_and_true_steps(capsys, walk_file):
    code, out, _ = run_cli(capsys, "detect", walk_file)
    assert code == 0
    true = tracefile.read(walk_file).steps
    row = [line for line in out.splitlines() if "walk.csv" in line][0].split()
    counted = int(row[1])
    assert int(row[2]) == true
    assert abs(counted - true) <= 0.05 * true


def test_detect_json_has_the_documented_fields(capsys, walk_file):
    code, out, _ = run_cli(capsys, "detect", walk_file, "--json")
    assert code == 0
    doc = json.loads(out)
    item = doc["files"][0]
    assert {"file", "true_steps", "counted", "duration_s"} <= set(item)
    assert item["true_steps"] == tracefile.read(walk_file).steps
    assert doc["settings"]["rate_hz"] == 25


@pytest.mark.skipif(not detector.has_micropython(), reason="micropython unix port not installed")
def test_detect_under_micropython_gives_the_same_count(capsys, walk_file):
    _, out_c, _ = run_cli(capsys, "detect", walk_file, "--json")
    _, out_m, _ = run_cli(capsys, "detect", walk_file, "--json", "--runtime", "micropython")
    assert json.loads(out_m)["files"][0]["counted"] == json.loads(out_c)["files"][0]["counted"]


def test_detect_plot_writes_a_png(capsys, walk_file, tmp_path):
    out_png = tmp_path / "walk.png"
    code, out, _ = run_cli(capsys, "detect", walk_file, "--plot", out_png)
    assert code == 0
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(out_png) in out


def test_detect_at_another_rate_and_range(capsys, walk_file):
    code, out, _ = run_cli(capsys, "detect", walk_file, "--rate", "50", "--range", "8", "--bits", "12", "--json")
    assert code == 0
    assert json.loads(out)["settings"] == {"rate_hz": 50, "range_g": 8, "bits": 12, "runtime": "cpython"}


def test_evaluate_folder_summaries(capsys, tmp_path):
    walks = tmp_path / "walks"
    idle = tmp_path / "idle"
    walks.mkdir()
    idle.mkdir()
    for seed in range(2):
        tracefile.write(walks / f"walk{seed}.csv", synth.demo_trace(seed=seed))
    tracefile.write(idle / "desk.csv", synth.generate([synth.sit(120), synth.bumps(60)], seed=5))
    code, out, _ = run_cli(capsys, "evaluate", tmp_path, "--json", "--no-progress")
    assert code == 0
    doc = json.loads(out)
    assert len(doc["files"]) == 3
    folders = {f["name"]: f for f in doc["folders"]}
    assert folders["walks"]["mape"] is not None and folders["walks"]["mape"] < 5
    assert folders["idle"]["false_steps_per_hour"] is not None
    assert folders["idle"]["mape"] is None
    code, out, _ = run_cli(capsys, "evaluate", tmp_path, "--no-progress")
    assert "by folder" in out and "walks" in out and "idle" in out


def test_evaluate_reports_a_bad_file_and_still_evaluates_the_rest(capsys, tmp_path, walk_file):
    (tmp_path / "good.csv").write_bytes(walk_file.read_bytes())
    (tmp_path / "bad.csv").write_text("# stepclip-trace: 1\n# rate_hz: 25\nt_ms,x,y,z\n0,1,2\n")
    code, out, err = run_cli(capsys, "evaluate", tmp_path, "--json", "--no-progress")
    assert code == 2
    assert [Path(f["file"]).name for f in json.loads(out)["files"]] == ["good.csv"]
    assert "bad.csv:4:" in err and "Traceback" not in err


@pytest.mark.parametrize("rate", ["1e-9", "100000000"])
def test_evaluate_names_a_trace_with_an_odd_rate_in_one_line_and_evaluates_the_rest(capsys, tmp_path, walk_file, rate):
    (tmp_path / "walk.csv").write_bytes(walk_file.read_bytes())
    (tmp_path / "odd.csv").write_text(f"# stepclip-trace: 1\n# rate_hz: {rate}\nt_ms,x,y,z\n0,1,2,3\n1,1,2,3\n")
    proc = subprocess.run(STEPCLIP + ["evaluate", str(tmp_path), "--no-progress"], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{tmp_path / 'odd.csv'}:2: rate_hz" in lines[0], proc.stderr
    assert "walk.csv" in proc.stdout and "Traceback" not in proc.stderr
    proc = subprocess.run(STEPCLIP + ["detect", str(tmp_path / "odd.csv")], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "odd.csv:2: rate_hz" in proc.stderr


@pytest.mark.parametrize(
    "content, expected",
    [
        ("", "empty"),
        ("# rate_hz: 25\nt_ms,x,y,z\n0,1,2,3\n", "stepclip-trace"),
        ("# stepclip-trace: 1\n# rate_hz: 25\nt_ms,x,y,z\n0,1,2,3\n40,1,2,x\n", ":5:"),
        ("# stepclip-trace: 1\n# rate_hz: 25\nt_ms,x,y,z\n0,1,2,3\n315360000000,1,2,3\n", "gap of 87600 hours at line 5"),
    ],
)
def test_bad_trace_is_one_line_exit_2_no_traceback(tmp_path, content, expected):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    proc = subprocess.run(STEPCLIP + ["detect", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.csv" in lines[0] and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["detect", "/nonexistent/walk.csv"], "walk.csv"),
        (["detect", "{walk}", "--range", "3"], "range"),
        (["detect", "{walk}", "--rate", "0"], "rate"),
        (["detect", "{walk}", "--rate", "12.5"], "--rate: device rate 12.5 Hz: the LIS3DH has no such rate"),
        (["detect", "{walk}", "--rate", "13"], "choose 10, 25, 50, 100, 200 or 400 Hz"),
        (["evaluate", "{walk}", "--rate", "1"], "too slow to see steps"),
        (["evaluate", "{walk}", "--rate", "800"], "no such rate"),
        (["evaluate", "{empty}"], "no .csv traces"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(tmp_path, walk_file, argv, expected):
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = [a.format(walk=walk_file, empty=empty) for a in argv]
    proc = subprocess.run(STEPCLIP + argv, capture_output=True, text=True)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and expected in proc.stderr
    assert "Traceback" not in proc.stderr


def test_detect_and_evaluate_at_10_hz_read_a_12_5_hz_recording(capsys, tmp_path):
    """12.5 Hz is not a device setting, but a recording at 12.5 Hz (as the Bangle.js ones) is read
    and resampled to whatever device rate is asked."""
    path = tmp_path / "wrist.csv"
    tracefile.write(path, synth.generate([synth.stand(3), synth.walk(40), synth.stand(3)], rate_hz=12.5, seed=3))
    for cmd in ("detect", "evaluate"):
        code, out, _ = run_cli(capsys, cmd, str(path), "--rate", "10", "--json")
        assert code == 0
        got = json.loads(out)
        assert got["settings"]["rate_hz"] == 10 and got["files"][0]["counted"] > 50


def test_every_command_has_help():
    commands = ["detect", "evaluate", "emulate", "synth", "sync", "plan", "report", "day", "device", "share", "export",
                "record", "deploy", "demo", "battery"]
    top = subprocess.run(STEPCLIP + ["--help"], capture_output=True, text=True).stdout
    assert all(c in top for c in commands)
    for argv in [[]] + [[c] for c in commands] + [["device", "list"], ["device", "attach"]]:
        proc = subprocess.run(STEPCLIP + argv + ["--help"], capture_output=True, text=True)
        assert proc.returncode == 0 and "usage: stepclip" in proc.stdout


@pytest.mark.skipif(not detector.has_micropython(), reason="micropython unix port not installed")
def test_demo_runs_the_whole_workflow_and_writes_the_chart(tmp_path):
    proc = subprocess.run(STEPCLIP + ["demo", "--out", str(tmp_path)], capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "synthetic" in out and "19 days synced" in out
    assert out.count("General guidance, not medical advice.") == 1
    assert (tmp_path / "stepclip-demo.png").read_bytes()[:4] == b"\x89PNG"
    assert f"chart: {tmp_path / 'stepclip-demo.png'}" in out
    # the day the clip lay on the table is left out by the clip's own wear time, and that week is met
    assert "(forgot the clip on the table)" in out and "its own wear time leaves that day out" in out
    assert "not worn enough (0 h " in out and "marked not worn" not in out
    assert out.count("worn 10 h 05 min") == 18
    week1 = next(line for line in out.splitlines() if line.startswith("  Week:") and "not worn, left out" in line)
    assert ": met," in week1
    # what today needs, and the last sync
    assert any(line.startswith("Today (") and "the week's goal" in line for line in out.splitlines())
    assert "Last synced: " in out and "(today)" in out
    # the page to share, beside the chart
    page = tmp_path / "stepclip-demo.html"
    assert f"page to share with the therapist: {page}" in out
    assert "data:image/png;base64," in page.read_text()
    # the battery: charged every eighth evening, the estimate from the days since the last charge
    assert "(USB power)" in out and "A charge lasts about " in out
    assert (tmp_path / "stepclip-demo-battery.png").read_bytes()[:4] == b"\x89PNG"
    # every day the device counted what the synthetic walker walked, within 1%
    for line in out.splitlines():
        if "walked" in line:
            words = line.split()
            walked, counted = int(words[3].replace(",", "")), int(words[7].replace(",", ""))
            assert abs(counted - walked) <= 0.01 * walked, line


def test_plan_report_and_export_on_a_database(tmp_path, capsys):
    from datetime import date, datetime, timedelta

    from stepclip.store import Database

    db_path = tmp_path / "s.db"
    first = date(2026, 11, 2)
    with Database(db_path) as db, db.transaction():
        db.put_device("e0000000000000c1", {"fw": "0.1.0", "proto": "1"}, datetime(2026, 11, 27))
        for i in range(21):
            db.put_day("e0000000000000c1", {"date": (first + timedelta(days=i)).isoformat(), "steps": 3000 + 100 * i, "brisk": 5, "overruns": 0, "hours": [0] * 24}, datetime(2026, 11, 27))
    code, out, _ = run_cli(capsys, "plan", "--age", "64", "--db", db_path)
    assert code == 0 and "6,000" in out
    code, out, _ = run_cli(capsys, "report", "--json", "--db", db_path, "--week", "2026-11-20")
    assert code == 0
    doc = json.loads(out)
    assert {"date", "steps"} <= set(doc["days"][0])
    code, out, _ = run_cli(capsys, "export", "--db", db_path)
    assert code == 0 and len(out.strip().splitlines()) == 22
    code, _, err = run_cli(capsys, "plan", "--age", "sixty", "--db", db_path)
    assert code == 2 and "age" in err


def _subcommands(parser, prefix=""):
    """{"device list": its parser, ...} for every (sub)command."""
    import argparse

    out = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                inner = _subcommands(sub, f"{prefix}{name} ")
                out.update(inner or {f"{prefix}{name}": sub})
    return out


def _readme_usage():
    """{"device list": the options its usage line in README.md names}."""
    import re

    usage, current = {}, None
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for block in re.findall(r"```\n(.*?)```", text, re.S):
        for line in block.splitlines():
            m = re.match(r"stepclip ((?:[a-z]+)(?: (?:list|attach))?)\b(.*)", line)
            if m and not line.startswith("stepclip " + m.group(1) + "  "):  # not a "stepclip sync   # comment"
                current = m.group(1)
                usage.setdefault(current, set()).update(re.findall(r"--[a-z][a-z-]*", m.group(2).split("#")[0]))
            elif current and line.startswith(" ") and not line.lstrip().startswith("#"):
                usage[current].update(re.findall(r"--[a-z][a-z-]*", line.split("#")[0]))
            else:
                current = None
    return usage


def test_readme_usage_of_every_command_names_every_option_it_takes():
    usage = _readme_usage()
    for name, sub in _subcommands(cli.build_parser()).items():
        options = {o for a in sub._actions for o in a.option_strings if o.startswith("--")} - {"--help", "--db"}
        assert name in usage, f"no usage line for `stepclip {name}` in README.md"
        assert options <= usage[name], f"README's `stepclip {name}` lacks {sorted(options - usage[name])}"
        assert usage[name] <= options | {"--db"}, f"README's `stepclip {name}` names {sorted(usage[name] - options)}"


def test_readme_names_exactly_the_commands_that_take_db():
    import re

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    sentence = re.search(r"\n((?:`[a-z]+`,?\s(?:and\s)?)+)take `--db FILE`", text)
    assert sentence, "README.md has no sentence naming the commands that take --db FILE"
    named = set(re.findall(r"`([a-z]+)`", sentence.group(1)))
    with_db = {name.split()[0] for name, sub in _subcommands(cli.build_parser()).items()
               if any("--db" in a.option_strings for a in sub._actions)}
    assert named == with_db


def test_no_help_shows_a_doubled_percent_sign():
    for name in _subcommands(cli.build_parser()):
        proc = subprocess.run(STEPCLIP + name.split() + ["--help"], capture_output=True, text=True)
        assert proc.returncode == 0 and "%%" not in proc.stdout, name

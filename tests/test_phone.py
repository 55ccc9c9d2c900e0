"""`stepclip import` (host/stepclip/phone.py): phone app recordings into traces.

Each test writes a synthetic walk (synth.py) as a phone app would record it:
irregular timestamps (each interval the app's nominal period +-15 %), the walk's
acceleration at those times, in the app's units and CSV layout. The layouts come
from the apps' own sources, as phone.py's docstring says in full:

- phyphox: phyphox-android DataExport.CsvFormat (quoted header, five separator and
  decimal-mark choices, numbers as 0.000000000E0, NaN padding) and the export set
  of its accelerometer experiment ("Time (s)", "Acceleration x (m/s^2)", ...,
  "Absolute acceleration (m/s^2)");
- Physics Toolbox Sensor Suite: the g-Force Meter's "time,gFx,gFy,gFz,TgF" (Android;
  time in seconds or as a clock HH:MM:SS:mmm) and "time,gFx,gFy,gFz,gFTotal" (iOS,
  "YYYY-MM-DD HH:MM:SS.ffff"), in g;
- Sensor Logger: awesome-sensor-logger UNITS.md and a real export (header
  "time,seconds_elapsed,z,y,x", ns since the epoch, m/s^2; TotalAcceleration.csv
  with gravity, Accelerometer.csv without, Gravity.csv).

Imported, `stepclip detect` must count what it counts on the synthetic trace itself.
"""
import json
import re

import numpy as np
import pytest

from stepclip import cli, phone, synth
from stepclip import trace as tracefile

G = 9.80665


@pytest.fixture(scope="module")
def walk():
    return synth.generate([synth.stand(3), synth.walk(60, cadence_spm=105, turn=True), synth.stand(3)], rate_hz=100, seed=7)


@pytest.fixture(scope="module")
def walk_count(walk, tmp_path_factory):
    path = tmp_path_factory.mktemp("orig") / "walk.csv"
    tracefile.write(path, walk)
    return detect(path)


def detect(path):
    """`stepclip detect --json` on one file: the count."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert cli.main(["detect", str(path), "--json"]) == 0
    return json.loads(buf.getvalue())["files"][0]["counted"]


def phone_samples(tr, rate, seed=0):
    """(t in ms from the start, milli-g (n, 3)): the walk sampled at irregular times around `rate`."""
    rng = np.random.default_rng(seed)
    dt = 1000.0 / rate * (1 + rng.uniform(-0.15, 0.15, int(tr.duration_s * rate) + 10))
    t = np.concatenate([[0.0], np.cumsum(dt)])
    t = t[t <= tr.t_ms[-1]]
    return t, np.column_stack([np.interp(t, tr.t_ms, tr.xyz[:, a]) for a in range(3)])


def java_sci(v):
    """A number as phyphox writes it: Java DecimalFormat '0.000000000E0' (1.234567890E-2)."""
    mant, exp = f"{v:.9E}".split("E")
    return f"{mant}E{int(exp)}"


def write_phyphox(path, t, mg, sep=",", decimal=".", linear=False):
    ms2 = mg / 1000.0 * G
    name = "Linear Acceleration" if linear else "Acceleration"
    cols = ["Time (s)"] + [f"{name} {a} (m/s^2)" for a in "xyz"] + ["Absolute acceleration (m/s^2)"]
    rows = [sep.join(f'"{c}"' for c in cols)]
    for ti, (x, y, z) in zip(t, ms2):
        vals = [ti / 1000.0, x, y, z, (x * x + y * y + z * z) ** 0.5]
        rows.append(sep.join(java_sci(v).replace(".", decimal) for v in vals))
    rows.append(sep.join([java_sci(t[-1] / 1000.0 + 0.01).replace(".", decimal)] + ["NaN"] * 4))  # padding
    path.write_text("\n".join(rows) + "\n")


def write_physics_toolbox(path, t, mg, time="s", sep=",", decimal=".", gyro=False):
    """gyro: a multi-sensor recording, each sample followed by a gyroscope row whose g cells are empty."""
    g = mg / 1000.0
    total = "gFTotal" if time == "date" else "TgF"
    rows = [sep.join(["time", "gFx", "gFy", "gFz", total] + (["wx", "wy", "wz"] if gyro else []))]
    for ti, (x, y, z) in zip(t, g):
        if time == "s":
            stamp = f"{ti / 1000.0:.3f}"
        elif time == "clock":  # starts 30 s before midnight
            s = (86_370_000 + ti) % 86_400_000 / 1000.0
            stamp = f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}:{int(s % 60):02d}:{int(round(s % 1 * 1000)) % 1000:03d}"
        else:
            s = 63_000 + ti / 1000.0
            stamp = f"2018-10-03 {int(s // 3600):02d}:{int(s % 3600 // 60):02d}:{s % 60:07.4f}"
        vals = [f"{v:.3f}".replace(".", decimal) for v in (x, y, z, (x * x + y * y + z * z) ** 0.5)]
        rows.append(sep.join([stamp] + vals + ([""] * 3 if gyro else [])))
        if gyro:
            rows.append(sep.join([f"{ti / 1000.0 + 0.002:.3f}", "", "", "", "", "0.01", "-0.02", "0.03"]))
    path.write_text("\n".join(rows) + "\n")


def write_sensor_logger(path, t, mg, start_ns=1679068247354694100):
    ms2 = mg / 1000.0 * G
    rows = ["time,seconds_elapsed,z,y,x"]
    for ti, (x, y, z) in zip(t, ms2):
        rows.append(f"{start_ns + int(round(ti * 1e6))},{0.155 + ti / 1000.0},{z},{y},{x}")
    path.write_text("\n".join(rows) + "\n")


def gravity_of(mg, n=100):
    """Each axis's running mean over n samples: what the phone reports as gravity."""
    kernel = np.ones(n) / n
    return np.column_stack([np.convolve(np.pad(mg[:, a], (n // 2, n - 1 - n // 2), mode="edge"), kernel, "valid") for a in range(3)])


def run_import(*argv):
    return cli.main(["import", *map(str, argv)])


def imported(out, name):
    return tracefile.read(out / name)


# --- every format: the same steps as the synthetic walk ------------------------------------------------


@pytest.mark.parametrize("sep, decimal", [(",", "."), ("\t", "."), (";", "."), ("\t", ","), (";", ",")])
def test_phyphox_acceleration_with_g_counts_as_the_walk(tmp_path, walk, walk_count, sep, decimal):
    t, mg = phone_samples(walk, 100, seed=1)
    src = tmp_path / "Raw Data.csv"
    write_phyphox(src, t, mg, sep, decimal)
    assert run_import(src, "--out", tmp_path / "out", "--steps", walk.steps, "--placement", "belt") == 0
    name = f"{tmp_path.name}-Raw-Data.csv"  # phyphox names every file so: the folder comes first
    tr = imported(tmp_path / "out", name)
    assert tr.rate_hz == 100 and tr.steps == walk.steps and tr.meta["placement"] == "belt"
    assert tr.meta["source"].startswith("Raw Data.csv (phyphox 'Acceleration with g' export), imported with stepclip import: m/s^2 to mg")
    assert tr.duration_s == pytest.approx(walk.duration_s, abs=0.1)
    assert detect(tmp_path / "out" / name) == walk_count


@pytest.mark.parametrize("time, sep, decimal, gyro", [("s", ",", ".", False), ("clock", ",", ".", False),
                                                     ("date", ",", ".", False), ("s", ";", ",", False), ("s", ",", ".", True)])
def test_physics_toolbox_g_force_counts_as_the_walk(tmp_path, walk, walk_count, time, sep, decimal, gyro):
    t, mg = phone_samples(walk, 200, seed=2)
    src = tmp_path / "2024-05-01 walk.csv"
    write_physics_toolbox(src, t, mg, time, sep, decimal, gyro)
    assert run_import(src, "--out", tmp_path) == 0
    tr = imported(tmp_path, "2024-05-01-walk.csv")
    assert tr.rate_hz == 200 and "Physics Toolbox Sensor Suite g-Force Meter" in tr.meta["source"]
    assert tr.duration_s == pytest.approx(walk.duration_s, abs=0.1)  # across midnight, for the clock
    assert detect(tmp_path / "2024-05-01-walk.csv") == walk_count


def test_sensor_logger_total_acceleration_counts_as_the_walk(tmp_path, walk, walk_count):
    t, mg = phone_samples(walk, 50, seed=3)
    folder = tmp_path / "2023-03-17_15-50-47"
    folder.mkdir()
    write_sensor_logger(folder / "TotalAcceleration.csv", t, mg)
    assert run_import(folder / "TotalAcceleration.csv", "--out", tmp_path / "out") == 0
    tr = imported(tmp_path / "out", "2023-03-17_15-50-47-TotalAcceleration.csv")
    assert tr.rate_hz == 50 and tr.meta["recorded"] == "2023-03-17T15:50:47+00:00"
    assert detect(tmp_path / "out" / "2023-03-17_15-50-47-TotalAcceleration.csv") == walk_count


def test_sensor_logger_accelerometer_is_summed_with_its_gravity(tmp_path, walk, walk_count):
    t, mg = phone_samples(walk, 100, seed=4)
    gravity = gravity_of(mg)
    write_sensor_logger(tmp_path / "Accelerometer.csv", t, mg - gravity)  # iOS: no gravity in it
    write_sensor_logger(tmp_path / "Gravity.csv", t, gravity)
    assert run_import(tmp_path / "Accelerometer.csv", "--out", tmp_path / "out") == 0
    tr = imported(tmp_path / "out", f"{tmp_path.name}-Accelerometer.csv")
    assert "summed with Gravity.csv" in tr.meta["source"]
    assert detect(tmp_path / "out" / f"{tmp_path.name}-Accelerometer.csv") == walk_count


def test_generic_csv_with_named_columns_and_units(tmp_path, walk, walk_count):
    t, mg = phone_samples(walk, 100, seed=5)
    src = tmp_path / "logger.csv"
    rows = ["ts_ms;ax_g;ay_g;az_g;temp"] + [f"{ti:.1f};{x / 1000:.4f};{y / 1000:.4f};{z / 1000:.4f};21" for ti, (x, y, z) in zip(t + 5e5, mg)]
    src.write_text("\n".join(rows) + "\n")
    assert run_import(src, "--out", tmp_path / "o", "--time-col", "ts_ms", "--x-col", "2", "--y-col", "ay_g",
                      "--z-col", "4", "--time-unit", "ms", "--accel-unit", "g") == 0
    tr = imported(tmp_path / "o", "logger.csv")
    assert tr.t_ms[0] == 0 and tr.rate_hz == 100
    assert detect(tmp_path / "o" / "logger.csv") == walk_count


def test_a_pause_in_the_recording_stays_a_gap(tmp_path, walk):
    t, mg = phone_samples(walk, 100, seed=6)
    t = np.where(t > 30_000, t + 600_000, t)  # paused for 10 minutes after 30 s
    write_phyphox(tmp_path / "paused.csv", t, mg)
    assert run_import(tmp_path / "paused.csv", "--out", tmp_path / "o") == 0
    tr = imported(tmp_path / "o", "paused.csv")
    assert tr.duration_s == pytest.approx(walk.duration_s + 600, abs=0.1)
    assert len(tr) == pytest.approx(walk.duration_s * 100, abs=3)  # the pause is not filled in
    assert "1 pause(s) over 1 s kept as gaps" in tr.meta["source"]


# --- refused, in one line --------------------------------------------------------------------------


def refused(capsys, *argv):
    assert run_import(*argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("stepclip: "), err
    return err


def test_acceleration_without_gravity_is_refused_by_name_and_by_size(tmp_path, walk, capsys):
    t, mg = phone_samples(walk, 100, seed=8)
    linear = mg - gravity_of(mg)
    write_phyphox(tmp_path / "lin.csv", t, linear, linear=True)
    assert "phyphox 'Linear Acceleration' export: acceleration without gravity" in refused(capsys, tmp_path / "lin.csv", "--out", tmp_path)
    ptb = tmp_path / "ptb.csv"
    ptb.write_text("time,ax,ay,az,aT\n0.010,0.1,0.2,0.3,0.37\n0.020,0.1,0.2,0.3,0.37\n")
    assert "Linear Accelerometer recording (ax, ay, az, aT)" in refused(capsys, ptb, "--out", tmp_path)
    write_sensor_logger(tmp_path / "Accelerometer.csv", t, linear)  # no Gravity.csv beside it
    err = refused(capsys, tmp_path / "Accelerometer.csv", "--out", tmp_path)
    assert "Accelerometer.csv is acceleration without gravity" in err and "TotalAcceleration.csv" in err
    write_sensor_logger(tmp_path / "Gravity.csv", t, gravity_of(mg))
    assert "Gravity.csv is gravity alone" in refused(capsys, tmp_path / "Gravity.csv", "--out", tmp_path)
    # any format: a recording whose typical magnitude is far from 1 g
    src = tmp_path / "other.csv"
    src.write_text("t,x,y,z\n" + "".join(f"{i / 100},{v[0]},{v[1]},{v[2]}\n" for i, v in enumerate(linear / 1000 * G)))
    assert re.search(r"typically 0\.\d+ g, not about 1 g: acceleration without gravity",
                     refused(capsys, src, "--out", tmp_path, "--format", "generic"))
    assert not list(tmp_path.glob("*/*.csv")) and not (tmp_path / "lin.csv").with_suffix(".trace").exists()


def test_other_bad_files_and_arguments(tmp_path, walk, capsys):
    t, mg = phone_samples(walk, 100, seed=9)
    src = tmp_path / "rec.csv"
    write_phyphox(src, t, mg)
    lines = src.read_text().splitlines()
    src.write_text("\n".join(lines[:50] + ['1.0E0,oops,1.0E0,9.8E0,1.0E1'] + lines[51:]) + "\n")
    assert re.search(r"rec\.csv:51: x is not a number: 'oops'$", refused(capsys, src, "--out", tmp_path / "o").strip())
    jump = tmp_path / "jump.csv"
    write_physics_toolbox(jump, np.where(t > 20_000, t + 10 * 365 * 86_400_000.0, t), mg)
    assert "gap of 87600 hours at line" in refused(capsys, jump, "--out", tmp_path / "o")
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("a,b,c\n1,2,3\n")
    assert "cannot tell which app wrote this" in refused(capsys, unknown, "--out", tmp_path / "o")
    assert "not a phyphox export" in refused(capsys, unknown, "--out", tmp_path / "o", "--format", "phyphox")
    trace_file = tmp_path / "t.csv"
    tracefile.write(trace_file, walk)
    assert "already a stepclip trace" in refused(capsys, trace_file, "--out", tmp_path / "o")
    assert "--steps is the true step count of one recording" in refused(capsys, src, unknown, "--out", tmp_path, "--steps", "5")
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_a_seconds_column_imported_as_nanoseconds_is_refused_as_an_implausible_rate(tmp_path, walk, capsys):
    t, mg = phone_samples(walk, 100, seed=11)
    src = tmp_path / "Raw Data.csv"
    src.write_text("n,t,x,y,z\n" + "".join(f"{i},{ti / 1000:.4f},{x / 1000 * G:.4f},{y / 1000 * G:.4f},{z / 1000 * G:.4f}\n"
                                           for i, (ti, (x, y, z)) in enumerate(zip(t, mg))))
    err = refused(capsys, src, "--out", tmp_path / "o", "--format", "generic", "--time-col", "2", "--x-col", "3",
                  "--y-col", "4", "--z-col", "5", "--time-unit", "ns")
    assert "Raw Data.csv" in err and "not an accelerometer's rate (1-10,000 Hz): a wrong --time-unit?" in err
    assert not (tmp_path / "o").exists()  # nothing written, not even the folder


def test_a_time_of_1e300_gives_a_short_number_in_the_message(tmp_path, capsys):
    src = tmp_path / "far.csv"
    src.write_text("t,x,y,z\n0,0,0,9.8\n0.01,0,0,9.8\n1e300,0,0,9.8\n")
    err = refused(capsys, src, "--out", tmp_path / "o", "--format", "generic")
    assert "gap of 2.78e+296 hours at line 4" in err and len(err) < 200, err


def test_sensor_logger_gravity_covering_only_part_of_the_recording_is_refused(tmp_path, walk, capsys):
    t, mg = phone_samples(walk, 100, seed=12)
    gravity = gravity_of(mg)
    write_sensor_logger(tmp_path / "Accelerometer.csv", t, mg - gravity)
    half = t < t[-1] / 2
    write_sensor_logger(tmp_path / "Gravity.csv", t[half], gravity[half])  # gravity for the first half only
    err = refused(capsys, tmp_path / "Accelerometer.csv", "--out", tmp_path / "o")
    assert "Gravity.csv: covers only part of Accelerometer.csv (the last 33 s have no gravity)" in err, err
    assert not (tmp_path / "o").exists()


def test_a_bad_file_does_not_stop_the_others(tmp_path, walk, capsys):
    t, mg = phone_samples(walk, 100, seed=10)
    write_phyphox(tmp_path / "good.csv", t, mg)
    (tmp_path / "bad.csv").write_text("x\n")
    assert run_import(tmp_path / "bad.csv", tmp_path / "good.csv", "--out", tmp_path / "o") == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "bad.csv" in err
    assert out.startswith(f"{tmp_path / 'good.csv'} -> {tmp_path / 'o' / 'good.csv'}: phyphox, 1.1 min, ")
    assert (tmp_path / "o" / "good.csv").exists()


def test_output_names():
    assert phone.output_name("/x/2023-03-17_15-50-47/TotalAcceleration.csv") == "2023-03-17_15-50-47-TotalAcceleration.csv"
    assert phone.output_name("/x/walk 2/Raw Data.csv") == "walk 2-Raw-Data.csv".replace(" ", "-")
    assert phone.output_name("my walk.csv") == "my-walk.csv"

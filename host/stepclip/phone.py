"""Recordings from phone apps into stepclip traces (`stepclip import`).

People try a step counter with their phone first. This module reads the CSV
files that three common apps export, converts time to milliseconds and
acceleration to milli-g, puts the irregular phone timestamps on a uniform grid
(sensor.uniform_grid, as the device view does) and returns a
:class:`~stepclip.trace.Trace` naming its source. The step detector needs
acceleration *with* gravity (it removes gravity itself): exports without it are
refused with one line, and so is anything whose typical magnitude is not about
1 g (a wrong unit, or gravity removed under another name).

Where each layout comes from (tests/test_phone.py writes small files in each):

phyphox (RWTH Aachen), experiment "Acceleration with g"
    CSV export written by phyphox-android ``DataExport.CsvFormat``: header names in
    double quotes; separator and decimal mark one of ``,`` and ``.``, tab and
    ``.``, ``;`` and ``.``, tab and ``,``, ``;`` and ``,``; numbers as
    ``0.000000000E0``; ``NaN`` pads a shorter column. Columns from the
    experiment's export set (``assets/experiments/accelerometer.phyphox``):
    ``Time (s)``, ``Acceleration x (m/s^2)``, ``... y ...``, ``... z ...``, and in
    newer versions ``Absolute acceleration (m/s^2)``; time in seconds from the
    start. The "Linear Acceleration" experiment (``linear_accelerometer.phyphox``:
    ``Linear Acceleration x (m/s^2)``...) has no gravity: refused.
Physics Toolbox Sensor Suite (Vieyra Software), g-Force Meter
    ``time,gFx,gFy,gFz,TgF`` (Android) or ``time,gFx,gFy,gFz,gFTotal`` (iOS), in g
    (gravity included: about 1 at rest). ``time`` is seconds from the start, a
    clock ``HH:MM:SS:mmm``, or a date and time ``YYYY-MM-DD HH:MM:SS.ffff`` (iOS);
    ``;`` with a decimal comma also occurs. Multi-sensor recordings leave cells
    of other sensors' rows empty (those rows are skipped). The Linear
    Accelerometer's ``ax,ay,az,aT`` (m/s^2, no gravity) is refused.
Sensor Logger (Kelvin Choi)
    One CSV per sensor in the zipped export, ``time,seconds_elapsed,z,y,x``:
    ``time`` in nanoseconds since the epoch, x, y, z in m/s^2 (g = 9.80665),
    awesome-sensor-logger ``UNITS.md``. ``TotalAcceleration.csv`` includes
    gravity (Android); ``Accelerometer.csv`` does not (on iOS it is the only
    acceleration file), so it is summed with ``Gravity.csv`` from the same folder
    when that is there, and refused otherwise; ``Gravity.csv`` alone is refused.
generic
    Any CSV with a time column and three acceleration columns: ``time_col``,
    ``x_col``... (header names, or column numbers from 1), ``time_unit`` (s, ms,
    us, ns) and ``accel_unit`` (m/s2, g, mg).

Axes are kept as the app gives them (iOS and Android differ in sign); the
detector uses the magnitude, so orientation and sign do not matter.
"""
from __future__ import annotations

import csv
import math
import os
import re
from array import array
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

import numpy as np

from . import sensor
from . import trace as tracefile

FORMATS = ("auto", "phyphox", "physics-toolbox", "sensor-logger", "generic")
G = 9.80665  # standard gravity, m/s^2 per g (what phyphox and Sensor Logger assume)
TIME_UNITS = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "ns": 1e-6}  # to milliseconds
ACCEL_UNITS = {"m/s2": 1000.0 / G, "g": 1000.0, "mg": 1.0}  # to milli-g
MIN_G, MAX_G = 0.5, 2.0  # the median |a| of a recording with gravity lies within these
MAX_MG = 100_000  # +-100 g: beyond any phone's accelerometer
GRAVITY_SLACK_S = 1.0  # Gravity.csv may start or end this much inside Accelerometer.csv (sensors start apart)
PAUSE_MS = 1000  # a longer pause between samples is kept as a gap in the trace


class PhoneFileError(ValueError):
    """A recording that cannot be imported; str() is one line naming the file (and line)."""


@dataclass
class Recording:
    """A phone recording read from its file.

    ``t_ms`` float64 (n,) milliseconds, strictly increasing, first sample at 0;
    ``mg`` float64 (n, 3) milli-g with gravity; ``what`` names the app and file
    kind; ``started`` the wall-clock start (ISO text) when the file tells it."""

    path: str
    fmt: str
    what: str
    t_ms: np.ndarray
    mg: np.ndarray
    units: str
    t0_ms: float = 0.0  # the first sample's time as the file gives it
    started: Optional[str] = None
    dropped: int = 0  # rows without a sample (empty, NaN) or repeating a time


# --- reading the CSV ---------------------------------------------------------------------


def _norm(name):
    """A header name for matching: lower case, without quotes, units in brackets, spaces, _ and -."""
    name = re.sub(r"[\(\[].*?[\)\]]", "", name.strip().strip('"').lower())
    return re.sub(r"[\s_\-]", "", name)


class _Table:
    """A CSV file's header and its rows, read lazily. Leading '#' lines are skipped."""

    def __init__(self, path):
        self.path = path
        try:
            self.f = open(path, encoding="utf-8-sig", newline="")
        except OSError as e:
            raise PhoneFileError(f"{path}: cannot read: {e.strerror or e}") from None
        try:
            first = self._header_line()
        except BaseException:
            self.f.close()
            raise
        self.delimiter = max((",", ";", "\t"), key=lambda d: len(next(csv.reader([first], delimiter=d))))
        self.header = [c.strip() for c in next(csv.reader([first], delimiter=self.delimiter))]
        self.header_line = self.line
        self.has_header = not all(_is_number(c.replace(",", ".")) for c in self.header)
        self.names = [_norm(c) for c in self.header] if self.has_header else []

    def _header_line(self):
        # the first line that is neither blank nor a '#' comment
        self.line = 0
        try:
            while True:
                first = self.f.readline()
                self.line += 1
                if not first:
                    self.fail(None, "empty file")
                if first.startswith("# stepclip-trace:"):
                    self.fail(None, "already a stepclip trace: use it as it is")
                if first.strip() and not first.startswith("#"):
                    break
        except UnicodeDecodeError:
            self.fail(self.line, "not a text file (not UTF-8)")
        if "\x00" in first:
            self.fail(self.line, "not a text file")
        return first

    def fail(self, line, what):
        where = f"{self.path}:{line}" if line else self.path
        raise PhoneFileError(f"{where}: {' '.join(str(what).split())}")

    def rows(self):
        """(line number, fields) of each data row."""
        if not self.has_header:
            yield self.header_line, self.header
        reader = csv.reader(self.f, delimiter=self.delimiter)
        try:
            for fields in reader:
                yield self.header_line + reader.line_num, fields
        except UnicodeDecodeError:
            self.fail(self.header_line + reader.line_num + 1, "not a text file (not UTF-8)")
        except csv.Error as e:
            self.fail(self.header_line + reader.line_num, f"not CSV: {e}")

    def column(self, names):
        """Index of the first column whose normalized name is in names; None if none."""
        for i, n in enumerate(self.names):
            if n in names:
                return i
        return None

    def close(self):
        self.f.close()


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


# --- the formats ---------------------------------------------------------------------------


@dataclass
class _Layout:
    fmt: str
    what: str
    cols: tuple  # column indices of time, x, y, z
    time: str  # "s", "ms", "us", "ns" or "clock" (a time of day or a date and time)
    units: str  # key of ACCEL_UNITS


_LINEAR_HINT = "acceleration without gravity, which the step detector cannot use"


def _phyphox(t: _Table):
    if t.column({"linearaccelerationx"}) is not None:
        t.fail(t.header_line, f"a phyphox 'Linear Acceleration' export: {_LINEAR_HINT}; record with "
                              "phyphox's 'Acceleration with g' instead")
    cols = [t.column({"time"})] + [t.column({f"acceleration{a}"}) for a in "xyz"]
    if None in cols:
        return None
    return _Layout("phyphox", "phyphox 'Acceleration with g' export", tuple(cols), "s", "m/s2")


def _physics_toolbox(t: _Table):
    time = t.column({"time"})
    cols = [time] + [t.column({f"gf{a}"}) for a in "xyz"]
    if None in cols:
        if time is not None and None not in [t.column({f"a{a}"}) for a in "xyz"] + [t.column({"at"})]:
            t.fail(t.header_line, f"a Physics Toolbox Linear Accelerometer recording (ax, ay, az, aT): "
                                  f"{_LINEAR_HINT}; record with its g-Force Meter instead")
        return None
    return _Layout("physics-toolbox", "Physics Toolbox Sensor Suite g-Force Meter recording", tuple(cols), "clock", "g")


def _sensor_logger(t: _Table):
    cols = [t.column({"time"})] + [t.column({a}) for a in "xyz"]
    if None in cols or t.column({"secondselapsed"}) is None:
        return None
    name = os.path.basename(t.path)
    if name == "Gravity.csv":
        t.fail(None, "Sensor Logger's Gravity.csv is gravity alone, without the motion; import "
                     "TotalAcceleration.csv (or Accelerometer.csv with Gravity.csv beside it)")
    return _Layout("sensor-logger", "Sensor Logger export", tuple(cols), "ns", "m/s2")


_SNIFFERS = {"phyphox": _phyphox, "physics-toolbox": _physics_toolbox, "sensor-logger": _sensor_logger}
_TIME_NAMES = {"time", "t", "timestamp", "tms", "seconds", "sec", "elapsed"}


def _generic(t: _Table, time_col, x_col, y_col, z_col, time_unit, accel_unit):
    guesses = [_TIME_NAMES] + [{a, f"a{a}", f"acc{a}", f"accel{a}", f"acceleration{a}", f"gf{a}"} for a in "xyz"]
    cols = []
    for given, names, what in zip((time_col, x_col, y_col, z_col), guesses, ("time", "x", "y", "z")):
        if given is None:
            i = t.column(names) if t.has_header else None
            if i is None:
                t.fail(None, f"generic: which column is {what}? give --{what}-col")
        elif re.fullmatch(r"\d+", str(given)):
            i = int(given) - 1
            if not 0 <= i < len(t.header):
                t.fail(t.header_line, f"--{what}-col {given}: the file has {len(t.header)} columns")
        else:
            try:
                i = [c.strip('"') for c in t.header].index(str(given)) if t.has_header else None
            except ValueError:
                i = None
            if i is None:
                t.fail(t.header_line, f"--{what}-col {given!r}: no such column (the header: "
                                      f"{t.delimiter.join(t.header)[:80]!r})")
        cols.append(i)
    if time_unit not in TIME_UNITS:
        raise PhoneFileError(f"--time-unit {time_unit!r}: choose one of {', '.join(TIME_UNITS)}")
    if accel_unit not in ACCEL_UNITS:
        raise PhoneFileError(f"--accel-unit {accel_unit!r}: choose one of {', '.join(ACCEL_UNITS)}")
    return _Layout("generic", "CSV recording", tuple(cols), time_unit, accel_unit)


# --- time stamps ---------------------------------------------------------------------------

_CLOCK = re.compile(r"(\d{1,2}):(\d\d):(\d\d)[:.](\d+)")
_DATETIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?")


def _time_parser(unit, first):
    """A function text -> milliseconds (float), for a column whose first value is `first`."""
    if unit == "clock":  # Physics Toolbox: seconds, a time of day, or a date and time
        first = first.strip()
        if _DATETIME.fullmatch(first):
            return lambda v: datetime.fromisoformat(v.strip()).timestamp() * 1000.0
        if _CLOCK.fullmatch(first):
            def clock(v):
                m = _CLOCK.fullmatch(v.strip())
                if not m:
                    raise ValueError(v)
                h, mi, s, frac = m.groups()
                return ((int(h) * 60 + int(mi)) * 60 + int(s)) * 1000.0 + float("0." + frac) * 1000.0
            return clock
        unit = "s"
    if unit == "ns":  # integers beyond float precision: convert exactly
        return lambda v: int(v) / 1e6 if v.strip().lstrip("-").isdigit() else float(v) * 1e-6
    scale = TIME_UNITS[unit]
    return lambda v: float(v) * scale


# --- reading a file --------------------------------------------------------------------------


def read(path, fmt="auto", time_col=None, x_col=None, y_col=None, z_col=None, time_unit="s", accel_unit="m/s2"):
    """Read a phone recording (see the module docstring for the formats).

    fmt: one of FORMATS; with "auto" the app is known by the file's header.
    The generic options apply to fmt "generic". Returns a :class:`Recording`;
    raises PhoneFileError (one line) for a file that cannot be imported."""
    path = os.fspath(path)
    if fmt not in FORMATS:
        raise PhoneFileError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    table = _Table(path)
    try:
        layout = None
        if fmt == "generic":
            layout = _generic(table, time_col, x_col, y_col, z_col, time_unit, accel_unit)
        elif fmt != "auto":
            layout = _SNIFFERS[fmt](table) if table.has_header else None
            if layout is None:
                table.fail(table.header_line, f"not a {fmt} export: its header is "
                                              f"{table.delimiter.join(table.header)[:80]!r}")
        else:
            for sniff in _SNIFFERS.values():
                layout = sniff(table) if table.has_header else None
                if layout:
                    break
            if layout is None:
                table.fail(table.header_line, f"cannot tell which app wrote this (its header is "
                                              f"{table.delimiter.join(table.header)[:80]!r}); give --format "
                                              "generic with --time-col, --x-col, --y-col, --z-col")
        rec = _read_rows(table, layout)
    finally:
        table.close()
    if layout.fmt == "sensor-logger" and os.path.basename(path) == "Accelerometer.csv":
        rec = _with_gravity(rec)
    _check_magnitude(rec, layout)
    return rec


def _read_rows(table, layout):
    cols = layout.cols
    width = max(cols) + 1
    t = array("d")
    xyz = (array("d"), array("d"), array("d"))
    scale = ACCEL_UNITS[layout.units]
    parse_time = None
    decimal_comma = None
    dropped = 0
    last_t = -math.inf
    for line, fields in table.rows():
        if not fields or not "".join(fields).strip():
            continue
        if len(fields) < width:
            if len(fields) == 1 and fields[0].lstrip().startswith("#"):
                continue
            table.fail(line, f"expected at least {width} columns, found {len(fields)}")
        values = [fields[c].strip() for c in cols]
        if any(v == "" or v.lower() == "nan" for v in values):  # another sensor's row, or padding
            dropped += 1
            continue
        if decimal_comma is None:
            decimal_comma = table.delimiter != "," and any("," in v for v in values[1:])
        if decimal_comma:
            values = [v.replace(",", ".") for v in values]
        if parse_time is None:
            parse_time = _time_parser(layout.time, values[0])
        try:
            ms = parse_time(values[0])
        except (ValueError, OverflowError):
            table.fail(line, f"time is not a time: {fields[cols[0]].strip()[:40]!r}")
        for k, axis in enumerate("xyz"):
            try:
                v = float(values[k + 1]) * scale
            except ValueError:
                table.fail(line, f"{axis} is not a number: {fields[cols[k + 1]].strip()[:40]!r}")
            if not abs(v) <= MAX_MG:  # also NaN, inf
                table.fail(line, f"{axis} is {values[k + 1]} {layout.units}: beyond +-100 g, not an acceleration "
                                 f"in {layout.units}")
            xyz[k].append(v)
        if not math.isfinite(ms):
            table.fail(line, f"time is not a time: {values[0]!r}")
        if layout.time == "clock" and ms < last_t - 12 * 3_600_000 and _CLOCK.fullmatch(values[0]):
            ms += 24 * 3_600_000 * math.floor((last_t - ms) / (24 * 3_600_000) + 0.5)  # past midnight
        if ms <= last_t:
            if ms < last_t - 1000:
                table.fail(line, f"time goes backwards by {tracefile.readable((last_t - ms) / 1000)} s")
            for a in xyz:  # the same time again (apps repeat a stamp now and then): keep the first
                a.pop()
            dropped += 1
            continue
        if ms - last_t > tracefile.MAX_GAP_MS and last_t > -math.inf:
            gap = tracefile.readable((ms - last_t) / 3_600_000)
            table.fail(None, f"gap of {gap} hours at line {line} (a recording may "
                             "pause for at most 1 hour: split it there)")
        t.append(ms)
        last_t = ms
    if len(t) < 2:
        table.fail(None, "fewer than 2 samples")
    t_ms = np.frombuffer(t, dtype=np.float64)
    started = None
    if layout.time in ("ns", "clock") and t_ms[0] > 1e11:  # epoch time: the recording's start
        started = datetime.fromtimestamp(t_ms[0] / 1000.0, timezone.utc).isoformat(timespec="seconds")
    mg = np.column_stack([np.frombuffer(a, dtype=np.float64) for a in xyz])
    return Recording(table.path, layout.fmt, layout.what, t_ms - t_ms[0], mg, layout.units, float(t_ms[0]), started, dropped)


def _with_gravity(rec):
    """Sensor Logger's Accelerometer.csv (no gravity) plus the Gravity.csv beside it,
    interpolated onto its times (Sensor Logger's own advice: UNITS.md)."""
    gravity_path = os.path.join(os.path.dirname(rec.path), "Gravity.csv")
    if not os.path.exists(gravity_path):
        raise PhoneFileError(
            f"{rec.path}: Sensor Logger's Accelerometer.csv is {_LINEAR_HINT}; import TotalAcceleration.csv "
            "(Android), or keep Gravity.csv from the same recording beside it"
        )
    table = _Table(gravity_path)
    try:
        cols = (table.column({"time"}),) + tuple(table.column({a}) for a in "xyz")
        if None in cols:
            table.fail(table.header_line, "not a Sensor Logger Gravity.csv: no time, x, y, z columns")
        g = _read_rows(table, _Layout("sensor-logger", "", cols, "ns", "m/s2"))
    finally:
        table.close()
    t = rec.t_ms + rec.t0_ms
    tg = g.t_ms + g.t0_ms
    if tg[-1] < t[0] or tg[0] > t[-1]:
        raise PhoneFileError(f"{gravity_path}: its times do not overlap those of {os.path.basename(rec.path)}")
    early, late = (tg[0] - t[0]) / 1000, (t[-1] - tg[-1]) / 1000
    if early > GRAVITY_SLACK_S or late > GRAVITY_SLACK_S:  # np.interp would hold gravity still there
        missing = " and ".join(f"the {w} {tracefile.readable(s)} s" for w, s in (("first", early), ("last", late))
                               if s > GRAVITY_SLACK_S)
        raise PhoneFileError(f"{gravity_path}: covers only part of {os.path.basename(rec.path)} "
                             f"({missing} have no gravity); export the two from the same recording")
    for a in range(3):
        rec.mg[:, a] += np.interp(t, tg, g.mg[:, a])
    rec.what = "Sensor Logger export, summed with Gravity.csv"
    return rec


def _check_magnitude(rec, layout):
    median = float(np.median(np.sqrt(np.einsum("ij,ij->i", rec.mg, rec.mg)))) / 1000.0
    if not MIN_G <= median <= MAX_G:
        hint = (f"{_LINEAR_HINT} (or a wrong --accel-unit)" if median < MIN_G else
                "a wrong --accel-unit?" if layout.fmt == "generic" else "not an acceleration in " + layout.units)
        raise PhoneFileError(f"{rec.path}: the acceleration is typically {median:.3g} g, not about 1 g: {hint}")


# --- into a trace ------------------------------------------------------------------------------

#: Names the apps give every file; an imported trace is named after its folder too.
_APP_FILE_NAMES = {"totalacceleration", "accelerometer", "rawdata", "sensor", "phyphox"}


def output_name(path):
    """The trace file name for a recording: its name (spaces as '-'), with its folder's name
    in front when the app gives every file that name (Sensor Logger, phyphox)."""
    path = os.path.abspath(os.fspath(path))
    stem = os.path.splitext(os.path.basename(path))[0]
    if _norm(stem) in _APP_FILE_NAMES:
        stem = f"{os.path.basename(os.path.dirname(path))}-{stem}"
    return re.sub(r"\s+", "-", stem.strip()) + ".csv"


def to_trace(rec, steps=None, placement=None):
    """The recording as a stepclip Trace: int milli-g on a uniform grid at the recording's
    median rate (rounded to whole Hz), each stretch between pauses longer than PAUSE_MS put
    on the grid with sensor.uniform_grid and the pauses kept as gaps in t_ms. steps (the true
    count) and placement go into the header, with the source and what was done to it."""
    t, mg = rec.t_ms, rec.mg
    dt = np.diff(t)
    median_hz = 1000.0 / float(np.median(dt))
    if not tracefile.MIN_RATE_HZ <= median_hz <= tracefile.MAX_RATE_HZ:
        raise PhoneFileError(
            f"{rec.path}: {len(t):,} samples over {tracefile.readable((t[-1] - t[0]) / 1000)} s are "
            f"{tracefile.readable(median_hz)} Hz, not an accelerometer's rate "
            f"({tracefile.MIN_RATE_HZ}-{tracefile.MAX_RATE_HZ:,} Hz): a wrong --time-unit?")
    rate = max(1, int(round(median_hz)))
    period = 1000.0 / rate
    breaks = np.flatnonzero(dt > max(PAUSE_MS, 5 * period)) + 1
    bounds = [0, *breaks.tolist(), len(t)]
    parts_t, parts_xyz = [], []
    for a, b in zip(bounds, bounds[1:]):
        xyz, _, _ = sensor.uniform_grid(t[a:b], mg[a:b], None, rate)
        k0 = int(round(t[a] / period))
        parts_t.append(np.rint((k0 + np.arange(len(xyz))) * period).astype(np.int64))
        parts_xyz.append(np.rint(xyz).astype(np.int32))
    t_ms = np.concatenate(parts_t)
    keep = np.concatenate([[True], np.diff(t_ms) > 0])  # a stretch may start in the slot where one ended
    meta = {"units": "mg"}
    if placement:
        meta["placement"] = placement
    if steps is not None:
        meta["steps"] = str(int(steps))
    if rec.started:
        meta["recorded"] = rec.started
    how = "m/s^2 to mg (g = 9.80665 m/s^2)" if rec.units == "m/s2" else f"{rec.units} to mg"
    done = [how, f"{len(t)} samples at irregular times (median {median_hz:.1f} Hz) put on a {rate} Hz grid"]
    if len(breaks):
        done.append(f"{len(breaks)} pause(s) over {max(PAUSE_MS, 5 * period) / 1000:g} s kept as gaps")
    if rec.dropped:
        done.append(f"{rec.dropped} row(s) without a sample or repeating a time skipped")
    meta["source"] = f"{os.path.basename(rec.path)} ({rec.what}), imported with stepclip import: {'; '.join(done)}"
    return tracefile.Trace(rate_hz=rate, t_ms=t_ms[keep], xyz=np.concatenate(parts_xyz)[keep], step=None, meta=meta)

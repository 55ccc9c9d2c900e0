"""stepclip power budget: writes hardware/power.md from its inputs and day profiles.

    python hardware/power.py              # write hardware/power.md (run by `make hardware`)
    python hardware/power.py --emulate    # first measure hardware/profiles/*.json again on the
                                          # emulated device (the realistic day; a few minutes)
    python hardware/power.py --measure    # also re-measure, under the MicroPython unix port,
                                          # the detector's and the driver's cost per sample
    python hardware/power.py --stdout     # print the report instead of writing files
    python hardware/power.py --profile FILE.json [--profile ...]
                                          # compute with these day profiles instead of the defaults

Importable: tests/test_hardware.py checks that every input has a source and the
arithmetic (``breakdown``, ``average_ma``, ``days``, ``deep_fraction_for_target`` ...).

The build
---------
A 1-cell LiPo feeds the Pico's VSYS through a Schottky diode (1N5817); the
LIS3DH breakout takes its supply from the Pico's 3V3(OUT) (hardware/wiring.yml).
No USB host is attached while the device runs on its cell: with a host attached
MicroPython keeps the USB clocks running in lightsleep (3.4 mA instead of 1.3 mA,
../shared/reference/power.md §1 row 10), and the cell charges anyway.

Inputs
------
Every input is an ``Input`` in ``INPUTS`` with a best-case and a budget-case value
and its source: a row of ../shared/reference/power.md ("power.md §1 row 8"), a
measurement of ours (with the command that repeats it), our build (bom.csv,
wiring.yml, config.py), or a part's datasheet or vendor model. Two inputs are
neither; they are listed in ``ESTIMATES`` with what would replace them, and they
set only the Pico's time awake per wake.

The Pico's figures are taken where they were measured on VSYS without USB (the
supply point of this build) and converted to current from the cell at constant
power (power.md §1 row 14: the board "will always draw about the same amount of
energy"): I_cell = P / (V_cell - V_diode(I_cell)). Loads on the 3.3 V rail go
through the Pico's converter: P = I x 3.3 V / efficiency.

- *best case*: the low end of each range, no conversion loss on the 3.3 V rail,
  estimates at their low end.
- *budget case*: the high end of each range, the worst of three boards in
  Raspberry Pi's own measurement (+8 %, row 1) on every Pico figure, the
  converter's efficiency measured at sleep loads (row 34), estimates at their high
  end. Design to this one.

Day profiles
------------
What the firmware did over a stretch of time (a day, 86 400 s, or any length),
independent of the hardware: the seconds it spent in each power state and the
work it did. A small JSON file:

    {
      "format": "stepclip-day-profile 1",
      "name": "deep sleep while still",
      "day": "what the wearer did, in words",
      "source": "where the numbers come from (built from the day; emulated; measured)",
      "seconds": {"lightsleep": 27480, "deepsleep": 58920},
      "wakes": {"fifo": 27480, "motion": 98, "timer": 24},
      "samples": 690136
    }

- ``seconds``: wall time in each power state, seconds (>= 0; their sum, > 0, is
  the length of the profile). ``lightsleep``: the loop that sleeps between FIFO
  reads (machine.lightsleep, woken by INT1 or its timeout) *including* the short
  times awake in between. ``deepsleep``: sleeping through stillness until the
  sensor's motion interrupt (or a timer) wakes the Pico; which Pico state that is
  (lightsleep with a long timeout, or DORMANT) is the design's choice, not the
  profile's. ``awake`` (optional): seconds awake measured on a real device
  (time.ticks_us around the work). Without it the model computes the time awake
  from the wakes and samples (``awake_seconds``) and takes it out of
  ``lightsleep`` (then out of ``deepsleep``).
- ``wakes``: how many times the Pico woke, by cause: ``fifo`` (the FIFO watermark
  or the loop's timeout: a FIFO read), ``motion`` (the LIS3DH's motion interrupt
  ended a deep sleep), ``timer`` (a deep sleep's timeout: the clock, the hourly
  battery reading). Integers >= 0; missing kinds are 0.
- ``samples``: sensor samples read from the FIFO and run through the detector.

Unknown keys, a wrong format line, negative or non-numeric values are errors
(``ProfileError``, one line naming the file and the field). The two default
profiles are measured, not built: ``--emulate`` plays one realistic synthetic day
(``stepclip.day``: 2 h walking in 14 bouts, 4 h moving about, 10 h sitting, 8 h
still at night) on the emulated device, whose board (firmware/board_emulated.py)
counts the time in each state and the wakes (its POWER line): ``today.json`` with
deep sleep off (DEEP_SLEEP_AFTER_S = 0: one wake a second all day) and
``deepsleep.json`` with the firmware as it is.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from stepclip_firmware import config

HERE = Path(__file__).resolve().parent
OUT = HERE / "power.md"
PROFILES_DIR = HERE / "profiles"

# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

KINDS = {
    "reference": "a row of ../shared/reference/power.md",
    "ours": "measured here; the command repeats it",
    "build": "our build: hardware/bom.csv, wiring.yml, firmware/config.py",
    "part": "the datasheet or vendor model of a part in hardware/bom.csv",
    "estimate": "neither sourced nor measured (ESTIMATES says what replaces it)",
}


@dataclass(frozen=True)
class Input:
    """One input of the model: what it is, its best-case and budget-case values
    (floats, in `unit`), its source, and its kind (a key of KINDS). For the Pico's
    currents, `at_v` is the VSYS voltage they were measured at."""
    what: str
    best: float
    budget: float
    unit: str
    source: str
    kind: str = "reference"
    at_v: float | None = None

    def value(self, budget=True):
        return self.budget if budget else self.best


INPUTS = {
    # --- supply ------------------------------------------------------------------
    "cell_v": Input(
        "LiPo cell voltage, average over a discharge", 3.7, 3.7, "V",
        "hardware/bom.csv: a 1-cell 3.7 V LiPo (its nominal voltage)", "build"),
    "diode_is_ua": Input(
        "1N5817 saturation current Is", 31.7, 31.7, "µA",
        "1N5817 (hardware/bom.csv), LTspice standard.dio model: Is = 31.7 µA, N = 1.373, Rs = 0.051 Ω; "
        "drop = N Vt ln(1 + I/Is) + I Rs", "part"),
    "diode_n": Input(
        "1N5817 emission coefficient N", 1.373, 1.373, "", "1N5817, LTspice standard.dio model", "part"),
    "diode_rs_ohm": Input(
        "1N5817 series resistance Rs", 0.051, 0.051, "Ω", "1N5817, LTspice standard.dio model", "part"),
    "capacity_derating": Input(
        "usable share of the rated capacity", 0.9, 0.9, "",
        "power.md, 'What these facts imply': use ~10 % less for cut-off/ageing"),
    "unit_spread": Input(
        "Pico unit-to-unit factor", 1.0, 0.92 / 0.85, "x",
        "power.md §1 row 1: of three Picos in DORMANT the highest drew 0.92 mA, their mean 0.85 mA; "
        "budget case only, on every Pico figure"),
    # --- the Pico, measured on VSYS without USB -------------------------------
    "pico_lightsleep_ma": Input(
        "Pico in machine.lightsleep(ms)", 0.99, 0.99, "mA",
        "power.md §1 row 8: Peter Hinch, lightsleep(5000), 5 V on VSYS, nothing on USB", at_v=5.0),
    "pico_dormant_ma": Input(
        "Pico in DORMANT (GPIO wake)", 0.76, 0.76, "mA",
        "power.md §1 row 5: Raspberry Pi, pico_low_power, VSYS 5.2 V, no USB "
        "(row 6: 0.76 mA at VSYS 5 V, unused GPIOs as inputs)", at_v=5.2),
    "pico_awake_ma": Input(
        "Pico awake, MicroPython running at 125 MHz", 21.0, 21.0, "mA",
        "power.md §1 row 7: Peter Hinch, 5 V on VSYS, MicroPython v1.19 (cpottle9, from USB 5 V, so with "
        "the USB path: 21.24 mA in a busy loop at 125 MHz)",
        at_v=5.0),
    # --- the 3.3 V rail and the sensor board ---------------------------------------
    "rail_v": Input(
        "3.3 V rail (the breakout's supply)", 3.3, 3.3, "V",
        "hardware/wiring.yml: the breakout's VIN on the Pico's 3V3(OUT)", "build"),
    "rail_efficiency": Input(
        "Pico converter efficiency for 3.3 V loads", 1.0, 2.5 / 4.0, "",
        "budget: power.md §3 row 34 (row 5: DORMANT 2.5 mW fed at 3V3, 4.0 mW at VSYS); "
        "best case: no loss, a bound"),
    "lis3dh_ua": Input(
        f"LIS3DH at {config.RATE_HZ} Hz, {config.RESOLUTION_BITS}-bit", 0, 0, "µA",
        "power.md §4 row 35 (datasheet table 12)"),  # value set below from LIS3DH_UA and config
    "sdo_pullup_kohm": Input(
        "LIS3DH SDO/SA0 pull-up", 30.4, 20.4, "kΩ",
        "power.md §4 row 39 (datasheet table 3: 30.4 kΩ at 2.5 V, 20.4 kΩ at 3.6 V); "
        "SDO wired to GND (hardware/wiring.yml), so it leaks 3.3 V / R until CTRL_REG0 = 0x90"),
    "ldo_ua": Input(
        "breakout regulator (AP2112K-3.3) ground current", 55, 55, "µA",
        "power.md §4 row 43 (typical; the row notes the figure was recalled, the datasheet not retrieved)"),
    "led_ma": Input(
        "breakout power LED (green, 10 kΩ from 3.3 V)", 0.10, 0.13, "mA",
        "power.md §4 row 43, from row 41 (the STEMMA QT board's schematic: no cut jumper)"),
    "original_board_ma": Input(
        "original Adafruit 2809 (no STEMMA QT), whole module", 0.775, 0.79, "mA",
        "power.md §4 row 42 (rozzie, Vin = regulated 3.3 V; unchanged with the I2C wires removed)"),
    # --- a wake ---------------------------------------------------------------------
    "detector_us": Input(
        "detector per sample, MicroPython unix port (x86_64, 2.6 GHz)", 1.6, 2.0, "µs",
        "measured: benchmarks/bench_detector.py, 1.6-2.0 µs over runs on this shared machine "
        "(22,126 instructions a sample); `python hardware/power.py --measure` measures again", "ours"),
    "driver_us": Input(
        "LIS3DH.read_fifo per sample (FIFO bytes to milli-g), unix port", 0.37, 0.37, "µs",
        "measured: `python hardware/power.py --measure` (read_fifo over a stub bus, best of 5)", "ours"),
    "wear_us": Input(
        "WearTime.feed per sample, unix port", 0.06, 0.06, "µs",
        "measured: README 'Performance' (benchmarks/bench_detector.py: 1.78 against 1.72 µs a sample "
        "for the step counter alone)", "ours"),
    "rp2040_scale": Input(
        "unix port on the host -> RP2040 at 125 MHz", 100, 150, "x",
        "2.6 GHz / 125 MHz = 21x the clock, 5-7x per clock (in-order Cortex-M0+, MicroPython from "
        "XIP flash)", "estimate"),
    "wake_overhead_ms": Input(
        "per wake: clocks back, MicroPython resuming, the loop's own work", 1.0, 2.0, "ms",
        "in lightsleep the crystal keeps running (power.md §2 row 23: clk_sys on XOSC, PLL_SYS off), "
        "so a wake restarts the PLL and resumes MicroPython", "estimate"),
}

ESTIMATES = {
    "rp2040_scale": "time.ticks_us() around the firmware loop on a Pico (cpu time per sample)",
    "wake_overhead_ms": "a current probe (or ticks_us from wake to sleep) on a Pico",
}

# LIS3DH supply current, µA, by ODR: (low-power 8-bit, normal 10-bit = high-resolution).
# power.md §4 row 35 (LIS3DH datasheet DocID17530 table 12); 200 Hz from ../shared/reference/lis3dh.md.
LIS3DH_UA = {1: (2, 2), 10: (3, 4), 25: (4, 6), 50: (6, 11), 100: (10, 20),
             200: (18, 38), 400: (36, 73)}


def lis3dh_ua(rate_hz=config.RATE_HZ, bits=config.RESOLUTION_BITS):
    """The chip's supply current (µA) at an ODR (Hz) and resolution (8 bits = low-power
    mode). Raises ValueError for a rate the table does not have."""
    try:
        lp, normal = LIS3DH_UA[int(rate_hz)]
    except KeyError:
        raise ValueError(f"no LIS3DH current for {rate_hz} Hz (power.md §4 row 35)") from None
    return lp if bits == 8 else normal


INPUTS["lis3dh_ua"] = replace(INPUTS["lis3dh_ua"], best=lis3dh_ua(), budget=lis3dh_ua())

# Settings from firmware/config.py (the one place for them).
RATE_HZ = config.RATE_HZ
FIFO_WATERMARK = config.FIFO_WATERMARK
I2C_FREQ_HZ = config.I2C_FREQ

# I2C per wake: read FIFO_SRC (address+W, register, address+R, 1 byte), then the
# samples (address+W, register, address+R, then 6 bytes a sample); 9 bits a byte
# (8 + ACK), START/STOP and clock stretching left out. Arithmetic on the bus.
I2C_BITS_PER_BYTE = 9
I2C_FIFO_SRC_BYTES = 4
I2C_BURST_ADDRESSING_BYTES = 3
BYTES_PER_SAMPLE = 6

THERMAL_VOLTAGE_V = 0.025693  # kT/q at 25 °C (the diode model's temperature)

CELL_MAH = 500
CELLS_MAH = (150, 500, 1000)
TARGET_DAYS = 14
STRETCH_DAYS = 20


def v(name, budget=True):
    """The value of INPUTS[name] in the budget (True) or best (False) case."""
    return INPUTS[name].value(budget)


# ---------------------------------------------------------------------------
# Day profiles
# ---------------------------------------------------------------------------

PROFILE_FORMAT = "stepclip-day-profile 1"
SLEEP_STATES = ("lightsleep", "deepsleep")
WAKE_KINDS = ("fifo", "motion", "timer")


class ProfileError(ValueError):
    """A day profile that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Profile:
    """What the firmware did: seconds in each state, wakes by kind, samples read
    (see the module docstring). `awake_s` is None unless measured on a device."""
    name: str
    day: str
    source: str
    lightsleep_s: float
    deepsleep_s: float
    wakes: dict = field(default_factory=dict)
    samples: int = 0
    awake_s: float | None = None

    @property
    def seconds(self):
        return self.lightsleep_s + self.deepsleep_s + (self.awake_s or 0.0)

    @property
    def wake_count(self):
        return sum(self.wakes.get(k, 0) for k in WAKE_KINDS)

    def to_json(self):
        seconds = {"lightsleep": self.lightsleep_s, "deepsleep": self.deepsleep_s}
        if self.awake_s is not None:
            seconds["awake"] = self.awake_s
        doc = {"format": PROFILE_FORMAT, "name": self.name, "day": self.day, "source": self.source,
               "seconds": seconds, "wakes": {k: self.wakes.get(k, 0) for k in WAKE_KINDS},
               "samples": self.samples}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _number(x, where, integer=False):
    ok = isinstance(x, int) if integer else isinstance(x, (int, float))
    if isinstance(x, bool) or not ok or (isinstance(x, float) and not math.isfinite(x)):
        raise ProfileError(f"{where}: must be {'an integer' if integer else 'a number'}, not {x!r}")
    if x < 0:
        raise ProfileError(f"{where}: must not be negative ({x!r})")
    return x


def parse_profile(doc, where="profile"):
    """A Profile from a decoded JSON document. Raises ProfileError naming `where`
    and the field."""
    if not isinstance(doc, dict):
        raise ProfileError(f"{where}: not a JSON object")
    known = {"format", "name", "day", "source", "seconds", "wakes", "samples"}
    extra = sorted(set(doc) - known)
    if extra:
        raise ProfileError(f"{where}: unknown key {extra[0]!r} (known: {', '.join(sorted(known))})")
    if doc.get("format") != PROFILE_FORMAT:
        raise ProfileError(f"{where}: format: expected {PROFILE_FORMAT!r}, not {doc.get('format')!r}")
    for key in ("name", "day", "source"):
        if not isinstance(doc.get(key, ""), str):
            raise ProfileError(f"{where}: {key}: must be a string")
    seconds = doc.get("seconds")
    if not isinstance(seconds, dict):
        raise ProfileError(f"{where}: seconds: missing, or not an object of state -> seconds")
    bad = sorted(set(seconds) - set(SLEEP_STATES) - {"awake"})
    if bad:
        raise ProfileError(f"{where}: seconds: unknown state {bad[0]!r} (known: awake, lightsleep, deepsleep)")
    secs = {k: _number(seconds.get(k, 0), f"{where}: seconds.{k}") for k in SLEEP_STATES}
    awake = seconds.get("awake")
    if awake is not None:
        awake = _number(awake, f"{where}: seconds.awake")
    wakes = doc.get("wakes", {})
    if not isinstance(wakes, dict):
        raise ProfileError(f"{where}: wakes: not an object of kind -> count")
    bad = sorted(set(wakes) - set(WAKE_KINDS))
    if bad:
        raise ProfileError(f"{where}: wakes: unknown kind {bad[0]!r} (known: {', '.join(WAKE_KINDS)})")
    wakes = {k: _number(wakes.get(k, 0), f"{where}: wakes.{k}", integer=True) for k in WAKE_KINDS}
    samples = _number(doc.get("samples", 0), f"{where}: samples", integer=True)
    p = Profile(doc.get("name") or where, doc.get("day", ""), doc.get("source", ""),
                float(secs["lightsleep"]), float(secs["deepsleep"]), wakes, samples,
                None if awake is None else float(awake))
    if p.seconds <= 0:
        raise ProfileError(f"{where}: seconds: the states add up to 0 s")
    return p


def load_profile(path):
    """Read a day profile (JSON). Raises ProfileError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ProfileError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProfileError(f"{path}: not JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    return parse_profile(doc, str(path))


# The default profiles: one emulated realistic day (stepclip.day), played twice on
# the emulated device, deep sleep off and on; `python hardware/power.py --emulate`
# measures them again.
DEFAULT_PROFILE_FILES = {"today.json": 0, "deepsleep.json": config.DEEP_SLEEP_AFTER_S}  # name: DEEP_SLEEP_AFTER_S
DRIFT_PPM = 500  # the deep-sleep run's timer runs this fast: its clock error is measured


def profile_today():
    """The firmware with deep sleep off (one wake a second), on the emulated day."""
    return load_profile(PROFILES_DIR / "today.json")


def profile_deepsleep():
    """The firmware as it is (deep sleep while still), on the emulated day."""
    return load_profile(PROFILES_DIR / "deepsleep.json")


def default_profiles():
    """The committed profiles of hardware/profiles/ (measured by --emulate)."""
    return [load_profile(PROFILES_DIR / name) for name in DEFAULT_PROFILE_FILES]


def emulate_day(directory=PROFILES_DIR, say=print, seed=0):
    """Run the realistic day (stepclip.day.realistic_day) on the emulated device with
    deep sleep off and on, compare the counts with `detect`'s, and write the two day
    profiles into `directory`. The deep-sleep run's timer runs DRIFT_PPM fast (its
    clock error is reported). Returns {"true", "detect", "off", "on", "clock_error_s",
    "overruns"}. A few minutes."""
    from stepclip import day
    tr = day.realistic_day(seed)
    detect = day.detect_count(tr)
    out = {"true": tr.steps, "detect": detect}
    directory.mkdir(exist_ok=True)
    for name, after in DEFAULT_PROFILE_FILES.items():
        res = day.measure(tr, after, clock_ppm=DRIFT_PPM if after else 0)
        power = res["power"]
        key = "on" if after else "off"
        out[key] = res["total_steps"]
        out["overruns"] = out.get("overruns", 0) + sum(r["overruns"] for r in res["days"])
        if after:
            out["clock_error_s"] = power["clock_error_ms"] / 1000
        what = (f"deep sleep after {after} s still (firmware/config.py DEEP_SLEEP_AFTER_S), in lightsleep with "
                f"the motion interrupt on INT1 and a timer at each full hour" if after else
                "deep sleep off (DEEP_SLEEP_AFTER_S = 0): one wake a second all day")
        source = (f"measured on the emulated device (`python hardware/power.py --emulate`, stepclip.day seed {seed}): "
                  f"{what}; it counted {res['total_steps']:,} steps, `detect` {detect:,} (true {tr.steps:,})")
        if after:
            source += (f"; its timer {DRIFT_PPM} ppm fast, its clock {power['clock_error_ms'] / 1000:+.1f} s off "
                       f"at the end")
        doc = day.profile(res, "deep sleep while still" if after else "one wake a second (no deep sleep)", source)
        (directory / name).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        say(f"{name}: {source}")
    return out


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------

def i2c_ms(samples, wakes=1, freq_hz=I2C_FREQ_HZ):
    """Time on the bus (ms) for `wakes` FIFO_SRC reads and bursts and `samples` samples."""
    nbytes = (I2C_FIFO_SRC_BYTES + I2C_BURST_ADDRESSING_BYTES) * wakes + BYTES_PER_SAMPLE * samples
    return nbytes * I2C_BITS_PER_BYTE / freq_hz * 1000.0


def cpu_us_per_sample(budget=True):
    """Processing per sample on the RP2040, µs: detector, driver and wear time."""
    host = v("detector_us", budget) + v("driver_us", budget) + v("wear_us", budget)
    return host * v("rp2040_scale", budget)


def awake_seconds(profile, budget=True):
    """Seconds the Pico is awake: measured (profile.awake_s) or computed from the
    wakes (wake overhead + FIFO_SRC read each) and samples (I2C + processing)."""
    if profile.awake_s is not None:
        return profile.awake_s
    n = profile.wake_count
    ms = n * v("wake_overhead_ms", budget) + i2c_ms(profile.samples, n)
    return (ms + profile.samples * cpu_us_per_sample(budget) / 1000.0) / 1000.0


def state_seconds(profile, budget=True):
    """{"awake", "lightsleep", "deepsleep"}: seconds in each state; computed awake
    time comes out of lightsleep first. Raises ProfileError when the profile's
    work needs more time than it lasts."""
    awake = awake_seconds(profile, budget)
    ls, ds = profile.lightsleep_s, profile.deepsleep_s
    if profile.awake_s is None:
        take = min(awake, ls)
        ls -= take
        ds -= awake - take
        if ds < 0:
            raise ProfileError(f"{profile.name}: its wakes and samples need {awake:.0f} s awake, "
                               f"more than the {profile.seconds:.0f} s it lasts")
    return {"awake": awake, "lightsleep": ls, "deepsleep": ds}


def diode_v(i_ma):
    """Forward drop (V) of the 1N5817 at i_ma: N Vt ln(1 + I/Is) + I Rs."""
    i_a = i_ma / 1000.0
    return (v("diode_n") * THERMAL_VOLTAGE_V * math.log1p(i_a / (v("diode_is_ua") * 1e-6))
            + i_a * v("diode_rs_ohm"))


def cell_ma(p_mw, cell_v=None):
    """Current from the cell (mA) for p_mw into VSYS through the diode:
    i = P / (V_cell - V_diode(i)), solved by iteration."""
    cell_v = v("cell_v") if cell_v is None else cell_v
    i = p_mw / cell_v
    for _ in range(30):
        i = p_mw / (cell_v - diode_v(i))
    return i


PICO_STATE_INPUT = {"awake": "pico_awake_ma", "lightsleep": "pico_lightsleep_ma", "dormant": "pico_dormant_ma"}
DEEP_STATES = ("lightsleep", "dormant")


def pico_mw(state, budget=True):
    """Power into VSYS (mW) of the Pico in `state` (awake, lightsleep, dormant)."""
    inp = INPUTS[PICO_STATE_INPUT[state]]
    return inp.value(budget) * inp.at_v * v("unit_spread", budget)


@dataclass(frozen=True)
class Board:
    """An LIS3DH breakout: which of its parts draw current."""
    name: str
    regulator: bool = True
    led: bool = True
    sdo_pullup: bool = True       # the SA0 pull-up connected (CTRL_REG0 not written 0x90)
    measured_whole: bool = False  # the whole module as measured (original_board_ma)


def board_ma(board, bits=config.RESOLUTION_BITS, budget=True):
    """Current on the 3.3 V rail (mA) of each part of `board`."""
    if board.measured_whole:
        return {"breakout (as measured)": v("original_board_ma", budget)}
    parts = {"LIS3DH chip": lis3dh_ua(RATE_HZ, bits) / 1000.0}
    if board.regulator:
        parts["breakout regulator"] = v("ldo_ua", budget) / 1000.0
    if board.led:
        parts["breakout LED"] = v("led_ma", budget)
    if board.sdo_pullup:
        parts["SDO pull-up"] = v("rail_v") / v("sdo_pullup_kohm", budget)
    return parts


@dataclass(frozen=True)
class Build:
    """A stepclip as built: its sensor board and the LIS3DH's resolution."""
    key: str
    name: str
    board: Board
    bits: int = config.RESOLUTION_BITS


ORIGINAL = Board("Adafruit 2809, original version (no STEMMA QT connectors)", measured_whole=True)
STEMMA = Board("Adafruit 2809, STEMMA QT version")
BUILDS = [
    Build("A", "original 2809, as measured", ORIGINAL),
    Build("B", "STEMMA QT 2809, SDO pull-up on (firmware before issue 12)", STEMMA),
    Build("C", "STEMMA QT 2809, CTRL_REG0 = 0x90 (firmware now)", replace(STEMMA, sdo_pullup=False)),
    Build("D", "STEMMA QT 2809, 0x90, power LED removed: recommended", replace(STEMMA, sdo_pullup=False, led=False)),
]
RECOMMENDED = BUILDS[-1]

PICO_PART = {"awake": "Pico awake", "lightsleep": "Pico in lightsleep", "deepsleep": "Pico in deep sleep"}
PART_ORDER = ("Pico in lightsleep", "Pico in deep sleep", "Pico awake", "LIS3DH chip", "breakout regulator",
              "breakout LED", "SDO pull-up", "breakout (as measured)")


def breakdown(build, profile, deep_state="dormant", budget=True):
    """Average current from the cell (mA) by part over `profile`: the Pico in each
    state and the sensor board's parts. `deep_state` is the Pico state used for
    the profile's deep sleep: "lightsleep" (a long timeout and a pin wake) or
    "dormant". Raises ValueError for another deep_state."""
    if deep_state not in DEEP_STATES:
        raise ValueError(f"deep_state must be one of {DEEP_STATES}, not {deep_state!r}")
    secs = state_seconds(profile, budget)
    total = profile.seconds
    rail = {k: ma * v("rail_v") / v("rail_efficiency", budget) for k, ma in board_ma(build.board, build.bits, budget).items()}
    out = {}
    for state, t in secs.items():
        if t <= 0:
            continue
        pico = pico_mw(deep_state if state == "deepsleep" else state, budget)
        p_total = pico + sum(rail.values())
        k = cell_ma(p_total) / p_total  # mA from the cell per mW at VSYS, in this state
        w = t / total
        out[PICO_PART[state]] = out.get(PICO_PART[state], 0.0) + w * pico * k
        for part, p in rail.items():
            out[part] = out.get(part, 0.0) + w * p * k
    return {k: out[k] for k in PART_ORDER if k in out}


def average_ma(build, profile, deep_state="dormant", budget=True):
    """Average current from the cell (mA) over `profile`."""
    return sum(breakdown(build, profile, deep_state, budget).values())


def days(capacity_mah, avg_ma, budget=True):
    """Days per charge: rated capacity x usable share / average current / 24 h."""
    return capacity_mah * v("capacity_derating", budget) / avg_ma / 24.0


def target_ma(target_days=TARGET_DAYS, capacity_mah=CELL_MAH, budget=True):
    """The highest average current (mA) that lasts target_days on capacity_mah."""
    return capacity_mah * v("capacity_derating", budget) / (target_days * 24.0)


def cell_for_days(target_days, avg_ma, budget=True):
    """Rated capacity (mAh) that lasts target_days at avg_ma."""
    return target_days * 24.0 * avg_ma / v("capacity_derating", budget)


def loop_profile(seconds=86400.0):
    """`seconds` of the awake loop: one FIFO read every FIFO_WATERMARK samples."""
    wakes = round(seconds * RATE_HZ / FIFO_WATERMARK)
    return Profile("the loop", "", "", float(seconds), 0.0, {"fifo": wakes}, round(seconds * RATE_HZ))


def still_profile(seconds=86400.0):
    """`seconds` of deep sleep and nothing else."""
    return Profile("deep sleep", "", "", 0.0, float(seconds), {}, 0)


def deep_fraction_for_target(build, deep_state, budget=True, target_days=TARGET_DAYS, capacity_mah=CELL_MAH):
    """The smallest share of the day in deep sleep (0..1) that lasts target_days;
    None when even a whole day in deep sleep does not. The rest of the day is the
    loop (one wake a second)."""
    a = average_ma(build, loop_profile(), deep_state, budget)
    b = average_ma(build, still_profile(), deep_state, budget)
    need = target_ma(target_days, capacity_mah, budget)
    if b > need:
        return None
    if a <= need:
        return 0.0
    return (a - need) / (a - b)


@contextmanager
def with_inputs(**values):
    """Set INPUTS[name] (best and budget; a value or a (best, budget) pair) for the
    duration of a with-block: `with with_inputs(pico_dormant_ma=0.5): ...`."""
    saved = {k: INPUTS[k] for k in values}
    try:
        for k, val in values.items():
            lo, hi = val if isinstance(val, tuple) else (val, val)
            INPUTS[k] = replace(INPUTS[k], best=lo, budget=hi)
        yield
    finally:
        INPUTS.update(saved)


def max_deep_ma_for_target(build, profile, budget=True, target_days=TARGET_DAYS, capacity_mah=CELL_MAH):
    """The highest deep-sleep current (mA, quoted like pico_dormant_ma: on VSYS at
    its at_v, before the budget's unit factor) that lasts target_days with
    `profile`; None when even 0 mA does not."""
    need = target_ma(target_days, capacity_mah, budget)

    def avg(ma):
        with with_inputs(pico_dormant_ma=ma):
            return average_ma(build, profile, "dormant", budget)

    if avg(0.0) > need:
        return None
    lo, hi = 0.0, 50.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if avg(mid) <= need else (lo, mid)
    return lo


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def _f(x, nd=2):
    return f"{x:.{nd}f}"


def fmt_days(d):
    """Days to one decimal, rounded down (13.98 days is not 14.0)."""
    return f"{math.floor(d * 10 + 1e-9) / 10:.1f}"


def columns(profiles):
    """(profile, deep_state, title) for each column of the results: a profile with
    deep sleep gets one column per deep state."""
    cols = []
    for p in profiles:
        if p.deepsleep_s > 0:
            cols.append((p, "lightsleep", f"{p.name}, in lightsleep"))
            cols.append((p, "dormant", f"{p.name}, in DORMANT (not built)"))
        else:
            cols.append((p, "dormant", p.name))
    return cols


def _input_rows(w, measured):
    w("| input | best case | budget case | source |")
    w("|---|---|---|---|")
    for name, inp in INPUTS.items():
        unit = f" {inp.unit}" if inp.unit and inp.unit != "x" else ""
        fmt = (lambda x: f"x{x:.3g}") if inp.unit == "x" else (lambda x: f"{x:g}{unit}")
        at = f" at {inp.at_v:g} V" if inp.at_v else ""
        src = inp.source
        if inp.kind == "estimate":
            src = f"**estimate**: {src}; to be replaced by {ESTIMATES[name]}"
        elif measured and name in measured:
            src = f"measured just now (--measure); {src}"
        w(f"| {inp.what} | {fmt(inp.best)}{at} | {fmt(inp.budget)}{at} | {src} |")


def report(profiles=None, measured=None):
    """hardware/power.md as a string. `profiles`: the day profiles (default: the
    built-in ones); `measured`: names of inputs re-measured by --measure."""
    profiles = default_profiles() if profiles is None else profiles
    cols = columns(profiles)
    rec = RECOMMENDED
    lines = []
    w = lines.append
    w("# stepclip power budget")
    w("")
    w("Generated by `hardware/power.py` (`make hardware`) from its inputs, each with its")
    w("source, and from day profiles (`hardware/profiles/*.json`; the format is in the")
    w("script's docstring). Do not edit by hand: change an input and rerun.")
    w("")
    w("**The build:** a 1-cell LiPo into the Pico's VSYS through a 1N5817 Schottky diode, the")
    w("LIS3DH breakout on the Pico's 3V3(OUT), no USB host attached (a host keeps MicroPython's")
    w("USB clocks on in lightsleep: 3.4 mA instead of 1.3 mA, power.md §1 row 10). Sources of the")
    w("form \"power.md §1 row 8\" are rows of `../shared/reference/power.md`. The Pico's figures")
    w("were measured on VSYS; they are converted to current from the cell at constant")
    w("power (row 14), through the diode's drop (0.13 V asleep, 0.25 V awake).")
    w("")
    w("## Inputs")
    w("")
    _input_rows(w, measured or ())
    per_sample = cpu_us_per_sample(True)
    w("")
    w(f"Per wake (budget case): {_f(v('wake_overhead_ms'), 1)} ms overhead, "
      f"{_f(i2c_ms(FIFO_WATERMARK), 2)} ms of I2C at {I2C_FREQ_HZ // 1000} kHz "
      f"(({I2C_FIFO_SRC_BYTES} + {I2C_BURST_ADDRESSING_BYTES} + {BYTES_PER_SAMPLE} x {FIFO_WATERMARK}) bytes x "
      f"{I2C_BITS_PER_BYTE} bits) and {_f(FIFO_WATERMARK * per_sample / 1000, 2)} ms of processing "
      f"({FIFO_WATERMARK} samples x {_f(per_sample / v('rp2040_scale'), 2)} µs x {v('rp2040_scale'):g}): "
      f"{_f(1000 * awake_seconds(loop_profile(1.0)), 1)} ms awake a second "
      f"(best case {_f(1000 * awake_seconds(loop_profile(1.0), False), 1)} ms).")
    w("")
    w("## Day profiles")
    w("")
    w("| profile | loop (lightsleep) | deep sleep | wakes: FIFO / motion / timer | samples | awake (budget) |")
    w("|---|---|---|---|---|---|")
    for p in profiles:
        aw = awake_seconds(p)
        w(f"| {p.name} | {p.lightsleep_s / 3600:.2f} h | {p.deepsleep_s / 3600:.2f} h | "
          f"{p.wakes.get('fifo', 0):,} / {p.wakes.get('motion', 0):,} / {p.wakes.get('timer', 0):,} | "
          f"{p.samples:,} | {aw:.0f} s{' (measured)' if p.awake_s is not None else ''} |")
    w("")
    for p in profiles:
        src = p.source or "source not given"
        w(f"- **{p.name}**: {p.day or 'no day given'}. {src[0].upper()}{src[1:]}.")
    w("")
    w(f"## Days on {CELL_MAH} mAh")
    w("")
    w("Average current from the cell and days per charge (usable capacity "
      f"{v('capacity_derating'):.0%} of rated). Rows are builds, columns what the firmware does;")
    w("deep sleep is computed twice: in lightsleep with a long timeout and a pin wake (the firmware), and in DORMANT.")
    w("")
    for budget in (True, False):
        w("Budget case (design to this):" if budget else "Best case:")
        w("")
        w("| build | " + " | ".join(t for _, _, t in cols) + " |")
        w("|---|" + "---|" * len(cols))
        for b in BUILDS:
            cells = []
            for p, ds, _ in cols:
                a = average_ma(b, p, ds, budget)
                d = days(CELL_MAH, a, budget)
                mark = "**" if d >= TARGET_DAYS else ""
                cells.append(f"{mark}{fmt_days(d)} days{mark} ({_f(a)} mA)")
            w(f"| {b.key}. {b.name} | " + " | ".join(cells) + " |")
        w("")
    w(f"Bold: {TARGET_DAYS} days or more. Other cells: "
      + ", ".join(f"{c} mAh" for c in CELLS_MAH if c != CELL_MAH)
      + " scale the days in proportion.")
    w("")
    w(f"## Where the current goes: build {rec.key}, budget case")
    w("")
    w("| part | " + " | ".join(t for _, _, t in cols) + " |")
    w("|---|" + "---|" * len(cols))
    tables = [breakdown(rec, p, ds, True) for p, ds, _ in cols]
    for part in [k for k in PART_ORDER if any(k in t for t in tables)]:
        cells = []
        for t in tables:
            x = t.get(part, 0.0)
            cells.append(f"{_f(x, 3)} mA ({x / sum(t.values()):.0%})" if x else "-")
        w(f"| {part} | " + " | ".join(cells) + " |")
    w("| total | " + " | ".join(f"{_f(sum(t.values()), 3)} mA" for t in tables) + " |")
    w("")
    w("## Verdict")
    w("")
    w(_verdict(profiles))
    w("")
    w("## The sensor side")
    w("")
    w(_sensor_side(profiles))
    w("")
    w("## Pico 2: a note, not a design")
    w("")
    w(_pico2_note())
    w("")
    w("## Not in the model")
    w("")
    w("- The charger module's and the cell's protection IC's drain (DW01A, TP4056): power.md")
    w("  did not research it; by their datasheets a few µA, under 1 % of the totals above.")
    deep = [p for p in profiles if p.deepsleep_s > 0]
    sleeps = f" ({deep[0].wakes['motion'] + deep[0].wakes['timer']} in \"{deep[0].name}\")" if deep else ""
    w("- Flash writes (a checkpoint every 5 minutes, `CHECKPOINT_S`): the Pico stays awake")
    w(f"  through them; at most 288 a day, and one before each deep sleep{sleeps}.")
    w("- Current through the I2C pull-ups while a transfer holds a line low (a few ms a second).")
    w("- Temperature: every figure is at room temperature; at 85 °C the Pico's sleep current")
    w("  rises by half (power.md §1 rows 1-2).")
    w("- The LIS3DH's own low-power switch in stillness (10 Hz, 3 µA instead of 6 µA, row 37).")
    return "\n".join(lines) + "\n"


def _verdict(profiles):
    rec = RECOMMENDED
    s = []
    need = target_ma()
    s.append(f"{TARGET_DAYS} days on {CELL_MAH} mAh need an average of {need:.2f} mA or less. The recommended "
             f"build is **{rec.key}**: the {rec.board.name} with its power LED removed and its SDO pull-up "
             f"disconnected by the firmware.")
    s.append("")
    for p in profiles:
        if p.deepsleep_s > 0:
            share = p.deepsleep_s / p.seconds
            a_b, a_o = average_ma(rec, p, "lightsleep", True), average_ma(rec, p, "lightsleep", False)
            s.append(f"- **\"{p.name}\"** (deep sleep {share:.0%} of the day, in lightsleep as the firmware does "
                     f"it): **{fmt_days(days(CELL_MAH, a_b))} days in the budget case** ({a_b:.2f} mA), "
                     f"{fmt_days(days(CELL_MAH, a_o, False))} in the best ({a_o:.2f} mA). {TARGET_DAYS} days would "
                     f"take a {cell_for_days(TARGET_DAYS, a_b):.0f} mAh cell (budget case).")
        else:
            a_b, a_o = average_ma(rec, p, "dormant", True), average_ma(rec, p, "dormant", False)
            s.append(f"- \"{p.name}\": {fmt_days(days(CELL_MAH, a_b))} days in the budget case ({a_b:.2f} mA), "
                     f"{fmt_days(days(CELL_MAH, a_o, False))} in the best ({a_o:.2f} mA).")
    ls_b = average_ma(rec, still_profile(), "lightsleep", True)
    ls_o = average_ma(rec, still_profile(), "lightsleep", False)
    s.append(f"- **{TARGET_DAYS} days are out of reach with the Pico's lightsleep, in the budget case**: even a whole "
             f"day in lightsleep without a single wake draws {ls_b:.2f} mA, {fmt_days(days(CELL_MAH, ls_b))} days "
             f"({fmt_days(days(CELL_MAH, ls_o, False))} in the best case). No firmware change short of another sleep "
             f"state gets there.")
    loop = loop_profile()
    sensor = sum(x for k, x in breakdown(rec, loop).items() if not k.startswith("Pico"))
    s.append(f"- The Pico's sleep current decides, not the sensor: in build {rec.key} the sensor board is "
             f"{sensor / average_ma(rec, loop):.0%} of the current.")
    s.append("")
    s.append("### Why the deep sleep is lightsleep, not DORMANT")
    s.append("")
    s.append("In lightsleep the RP2040's timer keeps running on the 12 MHz crystal (power.md §2 row 23), so the "
             "firmware's clock (`ticks_ms`) is as good asleep as awake, and a timeout wakes it at each full hour "
             "(the day's rollover, the battery reading). In DORMANT no clock runs on a Pico without an external "
             "one (§1 row 1), MicroPython's `Pin.irq` does not wake it (row 25), and the register workaround "
             "measured about 1 mA (row 25): the records' dates would be off by every night's sleep. The "
             "DORMANT columns above show what it would give if it could be made safe.")
    s.append("")
    s.append(f"### What {TARGET_DAYS} days would take")
    s.append("")
    deep = [p for p in profiles if p.deepsleep_s > 0]
    n = 1
    if deep:
        p = deep[0]
        d_b = days(CELL_MAH, average_ma(rec, p, "dormant", True))
        d_o = days(CELL_MAH, average_ma(rec, p, "dormant", False), False)
        f_b = deep_fraction_for_target(rec, "dormant", True)
        f_o = deep_fraction_for_target(rec, "dormant", False)
        need_share = (f"{TARGET_DAYS} days need DORMANT {f_o:.0%} of the day in the best case"
                      + (f", {f_b:.0%} in the budget case" if f_b is not None else "") if f_o is not None
                      else f"no share of DORMANT reaches {TARGET_DAYS} days")
        s.append(f"{n}. **DORMANT with a clock that runs in it** (an external clock for the RP2040's RTC: a part "
                 f"and a wiring change, its current not in this model): the same day gives {fmt_days(d_b)} days "
                 f"(budget) to {fmt_days(d_o)} (best); {need_share}, and this day sleeps deeply "
                 f"{p.deepsleep_s / p.seconds:.0%}.")
        n += 1
        limit = max_deep_ma_for_target(rec, p)
        if limit is not None:
            dorm = INPUTS["pico_dormant_ma"]
            s.append(f"   In the budget case that needs a DORMANT current of {limit:.2f} mA or less (quoted like the "
                     f"{dorm.value():g} mA on VSYS at {dorm.at_v:g} V), below what Raspberry Pi measured.")
    s.append(f"{n}. **The Pico's own converter**: it costs about 0.4 mA at 3.7 V at sleep loads (power.md §3 "
             f"row 34: 4.0 mW on VSYS against 2.5 mW fed at 3V3 in DORMANT, row 5). Feeding 3V3 from a "
             f"low-quiescent regulator with the converter off (3V3_EN low, whose pull-up then draws 37-42 µA, row "
             f"12) would save most of it (measured in DORMANT; in lightsleep, whose load is similar, not measured). It "
             f"needs a regulator in the parts list and a wiring change: a hardware issue of its own.")
    n += 1
    if deep:
        a_b = average_ma(rec, deep[0], "lightsleep", True)
        s.append(f"{n}. **A bigger cell**: {cell_for_days(TARGET_DAYS, a_b):.0f} mAh with the firmware as it is "
                 f"(budget case); a 1000 mAh cell fits if the case is made deeper (`cell` in enclosure.scad).")
        n += 1
    s.append(f"{n}. **A Pico 2 with C firmware** (below): its power states sleep at a fraction of the Pico's.")
    return "\n".join(s)


def _sensor_side(profiles):
    loop = loop_profile()
    b, c, d = BUILDS[1], BUILDS[2], BUILDS[3]
    base = average_ma(b, loop)
    out = []

    def saving(x, y, budget=True):
        return 1000 * (average_ma(x, loop, "dormant", budget) - average_ma(y, loop, "dormant", budget))

    out.append(f"- **SDO/SA0 pull-up** (firmware: `LIS3DH_SDO_TIED_LOW` in firmware/config.py, the driver "
               f"writes CTRL_REG0 = 0x90): saves {saving(b, c, False):.0f}-{saving(b, c):.0f} µA from the cell "
               f"(best-budget), {saving(b, c) / 1000 / base:.0%} of build B's budget current.")
    out.append(f"- **Power LED removed** (a soldering-iron step on the breakout): saves "
               f"{saving(c, d, False):.0f}-{saving(c, d):.0f} µA, {saving(c, d) / 1000 / average_ma(c, loop):.0%} "
               f"of build C's.")
    lp = replace(d, bits=8)
    sv = saving(d, lp)
    dp = [p for p in profiles if p.deepsleep_s > 0]
    share_deep = ""
    if dp:
        total = average_ma(d, dp[0], "lightsleep")
        share_deep = f", {sv / 1000 / total:.1%} with deep sleep"
    out.append(f"- **8-bit low-power mode instead of 10-bit** ({lis3dh_ua(RATE_HZ, 8)} µA instead of "
               f"{lis3dh_ua(RATE_HZ, 10)} µA at {RATE_HZ} Hz): would save {saving(d, lp, False):.1f}-{sv:.1f} µA, "
               f"{sv / 1000 / average_ma(d, loop):.1%} of build {d.key}'s budget current{share_deep}: "
               f"{days(CELL_MAH, average_ma(lp, loop)) - days(CELL_MAH, average_ma(d, loop)):.2f} days. "
               f"The firmware keeps 10-bit: 8-bit counts the weakest synthetic gaits worse and needs 128 mg "
               f"of movement for wear time instead of 32 mg (README, \"Choosing the sensor settings\").")
    return "\n".join(out)


def _pico2_note():
    rec = RECOMMENDED
    sensor_mw = sum(ma * v("rail_v") / v("rail_efficiency") for ma in board_ma(rec.board).values())
    pstate = 0.25 * 5.2  # power.md §2 row 17: Pico 2 Pstate, 0.25 mA at VSYS 5.2 V
    sleep_only = cell_ma(pstate * v("unit_spread") + sensor_mw)
    return "\n".join([
        "MicroPython's lightsleep on a Pico 2 is no better than on a Pico. It does not use the",
        "RP2350's power states (power.md §2 row 24: no API for P-states, lightsleep uses TIMER0).",
        "CircuitPython's light sleep measured 1.7 mA on a Pico 2 against 1.2-1.6 mA on a Pico,",
        "both from USB 5 V (row 11). The one MicroPython figure is 4 mA on a Pico 2 W (row 20).",
        "The RP2350's DORMANT on a Pico 2 board draws 3.3 mA at VSYS, more than the Pico's",
        "0.76 mA (row 17), because clk_ref keeps running from the LPOSC.",
        "",
        "Getting more from a Pico 2 means C firmware that uses the RP2350's power states: the",
        "SDK's `pico_low_power` Pstate measured 0.25 mA at VSYS 5.2 V (row 17), and P1.7 with",
        "POWMAN waking on a GPIO edge (the LIS3DH's interrupt) or its always-on timer (row 15).",
        "Every wake is then a boot, unless code and state are resumed from retained SRAM as",
        "mamba2410's rp2350-powman-sleep does (row 46). With the recommended sensor board, that",
        f"state alone would draw {sleep_only:.2f} mA from the cell in the budget case, "
        f"{days(CELL_MAH, sleep_only):.0f} days on {CELL_MAH} mAh before",
        "wakes. It means a rewrite of the firmware in C: the detector, the store and the protocol.",
    ])


# ---------------------------------------------------------------------------
# Measurement and command line
# ---------------------------------------------------------------------------

_DRIVER_BENCH = r'''
import sys, time
sys.path.insert(0, sys.argv[1])
from array import array
from lis3dh import LIS3DH

class Bus:
    # a stub I2C bus: WHO_AM_I 0x33, FIFO_SRC says 25 samples, data bytes left as they are
    def readfrom_mem_into(self, addr, reg, buf):
        reg &= 0x7F
        if reg == 0x0F:
            buf[0] = 0x33
        elif reg == 0x2F:
            buf[0] = 0x80 | 25
        elif reg < 0x28:
            buf[0] = 0
    def writeto_mem(self, addr, reg, buf):
        pass

d = LIS3DH(Bus(), 0x18)
d.configure(25, 4, 10)
out = array("h", bytes(2 * 3 * 32))
best = None
for r in range(5):
    t0 = time.ticks_us()
    for _ in range(4000):
        d.read_fifo(out)
    us = time.ticks_diff(time.ticks_us(), t0) / (4000 * 25)
    best = us if best is None or us < best else best
print(best)
'''


def measure_detector_us():
    """µs per sample of the firmware detector under the MicroPython unix port."""
    from stepclip import detector, sensor, synth
    view = sensor.device_view(synth.demo_trace())
    _, fig = detector.run_micropython(view.xyz, view.rate_hz, alloc=True)
    return fig["us_per_sample"]


def measure_driver_us():
    """µs per sample of LIS3DH.read_fifo (FIFO bytes to milli-g) under the
    MicroPython unix port, over a stub bus; best of 5 runs of 100,000 samples."""
    import subprocess
    import tempfile
    from stepclip import detector
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(_DRIVER_BENCH)
    try:
        proc = subprocess.run([detector.micropython_executable(), f.name, str(detector.FIRMWARE_DIR)],
                              capture_output=True, text=True, timeout=300)
    finally:
        Path(f.name).unlink()
    if proc.returncode != 0:
        raise RuntimeError(f"the driver benchmark failed: {proc.stderr.strip()[-300:]}")
    return float(proc.stdout.split()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--measure", action="store_true",
                    help="re-measure the detector's and the driver's cost per sample under the "
                         "MicroPython unix port and use those figures")
    ap.add_argument("--stdout", action="store_true",
                    help="print the report instead of writing hardware/power.md and hardware/profiles/")
    ap.add_argument("--emulate", action="store_true",
                    help="first measure the default day profiles again: the realistic synthetic day on the "
                         "emulated device, deep sleep off and on (a few minutes; needs the MicroPython unix port)")
    ap.add_argument("--profile", action="append", metavar="FILE.json", type=Path,
                    help="a day profile (format: this script's docstring) to compute with, instead of "
                         "the defaults; repeat for more than one")
    args = ap.parse_args(argv)
    profiles = None
    if args.profile:
        try:
            profiles = [load_profile(p) for p in args.profile]
            for p in profiles:
                state_seconds(p)
        except ProfileError as e:
            print(f"power.py: {e}", file=sys.stderr)
            return 2
    if args.emulate:
        emulate_day(say=lambda line: print(line, file=sys.stderr))
    global DETECTOR_US_PER_SAMPLE_HOST
    measured = []
    if args.measure:
        det, drv = measure_detector_us(), measure_driver_us()
        INPUTS["detector_us"] = replace(INPUTS["detector_us"], best=round(det, 2), budget=round(det, 2))
        INPUTS["driver_us"] = replace(INPUTS["driver_us"], best=round(drv, 2), budget=round(drv, 2))
        DETECTOR_US_PER_SAMPLE_HOST = INPUTS["detector_us"].budget
        measured = ["detector_us", "driver_us"]
        print(f"detector: {det:.3f} µs, driver: {drv:.3f} µs per sample under the MicroPython unix port",
              file=sys.stderr)
    text = report(profiles, measured)
    if args.stdout:
        sys.stdout.write(text)
        return 0
    OUT.write_text(text, encoding="utf-8")
    rec = RECOMMENDED
    a = average_ma(rec, profile_deepsleep(), "lightsleep")
    print(f"wrote {OUT.relative_to(HERE.parent)}: build {rec.key} with deep sleep (in lightsleep) "
          f"{a:.2f} mA, {fmt_days(days(CELL_MAH, a))} days on {CELL_MAH} mAh (budget case)", file=sys.stderr)
    return 0


DETECTOR_US_PER_SAMPLE_HOST = INPUTS["detector_us"].budget  # benchmarks/bench_detector.py reads it

if __name__ == "__main__":
    sys.exit(main())

"""stepclip power budget: writes hardware/power.md from the inputs below.

    python hardware/power.py              # write hardware/power.md (run by `make hardware`)
    python hardware/power.py --measure    # also re-measure the detector's cost per sample
                                          # under the MicroPython unix port and use it
    python hardware/power.py --stdout     # print instead of writing

Every input is stated here with its source. Importable: tests/test_hardware.py
checks the arithmetic (``average_ma``, ``days``, ``i2c_burst_ms`` ...).

Two cases are computed for every design:
- *budget*: the high end of each reference range, and the Pico's figures taken
  as measured from 5 V USB (so a 3.7 V cell supplies more current for the same
  power). This is the figure to design to.
- *best case*: the low end of each range, the figures taken as drawn from the cell.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from stepclip_firmware import config

HERE = Path(__file__).resolve().parent
OUT = HERE / "power.md"

# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

# Sensor settings: firmware/config.py (the one place for them).
RATE_HZ = config.RATE_HZ                  # output data rate, Hz
RESOLUTION_BITS = config.RESOLUTION_BITS  # 8 low-power, 10 normal, 12 high-resolution
FIFO_WATERMARK = config.FIFO_WATERMARK    # samples per wake-up
I2C_FREQ_HZ = config.I2C_FREQ             # I2C clock, Hz

# LIS3DH supply current, µA, by ODR: (low-power, normal-or-high-resolution).
# Source: ../shared/reference/lis3dh.md (ST datasheet DocID17530).
LIS3DH_UA = {1: (2, 2), 10: (3, 4), 25: (4, 6), 50: (6, 11), 100: (10, 20),
             200: (18, 38), 400: (36, 73)}

# Breakout overhead beyond the chip, mA: regulator and power LED.
# Source: ../shared/reference/lis3dh.md ("one measurement of a popular breakout:
# ~0.8 mA, mostly its regulator and LED").
BREAKOUT_OVERHEAD_MA = 0.8
# A bare sensor board (no regulator, no LED; or the LED removed and 3.3 V fed
# straight to the chip's supply): only the chip. The I2C pull-ups draw nothing
# while the bus idles high. Estimate.
BARE_SENSOR_OVERHEAD_MA = 0.0

# Pico (RP2040) board currents, mA, (low, high).
# Source: ../shared/reference/micropython-rp2.md: machine.lightsleep() ~0.9-1.5 mA
# on a bare Pico; awake ~20-25 mA.
PICO_LIGHTSLEEP_MA = (0.9, 1.5)
PICO_AWAKE_MA = (20.0, 25.0)

# Lower sleep states. NOT in ../shared/reference: assumed figures for the whole
# board, to be measured before relying on them.
# - RP2040 DORMANT (crystal oscillator stopped, woken by the INT1 edge on GP6):
#   about 0.8 mA for the whole board, as recalled from the Raspberry Pi Pico
#   datasheet's power-consumption table (check it): the RP2040 chip itself is
#   far lower, but the board's buck-boost converter and VSYS divider stay on.
#   Assumed 0.8 mA in both cases.
PICO_DORMANT_MA = (0.8, 0.8)
# - Pico 2 (RP2350) in its low-power sleep: the RP2350 is specified for much
#   lower sleep currents than the RP2040; with the board's converter and divider,
#   assumed 0.3 mA for the whole board. Assumption: measure.
PICO2_SLEEP_MA = (0.3, 0.3)

# Supply conversion (budget case only). The Pico's buck-boost converter draws
# roughly constant power, so current from the cell = current at 5 V x (5 V - diode)
# / (cell - diode). Assumption: the reference figures were measured from USB 5 V,
# where the Pico's own Schottky (D1) drops about as much as ours.
USB_V = 5.0                # USB VBUS, V
CELL_NOMINAL_V = 3.7       # LiPo nominal (average over discharge), V; the cell's label
DIODE_DROP_V = 0.3         # Schottky (1N5817) forward drop at a few mA; its datasheet curve
# 3.3 V loads (the sensor board) go through the same converter:
# current from the cell = I(3.3 V) x 3.3 / (VSYS x efficiency).
BUCK_BOOST_EFFICIENCY = 0.85  # RT6150/RT6154 at light load, PFM mode: estimate

# Charger module on the battery side while no USB is plugged in: the DW01A
# protection IC (~3 µA typ.) plus the TP4056's battery leakage (a few µA).
# Estimate from their datasheets; measure.
CHARGER_LEAK_MA = 0.006

# Per-sample processing cost.
# Detector (firmware/stepcounter.py): µs per sample under the MicroPython unix
# port on the development machine (x86_64 Xeon, 2.6 GHz). Measured with
#   detector.run_micropython(device_view(synth.demo_trace()).xyz, 25, alloc=True)
# -> fig["us_per_sample"]: 1.64, 1.61, 1.59 in three runs (4625 samples each), on a
# machine shared with other jobs; the step counter of issue 8, whose
# periodicity checks once a second are included (benchmarks/bench_detector.py
# counts its instructions: 1.9x the previous detector's; that one measured 1.00).
# `python hardware/power.py --measure` measures it again.
DETECTOR_US_PER_SAMPLE_HOST = 1.6
# The rest of the per-sample loop (driver: 6 FIFO bytes -> three signed
# milli-g ints; today's record: step and brisk-minute counters) cannot be
# measured yet. ALLOWANCE, as much again as the detector: TO BE REPLACED by the
# measured firmware loop figure once the driver and storage exist.
# Spot check: the driver (firmware/lis3dh.py, which landed while this budget was
# written) converts FIFO bytes to milli-g in 0.37 µs per sample under the unix
# port (LIS3DH.read_fifo over a stub I2C bus, 4625 samples); the allowance
# covers that plus App.account() once per wake.
FIRMWARE_US_PER_SAMPLE_HOST = 1.0
# Host -> RP2040 scale factor. ESTIMATE, not a measurement: the host core runs
# at 2.6 GHz, the RP2040 (Cortex-M0+) at 125 MHz: 21x the clock. Per clock, an
# out-of-order x86 core runs an interpreter loop several times faster than the
# in-order M0+ (Arm rates the M0+ at 0.95 DMIPS/MHz; current x86 cores rate
# roughly 5-7x that) and the RP2040 executes MicroPython from flash through a
# 16 kB XIP cache: 21 x 5-7 = ~100-150. We use 150, the slow end. For reference,
# a bare `for i in range(n): x += i` loop takes 0.027 µs per pass on this host
# under the unix port. Replace with a measurement on a Pico (time.ticks_us
# around the firmware loop) when the hardware exists.
RP2040_SCALE = 150
# Pico 2 (RP2350, Cortex-M33 at 150 MHz): scaled by the clock only (the M33
# also does more per clock; not counted). Estimate.
RP2350_SCALE = RP2040_SCALE * 125 / 150

# Wake-up overhead per wake, ms, at the awake current: clocks restarting after
# lightsleep/dormant (crystal oscillator start-up ~1 ms, PLL lock) and
# MicroPython resuming and reading FIFO_SRC. ESTIMATE: measure with a current
# probe on the finished firmware.
WAKE_OVERHEAD_MS = 2.0

# I2C burst per wake: read FIFO_SRC (address+W, register, address+R, 1 byte),
# then the samples (address+W, register, address+R, 6 bytes per sample).
# 9 bits per byte (8 + ACK); START/STOP and clock stretching ignored.
I2C_BITS_PER_BYTE = 9
I2C_FIFO_SRC_BYTES = 4
I2C_BURST_ADDRESSING_BYTES = 3
BYTES_PER_SAMPLE = 6

# Battery. Usable capacity = rated x derating: a LiPo is rated new at room
# temperature; it is typically specified to keep 80% after 300-500 cycles,
# and it loses a few % a month to self-discharge. Rule of thumb: 0.8.
CAPACITY_DERATING = 0.8
CELLS_MAH = (150, 500, 1000)
TARGET_DAYS = 14
TARGET_CELL_MAH = 500


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------

def lis3dh_ua(rate_hz=RATE_HZ, bits=RESOLUTION_BITS):
    """The chip's supply current at an ODR and mode (8 bits = low-power)."""
    try:
        lp, normal = LIS3DH_UA[int(rate_hz)]
    except KeyError:
        raise ValueError(f"no LIS3DH current for {rate_hz} Hz in lis3dh.md") from None
    return lp if bits == 8 else normal


def i2c_burst_ms(samples, freq_hz=I2C_FREQ_HZ):
    """Time on the bus to read FIFO_SRC and then `samples` samples."""
    nbytes = I2C_FIFO_SRC_BYTES + I2C_BURST_ADDRESSING_BYTES + BYTES_PER_SAMPLE * samples
    return nbytes * I2C_BITS_PER_BYTE / freq_hz * 1000.0


def cpu_ms(samples, scale):
    """Processing time per wake on the device, ms."""
    return samples * (DETECTOR_US_PER_SAMPLE_HOST + FIRMWARE_US_PER_SAMPLE_HOST) * scale / 1000.0


@dataclass(frozen=True)
class Design:
    name: str
    note: str
    sleep_ma: tuple            # (best case, budget) Pico board while asleep
    awake_ma: tuple = PICO_AWAKE_MA
    sensor_overhead_ma: float = BREAKOUT_OVERHEAD_MA
    watermark: int = FIFO_WATERMARK
    scale: float = RP2040_SCALE
    wake_overhead_ms: float = WAKE_OVERHEAD_MS


def wakes_per_s(d: Design):
    return RATE_HZ / d.watermark


def awake_ms_per_wake(d: Design):
    return i2c_burst_ms(d.watermark) + cpu_ms(d.watermark, d.scale) + d.wake_overhead_ms


def duty(d: Design):
    """Fraction of the time the Pico is awake."""
    return awake_ms_per_wake(d) * wakes_per_s(d) / 1000.0


def pico_supply_factor(budget):
    """Current from the cell per mA of the Pico's quoted current."""
    if not budget:
        return 1.0
    return (USB_V - DIODE_DROP_V) / (CELL_NOMINAL_V - DIODE_DROP_V)


def rail_factor(budget):
    """Current from the cell per mA drawn from the Pico's 3.3 V output."""
    if not budget:
        return 1.0
    return 3.3 / ((CELL_NOMINAL_V - DIODE_DROP_V) * BUCK_BOOST_EFFICIENCY)


def breakdown(d: Design, budget=True):
    """Average current from the cell by part, mA."""
    i = 1 if budget else 0
    f = duty(d)
    sleep = d.sleep_ma[i] * (1 - f) * pico_supply_factor(budget)
    awake = d.awake_ma[i] * f * pico_supply_factor(budget)
    sensor = (lis3dh_ua() / 1000.0 + d.sensor_overhead_ma) * rail_factor(budget)
    return {"pico asleep": sleep, "pico awake": awake, "sensor board": sensor,
            "charger": CHARGER_LEAK_MA}


def average_ma(d: Design, budget=True):
    return sum(breakdown(d, budget).values())


def days(capacity_mah, avg_ma, derating=CAPACITY_DERATING):
    """Days per charge: usable capacity / average current / 24 h."""
    return capacity_mah * derating / avg_ma / 24.0


def cell_for_days(target_days, avg_ma, derating=CAPACITY_DERATING):
    """Rated capacity (mAh) that lasts target_days."""
    return target_days * 24.0 * avg_ma / derating


def max_sleep_ma_for_target(d: Design, budget=True, target_days=TARGET_DAYS, cell_mah=TARGET_CELL_MAH):
    """The highest Pico sleep current (as quoted, before supply conversion) that
    still reaches target_days on cell_mah, everything else as in d."""
    allowed = cell_mah * CAPACITY_DERATING / (target_days * 24.0)
    other = average_ma(d, budget) - breakdown(d, budget)["pico asleep"]
    per_ma = (1 - duty(d)) * pico_supply_factor(budget)
    return (allowed - other) / per_ma


BASELINE = Design(
    "A. baseline",
    "Pico in lightsleep, stock LIS3DH breakout (regulator + LED), watermark "
    f"{FIFO_WATERMARK} (config.py)",
    PICO_LIGHTSLEEP_MA,
)
DESIGNS = [
    BASELINE,
    replace(BASELINE, name="B. bare sensor",
            note="as A, sensor board without regulator and LED (or LED removed, 3.3 V fed to the chip)",
            sensor_overhead_ma=BARE_SENSOR_OVERHEAD_MA),
    replace(BASELINE, name="C. bare sensor, watermark 30",
            note="as B, FIFO watermark 30 (the FIFO holds 32): fewer wakes",
            sensor_overhead_ma=BARE_SENSOR_OVERHEAD_MA, watermark=30),
    replace(BASELINE, name="D. dormant",
            note="as A, RP2040 DORMANT between wakes, woken by INT1 (assumed sleep current)",
            sleep_ma=PICO_DORMANT_MA),
    replace(BASELINE, name="E. bare sensor + dormant",
            note="B and D together (assumed sleep current)",
            sleep_ma=PICO_DORMANT_MA, sensor_overhead_ma=BARE_SENSOR_OVERHEAD_MA),
    replace(BASELINE, name="F. Pico 2, bare sensor",
            note="Pico 2 (RP2350) in low-power sleep, woken by INT1, bare sensor (assumed sleep current)",
            sleep_ma=PICO2_SLEEP_MA, sensor_overhead_ma=BARE_SENSOR_OVERHEAD_MA,
            scale=RP2350_SCALE),
]


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def _f(x, nd=2):
    return f"{x:.{nd}f}"


def report(designs=DESIGNS, measured=None):
    b = BASELINE
    mode = {8: "low-power (8-bit)", 10: "normal (10-bit)", 12: "high-resolution (12-bit)"}[RESOLUTION_BITS]
    lines = []
    w = lines.append
    w("# stepclip power budget")
    w("")
    w("Generated by `hardware/power.py` (`make hardware`) from the inputs stated at the top")
    w("of that script, each with its source. Do not edit by hand: change an input and")
    w("rerun. Figures marked *estimate* or *assumed* are not measurements; replace them")
    w("with measurements on a built stepclip (a USB power meter on the cell, or a")
    w("current probe) when one exists.")
    w("")
    w("## Inputs")
    w("")
    w("| input | value | source |")
    w("|---|---|---|")
    w(f"| sensor rate, mode | {RATE_HZ} Hz, {mode} | firmware/config.py |")
    w(f"| LIS3DH chip current | {lis3dh_ua()} µA | lis3dh.md (datasheet table) |")
    w(f"| stock breakout overhead (regulator, LED) | {BREAKOUT_OVERHEAD_MA} mA | lis3dh.md (one measurement) |")
    w(f"| bare sensor board overhead | {BARE_SENSOR_OVERHEAD_MA} mA | estimate: chip only, pull-ups idle high |")
    w(f"| Pico lightsleep | {PICO_LIGHTSLEEP_MA[0]}-{PICO_LIGHTSLEEP_MA[1]} mA | micropython-rp2.md |")
    w(f"| Pico awake | {PICO_AWAKE_MA[0]:g}-{PICO_AWAKE_MA[1]:g} mA | micropython-rp2.md |")
    w(f"| Pico (RP2040) dormant, whole board | {PICO_DORMANT_MA[1]} mA | **assumed**: recalled from the Pico datasheet's power table (not in ../shared/reference); check and measure |")
    w(f"| Pico 2 low-power sleep, whole board | {PICO2_SLEEP_MA[1]} mA | **assumed**: measure |")
    w(f"| FIFO watermark | {FIFO_WATERMARK} samples | firmware/config.py |")
    w(f"| wakes per second | {_f(wakes_per_s(b), 3)} | rate / watermark |")
    w(f"| I2C per wake at {I2C_FREQ_HZ // 1000} kHz | {_f(i2c_burst_ms(FIFO_WATERMARK))} ms | "
      f"({I2C_FIFO_SRC_BYTES} + {I2C_BURST_ADDRESSING_BYTES} + {BYTES_PER_SAMPLE} x {FIFO_WATERMARK}) bytes x "
      f"{I2C_BITS_PER_BYTE} bits |")
    det = measured if measured is not None else DETECTOR_US_PER_SAMPLE_HOST
    w(f"| detector per sample, MicroPython unix port | {_f(det)} µs | measured on the development machine (x86_64, 2.6 GHz)"
      + (" just now (--measure) |" if measured is not None else " |"))
    w(f"| rest of the firmware loop per sample | {_f(FIRMWARE_US_PER_SAMPLE_HOST)} µs (host) | **allowance, to be replaced** by the measured firmware loop |")
    w(f"| host -> RP2040 scale | x{RP2040_SCALE:g} | **estimate**: 2.6 GHz / 125 MHz = 21x clock, x5-7 per clock (in-order M0+, XIP flash) |")
    w(f"| processing per wake on the RP2040 | {_f(cpu_ms(FIFO_WATERMARK, RP2040_SCALE))} ms | "
      f"{FIFO_WATERMARK} x ({_f(det)} + {_f(FIRMWARE_US_PER_SAMPLE_HOST)}) µs x {RP2040_SCALE:g} |")
    w(f"| wake-up overhead | {WAKE_OVERHEAD_MS} ms | **estimate**: clock restart, MicroPython resuming |")
    w(f"| awake per wake | {_f(awake_ms_per_wake(b))} ms | sum of the three above |")
    w(f"| awake fraction | {_f(100 * duty(b), 2)} % | awake per wake x wakes per second |")
    w(f"| Pico current from the cell per mA quoted (budget) | x{_f(pico_supply_factor(True))} | "
      f"**assumed** quoted at USB 5 V: ({USB_V} - {DIODE_DROP_V}) / ({CELL_NOMINAL_V} - {DIODE_DROP_V}) |")
    w(f"| 3.3 V load current from the cell (budget) | x{_f(rail_factor(True))} | "
      f"3.3 / (({CELL_NOMINAL_V} - {DIODE_DROP_V}) x {BUCK_BOOST_EFFICIENCY}) (converter efficiency: estimate) |")
    w(f"| charger + protection leakage | {CHARGER_LEAK_MA} mA | **estimate** (DW01A, TP4056 datasheets) |")
    w(f"| usable capacity | {CAPACITY_DERATING:.0%} of rated | rule of thumb: ageing to 80%, self-discharge |")
    w("")
    w("## Result")
    w("")
    def table(budget):
        cell_col = f" | cell for {TARGET_DAYS} days" if budget else ""
        w("| design | average current | " + " | ".join(f"days on {c} mAh" for c in CELLS_MAH)
          + f"{cell_col} | {TARGET_DAYS} days on {TARGET_CELL_MAH} mAh? |")
        w("|---|---|" + "---|" * len(CELLS_MAH) + ("---|---|" if budget else "---|"))
        for d in designs:
            a = average_ma(d, budget)
            ok = days(TARGET_CELL_MAH, a) >= TARGET_DAYS
            cell = f" | {cell_for_days(TARGET_DAYS, a):.0f} mAh" if budget else ""
            verdict = ("**yes**" if budget else "yes") if ok else "no"
            w(f"| {d.name} | {_f(a)} mA | " + " | ".join(_f(days(c, a), 1) for c in CELLS_MAH) + f"{cell} | {verdict} |")
        w("")

    w(f"Budget case (high end of each range, Pico figures converted from 5 V; design to this):")
    w("")
    table(True)
    w("Best case (low end of each range, figures taken as drawn from the cell):")
    w("")
    table(False)
    w("Designs:")
    w("")
    for d in designs:
        w(f"- **{d.name}**: {d.note}; awake {_f(awake_ms_per_wake(d))} ms per wake, "
          f"{_f(wakes_per_s(d), 3)} wakes/s.")
    w("")
    w("Where the baseline's current goes (budget case):")
    w("")
    w("| part | mA | share |")
    w("|---|---|---|")
    parts = breakdown(b, True)
    total = sum(parts.values())
    for k, v in parts.items():
        w(f"| {k} | {_f(v, 3)} | {v / total:.0%} |")
    w(f"| total | {_f(total, 3)} | |")
    w("")
    w("## Verdict")
    w("")
    w(_verdict(designs))
    w("")
    w("Days per charge = rated capacity x "
      f"{CAPACITY_DERATING} / average current / 24. The average current is the Pico's")
    w("sleep current for the time it sleeps plus its awake current for the time it is awake")
    w("(I2C burst + processing + wake-up, once per FIFO watermark), plus the sensor board")
    w("and the charger's leakage.")
    return "\n".join(lines) + "\n"


def _verdict(designs):
    b = BASELINE
    by_name = {d.name[0]: d for d in designs}
    ab, ao = average_ma(b, True), average_ma(b, False)
    meets = [d for d in designs if days(TARGET_CELL_MAH, average_ma(d, True)) >= TARGET_DAYS]
    best_only = [d for d in designs if days(TARGET_CELL_MAH, average_ma(d, False)) >= TARGET_DAYS
                 and d not in meets]
    bare = by_name["B"]
    parts = breakdown(b, True)
    sensor_share = parts["sensor board"] / ab
    sleep_floor = days(TARGET_CELL_MAH, PICO_LIGHTSLEEP_MA[1] * pico_supply_factor(True))
    names = lambda ds: ", ".join(d.name for d in ds) or "none"
    s = []
    s.append(f"**The baseline does not reach {TARGET_DAYS} days on {TARGET_CELL_MAH} mAh**: "
             f"{days(TARGET_CELL_MAH, ab):.1f} days in the budget case ({ab:.2f} mA), "
             f"{days(TARGET_CELL_MAH, ao):.1f} days in the best case ({ao:.2f} mA). In the budget "
             f"case it would need a {cell_for_days(TARGET_DAYS, ab):.0f} mAh cell.")
    s.append("")
    s.append(f"- The stock breakout's regulator and LED are {sensor_share:.0%} of the baseline's "
             f"current: a sensor board without them (design B) is part of every design that reaches "
             f"the target.")
    s.append(f"- The Pico's sleep current is the rest of the problem. In lightsleep it alone limits a "
             f"{TARGET_CELL_MAH} mAh cell to {sleep_floor:.1f} days in the budget case, so no firmware "
             f"change gets there. With a bare sensor, {TARGET_DAYS} days need the Pico to sleep at "
             f"{max_sleep_ma_for_target(bare, True):.2f} mA or less as quoted (budget case; "
             f"{max_sleep_ma_for_target(bare, False):.2f} mA or less in the best case).")
    if "C" in by_name:
        c = by_name["C"]
        s.append(f"- A longer watermark (design C) saves only "
                 f"{1000 * (average_ma(bare, True) - average_ma(c, True)):.0f} µA: waking up is not "
                 f"what costs.")
    s.append(f"- **Reaches {TARGET_DAYS} days on {TARGET_CELL_MAH} mAh in the budget case: {names(meets)}.**"
             + (" This rests on an assumed sleep current (not in ../shared/reference): measure it."
                if meets else ""))
    if best_only:
        s.append(f"- Reaches it only in the best case: {names(best_only)}. Measure before counting on it.")
    s.append("- RP2040 DORMANT (designs D, E) stops the clocks: the firmware would keep time by "
             "counting FIFO samples (the LIS3DH's rate comes from its own on-chip oscillator, "
             "not a crystal) and reset the clock at each sync, and the MicroPython call that enters DORMANT with a GPIO wake-up "
             "must be checked on the firmware's MicroPython version.")
    s.append(f"- Recommended: a sensor board without regulator/LED, and a measured sleep current. If a "
             f"Pico 2 sleeps as assumed (design F), it is the simplest way to {TARGET_DAYS} days; "
             f"otherwise RP2040 dormant with INT1 wake-up (design E) plus a "
             f"{cell_for_days(TARGET_DAYS, average_ma(by_name['E'], True)):.0f} mAh cell, or design B "
             f"with a {cell_for_days(TARGET_DAYS, average_ma(bare, True)):.0f} mAh cell.")
    return "\n".join(s)


def measure_detector_us():
    """µs per sample of the firmware detector under the MicroPython unix port."""
    from stepclip import detector, sensor, synth
    view = sensor.device_view(synth.demo_trace())
    _, fig = detector.run_micropython(view.xyz, view.rate_hz, alloc=True)
    return fig["us_per_sample"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--measure", action="store_true",
                    help="re-measure the detector under the MicroPython unix port and use that figure")
    ap.add_argument("--stdout", action="store_true", help="print instead of writing hardware/power.md")
    args = ap.parse_args(argv)
    measured = None
    if args.measure:
        global DETECTOR_US_PER_SAMPLE_HOST
        measured = measure_detector_us()
        DETECTOR_US_PER_SAMPLE_HOST = measured
        print(f"detector: {measured:.3f} µs per sample under the MicroPython unix port", file=sys.stderr)
    text = report(measured=measured)
    if args.stdout:
        sys.stdout.write(text)
    else:
        OUT.write_text(text, encoding="utf-8")
        a = average_ma(BASELINE)
        print(f"wrote {OUT.relative_to(HERE.parent)}: baseline {a:.2f} mA, "
              f"{days(TARGET_CELL_MAH, a):.1f} days on {TARGET_CELL_MAH} mAh", file=sys.stderr)


if __name__ == "__main__":
    main()

"""stepclip battery: how long a charge lasts, from the device's own battery readings.

The firmware (0.3.0 and later) keeps, for every hour of a day record, the lowest
reading of VSYS on battery (mV) and whether USB power was present; `sync` stores
them (store.Database.battery_hours). From them:

- the last charge is a rise of at least CHARGE_RISE_MV between two readings on
  battery: at the hours on USB power in between, or, without them, charged while
  the clip was off; a smaller rise across hours on USB (a sync, plugged in for a
  few minutes) is a top-up, whose charge counts as used again;
- a reading becomes the cell's charge: VSYS plus the Schottky diode's drop
  (battery_model.DIODE_MV), then the cell's open-circuit voltage curve read
  backwards (battery_model.OCV_MV: Zephyr's default curve for lithium-ion
  polymer cells, 0-100 % in steps of 10 %, linear in between);
- the charge used since the first reading after the charge, over the time since,
  gives the charge used per day, and so the days a full charge lasts at the
  wearer's own use, and the days left.

An estimate: a generic curve, not this cell's; the cell's voltage also sags
under load and with temperature. A USB power meter measures it directly
(hardware/README.md, "Measure your battery life").
"""
from datetime import datetime

from stepclip_firmware.battery_model import DIODE_MV, OCV_MV, ocv_mv

from .report import ReportError, resolve_device

CHARGE_RISE_MV = 100  # a rise between two hourly readings on battery that is a charge: well above the ADC's noise (a few mV, 8 conversions averaged) and a cell's recovery after load (tens of mV)
MIN_HOURS = 12  # hours on battery before an estimate is given
MIN_USED_PERMILLE = 20  # charge used (2 %) before an estimate is given: 2 % is about 16 mV on the curve, a few ADC steps


def permille(reading_mv):
    """The charge (0-1000 per mille) a VSYS reading (mV) means: + DIODE_MV, then
    OCV_MV read backwards (linear between its points, clamped to 0 and 1000)."""
    cell = reading_mv + DIODE_MV
    if cell <= OCV_MV[0]:
        return 0
    for i in range(1, len(OCV_MV)):
        if cell < OCV_MV[i]:
            lo, hi = OCV_MV[i - 1], OCV_MV[i]
            return 100 * (i - 1) + 100 * (cell - lo) // (hi - lo)
    return 1000


def discharge(hours):
    """The readings since the last charge. hours: [(hour, mV, usb)], oldest first.
    A charge is a rise of at least CHARGE_RISE_MV from one reading on battery to the
    next: at the last hour on USB power in between ("usb"), or at the reading
    itself when there was none ("rise": charged while the clip was off). A smaller
    rise across hours on USB power is a top-up (a sync plugged in for a while):
    not a charge, but the charge it put in is counted as used again. Returns
    (charged hour or None, "usb"/"rise"/None, [(hour, mV)] on battery since,
    top-ups in per mille)."""
    charged, how, since, topups = None, None, [], 0
    usb_at = None  # the last hour on USB since the previous reading
    prev = 0
    for t, mv, usb in hours:
        if usb:
            usb_at = t
            continue
        if not mv:
            continue
        if prev and mv - prev >= CHARGE_RISE_MV:
            charged, how = (usb_at, "usb") if usb_at else (t, "rise")
            since, topups = [], 0
        elif prev and usb_at and mv > prev:
            topups += permille(mv) - permille(prev)
        elif not prev and usb_at:
            charged, how = usb_at, "usb"  # the readings begin after a charge
        since.append((t, mv))
        prev, usb_at = mv, None
    return charged, how, since, topups


def analyse(hours):
    """The discharge since the last charge. hours: [(hour, mV, usb)], oldest first
    (Database.battery_hours). Returns a dict: "charged" (the hour of the last
    charge, a datetime, or None when the readings show none), "how" ("usb",
    "rise" or None; see discharge()), "first"/"last" ({"time", "mv", "percent"}:
    the first and last reading on battery since; None when there is none),
    "hours" between them, "used_percent" (first less last, plus top-ups), and
    when there is enough discharge (MIN_HOURS, MIN_USED_PERMILLE):
    "percent_per_day", "days_per_charge" (100 % at that rate) and "days_left"
    (else None, and "why" says what is missing). "series": [(hour, mV)] of every
    reading, "usb": [hours with USB power]. Raises ReportError when hours is empty."""
    if not hours:
        raise ReportError("no battery readings")
    charged, how, since, topups = discharge(hours)
    out = {"charged": charged, "how": how, "first": None, "last": None, "hours": 0, "used_percent": None,
           "percent_per_day": None, "days_per_charge": None, "days_left": None, "why": None,
           "series": [(t, mv) for t, mv, _ in hours if mv], "usb": [t for t, _, usb in hours if usb]}
    if not since:
        out["why"] = "on USB power since the readings began: no reading on battery yet"
        return out
    (t0, mv0), (t1, mv1) = since[0], since[-1]
    p0, p1 = permille(mv0), permille(mv1)
    used = p0 - p1 + topups
    out["first"] = {"time": t0, "mv": mv0, "percent": p0 / 10}
    out["last"] = {"time": t1, "mv": mv1, "percent": p1 / 10}
    span_h = (t1 - t0).total_seconds() / 3600
    out["hours"] = round(span_h)
    out["used_percent"] = used / 10
    if span_h < MIN_HOURS:
        out["why"] = f"{out['hours']} h on battery so far: an estimate needs {MIN_HOURS} h"
    elif used < MIN_USED_PERMILLE:
        out["why"] = f"{used / 10:.1f}% used so far: an estimate needs {MIN_USED_PERMILLE / 10:g}%"
    else:
        per_day = used / 10 / (span_h / 24)
        out["percent_per_day"] = round(per_day, 2)
        out["days_per_charge"] = round(100 / per_day, 1)
        out["days_left"] = round(p1 / 10 / per_day, 1)
    return out


def battery(db, device_id=None, tz=None):
    """The analysis (analyse()) of a device's readings (default: the most recently
    synced device), with "device". ReportError for an unknown device or one
    without readings."""
    device_id = resolve_device(db, device_id)
    hours = db.battery_hours(device_id, tz)
    if not hours:
        raise ReportError(
            f"no battery readings from {device_id} yet: firmware 0.3.0 or later keeps one an hour "
            "(`stepclip deploy`), then `stepclip sync` after a few hours of wear"
        )
    result = analyse(hours)
    result["device"] = device_id
    return result


def _when(t):
    return f"{t:%a %Y-%m-%d %H:00}"


def _reading(r):
    return f"{r['mv'] / 1000:.2f} V ({r['percent']:.0f}%)"


def render(r):
    """The analysis as text lines for the terminal."""
    lines = [f"stepclip battery for {r['device']} (readings of the battery's voltage, VSYS, once an hour)"]
    if r["charged"] is None:
        lines.append("Last charge: none in the readings: from the first reading")
    else:
        how = "USB power" if r["how"] == "usb" else "the voltage rose: charged while the clip was off"
        lines.append(f"Last charge: {_when(r['charged'])} ({how})")
    if r["first"]:
        lines.append(f"On battery:  {_when(r['first']['time'])}  {_reading(r['first'])}")
        lines.append(f"Last read:   {_when(r['last']['time'])}  {_reading(r['last'])}")
        lines.append(f"Used:        {r['used_percent']:.1f}% in {r['hours'] / 24:.1f} days")
    if r["days_per_charge"] is not None:
        lines.append(f"A charge lasts about {r['days_per_charge']:.1f} days at this use "
                     f"({r['percent_per_day']:.1f}% a day; about {r['days_left']:.1f} days left)")
    else:
        lines.append(f"Not enough discharge yet for an estimate: {r['why']}; sync again later")
    lines.append("An estimate from a generic LiPo curve; a USB power meter measures it (hardware/README.md).")
    return "\n".join(lines)


def as_json(r):
    """The analysis with datetimes as ISO text (for --json)."""
    def iso(t):
        return t.isoformat(timespec="minutes") if isinstance(t, datetime) else t

    out = {k: v for k, v in r.items() if k not in ("series", "usb")}
    out["charged"] = iso(r["charged"])
    for k in ("first", "last"):
        if r[k]:
            out[k] = {**r[k], "time": iso(r[k]["time"])}
    out["readings"] = [{"time": iso(t), "mv": mv} for t, mv in r["series"]]
    out["usb_hours"] = [iso(t) for t in r["usb"]]
    return out


def plot(r, out_png):
    """The readings as a chart: the battery's voltage each hour (and its charge on
    the right axis), the hours on USB power, and the discharge since the last
    charge drawn on to empty when there is an estimate."""
    from datetime import timedelta

    from .plot import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.5))
    if r["series"]:
        t, mv = zip(*r["series"])
        ax.plot(t, [v / 1000 for v in mv], ".-", lw=0.8, ms=3, color="tab:blue", label="battery (VSYS), lowest of each hour")
    for k, u in enumerate(r["usb"]):
        ax.axvspan(u, u + timedelta(hours=1), color="tab:green", alpha=0.25, lw=0, label="USB power" if k == 0 else None)
    if r["days_per_charge"] is not None:
        # on from the last reading at the same rate, the voltage following the curve down to empty
        t1, p1, per_day = r["last"]["time"], int(r["last"]["percent"] * 10), r["percent_per_day"] * 10
        levels = list(range(p1, -1, -20)) + [0]
        ax.plot([t1 + timedelta(days=(p1 - p) / per_day) for p in levels],
                [(ocv_mv(p) - DIODE_MV) / 1000 for p in levels], "--", color="tab:red", lw=1,
                label=f"about {r['days_per_charge']:.1f} days a charge: on at this rate to empty")
    ax.set_ylabel("volts")
    ax.set_title(f"stepclip {r['device']}: battery since the readings began")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    plt.close(fig)

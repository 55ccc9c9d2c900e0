"""hardware/: the wiring agrees with firmware/config.py, the BOM adds up, the power
budget's arithmetic holds and power.md is current, the diagram and the case render.

Tests that need Graphviz `dot`, WireViz or OpenSCAD skip, saying so, when the tool
is missing; `make test` installs all three.
"""
import copy
import csv
import importlib.util
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stepclip_firmware import config

ROOT = Path(__file__).resolve().parents[1]
HW = ROOT / "hardware"

# Raspberry Pi Pico / Pico 2 header: physical pin -> function (datasheet pinout)
PICO_PINOUT = {
    1: "GP0", 2: "GP1", 3: "GND", 4: "GP2", 5: "GP3", 6: "GP4", 7: "GP5", 8: "GND",
    9: "GP6", 10: "GP7", 11: "GP8", 12: "GP9", 13: "GND", 14: "GP10", 15: "GP11",
    16: "GP12", 17: "GP13", 18: "GND", 19: "GP14", 20: "GP15", 21: "GP16", 22: "GP17",
    23: "GND", 24: "GP18", 25: "GP19", 26: "GP20", 27: "GP21", 28: "GND", 29: "GP22",
    30: "RUN", 31: "GP26", 32: "GP27", 33: "GND", 34: "GP28", 35: "ADC_VREF",
    36: "3V3(OUT)", 37: "3V3_EN", 38: "GND", 39: "VSYS", 40: "VBUS",
}

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz `dot` is not installed (Debian: apt-get install graphviz; `make test` does it)")
needs_wireviz = pytest.mark.skipif(
    importlib.util.find_spec("wireviz") is None,
    reason="wireviz is not installed (pip install -e '.[dev]'; `make test` does it)")
needs_openscad = pytest.mark.skipif(
    shutil.which("openscad") is None,
    reason="openscad is not installed (Debian: apt-get install openscad; `make test` does it)")


# ---------------------------------------------------------------------------
# Wiring
# ---------------------------------------------------------------------------

def load_wiring(path=HW / "wiring.yml"):
    yaml = pytest.importorskip("yaml", reason="PyYAML is missing (wireviz brings it: pip install -e '.[dev]')")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _expand(items):
    """WireViz pin/wire lists: a list or a single item; '1-5' is a range."""
    if not isinstance(items, list):
        items = [items]
    out = []
    for it in items:
        m = re.fullmatch(r"(\d+)-(\d+)", str(it))
        if m:
            a, b = int(m[1]), int(m[2])
            out.extend(range(a, b + 1) if a <= b else range(a, b - 1, -1))
        else:
            out.append(it)
    return out


def _pin_names(conn):
    """{pin id: label} for a connector (pins default to 1..n, labels to the ids)."""
    labels = conn.get("pinlabels") or []
    pins = conn.get("pins") or list(range(1, len(labels) + 1))
    return {p: (labels[i] if i < len(labels) else str(p)) for i, p in enumerate(pins)}


def _resolve(conn, ref):
    """A pin reference in a connection (id or label) -> pin id."""
    names = _pin_names(conn)
    if ref in names:
        return ref
    hits = [p for p, label in names.items() if label == ref]
    assert len(hits) == 1, f"pin {ref!r} is not a single pin of {conn.get('type')}"
    return hits[0]


def links(doc):
    """Every wire as ((connector, pin id), (connector, pin id)); loops included."""
    connectors, cables = doc["connectors"], doc["cables"]
    out = []
    for chain in doc["connections"]:
        steps = [next(iter(step.items())) for step in chain]
        for (a, a_pins), (w, wires), (b, b_pins) in zip(steps[::2], steps[1::2], steps[2::2]):
            assert a in connectors and b in connectors and w in cables, chain
            a_pins, wires, b_pins = _expand(a_pins), _expand(wires), _expand(b_pins)
            assert len(a_pins) == len(wires) == len(b_pins), chain
            for pa, pb in zip(a_pins, b_pins):
                out.append(((a, _resolve(connectors[a], pa)), (b, _resolve(connectors[b], pb))))
    for name, conn in connectors.items():
        for pa, pb in conn.get("loops") or []:
            out.append(((name, pa), (name, pb)))
    return out


def peers(doc, connector, label):
    """(connector, pin id, pin label) at the other end of each wire from connector's pin `label`."""
    connectors = doc["connectors"]
    pin = _resolve(connectors[connector], label)
    found = []
    for x, y in links(doc):
        for here, there in ((x, y), (y, x)):
            if here == (connector, pin):
                found.append((there[0], there[1], _pin_names(connectors[there[0]])[there[1]]))
    return found


def gp_number(label):
    m = re.search(r"\bGP(\d+)\b", str(label))
    return int(m[1]) if m else None


def pico_pin_for(doc, connector, label):
    """The Pico header pin (number, label) wired to `label` of `connector`."""
    ends = [(p, lab) for c, p, lab in peers(doc, connector, label) if c == "Pico"]
    assert len(ends) == 1, f"{connector} {label} should have one wire to the Pico: {ends}"
    return ends[0]


def wiring_pins(doc):
    """GP numbers the wiring document uses, keyed like firmware/config.py."""
    pins = {}
    for key, sensor_pin in (("I2C_SDA", "SDA"), ("I2C_SCL", "SCL"), ("INT1_PIN", "INT")):
        number, label = pico_pin_for(doc, "LIS3DH", sensor_pin)
        gp = gp_number(label)
        # the label's GP number must be the one at that physical header pin
        assert PICO_PINOUT[number] == f"GP{gp}", (
            f"Pico pin {number} is {PICO_PINOUT[number]}, but wiring.yml labels it {label!r}")
        pins[key] = gp
    # VSYS is measured on GP29 (ADC3) through the board's divider: not a header pin
    number, label = pico_pin_for(doc, "Diode", "cathode (band)")
    assert PICO_PINOUT[number] == "VSYS", f"the battery diode goes to Pico pin {number}, not VSYS (39)"
    pins["VSYS_ADC_PIN"] = gp_number(label)
    return pins


def config_pins():
    return {k: getattr(config, k) for k in ("I2C_SDA", "I2C_SCL", "INT1_PIN", "VSYS_ADC_PIN")}


def test_wiring_pins_are_the_firmware_pins():
    assert wiring_pins(load_wiring()) == config_pins(), (
        "hardware/wiring.yml and firmware/config.py disagree: change both, then `make hardware`")


def test_pico_board_takes_its_pins_from_config():
    # the firmware's `pico` board (firmware/board_pico.py) must not hard-code pins
    import ast

    path = ROOT / "firmware" / "board_pico.py"
    if not path.exists():
        pytest.skip("firmware/board_pico.py does not exist yet")
    used = {n.attr for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "config"}
    assert {"I2C_ID", "I2C_SDA", "I2C_SCL", "INT1_PIN", "VSYS_ADC_PIN"} <= used


def test_config_pins_are_a_valid_i2c_pair():
    # RP2040/RP2350: GPn is I2C((n // 2) % 2); SDA on even n, SCL on odd n
    sda, scl = config.I2C_SDA, config.I2C_SCL
    assert sda % 2 == 0 and scl % 2 == 1
    assert (sda // 2) % 2 == (scl // 2) % 2 == config.I2C_ID
    assert config.VSYS_ADC_PIN == 29  # the Pico board wires VSYS/3 to GP29 (ADC3)


def test_a_pin_change_on_one_side_fails():
    doc = load_wiring()
    moved = copy.deepcopy(doc)
    pico = moved["connectors"]["Pico"]
    # move SDA from GP4 (pin 6) to GP8 (pin 11): a consistent edit of the document ...
    i = pico["pins"].index(6)
    pico["pins"][i] = 11
    pico["pinlabels"][i] = "GP8 (I2C0 SDA)"
    for chain in moved["connections"]:
        for step in chain:
            if "Pico" in step:
                step["Pico"] = [11 if p == 6 else p for p in _expand(step["Pico"])]
    assert wiring_pins(moved)["I2C_SDA"] == 8
    # ... that firmware/config.py does not follow
    assert wiring_pins(moved) != config_pins()
    # and a label that disagrees with the physical pin is caught too
    bad = copy.deepcopy(doc)
    bad["connectors"]["Pico"]["pinlabels"][bad["connectors"]["Pico"]["pins"].index(6)] = "GP5 (I2C0 SDA)"
    with pytest.raises(AssertionError, match="Pico pin 6 is GP4"):
        wiring_pins(bad)


def test_wiring_power_and_address():
    doc = load_wiring()
    number, _ = pico_pin_for(doc, "LIS3DH", "VIN")
    assert PICO_PINOUT[number] == "3V3(OUT)"
    number, _ = pico_pin_for(doc, "LIS3DH", "GND")
    assert PICO_PINOUT[number] == "GND"
    # SDO/SA0 low = 0x18, high = 0x19
    sdo = {lab for c, p, lab in peers(doc, "LIS3DH", "SDO")}
    assert sdo == ({"GND"} if config.LIS3DH_ADDRESS == 0x18 else {"VIN"})
    # battery path: cell -> charger -> switch -> Schottky anode; cathode -> VSYS; charger from VBUS
    assert ("Charger", "B+", "B+") in peers(doc, "Cell", "+")
    assert ("Switch", "COM", "common") in peers(doc, "Charger", "OUT+")
    assert ("Diode", "A", "anode") in peers(doc, "Switch", 1)
    number, _ = pico_pin_for(doc, "Charger", "IN+")
    assert PICO_PINOUT[number] == "VBUS"
    number, _ = pico_pin_for(doc, "Charger", "OUT-")
    assert PICO_PINOUT[number] == "GND"


def test_committed_diagram_shows_the_pins():
    svg = (HW / "wiring.svg").read_text(encoding="utf-8")
    png = (HW / "wiring.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    pico = load_wiring()["connectors"]["Pico"]
    for label in pico["pinlabels"]:
        assert label.replace("&", "&amp;") in svg, f"wiring.svg lacks {label!r}: run `make hardware`"


@needs_wireviz
@needs_dot
def test_wiring_renders_and_committed_files_are_current(tmp_path):
    cmd = [sys.executable, "-c", "from wireviz.wv_cli import wireviz; wireviz()",
           "-f", "ps", "-o", str(tmp_path), str(HW / "wiring.yml")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    svg = (tmp_path / "wiring.svg").read_text(encoding="utf-8")
    assert (tmp_path / "wiring.png").stat().st_size > 10_000
    committed = (HW / "wiring.svg").read_text(encoding="utf-8")
    version = re.compile(r"Generated by graphviz version [^\n]*")
    if version.search(svg)[0] == version.search(committed)[0]:
        assert svg == committed, "hardware/wiring.svg is not wiring.yml rendered: run `make hardware`"


# ---------------------------------------------------------------------------
# Bill of materials
# ---------------------------------------------------------------------------

def load_bom():
    with open(HW / "bom.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_bom_total_is_the_sum():
    rows = load_bom()
    assert rows[-1]["part"] == "TOTAL"
    items = rows[:-1]
    for r in items:
        assert r["example_part_number"], r["part"]
        assert float(r["quantity"]) > 0
        assert float(r["price_usd"]) == pytest.approx(float(r["quantity"]) * float(r["unit_price_usd"]), abs=0.005), r["part"]
    assert float(rows[-1]["price_usd"]) == pytest.approx(sum(float(r["price_usd"]) for r in items), abs=0.005)


def test_bom_has_every_part():
    text = " ".join(r["part"] + " " + r["example_part_number"] for r in load_bom()).lower()
    for part in ("pico", "lis3dh", "lipo", "charger", "schottky", "switch", "wire",
                 "heat-shrink", "belt clip", "screw"):
        assert part in text, part


# ---------------------------------------------------------------------------
# Power budget
# ---------------------------------------------------------------------------

def load_power():
    spec = importlib.util.spec_from_file_location("stepclip_power", HW / "power.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def pw():
    return load_power()


REFERENCE = ROOT.parent / "shared" / "reference" / "power.md"


def reference_rows():
    """{row number: section number} of ../shared/reference/power.md's tables."""
    rows, section = {}, None
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"## (\d+)\.", line)
        if m:
            section = int(m[1])
        m = re.match(r"\| (\d+) \|", line)
        if m:
            rows[int(m[1])] = section
    return rows


def test_every_power_input_names_its_source(pw):
    assert set(pw.ESTIMATES) == {k for k, i in pw.INPUTS.items() if i.kind == "estimate"}, (
        "an input without a source must be listed in ESTIMATES with what would replace it")
    for name, inp in pw.INPUTS.items():
        assert inp.kind in pw.KINDS, name
        assert inp.source.strip() and inp.what.strip(), name
        assert inp.best <= inp.budget or name in ("sdo_pullup_kohm", "rail_efficiency"), name
        if inp.kind == "reference":
            assert re.search(r"power\.md( §\d+ rows? \d+|, 'What these facts imply')", inp.source), name
        if inp.kind == "ours":
            assert "measured" in inp.source, name
        if inp.kind == "estimate":
            assert pw.ESTIMATES[name].strip(), name
    # the Pico's figures: measured on VSYS without USB, the supply point of this build
    for name in pw.PICO_STATE_INPUT.values():
        inp = pw.INPUTS[name]
        assert inp.at_v and "VSYS" in inp.source and "USB" in inp.source, name


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference/power.md is not here")
def test_cited_reference_rows_exist_in_their_sections(pw):
    rows = reference_rows()
    cited = 0
    for name, inp in pw.INPUTS.items():
        for sec, nums in re.findall(r"power\.md §(\d+) rows? ([\d, -]+)", inp.source):
            for num in re.findall(r"\d+", nums):
                assert rows.get(int(num)) == int(sec), f"{name}: power.md §{sec} has no row {num}"
                cited += 1
    assert cited >= 10
    assert "What these facts imply" in REFERENCE.read_text(encoding="utf-8")


def test_estimates_only_set_the_time_awake(pw):
    d, loop, still = pw.RECOMMENDED, pw.loop_profile(), pw.still_profile()
    base_loop, base_still = pw.breakdown(d, loop), pw.average_ma(d, still)
    with pw.with_inputs(rp2040_scale=1000.0, wake_overhead_ms=10.0):
        assert pw.average_ma(d, still) == pytest.approx(base_still)  # no wakes: no change
        more = pw.breakdown(d, loop)
    assert more["Pico awake"] > 3 * base_loop["Pico awake"]
    assert more["Pico in lightsleep"] < base_loop["Pico in lightsleep"]  # awake time comes out of sleep


def test_power_inputs_follow_the_firmware_config_and_the_register_model(pw):
    from stepclip_firmware.lis3dh import LIS3DH
    from stepclip_firmware.lis3dh_model import LIS3DHModel

    assert pw.RATE_HZ == config.RATE_HZ and pw.FIFO_WATERMARK == config.FIFO_WATERMARK
    assert pw.I2C_FREQ_HZ == config.I2C_FREQ
    assert pw.INPUTS["lis3dh_ua"].budget == pw.lis3dh_ua(config.RATE_HZ, config.RESOLUTION_BITS)
    # the budget's LIS3DH table is the register model's (both: datasheet table 12)
    for rate, (lp, normal) in pw.LIS3DH_UA.items():
        for bits in (8, 10, 12):
            m = LIS3DHModel(0x18)
            LIS3DH(m, 0x18).configure(rate, 4, bits)
            assert m.chip_na == 1000 * pw.lis3dh_ua(rate, bits), (rate, bits)
    # and its SDO leak is the model's at the budget's pull-up
    m = LIS3DHModel(0x18, vdd_mv=3600)
    assert m.sdo_pullup_na / 1e6 == pytest.approx(pw.board_ma(pw.STEMMA)["SDO pull-up"] * 3.6 / 3.3, rel=1e-3)
    # FIFO_SRC read (4 bytes) + burst addressing (3) + 6 bytes per sample, 9 bits each at 400 kHz
    assert pw.i2c_ms(25, 1, 400_000) == pytest.approx((4 + 3 + 150) * 9 / 400_000 * 1000)
    with pytest.raises(ValueError):
        pw.lis3dh_ua(30, 10)


def test_power_arithmetic(pw):
    # the diode: N Vt ln(1 + I/Is) + I Rs; the cell current solves P = I (V_cell - V_diode(I))
    assert pw.diode_v(0.0) == 0.0
    i_is = pw.v("diode_is_ua") / 1000 * (math.e - 1)
    assert pw.diode_v(i_is) == pytest.approx(pw.v("diode_n") * pw.THERMAL_VOLTAGE_V, rel=1e-3)
    for p_mw in (1.0, 5.0, 110.0):
        i = pw.cell_ma(p_mw)
        assert i * (pw.v("cell_v") - pw.diode_v(i)) == pytest.approx(p_mw, rel=1e-9)
    assert 0.1 < pw.diode_v(1.5) < 0.16 and 0.2 < pw.diode_v(33) < 0.3

    # one state, no wakes: the Pico and the rail's parts at constant power through the diode
    d = pw.RECOMMENDED
    for budget in (True, False):
        spread = pw.v("unit_spread", budget)
        rail = sum(pw.board_ma(d.board, budget=budget).values()) * 3.3 / pw.v("rail_efficiency", budget)
        for state, prof in (("dormant", pw.still_profile()),
                            ("lightsleep", pw.Profile("ls", "", "", 86400.0, 0.0, {}, 0))):
            inp = pw.INPUTS[pw.PICO_STATE_INPUT[state]]
            p = inp.value(budget) * inp.at_v * spread + rail
            assert pw.average_ma(d, prof, "dormant", budget) == pytest.approx(pw.cell_ma(p))
    # a profile is the time-weighted mean of its states
    half = pw.Profile("half", "", "", 43200.0, 43200.0, {}, 0)
    ls = pw.Profile("ls", "", "", 86400.0, 0.0, {}, 0)
    assert pw.average_ma(d, half) == pytest.approx((pw.average_ma(d, ls) + pw.average_ma(d, pw.still_profile())) / 2)
    # deep sleep "in lightsleep" is lightsleep
    assert pw.average_ma(d, pw.still_profile(), "lightsleep") == pytest.approx(pw.average_ma(d, ls))
    with pytest.raises(ValueError):
        pw.breakdown(d, half, "hibernate")

    # time awake: wakes x (overhead + FIFO_SRC read) + samples x (I2C + processing)
    prof = pw.Profile("p", "", "", 1000.0, 0.0, {"fifo": 10, "motion": 2, "timer": 3}, 400)
    cpu = (pw.v("detector_us") + pw.v("driver_us") + pw.v("wear_us")) * pw.v("rp2040_scale")
    want_ms = 15 * pw.v("wake_overhead_ms") + (15 * 7 + 400 * 6) * 9 / config.I2C_FREQ * 1000 + 400 * cpu / 1000
    assert pw.awake_seconds(prof) == pytest.approx(want_ms / 1000)
    secs = pw.state_seconds(prof)
    assert secs["lightsleep"] == pytest.approx(1000 - want_ms / 1000) and secs["deepsleep"] == 0
    # measured awake time is taken as it is
    measured = pw.Profile("m", "", "", 900.0, 0.0, {"fifo": 10}, 400, awake_s=100.0)
    assert pw.state_seconds(measured) == {"awake": 100.0, "lightsleep": 900.0, "deepsleep": 0.0}
    assert measured.seconds == 1000.0

    # days per charge = capacity x usable share / average current / 24
    for cap in pw.CELLS_MAH:
        assert pw.days(cap, 2.0) == pytest.approx(cap * 0.9 / 2.0 / 24)
    assert pw.days(pw.cell_for_days(14, 1.7), 1.7) == pytest.approx(14)
    assert pw.target_ma() == pytest.approx(500 * 0.9 / (14 * 24))
    assert pw.fmt_days(13.98) == "13.9" and pw.fmt_days(14.0) == "14.0"


def test_deep_sleep_requirements_give_exactly_the_target(pw):
    d = pw.RECOMMENDED
    for budget in (True, False):
        f = pw.deep_fraction_for_target(d, "dormant", budget)
        assert f is not None and 0 < f < 1
        loop = pw.loop_profile((1 - f) * 86400)
        mixed = pw.Profile("mixed", "", "", loop.lightsleep_s, f * 86400, loop.wakes, loop.samples)
        assert pw.days(pw.CELL_MAH, pw.average_ma(d, mixed, "dormant", budget), budget) == pytest.approx(14, rel=1e-3)
    # lightsleep as the deep state cannot reach it at all
    assert pw.deep_fraction_for_target(d, "lightsleep", True) is None
    # the highest DORMANT current that lasts 14 days with the default deep-sleep day
    prof = pw.profile_deepsleep()
    limit = pw.max_deep_ma_for_target(d, prof)
    with pw.with_inputs(pico_dormant_ma=limit):
        assert pw.days(pw.CELL_MAH, pw.average_ma(d, prof)) == pytest.approx(14, rel=1e-6)
    assert pw.INPUTS["pico_dormant_ma"].budget == 0.76  # with_inputs put it back


def test_power_results_are_ordered_sensibly(pw):
    today, deep = pw.profile_today(), pw.profile_deepsleep()
    for budget in (True, False):
        for prof, state in ((today, "dormant"), (deep, "lightsleep"), (deep, "dormant")):
            a = [pw.average_ma(b, prof, state, budget) for b in pw.BUILDS]
            assert a == sorted(a, reverse=True), (prof.name, state, budget)  # A > B > C > D
        for b in pw.BUILDS:
            assert (pw.average_ma(b, deep, "dormant", budget) < pw.average_ma(b, deep, "lightsleep", budget)
                    < pw.average_ma(b, today, "dormant", budget))
            assert pw.average_ma(b, deep, "dormant", False) < pw.average_ma(b, deep, "dormant", True)


def test_default_profiles_are_the_emulated_realistic_day_with_and_without_deep_sleep(pw):
    today, deep = pw.profile_today(), pw.profile_deepsleep()
    for p in (today, deep):
        assert p.seconds == pytest.approx(86400, abs=1)  # a whole day, as the emulated board measured it
        assert "measured on the emulated device" in p.source and "2 h walking in 14 bouts" in p.day
        # the counts the firmware made that day: the same as `detect`'s
        m = re.search(r"it counted ([\d,]+) steps, `detect` ([\d,]+)", p.source)
        assert m and m[1] == m[2], p.source
    assert today.deepsleep_s == 0 and today.samples == 86400 * config.RATE_HZ
    assert today.wakes["fifo"] == pytest.approx(86400 * config.RATE_HZ / config.FIFO_WATERMARK, abs=1)
    assert deep.deepsleep_s > 0.6 * 86400  # still most of the day: the night, sitting
    assert deep.wakes["motion"] > 14 + 24 and deep.wakes["timer"] >= 8  # every walk and stretch; the night's hours
    assert deep.samples < today.samples / 2
    clock = re.search(r"its clock ([-+\d.]+) s off", deep.source)
    assert clock and abs(float(clock[1])) <= 60  # a timer 500 ppm fast: within a minute a day


def test_the_emulated_day_makes_a_profile_power_py_reads(pw, tmp_path):
    from stepclip import day
    tr = day.realistic_day(seed=3, scale=1 / 24)  # an hour with every part of the day in it
    res = day.measure(tr, 30)
    doc = day.profile(res, "an hour", "a test")
    path = tmp_path / "hour.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    p = pw.load_profile(path)
    assert p.seconds == pytest.approx(3600, abs=1) and 0 < p.deepsleep_s < p.seconds
    assert p.wakes["motion"] > 0 and p.samples == res["power"]["samples"]
    assert pw.average_ma(pw.RECOMMENDED, p, "lightsleep") < pw.average_ma(pw.RECOMMENDED, pw.loop_profile(3600))


def test_power_md_is_current(pw):
    assert (HW / "power.md").read_text(encoding="utf-8") == pw.report(), (
        "hardware/power.md is not what hardware/power.py writes: run `make hardware`")


def test_docs_quote_the_model(pw):
    """hardware/README.md and README.md give the days power.md computes."""
    today, deep = pw.profile_today(), pw.profile_deepsleep()

    def span(build, prof, state="dormant"):
        return (f"{pw.fmt_days(pw.days(500, pw.average_ma(build, prof, state, True)))}-"
                f"{pw.fmt_days(pw.days(500, pw.average_ma(build, prof, state, False), False))} days")

    by = {b.key: b for b in pw.BUILDS}
    hw = (HW / "README.md").read_text(encoding="utf-8")
    for key in "ABCD":  # without deep sleep and with it (in lightsleep, as the firmware sleeps)
        for want in (span(by[key], today), span(by[key], deep, "lightsleep")):
            assert want in hw, f"hardware/README.md should say {want!r} (hardware/power.md)"
    assert span(by["D"], deep) in hw  # what DORMANT would give
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert span(by["D"], deep, "lightsleep") in readme, "README.md's battery line disagrees with hardware/power.md"


def test_bad_profiles_are_refused_naming_the_field(pw, tmp_path):
    good = json.loads(pw.profile_deepsleep().to_json())
    cases = [
        ({**good, "colour": "red"}, "unknown key 'colour'"),
        ({**good, "format": "stepclip-day-profile 2"}, "format: expected"),
        ({**good, "seconds": {"lightsleep": -1, "deepsleep": 10}}, "seconds.lightsleep: must not be negative"),
        ({**good, "seconds": {"lightsleep": "a lot"}}, "seconds.lightsleep: must be a number"),
        ({**good, "seconds": {"nap": 5}}, "unknown state 'nap'"),
        ({**good, "seconds": {"lightsleep": 0, "deepsleep": 0}}, "add up to 0 s"),
        ({**good, "seconds": [1, 2]}, "seconds: missing"),
        ({**good, "wakes": {"fifo": 1.5}}, "wakes.fifo: must be an integer"),
        ({**good, "wakes": {"sneeze": 1}}, "unknown kind 'sneeze'"),
        ({**good, "samples": True}, "samples: must be an integer"),
        ({**good, "seconds": {"lightsleep": float("inf")}}, "seconds.lightsleep: must be a number"),
        ([1, 2, 3], "not a JSON object"),
    ]
    for doc, message in cases:
        with pytest.raises(pw.ProfileError, match=re.escape(message)):
            pw.parse_profile(doc, "day.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": ', encoding="utf-8")
    with pytest.raises(pw.ProfileError, match=r"bad\.json: not JSON"):
        pw.load_profile(bad)
    with pytest.raises(pw.ProfileError, match=r"missing\.json: cannot read"):
        pw.load_profile(tmp_path / "missing.json")
    # more work than time
    busy = pw.Profile("busy", "", "", 10.0, 0.0, {"fifo": 10_000}, 250_000)
    with pytest.raises(pw.ProfileError, match="need .* s awake, more than the 10 s"):
        pw.state_seconds(busy)


def run_power(*args):
    return subprocess.run([sys.executable, str(HW / "power.py"), *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


@pytest.mark.parametrize("content, what", [
    ('{"format": "stepclip-day-profile 1", "seconds": {"lightsleep": -5}}', "seconds.lightsleep"),
    ("not json", "not JSON"),
    ('{"format": "stepclip-day-profile 1", "seconds": {"lightsleep": 10}, "wakes": {"fifo": 100000}}',
     "s awake, more than"),
])
def test_power_cli_refuses_a_bad_profile_in_one_line(tmp_path, content, what):
    path = tmp_path / "day.json"
    path.write_text(content, encoding="utf-8")
    proc = run_power("--profile", str(path), "--stdout")
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert str(path) in lines[0] or "day.json" in lines[0]
    assert what in lines[0]


def test_power_cli_computes_with_a_given_profile(pw, tmp_path):
    prof = pw.Profile("a very still week", "lying in a drawer", "a test", 8640.0, 77760.0,
                      {"fifo": 8640, "motion": 5, "timer": 24}, 8640 * 25 + 5 * 32)
    path = tmp_path / "still.json"
    path.write_text(prof.to_json(), encoding="utf-8")
    proc = run_power("--profile", str(path), "--stdout")
    assert proc.returncode == 0, proc.stderr
    d = pw.days(500, pw.average_ma(pw.RECOMMENDED, prof, "dormant", True))
    assert "a very still week, in DORMANT" in proc.stdout
    assert f"{pw.fmt_days(d)} days" in proc.stdout
    assert "one wake a second (today)" not in proc.stdout  # the given profiles replace the defaults
    assert (HW / "power.md").read_text(encoding="utf-8") == pw.report()  # --stdout wrote nothing


def test_config_sdo_flag_matches_the_wiring():
    doc = load_wiring()
    sdo = {lab for c, p, lab in peers(doc, "LIS3DH", "SDO")}
    assert (sdo == {"GND"}) == (config.LIS3DH_ADDRESS == 0x18) == config.LIS3DH_SDO_TIED_LOW


# ---------------------------------------------------------------------------
# Enclosure
# ---------------------------------------------------------------------------

def scad_params():
    """The simple `name = number;` and `name = [a, b, c];` parameters of enclosure.scad."""
    text = (HW / "enclosure.scad").read_text(encoding="utf-8")
    out = {}
    for name, value in re.findall(r"^(\w+)\s*=\s*([^;]+);", text, re.M):
        try:
            out[name] = eval(value, {"__builtins__": {}})  # numbers and lists of numbers only
        except Exception:
            pass
    return out


def render_stl(part, tmp_path):
    out = tmp_path / f"{part}.stl"
    proc = subprocess.run(
        ["openscad", "--export-format", "asciistl", "-D", f'part="{part}"', "-o", str(out),
         str(HW / "enclosure.scad")],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ERROR" not in proc.stderr and "2-manifold" not in proc.stderr, proc.stderr[-2000:]
    text = out.read_text()
    verts = [tuple(map(float, m)) for m in re.findall(r"vertex\s+(\S+)\s+(\S+)\s+(\S+)", text)]
    assert text.count("facet normal") >= 12 and verts, f"{part}: empty STL"
    lo = [min(v[i] for v in verts) for i in range(3)]
    hi = [max(v[i] for v in verts) for i in range(3)]
    return [h - l for h, l in zip(hi, lo)], lo


@needs_openscad
def test_enclosure_renders(tmp_path):
    p = scad_params()
    pico, sensor, cell = p["pico"], p["sensor"], p["cell"]
    base, lo = render_stl("base", tmp_path)
    assert lo[2] == pytest.approx(0, abs=1e-6)  # sits on the print bed
    # holds the Pico lengthwise, the Pico beside the sensor, the cell under the boards
    assert base[0] >= pico[0] + 2 * p["wall"]
    assert base[1] >= pico[1] + sensor[1] + 2 * p["wall"]
    assert base[2] >= p["floor_t"] + cell[2] + max(pico[2], sensor[2])
    assert max(base) < 90 and base[2] < 25, f"a case of {base} mm is too big to clip on"
    lid, _ = render_stl("lid", tmp_path)
    assert lid[0] == pytest.approx(base[0], abs=0.01) and lid[1] == pytest.approx(base[1], abs=0.01)
    assert lid[2] == pytest.approx(p["lid_t"] + p["lid_lip"], abs=0.01)
    clip, _ = render_stl("clip", tmp_path)
    # printed on its side: its height on the bed is the clip's width
    assert clip[2] == pytest.approx(p["clip_width"], abs=0.01)
    # the tongue spans most of the case's width (base[1] includes the corner posts)
    assert 0.5 * base[1] <= clip[1] <= base[1]

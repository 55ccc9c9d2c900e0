"""hardware/: the wiring agrees with firmware/config.py, the BOM adds up, the power
budget's arithmetic holds and power.md is current, the diagram and the case render.

Tests that need Graphviz `dot`, WireViz or OpenSCAD skip, saying so, when the tool
is missing; `make test` installs all three.
"""
import copy
import csv
import importlib.util
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


def test_power_inputs_follow_the_firmware_config():
    pw = load_power()
    assert pw.RATE_HZ == config.RATE_HZ and pw.FIFO_WATERMARK == config.FIFO_WATERMARK
    assert pw.lis3dh_ua(25, 10) == 6 and pw.lis3dh_ua(25, 8) == 4 and pw.lis3dh_ua(50, 12) == 11
    assert pw.wakes_per_s(pw.BASELINE) == pytest.approx(config.RATE_HZ / config.FIFO_WATERMARK)
    # FIFO_SRC read (4 bytes) + burst addressing (3) + 6 bytes per sample, 9 bits each at 400 kHz
    assert pw.i2c_burst_ms(25, 400_000) == pytest.approx((4 + 3 + 150) * 9 / 400_000 * 1000)


def test_power_arithmetic():
    pw = load_power()
    b = pw.BASELINE
    f = pw.duty(b)
    assert f == pytest.approx(pw.awake_ms_per_wake(b) * pw.wakes_per_s(b) / 1000)
    awake = pw.i2c_burst_ms(b.watermark) + b.watermark * (
        pw.DETECTOR_US_PER_SAMPLE_HOST + pw.FIRMWARE_US_PER_SAMPLE_HOST) * b.scale / 1000 + b.wake_overhead_ms
    assert pw.awake_ms_per_wake(b) == pytest.approx(awake)
    # best case: the quoted figures as they are
    best = (b.sleep_ma[0] * (1 - f) + b.awake_ma[0] * f + pw.lis3dh_ua() / 1000
            + b.sensor_overhead_ma + pw.CHARGER_LEAK_MA)
    assert pw.average_ma(b, budget=False) == pytest.approx(best)
    # budget case: Pico figures scaled from 5 V, 3.3 V loads through the converter
    k = (pw.USB_V - pw.DIODE_DROP_V) / (pw.CELL_NOMINAL_V - pw.DIODE_DROP_V)
    r = 3.3 / ((pw.CELL_NOMINAL_V - pw.DIODE_DROP_V) * pw.BUCK_BOOST_EFFICIENCY)
    budget = ((b.sleep_ma[1] * (1 - f) + b.awake_ma[1] * f) * k
              + (pw.lis3dh_ua() / 1000 + b.sensor_overhead_ma) * r + pw.CHARGER_LEAK_MA)
    assert pw.average_ma(b) == pytest.approx(budget)
    # days per charge = capacity x derating / average current / 24
    for cap in pw.CELLS_MAH:
        assert pw.days(cap, 2.0) == pytest.approx(cap * pw.CAPACITY_DERATING / 2.0 / 24)
    assert pw.days(pw.cell_for_days(14, 1.7), 1.7) == pytest.approx(14)
    # the sleep current limit gives exactly the target
    d = pw.DESIGNS[1]
    limit = pw.max_sleep_ma_for_target(d)
    assert pw.days(pw.TARGET_CELL_MAH, pw.average_ma(pw.replace(d, sleep_ma=(limit, limit)))) == pytest.approx(pw.TARGET_DAYS)


def test_power_designs_are_ordered_sensibly():
    pw = load_power()
    by = {d.name[0]: d for d in pw.DESIGNS}
    for budget in (True, False):
        a = {k: pw.average_ma(d, budget) for k, d in by.items()}
        assert a["B"] < a["A"] and a["C"] <= a["B"] and a["E"] < a["B"] and a["F"] < a["E"]
        assert pw.average_ma(by["A"], False) < pw.average_ma(by["A"], True)


def test_power_md_is_current():
    pw = load_power()
    assert (HW / "power.md").read_text(encoding="utf-8") == pw.report(), (
        "hardware/power.md is not what hardware/power.py writes: run `make hardware`")


@pytest.mark.skipif(importlib.util.find_spec("stepclip") is None, reason="stepclip is not installed")
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

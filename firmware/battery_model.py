# A model of the stepclip's battery for the emulated board: a 1-cell LiPo whose
# charge falls with use and rises on USB power, and the voltage the Pico reads
# on VSYS (ADC3 through its 3:1 divider). Runs under MicroPython and CPython, in
# integers.
#
# A model, not a measurement: it makes the firmware's battery readings behave
# as a clip's do (they fall between charges, read USB's voltage while plugged
# in), so that the readings, the sync and `stepclip battery` can be tested end
# to end. Its parts, each with its source:
# - capacity: 500 mAh (hardware/bom.csv: Adafruit 1578).
# - use: a constant average current from the cell, 2055 uA by default
#   (hardware/power.md: build D, the recommended build, budget case, one wake a
#   second: 2.05 mA). The same current while the emulated device does not run
#   between two runs of the emulator (the clip was left on).
# - charging on USB: 400 mA up to full (the TP4056 with its PROG resistor at
#   3.0 kOhm, hardware/README.md step 2), less the use; the constant-voltage
#   tail of a real charge is left out.
# - the cell's voltage by charge: the default open-circuit voltage curve for
#   lithium-ion polymer cells of the Zephyr RTOS (include/zephyr/dt-bindings/
#   battery/battery.h, BATTERY_OCV_CURVE_LITHIUM_ION_POLYMER_DEFAULT, "based on
#   Panasonic NCR18650BF"): OCV_MV below, 0 % to 100 % in steps of 10 %, linear
#   in between. host/stepclip/battery.py reads readings back to charge with the
#   same curve.
# - VSYS on battery: the cell's voltage less the 1N5817's drop while the Pico is
#   awake (it reads VSYS awake), 250 mV (hardware/power.md: "0.25 V awake");
#   internal resistance is left out (a few mV at these currents). On USB: 4700
#   mV (hardware/README.md step 7: "about 4.7 V on USB").
# - the reading: what the Pico's ADC gives for VSYS / 3 against 3.3 V in 12
#   bits, as board_pico.battery_mv() converts it (steps of 2.4 mV).

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


OCV_MV = (2502, 3146, 3372, 3449, 3532, 3602, 3680, 3764, 3842, 3936, 4032)
_CAPACITY_UAS = const(500 * 1000 * 3600)  # 500 mAh in uA*s
_LOAD_UA = const(2055)
_CHARGE_UA = const(400000)
DIODE_MV = const(250)  # host/stepclip/battery.py adds it back
_USB_MV = const(4700)


def ocv_mv(permille):
    """The cell's voltage (mV) at a charge of `permille` (0..1000), by OCV_MV."""
    if permille <= 0:
        return OCV_MV[0]
    if permille >= 1000:
        return OCV_MV[10]
    i = permille // 100
    lo = OCV_MV[i]
    return lo + (OCV_MV[i + 1] - lo) * (permille - 100 * i) // 100


def adc_mv(vsys_mv):
    """VSYS as the Pico reads it: 12-bit ADC of VSYS / 3 against 3.3 V, read_u16()
    (the 12 bits scaled to 16), then * 3 * 3300 // 65535 (board_pico.battery_mv)."""
    code = (vsys_mv * 4096 + 4950) // 9900  # VSYS / 3 in 3.3 V / 4096 steps, rounded
    if code > 4095:
        code = 4095
    if code < 0:
        code = 0
    u16 = code << 4 | code >> 8
    return u16 * 3 * 3300 // 65535


class Battery:
    """The cell: `level` per mille of a 500 mAh charge at the start (default
    full), drained by `load_ua` (uA), charged on USB at 400 mA.

    run(ms, usb) lets ms milliseconds pass, on USB power or not; vsys_mv(usb)
    is the voltage on VSYS; reading(usb) is what the ADC reads of it. The
    charge is kept in uA*s (`charge`), a remainder in uA*ms."""

    def __init__(self, level=1000, load_ua=_LOAD_UA):
        self.charge = _CAPACITY_UAS * level // 1000
        self.load_ua = load_ua
        self.rest = 0  # uA*ms not yet in charge

    def permille(self):
        return self.charge * 1000 // _CAPACITY_UAS

    def run(self, ms, usb):
        if ms <= 0:
            return
        flow = (_CHARGE_UA if usb else 0) - self.load_ua  # uA into the cell
        total = flow * ms + self.rest
        whole = total // 1000
        self.rest = total - whole * 1000
        c = self.charge + whole
        if c > _CAPACITY_UAS:
            c = _CAPACITY_UAS
            self.rest = 0
        if c < 0:
            c = 0
            self.rest = 0
        self.charge = c

    def vsys_mv(self, usb):
        if usb:
            return _USB_MV
        return ocv_mv(self.permille()) - DIODE_MV

    def reading(self, usb):
        return adc_mv(self.vsys_mv(usb))

    def save(self, path, wall_s):
        """Keep the charge in a file (with the wall clock, -1 if unknown)."""
        f = open(path, "w")
        try:
            f.write("stepclip-battery 1\n%d %d\n" % (self.charge, wall_s))
        finally:
            f.close()

    def load(self, path, wall_s):
        """The charge kept in `path` (no file: as it is), drained for the time
        since it was saved if both clocks are known (the clip ran on between two
        runs). Raises ValueError for a file that is not a battery file."""
        try:
            f = open(path)
        except OSError:
            return
        try:
            lines = f.read().split("\n")
        finally:
            f.close()
        if len(lines) < 2 or lines[0] != "stepclip-battery 1":
            raise ValueError("not a battery file: %s" % path)
        words = lines[1].split()
        if len(words) != 2:
            raise ValueError("not a battery file: %s" % path)
        charge, saved_s = int(words[0]), int(words[1])
        self.charge = charge if 0 <= charge <= _CAPACITY_UAS else _CAPACITY_UAS
        if wall_s >= 0 and saved_s >= 0 and wall_s > saved_s:
            self.run(1000 * (wall_s - saved_s), False)

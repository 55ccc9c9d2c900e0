# LIS3DH accelerometer driver (I2C) for stepclip, in the style of micropython-lib.
#
# Runs unchanged under MicroPython (the Pico) and CPython (the host tests). The
# bus is anything machine.I2C-like: readfrom_mem_into(addr, reg, buf),
# writeto_mem(addr, reg, buf), readfrom_mem(addr, reg, n).
#
#   sensor = LIS3DH(i2c, config.LIS3DH_ADDRESS, config.LIS3DH_SDO_TIED_LOW)
#   sensor.configure(config.RATE_HZ, config.RANGE_G, config.RESOLUTION_BITS)
#   sensor.start_fifo(config.FIFO_WATERMARK)     # INT1 rises at the watermark
#   n = sensor.read_fifo(samples)                # samples: array("h"), >= 96 entries
#   sensor.start_motion(config.MOTION_MG)        # the motion interrupt (IA1), latched
#   sensor.moved()                               # any movement since the last call?
#   sensor.int1_motion(); ...; sensor.int1_fifo()  # INT1 for a deep sleep, and back
#
# Values are integer milli-g. The data registers hold 16-bit two's complement,
# left-justified; the value is (raw >> (16 - bits)) * sensitivity, with the
# sensitivity in mg/digit from the datasheet (table 4):
#   +-2 g: 1 (12-bit), 4 (10-bit), 16 (8-bit); +-4 g: 2/8/32; +-8 g: 4/16/64;
#   +-16 g: 12/48/192.
# The FIFO keeps only 10 bits even in high-resolution (12-bit) mode, so FIFO
# samples are converted as 10-bit data then (fifo_sensitivity).
#
# FIFO_SRC (0x2F): WTM bit 7, OVRN_FIFO bit 6, EMPTY bit 5, FSS[4:0] unread
# samples. FSS has 5 bits, so it cannot say 32: the FIFO holds 32 samples exactly
# when OVRN_FIFO is set (ST AN3308: "OVRN_FIFO is set high when the FIFO buffer
# is full, i.e. it contains 32 unread samples; at the next ODR the oldest is
# overwritten in stream mode"). read_fifo therefore reads 32 samples when
# OVRN_FIFO is set (whatever FSS says) and FSS samples otherwise, and counts the
# event in `overruns`: the FIFO was found full, so samples may have been lost
# (the chip cannot tell "just full" from "overwritten").
#
# read_fifo() allocates nothing: one FIFO_SRC read, one burst read of 6*n bytes
# from 0x28 with auto-increment (with the FIFO on, the chip's address pointer
# rolls over from 0x2D back to 0x28, so the burst walks through n samples) into
# a preallocated memoryview of exactly that length (memoryview slicing allocates
# in MicroPython, so all 33 views are made in __init__), and integer conversion
# into the caller's array. Every value stays within +-2**30 (|mg| <= 24576).
#
# SDO/SA0 pull-up. SA0 (the address bit, on the SDO pin) has a pull-up inside the
# chip: 30.4 kOhm at 2.5 V to 20.4 kOhm at 3.6 V (datasheet table 3). A board that
# ties SDO low (address 0x18) makes that pull-up leak VDD / R, about 0.14 mA at
# 3.3 V: 25x the chip's own 6 uA (../shared/reference/power.md rows 39-40; ST's
# forum measured 78 uA at 2.5 V and "disabling pull-up resistor does the magic").
# CTRL_REG0 bit 7 (SDO_PU_DISC) disconnects it; bits 6..0 must stay 0010000, so
# the register is written 0x90 (disconnected) or 0x10 (connected, the reset value)
# and nothing else (ST's forum: writing 0x00 breaks the I2C link). At 0x19 the
# pull-up is kept: there it may be what holds SA0 high.
#
# Motion interrupt (stepclip's wake-up from deep sleep; ../shared/reference/power.md
# rows 37-38). The chip has two ways to say "it moves": the activity function
# (ACT_THS/ACT_DUR, "sleep-to-wake") and the inertial interrupt generators IA1/IA2.
# The activity function is not used: in inactivity it switches the chip itself to
# 10 Hz low-power mode (datasheet section 3.2.4), so the FIFO would hold 10 Hz
# samples before a walk instead of the 25 Hz the step counter needs, and its status
# reaches only INT2, a pin the original Adafruit 2809 does not bring out (row 41).
# IA1 keeps the configured rate and can drive INT1, the pin already wired for the
# FIFO watermark: in OR mode (INT1_CFG = XHIE | YHIE | ZHIE) it fires when any axis,
# high-pass filtered (CTRL_REG2 HP_IA1; HPCF = 00, a cut-off of ODR/50: 0.5 Hz at
# 25 Hz, so gravity and a slow change of posture do not count), is above INT1_THS
# (1 LSb = 16, 32, 62 or 186 mg at +-2, 4, 8, 16 g) for more than INT1_DURATION
# samples (0 here). Reading REFERENCE (0x26) resets the filter to the present
# input. With LIR_INT1 (CTRL_REG5 bit 3) INT1_SRC keeps IA (bit 6) until it is
# read: moved() reads it once a FIFO batch, so any movement between two reads is
# seen. For a deep sleep, int1_motion() routes IA1 alone to INT1 (CTRL_REG3 I1_IA1,
# bit 6; the watermark is masked) and unlatched, so the pin pulses at every sample
# above the threshold: a wake-up edge missed while the Pico was going to sleep is
# followed by the next one. The FIFO keeps running in stream mode throughout, so
# at a wake-up it holds the 32 samples (1.28 s at 25 Hz) before it. int1_fifo()
# routes the watermark back and latches IA1 again.

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


_WHO_AM_I = const(0x0F)
_CHIP_ID = const(0x33)
_CTRL_REG0 = const(0x1E)  # SDO_PU_DISC bit 7; bits 6..0 must be 0010000
_CTRL_REG1 = const(0x20)  # ODR[7:4], LPen bit 3, Z/Y/X enable bits 2..0
_CTRL_REG2 = const(0x21)  # HPM[7:6], HPCF[5:4], FDS bit 3, HPCLICK bit 2, HP_IA2 bit 1, HP_IA1 bit 0
_CTRL_REG3 = const(0x22)  # INT1 routing
_CTRL_REG4 = const(0x23)  # BDU bit 7, BLE bit 6, FS[5:4], HR bit 3
_CTRL_REG5 = const(0x24)  # BOOT bit 7, FIFO_EN bit 6, LIR_INT1 bit 3
_REFERENCE = const(0x26)  # reading it resets the high-pass filter
_OUT_X_L = const(0x28)
_FIFO_CTRL = const(0x2E)  # FM[7:6], FTH[4:0]
_FIFO_SRC = const(0x2F)  # WTM bit 7, OVRN_FIFO bit 6, EMPTY bit 5, FSS[4:0]
_INT1_CFG = const(0x30)  # AOI bit 7, 6D bit 6, ZHIE bit 5, ZLIE, YHIE bit 3, YLIE, XHIE bit 1, XLIE
_INT1_SRC = const(0x31)  # IA bit 6, ZH, ZL, YH, YL, XH, XL; reading it clears a latched IA
_INT1_THS = const(0x32)  # threshold, 7 bits
_INT1_DURATION = const(0x33)  # minimum duration, 7 bits, in samples
_AUTO_INC = const(0x80)  # register address bit 7: auto-increment in multi-byte transfers

_SDO_PU_ON = const(0x10)  # CTRL_REG0: pull-up connected (reset value)
_SDO_PU_OFF = const(0x90)  # CTRL_REG0: SDO_PU_DISC, pull-up disconnected
_ADDRESS_SA0_LOW = const(0x18)
_LPEN = const(0x08)
_XYZ_EN = const(0x07)
_BDU = const(0x80)
_HR = const(0x08)
_FIFO_EN = const(0x40)
_I1_WTM = const(0x04)
_I1_OVERRUN = const(0x02)
_I1_IA1 = const(0x40)
_LIR_INT1 = const(0x08)
_HP_IA1 = const(0x01)  # CTRL_REG2: HPM = 00 (normal), HPCF = 00 (ODR/50), FDS = 0 (data unfiltered)
_XYZ_HIGH = const(0x2A)  # INT1_CFG: OR of XHIE, YHIE, ZHIE
_IA = const(0x40)
_FM_BYPASS = const(0x00)
_FM_STREAM = const(0x80)  # FM = 2 in bits 7:6
_OVRN_FIFO = const(0x40)
_FSS_MASK = const(0x1F)
_FIFO_DEPTH = const(32)
_FIFO_BITS = const(10)  # the FIFO stores 10-bit data, also in high-resolution mode

# ODR code = index (0 = power-down); full scale FS code = index
_RATES_HZ = (0, 1, 10, 25, 50, 100, 200, 400)
_RANGES_G = (2, 4, 8, 16)
_MODES_BITS = (8, 10, 12)  # low-power (LPen), normal, high-resolution (HR)
# mg/digit, [FS code * 3 + mode index]
_SENS_MG = (16, 4, 1, 32, 8, 2, 64, 16, 4, 192, 48, 12)
# INT1_THS: mg per LSb, by FS code (datasheet, INT1_THS register description)
_THS_MG = (16, 32, 62, 186)


def sensitivity_mg(range_g, bits):
    """mg/digit for a full scale (2, 4, 8, 16 g) and resolution (8, 10, 12 bits)."""
    if range_g not in _RANGES_G:
        raise ValueError("LIS3DH range must be 2, 4, 8 or 16 g, not %r" % (range_g,))
    if bits not in _MODES_BITS:
        raise ValueError("LIS3DH resolution must be 8, 10 or 12 bits, not %r" % (bits,))
    return _SENS_MG[_RANGES_G.index(range_g) * 3 + _MODES_BITS.index(bits)]


class LIS3DH:
    """LIS3DH on an I2C bus: configuration, stream-mode FIFO, readings in milli-g.

    i2c: a machine.I2C-like bus; address: 0x18 (SA0 low) or 0x19 (SA0 high).
    sdo_tied_low: the board holds SDO/SA0 low, so configure() disconnects the
    chip's SA0 pull-up (CTRL_REG0 = 0x90) and saves its leak; None (the default)
    means "yes at 0x18": a chip answers there only when something holds SA0 low
    against that pull-up. At 0x19 the pull-up is always kept. Raises OSError
    (naming the address) when no LIS3DH answers.

    Attributes: rate_hz, range_g, bits (the configuration, read back from the
    chip at construction), sensitivity (mg/digit of the OUT registers),
    fifo_sensitivity (mg/digit of FIFO samples, 10-bit data in 12-bit mode),
    overruns (reads that found the FIFO full; cumulative, never reset),
    sdo_pullup (False when configure() disconnects the SA0 pull-up).
    """

    def __init__(self, i2c, address=0x18, sdo_tied_low=None):
        self._i2c = i2c
        self.address = address
        if sdo_tied_low is None:
            sdo_tied_low = address == _ADDRESS_SA0_LOW
        self.sdo_pullup = not (sdo_tied_low and address == _ADDRESS_SA0_LOW)
        self._b1 = bytearray(1)
        self._buf = bytearray(6 * _FIFO_DEPTH)
        mv = memoryview(self._buf)
        # views[n] = the first 6*n bytes: one preallocated view per sample count
        self._views = tuple(mv[0 : 6 * n] for n in range(_FIFO_DEPTH + 1))
        self.overruns = 0
        self.rate_hz = 0
        self.range_g = 2
        self.bits = 10
        self.sensitivity = 4
        self.fifo_sensitivity = 4
        self._shift = 6
        self._fifo_shift = 6
        try:
            i2c.readfrom_mem_into(address, _WHO_AM_I, self._b1)
        except OSError as e:
            code = e.args[0] if e.args else e
            raise OSError(
                "LIS3DH not found at I2C address 0x%02x: no answer (OSError %s)" % (address, code)
            ) from None
        who = self._b1[0]
        if who != _CHIP_ID:
            raise OSError(
                "LIS3DH not found at I2C address 0x%02x: WHO_AM_I read 0x%02x, expected 0x%02x"
                % (address, who, _CHIP_ID)
            )
        # the chip keeps its settings across a soft reset of the Pico: start from them
        c1 = self._read_reg(_CTRL_REG1)
        c4 = self._read_reg(_CTRL_REG4)
        odr = c1 >> 4
        bits = 8 if c1 & _LPEN else (12 if c4 & _HR else 10)
        if odr < len(_RATES_HZ):
            rate = _RATES_HZ[odr]
        else:  # 8: 1620 Hz (low-power only), 9: 1344 Hz, 5376 Hz in low-power
            rate = 1620 if odr == 8 else (5376 if bits == 8 else 1344)
        self._set_mode(rate, _RANGES_G[(c4 >> 4) & 3], bits)

    # --- registers ------------------------------------------------------------------

    def _read_reg(self, reg):
        self._i2c.readfrom_mem_into(self.address, reg, self._b1)
        return self._b1[0]

    def _write_reg(self, reg, value):
        self._b1[0] = value
        self._i2c.writeto_mem(self.address, reg, self._b1)

    def _set_mode(self, rate_hz, range_g, bits):
        self.rate_hz = rate_hz
        self.range_g = range_g
        self.bits = bits
        self.sensitivity = sensitivity_mg(range_g, bits)
        self._shift = 16 - bits
        fbits = bits if bits < _FIFO_BITS else _FIFO_BITS
        self.fifo_sensitivity = sensitivity_mg(range_g, fbits)
        self._fifo_shift = 16 - fbits

    # --- configuration ------------------------------------------------------------------

    def configure(self, rate_hz, range_g, bits):
        """Output data rate (1, 10, 25, 50, 100, 200, 400 Hz), full scale (2, 4, 8,
        16 g), resolution (8 = low-power, 10 = normal, 12 = high-resolution);
        X, Y, Z on, block data update on, little-endian data; the SA0 pull-up
        connected or not as `sdo_pullup` says. Raises ValueError for a setting
        the chip does not have, before writing anything. Returns the mg/digit."""
        if rate_hz not in _RATES_HZ or not rate_hz:
            raise ValueError(
                "LIS3DH rate must be 1, 10, 25, 50, 100, 200 or 400 Hz, not %r" % (rate_hz,)
            )
        sens = sensitivity_mg(range_g, bits)  # validates range and bits
        c1 = (_RATES_HZ.index(rate_hz) << 4) | _XYZ_EN
        if bits == 8:
            c1 |= _LPEN
        c4 = _BDU | (_RANGES_G.index(range_g) << 4)
        if bits == 12:
            c4 |= _HR
        self._write_reg(_CTRL_REG0, _SDO_PU_ON if self.sdo_pullup else _SDO_PU_OFF)
        self._write_reg(_CTRL_REG4, c4)
        self._write_reg(_CTRL_REG1, c1)
        self._set_mode(rate_hz, range_g, bits)
        return sens

    def start_fifo(self, watermark):
        """Empty the FIFO (through bypass mode), then run it in stream mode with
        the watermark at `watermark` samples (1..31); INT1 goes high at the
        watermark and on overrun (CTRL_REG3 is set to just those two)."""
        if not 1 <= watermark < _FIFO_DEPTH:
            raise ValueError("LIS3DH FIFO watermark must be 1..31 samples, not %r" % (watermark,))
        self._write_reg(_FIFO_CTRL, _FM_BYPASS)  # resets the FIFO
        self._write_reg(_CTRL_REG5, (self._read_reg(_CTRL_REG5) & 0x7F) | _FIFO_EN)
        self._write_reg(_FIFO_CTRL, _FM_STREAM | watermark)
        self._write_reg(_CTRL_REG3, _I1_WTM | _I1_OVERRUN)

    # --- motion interrupt ----------------------------------------------------------------

    def start_motion(self, threshold_mg):
        """Arm the motion interrupt (IA1, see the module comment): any axis, high-pass
        filtered, above threshold_mg (rounded down to the INT1_THS step of the full
        scale, at least one step; at most 127 steps). Latched in INT1_SRC for moved();
        not routed to a pin until int1_motion(). Returns the threshold set, in mg.
        Call after configure() (the step depends on the full scale)."""
        step = _THS_MG[_RANGES_G.index(self.range_g)]
        ths = threshold_mg // step
        ths = 1 if ths < 1 else (127 if ths > 127 else ths)
        self._write_reg(_CTRL_REG2, _HP_IA1)
        self._write_reg(_INT1_THS, ths)
        self._write_reg(_INT1_DURATION, 0)
        self._write_reg(_INT1_CFG, _XYZ_HIGH)
        self._write_reg(_CTRL_REG5, self._read_reg(_CTRL_REG5) | _LIR_INT1)
        self._read_reg(_REFERENCE)  # the filter starts from the present input
        self._read_reg(_INT1_SRC)  # and no event from before
        return ths * step

    def moved(self):
        """True if the motion interrupt fired since the last call (reads INT1_SRC,
        which clears it). One 1-byte read; allocates nothing."""
        return bool(self._read_reg(_INT1_SRC) & _IA)

    def int1_motion(self):
        """INT1 for a deep sleep: the motion interrupt alone, unlatched (a pulse per
        sample above the threshold); the FIFO watermark no longer wakes the Pico.
        The FIFO keeps collecting in stream mode."""
        self._write_reg(_CTRL_REG5, self._read_reg(_CTRL_REG5) & ~_LIR_INT1)
        self._write_reg(_CTRL_REG3, _I1_IA1)

    def int1_fifo(self):
        """INT1 back to the FIFO watermark and overrun; the motion interrupt latched
        again (and cleared) for moved()."""
        self._write_reg(_CTRL_REG3, _I1_WTM | _I1_OVERRUN)
        self._write_reg(_CTRL_REG5, self._read_reg(_CTRL_REG5) | _LIR_INT1)
        self._read_reg(_INT1_SRC)

    # --- data -------------------------------------------------------------------------

    def read_fifo(self, out):
        """Move every sample in the FIFO into out (array("h"), >= 96 entries) as
        x, y, z milli-g at out[3*i], out[3*i+1], out[3*i+2]; return the count.
        Allocates nothing."""
        i2c = self._i2c
        b1 = self._b1
        i2c.readfrom_mem_into(self.address, _FIFO_SRC, b1)
        src = b1[0]
        if src & _OVRN_FIFO:
            n = _FIFO_DEPTH  # FSS cannot show 32: OVRN_FIFO means the FIFO is full
            self.overruns += 1
        else:
            n = src & _FSS_MASK
        if not n:
            return 0
        i2c.readfrom_mem_into(self.address, _OUT_X_L | _AUTO_INC, self._views[n])
        buf = self._buf
        shift = self._fifo_shift
        sens = self.fifo_sensitivity
        j = 0
        for i in range(3 * n):
            v = ((buf[j + 1] << 8 | buf[j]) ^ 0x8000) - 0x8000  # int16, little-endian
            out[i] = (v >> shift) * sens
            j += 2
        return n

    def read_mg(self):
        """One sample (x, y, z) in milli-g from the OUT registers (allocates a
        tuple: for checks, not the hot path). With the FIFO on this takes the
        oldest FIFO sample out of the FIFO, as on the chip."""
        buf = self._buf
        self._i2c.readfrom_mem_into(self.address, _OUT_X_L | _AUTO_INC, self._views[1])
        shift = self._shift
        sens = self.sensitivity
        x = ((buf[1] << 8 | buf[0]) ^ 0x8000) - 0x8000
        y = ((buf[3] << 8 | buf[2]) ^ 0x8000) - 0x8000
        z = ((buf[5] << 8 | buf[4]) ^ 0x8000) - 0x8000
        return ((x >> shift) * sens, (y >> shift) * sens, (z >> shift) * sens)

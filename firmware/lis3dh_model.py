# A register-level model of the LIS3DH accelerometer on an I2C bus, for tests
# and the emulated board. Runs under MicroPython and CPython (no numpy).
#
# The model object is the bus: it has machine.I2C's methods (readfrom_mem_into,
# readfrom_mem, writeto_mem, writeto, readfrom_into, readfrom, scan) and answers
# at one address; any other address raises OSError(19) (ENODEV, what MicroPython's
# software I2C raises on a NACK; the Pico's hardware I2C raises OSError(5), EIO).
# Samples arrive by push(x, y, z) in milli-g, one per output data period.
#
# What is modelled (ST datasheet DocID17530, AN3308):
# - WHO_AM_I 0x0F reads `who_am_i` (0x33; change it to model another chip).
# - Registers 0x00-0x3F store what is written, except the read-only ones
#   (WHO_AM_I, STATUS 0x27, OUT 0x28-0x2D, FIFO_SRC 0x2F, INT1_SRC 0x31,
#   INT2_SRC 0x35, CLICK_SRC 0x39), whose writes are ignored. 0x40+ read 0.
# - Register address bit 7 = auto-increment, in reads and writes. With the FIFO
#   on, the address rolls over from OUT_Z_H (0x2D) back to OUT_X_L (0x28), so a
#   burst of 6*n bytes from 0x28 reads n FIFO samples.
# - Quantization as the chip (and stepclip.sensor.quantize): digits =
#   round(mg / sensitivity), half to even, clipped to the n-bit range, stored
#   left-justified (16-bit two's complement, little-endian). Modes: LPen 8-bit,
#   normal 10-bit, HR 12-bit (LPen and HR both set counts as low-power).
# - STATUS 0x27: XDA/YDA/ZDA/ZYXDA set by a sample, XOR/YOR/ZOR/ZYXOR when a
#   sample arrives before the previous one was read; reading an axis' high byte
#   clears its bits. BDU (CTRL_REG4 bit 7): reading an axis' low byte holds that
#   axis' OUT registers until its high byte is read, so both bytes of a reading
#   come from one sample.
# - FIFO (32 samples), active when CTRL_REG5 FIFO_EN is set and FIFO_CTRL FM is
#   not bypass. FIFO data is 10-bit even in HR mode (the 12-bit value truncated:
#   the left-justified word with its low 6 bits cleared). Bypass (FM=0) empties
#   the FIFO. FIFO mode (FM=1) stops collecting once full, until bypass. Stream
#   (FM=2) drops the oldest sample when a new one arrives at 32. Stream-to-FIFO
#   (FM=3) behaves as stream (no interrupt generator is modelled). Reading the
#   OUT registers reads the oldest sample; reading OUT_Z_H removes it. Reading
#   an empty FIFO returns the latest sample.
# - FIFO_SRC 0x2F: FSS[4:0] = unread samples, 31 when the FIFO holds 32 (a
#   5-bit field), with OVRN_FIFO (bit 6) set exactly when it holds 32 (AN3308:
#   "the FIFO buffer contains 32 unread samples"; in stream mode the next sample
#   overwrites the oldest). EMPTY (bit 5) when 0. WTM (bit 7) when the number of
#   unread samples >= FTH (FTH > 0); the datasheet says "exceeds the watermark",
#   which a chip may implement as >: then it rises one sample later.
# - INT1 (int1 property): CTRL_REG3 I1_WTM (bit 2) -> WTM, I1_OVERRUN (bit 1)
#   -> OVRN_FIFO, I1_ZYXDA (bit 4) -> ZYXDA; active high unless CTRL_REG6
#   INT_POLARITY (bit 1) is set.
# - Inertial interrupt 1 (IA1; datasheet sections 8.19-8.22 and 8.3, AN3308
#   section 6.3), when INT1_CFG (0x30) enables any axis event: each sample's axes
#   (milli-g, as quantized), high-pass filtered when CTRL_REG2 HP_IA1 (bit 0) is
#   set, are compared with INT1_THS (0x32, 7 bits; 1 LSb = 16, 32, 62, 186 mg at
#   +-2, 4, 8, 16 g): a high event (XHIE bit 1, YHIE bit 3, ZHIE bit 5) is |value|
#   > threshold, a low event (XLIE bit 0, YLIE bit 2, ZLIE bit 4) |value| <=
#   threshold; AOI (bit 7) 0 = OR, 1 = AND of the enabled events (the 6D bit is
#   ignored: 6D recognition is not modelled). The event must hold for more than
#   INT1_DURATION (0x33) samples. INT1_SRC (0x31): IA bit 6 and the axis events,
#   of the present sample, or latched until INT1_SRC is read when CTRL_REG5
#   LIR_INT1 (bit 3) is set; reading it clears the latch. CTRL_REG3 I1_IA1 (bit
#   6) routes IA to INT1. The high-pass filter is first order, y = x - s with s
#   += (x - s) / 2**k per sample, k = 3, 4, 5, 6 for HPCF = 0..3: a cut-off near
#   ODR/50, /100, /200, /400 (the datasheet gives the cut-off frequencies, ODR/50
#   at HPCF = 00, not the filter's equation: this is a model). Reading REFERENCE
#   (0x26) resets it to the present input (s = x). HPM modes other than normal
#   (reference, autoreset) are not modelled.
# - CTRL_REG5 BOOT (bit 7) reboots: every register to its default (CTRL_REG0
#   0x10, CTRL_REG1 0x07, others 0), data and FIFO cleared; BOOT reads back 0.
# - Supply current (chip_na, sdo_pullup_na, supply_na; nA, so that a board can
#   account its energy in integers): the chip by output data rate and mode
#   (datasheet table 12: low-power / normal = high-resolution, uA: 1 Hz 2/2,
#   10 Hz 3/4, 25 Hz 4/6, 50 Hz 6/11, 100 Hz 10/20, 200 Hz 18/38, 400 Hz 36/73,
#   1.6 kHz 100 (low-power only), 1.344 kHz 185 (normal), 5.376 kHz 185
#   (low-power); powered down 0.5 uA), plus the SDO/SA0 pull-up's leak. SA0 is
#   low at address 0x18 and high at 0x19; `sa0_ohm` is what holds it low on the
#   board (0: a wire to GND, as hardware/wiring.yml has; 10000: the Adafruit
#   2809's pull-down alone). While SA0 is low and CTRL_REG0 bit 7 (SDO_PU_DISC) is
#   clear, the pull-up (table 3: 30.4 kOhm at 2.5 V, 20.4 kOhm at 3.6 V; linear
#   in between here) leaks vdd / (pull-up + sa0_ohm): 143 uA at 3.3 V with the
#   wire. ../shared/reference/power.md rows 35 and 39-40.
# Not modelled: axis enable bits (disabled axes still update), the high-pass
# filter on the output data and FIFO (FDS), IA2, click, 6D, the activity function
# (ACT_THS/ACT_DUR), ADC/temperature, self-test, timing (push() is
# the clock: call it once per 1/rate_hz), current while I2C transfers run (a
# few uA on average). A powered-down chip (ODR 0) ignores push() (it returns False).
#
# push() and FIFO reads allocate nothing in MicroPython (integers in, integers
# stored in preallocated bytearrays), so an emulated board's sampling loop can
# run with the heap locked. Pass integers: a float mg works under CPython but
# makes heap floats in MicroPython.

from array import array

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


_ENODEV = const(19)
_CHIP_ID = const(0x33)

_CTRL_REG0 = const(0x1E)
_CTRL_REG2 = const(0x21)
_REFERENCE = const(0x26)
_INT1_CFG = const(0x30)
_INT1_THS = const(0x32)
_INT1_DURATION = const(0x33)
_WHO_AM_I = const(0x0F)
_CTRL_REG1 = const(0x20)
_CTRL_REG3 = const(0x22)
_CTRL_REG4 = const(0x23)
_CTRL_REG5 = const(0x24)
_CTRL_REG6 = const(0x25)
_STATUS = const(0x27)
_OUT_X_L = const(0x28)
_OUT_Z_H = const(0x2D)
_FIFO_CTRL = const(0x2E)
_FIFO_SRC = const(0x2F)
_INT1_SRC = const(0x31)
_INT2_SRC = const(0x35)
_CLICK_SRC = const(0x39)
_NREGS = const(0x40)

_LPEN = const(0x08)
_HR = const(0x08)
_BDU = const(0x80)
_BOOT = const(0x80)
_FIFO_EN = const(0x40)
_I1_ZYXDA = const(0x10)
_I1_WTM = const(0x04)
_I1_OVERRUN = const(0x02)
_I1_IA1 = const(0x40)
_LIR_INT1 = const(0x08)
_HP_IA1 = const(0x01)
_IA = const(0x40)
_INT_POLARITY = const(0x02)
_WTM = const(0x80)
_OVRN_FIFO = const(0x40)
_EMPTY = const(0x20)
_DEPTH = const(32)
_FIFO_KEEP = const(0xFFC0)  # 10 bits, left-justified

_ODR_HZ = (0, 1, 10, 25, 50, 100, 200, 400)
_RANGES_G = (2, 4, 8, 16)
# per mode (0 = low-power 8-bit, 1 = normal 10-bit, 2 = high-resolution 12-bit)
_MODE_BITS = (8, 10, 12)
_MODE_SHIFT = (8, 6, 4)
_MODE_TOP = (127, 511, 2047)
# mg/digit, [FS code * 3 + mode]
_SENS_MG = (16, 4, 1, 32, 8, 2, 64, 16, 4, 192, 48, 12)
# INT1_THS: mg per LSb, by FS code
_THS_MG = (16, 32, 62, 186)
# supply current, nA, by ODR code: (low-power, normal and high-resolution)
_SUPPLY_NA = (
    (500, 500), (2000, 2000), (3000, 4000), (4000, 6000), (6000, 11000),
    (10000, 20000), (18000, 38000), (36000, 73000), (100000, 500), (185000, 185000),
)  # fmt: skip
_SDO_PU_DISC = const(0x80)
_PULLUP_LO_MV = const(2500)  # SA0 pull-up: 30.4 kOhm at 2.5 V ...
_PULLUP_LO_OHM = const(30400)
_PULLUP_HI_MV = const(3600)  # ... 20.4 kOhm at 3.6 V
_PULLUP_HI_OHM = const(20400)


def _quantize(mg, sens, top):
    """round(mg / sens), half to even, clipped to -top-1..top (integer math)."""
    q = int(mg // sens)
    r2 = 2 * (mg - q * sens)
    if r2 > sens or (r2 == sens and q & 1):
        q += 1
    if q > top:
        return top
    if q < -top - 1:
        return -top - 1
    return q


class LIS3DHModel:
    """An LIS3DH at `address` (0x18: SA0 low, 0x19: SA0 high) on a bus of its own,
    supplied at `vdd_mv` (the Pico's 3V3), with SA0 held at its level through
    `sa0_ohm` ohms (0: wired; see "Supply current" above)."""

    def __init__(self, address=0x18, vdd_mv=3300, sa0_ohm=0):
        self.address = address
        self.vdd_mv = vdd_mv
        self.sa0_ohm = sa0_ohm
        self.who_am_i = _CHIP_ID
        self._regs = bytearray(_NREGS)
        self._out = bytearray(6)  # OUT_X_L..OUT_Z_H: the latest sample
        self._ring = bytearray(6 * _DEPTH)  # FIFO: 32 samples of 6 bytes
        self._head = 0
        self._count = 0
        self._frozen = False  # FIFO mode, full: collects nothing until bypass
        self._status = 0
        self._lock = 0  # BDU: axes whose low byte was read but not the high byte
        self._ptr = 0  # register pointer for writeto/readfrom_into
        self._hp = array("i", [0, 0, 0])  # IA1's high-pass filter state per axis (mg x 64)
        self._q = array("i", [0, 0, 0])  # the present sample's digits, for IA1
        self.fifo_reads = 0  # samples taken out of the FIFO since construction
        self._ia_src = 0  # INT1_SRC of the present sample
        self._ia_latched = 0  # INT1_SRC bits latched since the last read (LIR_INT1)
        self._ia_run = 0  # consecutive samples the IA1 condition has held
        self.reboot()

    # --- state --------------------------------------------------------------------------

    def reboot(self):
        """Power-on / BOOT state: registers to defaults, data and FIFO cleared."""
        r = self._regs
        for i in range(_NREGS):
            r[i] = 0
        r[_CTRL_REG0] = 0x10
        r[_CTRL_REG1] = 0x07
        o = self._out
        for i in range(6):
            o[i] = 0
        self._status = 0
        self._lock = 0
        self._fifo_reset()
        self._ia_src = 0
        self._ia_latched = 0
        self._ia_run = 0
        self._hp_reset = True  # the filter starts from the next sample

    def _fifo_reset(self):
        self._head = 0
        self._count = 0
        self._frozen = False

    def _fifo_active(self):
        r = self._regs
        return bool(r[_CTRL_REG5] & _FIFO_EN) and (r[_FIFO_CTRL] >> 6) != 0

    def _mode(self):
        if self._regs[_CTRL_REG1] & _LPEN:
            return 0
        return 2 if self._regs[_CTRL_REG4] & _HR else 1

    @property
    def rate_hz(self):
        """Output data rate from CTRL_REG1 ODR; 0 when powered down."""
        odr = self._regs[_CTRL_REG1] >> 4
        if odr < 8:
            return _ODR_HZ[odr]
        lp = self._regs[_CTRL_REG1] & _LPEN
        if odr == 8:
            return 1620 if lp else 0  # 1.62 kHz exists in low-power mode only
        if odr == 9:
            return 5376 if lp else 1344
        return 0

    @property
    def range_g(self):
        return _RANGES_G[(self._regs[_CTRL_REG4] >> 4) & 3]

    @property
    def bits(self):
        return _MODE_BITS[self._mode()]

    @property
    def sensitivity(self):
        """mg/digit of the OUT registers in the current configuration."""
        return _SENS_MG[((self._regs[_CTRL_REG4] >> 4) & 3) * 3 + self._mode()]

    @property
    def chip_na(self):
        """The chip's supply current (nA) at its ODR and mode; 500 powered down."""
        odr = self._regs[_CTRL_REG1] >> 4
        if odr >= len(_SUPPLY_NA):
            odr = 0
        return _SUPPLY_NA[odr][1 if self._mode() else 0]

    @property
    def sdo_pullup_na(self):
        """Current (nA) through the SA0 pull-up: 0 when disconnected (CTRL_REG0
        SDO_PU_DISC) or when SA0 is high (address 0x19)."""
        if self._regs[_CTRL_REG0] & _SDO_PU_DISC or self.address & 1:
            return 0
        v = self.vdd_mv
        if v <= _PULLUP_LO_MV:
            r = _PULLUP_LO_OHM
        elif v >= _PULLUP_HI_MV:
            r = _PULLUP_HI_OHM
        else:
            r = _PULLUP_LO_OHM - (v - _PULLUP_LO_MV) * (_PULLUP_LO_OHM - _PULLUP_HI_OHM) // (
                _PULLUP_HI_MV - _PULLUP_LO_MV
            )
        return v * 1000000 // (r + self.sa0_ohm)

    @property
    def supply_na(self):
        """Everything the chip draws from its supply (nA): chip_na + sdo_pullup_na."""
        return self.chip_na + self.sdo_pullup_na

    @property
    def fifo_count(self):
        """Unread samples in the FIFO (0..32); 0 while the FIFO is off."""
        return self._count if self._fifo_active() else 0

    def _fifo_src(self):
        c = self._count if self._fifo_active() else 0
        if c >= _DEPTH:
            v = 31 | _OVRN_FIFO
        else:
            v = c
        if not c:
            v |= _EMPTY
        fth = self._regs[_FIFO_CTRL] & 0x1F
        if fth and c >= fth:
            v |= _WTM
        return v

    @property
    def int1(self):
        """Level of the INT1 pin (True = high)."""
        r = self._regs
        c3 = r[_CTRL_REG3]
        active = False
        if c3 & (_I1_WTM | _I1_OVERRUN):
            src = self._fifo_src()
            if (c3 & _I1_WTM and src & _WTM) or (c3 & _I1_OVERRUN and src & _OVRN_FIFO):
                active = True
        if c3 & _I1_ZYXDA and self._status & 0x08:
            active = True
        if c3 & _I1_IA1 and self._ia_pending() & _IA:
            active = True
        if r[_CTRL_REG6] & _INT_POLARITY:
            return not active
        return active

    def _ia_pending(self):
        # INT1_SRC as read now: latched bits, or the present sample's
        if self._regs[_CTRL_REG5] & _LIR_INT1:
            return self._ia_latched
        return self._ia_src

    def _ia1(self, qx, qy, qz, sens):
        # the inertial interrupt generator 1 on one sample (digits x mg/digit)
        r = self._regs
        cfg = r[_INT1_CFG]
        hp = self._hp
        q = self._q
        q[0] = qx
        q[1] = qy
        q[2] = qz
        k = 3 + ((r[_CTRL_REG2] >> 4) & 3)
        if self._hp_reset:
            self._hp_reset = False
            for i in range(3):
                hp[i] = (q[i] * sens) << 6
        src = 0
        thr = (r[_INT1_THS] & 0x7F) * _THS_MG[(r[_CTRL_REG4] >> 4) & 3]
        bit = 1
        filtered = r[_CTRL_REG2] & _HP_IA1
        for i in range(3):
            v = q[i] * sens
            s = hp[i]
            s += ((v << 6) - s) >> k
            hp[i] = s
            if filtered:
                v -= s >> 6
            if v < 0:
                v = -v
            src |= (bit << 1) if v > thr else bit  # high (XH, YH, ZH) or low (XL, YL, ZL)
            bit <<= 2
        want = cfg & 0x3F
        hit = src & want
        if cfg & 0x80:  # AND
            cond = want != 0 and hit == want
        else:
            cond = hit != 0
        if cond:
            self._ia_run += 1
        else:
            self._ia_run = 0
        if cond and self._ia_run > (r[_INT1_DURATION] & 0x7F):
            src = hit | _IA
        else:
            src = 0
        self._ia_src = src
        self._ia_latched |= src

    # --- a new sample -------------------------------------------------------------------

    def push(self, x, y, z):
        """One new sample in milli-g, as measured at the configured rate.
        Returns False (and stores nothing) while the chip is powered down."""
        r = self._regs
        c1 = r[_CTRL_REG1]
        if not c1 >> 4:
            return False
        c4 = r[_CTRL_REG4]
        m = 0 if c1 & _LPEN else (2 if c4 & _HR else 1)
        sens = _SENS_MG[((c4 >> 4) & 3) * 3 + m]
        top = _MODE_TOP[m]
        shift = _MODE_SHIFT[m]
        x = _quantize(x, sens, top)
        y = _quantize(y, sens, top)
        z = _quantize(z, sens, top)
        if r[_INT1_CFG] & 0x3F:
            self._ia1(x, y, z, sens)
        x = (x << shift) & 0xFFFF
        y = (y << shift) & 0xFFFF
        z = (z << shift) & 0xFFFF

        o = self._out
        lock = self._lock if c4 & _BDU else 0
        if not lock & 1:
            o[0] = x & 0xFF
            o[1] = x >> 8
        if not lock & 2:
            o[2] = y & 0xFF
            o[3] = y >> 8
        if not lock & 4:
            o[4] = z & 0xFF
            o[5] = z >> 8
        st = self._status
        over = (st & 0x07) << 4
        st |= 0x0F | over
        if over:
            st |= 0x80
        self._status = st

        if self._fifo_active():
            c = self._count
            if r[_FIFO_CTRL] >> 6 == 1:  # FIFO mode: stop when full
                if c >= _DEPTH:
                    self._frozen = True
                if self._frozen:
                    return True
            elif c >= _DEPTH:  # stream: drop the oldest
                self._head = (self._head + 1) & (_DEPTH - 1)
                c = _DEPTH - 1
            i = ((self._head + c) & (_DEPTH - 1)) * 6
            ring = self._ring
            x &= _FIFO_KEEP
            y &= _FIFO_KEEP
            z &= _FIFO_KEEP
            ring[i] = x & 0xFF
            ring[i + 1] = x >> 8
            ring[i + 2] = y & 0xFF
            ring[i + 3] = y >> 8
            ring[i + 4] = z & 0xFF
            ring[i + 5] = z >> 8
            self._count = c + 1
        return True

    # --- register access ------------------------------------------------------------------

    def _rd(self, a):
        if _OUT_X_L <= a <= _OUT_Z_H:
            k = a - _OUT_X_L
            if self._fifo_active():
                c = self._count
                if not c:
                    return self._out[k]
                h = self._head
                v = self._ring[h * 6 + k]
                if a == _OUT_Z_H:  # the whole sample has been read: next one
                    self._head = (h + 1) & (_DEPTH - 1)
                    self._count = c - 1
                    self.fifo_reads += 1
                return v
            axis = 1 << (k >> 1)
            if k & 1:  # high byte: release BDU, clear this axis' status bits
                self._lock &= ~axis
                st = self._status & ~(axis | (axis << 4))
                if not st & 0x07:
                    st &= 0x77  # ZYXDA, ZYXOR
                self._status = st
            else:
                self._lock |= axis
            return self._out[k]
        if a == _STATUS:
            return self._status
        if a == _FIFO_SRC:
            return self._fifo_src()
        if a == _INT1_SRC:
            v = self._ia_pending()
            self._ia_latched = 0
            return v
        if a == _REFERENCE:
            self._hp_reset = True  # reading REFERENCE resets the high-pass filter
            return self._regs[a]
        if a == _WHO_AM_I:
            return self.who_am_i
        if a < _NREGS:
            return self._regs[a]
        return 0

    def _wr(self, a, v):
        if a >= _NREGS or a == _WHO_AM_I or _STATUS <= a <= _OUT_Z_H:
            return
        if a == _FIFO_SRC or a == _INT1_SRC or a == _INT2_SRC or a == _CLICK_SRC:
            return
        if a == _CTRL_REG5 and v & _BOOT:
            self.reboot()
            return
        self._regs[a] = v
        if a == _FIFO_CTRL and not v >> 6:
            self._fifo_reset()  # bypass mode empties the FIFO
        elif a == _CTRL_REG4:
            self._lock = 0

    def _read_into(self, reg, buf):
        inc = reg & 0x80
        a = reg & 0x7F
        n = len(buf)
        i = 0
        while i < n:
            buf[i] = self._rd(a)
            if inc:
                if a == _OUT_Z_H and self._fifo_active():
                    a = _OUT_X_L
                else:
                    a = (a + 1) & 0x7F
            i += 1
        self._ptr = a | inc

    def _write_from(self, reg, buf, start):
        inc = reg & 0x80
        a = reg & 0x7F
        n = len(buf)
        i = start
        while i < n:
            self._wr(a, buf[i])
            if inc:
                a = (a + 1) & 0x7F
            i += 1
        self._ptr = a | inc

    def _check(self, addr):
        if addr != self.address:
            raise OSError(_ENODEV)

    # --- machine.I2C ------------------------------------------------------------------------

    def scan(self):
        return [self.address]

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        self._check(addr)
        self._read_into(memaddr, buf)

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        self._check(addr)
        self._write_from(memaddr, buf, 0)

    def writeto(self, addr, buf, stop=True):
        """Raw write: the first byte sets the register pointer, the rest are
        written from there. An empty write is an address probe."""
        self._check(addr)
        if len(buf):
            self._ptr = buf[0]
            self._write_from(buf[0], buf, 1)
        return len(buf)

    def readfrom_into(self, addr, buf, stop=True):
        """Raw read from the register pointer (set by the last writeto)."""
        self._check(addr)
        self._read_into(self._ptr, buf)

    def readfrom(self, addr, nbytes, stop=True):
        buf = bytearray(nbytes)
        self.readfrom_into(addr, buf)
        return bytes(buf)

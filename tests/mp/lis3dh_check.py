# The LIS3DH driver against the register model, under the MicroPython unix port.
#
#   micropython lis3dh_check.py FIRMWARE_DIR
#
# Imports lis3dh, lis3dh_model and config from FIRMWARE_DIR. Prints one line per
# check, "PASS <name>" or "FAIL <name>: <why>", "ALLOC <name> <bytes> <count>"
# for the allocation measurements (gc.mem_alloc() before/after, heap unlocked),
# and "END <passed> <failed>"; exits 1 if anything failed. The allocation
# checks run the hot paths (model.push, model.int1, driver.read_fifo) with
# micropython.heap_lock() held, so any allocation raises MemoryError. MicroPython
# only (CPython has no heap_lock).
import sys
import gc
import micropython
from array import array

sys.path.insert(0, sys.argv[1])
import config  # noqa: E402
from lis3dh import LIS3DH  # noqa: E402
from lis3dh_model import LIS3DHModel  # noqa: E402

results = [0, 0]

RATE_CODE = {1: 1, 10: 2, 25: 3, 50: 4, 100: 5, 200: 6, 400: 7}
FS_CODE = {2: 0, 4: 1, 8: 2, 16: 3}
SENS = {
    (2, 12): 1, (2, 10): 4, (2, 8): 16,
    (4, 12): 2, (4, 10): 8, (4, 8): 32,
    (8, 12): 4, (8, 10): 16, (8, 8): 64,
    (16, 12): 12, (16, 10): 48, (16, 8): 192,
}  # fmt: skip


def report(name, ok, why=""):
    if ok:
        results[0] += 1
        print("PASS", name)
    else:
        results[1] += 1
        print("FAIL %s: %s" % (name, why))


def expect_error(name, fn, etype, message=None):
    try:
        fn()
    except etype as e:
        if message is None or str(e) == message:
            report(name, True)
        else:
            report(name, False, "message %r" % str(e))
        return
    except Exception as e:  # noqa: BLE001
        report(name, False, "raised %r" % e)
        return
    report(name, False, "no exception")


class Rand:
    """A small LCG: the same numbers under every Python."""

    def __init__(self, seed):
        self.s = seed

    def below(self, n):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.s >> 8) % n


def clip_mg(x, rng, bits):
    s = SENS[(rng, bits)]
    top = (1 << (bits - 1)) - 1
    lo, hi = -(top + 1) * s, top * s
    return lo if x < lo else (hi if x > hi else x)


def fresh(rate, rng, bits):
    m = LIS3DHModel(config.LIS3DH_ADDRESS)
    d = LIS3DH(m, config.LIS3DH_ADDRESS)
    d.configure(rate, rng, bits)
    return m, d


# --- WHO_AM_I -------------------------------------------------------------------


def check_who_am_i():
    m = LIS3DHModel(0x18)
    expect_error(
        "who_am_i_wrong_address",
        lambda: LIS3DH(m, 0x19),
        OSError,
        "LIS3DH not found at I2C address 0x19: no answer (OSError 19)",
    )
    m.who_am_i = 0x00
    expect_error(
        "who_am_i_reads_zero",
        lambda: LIS3DH(m, 0x18),
        OSError,
        "LIS3DH not found at I2C address 0x18: WHO_AM_I read 0x00, expected 0x33",
    )
    m.who_am_i = 0x44
    expect_error(
        "who_am_i_other_chip",
        lambda: LIS3DH(m, 0x18),
        OSError,
        "LIS3DH not found at I2C address 0x18: WHO_AM_I read 0x44, expected 0x33",
    )
    m.who_am_i = 0x33
    try:
        LIS3DH(m, 0x18)
        report("who_am_i_ok", True)
    except Exception as e:  # noqa: BLE001
        report("who_am_i_ok", False, repr(e))


# --- configure -------------------------------------------------------------------


def check_configure():
    bad = []
    for rate in RATE_CODE:
        for rng in FS_CODE:
            for bits in (8, 10, 12):
                m, d = fresh(rate, rng, bits)
                c1 = m.readfrom_mem(0x18, 0x20, 1)[0]
                c4 = m.readfrom_mem(0x18, 0x23, 1)[0]
                want1 = RATE_CODE[rate] << 4 | (0x08 if bits == 8 else 0) | 0x07
                want4 = 0x80 | FS_CODE[rng] << 4 | (0x08 if bits == 12 else 0)
                got = (c1, c4, m.rate_hz, m.range_g, m.bits, d.sensitivity)
                want = (want1, want4, rate, rng, bits, SENS[(rng, bits)])
                if got != want:
                    bad.append((rate, rng, bits, got, want))
    report("configure_registers", not bad, repr(bad[:3]))
    m, d = fresh(25, 4, 10)
    for args in ((0, 4, 10), (12, 4, 10), (800, 4, 10), (25, 3, 10), (25, 4, 11), (25, 32, 12)):
        expect_error("configure_rejects_%d_%d_%d" % args, lambda: d.configure(*args), ValueError)
    for w in (0, 32):
        expect_error("start_fifo_rejects_%d" % w, lambda: d.start_fifo(w), ValueError)


# --- stream mode -----------------------------------------------------------------


def check_stream(bits):
    name = "stream40_%dbit" % bits
    m, d = fresh(config.RATE_HZ, config.RANGE_G, bits)
    wm = config.FIFO_WATERMARK
    d.start_fifo(wm)
    pushed = []
    first_high = -1
    for i in range(40):
        x, y, z = 37 * i - 700, 1000 - 13 * i, -3 * i * i
        pushed.append((x, y, z))
        m.push(x, y, z)
        if first_high < 0 and m.int1:
            first_high = i + 1
    if first_high != wm:
        report(name, False, "INT1 rose at sample %d, watermark %d" % (first_high, wm))
        return
    out = array("h", bytes(2 * 3 * 32))
    n = d.read_fifo(out)
    if n != 32 or d.overruns != 1:
        report(name, False, "read_fifo %d samples, %d overruns" % (n, d.overruns))
        return
    lsb = d.fifo_sensitivity
    for i in range(32):
        for k in range(3):
            want = clip_mg(pushed[8 + i][k], config.RANGE_G, bits)
            if abs(out[3 * i + k] - want) > lsb:
                report(name, False, "sample %d axis %d: %d vs %d" % (i, k, out[3 * i + k], want))
                return
    if m.int1 or d.read_fifo(out) != 0 or d.overruns != 1:
        report(name, False, "FIFO not empty after reading")
        return
    report(name, True)


# --- value round trips --------------------------------------------------------------


def check_roundtrip():
    r = Rand(1)
    out = array("h", bytes(2 * 3 * 32))
    for rng in FS_CODE:
        for bits in (8, 10, 12):
            m, d = fresh(100, rng, bits)
            s = d.sensitivity
            span = rng * 1300  # 30 % past the full scale: clipping included
            xs = [r.below(2 * span + 1) - span for _ in range(60)]
            xs += [rng * 1000 + 5000, -rng * 1000 - 5000, 0, s // 2, -s // 2]
            bad = None
            for x in xs:
                m.push(x, -x, x // 3)
                got = d.read_mg()
                for g, v in zip(got, (x, -x, x // 3)):
                    if 2 * abs(g - clip_mg(v, rng, bits)) > s:  # round to nearest: half an LSB
                        bad = (x, got)
            top = ((1 << (bits - 1)) - 1) * s
            m.push(10**6, -(10**6), 0)
            if d.read_mg() != (top, -top - s, 0):
                bad = ("clip", d.read_mg())
            report("roundtrip_out_%dg_%dbit" % (rng, bits), bad is None, repr(bad))
            # the same values through the FIFO (10-bit data in 12-bit mode)
            d.start_fifo(31)
            bad = None
            fs = d.fifo_sensitivity
            for j in range(0, len(xs), 20):
                chunk = xs[j : j + 20]
                for x in chunk:
                    m.push(x, -x, 0)
                n = d.read_fifo(out)
                if n != len(chunk):
                    bad = ("count", n, len(chunk))
                    break
                for i, x in enumerate(chunk):
                    for k, v in ((0, x), (1, -x)):
                        if abs(out[3 * i + k] - clip_mg(v, rng, bits)) > fs:
                            bad = (x, out[3 * i + k])
            report("roundtrip_fifo_%dg_%dbit" % (rng, bits), bad is None, repr(bad))


# --- allocation --------------------------------------------------------------------------


def locked(name, fn):
    """fn() with the heap locked; None (and a FAIL) if it allocated. fn is made
    before the lock (a closure), and called without *args (that allocates)."""
    gc.collect()
    micropython.heap_lock()
    try:
        err = None
        try:
            result = fn()
        except MemoryError as e:
            err = e
    finally:
        micropython.heap_unlock()
    if err is not None:
        report(name, False, "MemoryError: allocates with the heap locked")
        return None
    return result


def push_n(m, n, base):
    i = 0
    while i < n:
        m.push(base + i, -i, 1000)
        i += 1
    return n


def cycles(m, d, out, count):
    """count wake-ups: push until INT1, then read the FIFO; every 4th time late."""
    total = 0
    c = 0
    while c < count:
        i = 0
        while not m.int1:
            m.push(i, -i, 1000)
            i += 1
        if c & 3 == 3:
            push_n(m, 12, 0)  # overrun: the FIFO fills up
        total += d.read_fifo(out)
        c += 1
    return total


def check_alloc():
    out = array("h", bytes(2 * 3 * 32))
    m, d = fresh(config.RATE_HZ, config.RANGE_G, 12)
    d.start_fifo(config.FIFO_WATERMARK)
    # read_fifo for every sample count 0..32 (each uses its own preallocated view)
    ok = True
    for n in range(33):
        push_n(m, n, 0)
        got = locked("read_fifo_heap_locked", lambda: d.read_fifo(out))
        if got is None:
            ok = False
            break
        if got != n:
            report("read_fifo_heap_locked", False, "read %d of %d" % (got, n))
            ok = False
            break
    if ok:
        report("read_fifo_heap_locked", True)
    # the model's push (stream mode, FIFO full: dropping the oldest) and FIFO burst
    if locked("model_push_heap_locked", lambda: push_n(m, 1000, -500)) is not None:
        report("model_push_heap_locked", True)
    d.read_fifo(out)
    # the sampling loop of an emulated board: push until INT1, read, repeat
    got = locked("sampling_loop_heap_locked", lambda: cycles(m, d, out, 40))
    if got is not None:
        report("sampling_loop_heap_locked", got == 30 * 25 + 10 * 32, "samples %d" % got)
    for bits in (8, 10):
        m2, d2 = fresh(config.RATE_HZ, config.RANGE_G, bits)
        d2.start_fifo(config.FIFO_WATERMARK)
        got = locked("sampling_loop_heap_locked_%dbit" % bits, lambda: cycles(m2, d2, out, 8))
        if got is not None:
            report("sampling_loop_heap_locked_%dbit" % bits, got == 6 * 25 + 2 * 32, "samples %d" % got)
    # measured: bytes allocated over 100 wake-ups, heap unlocked
    gc.collect()
    before = gc.mem_alloc()
    cycles(m, d, out, 100)
    after = gc.mem_alloc()
    print("ALLOC sampling_loop %d %d" % (after - before, 100))
    gc.collect()
    push_n(m, 30, 0)
    before = gc.mem_alloc()
    for _ in range(100):
        d.read_fifo(out)
        push_n(m, 32, 0)
    after = gc.mem_alloc()
    print("ALLOC read_fifo_push32 %d %d" % (after - before, 100))


# --- SDO/SA0 pull-up ----------------------------------------------------------------


def check_sdo_pullup():
    ctrl_reg0 = 0x1E
    m = LIS3DHModel(0x18)
    leak = m.sdo_pullup_na
    d = LIS3DH(m, 0x18)
    d.configure(25, 4, 10)
    v = m.readfrom_mem(0x18, ctrl_reg0, 1)[0]
    report("sdo_pullup_disconnected_at_0x18", v == 0x90 and m.sdo_pullup_na == 0 and leak > 140000,
           "CTRL_REG0 0x%02x, leak %d nA before, %d after" % (v, leak, m.sdo_pullup_na))
    d = LIS3DH(m, 0x18, False)
    d.configure(25, 4, 10)
    v = m.readfrom_mem(0x18, ctrl_reg0, 1)[0]
    report("sdo_pullup_kept_when_not_tied_low", v == 0x10 and m.sdo_pullup_na == leak,
           "CTRL_REG0 0x%02x, leak %d nA" % (v, m.sdo_pullup_na))
    m = LIS3DHModel(0x19)
    d = LIS3DH(m, 0x19, True)
    d.configure(25, 4, 10)
    v = m.readfrom_mem(0x19, ctrl_reg0, 1)[0]
    report("sdo_pullup_kept_at_0x19", v == 0x10 and m.sdo_pullup_na == 0, "CTRL_REG0 0x%02x" % v)
    m, d = fresh(25, 4, 8)
    report("supply_current_25hz_8bit", m.supply_na == 4000, "%d nA" % m.supply_na)


check_who_am_i()
check_configure()
for bits in (8, 10, 12):
    check_stream(bits)
check_roundtrip()
check_alloc()
check_sdo_pullup()
print("END %d %d" % (results[0], results[1]))
sys.exit(1 if results[1] else 0)

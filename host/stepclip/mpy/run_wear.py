# Runs the firmware's wear-time detector under MicroPython on a file of samples.
#
#   micropython run_wear.py FIRMWARE_DIR RATE_HZ LSB_MG SAMPLES.bin [--close] [--bench]
#
# SAMPLES.bin holds int16 little-endian x, y, z triples in milli-g. The samples
# are fed 25 at a time (one FIFO read at 25 Hz) with WearTime.feed; after each
# completed minute it prints "M <largest per-axis change, mg> <worn: 0 or 1>",
# then "TOTAL <minutes> <moving> <worn>". --close also closes a last partial
# minute (recordings shorter than a minute).
#
# --bench loads the samples into blocks of 25 first, then: runs the step counter
# with WearTime.feed and with WearTime.update over them with
# micropython.heap_lock() held (any allocation raises), measures gc.mem_alloc()
# over a feed pass, and times three loops like the app's: the step counter
# alone, plus update() per sample, plus feed() per block.
# It prints "BENCH <us/sample alone> <us with update> <us with feed> <bytes per
# 1000 samples>".
import sys
import gc
import time
import micropython
from array import array

sys.path.insert(0, sys.argv[1])
from wear import WearTime  # noqa: E402
from stepcounter import StepCounter  # noqa: E402

rate = float(sys.argv[2]) if "." in sys.argv[2] else int(sys.argv[2])
lsb = int(sys.argv[3])
path = sys.argv[4]
BLOCK = 25


def run_minutes(close):
    wear = WearTime(rate, lsb)
    buf = array("h", bytes(2 * 3 * BLOCK))
    seen = 0
    worn = 0
    with open(path, "rb") as f:
        while True:
            nbytes = f.readinto(buf)
            if not nbytes:
                break
            wear.feed(buf, nbytes // 6)
            if wear.minutes != seen:
                seen = wear.minutes
                w = wear.take()
                worn += w
                print("M", wear.last_range, w)
    if close:
        wear.end_minute()
        if wear.minutes != seen:
            w = wear.take()
            worn += w
            print("M", wear.last_range, w)
    print("TOTAL", wear.minutes, wear.moving, worn)


def blocks():
    with open(path, "rb") as f:
        data = f.read()
    samples = array("h", data)
    out = []
    size = 3 * BLOCK
    for k in range(len(samples) // size):
        out.append(samples[k * size:(k + 1) * size])
    return out


def alone(det, wear, bl):
    j = 0
    nb = len(bl)
    while j < nb:
        buf = bl[j]
        i = 0
        while i < 75:
            det.update(buf[i], buf[i + 1], buf[i + 2])
            i += 3
        j += 1


def with_update(det, wear, bl):
    j = 0
    nb = len(bl)
    while j < nb:
        buf = bl[j]
        i = 0
        while i < 75:
            det.update(buf[i], buf[i + 1], buf[i + 2])
            wear.update(buf[i], buf[i + 1], buf[i + 2])
            i += 3
        j += 1


def with_feed(det, wear, bl):
    j = 0
    nb = len(bl)
    while j < nb:
        buf = bl[j]
        i = 0
        while i < 75:
            det.update(buf[i], buf[i + 1], buf[i + 2])
            i += 3
        wear.feed(buf, BLOCK)
        j += 1


def timed(fn, bl):
    det = StepCounter(rate)
    wear = WearTime(rate, lsb)
    gc.collect()
    t0 = time.ticks_us()
    fn(det, wear, bl)
    return time.ticks_diff(time.ticks_us(), t0) / (len(bl) * BLOCK)


def bench():
    bl = blocks()
    n = len(bl) * BLOCK
    det = StepCounter(rate)
    wear = WearTime(rate, lsb)
    with_feed(det, wear, bl)  # warm up
    gc.collect()
    micropython.heap_lock()
    try:
        with_feed(det, wear, bl)
        with_update(det, wear, bl)
    finally:
        micropython.heap_unlock()
    gc.collect()
    before = gc.mem_alloc()
    with_feed(det, wear, bl)
    after = gc.mem_alloc()
    per_k = (after - before) * 1000 // n
    # interleave the three loops so that a busy moment hits them alike; best of 7
    a = u = f = 0
    for _ in range(7):
        t = timed(alone, bl)
        a = t if not a or t < a else a
        t = timed(with_update, bl)
        u = t if not u or t < u else u
        t = timed(with_feed, bl)
        f = t if not f or t < f else f
    print("BENCH", a, u, f, per_k)


if "--bench" in sys.argv:
    bench()
else:
    run_minutes("--close" in sys.argv)

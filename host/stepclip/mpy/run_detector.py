# Runs the firmware's step counter under MicroPython on a file of samples.
#
#   micropython run_detector.py FIRMWARE_DIR RATE_HZ SAMPLES.bin [--alloc]
#
# SAMPLES.bin holds int16 little-endian x, y, z triples in milli-g. Prints one
# line "S <sample index>" per credited step, then "COUNT <n>". With --alloc the
# samples are first loaded into memory and fed with the heap locked (any
# allocation raises), then fed again unlocked to measure bytes allocated and
# time per sample; it prints "ALLOC <bytes per 1000 samples> <us per sample>".
import sys
import gc
import time
import micropython
from array import array

sys.path.insert(0, sys.argv[1])
from stepcounter import StepCounter  # noqa: E402

rate = float(sys.argv[2]) if "." in sys.argv[2] else int(sys.argv[2])
path = sys.argv[3]
alloc_mode = "--alloc" in sys.argv
CHUNK = 3 * 256
buf = array("h", bytes(2 * CHUNK))
det = StepCounter(rate)


def feed(det, buf, count, emit):
    i = 0
    while i < count:
        c = det.update(buf[i], buf[i + 1], buf[i + 2])
        if c and emit:
            while c:
                print("S", det.recent(c))
                c -= 1
        i += 3


if not alloc_mode:
    with open(path, "rb") as f:
        while True:
            nbytes = f.readinto(buf)
            if not nbytes:
                break
            feed(det, buf, nbytes // 2, True)
    print("COUNT", det.steps)
else:
    with open(path, "rb") as f:
        data = f.read()
    samples = array("h", data)
    n = len(samples)
    feed(det, samples, n, False)  # warm up: first bout, baseline
    gc.collect()
    micropython.heap_lock()
    try:
        feed(det, samples, n, False)
    finally:
        micropython.heap_unlock()
    gc.collect()
    before = gc.mem_alloc()
    t0 = time.ticks_us()
    feed(det, samples, n, False)
    dt = time.ticks_diff(time.ticks_us(), t0)
    after = gc.mem_alloc()
    print("ALLOC", (after - before) * 1000 * 3 // n, dt * 3 / n)
    print("COUNT", det.steps)

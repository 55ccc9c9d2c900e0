# RAM use of the store, under the MicroPython unix port with a small heap:
#
#   micropython -X heapsize=64K store_memory.py FIRMWARE_DIR IMAGE_FILE
#
# littlefs (os.VfsLfs2, progsize 256 as on the Pico) runs on a flash emulated in
# IMAGE_FILE (a host file, so that the 1.4 MB image stays out of the 64 KB heap).
# Closes 400+ days one by one, then measures load(), close() and records() with
# DAYS_KEPT days stored. The peak heap in use is sampled (gc.collect() then
# gc.mem_alloc()) at every block read and write that littlefs makes, i.e. while
# the store streams the files. Prints "RESULT {json}".
import sys
import gc
import json
import os

sys.path.insert(0, sys.argv[1])
import config
import store
import store_flash as sf
from store import Record

NBLOCKS = 352
state = [0, False]  # peak, sampling on


def sample():
    if state[1]:
        gc.collect()
        m = gc.mem_alloc()
        if m > state[0]:
            state[0] = m


def measure(fn):
    # (result, heap in use before, peak heap in use during fn)
    gc.collect()
    before = gc.mem_alloc()
    state[0] = before
    state[1] = True
    try:
        res = fn()
    finally:
        state[1] = False
    return res, before, state[0]


def count_records(st, since=None):
    n = 0
    for r in st.records(since):
        n += 1
    return n


def main():
    dev = sf.FileFlash(sys.argv[2], NBLOCKS)
    dev.hook = sample
    sf.format(dev)
    sf.mount(dev)
    st = store.Store(sf.MOUNT + "/data")
    st.load()
    st.new_boot()
    kept = config.DAYS_KEPT
    peaks = {}
    # grow the history to kept + 10 days through close(), noting close()'s
    # peak at 50 days and at the full store
    for d in range(kept + 10):
        r = sf.day_record(Record, 8000 + d)
        if d in (50, kept):
            _, before, peak = measure(lambda: st.close(r))
            peaks["close_%d" % d] = (before, peak)
        else:
            st.close(r)
    assert st.count() == kept
    r = sf.day_record(Record, 9000)
    st.checkpoint(r)
    _, before, peak = measure(lambda: st.checkpoint(r))
    peaks["checkpoint"] = (before, peak)
    st2 = store.Store(sf.MOUNT + "/data")
    rec, before, peak = measure(st2.load)
    assert rec == r
    assert st2.count() == kept
    peaks["load"] = (before, peak)
    n, before, peak = measure(lambda: count_records(st2))
    assert n == kept
    peaks["records"] = (before, peak)
    n, before, peak = measure(lambda: count_records(st2, kept))  # the closes after number kept
    assert n == 10
    r2 = sf.day_record(Record, 9001)
    _, before, peak = measure(lambda: st2.close(r2))
    peaks["close_%d_b" % kept] = (before, peak)
    assert st2.count() == kept
    # control: the naive way (the whole history in RAM) does not fit this heap
    state[1] = False
    size = os.stat(sf.MOUNT + "/data/days.txt")[6]
    try:
        f = open(sf.MOUNT + "/data/days.txt", "rb")
        recs = [Record.from_line(x) for x in f.read().split(b"\n")[1:-2]]
        f.close()
        naive = "fits (%d records)" % len(recs)
        recs = None
    except MemoryError:
        naive = "MemoryError"
    sf.unmount()
    gc.collect()
    out = {
        "heap_total": gc.mem_alloc() + gc.mem_free(),
        "days_stored": kept,
        "days_file_bytes": size,
        "whole_history_in_ram": naive,
    }
    for k in peaks:
        before, peak = peaks[k]
        out[k] = {"before": before, "peak": peak, "extra": peak - before}
    print("RESULT " + json.dumps(out))


main()

# Power cut at every write of a boot / checkpoints / rollover / checkpoints
# scenario, under the MicroPython unix port on littlefs (os.VfsLfs2) over an
# emulated Pico flash (4096-byte blocks, progsize 256).
#
#   micropython store_powercut.py FIRMWARE_DIR [HISTORY_DAYS] [torn]
#
# For every k from 1 to the scenario's number of writes (writeblocks + erases):
# run the scenario on a copy of the starting image with the power cut at the
# k-th write (that write does not happen, nor any later one; with "torn" the
# k-th write is half done), then mount a copy of the image as it was at the cut
# (never formatting), load the store and check:
#   - load() succeeds and sets nothing aside
#   - every day closed before the cut is there, unchanged, in order; the day
#     being closed at the cut is there unchanged or still the open record
#   - the steps recovered for the day in progress (open record or its closed
#     copy) are >= the last completed checkpoint's, and the open record is one
#     of the records that were checkpointed (never garbage)
#   - the boot counter never goes back
#   - the store keeps working: new_boot, checkpoint, close, load again
# Prints "RESULT {json}" with the figures.
import sys
import json

sys.path.insert(0, sys.argv[1])
import store
import store_flash as sf
from store import Record

HISTORY = int(sys.argv[2]) if len(sys.argv) > 2 else 30
TORN = len(sys.argv) > 3 and sys.argv[3] == "torn"
NBLOCKS = 64
ROOT = sf.MOUNT + "/data"
DAY1 = 9000 + HISTORY  # the day in progress at boot
DAY2 = DAY1 + 1  # the day after the rollover
CHECKPOINTS = 6


def base_image():
    dev = sf.RamFlash(NBLOCKS)
    sf.format(dev)
    sf.mount(dev)
    st = store.Store(ROOT)
    st.load()
    for _ in range(3):
        st.new_boot()
    for d in range(HISTORY):
        st.close(sf.day_record(Record, 9000 + d))
    # a stray open record from before: the day in progress, 50 steps so far
    r = sf.day_record(Record, DAY1, steps=50)
    st.checkpoint(r)
    sf.unmount()
    return bytes(dev.buf)


def line(r):
    return r.to_line()


class Log:
    # what the scenario completed before the cut
    def __init__(self):
        self.closed = []  # lines of the closes that returned
        self.closing = None  # line of the close in progress
        self.done = {DAY1: 50}  # key -> steps of the last completed checkpoint
        self.saved = [line(sf.day_record(Record, DAY1, steps=50))]  # checkpointed lines
        self.boot = 3  # last boot id that new_boot() returned
        self.booting = False


def scenario(dev, log):
    sf.mount(dev)
    st = store.Store(ROOT)
    st.load()
    log.booting = True
    log.boot = st.new_boot()
    log.booting = False
    steps = 50
    r = sf.day_record(Record, DAY1, steps=steps)
    for i in range(CHECKPOINTS):
        steps += 250 + 10 * i
        r.steps = steps
        r.hourly[9] = i
        log.saved.append(line(r))
        st.checkpoint(r)
        log.done[DAY1] = steps
    # rollover: close the day, open the next
    r.steps = steps + 120
    log.closing = line(r)
    log.saved.append(log.closing)
    st.close(r)
    log.closed.append(log.closing)
    log.closing = None
    log.done[DAY1] = r.steps
    steps = 0
    r = Record("D", DAY2, 0)
    for i in range(CHECKPOINTS):
        steps += 300 + 7 * i
        r.steps = steps
        r.hourly[i % 24] = steps
        log.saved.append(line(r))
        st.checkpoint(r)
        log.done[DAY2] = steps
    sf.unmount()


def check(image, log, history_lines):
    dev = sf.RamFlash(NBLOCKS, image=image)  # a copy of the image at the cut
    sf.mount(dev)  # must mount: never format
    st = store.Store(ROOT)
    rec = st.load()
    assert st.set_aside == [], st.set_aside
    got = [line(x) for x in st.records()]
    want = history_lines + log.closed
    if log.closing is not None and len(got) == len(want) + 1:
        want = want + [log.closing]
    assert got == want, "closed days lost or changed"
    assert st.count() == len(got)
    assert rec is None or line(rec) in log.saved, "open record is not one that was saved"
    for day in (DAY1, DAY2):
        found = 0
        if rec is not None and rec.key == day:
            found = rec.steps
        for g in got:
            r = Record.from_line(g)
            if r.key == day:
                found = r.steps
        assert found >= log.done.get(day, 0), "steps lost: day %d has %d, checkpoint had %d" % (
            day,
            found,
            log.done.get(day, 0),
        )
    b = st.new_boot()
    assert b == log.boot + 1 or (log.booting and b == log.boot + 2), "boot counter went back"
    # still works: count on, roll over, reload
    r = Record("D", DAY2 + 5, 0)
    r.steps = 77
    st.checkpoint(r)
    st.close(r)
    st2 = store.Store(ROOT)
    assert st2.load() is None
    assert st2.set_aside == []
    assert [line(x) for x in st2.records()][-1] == line(r)
    assert st2.count() == len(got) + 1
    sf.unmount()
    return rec is not None


def main():
    image = base_image()
    history_lines = [line(sf.day_record(Record, 9000 + d)) for d in range(HISTORY)]
    # the scenario without a cut: count its writes
    dev = sf.RamFlash(NBLOCKS, image=image)
    log = Log()
    scenario(dev, log)
    total = dev.writes
    check(bytes(dev.buf), log, history_lines)
    exercised = 0
    cut_in = {}
    for k in range(1, total + 1):
        dev = sf.RamFlash(NBLOCKS, image=image, cut_at=k, torn=TORN)
        log = Log()
        try:
            scenario(dev, log)
            raise AssertionError("no power cut at write %d" % k)
        except OSError:
            if not dev.dead:
                raise
        # where the cut fell
        if log.booting:
            where = "new_boot"
        elif log.closing is not None:
            where = "close"
        elif DAY2 in log.done or log.closed:
            where = "checkpoint day 2"
        else:
            where = "checkpoint day 1"
        cut_in[where] = cut_in.get(where, 0) + 1
        sf.unmount()
        image_at_cut = bytes(dev.buf)
        try:
            check(image_at_cut, log, history_lines)
        except Exception as e:
            print("FAIL at k=%d (%s): %r" % (k, where, e))
            raise
        exercised += 1
    print(
        "RESULT "
        + json.dumps(
            {
                "history_days": HISTORY,
                "torn": TORN,
                "writes_in_scenario": total,
                "k_exercised": exercised,
                "cuts_by_phase": cut_in,
            }
        )
    )


main()

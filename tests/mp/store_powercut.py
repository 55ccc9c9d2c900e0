# Power cut at every write of a boot / checkpoints / rollover / checkpoints
# scenario, under the MicroPython unix port on littlefs (os.VfsLfs2) over an
# emulated Pico flash (4096-byte blocks, progsize 256).
#
#   micropython store_powercut.py FIRMWARE_DIR [HISTORY_DAYS] [torn] [format1|format2]
#
# The scenario is what the app does with the store in a day: load, count the
# boot, close the last boot's open record, checkpoint a new record, save it at a
# sync, close it at midnight (the close number goes to boot.txt, then the record
# to days.txt), checkpoint the next day's record. The records carry wear time
# and battery readings (format 3: the longest lines). With "format1" the flash
# starts with files of store format 1, which load() converts; with "format2",
# with files of format 2 (no wear, no readings: the upgrade to format 3), whose
# records must keep no wear data.
#
# For every k from 1 to the scenario's number of writes (writeblocks + erases):
# run the scenario on a copy of the starting image with the power cut at the
# k-th write (that write does not happen, nor any later one; with "torn" the
# k-th write is half done), then mount a copy of the image as it was at the cut
# (never formatting), load the store and check:
#   - load() succeeds and sets nothing aside
#   - every record closed before the cut is there, unchanged, in order; the
#     record being closed at the cut is there unchanged or still the open record
#   - the steps recovered for each record (open or closed copy) are >= its last
#     completed checkpoint's, and the open record is one of the records that
#     were checkpointed (never garbage)
#   - close numbers are never used twice: the next close takes a number above
#     every stored one, and the stored ones are distinct
#   - the boot counter never goes back, and the epoch stays
#   - the store keeps working: new_boot, checkpoint, close, load again
# Prints "RESULT {json}" with the figures.
import sys
import json

sys.path.insert(0, sys.argv[1])
import store
import store_flash as sf
from store import Record

HISTORY = int(sys.argv[2]) if len(sys.argv) > 2 else 30
TORN = "torn" in sys.argv[3:]
FORMAT1 = "format1" in sys.argv[3:]
FORMAT2 = "format2" in sys.argv[3:]
NBLOCKS = 64
ROOT = sf.MOUNT + "/data"
EPOCH = 4711
DAY1 = 9000 + HISTORY  # the day in progress at boot
DAY2 = DAY1 + 1  # the day after the rollover
CHECKPOINTS = 3
SYNCS = 2


def line0(r):
    # a record's line without its close number
    seq = r.seq
    r.seq = 0
    s = r.to_line()
    r.seq = seq
    return s


def _container(name, items, version=1):
    from binascii import crc32

    body = ("stepclip-%s %d\n" % (name, version) + "".join(x + "\n" for x in items)).encode()
    f = open(ROOT + "/" + name + ".txt", "wb")
    f.write(body + b"end %d %08x\n" % (len(items), crc32(body)))
    f.close()


def _v1(r):
    return "D %d 0 %d %d %d %s" % (r.day, r.steps, r.brisk, r.overruns, ",".join(str(h) for h in r.hourly))


def history():
    # the closed records before the scenario, and the open record of the last boot
    epoch = 0 if FORMAT1 else EPOCH
    boot = 0 if FORMAT1 else 1
    old = FORMAT1 or FORMAT2
    days = [sf.day_record(Record, 9000 + d, epoch=epoch, boot=boot, old=old) for d in range(HISTORY)]
    stray = sf.day_record(Record, DAY1, steps=50, epoch=epoch, boot=0 if FORMAT1 else 3, old=old)
    return days, stray


def base_image():
    dev = sf.RamFlash(NBLOCKS)
    sf.format(dev)
    sf.mount(dev)
    days, stray = history()
    st = store.Store(ROOT)
    if FORMAT1:
        _container("days", [_v1(r) for r in days])
        _container("today", [_v1(stray)])
        _container("boot", ["3"])
    elif FORMAT2:
        for i, r in enumerate(days):
            r.seq = i + 1  # closed under format 2: close numbers 1..HISTORY
        _container("days", [r.to_line() for r in days], 2)
        _container("today", [line0(stray)], 2)
        _container("boot", ["%d 3 %d" % (EPOCH, HISTORY)], 2)
    else:
        st.load()
        st.epoch, st.boot = EPOCH, 3
        for r in days:
            st.close(r)
        st.checkpoint(stray)
    sf.unmount()
    return bytes(dev.buf)


class Log:
    # what the scenario completed before the cut
    def __init__(self):
        days, stray = history()
        self.history = [line0(r) for r in days]
        self.closed = []  # lines (close number 0) of the closes that returned
        self.closing = None  # line of the close in progress
        self.done = {stray.ident(): 50}  # ident -> steps of the last completed checkpoint or close
        self.saved = [line0(stray)]  # checkpointed lines
        self.boot = 3  # last boot number that new_boot() returned
        self.booting = False
        self.phase = "load"


def new_record(epoch, boot, day):
    # a record the app starts: it measures wear time
    r = Record("D", epoch, boot, day)
    r.has_wear = True
    return r


def scenario(dev, log):
    sf.mount(dev)
    st = store.Store(ROOT)
    prev = st.load()
    log.phase = "new_boot"
    log.booting = True
    epoch, log.boot = st.new_boot()
    log.booting = False
    log.phase = "close at start"
    log.closing = line0(prev)
    st.close(prev)  # the last boot's record is final
    log.closed.append(log.closing)
    log.closing = None
    steps = 0
    r = new_record(epoch, log.boot, DAY1)
    for i in range(CHECKPOINTS + SYNCS):
        log.phase = "checkpoint day 1" if i < CHECKPOINTS else "save at a sync"
        steps += 250 + 10 * i
        r.steps = steps
        r.hourly[9] = i
        r.wear[9 + i] = 60
        r.battery[9 + i] = 3800 - i
        log.saved.append(line0(r))
        st.checkpoint(r)
        log.done[r.ident()] = steps
    # rollover: close the day, open the next
    log.phase = "close"
    r.steps = steps + 120
    log.closing = line0(r)
    log.saved.append(log.closing)
    st.close(r)
    log.closed.append(log.closing)
    log.closing = None
    log.done[r.ident()] = r.steps
    log.phase = "checkpoint day 2"
    steps = 0
    r = new_record(epoch, log.boot, DAY2)
    for i in range(CHECKPOINTS):
        steps += 300 + 7 * i
        r.steps = steps
        r.hourly[i % 24] = steps
        r.wear[i % 24] = 10 * i
        r.usb[i % 24] = 1
        log.saved.append(line0(r))
        st.checkpoint(r)
        log.done[r.ident()] = steps
    sf.unmount()


def check(image, log):
    dev = sf.RamFlash(NBLOCKS, image=image)  # a copy of the image at the cut
    sf.mount(dev)  # must mount: never format
    st = store.Store(ROOT)
    rec = st.load()
    assert st.set_aside == [], st.set_aside
    stored = list(st.records())
    got = [line0(x) for x in stored]
    want = log.history + log.closed
    if log.closing is not None and len(got) == len(want) + 1:
        want = want + [log.closing]
    assert got == want, "closed records lost or changed"
    if FORMAT1 or FORMAT2:  # records of older firmware never get wear data or readings
        for x in stored[:HISTORY] + ([rec] if rec is not None and rec.boot != log.boot else []):
            assert not x.has_wear and not x.has_power(), x
    assert st.count() == len(got)
    numbers = [x.seq for x in stored]
    assert 0 not in numbers and len(set(numbers)) == len(numbers), "close numbers %r" % numbers
    assert rec is None or line0(rec) in log.saved, "open record is not one that was saved"
    for ident, steps in log.done.items():
        found = 0
        if rec is not None and rec.ident() == ident:
            found = rec.steps
        for x in stored:
            if x.ident() == ident:
                found = x.steps
        assert found >= steps, "steps lost: %r has %d, its checkpoint had %d" % (ident, found, steps)
    epoch, b = st.new_boot()
    assert b == log.boot + 1 or (log.booting and b == log.boot + 2), "boot counter went back"
    assert FORMAT1 or epoch == EPOCH, "the epoch changed"
    # still works: count on, roll over, reload; the next close number is a new one
    r = Record("D", epoch, b, DAY2 + 5)
    r.steps = 77
    st.checkpoint(r)
    st.close(r)
    assert r.seq > max(numbers + [0]), "close number %d used again" % r.seq
    st2 = store.Store(ROOT)
    assert st2.load() is None
    assert st2.set_aside == []
    assert [x.to_line() for x in st2.records()][-1] == r.to_line()
    assert st2.count() == len(got) + 1
    sf.unmount()
    return rec is not None


def main():
    image = base_image()
    # the scenario without a cut: count its writes
    dev = sf.RamFlash(NBLOCKS, image=image)
    log = Log()
    scenario(dev, log)
    total = dev.writes
    check(bytes(dev.buf), log)
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
        where = "convert" if log.phase == "load" else log.phase
        cut_in[where] = cut_in.get(where, 0) + 1
        sf.unmount()
        image_at_cut = bytes(dev.buf)
        try:
            check(image_at_cut, log)
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
                "format1": FORMAT1,
                "format2": FORMAT2,
                "writes_in_scenario": total,
                "k_exercised": exercised,
                "cuts_by_phase": cut_in,
            }
        )
    )


main()

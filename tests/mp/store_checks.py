# Behaviour checks of firmware/store.py that run unchanged under CPython (pytest,
# on a tmp_path: tests/test_store.py) and under MicroPython (store_basic.py, on
# littlefs). Each check_* function takes the store module and an empty
# directory and raises AssertionError on a failure.
import os


def read(path):
    f = open(path, "rb")
    try:
        return f.read()
    finally:
        f.close()


def write(path, data):
    f = open(path, "wb")
    try:
        f.write(data)
    finally:
        f.close()


def names(root):
    return sorted(os.listdir(root))


def rec(store, kind, day, steps=0, epoch=5, boot=1, old=False):
    # a record as this firmware counts it (wear time, battery readings, USB
    # power), or as format 2 firmware did (old=True: none of them)
    r = store.Record(kind, epoch, boot, day)
    r.steps = steps
    r.brisk = steps // 500
    r.overruns = day % 2
    r.hourly[day % 24] = steps % 65536
    r.hourly[(day + 5) % 24] = 7
    if not old:
        r.has_wear = True
        r.wear[day % 24] = 60
        r.wear[(day + 5) % 24] = steps % 61
        r.battery[day % 24] = 3600 + day % 400
        r.usb[(day + 6) % 24] = 1
    return r


def lines(st, since=None):
    # the stored records without their close numbers
    out = []
    for r in st.records(since):
        r.seq = 0
        out.append(r.to_line())
    return out


def line0(r):
    # r's line with close number 0, as lines() shows stored records
    seq = r.seq
    r.seq = 0
    try:
        return r.to_line()
    finally:
        r.seq = seq


def seqs(st):
    return [r.seq for r in st.records()]


def raises(exc, fn, *args):
    try:
        fn(*args)
    except exc:
        return True
    raise AssertionError("%r did not raise %s" % (args, exc.__name__))


# --- 6. record round trip -------------------------------------------------------


def check_round_trip(store, root):
    Record = store.Record
    r = Record()
    assert (r.kind, r.epoch, r.boot, r.day, r.seq, r.steps, r.brisk, r.overruns) == ("D", 0, 0, 0, 0, 0, 0, 0)
    assert len(r.hourly) == 24 and sum(r.hourly) == 0
    r = Record("D", 517263511, 3, 9462)
    r.seq = 17
    r.steps = 5234
    r.brisk = 12
    r.hourly[2] = 12
    r.hourly[23] = 65535
    line = r.to_line()
    assert line == "D 517263511 3 9462 17 5234 12 0 0,0,12" + ",0" * 20 + ",65535", line
    assert "\n" not in line
    back = Record.from_line(line)
    assert back == r and back.to_line() == line
    assert Record.from_line(line + "\n") == r
    assert Record.from_line(line.encode()) == r
    assert r.ident() == ("D", 517263511, 3, 9462) and r.prefix() == b"D 517263511 3 9462 "
    assert r.last_second() == 9462 * 86400 + 23 * 3600
    u = Record("U", 1073741823, 1073741823, 3)
    for name in ("seq", "steps", "brisk", "overruns"):
        setattr(u, name, 1073741823)  # the largest field value (< 2**30, a Pico small int)
    for i in range(24):
        u.hourly[i] = 65535
    line = u.to_line()
    assert len(line) <= 233
    back = Record.from_line(line)
    assert back == u and back.kind == "U" and back.boot == 1073741823 and back.day == 3
    assert list(back.hourly) == [65535] * 24
    # format 1 lines read as records of epoch 0: a dated day of boot 0, an uptime day of its boot
    old = Record.from_line("D 9462 0 5234 12 0 " + ",".join(["1"] * 24), 1)
    assert old.ident() == ("D", 0, 0, 9462) and old.steps == 5234 and old.seq == 0
    old = Record.from_line("U 7 2 40 0 1 " + ",".join(["2"] * 24), 1)
    assert old.ident() == ("U", 0, 7, 2) and old.overruns == 1
    raises(ValueError, Record.from_line, "D 9462 1 5234 12 0 " + ",".join(["1"] * 24), 1)
    raises(ValueError, Record.from_line, "D 9462 0 5234 12 0 " + ",".join(["1"] * 24))  # format 1 is not 2

    # format 3: wear time, battery readings and USB power per hour, all at their maximum
    for i in range(24):
        u.wear[i] = 60
        u.battery[i] = 9999
        u.usb[i] = 1
    u.has_wear = True
    line = u.to_line()
    assert len(line) == 470 and len(line) + 1 <= store._MAX_LINE, len(line)  # 479 with a 10-digit day
    assert line.endswith(" wear=" + ",".join(["60"] * 24) + " battery=" + ",".join(["9999"] * 24) + " usb=" + ",".join(["1"] * 24))
    back = Record.from_line(line)
    assert back == u and back.has_wear and list(back.wear) == [60] * 24 and list(back.usb) == [1] * 24
    # each optional field alone
    r = Record("D", 5, 1, 9462)
    r.steps = 312
    r.hourly[9] = 312
    base = r.to_line()
    assert not r.has_wear and base == "D 5 1 9462 0 312 0 0 " + ",".join(["0"] * 9 + ["312"] + ["0"] * 14)
    r.has_wear = True  # worn for no minute at all: "not worn", not "no wear data"
    assert r.to_line() == base + " wear=" + ",".join(["0"] * 24)
    assert Record.from_line(r.to_line()).has_wear and Record.from_line(r.to_line()) == r
    r.has_wear = False
    r.wear[3] = 10  # wear of a record without wear data is never written
    r.battery[9] = 3712
    assert r.to_line() == base + " battery=" + ",".join(["0"] * 9 + ["3712"] + ["0"] * 14) + " usb=" + ",".join(["0"] * 24)
    back = Record.from_line(r.to_line())
    assert back == r and not back.has_wear and back.battery[9] == 3712
    r.battery[9] = 0
    r.usb[23] = 1  # on USB all hour: no battery reading, USB power
    assert r.to_line().endswith(" battery=" + ",".join(["0"] * 24) + " usb=" + ",".join(["0"] * 23 + ["1"]))
    assert Record.from_line(r.to_line()) == r
    # a line of format 2 is a record without wear data and without readings, in format 2 and 3 files
    old = Record.from_line(base, 2)
    assert not old.has_wear and not old.has_power() and old.to_line() == base
    assert Record.from_line(base) == old
    raises(ValueError, Record.from_line, base + " wear=" + ",".join(["0"] * 24), 2)  # format 2 had no such field

    good = "D 5 1 9462 3 5234 12 0 " + ",".join(["1"] * 24)
    Record.from_line(good)
    wear = " wear=" + ",".join(["30"] * 24)
    battery = " battery=" + ",".join(["3700"] * 24)
    usb = " usb=" + ",".join(["0"] * 24)
    for extra in (wear, wear + battery + usb, battery + usb):
        assert Record.from_line(good + extra).to_line() == good + extra
    bad = [
        good + wear.replace("30", "61", 1),
        good + " wear=" + ",".join(["30"] * 23),
        good + " wear=" + ",".join(["30"] * 25),
        good + " wear=",
        good + " wear=" + ",".join(["30"] * 23) + ",-1",
        good + wear + wear,
        good + battery,  # without usb
        good + usb,  # without battery
        good + usb + battery,
        good + battery + usb + wear,  # out of order
        good + battery.replace("3700", "10000", 1) + usb,
        good + battery + usb.replace("0", "2", 1),
        good + " battery=" + ",".join(["0"] * 24) + usb,  # no reading: the fields are not written
        good + " foo=1",
        good + wear + " foo=1",
        good + "  wear=" + ",".join(["30"] * 24),
        good + " Wear=" + ",".join(["30"] * 24),
        good + wear + battery + usb + " ",
    ]
    for b in bad:
        raises(ValueError, Record.from_line, b)
    bad = [
        "",
        "\n",
        "D",
        "D 5 1 9462 3 5234 12 0",
        good + " ",
        " " + good,
        good.replace(" ", "  ", 1),
        good.replace(" ", "\t", 1),
        good + "\r\n",
        good + "\n\n",
        "X" + good[1:],
        "DD" + good[1:],
        "d" + good[1:],
        good.replace("9462", "-1"),
        good.replace("9462", "+9462"),
        good.replace("9462", "94_62"),
        good.replace("9462", "0x10"),
        good.replace("9462", "9.5"),
        good.replace("9462", ""),
        good.replace("9462", "\u0663"),  # an Arabic-Indic digit
        good.replace("5234", "1073741824"),  # 2**30
        good.replace("5234", "99999999999"),
        good.replace("D 5 ", "D -5 "),
        good.replace("D 5 1 ", "D 5 x "),
        "D 5 1 9462 3 5234 12 0 " + ",".join(["1"] * 23),
        "D 5 1 9462 3 5234 12 0 " + ",".join(["1"] * 25),
        "D 5 1 9462 3 5234 12 0 " + ",".join(["1"] * 23) + ",",
        "D 5 1 9462 3 5234 12 0 " + ",".join(["1"] * 23) + ",65536",
        "D 5 1 9462 3 5234 12 0 " + ",".join(["1"] * 22) + ",,1",
        "stepclip-days 2",
        "end 1 00000000",
        "D 5 1 9462 3 5234 12 0 " + ",".join(["1"] * 24) + " 5",
    ]
    for b in bad:
        raises(ValueError, Record.from_line, b)
    raises(ValueError, Record.from_line, b"\xff\xfe garbage")
    raises(ValueError, Record.from_line, None)
    raises(ValueError, Record.from_line, 5)
    # to_line never writes a line that would not read back
    for kind, epoch, day, steps in (("X", 1, 0, 0), ("D", -1, 2, 0), ("D", 1, -1, 0), ("U", 1, 0, 1 << 30)):
        r = Record(kind, epoch, 1, day)
        r.steps = steps
        raises(ValueError, r.to_line)
    e = store.new_epoch()
    assert 1 <= e < 1 << 30
    return len(bad) + 3


# --- basic behaviour ------------------------------------------------------------


def check_basic(store, root):
    st = store.Store(root + "/data/sub")  # created with its parents
    assert st.load() is None and st.set_aside == []
    assert st.count() == 0 and lines(st) == []
    epoch, boot = st.new_boot()
    assert boot == 1 and 1 <= epoch < 1 << 30
    assert st.new_boot() == (epoch, 2)
    assert store.Store(root + "/data/sub").new_boot() == (epoch, 3)  # persisted, the epoch kept
    d = root + "/data/sub"
    r = rec(store, "D", 9000, steps=100)
    st.checkpoint(r)
    r.steps = 250
    st.checkpoint(r)
    st2 = store.Store(d)
    got = st2.load()
    assert got == r and got.steps == 250
    assert st2.newest == 9000 * 86400 + (9000 + 5) % 24 * 3600  # the last hour with steps
    st2.new_boot()
    st2.close(got)
    assert got.seq == 1 and st2.seq == 1
    assert store.Store(d).load() is None  # today.txt holds the closed record: the closed copy wins
    assert lines(st2) == [line0(r)]
    # the next day, then a re-close of the first: replaced in place with the next close number
    r2 = rec(store, "D", 9001, steps=300)
    st2.close(r2)
    r.steps = 260
    st2.close(r)
    assert lines(st2) == [line0(r), line0(r2)] and seqs(st2) == [3, 2]
    assert st2.count() == 2
    # records of other boots of the same day are other records
    other = rec(store, "D", 9001, steps=30, boot=2)
    st2.close(other)
    assert lines(st2) == [line0(r), line0(r2), line0(other)]
    # U records (clock unset)
    u = rec(store, "U", 0, steps=40, boot=3)
    st2.checkpoint(u)
    assert store.Store(d).load() == u
    st2.close(u)
    assert lines(st2) == [line0(r), line0(r2), line0(other), line0(u)]
    assert seqs(st2) == [3, 2, 4, 5]
    # records(since): the closes after a close number; records(day=): a date's records of every boot
    assert lines(st2, 3) == [line0(other), line0(u)]
    assert [line0(x) for x in st2.records(day=9001)] == [line0(r2), line0(other)]
    assert [line0(x) for x in st2.records(day=0)] == []  # an uptime record's day is not a date
    assert lines(st2, 4) == [line0(u)] and lines(st2, 5) == [] and len(lines(st2, 0)) == 4
    # close numbers survive a restart (days.txt and boot.txt both hold them)
    st3 = store.Store(d)
    assert st3.load() is None and st3.seq == 5
    # stray temp files (power cut while writing them) are removed by load()
    for n in ("days.tmp", "today.tmp", "boot.tmp"):
        write(d + "/" + n, b"half a fil")
    st3 = store.Store(d)
    assert st3.load() is None and st3.set_aside == []
    assert names(d) == ["boot.txt", "days.txt", "today.txt"]
    assert lines(st3) == [line0(r), line0(r2), line0(other), line0(u)]
    assert st3.new_boot() == (epoch, 5) and st3.seq == 5
    # power cut between closing a record and saving the next: the closed copy wins
    r3 = rec(store, "D", 9002, steps=500)
    st3.checkpoint(r3)
    r3.steps = 520
    st3.close(r3)
    st4 = store.Store(d)
    assert st4.load() is None
    assert lines(st4)[-1] == line0(r3) and st4.count() == 5
    # an open record resumed from a closed day (the clock was set back onto it)
    # has more steps than the closed copy: after a cut it is the one kept
    r3.steps = 600
    st4.checkpoint(r3)
    st4b = store.Store(d)
    resumed = st4b.load()
    assert resumed is not None and resumed.steps == 600
    st4b.new_boot()
    st4b.close(resumed)
    assert lines(st4b)[-1] == line0(resumed) and st4b.count() == 5
    # the boot file: epoch, boot, last close number
    assert read(d + "/boot.txt").startswith(b"stepclip-boot 3\n%d 6 7\nend 1 " % epoch)
    # erase removes the records and starts a new epoch; boot and close numbers go on
    st4b.checkpoint(r3)
    st4b.erase()
    assert st4b.epoch != epoch and st4b.count() == 0 and lines(st4b) == []
    st5 = store.Store(d)
    assert st5.load() is None and st5.count() == 0
    assert st5.new_boot() == (st4b.epoch, 7) and st5.seq == 7
    assert names(d) == ["boot.txt"]
    # the file format
    st5.close(r2)
    data = read(d + "/days.txt")
    text = data.decode()
    assert text.startswith("stepclip-days 3\n" + r2.to_line() + "\n") and r2.seq == 8
    assert " wear=" in r2.to_line() and " battery=" in r2.to_line()
    trailer = text.split("\n")[-2]
    assert text.endswith("\n") and trailer.startswith("end 1 ")
    from binascii import crc32

    assert trailer == "end 1 %08x" % crc32(data[: len(data) - len(trailer) - 1])
    # a record that does not fit the format is refused before any file changes
    bad = store.Record("D", 5, 1, 9003)
    bad.steps = -5
    raises(ValueError, st5.close, bad)
    raises(ValueError, st5.checkpoint, bad)
    assert read(d + "/days.txt") == data and st5.seq == 8


def check_format_1(store, root):
    # files written by format 1 firmware: read, the history rewritten as format 3
    from binascii import crc32

    def container(name, items):
        body = ("stepclip-%s 1\n" % name + "".join(x + "\n" for x in items)).encode()
        write(root + "/" + name + ".txt", body + b"end %d %08x\n" % (len(items), crc32(body)))

    hours = ",".join(["0"] * 9 + ["100"] + ["0"] * 14)
    container("days", ["D 9000 0 100 1 0 " + hours, "U 6 0 40 0 0 " + ",".join(["40"] + ["0"] * 23), "D 9001 0 100 0 2 " + hours])
    container("today", ["D 9002 0 100 0 0 " + hours])
    container("boot", ["7"])
    st = store.Store(root)
    got = st.load()
    assert got.ident() == ("D", 0, 0, 9002) and got.steps == 100 and st.set_aside == []
    assert read(root + "/days.txt").startswith(b"stepclip-days 3\n")
    recs = list(st.records())
    assert not got.has_wear and not any(r.has_wear or r.has_power() for r in recs)  # no wear data, ever
    assert [r.ident() for r in recs] == [("D", 0, 0, 9000), ("U", 0, 6, 0), ("D", 0, 0, 9001)]
    assert [r.seq for r in recs] == [1, 2, 3] and st.seq == 3
    assert recs[2].overruns == 2 and recs[0].brisk == 1
    epoch, boot = st.new_boot()  # the counter goes on, under a new epoch
    assert boot == 8 and epoch != 0
    st.close(got)
    assert got.seq == 4 and len(list(st.records(3))) == 1
    st2 = store.Store(root)
    assert st2.load() is None and st2.new_boot() == (epoch, 9)


def check_format_2(store, root):
    # files written by format 2 firmware (0.2.0, before wear time and battery
    # readings): read as they are; their records have no wear data, for good
    from binascii import crc32

    def container(name, items):
        body = ("stepclip-%s 2\n" % name + "".join(x + "\n" for x in items)).encode()
        write(root + "/" + name + ".txt", body + b"end %d %08x\n" % (len(items), crc32(body)))

    hours = ",".join(["0"] * 9 + ["100"] + ["0"] * 14)
    old_days = ["D 77 1 9000 1 100 1 0 " + hours, "U 77 2 0 2 40 0 0 " + ",".join(["40"] + ["0"] * 23)]
    container("days", old_days)
    container("today", ["D 77 3 9001 0 100 0 0 " + hours])
    container("boot", ["77 3 2"])
    st = store.Store(root)
    got = st.load()
    assert got.ident() == ("D", 77, 3, 9001) and not got.has_wear and not got.has_power()
    assert st.set_aside == [] and st.seq == 2
    assert read(root + "/days.txt").startswith(b"stepclip-days 2\n")  # left as it is until the next close
    assert [r.to_line() for r in st.records()] == old_days
    assert st.new_boot() == (77, 4)
    st.close(got)  # the upgrade: the last boot's record is closed as it was, without wear
    new = rec(store, "D", 9001, steps=50, epoch=77, boot=4)
    st.close(new)
    data = read(root + "/days.txt").decode()
    want = old_days + ["D 77 3 9001 3 100 0 0 " + hours, new.to_line()]
    assert data.startswith("stepclip-days 3\n" + "\n".join(want) + "\nend 4 "), data
    st2 = store.Store(root)
    assert st2.load() is None and st2.set_aside == []
    recs = list(st2.records(day=9001))
    assert [(r.boot, r.has_wear) for r in recs] == [(3, False), (4, True)]
    # today.txt and boot.txt are written in format 3 too
    st2.new_boot()
    st2.checkpoint(recs[0])
    assert read(root + "/today.txt").startswith(b"stepclip-today 3\n" + want[2].encode())
    assert read(root + "/boot.txt").startswith(b"stepclip-boot 3\n77 5 4\n")


def check_room(store, root):
    # before days.txt is rewritten, the oldest records go if the new file would not fit
    st = store.Store(root)
    st.load()
    st.new_boot()
    for i in range(40):
        st.close(rec(store, "D", 9000 + i, steps=1000 + i))
    size = len(read(root + "/days.txt"))
    real = store._free_bytes
    try:
        store._free_bytes = lambda path: size // 2 + store._SPARE  # room for about half of it
        st.close(rec(store, "D", 9100, steps=5))
    finally:
        store._free_bytes = real
    kept = [r.day for r in st.records()]
    assert kept[-1] == 9100 and 15 <= len(kept) <= 22, kept
    assert kept[:-1] == list(range(9040 - len(kept) + 1, 9040))  # the oldest went
    assert st.dropped == 41 - len(kept)
    assert len(read(root + "/days.txt")) <= size // 2 + 200


# --- 3. storage full --------------------------------------------------------------


def check_storage_full(store, root):
    kept = store.config.DAYS_KEPT
    assert kept >= 365
    st = store.Store(root)
    st.load()
    st.new_boot()
    closed = []
    day = 9000
    total = kept + 25
    for i in range(total):
        if i % 50 == 7:  # some days counted with the clock unset
            r = rec(store, "U", i % 3, steps=i, boot=i)
        else:
            r = rec(store, "D", day, steps=1000 + i)
            day += 1
        st.checkpoint(r)
        st.close(r)
        assert r.seq == i + 1
        r.seq = 0
        closed.append(r.to_line())
        assert st.count() == min(i + 1, kept)
    want = closed[-kept:]  # oldest dropped first
    assert lines(st) == want
    st2 = store.Store(root)
    assert st2.load() is None and st2.set_aside == []
    assert st2.count() == kept and lines(st2) == want
    # records(since): the closes after close number since (close i has number i + 1)
    for since in (0, 24, 25, 100, total - 1, total, total + 10):
        assert lines(st2, since) == want[max(0, since - (total - kept)) :], since
    # a re-closed day stays in its place, with a new close number; the store does not grow
    first = store.Record.from_line(want[0])
    first.steps += 1
    st2.close(first)
    assert st2.count() == kept and first.seq == total + 1
    first.seq = 0
    assert lines(st2) == [line0(first)] + want[1:]
    assert lines(st2, total) == [line0(first)]
    # one more new day drops the oldest, which is that record
    r = rec(store, "D", day, steps=1)
    st2.close(r)
    r.seq = 0
    assert lines(st2) == want[1:] + [line0(r)]
    return kept


# --- 4. unreadable files ----------------------------------------------------------


def _good_days(store, d, n):
    st = store.Store(d)
    st.load()
    for i in range(n):
        st.close(rec(store, "D", 9000 + i, steps=100 + i))
    return read(d + "/days.txt")


def _corrupt_cases(good):
    # name -> bytes of an unreadable days.txt
    text = good.decode()
    version4 = text.replace("stepclip-days 3\n", "stepclip-days 4\n", 1).encode()
    i = text.index("D 5 1 9001 2 101 ")
    flipped = (text[:i] + "D 5 1 9001 2 701 " + text[i + 17 :]).encode()  # CRC mismatch
    garbage = bytes([(i * 37 + 11) % 256 for i in range(3000)])
    body = text[: text.index("end ")]
    extra = (text + "D 5 1 9100 9 1 0 0 " + ",".join(["0"] * 24) + "\n").encode()
    from binascii import crc32

    # a CRC-valid container with a line that is not a record
    badline_body = body + "D 5 1 9100 9 -1 0 0 0\n"
    badline = (badline_body + "end %d %08x\n" % (body.count("\n"), crc32(badline_body.encode()))).encode()
    return [
        ("future version", version4),
        ("crc mismatch", flipped),
        ("truncated in a record", good[: len(good) // 2]),
        ("truncated before the trailer", body.encode()),
        ("truncated in the trailer", good[:-3]),
        ("no final newline", good[:-1]),
        ("binary garbage", garbage),
        ("zeros", bytes(4096)),
        ("erased flash", b"\xff" * 4096),
        ("empty", b""),
        ("wrong count", good.replace(b"end 5 ", b"end 4 ")),
        ("data after the trailer", extra),
        ("bad line, valid crc", badline),
        ("other header", good.replace(b"stepclip-days", b"stepclip-today", 1)),
    ]


def check_unreadable(store, root):
    # every kind of damage to days.txt: set aside with its content kept, load()
    # works, new records save
    good = _good_days(store, root + "/ref", 5)
    cases = _corrupt_cases(good)
    for i, (what, data) in enumerate(cases):
        d = root + "/c%d" % i
        st = store.Store(d)
        write(d + "/days.txt", data)
        today = rec(store, "D", 9010, steps=42)
        st.checkpoint(today)
        st2 = store.Store(d)
        got = st2.load()
        assert st2.set_aside == ["days.txt.bad1"], (what, st2.set_aside)
        assert read(d + "/days.txt.bad1") == data, what  # content preserved
        assert got == today, what  # the open record survives
        assert st2.count() == 0 and lines(st2) == [], what
        st2.close(got)  # keeps counting with a fresh file
        st3 = store.Store(d)
        assert st3.load() is None and st3.set_aside == [], what
        assert lines(st3) == [line0(today)], what
        assert read(d + "/days.txt.bad1") == data, what
    # a second bad file gets the next name; nothing is ever overwritten
    d = root + "/c0"
    write(d + "/days.txt", b"junk\n")
    st = store.Store(d)
    st.load()
    assert st.set_aside == ["days.txt.bad2"]
    assert read(d + "/days.txt.bad2") == b"junk\n"
    assert read(d + "/days.txt.bad1") == cases[0][1]
    # an unreadable open record: set aside, load() returns None, history kept
    d = root + "/t"
    _good_days(store, d, 3)
    st = store.Store(d)
    st.checkpoint(rec(store, "D", 9010, steps=42))
    t = read(d + "/today.txt")
    for what, data in (
        ("crc", t.replace(b" 42 ", b" 43 ")),
        ("truncated", t[:-5]),
        ("future", t.replace(b"stepclip-today 3", b"stepclip-today 9")),
        ("garbage", bytes(range(256))),
        ("two records", _two_records(store, t)),
    ):
        write(d + "/today.txt", data)
        st = store.Store(d)
        assert st.load() is None, what
        assert len(st.set_aside) == 1 and st.set_aside[0].startswith("today.txt.bad"), what
        assert read(d + "/" + st.set_aside[0]) == data
        assert st.count() == 3
        r = rec(store, "D", 9011, steps=5)
        st.checkpoint(r)
        assert store.Store(d).load() == r
    # an unreadable boot counter: set aside; a new epoch starts, so that boot
    # numbers that start again never repeat a record's key; close numbers go on
    d = root + "/b"
    st = store.Store(d)
    st.load()
    epoch, boot = st.new_boot()
    assert boot == 1
    st.close(rec(store, "U", 0, steps=3, epoch=epoch, boot=1))
    write(d + "/boot.txt", b"\x00garbage")
    st = store.Store(d)
    st.load()
    epoch2, boot = st.new_boot()
    assert boot == 1 and epoch2 != epoch and st.seq == 1
    assert st.set_aside == ["boot.txt.bad1"]
    assert read(d + "/boot.txt.bad1") == b"\x00garbage"
    assert store.Store(d).new_boot() == (epoch2, 2)
    return len(cases)


def _two_records(store, t):
    from binascii import crc32

    body = t[: t.index(b"end ")]
    i = body.index(b"\n") + 1
    body = body + body[i:]
    return body + b"end 2 %08x\n" % crc32(body)


CHECKS = ("check_round_trip", "check_basic", "check_format_1", "check_format_2", "check_room", "check_storage_full",
          "check_unreadable")

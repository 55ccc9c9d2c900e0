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


def rec(store, kind, key, sub=0, steps=0):
    r = store.Record(kind, key, sub)
    r.steps = steps
    r.brisk = steps // 500
    r.overruns = key % 2
    r.hourly[key % 24] = steps % 65536
    r.hourly[(key + 5) % 24] = 7
    return r


def lines(st, since=None):
    return [r.to_line() for r in st.records(since)]


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
    assert (r.kind, r.key, r.sub, r.steps, r.brisk, r.overruns) == ("D", 0, 0, 0, 0, 0)
    assert len(r.hourly) == 24 and sum(r.hourly) == 0
    r = Record("D", 9462)
    r.steps = 5234
    r.brisk = 12
    r.hourly[2] = 12
    r.hourly[23] = 65535
    line = r.to_line()
    assert line == "D 9462 0 5234 12 0 0,0,12" + ",0" * 20 + ",65535", line
    assert "\n" not in line
    back = Record.from_line(line)
    assert back == r and back.to_line() == line
    assert Record.from_line(line + "\n") == r
    assert Record.from_line(line.encode()) == r
    u = Record("U", 17, 3)
    u.steps = 1073741823  # the largest field value (< 2**30, a Pico small int)
    u.brisk = 1073741823
    u.overruns = 1073741823
    for i in range(24):
        u.hourly[i] = 65535
    line = u.to_line()
    assert len(line) <= 200
    back = Record.from_line(line)
    assert back == u and back.kind == "U" and back.key == 17 and back.sub == 3
    assert list(back.hourly) == [65535] * 24

    good = "D 9462 0 5234 12 0 " + ",".join(["1"] * 24)
    Record.from_line(good)
    bad = [
        "",
        "\n",
        "D",
        "D 9462 0 5234 12 0",
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
        good.replace("D 9462 0", "D 9462 1"),  # a dated day has sub 0
        "D 9462 0 5234 12 0 " + ",".join(["1"] * 23),
        "D 9462 0 5234 12 0 " + ",".join(["1"] * 25),
        "D 9462 0 5234 12 0 " + ",".join(["1"] * 23) + ",",
        "D 9462 0 5234 12 0 " + ",".join(["1"] * 23) + ",65536",
        "D 9462 0 5234 12 0 " + ",".join(["1"] * 22) + ",,1",
        "stepclip-days 1",
        "end 1 00000000",
        "D 9462 0 5234 12 0 " + ",".join(["1"] * 24) + " 5",
    ]
    for b in bad:
        raises(ValueError, Record.from_line, b)
    raises(ValueError, Record.from_line, b"\xff\xfe garbage")
    raises(ValueError, Record.from_line, None)
    raises(ValueError, Record.from_line, 5)
    # to_line never writes a line that would not read back
    for kind, key, sub, steps in (("X", 1, 0, 0), ("D", 1, 2, 0), ("D", -1, 0, 0), ("U", 1, 0, 1 << 30)):
        r = Record(kind, key, sub)
        r.steps = steps
        raises(ValueError, r.to_line)
    return len(bad) + 3


# --- basic behaviour ------------------------------------------------------------


def check_basic(store, root):
    st = store.Store(root + "/data/sub")  # created with its parents
    assert st.load() is None and st.set_aside == []
    assert st.count() == 0 and lines(st) == []
    assert st.new_boot() == 1
    assert st.new_boot() == 2
    assert store.Store(root + "/data/sub").new_boot() == 3  # persisted
    d = root + "/data/sub"
    r = rec(store, "D", 9000, steps=100)
    st.checkpoint(r)
    r.steps = 250
    st.checkpoint(r)
    st2 = store.Store(d)
    got = st2.load()
    assert got == r and got.steps == 250
    st2.close(got)
    assert "today.txt" not in names(d)
    assert store.Store(d).load() is None
    assert lines(st2) == [r.to_line()]
    # the next day, then a re-close of the first: replaced in place, no duplicate
    r2 = rec(store, "D", 9001, steps=300)
    st2.close(r2)
    r.steps = 260
    st2.close(r)
    assert lines(st2) == [r.to_line(), r2.to_line()]
    assert st2.count() == 2
    # U records (clock unset)
    u = rec(store, "U", 3, 0, steps=40)
    st2.checkpoint(u)
    assert store.Store(d).load() == u
    st2.close(u)
    assert lines(st2) == [r.to_line(), r2.to_line(), u.to_line()]
    assert lines(st2, 9001) == [r2.to_line(), u.to_line()]
    assert lines(st2, 9002) == [u.to_line()]
    # stray temp files (power cut while writing them) are removed by load()
    for n in ("days.tmp", "today.tmp", "boot.tmp"):
        write(d + "/" + n, b"half a fil")
    st3 = store.Store(d)
    assert st3.load() is None and st3.set_aside == []
    assert names(d) == ["boot.txt", "days.txt"]
    assert lines(st3) == [r.to_line(), r2.to_line(), u.to_line()]
    # power cut between closing a day and removing the open record: the closed
    # copy wins, load() returns None and clears the open record
    r3 = rec(store, "D", 9002, steps=500)
    st3.checkpoint(r3)
    today = read(d + "/today.txt")
    r3.steps = 520
    st3.close(r3)
    write(d + "/today.txt", today)  # as if the remove had not happened
    st4 = store.Store(d)
    assert st4.load() is None
    assert "today.txt" not in names(d)
    assert lines(st4)[-1] == r3.to_line() and st4.count() == 4
    # an open record resumed from a closed day (the clock was set back onto it)
    # has more steps than the closed copy: after a cut it is the one kept
    r3.steps = 600
    st4.checkpoint(r3)
    st4b = store.Store(d)
    resumed = st4b.load()
    assert resumed is not None and resumed.steps == 600
    st4b.close(resumed)
    assert lines(st4b)[-1] == resumed.to_line() and st4b.count() == 4
    # erase keeps the boot counter
    st4.checkpoint(r3)
    st4.erase()
    assert st4.count() == 0 and lines(st4) == []
    st5 = store.Store(d)
    assert st5.load() is None and st5.count() == 0
    assert st5.new_boot() == 4
    assert names(d) == ["boot.txt"]
    # the file format
    st5.close(r2)
    data = read(d + "/days.txt")
    text = data.decode()
    assert text.startswith("stepclip-days 1\n" + r2.to_line() + "\n")
    trailer = text.split("\n")[-2]
    assert text.endswith("\n") and trailer.startswith("end 1 ")
    from binascii import crc32

    assert trailer == "end 1 %08x" % crc32(data[: len(data) - len(trailer) - 1])
    assert read(d + "/boot.txt").startswith(b"stepclip-boot 1\n4\nend 1 ")
    # a record that does not fit the format is refused before any file changes
    bad = store.Record("D", 9003)
    bad.steps = -5
    raises(ValueError, st5.close, bad)
    raises(ValueError, st5.checkpoint, bad)
    assert read(d + "/days.txt") == data


# --- 3. storage full --------------------------------------------------------------


def check_storage_full(store, root):
    kept = store.config.DAYS_KEPT
    assert kept >= 365
    st = store.Store(root)
    st.load()
    closed = []
    day = 9000
    total = kept + 25
    for i in range(total):
        if i % 50 == 7:  # some days counted with the clock unset
            r = rec(store, "U", i, i % 3, steps=i)
        else:
            r = rec(store, "D", day, steps=1000 + i)
            day += 1
        st.checkpoint(r)
        st.close(r)
        closed.append(r.to_line())
        assert st.count() == min(i + 1, kept)
    want = closed[-kept:]  # oldest dropped first
    assert lines(st) == want
    st2 = store.Store(root)
    assert st2.load() is None and st2.set_aside == []
    assert st2.count() == kept and lines(st2) == want
    # records(since_day): dated days from since_day on, and every U record
    for since in (0, 9000, 9030, day - 100, day - 1, day, day + 10):
        exp = []
        for line in want:
            r = store.Record.from_line(line)
            if r.kind == "U" or r.key >= since:
                exp.append(line)
        assert lines(st2, since) == exp, since
    # a re-closed day stays in its place; the store does not grow
    first = store.Record.from_line(want[0])
    first.steps += 1
    st2.close(first)
    assert st2.count() == kept
    assert lines(st2) == [first.to_line()] + want[1:]
    # one more new day drops the oldest, which is that record
    r = rec(store, "D", day, steps=1)
    st2.close(r)
    assert lines(st2) == want[1:] + [r.to_line()]
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
    version2 = text.replace("stepclip-days 1\n", "stepclip-days 2\n", 1).encode()
    i = text.index("D 9001 0 101 ")
    flipped = (text[:i] + "D 9001 0 701 " + text[i + 13 :]).encode()  # CRC mismatch
    garbage = bytes([(i * 37 + 11) % 256 for i in range(3000)])
    body = text[: text.index("end ")]
    extra = (text + "D 9100 0 1 0 0 " + ",".join(["0"] * 24) + "\n").encode()
    from binascii import crc32

    # a CRC-valid container with a line that is not a record
    badline_body = body + "D 9100 0 -1 0 0 0\n"
    badline = (badline_body + "end %d %08x\n" % (body.count("\n"), crc32(badline_body.encode()))).encode()
    return [
        ("future version", version2),
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
        assert lines(st3) == [today.to_line()], what
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
        ("future", t.replace(b"stepclip-today 1", b"stepclip-today 9")),
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
    # an unreadable boot counter: set aside; boot ids continue above every
    # boot id in use, so "U" records never share a key
    d = root + "/b"
    st = store.Store(d)
    st.load()
    assert st.new_boot() == 1
    st.close(rec(store, "U", 7, 0, steps=3))
    st.checkpoint(rec(store, "U", 9, 1, steps=3))
    write(d + "/boot.txt", b"\x00garbage")
    st = store.Store(d)
    assert st.new_boot() == 10
    assert st.set_aside == ["boot.txt.bad1"]
    assert read(d + "/boot.txt.bad1") == b"\x00garbage"
    assert store.Store(d).new_boot() == 11
    return len(cases)


def _two_records(store, t):
    from binascii import crc32

    body = t[: t.index(b"end ")]
    i = body.index(b"\n") + 1
    body = body + body[i:]
    return body + b"end 2 %08x\n" % crc32(body)


CHECKS = ("check_round_trip", "check_basic", "check_storage_full", "check_unreadable")

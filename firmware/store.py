# stepclip day records on the flash filesystem (littlefs on the Pico).
#
# The same file runs under MicroPython on the device and under CPython on the
# host (on a normal directory). It uses only os (stat, rename, remove, mkdir),
# binascii.crc32 and array.
#
# Files in the store directory (config.DATA_DIR on the device):
#   days.txt   closed records, oldest first (at most config.DAYS_KEPT)
#   today.txt  the open record, saved by checkpoint()
#   boot.txt   the boot counter
# All three share one container format, text with "\n" line ends:
#   stepclip-<name> <version>        header: name and format version (1)
#   <item>                           one line per item
#   end <count> <crc>                trailer: item count, CRC-32 (binascii.crc32,
#                                    8 lowercase hex digits) of all bytes before it
# A record line (Record.to_line) is
#   <kind> <key> <sub> <steps> <brisk> <overruns> <h0>,<h1>,...,<h23>
# e.g. "D 9462 0 5234 12 0 0,0,0,0,0,0,0,312,...". The boot file holds one item,
# the last boot id.
#
# Every update writes <name>.tmp, closes it and renames it over <name>.txt
# (atomic on littlefs), so a power cut leaves either the old or the new file. A
# file that fails the checks (wrong name, unknown version, bad line, missing or
# wrong trailer, bytes after it) is set aside as <name>.txt.bad<n> and never
# deleted; the store carries on with a fresh file. Files are read a line at a
# time (lines are at most _MAX_LINE bytes), so RAM use does not depend on the
# number of stored days.

import os
from array import array
from binascii import crc32

if "." in __name__:  # host: imported as stepclip_firmware.store
    from . import config
else:  # device, or firmware/ on sys.path
    import config

VERSION = 1
DAYS = "days"
TODAY = "today"
BOOT = "boot"
_NAMES = (DAYS, TODAY, BOOT)
_MAX_LINE = 256  # longest valid line is 201 bytes (all fields at their maximum)
_MAX_INT = 0x3FFFFFFF  # fields stay small ints on the Pico (< 2**30)
_MAX_HOUR = 0xFFFF  # array("H")
_ENOENT = 2
_replace = getattr(os, "replace", os.rename)  # CPython on Windows needs replace
_fsync = getattr(os, "fsync", None)  # CPython only; littlefs commits on close


class Record:
    # kind "D": a dated day, key = days since 2000-01-01, sub = 0
    # kind "U": counted while the clock was unset: key = boot id, sub = uptime day
    #           (0 = the first 24 h after that boot)
    def __init__(self, kind="D", key=0, sub=0):
        self.kind = kind
        self.key = key
        self.sub = sub
        self.steps = 0
        self.brisk = 0  # brisk minutes
        self.overruns = 0  # FIFO overruns
        self.hourly = array("H", bytes(48))  # 24 zeros: steps per hour

    def ident(self):
        return (self.kind, self.key, self.sub)

    def _check(self):
        if self.kind != "D" and self.kind != "U":
            raise ValueError("kind")
        if self.kind == "D" and self.sub != 0:
            raise ValueError("sub")
        for v in (self.key, self.sub, self.steps, self.brisk, self.overruns):
            if not isinstance(v, int) or v < 0 or v > _MAX_INT:
                raise ValueError("field")
        if len(self.hourly) != 24:
            raise ValueError("hourly")

    def to_line(self):
        # one text line, no newline; ValueError if a field is out of range
        # (a line written must always read back)
        self._check()
        return "%s %d %d %d %d %d %s" % (
            self.kind,
            self.key,
            self.sub,
            self.steps,
            self.brisk,
            self.overruns,
            ",".join([str(h) for h in self.hourly]),
        )

    @staticmethod
    def from_line(line):
        # str or bytes (a trailing "\n" is allowed); ValueError on anything malformed
        if isinstance(line, (bytes, bytearray)):
            try:
                s = bytes(line).decode()
            except Exception:  # UnicodeError (a ValueError on CPython)
                raise ValueError("not text")
        elif isinstance(line, str):
            s = line
        else:
            raise ValueError("not a line")
        if s.endswith("\n"):
            s = s[:-1]
        if len(s) > _MAX_LINE or len(s.encode()) != len(s):
            raise ValueError("not an ASCII line")
        f = s.split(" ")  # exactly one space between fields
        if len(f) != 7:
            raise ValueError("fields")
        r = Record(f[0], _num(f[1], _MAX_INT), _num(f[2], _MAX_INT))
        r.steps = _num(f[3], _MAX_INT)
        r.brisk = _num(f[4], _MAX_INT)
        r.overruns = _num(f[5], _MAX_INT)
        h = f[6].split(",")
        if len(h) != 24:
            raise ValueError("hourly")
        hourly = r.hourly
        for i in range(24):
            hourly[i] = _num(h[i], _MAX_HOUR)
        r._check()
        return r

    def __eq__(self, other):
        return (
            isinstance(other, Record)
            and self.kind == other.kind
            and self.key == other.key
            and self.sub == other.sub
            and self.steps == other.steps
            and self.brisk == other.brisk
            and self.overruns == other.overruns
            and list(self.hourly) == list(other.hourly)
        )

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "Record(%s %d %d: %d steps)" % (self.kind, self.key, self.sub, self.steps)


def _num(s, top):
    # a decimal field: ASCII digits only (no sign, spaces or "_"), 0..top
    if not s or len(s) > 10 or not s.isdigit():
        raise ValueError("number")
    v = int(s)
    if v > top:
        raise ValueError("range")
    return v


def _int_line(line):
    s = line.decode() if isinstance(line, (bytes, bytearray)) else line
    if s.endswith("\n"):
        s = s[:-1]
    return _num(s, _MAX_INT)


class _Bad(Exception):
    # a file that fails the container checks
    pass


def _prefix(kind, key, sub):
    # the start of a record line: identifies the record without parsing it
    return ("%s %d %d " % (kind, key, sub)).encode()


class Store:
    def __init__(self, root):
        self.root = str(root)
        self.set_aside = []
        self._count = None  # closed records, once known
        _makedirs(self.root)

    def _path(self, name, ext=".txt"):
        return self.root + "/" + name + ext

    # --- container format ---

    def _scan(self, name, visit=None):
        # Stream <name>.txt through the checks; call visit(line) for every item
        # line (it may raise ValueError). Return the item count. Raise _Bad if
        # the file is unreadable, OSError(ENOENT) if it does not exist.
        f = open(self._path(name), "rb")
        try:
            header = f.readline(_MAX_LINE)
            if header != ("stepclip-%s %d\n" % (name, VERSION)).encode():
                raise _Bad("header")
            crc = crc32(header)
            n = 0
            while True:
                line = f.readline(_MAX_LINE)
                if not line.endswith(b"\n"):
                    raise _Bad("truncated")  # or longer than _MAX_LINE
                if line.startswith(b"end "):
                    if line != b"end %d %08x\n" % (n, crc):
                        raise _Bad("trailer")
                    if f.read(1):
                        raise _Bad("data after the trailer")
                    return n
                if visit is not None:
                    try:
                        visit(line)
                    except ValueError:
                        raise _Bad("line")
                crc = crc32(line, crc)
                n += 1
        finally:
            f.close()

    def _write(self, name, lines, src=None):
        # Write <name>.tmp with a header, the given lines (bytes, each ending in
        # "\n"; an iterable) and the trailer, then rename it over <name>.txt.
        tmp = self._path(name, ".tmp")
        f = open(tmp, "wb")
        try:
            header = ("stepclip-%s %d\n" % (name, VERSION)).encode()
            f.write(header)
            crc = crc32(header)
            n = 0
            for line in lines:
                f.write(line)
                crc = crc32(line, crc)
                n += 1
            f.write(b"end %d %08x\n" % (n, crc))
            if _fsync is not None:
                f.flush()
                _fsync(f.fileno())
        except BaseException:
            try:  # e.g. flash full: leave no temp file behind if possible
                f.close()
                _remove(tmp)
            except Exception:
                pass  # load() removes it
            raise
        f.close()  # on littlefs the data is committed here
        if src is not None:
            src.close()
        _replace(tmp, self._path(name))
        return n

    def _set_aside(self, name):
        # rename an unreadable <name>.txt to <name>.txt.bad<n> (first free n)
        path = self._path(name)
        i = 1
        while _exists(path + ".bad%d" % i):
            i += 1
        os.rename(path, path + ".bad%d" % i)
        self.set_aside.append(name + ".txt.bad%d" % i)

    # --- API ---

    def load(self):
        # Check both files, set aside unreadable ones, remove stray temp files.
        # Return the open record saved by the last checkpoint, or None.
        self.set_aside = []
        for name in _NAMES:
            _remove(self._path(name, ".tmp"))
        rec = self._read_one(TODAY, Record.from_line)
        pre = _prefix(rec.kind, rec.key, rec.sub) if rec is not None else None
        found = []

        def visit(line):
            closed = Record.from_line(line)
            if pre is not None and line.startswith(pre):
                found.append(closed.steps)

        self._count = self._check_days(visit)
        if found and found[0] >= rec.steps:
            # power cut after the day was closed but before today.txt was
            # removed: the closed copy is the newer one (records only grow;
            # an open record resumed from a closed day has more steps and wins)
            _remove(self._path(TODAY))
            return None
        return rec

    def _check_days(self, visit=None):
        # count of days.txt (0 if missing); set it aside if unreadable
        try:
            return self._scan(DAYS, visit)
        except _Bad:
            self._set_aside(DAYS)
        except OSError as e:
            if e.args[0] != _ENOENT:
                raise
        return 0

    def new_boot(self):
        # increment and persist the boot counter; return it (first boot = 1)
        last = self._read_one(BOOT, _int_line)
        if last is None:
            # no (readable) counter: start above every boot id in use so that
            # "U" records of different boots never share a key
            last = self._max_boot_in_use()
        n = last + 1
        self._write(BOOT, (b"%d\n" % n,))
        return n

    def _read_one(self, name, parse):
        # the single item of <name>.txt, or None if it is missing; set aside
        # if unreadable (a valid container must hold exactly one item)
        box = []
        try:
            if self._scan(name, lambda line: box.append(parse(line))) == 1:
                return box[0]
            raise _Bad("not one item")
        except _Bad:
            self._set_aside(name)
        except OSError as e:
            if e.args[0] != _ENOENT:
                raise
        return None

    def _max_boot_in_use(self):
        top = 0
        try:
            for r in self.records():
                if r.kind == "U" and r.key > top:
                    top = r.key
        except ValueError:
            pass  # unreadable history: load() sets it aside
        r = self._read_one(TODAY, Record.from_line)
        if r is not None and r.kind == "U" and r.key > top:
            top = r.key
        return top

    def checkpoint(self, rec):
        # atomically save the open record
        self._write(TODAY, ((rec.to_line() + "\n").encode(),))

    def close(self, rec):
        # Append rec to days.txt (a record with the same kind/key/sub is
        # replaced in place), dropping the oldest records beyond
        # config.DAYS_KEPT; then remove the open-record file.
        new = (rec.to_line() + "\n").encode()  # ValueError before touching files
        pre = _prefix(rec.kind, rec.key, rec.sub)
        found = []

        def visit(line):
            if line.startswith(pre):
                found.append(1)

        old = self._check_days(visit)  # pass 1: check, count, look for the key
        keep = config.DAYS_KEPT
        drop = old + (0 if found else 1) - keep
        if drop < 0:
            drop = 0
        src = None
        if old:
            src = open(self._path(DAYS), "rb")
            src.readline(_MAX_LINE)  # header

        def lines():
            # pass 2: stream the old records into the new file
            todo = drop
            replaced = False
            for _ in range(old):
                line = src.readline(_MAX_LINE)
                if line.startswith(pre):
                    if not replaced:
                        replaced = True
                        yield new
                elif todo:
                    todo -= 1
                else:
                    yield line
            if not replaced:
                yield new

        try:
            self._count = self._write(DAYS, lines(), src)
        finally:
            if src is not None:
                src.close()
        _remove(self._path(TODAY))

    def records(self, since_day=None):
        # Generator: closed records, oldest first (the order they were closed).
        # With since_day: "D" records with key >= since_day and all "U" records.
        # ValueError if days.txt has become unreadable since load().
        try:
            n = self._scan(DAYS)  # CRC check first: never yield from a bad file
        except _Bad:
            raise ValueError("days.txt is unreadable")
        except OSError as e:
            if e.args[0] != _ENOENT:
                raise
            return
        f = open(self._path(DAYS), "rb")
        try:
            f.readline(_MAX_LINE)
            for _ in range(n):
                line = f.readline(_MAX_LINE)
                if since_day is not None and line.startswith(b"D "):
                    end = line.find(b" ", 2)
                    if int(line[2:end]) < since_day:
                        continue
                yield Record.from_line(line)
        finally:
            f.close()

    def count(self):
        # closed records stored
        if self._count is None:
            self._count = self._check_days()
        return self._count

    def erase(self):
        # remove all records; the boot counter (and set-aside files) stay
        for name in (DAYS, TODAY):
            _remove(self._path(name))
            _remove(self._path(name, ".tmp"))
        self._count = 0


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _remove(path):
    try:
        os.remove(path)
    except OSError as e:
        if e.args[0] != _ENOENT:
            raise


def _makedirs(path):
    if not path or _exists(path):
        return
    if hasattr(os, "makedirs"):  # CPython (any path syntax)
        os.makedirs(path, exist_ok=True)
        return
    head = path.rstrip("/")
    i = head.rfind("/")
    if i > 0:
        _makedirs(head[:i])
    try:
        os.mkdir(head)
    except OSError:
        if not _exists(head):
            raise

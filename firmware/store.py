# stepclip day records on the flash filesystem (littlefs on the Pico).
#
# The same file runs under MicroPython on the device and under CPython on the
# host (on a normal directory). It uses only os (stat, rename, remove, mkdir,
# statvfs, urandom), binascii.crc32 and array.
#
# Files in the store directory (config.DATA_DIR on the device):
#   days.txt   closed records, oldest first (at most config.DAYS_KEPT)
#   today.txt  the open record, saved by checkpoint()
#   boot.txt   this flash's epoch, the boot counter and the last close number
# All three share one container format, text with "\n" line ends:
#   stepclip-<name> <version>        header: name and format version (3)
#   <item>                           one line per item
#   end <count> <crc>                trailer: item count, CRC-32 (binascii.crc32,
#                                    8 lowercase hex digits) of all bytes before it
# A record line (Record.to_line) is
#   <kind> <epoch> <boot> <day> <seq> <steps> <brisk> <overruns> <h0>,<h1>,...,<h23>
# followed by optional fields (format 3), in this order:
#    wear=<w0>,...,<w23>             minutes worn in each hour (0-60); only a record
#                                    counted by firmware with wear time has it
#    battery=<b0>,...,<b23> usb=<u0>,...,<u23>
#                                    the lowest battery reading (VSYS, mV) of each
#                                    hour on battery (0: none), and 1 for an hour
#                                    with USB power at a reading; only when a reading
#                                    was taken
# e.g. "D 517263511 3 9462 17 5234 12 0 0,0,0,0,0,0,0,312,... wear=0,...". A line
# of format 2 is a line of format 3 without the optional fields: it still loads,
# as a record without wear data (has_wear False, for good) and without battery
# readings, and close() copies it as it is. The boot file holds one item,
# "<epoch> <boot> <seq>".
#
# Records are per boot: (kind, epoch, boot, day) names a record for the device's
# whole life. The epoch is a random number chosen when the boot counter starts
# (a new or wiped flash, an unreadable boot.txt) and at ERASE, so that boot
# numbers that start again never repeat a key. seq is the close number: each
# close takes the next one (saved in boot.txt before the record is written), so
# within an epoch a close number is never used twice; 0 means not closed (the
# open record, or one not yet on flash). A host fetches the closes after the
# last one it stored (records(since)).
#
# Format 1 files (before per-boot records; "<kind> <key> <sub> <steps> <brisk>
# <overruns> <hours>") are still read: load() rewrites days.txt in format 3,
# with epoch 0, boot 0 for dated days (a whole day, any boots) and the old boot
# number for uptime records, and close numbers in file order.
#
# Every update writes <name>.tmp, closes it and renames it over <name>.txt
# (atomic on littlefs), so a power cut leaves either the old or the new file. A
# file that fails the checks (wrong name, unknown version, bad line, missing or
# wrong trailer, bytes after it) is set aside as <name>.txt.bad<n> and never
# deleted; the store carries on with a fresh file. Files are read a line at a
# time (lines are at most _MAX_LINE bytes), so RAM use does not depend on the
# number of stored days. Before days.txt is rewritten, the free space is checked
# and the oldest records are dropped to make room (Store.dropped counts them).
# An OSError (flash full, I/O error) goes to the caller, which keeps the record.

import os
from array import array
from binascii import crc32

if "." in __name__:  # host: imported as stepclip_firmware.store
    from . import config
else:  # device, or firmware/ on sys.path
    import config

VERSION = 3  # 3: optional wear, battery and usb fields after a record's hours
DAYS = "days"
TODAY = "today"
BOOT = "boot"
_NAMES = (DAYS, TODAY, BOOT)
_MAX_LINE = 512  # longest valid line is 479 bytes (all fields at their maximum)
_MAX_INT = 0x3FFFFFFF  # fields stay small ints on the Pico (< 2**30)
_MAX_HOUR = 0xFFFF  # array("H")
_MAX_WORN = 60  # minutes in an hour
MAX_MV = 9999  # battery readings (mV): the Pico's ADC reads VSYS / 3 against 3.3 V: at most 9900 mV
_ENOENT = 2
_SPARE = 8192  # free bytes littlefs needs beyond a file's own (metadata, two blocks)
_replace = getattr(os, "replace", os.rename)  # CPython on Windows needs replace
_fsync = getattr(os, "fsync", None)  # CPython only; littlefs commits on close


class Record:
    # kind "D": steps on a date, counted in one boot: day = days since 2000-01-01
    # kind "U": counted while the clock was unset: day = uptime day of the boot
    #           (0 = the first 24 h after it started)
    # epoch, boot: the boot that counted them; seq: the close number (0: open)
    # hourly: steps per hour; wear: minutes worn per hour (0-60), meaningful only
    # when has_wear (False for a record read from format 1 or 2, or from a line
    # without it: such a record never gets wear data, so that part of a day's
    # wear can never make it look not worn); battery: the lowest VSYS reading on
    # battery in each hour (mV, 0: none); usb: 1 for an hour with USB power at a
    # reading (board.usb_host()).
    def __init__(self, kind="D", epoch=0, boot=0, day=0):
        self.kind = kind
        self.epoch = epoch
        self.boot = boot
        self.day = day
        self.seq = 0
        self.steps = 0
        self.brisk = 0  # brisk minutes
        self.overruns = 0  # FIFO overruns
        self.hourly = array("H", bytes(48))  # 24 zeros: steps per hour
        self.has_wear = False  # the app sets it on the records it starts
        self.wear = array("B", bytes(24))
        self.battery = array("H", bytes(48))
        self.usb = array("B", bytes(24))

    def ident(self):
        return (self.kind, self.epoch, self.boot, self.day)

    def prefix(self):
        # the start of the record's line: identifies it without parsing it
        return ("%s %d %d %d " % self.ident()).encode()

    def last_second(self):
        # a dated record: the start of its last hour with steps (seconds since 2000)
        h = 23
        while h > 0 and not self.hourly[h]:
            h -= 1
        return self.day * 86400 + h * 3600

    def has_power(self):
        # a battery reading or USB power in some hour
        for h in range(24):
            if self.battery[h] or self.usb[h]:
                return True
        return False

    def _check(self):
        if self.kind != "D" and self.kind != "U":
            raise ValueError("kind")
        for v in (self.epoch, self.boot, self.day, self.seq, self.steps, self.brisk, self.overruns):
            if not isinstance(v, int) or v < 0 or v > _MAX_INT:
                raise ValueError("field")
        if len(self.hourly) != 24 or len(self.wear) != 24 or len(self.battery) != 24 or len(self.usb) != 24:
            raise ValueError("hourly")
        for h in range(24):
            if self.wear[h] > _MAX_WORN or self.battery[h] > MAX_MV or self.usb[h] > 1:
                raise ValueError("hourly")

    def to_line(self):
        # one text line, no newline; ValueError if a field is out of range
        # (a line written must always read back)
        self._check()
        line = "%s %d %d %d %d %d %d %d %s" % (
            self.kind,
            self.epoch,
            self.boot,
            self.day,
            self.seq,
            self.steps,
            self.brisk,
            self.overruns,
            _join(self.hourly),
        )
        if self.has_wear:
            line += " wear=" + _join(self.wear)
        if self.has_power():
            line += " battery=" + _join(self.battery) + " usb=" + _join(self.usb)
        return line

    @staticmethod
    def from_line(line, version=VERSION):
        # str or bytes (a trailing "\n" is allowed) of format 3, 2 or 1 (converted);
        # ValueError on anything malformed
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
        if version == 1:  # <kind> <key> <sub> <steps> <brisk> <overruns> <hours>
            if len(f) != 7:
                raise ValueError("fields")
            key, sub = _num(f[1], _MAX_INT), _num(f[2], _MAX_INT)
            if f[0] == "D":
                if sub:
                    raise ValueError("sub")
                r = Record("D", 0, 0, key)
            else:
                r = Record(f[0], 0, key, sub)
            i = 3
        else:
            if len(f) < 9 or (version < 3 and len(f) != 9):
                raise ValueError("fields")
            r = Record(f[0], _num(f[1], _MAX_INT), _num(f[2], _MAX_INT), _num(f[3], _MAX_INT))
            r.seq = _num(f[4], _MAX_INT)
            i = 5
        r.steps = _num(f[i], _MAX_INT)
        r.brisk = _num(f[i + 1], _MAX_INT)
        r.overruns = _num(f[i + 2], _MAX_INT)
        _hours(f[i + 3], r.hourly, _MAX_HOUR)
        i += 4
        n = len(f)
        if i < n and f[i].startswith("wear="):
            _hours(f[i][5:], r.wear, _MAX_WORN)
            r.has_wear = True
            i += 1
        if i < n and f[i].startswith("battery="):
            if i + 1 >= n or not f[i + 1].startswith("usb="):
                raise ValueError("usb")
            _hours(f[i][8:], r.battery, MAX_MV)
            _hours(f[i + 1][4:], r.usb, 1)
            if not r.has_power():
                raise ValueError("battery")  # written only with a reading: one way to write each record
            i += 2
        if i != n:
            raise ValueError("fields")
        r._check()
        return r

    def __eq__(self, other):
        return (
            isinstance(other, Record)
            and self.ident() == other.ident()
            and self.seq == other.seq
            and self.steps == other.steps
            and self.brisk == other.brisk
            and self.overruns == other.overruns
            and list(self.hourly) == list(other.hourly)
            and self.has_wear == other.has_wear
            and (not self.has_wear or list(self.wear) == list(other.wear))
            and list(self.battery) == list(other.battery)
            and list(self.usb) == list(other.usb)
        )

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "Record(%s %d %d %d #%d: %d steps)" % (self.kind, self.epoch, self.boot, self.day, self.seq, self.steps)


def _join(values):
    return ",".join([str(v) for v in values])


def _hours(text, out, top):
    # 24 comma-separated decimal fields into out (an array); ValueError otherwise
    h = text.split(",")
    if len(h) != 24:
        raise ValueError("hourly")
    for k in range(24):
        out[k] = _num(h[k], top)


def new_epoch():
    """A random epoch, 1 .. 2**30 - 1 (a small int on the Pico)."""
    try:
        b = os.urandom(4)
        n = b[0] | b[1] << 8 | b[2] << 16 | (b[3] & 0x3F) << 24
    except Exception:  # no urandom: the millisecond clock
        import time

        n = time.ticks_ms() * 1103515245 & _MAX_INT
    return n or 1


def _num(s, top):
    # a decimal field: ASCII digits only (no sign, spaces or "_"), 0..top
    if not s or len(s) > 10 or not s.isdigit():
        raise ValueError("number")
    v = int(s)
    if v > top:
        raise ValueError("range")
    return v


def _boot_item(line, version):
    # (epoch, boot, seq) of the boot file's line; format 1 held the boot only
    s = line.decode() if isinstance(line, (bytes, bytearray)) else line
    if s.endswith("\n"):
        s = s[:-1]
    if version == 1:
        return (0, _num(s, _MAX_INT), 0)
    f = s.split(" ")
    if len(f) != 3:
        raise ValueError("fields")
    return (_num(f[0], _MAX_INT), _num(f[1], _MAX_INT), _num(f[2], _MAX_INT))


class _Bad(Exception):
    # a file that fails the container checks
    pass


class Store:
    def __init__(self, root):
        self.root = str(root)
        self.set_aside = []
        self._count = None  # closed records, once known
        self.epoch = 0  # this boot's epoch and number (new_boot)
        self.boot = 0
        self.seq = 0  # the last close number taken (saved in boot.txt)
        self.newest = -1  # start of the last hour with steps of the newest dated record
        self.dropped = 0  # oldest records dropped to make room, since this Store began
        _makedirs(self.root)

    def _path(self, name, ext=".txt"):
        return self.root + "/" + name + ext

    # --- container format ---

    def _scan(self, name, visit=None):
        # Stream <name>.txt through the checks; call visit(line, version) for
        # every item line (it may raise ValueError). Return (item count, format
        # version). Raise _Bad if the file is unreadable, OSError(ENOENT) if it
        # does not exist.
        f = open(self._path(name), "rb")
        try:
            header = f.readline(_MAX_LINE)
            version = 0
            for v in (VERSION, 2, 1):  # format 2 and 1 files are still read
                if header == ("stepclip-%s %d\n" % (name, v)).encode():
                    version = v
            if not version:
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
                    return n, version
                if visit is not None:
                    try:
                        visit(line, version)
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
        # Check the files, set aside unreadable ones, remove stray temp files,
        # rewrite a format 1 history in format 3. Note the last close number and
        # the newest dated record. Return the open record saved by the last
        # checkpoint, or None.
        self.set_aside = []
        for name in _NAMES:
            _remove(self._path(name, ".tmp"))
        rec = self._read_one(TODAY, Record.from_line)
        if rec is not None and rec.kind == "D":
            self.newest = rec.last_second()
        mine = rec.ident() if rec is not None else None
        found = []

        def visit(line, version):
            closed = Record.from_line(line, version)
            if closed.seq > self.seq:
                self.seq = closed.seq
            if closed.kind == "D" and closed.last_second() > self.newest:
                self.newest = closed.last_second()
            if closed.ident() == mine:
                found.append(closed.steps)

        self._count, version = self._check_days(visit)
        if version == 1:
            self._convert()
        if found and found[0] >= rec.steps:
            # power cut after the record was closed but before the next open
            # record was saved: the closed copy is the newer one (records only
            # grow; an open record resumed from a closed day has more steps and wins)
            return None
        return rec

    def _convert(self):
        # days.txt of format 1 -> format 3, close numbers in file order
        src = open(self._path(DAYS), "rb")
        src.readline(_MAX_LINE)
        seq = self.seq

        def lines():
            n = 0
            for _ in range(self._count):
                r = Record.from_line(src.readline(_MAX_LINE), 1)
                n += 1
                r.seq = seq + n
                yield (r.to_line() + "\n").encode()

        try:
            self._write(DAYS, lines(), src)
        finally:
            src.close()
        self.seq += self._count

    def _check_days(self, visit=None):
        # (count, version) of days.txt ((0, VERSION) if missing); set it aside if unreadable
        try:
            return self._scan(DAYS, visit)
        except _Bad:
            self._set_aside(DAYS)
        except OSError as e:
            if e.args[0] != _ENOENT:
                raise
        return 0, VERSION

    def new_boot(self):
        # Count this boot: the next boot number under this flash's epoch (a new
        # epoch if there is no readable counter, or it is of format 1), saved
        # with the last close number. Return (epoch, boot). If the counter
        # cannot be saved (OSError), this boot gets a fresh epoch that is never
        # saved, so its key cannot repeat, and the error is raised.
        try:
            item = self._read_one(BOOT, _boot_item)
        except OSError:
            item = None  # cannot be read: a new epoch
        if item is None or item[0] == 0:
            self.epoch = new_epoch()
            self.boot = item[1] + 1 if item else 1
        else:
            self.epoch, self.boot = item[0], item[1] + 1
        if item is not None and item[2] > self.seq:
            self.seq = item[2]
        try:
            self._save_boot()
        except OSError:
            self.epoch = new_epoch()
            raise
        return self.epoch, self.boot

    def _save_boot(self):
        self._write(BOOT, (b"%d %d %d\n" % (self.epoch, self.boot, self.seq),))

    def _read_one(self, name, parse):
        # the single item of <name>.txt (parse(line, version)), or None if it is
        # missing; set aside if unreadable (a valid container holds exactly one item)
        box = []
        try:
            if self._scan(name, lambda line, version: box.append(parse(line, version)))[0] == 1:
                return box[0]
            raise _Bad("not one item")
        except _Bad:
            self._set_aside(name)
        except OSError as e:
            if e.args[0] != _ENOENT:
                raise
        return None

    def checkpoint(self, rec):
        # atomically save the open record
        self._write(TODAY, ((rec.to_line() + "\n").encode(),))

    def close(self, rec):
        # Store rec as closed: take the next close number (saved in boot.txt
        # first), then rewrite days.txt with rec appended (a record with the same
        # kind, epoch, boot and day is replaced in place), dropping the oldest
        # records beyond config.DAYS_KEPT, and more if the new file would not fit
        # the free space. today.txt is left alone: the next checkpoint replaces
        # it, and load() knows a closed copy. On OSError rec.seq is 0 again.
        rec._check()  # ValueError before touching files
        pre = rec.prefix()
        found = []
        size = [0]

        def visit(line, version):
            size[0] += len(line)
            if line.startswith(pre):
                found.append(1)

        old = self._check_days(visit)[0]  # pass 1: check, count, size, look for the key
        drop = old + (0 if found else 1) - config.DAYS_KEPT
        if drop < 0:
            drop = 0
        free = _free_bytes(self.root)
        short = size[0] + _MAX_LINE + _SPARE - free  # the new file is written beside the old one
        extra = 0  # records dropped to make room
        if free >= 0 and short > 0 and old:
            extra = short * old // size[0] + 1  # lines of the average size
            if drop + extra > old:
                extra = old - drop
            drop += extra
        rec.seq = self.seq + 1
        new = (rec.to_line() + "\n").encode()
        self.seq += 1
        try:
            self._save_boot()  # the close number is taken before anyone can see it
        except BaseException:
            self.seq -= 1
            rec.seq = 0
            raise
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
        except BaseException:
            rec.seq = 0
            raise
        finally:
            if src is not None:
                src.close()
        self.dropped += extra

    def records(self, since=None, day=None):
        # Generator: closed records, oldest first (the order they were closed).
        # With since: only those with a close number after it. With day: only
        # the dated records of that day (the others are not parsed).
        # ValueError if days.txt has become unreadable since load().
        try:
            n = self._scan(DAYS)[0]  # CRC check first: never yield from a bad file
        except _Bad:
            raise ValueError("days.txt is unreadable")
        except OSError as e:
            if e.args[0] != _ENOENT:
                raise
            return
        mark = None if day is None else b"%d" % day
        f = open(self._path(DAYS), "rb")
        try:
            f.readline(_MAX_LINE)
            for _ in range(n):
                line = f.readline(_MAX_LINE)
                if mark is not None and (not line.startswith(b"D ") or line.split(b" ", 4)[3] != mark):
                    continue
                r = Record.from_line(line)
                if since is None or r.seq > since:
                    yield r
        finally:
            f.close()

    def count(self):
        # closed records stored
        if self._count is None:
            self._count = self._check_days()[0]
        return self._count

    def erase(self):
        # remove all records and start a new epoch (the boot counter, the close
        # numbers and set-aside files stay)
        for name in (DAYS, TODAY):
            _remove(self._path(name))
            _remove(self._path(name, ".tmp"))
        self._count = 0
        self.newest = -1
        self.epoch = new_epoch()
        self._save_boot()


def _free_bytes(root):
    # free bytes of the filesystem holding root, or -1 if unknown
    try:
        s = os.statvfs(root)
        return s[1] * s[4]  # f_frsize * f_bavail
    except Exception:
        return -1


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

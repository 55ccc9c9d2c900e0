# The stepclip app: one loop, identical on every board.
#
# Wake on the LIS3DH FIFO watermark (or a timer), feed every sample to the step
# counter and the FIFO read to wear time, add the steps and the worn minutes to
# today's record (and once a minute the battery's voltage, or USB power), answer
# the host over USB, sleep.
# Today's record is saved at most every CHECKPOINT_S seconds, at each day
# rollover and when the host syncs (TIME, DAYS); the steps of a day are
# attributed to a date only when the clock is known, otherwise to (boot, uptime
# day) for the host to place at the next sync. Records are per boot: a restart
# closes the last boot's record and starts a new one. A storage error never
# stops counting: the record stays in RAM and the write is tried again.
import sys
from array import array

import config
import dates
from lis3dh import LIS3DH
from protocol import PROTOCOL_VERSION, Protocol, checked
from stepcounter import StepCounter
from store import MAX_MV, Record, Store
from wear import WearTime

VERSION = "0.3.0"  # firmware version (ID fw=); 0.3.0: wear time and battery per hour, store format 3
_WAKE_MS = 1000 * config.FIFO_WATERMARK // config.RATE_HZ  # one FIFO watermark
_FIFO = 32  # samples the LIS3DH FIFO holds
_ENOSPC = 28  # errno: no space left on the flash
_PENDING = 31  # closed records kept in RAM while the flash fails (a month of days)


class App:
    def __init__(self, board):
        self.board = board
        self.sensor = LIS3DH(board.i2c, config.LIS3DH_ADDRESS)
        self.sensor.configure(config.RATE_HZ, config.RANGE_G, config.RESOLUTION_BITS)
        self.counter = StepCounter(config.RATE_HZ)
        # the FIFO's samples are 10-bit even in 12-bit mode: its mg per digit
        self.wear = WearTime(config.RATE_HZ, self.sensor.fifo_sensitivity)
        self.samples = array("h", bytes(2 * 3 * _FIFO))
        self.proto = Protocol(self, board.write)
        self.storage = "ok"  # ok, full or error: how the last write to the flash went
        self.pending = []  # closed records that could not be written yet, oldest first

        store = self.store = Store(board.data_dir)
        last = None  # the open record of the last boot's last checkpoint
        try:
            last = store.load()
        except OSError as e:
            self._failed(e)
        try:
            store.new_boot()
        except OSError as e:
            self._failed(e)
        self.epoch, self.boot = store.epoch, store.boot
        wall = board.clock_s()  # seconds since 2000-01-01, -1 while unknown
        self.clock = "set" if wall >= 0 else "unset"
        if 0 <= wall < store.newest:
            # behind the newest record on flash (an RTC that stopped during
            # lightsleep, then a soft reset): not a set clock
            wall = -1
            self.clock = "stale"
        self.wall_s = wall
        self.uptime_s = 0
        self.ms = 0  # milliseconds not yet added to uptime_s / wall_s
        self.ticks = board.ticks_ms()
        self.minute = -1  # current minute (wall or uptime), for brisk minutes
        self.minute_steps = 0
        self.saved_at = 0  # uptime_s of the last checkpoint
        self.overruns = 0  # sensor overruns already added to a record
        self.token = 0  # erase confirmation token, 0 = none asked
        self.stream_left = -1  # samples still to stream; 0 = until STOP, -1 = off
        self.streamed = 0
        self.rec = None
        self.today_before = 0  # steps of today's date in records of earlier boots
        if last is not None:
            self._close(last)  # a record of an earlier boot is final
        self._roll()

    # --- time -------------------------------------------------------------------

    def _advance(self):
        now = self.board.ticks_ms()
        self.ms += self.board.ticks_diff(now, self.ticks)
        self.ticks = now
        if self.ms >= 1000:
            s = self.ms // 1000
            self.ms -= s * 1000
            self.uptime_s += s
            if self.wall_s >= 0:
                self.wall_s += s

    def _now(self):
        # the second to count by: wall time when the clock is known, else uptime
        return self.wall_s if self.wall_s >= 0 else self.uptime_s

    def _roll(self):
        # start a new record when the day (or, clock unset, the uptime day)
        # changes; True if it did
        kind, day = self._period()
        rec = self.rec
        if rec is not None:
            if rec.kind == kind and rec.day == day and rec.epoch == self.epoch:
                return False
            if self.minute_steps >= config.BRISK_SPM:
                rec.brisk += 1  # the minute so far was counted in this record
            self._close(rec)
        self.minute = -1
        self.minute_steps = 0
        rec = self._day_so_far(kind, day)  # a closed record resumed keeps what it had (or had not)
        if rec is None:
            rec = Record(kind, self.epoch, self.boot, day)
            rec.has_wear = True  # this firmware measures wear time
        self.rec = rec
        self.save()
        return True

    def _period(self):
        # the record the present second belongs to: ("D", date) or ("U", uptime day)
        if self.wall_s >= 0:
            return "D", self.wall_s // 86400
        return "U", self.uptime_s // 86400

    def _day_so_far(self, kind, day):
        # For a date: note the steps its records of earlier boots hold (ID's
        # today), and return this boot's record of it if it was closed already
        # (the clock was set back onto it): counting carries on from it.
        self.today_before = 0
        if kind != "D":
            return None
        mine = (kind, self.epoch, self.boot, day)
        found = None
        for rec in self.pending:
            if rec.ident() == mine:
                found = rec
            elif rec.kind == kind and rec.day == day:
                self.today_before += rec.steps
        if found is not None:
            self.pending.remove(found)
        try:
            for rec in self.store.records(day=day):
                if rec.ident() == mine:
                    found = found or rec
                else:
                    self.today_before += rec.steps
        except (OSError, ValueError):
            pass  # an unreadable history: a new record
        return found

    def set_time(self, wall_s):
        self._advance()
        self.wall_s = wall_s
        self.clock = "set"
        self.board.set_clock(wall_s)
        if not self._roll():  # steps before this stay with (boot, uptime day)
            self.save()  # what the host saw is on flash

    # --- counting ---------------------------------------------------------------

    def read_sensor(self):
        """Read the FIFO, feed every sample to the step counter and the whole read
        to wear time; return the steps."""
        n = self.sensor.read_fifo(self.samples)
        buf = self.samples
        counter = self.counter
        steps = 0
        i = 0
        end = 3 * n
        while i < end:
            steps += counter.update(buf[i], buf[i + 1], buf[i + 2])
            i += 3
        self.wear.feed(buf, n)  # a FIFO read at once: +3.5% per sample, against +21% for update() per sample
        if self.stream_left >= 0:
            self._stream(n)
        return steps

    def account(self, steps):
        self._advance()
        worn = self.wear.take()  # minutes completed by the samples just read: before any record change
        if worn:
            self._book_wear(worn)
        self._roll()
        rec = self.rec
        now = self._now()
        minute = now // 60
        if minute != self.minute:
            if self.minute_steps >= config.BRISK_SPM:
                rec.brisk += 1
            self.minute = minute
            self.minute_steps = 0
            self._read_battery(rec, now % 86400 // 3600)
        if steps:
            rec.steps += steps
            rec.hourly[now % 86400 // 3600] += steps
            self.minute_steps += steps
        overruns = self.sensor.overruns
        if overruns != self.overruns:
            rec.overruns += overruns - self.overruns
            self.overruns = overruns
        if self.uptime_s - self.saved_at >= config.CHECKPOINT_S:
            self.save()

    def _book_wear(self, worn):
        # Worn minutes go to the record they were counted in, in the hour they
        # ended; the minute that ends as its record ends (midnight) stays with it,
        # in its last hour. A record without wear data (older firmware) stays so.
        rec = self.rec
        if not rec.has_wear:
            return
        kind, day = self._period()
        h = self._now() % 86400 // 3600 if kind == rec.kind and day == rec.day else 23
        v = rec.wear[h] + worn
        rec.wear[h] = v if v < 60 else 60

    def _read_battery(self, rec, h):
        # once a minute: USB power, or else the battery's voltage (VSYS). The
        # hour keeps its lowest reading: the cell's voltage only falls on
        # battery, so that is where the hour left it (the first minutes after
        # unplugging read high while the cell settles).
        board = self.board
        if board.usb_host():
            rec.usb[h] = 1  # VSYS then comes from USB: not the battery's voltage
            return
        mv = board.battery_mv()
        if 0 < mv <= MAX_MV and (not rec.battery[h] or mv < rec.battery[h]):
            rec.battery[h] = mv

    def save(self):
        """Checkpoint: the closed records still in RAM (oldest first), then the open one."""
        self.saved_at = self.uptime_s
        while self.pending:
            if not self._stored(self.store.close, self.pending[0]):
                return
            self.pending.pop(0)
        self._stored(self.store.checkpoint, self.rec)

    def _close(self, rec):
        if not self._stored(self.store.close, rec):
            self.pending.append(rec)  # kept in RAM (and sent by DAYS) until it is written
            if len(self.pending) > _PENDING:
                self.pending.pop(0)
                self.store.dropped += 1

    def _stored(self, op, rec):
        # a store operation; a storage error never stops counting: note it
        try:
            op(rec)
        except OSError as e:
            self._failed(e)
            return False
        if not self.pending:
            self.storage = "ok"
        return True

    def _failed(self, e):
        self.storage = "full" if e.args and e.args[0] == _ENOSPC else "error"

    # --- the loop -----------------------------------------------------------------

    def run(self):
        board = self.board
        self.sensor.start_fifo(config.FIFO_WATERMARK)
        try:
            while not board.finished():
                board.wait(_WAKE_MS)  # until INT1 (watermark), the timer, or host input
                self.account(self.read_sensor())
                self.serve()
        except KeyboardInterrupt:
            # Ctrl-C from the host (mpremote): save, then leave to the REPL
            self.save()
            raise
        self.save()

    def serve(self):
        board = self.board
        feed = self.proto.feed
        while True:
            b = board.read_byte()
            if b < 0:
                return
            feed(b)

    # --- what the protocol asks ---------------------------------------------------

    def identify(self):
        self._advance()
        b = self.board
        impl = sys.implementation
        mpy = getattr(impl, "_mpy", 0)
        return (
            ("device", "stepclip"),
            ("fw", VERSION),
            ("proto", PROTOCOL_VERSION),
            ("id", b.unique_id()),
            ("board", b.name),
            ("micropython", "%d.%d.%d" % impl.version[:3]),
            ("mpy", "%d.%d" % (mpy & 0xFF, mpy >> 8 & 3)),
            ("battery_mv", b.battery_mv()),
            ("clock", self.clock),
            ("time", dates.iso_time(self.wall_s) if self.wall_s >= 0 else "-"),
            ("uptime_s", self.uptime_s),
            ("epoch", self.epoch),
            ("boot", self.boot),
            ("seq", self.store.seq),
            ("today", self.today_before + self.rec.steps),
            ("storage", self.storage),
            ("unsaved", len(self.pending)),
            ("dropped", self.store.dropped),
            ("rate", config.RATE_HZ),
            ("range", config.RANGE_G),
            ("bits", config.RESOLUTION_BITS),
        )

    def records(self, since):
        """DAYS: save, then the closed records on flash (closed after close number
        `since`, if given), those still in RAM, and the open record."""
        self.save()
        open_rec = self.rec.ident()  # may be a closed day resumed: it replaces its closed copy
        for rec in self.store.records(since):
            if rec.ident() != open_rec:
                yield rec
        for rec in self.pending:
            yield rec
        yield self.rec

    def start_stream(self, seconds):
        self.stream_left = seconds * config.RATE_HZ
        self.streamed = 0
        return config.RATE_HZ, config.RANGE_G, config.RESOLUTION_BITS

    def stop_stream(self):
        n = self.streamed if self.stream_left >= 0 else 0
        self.stream_left = -1
        return n

    def _stream(self, n):
        write = self.board.write
        buf = self.samples
        for i in range(n):
            j = 3 * i
            write(checked("S %d %d %d %d" % (self.streamed, buf[j], buf[j + 1], buf[j + 2])))
            self.streamed += 1
            if self.stream_left > 0:
                self.stream_left -= 1
                if self.stream_left == 0:
                    self.stream_left = -1
                    write(checked("END samples=%d" % self.streamed))
                    return

    def erase_token(self):
        self.token = 1000 + self.board.ticks_ms() % 9000
        return self.token

    def erase(self, token):
        if not self.token or token != str(self.token):
            self.token = 0
            return False
        self.token = 0
        try:
            self.store.erase()
        except OSError as e:
            self._failed(e)
        self.epoch = self.store.epoch  # a new epoch: new keys for the records from now on
        self.pending = []
        self.rec = None
        self._roll()
        return True

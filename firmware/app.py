# The stepclip app: one loop, identical on every board.
#
# Wake on the LIS3DH FIFO watermark (or a timer), feed every sample to the step
# counter, add the steps to today's record, answer the host over USB, sleep.
# Today's record is saved at most every CHECKPOINT_S seconds and at each day
# rollover; the steps of a day are attributed to a date only when the clock is
# known, otherwise to (boot, uptime day) for the host to place at the next sync.
import sys
from array import array

import config
import dates
from lis3dh import LIS3DH
from protocol import PROTOCOL_VERSION, Protocol, checked
from stepcounter import StepCounter
from store import Record, Store

VERSION = "0.1.0"
_WAKE_MS = 1000 * config.FIFO_WATERMARK // config.RATE_HZ  # one FIFO watermark
_FIFO = 32  # samples the LIS3DH FIFO holds


class App:
    def __init__(self, board):
        self.board = board
        self.sensor = LIS3DH(board.i2c, config.LIS3DH_ADDRESS)
        self.sensor.configure(config.RATE_HZ, config.RANGE_G, config.RESOLUTION_BITS)
        self.counter = StepCounter(config.RATE_HZ)
        self.samples = array("h", bytes(2 * 3 * _FIFO))
        self.store = Store(board.data_dir)
        self.proto = Protocol(self, board.write)

        self.rec = self.store.load()  # the open record of the last checkpoint
        self.boot = self.store.new_boot()
        self.wall_s = board.clock_s()  # seconds since 2000-01-01, -1 while unknown
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
        self._roll()  # closes a record from before the restart, if its day has passed

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
        # start a new record when the day (or, clock unset, the uptime day) changes
        if self.wall_s >= 0:
            kind, key, sub = "D", self.wall_s // 86400, 0
        else:
            kind, key, sub = "U", self.boot, self.uptime_s // 86400
        rec = self.rec
        if rec is not None:
            if rec.kind == kind and rec.key == key and rec.sub == sub:
                return
            self.store.close(rec)
        self.rec = self._closed(kind, key) or Record(kind, key, sub)
        self.save()

    def _closed(self, kind, key):
        # a day already closed (the clock was set back onto it): carry on from it
        if kind == "D":
            for rec in self.store.records(key):
                if rec.kind == "D" and rec.key == key:
                    return rec
        return None

    def set_time(self, wall_s):
        self._advance()
        self.wall_s = wall_s
        self.board.set_clock(wall_s)
        self._roll()  # steps before this stay with (boot, uptime day)

    # --- counting ---------------------------------------------------------------

    def read_sensor(self):
        """Read the FIFO and feed every sample to the step counter; return the steps."""
        n = self.sensor.read_fifo(self.samples)
        buf = self.samples
        counter = self.counter
        steps = 0
        i = 0
        end = 3 * n
        while i < end:
            steps += counter.update(buf[i], buf[i + 1], buf[i + 2])
            i += 3
        if self.stream_left >= 0:
            self._stream(n)
        return steps

    def account(self, steps):
        self._advance()
        self._roll()
        rec = self.rec
        now = self._now()
        minute = now // 60
        if minute != self.minute:
            if self.minute_steps >= config.BRISK_SPM:
                rec.brisk += 1
            self.minute = minute
            self.minute_steps = 0
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

    def save(self):
        self.store.checkpoint(self.rec)
        self.saved_at = self.uptime_s

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
            ("clock", "set" if self.wall_s >= 0 else "unset"),
            ("time", dates.iso_time(self.wall_s) if self.wall_s >= 0 else "-"),
            ("uptime_s", self.uptime_s),
            ("boot", self.boot),
            ("today", self.rec.steps),
            ("rate", config.RATE_HZ),
            ("range", config.RANGE_G),
            ("bits", config.RESOLUTION_BITS),
        )

    def records(self, since_day):
        open_rec = self.rec  # not yet closed; it replaces a closed copy of itself
        for rec in self.store.records(since_day):
            if rec.kind != open_rec.kind or rec.key != open_rec.key or rec.sub != open_rec.sub:
                yield rec
        if open_rec.kind == "U" or since_day is None or open_rec.key >= since_day:
            yield open_rec

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
        self.store.erase()
        self.rec = None
        self._roll()
        return True

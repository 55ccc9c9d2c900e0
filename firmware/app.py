# The stepclip app: one loop, identical on every board.
#
# Wake on the LIS3DH FIFO watermark (or a timer), feed every sample to the step
# counter and the FIFO read to wear time, add the steps and the worn minutes to
# today's record (and once a minute the battery's voltage, or USB power), answer
# the host over USB, sleep.
# While the wearer is still (no movement for config.DEEP_SLEEP_AFTER_S and no walk
# in progress) it sleeps deeply instead: the board sleeps until the sensor's
# motion interrupt or the next full hour (the day's rollover, a checkpoint, the
# hour's battery reading), the FIFO still collecting, so a walk that starts
# meanwhile is in it (see _deep_sleep).
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

VERSION = "0.3.0"  # firmware version (ID fw=); 0.3.0: wear time and battery per hour, store format 3, deep sleep
# the loop's timeout: five samples past the watermark (its INT1 wakes the loop first
# unless the sensor runs 20 % slow), still before the FIFO (32) overruns
_WAKE_MS = 1000 * (config.FIFO_WATERMARK + 5) // config.RATE_HZ
_FIFO = 32  # samples the LIS3DH FIFO holds
_ENOSPC = 28  # errno: no space left on the flash
_PENDING = 31  # closed records kept in RAM while the flash fails (a month of days)
_TICKS = 0x3FFFFFFF  # ticks_ms wraps at 2**30


class App:
    def __init__(self, board):
        self.board = board
        self.sensor = LIS3DH(board.i2c, config.LIS3DH_ADDRESS, config.LIS3DH_SDO_TIED_LOW)
        self.sensor.configure(config.RATE_HZ, config.RANGE_G, config.RESOLUTION_BITS)
        self.counter = StepCounter(config.RATE_HZ)
        # the FIFO's samples are 10-bit even in 12-bit mode: its mg per digit
        self.wear = WearTime(config.RATE_HZ, self.sensor.fifo_sensitivity)
        self.samples = array("h", bytes(2 * 3 * _FIFO))
        self.n_read = 0  # samples the last FIFO read held
        # deep sleep (see _deep_sleep): when the sensor last saw movement (uptime s);
        # the sensor's sample clock in the Pico's ticks: when the newest sample read
        # was measured, and its period as measured while awake, cal_ms / cal_n (the
        # datasheet's rate until then); samples fed to keep the counter's phase
        self.moved_s = 0
        self.sample_t = board.ticks_ms()
        self.read_t = self.sample_t  # ticks of the last FIFO read in the loop, -1 after a deep sleep
        self.cal_n = config.RATE_HZ
        self.cal_ms = 1000
        # the step counter checks its periodicity every cycle samples (decimation x
        # check interval): after a deep sleep it is fed the skipped samples modulo this
        self.cycle = self.counter.dec * self.counter.check_every
        self.filled = 0
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
        return self._feed(self.sensor.read_fifo(self.samples), 0)

    def _feed(self, n, fill):
        # the n samples just read to the step counter, after `fill` copies of the
        # first one (see _deep_sleep), and to wear time; the steps credited
        self.n_read = n
        buf = self.samples
        counter = self.counter
        steps = 0
        if n:
            while fill > 0:
                steps += counter.update(buf[0], buf[1], buf[2])
                fill -= 1
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
        sensor = self.sensor
        sensor.start_fifo(config.FIFO_WATERMARK)
        sensor.start_motion(config.MOTION_MG)
        try:
            while not board.finished():
                if self._resting():
                    self._deep_sleep()
                else:
                    board.wait(_WAKE_MS)  # until INT1 (watermark), the timer, or host input
                    t = board.ticks_ms()  # before a checkpoint's flash write delays it
                    self.account(self.read_sensor())
                    self._awake_read(t)
                self.serve()
        except KeyboardInterrupt:
            # Ctrl-C from the host (mpremote): save, then leave to the REPL
            self.save()
            raise
        self.save()

    # --- deep sleep -------------------------------------------------------------------

    def _awake_read(self, t):
        # after a FIFO read in the loop woken at ticks t: did the sensor see movement,
        # and how long is a sample in the Pico's ticks (the samples read over the time
        # between reads; not across a deep sleep, not when the FIFO overran: samples
        # were lost)
        if self.sensor.moved():
            self.moved_s = self.uptime_s
        if self.read_t >= 0 and 0 < self.n_read < _FIFO:
            self.cal_n += self.n_read
            self.cal_ms += self.board.ticks_diff(t, self.read_t)
            if self.cal_ms > 0x10000000:  # three days: older ones weigh half
                self.cal_n = (self.cal_n + 1) // 2
                self.cal_ms = (self.cal_ms + 1) // 2
        self.read_t = t
        if self.n_read >= config.FIFO_WATERMARK:
            self.sample_t = t  # the watermark woke the loop: its newest sample was just measured
        else:  # the timeout or the host: the newest sample is n_read samples after the last known one
            n, q, r = self.n_read, self.cal_ms // self.cal_n, self.cal_ms % self.cal_n  # small ints (< 2**30)
            self.sample_t = (self.sample_t + n * q + n * r // self.cal_n) & _TICKS

    def _resting(self):
        # still for DEEP_SLEEP_AFTER_S, no walk in progress (the step counter holds
        # no bout: its last candidate is over MAX_STEP ago), nothing streaming
        after = config.DEEP_SLEEP_AFTER_S
        return (
            after > 0
            and self.uptime_s - self.moved_s >= after
            and self.counter.last_at < 0
            and self.stream_left < 0
            and self.board.can_sleep_deep()
        )

    def _deep_sleep(self):
        """Sleep until the sensor's motion interrupt or the next full hour of the
        counting clock (the day's rollover, the hourly checkpoint), then count what
        the FIFO holds: the 32 samples (1.28 s at 25 Hz) before a motion wake-up, so
        the first steps of a walk are in it.

        Time: the board's ticks_ms, which run in its deep sleep (on a Pico the timer
        that lightsleep keeps, on the 12 MHz crystal: board_pico.Board.sleep).
        The samples the sensor measured meanwhile are not read (the FIFO overran,
        by design: not counted as an overrun); their number is the time since the
        newest sample read over the sample period measured while awake (rounded
        after a motion wake-up, which a sample triggers; rounded down after a
        timer wake-up). The step counter checks its periodicity every `cycle`
        samples: it is first fed that many modulo `cycle` copies of the FIFO's
        oldest sample, so that its checks fall where they would have fallen had it
        seen every sample, and it counts a walk as if the device had stayed awake.
        Wear time is given the samples not read as still ones (WearTime.still).
        Integer arithmetic beyond 2**30 here is once per wake-up, not per sample."""
        board = self.board
        sensor = self.sensor
        self._advance()
        self.save()  # nothing counted waits in RAM while it sleeps
        now = self._now()
        ms = (3600 - now % 3600) * 1000 - self.ms
        if ms > board.max_sleep_ms:
            ms = board.max_sleep_ms
        sensor.int1_motion()
        why = board.sleep(ms if ms > 1 else 2)
        t = board.ticks_ms()
        sensor.int1_fifo()
        n = sensor.read_fifo(self.samples)
        self.overruns = sensor.overruns  # the FIFO overran by design
        cal_n, cal_ms = self.cal_n, self.cal_ms
        motion = why == "motion"
        measured = (board.ticks_diff(t, self.sample_t) * cal_n + (cal_ms // 2 if motion else 0)) // cal_ms
        if measured < n:
            measured = n
        fill = (measured - n) % self.cycle
        self.filled += fill
        if n and measured > n:
            # wear time: the samples not read were still (the FIFO's oldest one stands
            # for them); their minutes go to the hour it fell asleep in, the clock
            # not yet advanced (a deep sleep ends at the next full hour at the latest)
            buf = self.samples
            self.wear.still(measured - n, buf[0], buf[1], buf[2])
            worn = self.wear.take()
            if worn:
                self._book_wear(worn)
        if motion:
            self.sample_t = t
        else:
            self.sample_t = (self.sample_t + measured * cal_ms // cal_n) & _TICKS
        self.read_t = -1
        self.account(self._feed(n, fill))
        if motion or sensor.moved():
            self.moved_s = self.uptime_s

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

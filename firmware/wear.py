# stepclip wear time: was the clip on a person, minute by minute?
#
# A clip on a person moves, even when the person sits still: breathing, a shift
# of weight, a hand on the belt. A clip lying on a table does not: its LIS3DH
# shows only its own noise. So a minute is *moving* when, on any axis, the
# largest and smallest reading of that minute differ by at least a threshold
# well above what sensor noise can do (see _MOVE_MG). A minute is *worn* when it
# is moving, or when it is one of the first _HOLD_MIN still minutes after a
# moving one: research counts a clip as taken off only after a long stretch
# without movement (60 minutes, Troiano et al. 2008), so a person sitting very
# still for a while is not "taken off". The count errs by at most _HOLD_MIN
# minutes each time the clip is put down.
#
# Like the step counter, the same file runs on the Pico under MicroPython and on
# the host under CPython, in integers (every value within +-2**30) and without
# allocating per sample. It looks at one sample in every `stride` (about
# _LOOK_HZ per second): movement of a body is slow, and looking at fewer samples
# keeps its cost a few per cent of the step counter's.
#
#   wear = WearTime(config.RATE_HZ, lsb_mg)   # lsb_mg: the sensor's mg per digit
#   wear.feed(samples, n)       # n samples (x, y, z interleaved, mg): one FIFO read
#   wear.update(x, y, z)        # or one sample at a time: the same result
#   wear.still(n, x, y, z)      # n samples all (x, y, z): those a deep sleep did not read
#   wear.take()                 # worn minutes completed since the last take()
#
# Minutes are counted in samples (60 s of samples at the sensor's rate), not on
# the clock: the app books the worn minutes that take() returns into the hour of
# the day record it is counting into.

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


# --- Parameters ---
_LOOK_HZ = const(5)  # samples looked at per second: any movement lasting 0.2 s or more is seen (a change, not a waveform, is wanted)
_MINUTE_S = const(60)  # a worn/not-worn decision per minute, as in accelerometer research (epochs of 60 s)
# Smallest change within a minute, on one axis, that is movement. On a table the
# LIS3DH shows its noise only: 220 ug/sqrt(Hz) (ST LIS3DH datasheet DocID17530,
# table 4, noise density), i.e. 0.78 mg rms per axis over the 12.5 Hz bandwidth
# at 25 Hz; the 300 samples looked at in a minute span about 5 mg, so at 8 mg a
# digit (+-4 g, 10-bit) a reading on a table changes by at most one digit. 32 mg
# is four digits: a sensor 3x noisier than typical still reads "not worn" on a
# table, and the quietest minute of the worn 0-step Bangle.js recordings changes
# by 168 mg (python -m stepclip.wear prints both).
_MOVE_MG = const(32)
_MOVE_DIGITS = const(4)  # ... and never less than 4 digits of a coarser setting (one digit can flip on noise)
_HOLD_MIN = const(60)  # still minutes after movement that still count as worn: non-wear is >= 60 still minutes (Troiano et al. 2008, NHANES)

_BIG = const(0x3FFFFFFF)  # larger than any reading (readings are within +-32768 mg)


class WearTime:
    """Worn minutes from the accelerometer's samples.

    rate_hz: samples per second (12.5, 25, 50, 100...); lsb_mg: the sensor's mg
    per digit at its range and resolution (8 at +-4 g, 10-bit). Raises
    ValueError for a rate or digit that is not positive.

    update(x, y, z) takes one sample (integer milli-g); feed(buf, n) takes n
    samples from an array of interleaved x, y, z (the app's FIFO buffer) and
    gives exactly the same result. take() returns the worn minutes completed
    since it was last called (a small int). `minutes` counts completed minutes,
    `moving` the moving ones, and `last_range` is the largest per-axis change
    (mg) of the last completed minute.
    """

    def __init__(self, rate_hz, lsb_mg=8):
        rate_mhz = int(rate_hz * 1000 + 0.5)
        if rate_mhz <= 0 or lsb_mg <= 0:
            raise ValueError("rate_hz and lsb_mg must be positive")
        stride = (rate_mhz + _LOOK_HZ * 500) // (_LOOK_HZ * 1000)  # samples per look, rounded
        self.stride = stride if stride > 0 else 1
        # looks per minute, rounded (25 Hz: 300 looks of 1 sample in 5)
        self.per_minute = (_MINUTE_S * rate_mhz // self.stride + 500) // 1000
        t = _MOVE_DIGITS * lsb_mg
        self.threshold = t if t > _MOVE_MG else _MOVE_MG
        self.skip = 1  # samples until the next look (1: the next sample is looked at)
        self.left = self.per_minute  # looks left in this minute
        self.xl = _BIG  # smallest and largest reading of this minute, per axis
        self.xh = -_BIG
        self.yl = _BIG
        self.yh = -_BIG
        self.zl = _BIG
        self.zh = -_BIG
        self.hold = 0  # still minutes that still count as worn
        self.worn = 0  # worn minutes not yet taken
        self.minutes = 0
        self.moving = 0
        self.last_range = 0

    def update(self, x, y, z):
        """One sample (milli-g)."""
        k = self.skip - 1
        if k:
            self.skip = k
            return
        self.skip = self.stride
        if x > self.xh:
            self.xh = x
        if x < self.xl:
            self.xl = x
        if y > self.yh:
            self.yh = y
        if y < self.yl:
            self.yl = y
        if z > self.zh:
            self.zh = z
        if z < self.zl:
            self.zl = z
        k = self.left - 1
        if k:
            self.left = k
        else:
            self._minute(x, y, z)

    def feed(self, buf, n):
        """n samples from buf: x, y, z interleaved (an array("h") of milli-g)."""
        i = 3 * (self.skip - 1)
        end = 3 * n
        if i >= end:
            self.skip -= n
            return
        step = 3 * self.stride
        left = self.left
        xl = self.xl
        xh = self.xh
        yl = self.yl
        yh = self.yh
        zl = self.zl
        zh = self.zh
        while i < end:
            x = buf[i]
            if x > xh:
                xh = x
            if x < xl:
                xl = x
            y = buf[i + 1]
            if y > yh:
                yh = y
            if y < yl:
                yl = y
            z = buf[i + 2]
            if z > zh:
                zh = z
            if z < zl:
                zl = z
            left -= 1
            if not left:
                self.xl = xl
                self.xh = xh
                self.yl = yl
                self.yh = yh
                self.zl = zl
                self.zh = zh
                self._minute(x, y, z)
                left = self.per_minute
                xl = xh = x
                yl = yh = y
                zl = zh = z
            i += step
        self.skip = (i - end) // 3 + 1
        self.left = left
        self.xl = xl
        self.xh = xh
        self.yl = yl
        self.yh = yh
        self.zl = zl
        self.zh = zh

    def _minute(self, x, y, z):
        # a minute is complete: moving, held, or still; the next starts at (x, y, z)
        r = self.xh - self.xl
        d = self.yh - self.yl
        if d > r:
            r = d
        d = self.zh - self.zl
        if d > r:
            r = d
        self.last_range = r
        self.minutes += 1
        if r >= self.threshold:
            self.moving += 1
            self.hold = _HOLD_MIN
            self.worn += 1
        elif self.hold > 0:
            self.hold -= 1
            self.worn += 1
        self.left = self.per_minute
        self.xl = self.xh = x
        self.yl = self.yh = y
        self.zl = self.zh = z

    def still(self, n, x, y, z):
        """n samples all (x, y, z) milli-g: the same result as n update(x, y, z)
        calls, in a few steps however large n. For the samples a deep sleep did
        not read (app.py: the wearer was still; the FIFO's oldest sample stands
        for them), so that minutes keep their length and still minutes count as
        worn while the hold lasts."""
        if n < self.skip:  # no look among them
            self.skip -= n
            return
        n -= self.skip
        looks = 1 + n // self.stride
        self.skip = self.stride - n % self.stride
        if x > self.xh:
            self.xh = x
        if x < self.xl:
            self.xl = x
        if y > self.yh:
            self.yh = y
        if y < self.yl:
            self.yl = y
        if z > self.zh:
            self.zh = z
        if z < self.zl:
            self.zl = z
        if looks < self.left:
            self.left -= looks
            return
        looks -= self.left
        self._minute(x, y, z)
        full = looks // self.per_minute  # whole minutes of one reading: still
        if full:
            held = full if full < self.hold else self.hold
            self.hold -= held
            self.worn += held
            self.minutes += full
            self.last_range = 0
        self.left = self.per_minute - looks % self.per_minute

    def end_minute(self):
        """Close the minute now, however few samples it has (for recordings
        shorter than a minute; the app never needs it)."""
        if self.left < self.per_minute:  # at least one look in this minute
            self._minute(0, 0, 0)
            self.xh = self.yh = self.zh = -_BIG
            self.xl = self.yl = self.zl = _BIG

    def take(self):
        """Worn minutes completed since the last call."""
        w = self.worn
        self.worn = 0
        return w

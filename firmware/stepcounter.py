# stepclip step counter: one streaming, integer-only detector for the Pico and the host.
#
# The same file runs under MicroPython on the device and is imported by the host
# tool under CPython, and counts identically in both. Per sample it does O(1)
# integer work and allocates nothing: every value stays within +-2**30 (the Pico's
# small-int range; see the bound next to each stage) and all buffers are made in
# __init__. Parameters are written in milliseconds and milli-g and converted to
# samples once, at construction.
#
# Stages, per sample (x, y, z in milli-g, gravity included):
#   1. magnitude  |a| by integer square root (orientation does not matter)
#   2. baseline   subtract a slow moving average of |a| (gravity, offset, tilt)
#   3. low-pass   two cascaded moving averages (a triangle filter: short, no ringing)
#   4. peaks      a peak is the top of an excursion above +threshold that has
#                 fallen back below -threshold (hysteresis); peaks closer than a
#                 step's minimum interval merge into the larger one
#   5. threshold  a fraction of the mean of the last 4 step peaks, never below a floor
#   6. rhythm     the first steps of a bout are held until enough of them arrive in
#                 a steady rhythm, then credited at once, with the irregular steps
#                 that started the walk (up to as many again); a pause ends the bout

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


from array import array

# --- Parameters (the only tuning knobs) ---
_BASELINE_MS = const(1000)  # baseline averaging time: longer than one stride, shorter than a change of posture
_SMOOTH_MS = const(120)  # each moving-average window; the pair passes the 1-3 Hz step rhythm, damps impacts above ~6 Hz
_FLOOR_MG = const(40)  # smallest excursion that can be a step: above sensor noise and standing sway
_THRESHOLD_PCT = const(20)  # threshold as a share of recent step peaks: skips the smaller heel/toe-off bumps
_MIN_STEP_MS = const(250)  # fastest steps, running (4 steps/s); closer peaks are one step
_MAX_STEP_MS = const(2000)  # slowest steps of a slow walker; a longer pause ends the bout
_RHYTHM_STEPS = const(6)  # steps in rhythm needed before a bout counts (then all are credited)
_RHYTHM_PCT = const(40)  # a step is in rhythm if its interval is within this % of the bout's mean interval

_CLAMP_MG = const(16000)  # inputs are clamped to +-16 g so that x*x+y*y+z*z < 2**30
_IDX_MASK = const(0x3FFFFFFF)  # sample indices wrap at 2**30 (497 days at 25 Hz)
_PEAKS = const(4)  # recent step peaks averaged for the threshold
_HELD_MAX = const(2 * _RHYTHM_STEPS)  # held steps kept: the rhythm's, and as many irregular first steps before it
HISTORY = const(16)  # recent step sample indices kept for the caller (>= _HELD_MAX)

# Peak-detector states
_BELOW = const(0)  # waiting for the signal to rise above +threshold
_ABOVE = const(1)  # above: tracking the top until it falls below -threshold


def _samples(ms, rate_mhz):
    # milliseconds -> samples at a rate given in milli-hertz, rounded, at least 1
    n = (ms * rate_mhz + 500_000) // 1_000_000
    return n if n > 0 else 1


class StepCounter:
    def __init__(self, rate_hz):
        rate_mhz = int(rate_hz * 1000 + 0.5)  # exact for 12.5, 25, 50, 100 Hz
        if rate_mhz <= 0:
            raise ValueError("rate_hz must be positive")
        self.rate_mhz = rate_mhz
        self.baseline_n = _samples(_BASELINE_MS, rate_mhz)
        n = _samples(_SMOOTH_MS, rate_mhz)
        self.smooth_n = n
        self.delay = n - 1  # group delay of the two moving averages, in samples
        self.min_step = _samples(_MIN_STEP_MS, rate_mhz)
        self.max_step = _samples(_MAX_STEP_MS, rate_mhz)
        self.ring1 = array("i", [0] * n)
        self.ring2 = array("i", [0] * n)
        self.peaks = array("i", [0] * _PEAKS)
        self.history = array("i", [0] * HISTORY)  # sample index of each recent step
        self.reset()

    def reset(self):
        """Forget the signal and the current bout (the step total is kept)."""
        self.mag = 0
        self.base = -1  # baseline x16, -1 until the first sample
        for i in range(self.smooth_n):
            self.ring1[i] = 0
            self.ring2[i] = 0
        self.pos = 0
        self.sum1 = 0
        self.sum2 = 0
        self.state = _BELOW
        self.top = 0
        self.top_at = 0
        for i in range(_PEAKS):
            self.peaks[i] = _FLOOR_MG
        self.peak_pos = 0
        self._set_threshold()
        self.last_at = -1  # sample index of the last step candidate, -1 when no bout
        self.held = 0  # steps held while the rhythm is unconfirmed
        self.run = 0  # of which the last ones in a steady rhythm
        self.counting = False  # rhythm confirmed: each step counts at once
        self.gap_sum = 0  # sum and number of intervals in the current bout
        self.gap_n = 0
        self.cadence_gap = 0  # interval between the last two steps (for cadence)
        if not hasattr(self, "n"):
            self.n = 0  # index of the next sample (wraps at 2**30)
            self.steps = 0  # steps credited since construction
            self.head = 0  # next write position in history

    def update(self, x, y, z):
        """Feed one sample (milli-g); return how many steps were credited by it."""
        # 1. magnitude: integer Newton square root started from the last value
        #    (|x|,|y|,|z| <= 16000 so s < 7.7e8 < 2**30)
        if x > _CLAMP_MG:
            x = _CLAMP_MG
        elif x < -_CLAMP_MG:
            x = -_CLAMP_MG
        if y > _CLAMP_MG:
            y = _CLAMP_MG
        elif y < -_CLAMP_MG:
            y = -_CLAMP_MG
        if z > _CLAMP_MG:
            z = _CLAMP_MG
        elif z < -_CLAMP_MG:
            z = -_CLAMP_MG
        s = x * x + y * y + z * z
        m = self.mag
        if s == 0:
            m = 0
        else:
            if m <= 0:
                m = 1
            m = (m + s // m) >> 1  # now m >= isqrt(s); it falls to isqrt(s) from above
            while True:
                r = (m + s // m) >> 1
                if r >= m:
                    break
                m = r
        self.mag = m

        # 2. baseline: exponential average of |a|, kept x16 (< 16 * 27713 = 443408)
        base = self.base
        if base < 0:
            base = m << 4
        base += ((m << 4) - base) // self.baseline_n
        self.base = base
        d = m - (base >> 4)  # |d| < 27713

        # 3. low-pass: two running sums over n samples (|sum2| < 27713 * n * n)
        pos = self.pos
        ring = self.ring1
        s1 = self.sum1 + d - ring[pos]
        ring[pos] = d
        self.sum1 = s1
        ring = self.ring2
        s2 = self.sum2 + s1 - ring[pos]
        ring[pos] = s1
        self.sum2 = s2
        pos += 1
        if pos == self.smooth_n:
            pos = 0
        self.pos = pos
        f = s2 // (self.smooth_n * self.smooth_n)  # smoothed excursion, milli-g

        n = self.n
        self.n = (n + 1) & _IDX_MASK
        credited = 0

        # 4. peaks, with the adaptive threshold of stage 5
        thr = self.threshold
        if self.state == _BELOW:
            if f > thr:
                self.state = _ABOVE
                self.top = f
                self.top_at = n
        else:  # _ABOVE
            if f > self.top:
                self.top = f
                self.top_at = n
            elif f < self.release:
                self.state = _BELOW
                credited = self._peak(self.top, self.top_at)

        # 6. a pause longer than the slowest step ends the bout; the last step of
        #    a walk has no trough after it, so a pending peak is taken as a step
        if self.last_at >= 0 and ((n - self.last_at) & _IDX_MASK) > self.max_step:
            if self.state == _ABOVE and self.counting:
                credited += self._peak(self.top, self.top_at)
            self.state = _BELOW
            self._end_bout()
        return credited

    def _peak(self, top, at):
        # a step candidate: the peak of one excursion
        last = self.last_at
        if last >= 0:
            gap = (at - last) & _IDX_MASK
            if gap < self.min_step:
                # too soon for a new step: the same step; keep the larger peak
                if top > self.peaks[(self.peak_pos - 1) % _PEAKS]:
                    self.peaks[(self.peak_pos - 1) % _PEAKS] = top
                    self._set_threshold()
                return 0
        self.peaks[self.peak_pos] = top
        self.peak_pos = (self.peak_pos + 1) % _PEAKS
        self._set_threshold()
        self.last_at = at
        at = (at - self.delay) & _IDX_MASK  # when it happened, before the filter delay
        if last < 0:
            # the first step of a bout
            self.held = 1
            self.run = 1
            self._remember(at)
            return 0
        if self.counting:
            self.cadence_gap = gap
            self._remember(at)
            self.steps += 1
            return 1
        # holding: is this interval in the bout's rhythm?
        if self.gap_n > 0 and abs(gap * self.gap_n - self.gap_sum) * 100 > _RHYTHM_PCT * self.gap_sum:
            # rhythm broken: the last step and this one start the rhythm again
            self.run = 1
            self.gap_sum = 0
            self.gap_n = 0
        self.gap_sum += gap
        self.gap_n += 1
        self.run += 1
        if self.held < _HELD_MAX:
            self.held += 1
        self._remember(at)
        if self.run < _RHYTHM_STEPS:
            return 0
        held = self.held
        self.counting = True
        self.cadence_gap = gap
        self.held = 0
        self.steps += held
        return held

    def _remember(self, at):
        self.history[self.head] = at
        self.head = (self.head + 1) % HISTORY

    def _set_threshold(self):
        p = self.peaks
        t = (p[0] + p[1] + p[2] + p[3]) * _THRESHOLD_PCT // (100 * _PEAKS)
        t = t if t > _FLOOR_MG else _FLOOR_MG
        self.threshold = t
        self.release = -t

    def _end_bout(self):
        self.last_at = -1
        self.held = 0
        self.counting = False
        self.gap_sum = 0
        self.gap_n = 0
        self.cadence_gap = 0
        for i in range(_PEAKS):
            self.peaks[i] = _FLOOR_MG
        self._set_threshold()

    def recent(self, k):
        """Sample index of the k-th most recent step candidate (k = 1 is the last)."""
        return self.history[(self.head - k) % HISTORY]

    def cadence(self):
        """Steps per minute in the current bout, 0 when not walking."""
        gap = self.cadence_gap
        if not self.counting or gap <= 0:
            return 0
        return (60 * self.rate_mhz // gap + 500) // 1000

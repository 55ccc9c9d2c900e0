# stepclip step counter: one streaming, integer-only detector for the Pico and the host.
#
# The same file runs under MicroPython on the device and is imported by the host
# tool under CPython, and counts identically in both. Per sample it does O(1)
# integer work and allocates nothing: every value stays within +-2**30 (the Pico's
# small-int range; see the bound next to each stage) and all buffers are made in
# __init__. Parameters are written in milliseconds, milli-g and percent and
# converted to samples once, at construction.
#
# Per sample (x, y, z in milli-g, gravity included):
#   1. magnitude  |a| by integer square root (orientation does not matter)
#   2. baseline   subtract a slow moving average of |a| (gravity, offset, tilt)
#   3. low-pass   two cascaded moving averages (a triangle filter: short, no ringing)
#   4. peaks      a peak is the top of an excursion above +threshold that has
#                 fallen back below -threshold (hysteresis); peaks closer than the
#                 fastest step merge into the larger one: these are step candidates
#   5. threshold  a fraction of the mean of the last 4 candidate peaks, never below
#                 a floor just above the sensor's noise
# Once a second (on the device, once per FIFO batch), on ~12.5 Hz copies of the
# three axes, of the magnitude's excursion and of the low-passed signal:
#   6. period     autocorrelation of the low-passed signal over the last 2.4 s at
#                 lags of 0.5-2.9 s: how periodic the movement is (walking is), and
#                 its period: the shortest lag that repeats nearly as well as the
#                 best one (a step; or a stride, when left and right steps differ)
#   7. stride     is that period a step or a stride? At one step the trunk's
#                 sideways sway has swung the other way, at one stride it repeats:
#                 the horizontal autocorrelation (3 axes less the vertical) rises
#                 from one period to two only if the period is a step (step and
#                 stride regularity, Moe-Nilssen & Helbostad, J Biomech 2004)
# Per step candidate:
#   8. walking    candidates are held until the movement has been periodic like
#                 walking for the last three checks, then credited at once (the
#                 first steps from standing too); counting goes on until the
#                 movement stops being periodic or pauses
#   9. stride cap at most two steps are credited per stride: the extra peaks of slow
#                 gait (its harmonics) merge, while a limp's short and long steps
#                 (they differ, the stride stays regular) both count

import sys
from array import array

_MICROPYTHON = sys.implementation.name == "micropython"
if _MICROPYTHON:
    import micropython
    from micropython import const
else:  # CPython (where a package named micropython may exist: Adafruit's Blinka)

    def const(x):
        return x


# --- Parameters (the only tuning knobs) ---
_BASELINE_MS = const(1000)  # baseline averaging time: longer than one stride, shorter than a change of posture
_SMOOTH_MS = const(120)  # each moving-average window; the pair passes the 1-3 Hz step rhythm, damps impacts above ~6 Hz
_FLOOR_MG = const(10)  # smallest excursion that can be a step: above the LIS3DH's noise and 8 mg digit (+-4 g, 10-bit) once smoothed
_THRESHOLD_PCT = const(20)  # threshold as a share of recent candidate peaks: skips the smaller heel/toe-off bumps
_MIN_STEP_MS = const(250)  # fastest steps, running (4 steps/s); closer peaks are one candidate
_MAX_STEP_MS = const(2500)  # slowest step of a limping walker (45 steps/min, 1:3); a longer pause ends the bout
_SLOWEST_STRIDE_MS = const(2900)  # longest period looked for: a stride at 41 steps/min
_WINDOW_MS = const(2000)  # periodicity is judged over this much movement: about two strides of ordinary walking
_WALK_PCT = const(70)  # autocorrelation (%, mean of the last three checks) that shows walking; counting stops after two checks below half of it
_PERIOD_PCT = const(70)  # a shorter repeating period is taken if it repeats at least this well (% of the best)
_SWAY_PCT = const(30)  # horizontal autocorrelation gain (points) from one period to two that shows the period is a step
_STRIDE_PCT = const(80)  # at most two steps are credited within this share of a stride
_CONFIRM_STEPS = const(4)  # candidates held before walking can be confirmed: two strides

_CLAMP_MG = const(16000)  # inputs are clamped to +-16 g so that x*x+y*y+z*z < 2**30
_EXCURSION_MG = const(2000)  # |a| minus its baseline is clamped to +-2 g (the hip's steps stay below)
_IDX_MASK = const(0x3FFFFFFF)  # sample indices wrap at 2**30 (497 days at 25 Hz)
_PEAKS = const(4)  # recent candidate peaks averaged for the threshold
HISTORY = const(16)  # recent step sample indices kept for the caller; also the most steps held
_DECIMATED_MHZ = const(12500)  # stages 6-7 see every 1st, 2nd, 4th... sample: ~12.5 Hz
_CHECKS = const(3)  # periodicity checks averaged for stage 8; stride estimates for stage 7
_X = const(0)  # channel rings for stages 6-7: the three axes (gravity included),
_Y = const(1)
_Z = const(2)
_D = const(3)  # the magnitude's excursion (close to the vertical component),
_F = const(4)  # and the low-passed excursion of stage 3
_CHANNELS = const(5)

# Peak-detector states
_BELOW = const(0)  # waiting for the signal to rise above +threshold
_ABOVE = const(1)  # above: tracking the top until it falls below -threshold


def _samples(ms, rate_mhz):
    # milliseconds -> samples at a rate given in milli-hertz, rounded, at least 1
    n = (ms * rate_mhz + 500_000) // 1_000_000
    return n if n > 0 else 1


# Stages 6 and 7 run these loops over the channel rings (int16 arrays of `span`
# samples; the newest sample is at end - 1, wrapping). Every value they multiply
# is within +-2000 mg (the excursions are clamped there at stage 2, the axes less
# their means here), so with windows of at most 36 samples every sum stays below
# 3 * 36 * 2000**2 < 2**29.
#   _acf(ring, span, end, n, first, last, out): out[lag] = autocorrelation (%) of
#       the newest n samples with those `lag` samples earlier, for lags first..last,
#       normalised by the larger of the two windows' energies and rounded towards
#       zero; returns the newest window's energy (mg^2).
#   _sway(rx, ry, rz, rd, span, end, n, lag): the horizontal autocorrelation (%)
#       at one lag: products summed over the three axes, each less its window's
#       mean (gravity), minus those of the vertical (the magnitude's excursion);
#       0 when the horizontal energy is under 1/16 of the vertical.
# Where MicroPython can compile to machine code (viper, on the Pico and the unix
# port), the same loops are compiled so from _NATIVE below: about 15x faster.


def _acf(ring, span, end, n, first, last, out):
    a0 = end - n
    if a0 < 0:
        a0 += span
    i = a0
    k = n
    ea = 0
    while k > 0:
        u = ring[i]
        ea += u * u
        i += 1
        if i == span:
            i = 0
        k -= 1
    lag = first
    while lag <= last:
        j = a0 - lag
        if j < 0:
            j += span
        i = a0
        k = n
        c = 0
        e = 0
        while k > 0:
            v = ring[j]
            c += ring[i] * v
            e += v * v
            i += 1
            if i == span:
                i = 0
            j += 1
            if j == span:
                j = 0
            k -= 1
        out[lag] = _pct(c, ea if ea > e else e)
        lag += 1
    return ea


def _sway(rx, ry, rz, rd, span, end, n, lag):
    a0 = end - n
    if a0 < 0:
        a0 += span
    b0 = a0 - lag
    if b0 < 0:
        b0 += span
    c = 0
    ea = 0
    eb = 0
    for p in (rx, ry, rz, rd):
        ma = 0  # window means (gravity, on the axes)
        mb = 0
        if p is not rd:
            i = a0
            j = b0
            k = n
            while k > 0:
                ma += p[i]
                mb += p[j]
                i += 1
                if i == span:
                    i = 0
                j += 1
                if j == span:
                    j = 0
                k -= 1
            ma = (ma + n * 32768) // n - 32768  # made positive before dividing
            mb = (mb + n * 32768) // n - 32768
        i = a0
        j = b0
        k = n
        cc = 0
        ca = 0
        cb = 0
        while k > 0:
            u = p[i] - ma
            u = 2000 if u > 2000 else (-2000 if u < -2000 else u)
            v = p[j] - mb
            v = 2000 if v > 2000 else (-2000 if v < -2000 else v)
            cc += u * v
            ca += u * u
            cb += v * v
            i += 1
            if i == span:
                i = 0
            j += 1
            if j == span:
                j = 0
            k -= 1
        if p is not rd:
            c += cc
            ea += ca
            eb += cb
        else:  # the vertical part is taken away
            c -= cc
            ea -= ca
            eb -= cb
    if ea < ca // 16:  # no horizontal movement to speak of: nothing to tell
        return 0
    return _pct(c, ea if ea > eb else eb)


def _pct(num, energy):
    # 100 * num / energy rounded towards zero, with no product beyond 2**30
    # (|num| <= energy); 0 when there is no energy
    if energy <= 0:
        return 0
    if num < 0:
        return -_pct(-num, energy)
    if energy < 10_000_000:
        return num * 100 // energy
    return num // (energy // 100)


# The loops above in viper (ptr16 loads are unsigned, so each value is
# sign-extended; no division sees a negative operand, as on the Pico's ARM).
# Compiled when this module is imported, so the .mpy files stay bytecode that
# every MicroPython of the right version loads; a port without a native emitter
# keeps the Python loops (same results, slower).
_NATIVE = """
@micropython.viper
def _acf(ring, span: int, end: int, n: int, first: int, last: int, out) -> int:
    p = ptr16(ring)
    o = ptr16(out)
    a0 = end - n
    if a0 < 0:
        a0 += span
    i = a0
    k = n
    ea = 0
    while k > 0:
        u = (p[i] ^ 0x8000) - 0x8000
        ea += u * u
        i += 1
        if i == span:
            i = 0
        k -= 1
    lag = first
    while lag <= last:
        j = a0 - lag
        if j < 0:
            j += span
        i = a0
        k = n
        c = 0
        e = 0
        while k > 0:
            v = (p[j] ^ 0x8000) - 0x8000
            c += ((p[i] ^ 0x8000) - 0x8000) * v
            e += v * v
            i += 1
            if i == span:
                i = 0
            j += 1
            if j == span:
                j = 0
            k -= 1
        if ea > e:
            e = ea
        neg = c < 0
        if neg:
            c = 0 - c
        if e <= 0:
            c = 0
        elif e < 10000000:
            c = c * 100 // e
        else:
            c = c // (e // 100)
        o[lag] = 0 - c if neg else c
        lag += 1
    return ea


@micropython.viper
def _sway(rx, ry, rz, rd, span: int, end: int, n: int, lag: int) -> int:
    a0 = end - n
    if a0 < 0:
        a0 += span
    b0 = a0 - lag
    if b0 < 0:
        b0 += span
    c = 0
    ea = 0
    eb = 0
    axis = 0
    while axis < 4:
        p = ptr16(rx if axis == 0 else (ry if axis == 1 else (rz if axis == 2 else rd)))
        ma = 0
        mb = 0
        if axis < 3:
            i = a0
            j = b0
            k = n
            while k > 0:
                ma += (p[i] ^ 0x8000) - 0x8000
                mb += (p[j] ^ 0x8000) - 0x8000
                i += 1
                if i == span:
                    i = 0
                j += 1
                if j == span:
                    j = 0
                k -= 1
            ma = (ma + n * 32768) // n - 32768
            mb = (mb + n * 32768) // n - 32768
        i = a0
        j = b0
        k = n
        cc = 0
        ca = 0
        cb = 0
        while k > 0:
            u = (p[i] ^ 0x8000) - 0x8000 - ma
            if u > 2000:
                u = 2000
            elif u < -2000:
                u = -2000
            v = (p[j] ^ 0x8000) - 0x8000 - mb
            if v > 2000:
                v = 2000
            elif v < -2000:
                v = -2000
            cc += u * v
            ca += u * u
            cb += v * v
            i += 1
            if i == span:
                i = 0
            j += 1
            if j == span:
                j = 0
            k -= 1
        if axis < 3:
            c += cc
            ea += ca
            eb += cb
        else:
            c -= cc
            ea -= ca
            eb -= cb
        axis += 1
    if ea < ca // 16:
        return 0
    if eb > ea:
        ea = eb
    neg = c < 0
    if neg:
        c = 0 - c
    if ea <= 0:
        c = 0
    elif ea < 10000000:
        c = c * 100 // ea
    else:
        c = c // (ea // 100)
    return 0 - c if neg else c
"""
if _MICROPYTHON:
    try:
        exec(_NATIVE)
    except Exception:  # no native emitter in this port: keep the Python loops
        pass
del _NATIVE


class StepCounter:
    """Streaming step detector: feed (x, y, z) samples in milli-g, get steps.

    ``rate_hz`` is the output data rate (25 for the LIS3DH as stepclip runs it;
    any rate from 10 Hz up works). ``update`` returns the steps credited by each
    sample (held steps are credited together once walking is confirmed);
    ``steps`` is the running total. Raises ValueError for a rate <= 0.
    """

    def __init__(self, rate_hz):
        rate_mhz = int(rate_hz * 1000 + 0.5)  # exact for 10, 12.5, 25, 50, 100 Hz
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
        self.held_at = array("i", [0] * HISTORY)  # candidates held until walking is confirmed
        # stages 6-7 see every dec-th sample
        dec = (rate_mhz + _DECIMATED_MHZ // 2) // _DECIMATED_MHZ
        self.dec = dec if dec > 0 else 1
        dmhz = rate_mhz // self.dec
        self.window = _samples(_WINDOW_MS, dmhz)
        self.lag_min = _samples(2 * _MIN_STEP_MS, dmhz)  # two of the fastest steps
        self.lag_max = _samples(_SLOWEST_STRIDE_MS, dmhz)
        self.check_every = _samples(1000, dmhz)
        self.span = self.window + self.lag_max + 2  # ring length: a window at the longest lag (+-1)
        self.chan = [array("h", [0] * self.span) for _ in range(_CHANNELS)]
        self.rho = array("h", [0] * (self.lag_max + 2))  # autocorrelation (%) by lag
        self.recent_rho = array("i", [0] * _CHECKS)  # at the last checks, 0 when unknown
        self.strides = array("i", [0] * _CHECKS)  # the last stride estimates (samples), 0 when unknown
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
        for c in self.chan:
            for i in range(self.span):
                c[i] = 0
        self.dec_k = 0  # samples since the last one copied to the rings
        self.end = 0  # next write position in the rings
        self.filled = 0  # samples in the rings, up to span
        self.since = 0  # ring samples since the last periodicity check
        for i in range(_CHECKS):
            self.recent_rho[i] = 0
            self.strides[i] = 0
        self.walking = False  # the last checks show walking
        self.aperiodic = 0
        self.stride = 0  # stride (samples), 0 when unknown
        self.longest = 0  # longest lag the rings hold so far
        self.last_at = -1  # sample index of the last step candidate, -1 when no bout
        self.held = 0  # candidates held while walking is unconfirmed
        self.counting = False  # walking confirmed: each candidate counts at once
        self.in_bout = 0  # steps credited in this bout
        self.gap_avg = 0
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
        d = m - (base >> 4)
        if d > _EXCURSION_MG:  # no step needs more; it bounds the sums of stages 3 and 6
            d = _EXCURSION_MG
        elif d < -_EXCURSION_MG:
            d = -_EXCURSION_MG

        # 3. low-pass: two running sums over n samples (|sum2| <= 2000 * n * n)
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

        # every dec-th sample goes into the rings of stages 6-7 (they need the
        # stride's rhythm, not the impacts; every value fits an int16)
        k = self.dec_k + 1
        if k == self.dec:
            k = 0
            e = self.end
            ch = self.chan
            ch[_X][e] = x
            ch[_Y][e] = y
            ch[_Z][e] = z
            ch[_D][e] = d
            ch[_F][e] = f
            e += 1
            self.end = e if e < self.span else 0
            if self.filled < self.span:
                self.filled += 1
            self.since += 1
            if self.since >= self.check_every and self.filled > self.window + self.lag_min + 1:
                self.since = 0
                self._check_period()
        self.dec_k = k

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

        # 8. a pause longer than the slowest step ends the bout; the last step of
        #    a walk has no trough after it, so a pending peak is taken as a step
        if self.last_at >= 0 and ((n - self.last_at) & _IDX_MASK) > self.max_step:
            if self.state == _ABOVE and self.counting:
                credited += self._peak(self.top, self.top_at)
            self.state = _BELOW
            self._end_bout()
        return credited

    def _check_period(self):
        # 6. how periodic the low-passed signal is, and its period
        w = self.window
        rho = self.rho
        f = self.chan[_F]
        best = 0
        best_lag = 0
        longest = self.filled - w - 2  # lags the rings hold so far (all but at start)
        if longest > self.lag_max:
            longest = self.lag_max
        self.longest = longest
        if _acf(f, self.span, self.end, w, 1, 0, rho) >= w * (_FLOOR_MG * _FLOOR_MG) // 4:  # above the noise
            _acf(f, self.span, self.end, w, self.lag_min - 1, longest + 1, rho)
            lag = self.lag_min
            while lag <= longest:  # the highest local maximum
                r = rho[lag]
                if r > best and r > rho[lag - 1] and r >= rho[lag + 1]:
                    best = r
                    best_lag = lag
                lag += 1
        period = best_lag
        if best > 0:
            # the shortest lag that repeats nearly as well: a whole fraction of the best
            k = 2
            while True:
                c = (best_lag + k // 2) // k
                if c < self.lag_min:
                    break
                cc = c - 1  # the best of c - 1, c, c + 1 (lags are whole samples)
                if rho[c] > rho[cc]:
                    cc = c
                if rho[c + 1] > rho[cc]:
                    cc = c + 1
                if rho[cc] * 100 >= _PERIOD_PCT * best:
                    period = cc
                k += 1
        # 8. walking: the last checks together periodic enough
        r = self.recent_rho
        total = best
        for i in range(_CHECKS - 1):
            r[i] = r[i + 1]
            total += r[i]
        r[_CHECKS - 1] = best
        self.walking = total >= _CHECKS * _WALK_PCT
        self.aperiodic = self.aperiodic + 1 if 2 * best < _WALK_PCT else 0
        if self.counting and self.aperiodic >= 2:
            # no longer walking: what follows is held again until it is
            self.counting = False
            self.held = 0
        if period > 0:
            self._check_stride(period)

    def _check_stride(self, period):
        # 7. is the period a step or a stride? Then the median of the last three estimates.
        stride = period
        if 2 * period <= self.longest + 1:
            ch = self.chan
            span = self.span
            e = self.end
            w = self.window
            one = _sway(ch[_X], ch[_Y], ch[_Z], ch[_D], span, e, w, period)
            two = _sway(ch[_X], ch[_Y], ch[_Z], ch[_D], span, e, w, 2 * period)
            if two - one > _SWAY_PCT or (one < 2 * _SWAY_PCT and 3 * self.gap_avg >= 2 * period * self.dec):
                stride = 2 * period
        st = self.strides
        st[0] = st[1]
        st[1] = st[2]
        st[2] = stride * self.dec
        p, q, r = st[0], st[1], st[2]
        if p == 0 or q == 0:
            self.stride = r
        else:
            self.stride = p + q + r - min(p, q, r) - max(p, q, r)

    def _peak(self, top, at):
        # a step candidate: the peak of one excursion
        last = self.last_at
        if last >= 0:
            gap = (at - last) & _IDX_MASK
            if gap < self.min_step:
                # too soon for a new candidate: the same one; keep the larger peak
                if top > self.peaks[(self.peak_pos - 1) % _PEAKS]:
                    self.peaks[(self.peak_pos - 1) % _PEAKS] = top
                    self._set_threshold()
                return 0
        self.peaks[self.peak_pos] = top
        self.peak_pos = (self.peak_pos + 1) % _PEAKS
        self._set_threshold()
        if last >= 0:
            self.gap_avg = (3 * self.gap_avg + gap) // 4 if self.gap_avg else gap
        self.last_at = at
        at = (at - self.delay) & _IDX_MASK  # when it happened, before the filter delay
        if self.counting:
            return self._credit(at)
        # 8. holding: keep the candidate (the newest HISTORY) until the movement is walking
        held = self.held_at
        if self.held < HISTORY:
            held[self.held] = at
            self.held += 1
        else:
            for i in range(HISTORY - 1):
                held[i] = held[i + 1]
            held[HISTORY - 1] = at
        if self.held < _CONFIRM_STEPS or not self.walking:
            return 0
        self.counting = True
        credited = 0
        for i in range(self.held):
            credited += self._credit(held[i])
        self.held = 0
        return credited

    def _credit(self, at):
        # 9. at most two steps within _STRIDE_PCT of a stride
        stride = self.stride
        if stride > 0 and self.in_bout >= 2:
            if ((at - self.history[(self.head - 2) % HISTORY]) & _IDX_MASK) < stride * _STRIDE_PCT // 100:
                return 0
        self.history[self.head] = at
        self.head = (self.head + 1) % HISTORY
        self.in_bout += 1
        self.steps += 1
        return 1

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
        self.in_bout = 0
        for i in range(_PEAKS):
            self.peaks[i] = _FLOOR_MG
        self._set_threshold()

    def recent(self, k):
        """Sample index of the k-th most recent credited step (k = 1 is the last)."""
        return self.history[(self.head - k) % HISTORY]

    def cadence(self):
        """Steps per minute over the last steps credited in this bout (up to 8
        intervals), 0 when not walking."""
        k = self.in_bout - 1
        if not self.counting or k < 1:
            return 0
        if k > 8:
            k = 8
        span = (self.history[(self.head - 1) % HISTORY] - self.history[(self.head - 1 - k) % HISTORY]) & _IDX_MASK
        if span <= 0:
            return 0
        return (60 * self.rate_mhz * k // span + 500) // 1000

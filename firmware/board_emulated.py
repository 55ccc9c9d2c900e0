# The emulated board: the stepclip firmware on the MicroPython unix port.
#
# Everything the app touches is here, in the same shape as board_pico: an I2C bus
# with an LIS3DH on it (a register-level model fed from a file of samples), a
# clock that can run faster than real time (it advances when the app sleeps),
# littlefs in a file through VfsLfs2, and the serial port on stdin/stdout.
#
#   micropython main.py --samples FILE --flash IMAGE [--start S2000] [--speed X]
#                       [--run-to-end] [--still-ms MS] [--id HEX] [--rate HZ]
#                       [--deep-after S] [--clock-ppm PPM] [--sleep-ppm PPM]
#                       [--odr-ppm PPM] [--battery FILE] [--usb]
#
# FILE: int16 little-endian x, y, z triples in milli-g at config.RATE_HZ (after
# the last one the device lies still). --start: the clock in seconds since
# 2000-01-01; without it the clock is unset, as on a Pico after power-up.
# --speed X: X emulated seconds per real second (default 1); the emulated clock
# never runs ahead of real time x X. --run-to-end: as fast as possible, stop
# when the samples are played out and the device has lain still for --still-ms
# (default 5000) more. --rate HZ: build the firmware with config.RATE_HZ = HZ
# (on a Pico: edit config.py); --deep-after S likewise config.DEEP_SLEEP_AFTER_S
# (0: never sleep deeply). The battery is a model (battery_model.py): its
# charge falls with use and rises on USB power; --battery FILE keeps it between
# runs (default: a full cell), --usb runs the device on USB power (charging;
# usb_host() is then True, as VBUS is on a Pico, and it never sleeps deeply).
#
# Power states, as the Pico's (board_pico): the loop's sleep, wait(), ends at the
# FIFO watermark (INT1), its timeout or host input; the deep sleep, sleep(), at a
# rising INT1 (the app gives INT1 to the LIS3DH's motion interrupt then), the
# timeout, or host input. Time base: the true time (vms) drives the sensor's
# samples and the wall clock; the Pico's timer (ticks_ms, the app's clock) runs
# --clock-ppm fast (its crystal), in deep sleep --sleep-ppm faster still (a
# deep-sleep clock other than the awake one, as DORMANT's would be; lightsleep
# keeps the crystal: 0 models a Pico). --odr-ppm: the sensor's output data rate
# that far from nominal (its own oscillator). After
# --run-to-end, report() adds a POWER line: time in deep sleep, wakes by kind and
# samples read until the samples ran out (a day profile, hardware/power.py), and
# the app's clock error.
#
# Ctrl-C stops the app (it saves first) and leaves to a REPL, as on a Pico:
# enough of MicroPython's friendly and raw REPLs for mpremote (version query,
# file listing and hashes, file writes, machine.RTC), run in the flash; Ctrl-D
# at the friendly REPL is a soft reset, which starts the app again.
import os
import select
import sys
import time
from array import array

import config
from battery_model import Battery
from lis3dh_model import LIS3DHModel
from protocol import checked

_BLOCK = 4096
_BLOCKS = 352  # 1.4 MB, the Pico's littlefs
_CHUNK = 3 * 64


class FileBlockDevice:
    """A littlefs block device in a file (the Pico's flash, kept between runs)."""

    def __init__(self, path, blocks=_BLOCKS):
        try:
            self.f = open(path, "r+b")
            self.f.seek(0, 2)
            blocks = self.f.tell() // _BLOCK
        except OSError:
            self.f = open(path, "w+b")
            empty = b"\xff" * 256  # erased flash, a page at a time (a small heap has no 4 KB to spare)
            for _ in range(blocks * _BLOCK // 256):
                self.f.write(empty)
            self.f.flush()
        self.blocks = blocks

    def readblocks(self, n, buf, off=0):
        self.f.seek(n * _BLOCK + off)
        self.f.readinto(buf)

    def writeblocks(self, n, buf, off=None):
        self.f.seek(n * _BLOCK + (off or 0))
        self.f.write(buf)
        self.f.flush()

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.blocks
        if op == 5:  # block size
            return _BLOCK
        if op == 6:  # erase
            return 0
        return None


def _args(argv):
    opts = {"--speed": "1", "--id": "e0000000c11b0001", "--still-ms": "5000"}
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--run-to-end" or a == "--usb":
            opts[a] = True
            i += 1
        elif a.startswith("--") and i + 1 < len(argv):
            opts[a] = argv[i + 1]
            i += 2
        else:
            i += 1
    return opts


def _configure(argv):
    # --rate, --deep-after: the emulated build's sensor rate and deep-sleep delay,
    # set before app.py reads config (main.py imports this module first)
    opts = _args(argv)
    rate = opts.get("--rate")
    if rate is not None:
        config.RATE_HZ = int(rate)
    after = opts.get("--deep-after")
    if after is not None:
        config.DEEP_SLEEP_AFTER_S = int(after)


_configure(sys.argv)


class Board:
    name = "emulated"
    max_sleep_ms = 3_600_000  # longest deep sleep the app asks for (the Pico's lightsleep takes 71 min)

    def __init__(self, argv=None):
        opts = _args(sys.argv if argv is None else argv)
        self.run_to_end = "--run-to-end" in opts
        self.still_ms = int(opts["--still-ms"])
        self.speed = 0.0 if self.run_to_end else float(opts["--speed"])
        self.id = opts["--id"]
        start = opts.get("--start")
        # time: vms is the true time (the sensor's samples and the wall clock follow
        # it), tms the Pico's timer (ticks_ms), which runs (1 + ppm / 10**6) times as
        # fast: ppm = --clock-ppm, plus --sleep-ppm in a deep sleep; tfrac its
        # fraction of a ms, in 10**-6 ms. --odr-ppm: the sensor's output data rate
        # that far from nominal (its own oscillator).
        self.vms = 0  # true emulated milliseconds since power-up
        self.tms = 0  # the Pico's timer, milliseconds
        self.tfrac = 0
        self.clock_ppm = int(opts.get("--clock-ppm", 0))
        self.sleep_ppm = int(opts.get("--sleep-ppm", 0))
        self.odr_ppm = int(opts.get("--odr-ppm", 0))
        self.deep = False  # in a deep sleep
        self.clock_base = int(start) if start is not None else -1  # wall seconds at vms = 0
        self.real_ms = 0  # real milliseconds since power-up
        self.real_ticks = time.ticks_ms()
        # what the power model needs (hardware/power.py, "Day profiles"): time in
        # deep sleep, wakes by kind, samples read; frozen when the samples run out
        self.deep_ms = 0  # true ms in deep sleep
        self.wakes = {"fifo": 0, "motion": 0, "timer": 0}
        self.at_end = None  # (vms, deep_ms, wakes, samples read) when the samples ran out

        # flash: littlefs in a file, mounted where the app keeps its records
        dev = FileBlockDevice(opts["--flash"])
        try:
            vfs = os.VfsLfs2(dev)
        except OSError:
            os.VfsLfs2.mkfs(dev)
            vfs = os.VfsLfs2(dev)
        os.mount(vfs, config.DATA_DIR)
        self.data_dir = config.DATA_DIR

        # the sensor on the I2C bus, and the samples it will measure
        self.i2c = LIS3DHModel(config.LIS3DH_ADDRESS)
        self.source = open(opts["--samples"], "rb") if "--samples" in opts else None
        self.chunk = array("h", bytes(2 * _CHUNK))
        self.chunk_n = 0
        self.chunk_i = 0
        self.pushed = 0  # samples the sensor has measured
        self.ended_at = -1  # vms when the samples ran out

        # the serial port
        self.stdin = sys.stdin.buffer
        self.stdout = sys.stdout.buffer
        self.poller = select.poll()
        self.poller.register(sys.stdin, select.POLLIN)
        self.eof = False

        # the battery (a model) and USB power
        self.usb = "--usb" in opts
        self.battery = Battery()
        self.battery_path = opts.get("--battery")
        if self.battery_path:
            self.battery.load(self.battery_path, self.clock_s())
        self.battery_ms = 0  # vms up to which the battery has run

    # --- clock ---------------------------------------------------------------------

    def ticks_ms(self):
        return self.tms & 0x3FFFFFFF

    def ticks_diff(self, a, b):
        return ((a - b + 0x20000000) & 0x3FFFFFFF) - 0x20000000

    def clock_s(self):
        return self.clock_base + self.vms // 1000 if self.clock_base >= 0 else -1

    def set_clock(self, wall_s):
        self.clock_base = wall_s - self.vms // 1000

    def _to(self, vms):
        # true time moves on to vms; the Pico's timer with it, at its rate
        num = (vms - self.vms) * (1_000_000 + self._ppm()) + self.tfrac
        self.tms += num // 1_000_000
        self.tfrac = num % 1_000_000
        if self.deep and self.at_end is None:
            self.deep_ms += vms - self.vms
        self.vms = vms

    def _ppm(self):
        return self.clock_ppm + (self.sleep_ppm if self.deep else 0)

    def _due(self, k):
        # true ms at which the sensor measures its k-th sample (k >= 1)
        return k * 1_000_000_000 // (config.RATE_HZ * (1_000_000 + self.odr_ppm))

    # --- sensor and sleep ------------------------------------------------------------

    def _next_sample(self):
        if self.chunk_i >= self.chunk_n:
            n = self.source.readinto(self.chunk) if self.source else 0
            self.chunk_n = (n or 0) // 2 // 3 * 3
            self.chunk_i = 0
            if not self.chunk_n:
                if self.ended_at < 0:
                    self.ended_at = self.vms
                    w = self.wakes
                    self.at_end = (self.vms, self.deep_ms, (w["fifo"], w["motion"], w["timer"]), self.i2c.fifo_reads)
                self.i2c.push(0, 0, 1000)  # lying still
                return
        c = self.chunk
        i = self.chunk_i
        self.i2c.push(c[i], c[i + 1], c[i + 2])
        self.chunk_i = i + 3

    def _run(self, target):
        """Let the sensor measure until INT1 is high after a sample ("int1"), true
        time reaches target ("time"), the host writes ("host"), or (--run-to-end) the
        run is over ("end").

        With --speed the emulated clock stays in step with real time x speed: it
        sleeps (in real time) until the next sample is due, and when the host
        writes it wakes at the emulated now, never ahead of it (as a Pico does)."""
        model = self.i2c
        allowed = -1  # emulated ms that real time has reached (checked when needed)
        woke = False
        why = "time"
        while True:
            if self.run_to_end and self.ended_at >= 0:
                end = self.ended_at + self.still_ms
                if self.vms >= end:
                    return "end"
                if target >= end:
                    target = end
                    why = "end"
            t = self._due(self.pushed + 1)  # when the next sample is measured
            due = t if t < target else target
            if self.speed > 0 and due > allowed:
                allowed = self._real_vms()
                if due > allowed:
                    if woke:  # the host wrote: answer it now
                        if allowed > self.vms:
                            self._to(allowed)
                        return "host"
                    woke = self._sleep(due - allowed)
                    continue
            if t > target:
                self._to(target)
                return why
            self._to(t)
            self._next_sample()
            self.pushed += 1
            if model.int1:
                return "int1"

    def wait(self, ms):
        """The loop's sleep (lightsleep on a Pico): until INT1 (the FIFO
        watermark), ms pass, or the host writes."""
        if self._run(self.vms + ms) != "end":
            self._count("fifo")

    def sleep(self, ms):
        """Deep sleep (the Pico in lightsleep with a long timeout, woken by INT1,
        which the app gives to the motion interrupt): until INT1 is high after a
        sample ("motion"), the Pico's timer has run ms ("timer"), or the host
        writes ("host"); with --run-to-end also "end", when the run is over. The
        Pico's timer runs --clock-ppm + --sleep-ppm fast meanwhile."""
        if self.i2c.int1:  # already high: a Pico checks the pin before it sleeps
            self._count("motion")
            return "motion"
        self.deep = True
        # true ms at which the timer has run ms (rounded up: it never wakes early)
        rate = 1_000_000 + self._ppm()
        target = self.vms + (ms * 1_000_000 - self.tfrac + rate - 1) // rate
        try:
            why = self._run(target)
        finally:
            self.deep = False
        if why == "time":
            why = "timer"
        elif why == "int1":
            why = "motion"
        if why != "end":
            self._count("motion" if why == "motion" else "timer")
        return why

    def can_sleep_deep(self):
        return not self.usb  # on battery, as a Pico; the host's serial port wakes it (see sleep)

    def _count(self, kind):
        if self.at_end is None:
            self.wakes[kind] += 1

    def _real_vms(self):
        # emulated ms that real time allows (plus one real millisecond of slack,
        # so that a fast emulation is not held back sample by sample)
        now = time.ticks_ms()
        self.real_ms += time.ticks_diff(now, self.real_ticks)
        self.real_ticks = now
        return int((self.real_ms + 1) * self.speed)

    def _sleep(self, emulated_ms):
        # sleep for that long in real time; True if the host wrote meanwhile
        real = int(emulated_ms / self.speed) + 1
        if self.eof:
            time.sleep_ms(real)
            return False
        return bool(self.poller.poll(real))

    def _lose_until_now(self):
        # the sensor went on measuring while the app was stopped: its FIFO overran
        if self.speed <= 0:
            return
        now = self._real_vms()
        while self._due(self.pushed + 1) <= now:
            self._next_sample()
            self.pushed += 1
        if now > self.vms:
            self._to(now)

    def finished(self):
        if not self.run_to_end:
            return self.eof  # the host side (stepclip emulate) has gone: end with it
        return self.ended_at >= 0 and self.vms - self.ended_at >= self.still_ms

    # --- serial ------------------------------------------------------------------------

    def read_byte(self):
        if self.eof or not self.poller.poll(0):
            return -1
        b = self.stdin.read(1)
        if not b:
            self.eof = True
            return -1
        return b[0]

    def write(self, data):
        self.stdout.write(data)
        flush = getattr(self.stdout, "flush", None)
        if flush:
            flush()

    # --- the rest -------------------------------------------------------------------------

    def unique_id(self):
        return self.id

    def usb_host(self):
        return self.usb

    def battery_mv(self):
        self._run_battery()
        return self.battery.reading(self.usb)

    def _run_battery(self):
        # the cell's charge up to now; kept in --battery FILE
        self.battery.run(self.vms - self.battery_ms, self.usb)
        self.battery_ms = self.vms
        if self.battery_path:
            self.battery.save(self.battery_path, self.clock_s())

    def report(self, app):
        """After --run-to-end: the stored records, as the DAYS command sends them, then
        a POWER line: what the device did until its samples ran out (ms in deep sleep
        and in all, wakes by kind, samples read from the FIFO, samples fed to the step
        counter to keep its phase) and how far the app's clock is from the true time
        (ms; its wall clock when set, else its uptime)."""
        self._run_battery()
        if not self.run_to_end:
            return
        app.proto.handle(b"DAYS")
        app._advance()
        end = self.at_end or (self.vms, self.deep_ms, (self.wakes["fifo"], self.wakes["motion"], self.wakes["timer"]), self.i2c.fifo_reads)
        if app.wall_s >= 0 and self.clock_base >= 0:
            error = (app.wall_s - self.clock_base) * 1000 + app.ms - self.vms
        else:
            error = app.uptime_s * 1000 + app.ms - self.vms
        self.write(checked("POWER ms=%d deep_ms=%d fifo=%d motion=%d timer=%d samples=%d filled=%d clock_error_ms=%d"
                           % (end[0], end[1], end[2][0], end[2][1], end[2][2], end[3], app.filled, error)))

    # --- the REPL after Ctrl-C ---------------------------------------------------------------

    def repl(self, exc):
        """After Ctrl-C stopped the app: MicroPython's REPL on the serial port (repl_emulated,
        imported only now, so that counting needs no heap for it). True on a soft reset
        (main.py then starts the app again); False when the host side closes."""
        import repl_emulated

        sys.print_exception(exc, sys.stdout)
        old_cwd = os.getcwd()
        os.chdir(self.data_dir)
        sys.modules["machine"] = repl_emulated.Machine(self)
        try:
            return repl_emulated.Repl(self).serve()
        finally:
            del sys.modules["machine"]
            os.chdir(old_cwd)
            self._lose_until_now()

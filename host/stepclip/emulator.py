"""The emulated stepclip device: the real firmware under the MicroPython unix port.

The firmware (firmware/main.py with board_emulated) runs unchanged in a
`micropython` process. Its LIS3DH is a register-level model fed with the device
view of the given traces; its flash is littlefs in a file; its USB serial port is
a pseudo-terminal that pyserial (and `stepclip`) opens like a real port. A Ctrl-C
byte from the host reaches the firmware as KeyboardInterrupt, as on a Pico: the
app saves and stops at a REPL that mpremote can drive (`stepclip deploy`), until
a soft reset (Ctrl-D) starts it again.
"""
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import tty
from datetime import datetime

import numpy as np

from . import detector, sensor
from . import protocol as proto
from . import trace as tracefile

EPOCH_2000 = datetime(2000, 1, 1)
FLASH_BLOCK = 4096  # board_emulated's littlefs block size, as on the Pico
DEFAULT_ID = "e0000000c11b0001"  # board_emulated's device id without --id
FILL_DAYS = os.path.join(os.path.dirname(__file__), "mpy", "fill_days.py")


def seconds_since_2000(when):
    return int((when - EPOCH_2000).total_seconds())


def device_samples(traces, rate_hz=None):
    """The traces' device views (at rate_hz, default config.RATE_HZ), one after another,
    as an (n, 3) int array."""
    parts = []
    for tr in traces:
        if isinstance(tr, np.ndarray):  # already device samples
            parts.append(tr)
            continue
        if not isinstance(tr, tracefile.Trace):
            tr = tracefile.read(tr)
        parts.append(sensor.device_view(tr, rate_hz).xyz)
    return np.concatenate(parts) if parts else np.zeros((0, 3), dtype=np.int32)


class FlashError(ValueError):
    """A --flash file that is not a stepclip flash image; str() is one line."""


def check_flash(path):
    """Refuse (FlashError) a file that exists but is not a stepclip flash image, so that
    the emulated device never formats it. A stepclip flash image is littlefs v2 with
    4096-byte blocks filling the file: littlefs's superblock (SPEC.md, "superblock")
    has the magic "littlefs" at byte 8 of block 0 or 1, followed by a 4-byte tag and
    the version, block size and block count (little-endian u32). A file that does not
    exist is fine: the device formats a new one there."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(2 * FLASH_BLOCK)
    except FileNotFoundError:
        return
    except OSError as e:
        raise FlashError(f"--flash {path}: cannot read: {e.strerror or e}") from None
    why = "it is empty" if not size else "no littlefs superblock in its first two blocks"
    for b in (0, FLASH_BLOCK):
        if head[b + 8 : b + 16] == b"littlefs":
            version, block, count = np.frombuffer(head[b + 20 : b + 32], dtype="<u4").tolist()
            if block == FLASH_BLOCK and count * block == size:
                return
            why = f"littlefs {version >> 16}.{version & 0xFFFF} with {count} blocks of {block} bytes in {size:,} bytes"
            break
    raise FlashError(
        f"--flash {path}: not a stepclip flash image ({why}); it is left alone: give a new file name for a new flash"
    )


def check_battery(path):
    """Refuse (ValueError, one line) a --battery file that exists but is not the
    emulated battery's (board_emulated keeps "stepclip-battery 1" and its charge in
    it); a file that does not exist is fine: the battery starts full."""
    try:
        with open(path, "rb") as f:
            head = f.read(18)
    except FileNotFoundError:
        return
    except OSError as e:
        raise ValueError(f"--battery {path}: cannot read: {e.strerror or e}") from None
    if head != b"stepclip-battery 1":
        raise ValueError(f"--battery {path}: not a battery file of the emulated board; it is left alone: give a new file name")


def check_id(text):
    """A device id for the emulated board: 16 hex digits, like a Pico's flash id (lowercase)."""
    if not re.fullmatch(r"[0-9a-fA-F]{16}", text or ""):
        raise ValueError(f"--id: 16 hex digits like a Pico's flash id (e.g. e0000000c11b0002), not {text!r}")
    return text.lower()


def fill_days(flash, last_day, n):
    """Write n closed day records (the days before last_day, a date) into a new
    flash image, with the firmware's own store under MicroPython."""
    first = (last_day - EPOCH_2000.date()).days
    proc = subprocess.run(
        [detector.micropython_executable(), str(FILL_DAYS), str(detector.FIRMWARE_DIR), str(flash), str(first), str(n)],
        capture_output=True, text=True,
    )
    if proc.returncode != 0 or "STORED" not in proc.stdout:
        raise RuntimeError(f"filling the flash failed: {(proc.stderr or proc.stdout).strip()[-200:]}")
    return int(proc.stdout.split()[-1])


class Emulator:
    """One emulated device. Use start()/stop() (or `with`), or run_to_end()."""

    def __init__(self, traces=(), start=None, clock_unset=False, speed=1.0, flash=None, device_id=None, firmware_dir=None,
                 heapsize=None, rate_hz=None, usb=False, battery=None, deep_after_s=None, clock_ppm=0, sleep_ppm=0,
                 odr_ppm=0):
        """traces: Trace objects, trace files, or (n, 3) arrays of device samples (milli-g
        at the device's rate); flash: a flash image file to keep (FlashError if it exists
        and is not one); device_id: 16 hex digits (ValueError if not); rate_hz: the
        firmware's sensor rate, one of sensor.DEVICE_RATES_HZ (default config.RATE_HZ);
        usb: on USB power (the emulated battery charges); battery: a file that keeps
        the emulated battery's charge between runs (default: full at each start);
        deep_after_s: the firmware's config.DEEP_SLEEP_AFTER_S (0: no deep sleep; default
        config's); clock_ppm: the Pico's timer (the app's clock) runs that many ppm fast,
        sleep_ppm: that many more in deep sleep (a deep-sleep clock other than the awake
        one); odr_ppm: the sensor's sample rate that far off nominal."""
        if flash:
            check_flash(flash)
        if battery:
            check_battery(battery)
        self.device_id = check_id(device_id) if device_id else None
        self.rate_hz = sensor.check_device_rate(rate_hz) if rate_hz else None
        self.tmp = tempfile.TemporaryDirectory(prefix="stepclip-emu-")
        self.samples_path = os.path.join(self.tmp.name, "samples.bin")
        detector.samples_file(device_samples(traces, self.rate_hz), self.samples_path)
        self.flash = flash or os.path.join(self.tmp.name, "flash.img")
        self.start_s = None if clock_unset else seconds_since_2000(start or datetime.now())
        self.speed = speed
        self.firmware_dir = str(firmware_dir or detector.FIRMWARE_DIR)
        self.heapsize = heapsize
        self.usb = usb
        self.battery = battery
        self.deep_after_s = deep_after_s
        self.clock_ppm = int(clock_ppm)
        self.sleep_ppm = int(sleep_ppm)
        self.odr_ppm = int(odr_ppm)
        self.proc = None
        self.port = None
        self._master = self._slave = None
        self._threads = []

    def command(self, run_to_end=False):
        cmd = [detector.micropython_executable()]
        if self.heapsize:
            cmd += ["-X", f"heapsize={self.heapsize}"]
        main = os.path.join(self.firmware_dir, "main.py")
        if not os.path.exists(main):
            main = os.path.join(self.firmware_dir, "main.mpy")
        cmd += [main, "--samples", self.samples_path, "--flash", self.flash]
        if self.start_s is not None:
            cmd += ["--start", str(self.start_s)]
        if self.device_id:
            cmd += ["--id", self.device_id]
        if self.rate_hz:
            cmd += ["--rate", str(self.rate_hz)]
        if self.usb:
            cmd += ["--usb"]
        if self.battery:
            cmd += ["--battery", str(self.battery)]
        if self.deep_after_s is not None:
            cmd += ["--deep-after", str(int(self.deep_after_s))]
        for opt, ppm in (("--clock-ppm", self.clock_ppm), ("--sleep-ppm", self.sleep_ppm), ("--odr-ppm", self.odr_ppm)):
            if ppm:
                cmd += [opt, str(ppm)]
        if run_to_end:
            cmd += ["--run-to-end", "--still-ms", str(int(detector.STILL_AFTER_S * 1000))]
        else:
            cmd += ["--speed", repr(float(self.speed))]
        return cmd

    def env(self):
        env = dict(os.environ)
        env["MICROPYPATH"] = self.firmware_dir  # import the firmware's modules (.py or .mpy)
        return env

    # --- play everything, then report ------------------------------------------------

    def run_to_end(self, timeout=None):
        """Play the samples as fast as possible; return the stored records:
        {"days": [...], "total_steps": N, "power": {...}} (and "uptime_records" when
        there are some). "power" is the board's POWER line: "ms" played, "deep_ms" in
        deep sleep, wakes "fifo", "motion", "timer", "samples" read from the FIFO,
        "filled" (fed to keep the step counter's phase), "clock_error_ms" (the app's
        clock minus the true time at the end); stepclip.day.profile() makes a day profile of it."""
        proc = subprocess.run(
            self.command(run_to_end=True), stdin=subprocess.DEVNULL, capture_output=True, env=self.env(), timeout=timeout
        )
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).decode(errors="replace").strip().splitlines()[-1:]
            raise RuntimeError(f"emulated device failed: {tail[0] if tail else proc.returncode}")
        days, uptime, power = [], [], {}
        for raw in proc.stdout.splitlines():
            text = proto.check(raw)
            if text.startswith(("DAY ", "UPTIME ")):
                kind, rec = proto.record(text)
                (days if kind == "DAY" else uptime).append(rec)
            elif text.startswith("POWER "):
                power = {k: int(v) for k, v in proto.fields(text).items()}
        total = sum(r["steps"] for r in days) + sum(r["steps"] for r in uptime)
        result = {"days": days, "total_steps": total, "power": power}
        if uptime:
            result["uptime_records"] = uptime
        return result

    # --- serve on a pseudo-terminal ----------------------------------------------------

    def start(self):
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # bytes pass unchanged, as over USB CDC
        self.port = os.ttyname(self._slave)
        self.proc = subprocess.Popen(
            self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env(), bufsize=0
        )
        self._threads = [
            threading.Thread(target=self._host_to_device, daemon=True),
            threading.Thread(target=self._device_to_host, daemon=True),
        ]
        for t in self._threads:
            t.start()
        return self.port

    def _host_to_device(self):
        while True:
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            if not data:
                return
            if b"\x03" in data and self.proc.poll() is None:
                # the Pico's USB console turns Ctrl-C into KeyboardInterrupt
                self.proc.send_signal(signal.SIGINT)
                data = data.replace(b"\x03", b"")
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                return

    def _device_to_host(self):
        while True:
            try:
                data = os.read(self.proc.stdout.fileno(), 4096)
            except (OSError, ValueError):
                return
            if not data:
                return
            try:
                os.write(self._master, data)
            except OSError:
                return

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=5):
        """Stop the device as a power cut would: no chance to save."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout)
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None
        for t in self._threads:
            t.join(1)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr) if self.proc else ():
            try:
                f.close()
            except OSError:
                pass

    def interrupt(self, timeout=5):
        """Ctrl-C, then the host side goes: the firmware saves its state and stops at its
        REPL, which ends with its input; returns its exit status."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        return self.proc.wait(timeout)

    def stderr(self):
        return self.proc.stderr.read().decode(errors="replace") if self.proc else ""

    def close(self):
        self.stop()
        self.tmp.cleanup()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()


def wait_for(predicate, timeout=10.0, interval=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return False

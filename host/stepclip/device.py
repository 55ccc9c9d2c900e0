"""Talking to a stepclip over USB serial (pyserial), with timeouts and retries.

A Pico running MicroPython shows up as USB 2E8A:0005; the emulated device's
pseudo-terminal (`stepclip emulate`) is opened by its path like any port.
"""
import os
import time

import serial
from serial.tools import list_ports

from . import protocol as proto

PICO_USB_ID = (0x2E8A, 0x0005)
PROTOCOLS = (1,)  # protocol versions this host speaks

# What a serial call raises when the port fails (unplugged, its other end gone):
# every call on an open port is inside a handler for these.
try:
    import termios

    PORT_ERRORS = (serial.SerialException, OSError, termios.error)  # termios.error: a pty whose other end died
except ImportError:  # Windows
    PORT_ERRORS = (serial.SerialException, OSError)
# what a MicroPython REPL answers to a stepclip command: the board has no stepclip on it
_REPL_SIGNS = (b">>>", b"Traceback (most recent call last)", b"NameError", b"MicroPython")


class DeviceNotFound(Exception):
    pass


class NotStepclip(Exception):
    pass


class DeviceTimeout(Exception):
    pass


def find_port():
    """The path of the first Pico running MicroPython, by its USB id."""
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        if (p.vid, p.pid) == PICO_USB_ID:
            return p.device
    raise DeviceNotFound(
        "no stepclip found: no USB serial device with id 2E8A:0005 (a Pico running MicroPython); "
        "plug it in or name the port with --port"
    )


class Device:
    """An open stepclip. Use as a context manager, or call close()."""

    def __init__(self, port=None, timeout=2.0, retries=2):
        self.port = port or find_port()
        self.timeout = timeout
        self.retries = retries
        self.heard = []  # the last raw lines received (to tell a bare MicroPython board)
        try:
            self.serial = serial.Serial(self.port, 115200, timeout=timeout, write_timeout=timeout, exclusive=True)
        except PORT_ERRORS as e:
            raise DeviceNotFound(f"{self.port}: {_open_failure(self.port, e)}") from None
        self.info = {}

    def close(self):
        try:
            self.serial.close()
        except PORT_ERRORS:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- lines ------------------------------------------------------------------------

    def _readline(self, deadline):
        line = b""  # a line may arrive across several reads
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._heard(line)
                raise DeviceTimeout("no reply")
            try:
                self.serial.timeout = min(remaining, self.timeout)
                line += self.serial.readline()
            except PORT_ERRORS as e:
                raise DeviceTimeout(f"the port failed ({e.__class__.__name__}): unplugged?") from None
            if line.endswith(b"\n"):
                self._heard(line)
                return line

    def _drain(self, seconds=0.3):
        """Keep what the port still says for a moment (after a reply that was not one)."""
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                self.serial.timeout = max(0.01, deadline - time.monotonic())
                data = self.serial.read(4096)
                for line in data.splitlines(keepends=True):
                    self._heard(line)
        except PORT_ERRORS:
            pass

    def _heard(self, line):
        if line:
            self.heard = self.heard[-7:] + [line[:200]]

    def _ask_once(self, line, patience):
        try:
            self.serial.reset_input_buffer()
            self.serial.write(line.encode("ascii") + b"\n")
            self.serial.flush()
        except PORT_ERRORS as e:
            raise DeviceTimeout(f"cannot write to the port ({e.__class__.__name__}): unplugged?") from None
        deadline = time.monotonic() + patience
        lines = []
        while True:
            text = proto.check(self._readline(deadline))
            if text.startswith(("S ", "END ")):
                continue  # samples of a stream still arriving: not our reply
            lines.append(text)
            if text.startswith("OK"):
                return lines
            if text.startswith("ERR"):
                _, code, message = (text.split(" ", 2) + ["", ""])[:3]
                raise proto.DeviceError(code, message)
            deadline = max(deadline, time.monotonic() + self.timeout)  # a long reply keeps coming

    def ask(self, line, patience=None):
        """Send one command; return its reply lines (the last is the OK line).

        Retries on a timeout or a garbled reply; raises DeviceTimeout,
        ProtocolError or DeviceError when it cannot get a good answer."""
        patience = patience or self.timeout
        for attempt in range(self.retries + 1):
            try:
                return self._ask_once(line, patience)
            except (DeviceTimeout, proto.ProtocolError) as e:
                last = e
                time.sleep(0.1 * (attempt + 1))
        if isinstance(last, DeviceTimeout):
            raise DeviceTimeout(
                f"{self.port}: no answer to {line.split()[0]} after {self.retries + 1} tries "
                f"({last}); is the device busy or unplugged?"
            )
        raise last

    # --- commands -----------------------------------------------------------------------

    def identify(self):
        """ID: the device's fields; NotStepclip if it is not a stepclip we can talk to."""
        try:
            lines = self.ask("ID")
        except (DeviceTimeout, proto.ProtocolError, proto.DeviceError) as e:
            self._drain()
            if any(sign in raw for raw in self.heard for sign in _REPL_SIGNS):
                raise NotStepclip(
                    f"{self.port}: a board running MicroPython without stepclip on it (it answers like the REPL): "
                    "run `stepclip deploy` to install stepclip"
                ) from None
            raise NotStepclip(f"{self.port}: not a stepclip device (it does not answer ID: {e})") from None
        info = proto.fields(lines[-1])
        if info.get("device") != "stepclip":
            raise NotStepclip(f"{self.port}: not a stepclip device (its ID reply has no device=stepclip)")
        try:
            version = int(info.get("proto", ""))
        except ValueError:
            version = None
        if version not in PROTOCOLS:
            raise NotStepclip(
                f"{self.port}: stepclip protocol {info.get('proto')} is not one this host speaks "
                f"({', '.join(map(str, PROTOCOLS))}): update stepclip"
            )
        self.info = info
        return info

    def set_time(self, when):
        self.ask("TIME " + when.strftime("%Y-%m-%dT%H:%M:%S"))

    def records(self, since=None):
        """DAYS [since]: list of (kind, record dict)."""
        lines = self.ask("DAYS" + (" " + since.isoformat() if since else ""), patience=self.timeout * 3)
        return [proto.record(t) for t in lines[:-1]]


def _open_failure(port, e):
    """Why a port could not be opened, in words a person can act on."""
    text = str(e)
    if "exclusively lock" in text:
        return "in use by another program (a serial terminal, mpremote, another stepclip?): close it and try again"
    if port.startswith("/") and not os.path.exists(port):
        return "cannot open: no such port (is the clip plugged in?)"
    if os.path.isfile(port):
        return "cannot open: not a serial port (it is a file)"
    if os.path.isdir(port):
        return "cannot open: not a serial port (it is a folder)"
    reason = getattr(e, "strerror", None) or text.split(":")[-1].strip() or "cannot open"
    return f"cannot open: {reason}"

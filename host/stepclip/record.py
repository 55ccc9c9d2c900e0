"""`stepclip record`: stream the device's raw samples into a trace file.

The device sends ``S <index> <x> <y> <z>`` lines after ``STREAM [seconds]``
(firmware/PROTOCOL.md). Each sample is written as a row ``t_ms,x,y,z`` of the
project's trace format (stepclip.trace) with ``t_ms = index * 1000 / rate``, so
a sample that was lost or failed its checksum shows as a gap in t_ms (the
format allows gaps) and the rest keep their true times.

The file stays valid whatever happens once the first sample is in: the header
goes out together with the first rows, rows are only ever written whole (one
unbuffered write of complete lines at a time, at least every FLUSH_S), so after
Ctrl-C, an unplugged cable or a silent device every complete row is on disk and
stepclip.trace.read / `stepclip detect` read the file.

Endings (summary["ended"]):
  "end"          the device sent END after the requested seconds
  "seconds"      every sample of the requested seconds arrived, END did not
  "interrupted"  Ctrl-C (KeyboardInterrupt): STOP was sent, the file closed,
                 and record() returns normally (no --seconds means "until
                 Ctrl-C", so this is the usual way to end a recording)
  "disconnected" the port failed (cable pulled)
  "silent"       nothing arrived for `idle_timeout` seconds
With no sample at all the file is removed, and the KeyboardInterrupt is
re-raised or DeviceTimeout raised.
"""
import math
import os
import sys
import time
from datetime import datetime

from . import device as devmod
from . import protocol as proto
from . import trace as tracefile

FLUSH_S = 0.5  # rows reach the file at least this often
IDLE_TIMEOUT_S = 5.0  # no byte for this long: the device is gone (it sends a burst a second)
STOP_PATIENCE_S = 2.0  # how long to wait for "OK stopped" after Ctrl-C
OK_ENDINGS = ("end", "seconds", "interrupted")


class RecordError(RuntimeError):
    """A recording that cannot start (file not writable, bad arguments)."""


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


class _TraceWriter:
    """Appends whole rows to the trace file; the header goes out with the first rows."""

    def __init__(self, path):
        self.path = os.fspath(path)
        try:
            # unbuffered: each write() is one system call of complete lines
            self.f = open(self.path, "wb", buffering=0)
        except OSError as e:
            raise RecordError(f"{self.path}: cannot write: {e.strerror or e}") from None
        self.header = None
        self.pending = []
        self.rows = 0
        self.last_flush = time.monotonic()

    def add(self, t_ms, x, y, z):
        self.pending.append(b"%d,%d,%d,%d\n" % (t_ms, x, y, z))

    def flush(self):
        self.last_flush = time.monotonic()
        if not self.pending:
            return
        data = b"".join(self.pending)
        n = len(self.pending)
        if self.rows == 0:
            data = self.header + data
        view = memoryview(data)
        while view:
            view = view[self.f.write(view):]
        self.pending.clear()
        self.rows += n

    def maybe_flush(self):
        if time.monotonic() - self.last_flush >= FLUSH_S:
            self.flush()

    def close(self):
        try:
            self.flush()
        finally:
            try:
                os.fsync(self.f.fileno())
            except OSError:
                pass
            self.f.close()

    def remove(self):
        self.f.close()
        try:
            os.remove(self.path)
        except OSError:
            pass


def _header(info, stream, recorded):
    rate = tracefile.format_rate(float(stream["rate"]))
    dev_id = info.get("id", "unknown")
    lines = [
        "# stepclip-trace: 1",
        f"# rate_hz: {rate}",
        "# units: mg",
        f"# range_g: {stream.get('range', info.get('range', ''))}",
        f"# resolution_bits: {stream.get('bits', info.get('bits', ''))}",
        f"# device: {dev_id}",
        f"# recorded: {recorded}",
        f"# source: recorded with stepclip record from device {dev_id}",
        "t_ms,x,y,z",
    ]
    return ("\n".join(lines) + "\n").encode("ascii")


def _tqdm_progress(total):
    from tqdm import tqdm

    bar = tqdm(total=total, unit="s", desc="recording", file=sys.stderr, leave=False,
               bar_format="{desc}: {n:.0f}/{total:.0f} s |{bar}| {elapsed}" if total else "{desc}: {n:.0f} s {elapsed}")

    def update(recorded_s, total_s):
        bar.n = recorded_s
        bar.refresh()

    update.close = bar.close
    return update


def _seconds_arg(seconds):
    if seconds is None:
        return 0
    if isinstance(seconds, bool) or not float(seconds).is_integer() or seconds < 0:
        raise ValueError(f"--seconds must be a whole number of seconds >= 0, not {seconds!r}")
    return int(seconds)


def record(device, out_path, seconds=None, progress=None, idle_timeout=IDLE_TIMEOUT_S):
    """Stream samples from an open Device into the trace file out_path; return a summary dict.

    seconds: how many seconds to record (None or 0: until Ctrl-C). progress: a
    callable progress(recorded_s, total_s or None), called about once per
    recorded second; None shows a tqdm bar on stderr when stderr is a terminal;
    False shows nothing. Raises DeviceTimeout/NotStepclip/DeviceError if the
    stream cannot start or no sample arrives, RecordError if the file cannot be
    written. See the module docstring for how a recording ends.
    """
    n_seconds = _seconds_arg(seconds)
    info = device.info or device.identify()
    close_bar = None
    if progress is None:
        if sys.stderr.isatty():
            progress = _tqdm_progress(n_seconds or None)
            close_bar = progress.close
        else:
            progress = False

    writer = _TraceWriter(out_path)
    ser = device.serial
    reader = _Lines(ser)
    state = {"last": -1, "missing": 0, "bad": 0, "end_samples": None, "done": False}
    ended = None
    stream = {}

    def take(text):  # until the stream's rate is known
        return False

    def feed(raw):
        """One raw line: its text if it passes its checksum (and take() it), else None."""
        try:
            text = proto.check(raw)
        except proto.ProtocolError:
            state["bad"] += 1
            return None
        take(text)
        return text

    # From the STREAM command on, the device may be streaming: it is STOPped on every way out
    # but END and a dead port.
    try:
        try:
            reply = device.ask(f"STREAM {n_seconds}")[-1]
            stream = proto.fields(reply)
            try:
                rate = float(stream.get("rate") or info.get("rate"))
            except (TypeError, ValueError):
                rate = math.nan
            if not (math.isfinite(rate) and 0 < rate <= 1000):
                raise proto.ProtocolError(f"the device streams at {stream.get('rate')} Hz: a trace needs 0 < rate <= 1000")
            stream["rate"] = rate
            writer.header = _header(info, stream, datetime.now().astimezone().isoformat(timespec="seconds"))
            expected = n_seconds * rate if n_seconds else None
            total_s = n_seconds or None

            def take(text):
                """One checked line: a sample row, or END's count."""
                if text.startswith("S "):
                    try:
                        _, i, x, y, z = text.split(" ")
                        i, x, y, z = int(i), int(x), int(y), int(z)
                    except ValueError:
                        state["bad"] += 1
                        return
                    if i <= state["last"]:
                        return  # not newer than what we have (cannot happen with one stream)
                    state["missing"] += i - state["last"] - 1
                    state["last"] = i
                    writer.add(math.floor(i * 1000 / rate + 0.5), x, y, z)
                    state["done"] = expected is not None and i + 1 >= expected
                elif text.startswith("END "):
                    n = proto.fields(text).get("samples", "")
                    state["end_samples"] = int(n) if n.isdigit() else None
                # other lines (a reply to something else) are not ours

            last_byte = time.monotonic()
            shown = -1
            _set_timeout(ser, 0.2)
            while ended is None:
                try:
                    got, lines = reader.read()
                except devmod.PORT_ERRORS:
                    ended = "disconnected"
                    break
                now = time.monotonic()
                if not got:
                    if now - last_byte > idle_timeout:
                        ended = "silent"
                    continue
                last_byte = now
                for raw in lines:
                    text = feed(raw)
                    if text is None:
                        continue
                    if text.startswith("END "):
                        ended = "end"
                        break
                    if state["done"]:  # the last requested sample: END follows
                        ended = "seconds"
                writer.maybe_flush()
                recorded = (state["last"] + 1) / rate
                if progress and int(recorded) != shown:
                    shown = int(recorded)
                    progress(recorded, total_s)
            if ended == "seconds" and _read_until(reader, feed, lambda text: text.startswith("END "), 0.5):
                ended = "end"  # END came right after the last sample, as it should
            if ended == "silent" and n_seconds == 0:
                _send_stop(reader, feed, patience=0.5)  # in case it is only busy
        except KeyboardInterrupt:
            ended = "interrupted"
            try:
                _send_stop(reader, feed, patience=STOP_PATIENCE_S)
            except KeyboardInterrupt:
                pass  # a second Ctrl-C: leave the device streaming, keep the file
        except BaseException:
            try:
                _send_stop(reader, feed, patience=0.5)
            except BaseException:
                pass
            if writer.rows or writer.pending:
                writer.close()
            else:
                writer.remove()
            raise
    finally:
        _set_timeout(ser, device.timeout)
        if close_bar:
            close_bar()

    if not writer.rows and not writer.pending:
        writer.remove()
        if ended == "interrupted":
            raise KeyboardInterrupt
        raise devmod.DeviceTimeout(
            f"{device.port}: no samples arrived ({_ENDED[ended]}); {writer.path} was not written"
        )
    writer.close()
    if state["end_samples"] is not None and state["end_samples"] > state["last"] + 1:
        state["missing"] += state["end_samples"] - state["last"] - 1  # the last ones were lost
    samples = writer.rows
    summary = {
        "path": writer.path,
        "device": info.get("id"),
        "rate_hz": stream["rate"],
        "range_g": _int(stream.get("range", info.get("range"))),
        "bits": _int(stream.get("bits", info.get("bits"))),
        "samples": samples,
        "seconds": round((state["last"] + 1) / stream["rate"], 3),
        "requested_s": n_seconds or None,
        "skipped": state["missing"],
        "bad_lines": state["bad"],
        "ended": ended,
    }
    if progress and ended != "interrupted":
        progress(summary["seconds"], n_seconds or None)
    return summary


_ENDED = {
    "end": "the device ended the stream",
    "seconds": "all the requested samples arrived (END was lost)",
    "interrupted": "stopped with Ctrl-C",
    "disconnected": "the port failed: unplugged?",
    "silent": "the device stopped sending: unplugged or busy?",
    None: "no reason",
}


def _set_timeout(ser, seconds):
    try:
        ser.timeout = seconds  # pyserial reconfigures the port: fails once it is unplugged
    except devmod.PORT_ERRORS:
        pass


class _Lines:
    """Complete lines from the port; a line cut by a read waits for its end."""

    def __init__(self, ser):
        self.ser = ser
        self.buf = b""

    def read(self):
        """(whether any byte arrived, [complete raw lines]); raises on a port error."""
        chunk = self.ser.read(max(1, self.ser.in_waiting))
        if not chunk:
            return False, []
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        return True, lines


def _send_stop(reader, feed, patience):
    """STOP, keeping the samples that were already on their way; wait for OK stopped."""
    for _ in range(2):
        try:
            reader.ser.write(b"STOP\n")
            reader.ser.flush()
        except devmod.PORT_ERRORS:
            return False
        if _read_until(reader, feed, lambda text: text.startswith("OK stopped"), patience):
            return True
    return False


def _read_until(reader, feed, done, patience):
    """Feed the lines that arrive (samples still on their way are kept) until done(text)."""
    deadline = time.monotonic() + patience
    _set_timeout(reader.ser, 0.1)
    while time.monotonic() < deadline:
        try:
            _, lines = reader.read()
        except devmod.PORT_ERRORS:
            return False
        for raw in lines:
            text = feed(raw)
            if text is not None and done(text):
                return True
    return False


def describe(summary):
    """One line for the user about a finished recording."""
    s = summary
    line = (
        f"recorded {s['seconds']:g} s ({s['samples']} samples at {tracefile.format_rate(s['rate_hz'])} Hz, "
        f"+-{s['range_g']} g, {s['bits']}-bit) from {s['device']} to {s['path']}"
    )
    lost = []
    if s["skipped"]:
        lost.append(f"{s['skipped']} sample(s) missing (gaps in t_ms)")
    if s["bad_lines"]:
        lost.append(f"{s['bad_lines']} line(s) failed their checksum")
    line += "; " + (", ".join(lost) if lost else "no samples missing")
    if s["ended"] not in ("end", "seconds"):
        line += f"; {_ENDED[s['ended']]}"
    return line


def record_command(port, out_path, seconds=None, out=print):
    """What `stepclip record` does: open the port, record, print one line; returns the exit status.

    0 when the recording ended as asked (END, the requested seconds, Ctrl-C),
    1 when the device went away mid-way (the file is still valid). Errors before
    the first sample raise (DeviceNotFound, NotStepclip, DeviceTimeout,
    RecordError, ValueError) for the CLI to print.
    """
    with devmod.open_stepclip(port) as dev:
        summary = record(dev, out_path, seconds)
    out(describe(summary))
    return 0 if summary["ended"] in OK_ENDINGS else 1

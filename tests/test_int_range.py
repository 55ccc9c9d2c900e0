"""The step counter stays within the Pico's small-int range and never makes a float.

MicroPython on the RP2040 stores integers within +-2**30 inline; anything larger
(or any float) is a heap object, i.e. an allocation per sample. The unix port is
64-bit, so it cannot show this. Instead the detector's source is rewritten so that
the result of every arithmetic operation passes through a check, and the checked
copy is run on the most extreme inputs the sensor can deliver.
"""
import ast
import copy
import math
from pathlib import Path

import numpy as np
import pytest

import stepclip_firmware

SOURCE = Path(stepclip_firmware.__path__[0]) / "stepcounter.py"
LIMIT = 1 << 30


class Checked(ast.NodeTransformer):
    """Wrap every BinOp/UnaryOp (and the value of every augmented assignment)."""

    def _wrap(self, node):
        return ast.copy_location(ast.Call(ast.Name("_chk", ast.Load()), [node], []), node)

    def visit_BinOp(self, node):
        self.generic_visit(node)
        return self._wrap(node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        return self._wrap(node) if not isinstance(node.op, ast.Not) else node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        load = copy.deepcopy(node.target)
        for n in ast.walk(load):
            if hasattr(n, "ctx"):
                n.ctx = ast.Load()
        value = self._wrap(ast.BinOp(load, node.op, node.value))
        return ast.copy_location(ast.Assign([node.target], value), node)


class Recorder:
    def __init__(self):
        self.active = False
        self.largest = 0
        self.floats = 0

    def __call__(self, v):
        if self.active:
            if isinstance(v, float):
                self.floats += 1
            elif isinstance(v, int):
                self.largest = max(self.largest, abs(v))
        return v


def checked_counter():
    tree = Checked().visit(ast.parse(SOURCE.read_text()))
    ast.fix_missing_locations(tree)
    rec = Recorder()
    ns = {"_chk": rec, "__name__": "stepcounter_checked"}
    exec(compile(tree, str(SOURCE), "exec"), ns)
    return ns["StepCounter"], rec


def extreme_inputs(rate, seconds=120, seed=0):
    """Full-scale noise, square waves at +-16 g and beyond, silence, then walking."""
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    parts = [
        rng.integers(-32768, 32768, size=(n // 4, 3)),  # int16 garbage
        np.tile([[32767, 32767, 32767]] * 7 + [[-32768, -32768, -32768]] * 7, (n // 56, 1)),
        np.zeros((n // 8, 3), dtype=int),
    ]
    t = np.arange(n // 4) / rate
    walk = np.zeros((len(t), 3))
    walk[:, 2] = 1000 + 15000 * np.sin(2 * math.pi * 1.8 * t)  # +-16 g steps
    walk[:, 0] = 15000 * np.sin(2 * math.pi * 0.9 * t)
    parts.append(walk.astype(int))
    return np.concatenate(parts).tolist()


@pytest.mark.parametrize("rate", [12.5, 25, 50, 100, 400])
def test_every_intermediate_stays_within_2_30_and_no_float_per_sample(rate):
    StepCounter, rec = checked_counter()
    det = StepCounter(rate)  # construction may use a float for the rate
    rec.active = True
    for x, y, z in extreme_inputs(rate):
        det.update(x, y, z)
        det.cadence()
    assert rec.floats == 0
    assert 0 < rec.largest < LIMIT, f"largest intermediate {rec.largest} >= 2**30"


def test_the_checker_sees_a_value_beyond_2_30():
    # guard against a checker that silently checks nothing
    StepCounter, rec = checked_counter()
    det = StepCounter(25)
    rec.active = True
    det.base = 1 << 31
    det.update(0, 0, 1000)
    assert rec.largest >= LIMIT

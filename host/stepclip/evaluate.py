"""Accuracy of the step counter on recorded traces: per file, per folder, per
placement and per cadence band."""
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import detector, sensor
from . import trace as tracefile


# Cadence bands (true steps per minute of walking) for the table by cadence: under 70
# is the slow walking of ../shared/reference/step-detection.md where hip pedometers
# fail, 110 and over is brisk.
CADENCE_BANDS = ((0, 70, "< 70"), (70, 90, "70-90"), (90, 110, "90-110"), (110, float("inf"), ">= 110"))
# Two true steps further apart than this are not one walk: the time between them is
# not walking time (the detector's own longest step, firmware _MAX_STEP_MS).
WALK_GAP_S = 2.5


def true_cadence(trace):
    """True steps per minute of walking, or None for a trace without true steps.

    With a ``step`` column, walking time is the sum of the intervals between
    consecutive true steps that are at most WALK_GAP_S apart (pauses and the
    still ends of a recording do not count); without one, the trace's whole
    duration stands in for it (an underestimate of the cadence).
    """
    if not trace.steps:
        return None
    if trace.step is not None:
        idx = np.repeat(np.arange(len(trace.step)), np.asarray(trace.step, dtype=np.int64))
        gaps = np.diff(idx) / trace.rate_hz
        walking = gaps[gaps <= WALK_GAP_S]
        if walking.size and walking.sum() > 0:
            return 60.0 * walking.size / float(walking.sum())
    return 60.0 * trace.steps / trace.duration_s if trace.duration_s > 0 else None


def cadence_band(cadence):
    """The CADENCE_BANDS label of a cadence (steps/min), None for None."""
    if cadence is None:
        return None
    for lo, hi, label in CADENCE_BANDS:
        if lo <= cadence < hi:
            return label
    return None


@dataclass
class FileResult:
    file: str
    folder: str
    placement: str
    true_steps: object  # int or None when the trace has no ground truth
    counted: int
    duration_s: float
    cadence_spm: object = None  # true steps per minute of walking, None without true steps

    @property
    def cadence_band(self):
        return cadence_band(self.cadence_spm)

    @property
    def error_pct(self):
        if not self.true_steps:
            return None
        return 100.0 * (self.counted - self.true_steps) / self.true_steps

    def as_dict(self):
        d = asdict(self)
        d["error_pct"] = None if self.error_pct is None else round(self.error_pct, 2)
        d["duration_s"] = round(self.duration_s, 2)
        d["cadence_spm"] = None if self.cadence_spm is None else round(self.cadence_spm, 1)
        d["cadence_band"] = self.cadence_band
        return d


@dataclass
class Summary:
    name: str
    files: int
    true_steps: int  # over files with ground truth
    counted: int  # over the same files
    total_error_pct: object  # (counted - true) / true over files with steps
    mape: object  # mean absolute % error over files with steps
    worst_pct: object  # largest absolute % error over files with steps
    zero_step_hours: float  # duration of files whose truth is 0 steps
    false_steps_per_hour: object  # steps counted in those files, per hour

    def as_dict(self):
        d = asdict(self)
        for k in ("total_error_pct", "mape", "worst_pct", "false_steps_per_hour"):
            if d[k] is not None:
                d[k] = round(d[k], 2)
        d["zero_step_hours"] = round(d["zero_step_hours"], 3)
        return d


def find_traces(paths):
    """Every .csv under the given files and folders, in a stable order."""
    found = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*.csv") if q.is_file()))
        else:
            found.append(p)  # a missing file is reported when it is read
    return found


def device_view(path, tr, rate_hz=None, range_g=None, bits=None):
    """sensor.device_view of the trace `tr` read from `path`; its ValueError (e.g. a
    rate it cannot resample) as a TraceError naming the file."""
    try:
        return sensor.device_view(tr, rate_hz, range_g, bits)
    except tracefile.TraceError:
        raise
    except ValueError as e:
        raise tracefile.TraceError(f"{path}: {e}") from None


def evaluate_file(path, rate_hz=None, range_g=None, bits=None, runtime="cpython"):
    """Count one trace at the device's settings. Raises TraceError (naming the
    file) on a bad file, or one the device view cannot be made of."""
    tr = tracefile.read(path)
    view = device_view(path, tr, rate_hz, range_g, bits)
    result = detector.run(view.xyz, view.rate_hz, runtime)
    return FileResult(
        file=str(path),
        folder=os.path.basename(os.path.dirname(os.path.abspath(path))),
        placement=tr.meta.get("placement", "") or "unknown",
        true_steps=tr.steps,
        counted=result.counted,
        duration_s=tr.duration_s,
        cadence_spm=true_cadence(tr),
    )


def count_synthetic(segments, seed):
    """Count a synthetic trace (stepclip.synth segments) at the device's settings.

    The sensor sits in a random orientation with a random offset of up to 40 mg
    per axis, both drawn from ``seed`` (which also seeds the trace). Returns
    (steps counted by the firmware's detector, true steps).
    """
    from . import synth

    rng = np.random.default_rng(seed)
    tr = synth.generate(segments, seed=seed, orientation=tuple(rng.uniform(-180, 180, 3)),
                        offset_mg=tuple(rng.uniform(-40, 40, 3)))
    view = sensor.device_view(tr)
    return detector.run(view.xyz, view.rate_hz).counted, tr.steps


def summarize(name, results):
    walks = [r for r in results if r.true_steps]
    idle = [r for r in results if r.true_steps == 0]
    true = sum(r.true_steps for r in walks)
    counted = sum(r.counted for r in walks)
    errs = [abs(r.error_pct) for r in walks]
    hours = sum(r.duration_s for r in idle) / 3600.0
    return Summary(
        name=name,
        files=len(results),
        true_steps=true,
        counted=counted,
        total_error_pct=100.0 * (counted - true) / true if true else None,
        mape=sum(errs) / len(errs) if errs else None,
        worst_pct=max(errs) if errs else None,
        zero_step_hours=hours,
        false_steps_per_hour=sum(r.counted for r in idle) / hours if hours else None,
    )


def group(results, key):
    """One Summary per value of a FileResult attribute, in order of first appearance."""
    groups = {}
    for r in results:
        groups.setdefault(getattr(r, key), []).append(r)
    return [summarize(k, v) for k, v in groups.items()]


def by_cadence(results):
    """One Summary per cadence band that has walking files, slowest first."""
    found = {label: summarize(label, [r for r in results if r.cadence_band == label]) for _, _, label in CADENCE_BANDS}
    return [found[label] for _, _, label in CADENCE_BANDS if found[label].files]

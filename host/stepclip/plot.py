"""Charts (matplotlib, written to PNG files)."""
import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def detection(view, result, out, title=None):
    """Signal, filtered signal, detected and true steps of one device-view trace."""
    plt = _pyplot()
    rate = view.rate_hz
    t = np.arange(len(view.xyz)) / rate
    mag = np.sqrt((view.xyz.astype(np.float64) ** 2).sum(axis=1))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(14, 6), sharex=True)
    top.plot(t, mag, lw=0.8, color="tab:blue")
    top.set_ylabel("|a| (mg)")
    top.set_title(title or view.name)
    if result.filtered is not None:
        bottom.plot(t, result.filtered, lw=0.8, color="tab:gray", label="filtered")
    bottom.axhline(0, color="black", lw=0.5)
    if len(result.step_index):
        at = np.clip(result.step_index, 0, len(t) - 1)
        y = result.filtered[at] if result.filtered is not None else np.zeros(len(at))
        bottom.plot(t[at], y, "^", color="tab:red", ms=6, label=f"counted ({result.counted})")
    if view.step is not None and view.step.any():
        idx = np.nonzero(view.step)[0]
        bottom.plot(t[idx], np.zeros(len(idx)), "v", color="black", ms=5, label=f"true ({int(view.step.sum())})")
    bottom.set_xlabel("time (s)")
    bottom.set_ylabel("excursion (mg)")
    bottom.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)

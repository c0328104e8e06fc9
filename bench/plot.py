"""Charts for bench/RESULTS.md: PNG files in bench/charts/, drawn with matplotlib."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")  # files only: no display is needed or wanted
import matplotlib.pyplot as plt  # after choosing the backend

CHARTS = Path(__file__).with_name("charts")
Series = dict[str, list[float]]


def chart(name: str, title: str, x: tuple[str, list[int]], panels: dict[str, Series],
          reference: tuple[str, float] | None = None) -> Path:
    """One panel per entry of `panels` (its y label → one line per series) against the same
    `x` (label, values; drawn on a log scale); `reference`: a labelled level drawn across the
    first panel (a floor or a ceiling)."""
    xlabel, xs = x
    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2),
                                constrained_layout=True, squeeze=False)
    colours: dict[str, str] = {}  # one colour per series across every panel
    first_labels = set(next(iter(panels.values())))
    for axis, (ylabel, series) in zip(axes[0], panels.items(), strict=True):
        for label, ys in series.items():
            colour = colours.setdefault(label, f"C{len(colours)}")
            axis.plot(xs, ys, marker="o", label=label, color=colour)
        if set(series) - first_labels:
            axis.legend()
        axis.set_xscale("log", base=2 if xs[-1] <= 1024 else 10)
        axis.set_xticks(xs, [f"{value:,}" for value in xs])
        axis.set_xlabel(xlabel)
        axis.set_ylabel(ylabel)
        axis.grid(alpha=0.3)
        axis.set_ylim(bottom=0)
    if reference is not None:
        axes[0][0].axhline(reference[1], linestyle="--", color="grey", label=reference[0])
    axes[0][0].legend()
    figure.suptitle(title)
    CHARTS.mkdir(exist_ok=True)
    path = CHARTS / f"{name}.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path

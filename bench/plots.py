"""PNG figures of a ``swapcam bench`` report (the parsed report.json).

    write_plots(report, folder) -> [inference-latency.png, stages.png, timeline.png]

- inference-latency.png: per-call latency of every inference runner, histogram and empirical CDF;
- stages.png: p50 work of each stage per end-to-end run, stacked in pipeline order, against the camera's
  frame interval;
- timeline.png: capture → sink latency of every delivered frame over the run.

Each figure owns its Agg canvas (no pyplot), so drawing needs no display and leaves matplotlib's global
figure registry alone. A report with an empty list still gets its figure, with a "no data" note.
"""

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypedDict, cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

PIPELINE_ORDER = ("read", "landmarks", "swap", "blend")
DEFAULT_FPS = 30.0  # the camera rate the stage bars are read against when no run was paced
LOG_SPREAD = 10.0  # max / min latency above which the latency axis is logarithmic
WIDTH_IN, DPI = 9.6, 100
HIST_BINS = 60
INTERVAL_LINES = ("--", ":", "-.")  # one style per paced rate, so 30 and 60 fps tell apart


def write_plots(report: Mapping, folder: Path) -> list[Path]:
    """Draw the three figures of ``report`` into ``folder`` (created if missing); their paths, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, plot in PLOTS.items():
        path = folder / name
        plot(report).savefig(path, dpi=DPI)
        paths.append(path)
    return paths


def plot_inference(report: Mapping) -> Figure:
    titles = ["Inference latency: histogram", "Inference latency: empirical CDF (dots: p50, p99)"]
    figure, (hist_axes, cdf_axes) = new_figure(report, titles, height=4.8)
    runs = [run for run in report.get("inference", []) if len(run.get("samples_ms", []))]
    if not runs:
        for axes in (hist_axes, cdf_axes):
            note_no_data(axes, "inference runs")
        return figure
    samples = [np.asarray(run["samples_ms"], np.float64) for run in runs]
    log = wants_log(samples)
    bins = latency_bins(samples, log)
    for run, values in zip(runs, samples, strict=True):
        label = f"{runner_label(run)} (p50 {run['p50_ms']:.2f} ms, p99 {run['p99_ms']:.2f} ms)"
        weights = np.full(len(values), 1 / len(values))
        *_, patches = hist_axes.hist(values, bins=bins, weights=weights, histtype="step", linewidth=1.2)
        color = cast("list[Polygon]", patches)[0].get_edgecolor()  # one data set, "step": one Polygon
        x, y = ecdf(values)
        cdf_axes.step(x, y, where="post", color=color, linewidth=1.2, label=label)
        cdf_axes.plot([run["p50_ms"], run["p99_ms"]], [0.5, 0.99], "o", color=color, markersize=5)
    for axes in (hist_axes, cdf_axes):
        if log:
            set_log_x(axes)
        axes.set_xlabel("latency per call (ms)")
        axes.grid(alpha=0.3)
    hist_axes.set_ylabel("share of calls")
    cdf_axes.set_ylabel("share of calls ≤ x")
    cdf_axes.set_ylim(0, 1.02)
    figure.legend(loc="outside lower center", ncols=2, fontsize=7)  # below both: no curve hidden
    return figure


def plot_stages(report: Mapping) -> Figure:
    runs = report.get("end_to_end", [])
    title = "Stage work per frame (p50), stacked in pipeline order (paced runs: read is waiting, left out)"
    figure, (axes,) = new_figure(report, [title], height=max(3.2, 1.6 + 0.55 * len(runs)))
    if not runs:
        note_no_data(axes, "end-to-end runs")
        return figure
    stages = stage_order([stage for run in runs for stage in run.get("stages_ms", {})])
    rows = np.arange(len(runs))
    left = np.zeros(len(runs))
    for stage in stages:
        widths = np.array([stage_p50(run, stage) for run in runs])
        axes.barh(rows, widths, left=left, height=0.6, label=stage)
        left += widths
    for row, total in zip(rows, left, strict=True):
        axes.text(total, row, f" {total:.1f} ms", va="center", fontsize=8)
    rates = paced_rates(runs) or [DEFAULT_FPS]
    for fps, style in zip(rates, INTERVAL_LINES, strict=False):
        axes.axvline(1000 / fps, label=f"frame interval at {fps:g} fps", **interval_style(style))
    axes.set_yticks(rows, [run_label(run) for run in runs])
    axes.invert_yaxis()
    axes.set_xlim(0, max(left.max(), 1000 / min(rates)) * 1.15)  # room for the totals
    axes.set_xlabel("work per frame (ms)")
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    return figure


def plot_timeline(report: Mapping) -> Figure:
    figure, (axes,) = new_figure(report, ["Capture → sink latency per frame"], height=4.2)
    runs = [run for run in report.get("end_to_end", []) if run.get("timeline")]
    if not runs:
        note_no_data(axes, "end-to-end frames")
        return figure
    for run in runs:
        timeline = np.asarray(run["timeline"], np.float64)
        label = f"{run_label(run)} (p50 {run['latency_ms']['p50']:.1f} ms)"
        axes.plot(timeline[:, 1], timeline[:, 2], linewidth=0.8, label=label)
    for fps, style in zip(paced_rates(runs), INTERVAL_LINES, strict=False):
        axes.axhline(1000 / fps, label=f"frame interval at {fps:g} fps", **interval_style(style))
    axes.set_ylim(bottom=0)
    axes.set_xlabel("time since the first frame (s)")
    axes.set_ylabel("latency (ms)")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    return figure


class LineStyle(TypedDict):
    color: str
    linestyle: str
    linewidth: float


def interval_style(linestyle: str) -> LineStyle:
    return {"color": "0.25", "linestyle": linestyle, "linewidth": 1.2}


def new_figure(report: Mapping, titles: Sequence[str], height: float) -> tuple[Figure, Sequence[Axes]]:
    """A figure on its own Agg canvas with one titled axes per title, side by side."""
    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(machine_line(report.get("machine", {})), fontsize=8, color="0.35")
    axes = figure.subplots(1, len(titles), squeeze=False)[0]
    for each, title in zip(axes, titles, strict=True):
        each.set_title(title)
    return figure, axes


def set_log_x(axes: Axes) -> None:
    """Log x scale with plain numbers at 1, 2 and 5 of every decade."""
    axes.set_xscale("log")
    axis = axes.xaxis
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(StrMethodFormatter("{x:g}"))
    axis.set_minor_formatter(NullFormatter())


def note_no_data(axes: Axes, what: str) -> None:
    axes.text(0.5, 0.5, f"no data: this report has no {what}", ha="center", va="center",
              transform=axes.transAxes, color="0.4")  # fmt: skip
    axes.set_xticks([])
    axes.set_yticks([])


def machine_line(machine: Mapping) -> str:
    return f"CPU: {machine.get('cpu') or 'unknown'}  ·  GPU: {machine.get('gpu') or 'none'}"


def runner_label(run: Mapping) -> str:
    return f"{run['backend']} batch {run['batch']}"


def run_label(run: Mapping) -> str:
    pace = run.get("pace_fps")
    return f"{run['mode']}, paced {pace:g} fps" if pace else f"{run['mode']}, unpaced"


def paced_rates(runs: Sequence[Mapping]) -> list[float]:
    """The distinct camera rates of the paced runs, ascending."""
    return sorted({float(run["pace_fps"]) for run in runs if run.get("pace_fps")})


def stage_order(names: Sequence[str]) -> list[str]:
    """Distinct stage names: the pipeline's own first, in pipeline order, then the rest as first seen."""
    distinct = list(dict.fromkeys(names))
    return [stage for stage in PIPELINE_ORDER if stage in distinct] + [
        stage for stage in distinct if stage not in PIPELINE_ORDER
    ]


def stage_p50(run: Mapping, stage: str) -> float:
    """A stage's work p50 in a run; 0 for a paced run's read, which is waiting for the next camera frame."""
    if stage == "read" and run.get("pace_fps"):
        return 0.0
    return float(run.get("stages_ms", {}).get(stage, {}).get("work", {}).get("p50", 0.0))


def wants_log(samples: Sequence[np.ndarray]) -> bool:
    """Log scale when the positive latencies span more than ``LOG_SPREAD`` times."""
    values = np.concatenate(samples)
    values = values[values > 0]
    return bool(values.size) and bool(values.max() > LOG_SPREAD * values.min())


def latency_bins(samples: Sequence[np.ndarray], log: bool) -> list[float]:
    """Bin edges shared by every runner, so their histograms compare bin for bin."""
    values = np.concatenate(samples)
    if log:
        values = values[values > 0]
        return np.geomspace(values.min(), values.max(), HIST_BINS + 1).tolist()
    low, high = values.min(), values.max()
    return np.linspace(low, high if high > low else low + 1, HIST_BINS + 1).tolist()


def ecdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted values (N,) and the share of values ≤ each (N,)."""
    return np.sort(values), np.arange(1, len(values) + 1) / len(values)


PLOTS: dict[str, Callable[[Mapping], Figure]] = {
    "inference-latency.png": plot_inference,
    "stages.png": plot_stages,
    "timeline.png": plot_timeline,
}

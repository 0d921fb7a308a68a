"""The report of `swapcam bench`: report.json (schema below), report.md, and the plots. A run's report is a
``BenchReport``; its ``to_json`` makes the report.json document, from which report.md and the plots are
drawn, as they are from a saved report.json.

report.json, schema "swapcam.bench/1":
- ``schema``, ``created`` (UTC, ISO 8601), ``quick`` (bool), ``machine``: cpu, logical_cpus, gpu, gpu_driver,
  cuda, os, versions {python, swapcam, torch, onnxruntime, onnxruntime-gpu, onnx, opencv-python, mediapipe,
  numba, numpy, pyvirtualcam, tensorrt} (None: not installed).
- ``model``: path, checkpoint (or None), resolution, precision, flops_per_face, weight_bytes.
- ``source``: path, width, height, fps, frames_per_run.
- ``inference``: one entry per backend and batch: backend, batch, calls, min_ms, p50_ms, p95_ms, p99_ms,
  max_ms, samples_ms (the timed calls in order, thinned evenly to at most 2000); ``inference_notes``:
  backends that could not be measured and why.
- ``stages``: one entry per stage measured alone: stage, and the same statistics.
- ``end_to_end``: one entry per run: mode ("pipelined" | "sequential", and on a GPU also "pipelined,
  paste-back on cpu"), pace_fps (None: as fast as
  possible), fps, frames_read, frames_delivered, frames_dropped, frames_with_faces, latency_ms {p50, p95,
  p99, max, mean} (capture → sink), stages_ms {stage: {work: {...}, wait: {...}}}, timeline [[frame index,
  seconds since the first delivery, latency ms], ...].
- ``ratios``: throughput_pipelined_over_sequential, latency_p50_sequential_over_pipelined_at_<N>fps.
- ``floor``: flops_per_face, weight_bytes, fastest_inference_p50_ms, achieved_gflops (FLOPs over that time),
  frame_interval_ms {pace: 1000/pace}; on a GPU also gpu_ceilings {fp16_tflops, copy_gbps} (measured in the
  run) and gpu_floor_ms (the FLOPs at that matrix rate or the weights at that copy rate, whichever is
  longer).
"""

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.end_to_end import EndToEndRun
from bench.floor import gpu_floor_ms
from bench.plots import write_plots
from stream.errors import SwapcamError
from stream.files import atomic_output

SCHEMA = "swapcam.bench/1"
REQUIRED = ("schema", "created", "quick", "machine", "model", "source", "inference", "inference_notes",
            "stages", "end_to_end", "ratios", "floor")  # fmt: skip


@dataclass(frozen=True)
class ModelDescription:
    """The report's ``model``: the file the pipeline ran, its checkpoint, and what one face costs."""

    path: str
    checkpoint: str | None
    resolution: int
    precision: str
    flops_per_face: int
    weight_bytes: int

    @property
    def cost(self) -> dict[str, int]:
        """{"flops_per_face", "weight_bytes"}: what ``floor`` reads."""
        return {"flops_per_face": self.flops_per_face, "weight_bytes": self.weight_bytes}


@dataclass(frozen=True)
class SourceDescription:
    """The report's ``source``: the clip every run reads, and how many of its frames a run takes."""

    path: str
    width: int
    height: int
    fps: float
    frames_per_run: int


@dataclass(frozen=True)
class BenchReport:
    """One `swapcam bench` run; ``to_json`` is report.json (schema above), made there and nowhere else."""

    created: str  # UTC, ISO 8601
    quick: bool
    machine: Mapping[str, object]  # stream.machine's description, with gpu_driver and cuda
    model: ModelDescription
    source: SourceDescription
    inference: Sequence[Mapping[str, object]]  # one entry per backend and batch
    inference_notes: Sequence[str]
    stages: Sequence[Mapping[str, object]]  # one entry per stage measured alone
    end_to_end: list[EndToEndRun]
    ratios: Mapping[str, float | None]
    floor: Mapping[str, object]

    def to_json(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "created": self.created,
            "quick": self.quick,
            "machine": dict(self.machine),
            "model": asdict(self.model),
            "source": asdict(self.source),
            "inference": [dict(entry) for entry in self.inference],
            "inference_notes": list(self.inference_notes),
            "stages": [dict(entry) for entry in self.stages],
            "end_to_end": [run.to_json() for run in self.end_to_end],
            "ratios": dict(self.ratios),
            "floor": dict(self.floor),
        }


def floor(
    cost: Mapping[str, int],
    inference: list[dict],
    paces: list[float],
    ceilings: dict[str, float] | None = None,
) -> dict[str, object]:
    """The report's ``floor``, from a model's ``cost`` (flops_per_face, weight_bytes) and its inference."""
    batch_one = [entry["p50_ms"] for entry in inference if entry["batch"] == 1]
    fastest = min(batch_one) if batch_one else None
    found: dict[str, object] = {
        "flops_per_face": cost["flops_per_face"],
        "weight_bytes": cost["weight_bytes"],
        "fastest_inference_p50_ms": round(fastest, 4) if fastest else None,
        "achieved_gflops": round(cost["flops_per_face"] / fastest / 1e6, 2) if fastest else None,
        "frame_interval_ms": {f"{pace:g}": round(1000 / pace, 2) for pace in paces},
    }
    if ceilings is not None:
        found |= {"gpu_ceilings": ceilings, "gpu_floor_ms": round(gpu_floor_ms(cost, ceilings), 5)}
    return found


def created_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def check_report(report: dict) -> None:
    """Raise ValueError unless ``report`` has the schema's top-level fields and version."""
    missing = [key for key in REQUIRED if key not in report]
    if missing or report.get("schema") != SCHEMA:
        raise ValueError(f"expected a {SCHEMA} report, missing {missing}, schema {report.get('schema')!r}")


def write_report(report: BenchReport, folder: Path) -> list[Path]:
    """report.json, report.md and the PNG plots in ``folder``; returns their paths. The markdown and the
    plots read the JSON document, as they read a saved report.json."""
    document = report.to_json()
    texts = {
        "report.json": json.dumps(document, separators=(",", ":")) + "\n",
        "report.md": markdown(document),
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            with atomic_output(folder / name) as part:
                part.write_text(text)
        return [folder / name for name in texts] + write_plots(document, folder)
    except OSError as error:
        raise SwapcamError(f"cannot write the report into {folder}: {error.strerror or error}") from error


STAT_HEADERS = ("min ms", "p50 ms", "p95 ms", "p99 ms", "max ms")


def _ratio_line(key: str, value: float) -> str:
    """A ratio of the pipeline against the sequential baseline; above 1 the pipeline wins."""
    line = f"- {key.replace('_', ' ')}: **{value}x**"
    return line if value >= 1 else line + " (below 1: the sequential baseline did better in this run)"


def headline(report: dict) -> list[str]:
    """The figures a terminal shows when the bench ends: file-mode throughput, paced latency, inference."""
    lines = []
    for run in report["end_to_end"]:
        if run["mode"] != "pipelined":
            continue
        latency = run["latency_ms"]
        if run["pace_fps"]:
            lines.append(f"paced at {run['pace_fps']:g} fps: capture→sink p50 {latency['p50']:.1f} ms, "
                         f"p99 {latency['p99']:.1f} ms, {run['frames_dropped']} dropped")  # fmt: skip
        else:
            lines.append(f"as fast as possible: {run['fps']:.1f} fps")
    batch_one = [entry for entry in report["inference"] if entry["batch"] == 1]
    lines += [f"inference {entry['backend']}: p50 {entry['p50_ms']:.2f} ms" for entry in batch_one]
    return lines


def inference_table(entries: list[dict]) -> list[str]:
    """The markdown table of inference results, one row per backend and batch."""
    rows = [_row([e["backend"], e["batch"], *_stats(e)]) for e in entries]
    return [_row(["backend", "batch", "calls", *STAT_HEADERS]), _row(["---"] * 8), *rows]


def _row(cells: list[object]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _stats(entry: dict) -> list[object]:
    return [entry["calls"], *(f"{entry[k]:.2f}" for k in ("min_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms"))]


def _fastest(found: dict) -> str:
    if found.get("fastest_inference_p50_ms") is None:
        return "no batch-1 inference was measured (see the notes under Inference)."
    return (
        f"the fastest batch-1 inference ({found['fastest_inference_p50_ms']} ms p50) runs at "
        f"{found['achieved_gflops']} GFLOP/s."
    )


def _gpu_floor_lines(found: dict) -> list[str]:
    if "gpu_ceilings" not in found or found["fastest_inference_p50_ms"] is None:
        return []
    ceilings = found["gpu_ceilings"]
    return [f"- This GPU, measured in the same run: {ceilings['fp16_tflops']} TFLOP/s (fp16 matrix product), "
            f"{ceilings['copy_gbps']} GB/s (device copy, read + write). At those rates one face needs "
            f"at least {found['gpu_floor_ms'] * 1000:.1f} µs (launch latency not counted) against "
            f"{found['fastest_inference_p50_ms'] * 1000:.1f} µs measured."]  # fmt: skip


def markdown(report: dict) -> str:
    machine, model, source = report["machine"], report["model"], report["source"]
    lines = [
        f"# swapcam bench{' (quick)' if report['quick'] else ''}",
        "",
        f"Measured {report['created']} on {machine['cpu']} ({machine['logical_cpus']} logical cores), "
        f"GPU: {machine['gpu'] or 'none'}. Model {Path(model['path']).name}: {model['resolution']} px, "
        f"{model['precision']}, {model['flops_per_face'] / 1e9:.3f} GFLOP and "
        f"{model['weight_bytes'] / 1e6:.1f} MB of weights per face. Source {Path(source['path']).name}: "
        f"{source['width']}x{source['height']}, "
        f"{source['frames_per_run']} frames per run.",
        "",
        "## End to end (capture → sink)",
        "",
        _row(["run", "fps", "p50 ms", "p95 ms", "p99 ms", "max ms", "dropped"]),
        _row(["---"] * 7),
    ]
    for run in report["end_to_end"]:
        pace = f"paced at {run['pace_fps']:g} fps" if run["pace_fps"] else "as fast as possible"
        latency = run["latency_ms"]
        lines.append(_row([f"{run['mode']}, {pace}", f"{run['fps']:.1f}", *(f"{latency[k]:.1f}" for k in
                                                                           ("p50", "p95", "p99", "max")),
                           run["frames_dropped"]]))  # fmt: skip
    lines += ["", *(_ratio_line(key, value) for key, value in report["ratios"].items())]
    if any(run["mode"] == "pipelined, no hand occlusion" for run in report["end_to_end"]):
        lines.append("- the ratios compare the pipeline without the hand stage: the baseline has none either")
    lines += ["", "## Stages, each alone", "", _row(["stage", "calls", *STAT_HEADERS])]
    lines += [_row(["---"] * 7), *(_row([s["stage"], *_stats(s)]) for s in report["stages"])]
    lines += ["", "## Inference", "", *inference_table(report["inference"])]
    lines += [f"- {note}" for note in report["inference_notes"]]
    found = report["floor"]
    intervals = ", ".join(f"{ms} ms at {pace} fps" for pace, ms in found["frame_interval_ms"].items())
    lines += ["", "## Physical floor", "",
              f"- {found['flops_per_face'] / 1e9:.3f} GFLOP per face; " + _fastest(found),
              f"- {found['weight_bytes'] / 1e6:.1f} MB of weights read per call.",
              *_gpu_floor_lines(found),
              f"- Camera frame interval: {intervals}; compare with the paced p50 above.",
              "", "![latency](inference-latency.png)", "![stages](stages.png)", "![timeline](timeline.png)",
              ""]  # fmt: skip
    return "\n".join(lines)

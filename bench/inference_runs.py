"""Inference micro-benchmark: every backend that can run the model here, at batch 1 and the max-faces batch.

Inputs are real aligned faces of the sample clip, rotated so no call sees the previous call's input; each
call goes through the backend's ``swap`` (pre/post-processing included, as the pipeline pays it).
"""

import argparse
import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench.inputs import Inputs
from bench.timing import Budget, measure
from stream.backends import ONNX_SUFFIXES, SwapBackend, choose_backend, open_backend
from stream.errors import SwapcamError

Opener = Callable[[], SwapBackend]


def _quiet(message: str) -> None:
    pass


def runners(model: Path, checkpoint: Path | None, wanted: set[str]) -> dict[str, Opener]:
    """Name → opener of each backend that can run ``model`` (or ``checkpoint``) on this machine."""
    found: dict[str, Opener] = {}
    if model.suffix in ONNX_SUFFIXES and "onnxruntime" in wanted:
        import onnxruntime as ort

        from stream.backends.ort_session import preferred_providers

        choice = choose_backend(model, "onnxruntime")
        for provider in preferred_providers(ort.get_available_providers()):
            short = provider.removesuffix("ExecutionProvider")
            found[f"onnxruntime {short}"] = partial(open_backend, model, choice, _quiet, providers=[provider])
    if model.suffix == ".engine" and "tensorrt" in wanted:
        found["tensorrt"] = lambda: open_backend(model, choose_backend(model, "tensorrt"), _quiet)
    if checkpoint is not None and "torch" in wanted:
        found["torch"] = lambda: open_backend(checkpoint, choose_backend(checkpoint, "torch"), _quiet)
    return found


def skipped(model: Path, checkpoint: Path | None, wanted: set[str]) -> list[str]:
    """Notes on backends asked for that cannot run this model file (rather than silently measuring less)."""
    reasons = {
        "onnxruntime": None if model.suffix in ONNX_SUFFIXES else "runs .onnx and .dfm files",
        "tensorrt": None if model.suffix == ".engine" else "runs .engine files (swapcam export engine)",
        "torch": None if checkpoint is not None else "needs the checkpoint the model was exported from",
    }
    return [f"{name}: not measured, {reasons[name]}" for name in sorted(wanted) if reasons.get(name)]


def run_inference(
    openers: dict[str, Opener], inputs: Inputs, batches: tuple[int, ...], budget: Budget
) -> tuple[list[dict[str, object]], list[str]]:
    """(one result per runner and batch, notes on runners that could not be opened)."""
    results, notes = [], []
    for name, opener in openers.items():
        try:
            backend = opener()
        except SwapcamError as error:
            notes.append(f"{name}: not measured, {error}")
            continue
        with backend:
            for batch in batches:
                timed = measure(name, _swapping(backend, inputs, batch), budget)
                results.append({"backend": backend.describe(), "batch": batch, **timed.fields()})
    return results, notes


def _swapping(backend: SwapBackend, inputs: Inputs, batch: int) -> Callable[[int], object]:
    """A call of ``backend.swap`` on ``batch`` of the clip's faces, from the i-th on."""
    return lambda i: backend.swap(inputs.crops(i, batch))


def run(args: argparse.Namespace) -> int:
    """`swapcam bench inference`: every backend that can run the model, batch 1 and 2, on the first 48
    faces of the woman's clip, each for at least ``--seconds``; a table on stdout, JSON with ``--out``."""
    from bench.inputs import load_inputs
    from bench.machine import machine
    from bench.models import model_and_checkpoint
    from bench.report import inference_table
    from stream.choices import BACKENDS
    from stream.files import atomic_output
    from stream.samples import ensure_samples

    model, checkpoint = model_and_checkpoint(
        args.action_model, lambda message: print(message, file=sys.stderr)
    )
    with open_backend(model, choose_backend(model), _quiet) as backend:
        spec = backend.info.align_spec
    inputs = load_inputs(ensure_samples()["woman"], spec, 48)
    openers = runners(model, checkpoint, set(BACKENDS))
    results, notes = run_inference(openers, inputs, (1, 2), Budget(seconds=args.seconds))
    notes += skipped(model, checkpoint, set(BACKENDS))
    print("\n".join([*inference_table(results), *(f"- {note}" for note in notes)]))
    if args.action_out is not None:
        report = {"machine": machine(), "model": str(model), "inference": results, "notes": notes}
        args.action_out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(args.action_out) as part:
            part.write_text(json.dumps(report, indent=1) + "\n")
    return 0

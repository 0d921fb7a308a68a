"""One `swapcam bench` run: inference, stages, end to end, floor — everything the report holds."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.end_to_end import pipelined, ratios, sequential_run
from bench.floor import checkpoint_cost, onnx_cost
from bench.gpu_timing import gpu_ceilings, torch_cuda_split
from bench.inference_runs import run_inference, runners, skipped
from bench.inputs import load_inputs
from bench.machine import machine
from bench.report import BenchReport, ModelDescription, SourceDescription, created_now, floor
from bench.stage_runs import run_stages
from bench.timing import QUICK, Budget
from stream.backends import ONNX_SUFFIXES, choose_backend, device_swap, open_backend
from stream.capture import VideoFileSource

PACES = (30.0, 60.0)
RUNS_PER_PACE = 3  # pipelined, a variant (without hand occlusion; on a GPU, with CPU paste-back), sequential
STEPS = 3 + RUNS_PER_PACE * (1 + len(PACES))  # what ``run_bench`` tells its ``step`` callback, in all


@dataclass(frozen=True)
class BenchOptions:
    model: Path  # what the pipeline runs: .onnx, .engine or a checkpoint
    checkpoint: Path | None  # the same weights for the torch backend, when known
    source: Path
    backends: frozenset[str] = frozenset({"onnxruntime", "tensorrt", "torch"})
    max_faces: int = 2
    quick: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.max_faces <= 8:
            raise ValueError(f"--max-faces must be 1..8, got {self.max_faces}")

    @property
    def frames(self) -> int:
        return 60 if self.quick else 472

    @property
    def budget(self) -> Budget:
        return QUICK if self.quick else Budget()


def model_description(options: BenchOptions, resolution: int, precision: str) -> ModelDescription:
    if options.model.suffix in ONNX_SUFFIXES:
        cost = onnx_cost(options.model)
    elif options.checkpoint is not None:
        cost = checkpoint_cost(options.checkpoint, 2 if precision == "fp16" else 4)
    else:
        cost = {"flops_per_face": 0, "weight_bytes": 0}
    return ModelDescription(
        path=str(options.model),
        checkpoint=str(options.checkpoint) if options.checkpoint else None,
        resolution=resolution,
        precision=precision,
        flops_per_face=cost["flops_per_face"],
        weight_bytes=cost["weight_bytes"],
    )


def _on_cuda(inference: list[dict]) -> bool:
    """Whether some inference was measured on a CUDA GPU (then the GPU's ceilings belong in the floor)."""
    return any("cuda" in str(entry["backend"]).lower() for entry in inference)


def run_bench(options: BenchOptions, step: Callable[[str], None]) -> BenchReport:
    """The whole report; ``step`` is told what runs next (progress)."""
    with open_backend(options.model, choose_backend(options.model), lambda message: None) as backend:
        step("real faces from the clip")
        inputs = load_inputs(options.source, backend.info.align_spec, 8 if options.quick else 48)
        step("stages, each alone")
        stages = run_stages(inputs, backend, options.budget)
        info, on_gpu = backend.info, device_swap(backend, "auto") is not None
    step("inference, every backend")
    openers = runners(options.model, options.checkpoint, set(options.backends))
    batches = tuple(sorted({1, options.max_faces}))
    inference, notes = run_inference(openers, inputs, batches, options.budget)
    notes += skipped(options.model, options.checkpoint, set(options.backends))
    if options.checkpoint is not None and "torch" in options.backends:
        inference += torch_cuda_split(options.checkpoint, inputs, batches, options.budget)
    end_to_end = []
    for pace in (None, *PACES):
        label = f"paced at {pace:g} fps" if pace else "as fast as possible"
        step(f"end to end, pipelined, {label}")
        end_to_end.append(pipelined(options.source, options.model, options.frames, pace))
        if on_gpu:
            step(f"end to end, pipelined with paste-back on the CPU, {label}")
            end_to_end.append(
                pipelined(options.source, options.model, options.frames, pace, blend_device="cpu")
            )
        if not on_gpu:
            step(f"end to end, pipelined without hand occlusion, {label}")
            end_to_end.append(pipelined(options.source, options.model, options.frames, pace, occlusion=False))
        step(f"end to end, sequential baseline, {label}")
        end_to_end.append(sequential_run(options.source, options.model, options.frames, pace))
    with VideoFileSource(options.source) as video:
        width, height, fps = *video.size, video.fps
    model = model_description(options, info.resolution, info.precision)
    return BenchReport(
        created=created_now(),
        quick=options.quick,
        machine=machine(),
        model=model,
        source=SourceDescription(str(options.source), width, height, fps, options.frames),
        inference=inference,
        inference_notes=notes,
        stages=stages,
        end_to_end=end_to_end,
        ratios=ratios(end_to_end),
        floor=floor(model.cost, inference, list(PACES), gpu_ceilings() if _on_cuda(inference) else None),
    )

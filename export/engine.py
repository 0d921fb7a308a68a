"""ONNX → TensorRT engine, with a sidecar that keeps it on the GPU and TensorRT it was built for.

The checks of what an engine is valid for live in ``stream/backends/engine_file.py``, shared with the
runtime backend (``stream/backends/trt.py``); ``tensorrt`` is imported only inside functions.
Written against the TensorRT 10 Python API (tensor names, not binding indices; networks are always
explicit-batch) and type-checked with mypy against ``tensorrt-stubs`` 10.13. NOT YET RUN ON HARDWARE: no
machine this project is built on can install TensorRT.

Precision: an fp16 ONNX file (``swapcam export onnx --fp16``) is built as a strongly typed network, so its
types come from the file rather than from a builder flag. TensorRT 11 is documented to have removed
``BuilderFlag.FP16``; this module feature-detects the flag for fp32 files with ``--fp16`` and otherwise asks
for the fp16 ONNX file. Nothing here has been checked against an 11.x installation.

Every engine gets a JSON sidecar (``FILE.engine.json``): ONNX sha256, TensorRT version, GPU name and compute
capability, precision, I/O shapes, build options and time. Built engines are also kept in a cache keyed by
those values, so building the same thing twice copies the cached engine instead.
"""

import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from export.onnx_export import signature_of, write_atomically
from export.verify import check_signature, load_onnx
from stream.backends.engine_file import Target, current_target, require_tensorrt, sidecar_path
from stream.contract import INPUT_NAME, ModelInfo, parse_metadata
from stream.errors import SwapcamError
from stream.samples import cache_dir

SIDECAR_VERSION = 1


@dataclass(frozen=True)
class EngineOptions:
    fp16: bool = False
    max_batch: int = 4
    workspace_mb: int = 1024
    opt_level: int = 3

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.workspace_mb < 1 or not 0 <= self.opt_level <= 5:
            raise SwapcamError(f"--max-batch and --workspace must be >= 1 and --opt-level 0..5, got {self}")


@dataclass(frozen=True)
class BuildResult:
    path: Path
    sidecar: Path
    cached: bool
    seconds: float


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_contract(onnx_path: Path) -> ModelInfo:
    graph = load_onnx(onnx_path)
    info = parse_metadata({p.key: p.value for p in graph.metadata_props}, str(onnx_path))
    check_signature(signature_of(graph), info, str(onnx_path))
    return info


def build_engine(onnx_path: Path, out: Path, options: EngineOptions) -> BuildResult:
    """Build (or take from the cache) the engine for ``onnx_path`` on this GPU; see the module docstring."""
    info = read_contract(onnx_path)
    require_tensorrt()
    target = current_target()
    description = {
        "sidecar_version": SIDECAR_VERSION,
        "onnx_sha256": sha256_of(onnx_path),
        **asdict(target),
        "precision": "fp16" if options.fp16 or info.precision == "fp16" else "fp32",
        "inputs": {
            INPUT_NAME: {
                "min": [1, 3, info.resolution, info.resolution],
                "max": [options.max_batch, 3, info.resolution, info.resolution],
            }
        },
        "outputs": {
            "swapped": [-1, 3, info.resolution, info.resolution],
            "mask": [-1, 1, info.resolution, info.resolution],
        },
        "options": asdict(options),
        "model": asdict(info),
    }
    key = hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:24]
    cached = cache_dir() / "engines" / f"{key}.engine"
    started = time.monotonic()
    if not (cached.is_file() and sidecar_path(cached).is_file()):
        serialized = _build(onnx_path.read_bytes(), info, options, target)
        write_atomically(cached, serialized)
        write_atomically(
            sidecar_path(cached),
            json.dumps(
                {**description, "build_seconds": round(time.monotonic() - started, 1)}, indent=2
            ).encode(),
        )
        was_cached = False
    else:
        was_cached = True
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, out)
        shutil.copyfile(sidecar_path(cached), sidecar_path(out))
    except OSError as error:
        raise SwapcamError(f"cannot write {out}: {error.strerror or error}") from error
    return BuildResult(
        path=out, sidecar=sidecar_path(out), cached=was_cached, seconds=time.monotonic() - started
    )


def _build(onnx_bytes: bytes, info: ModelInfo, options: EngineOptions, target: Target) -> bytes:
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    strongly_typed = info.precision == "fp16"
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED) if strongly_typed else 0
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_bytes):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise SwapcamError(f"TensorRT could not parse the ONNX file: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, options.workspace_mb << 20)
    config.builder_optimization_level = options.opt_level
    if options.fp16 and not strongly_typed:
        if not hasattr(trt.BuilderFlag, "FP16"):
            raise SwapcamError(
                f"TensorRT {trt.__version__} has no FP16 builder flag: export an fp16 model with "
                "`swapcam export onnx RUN --out FILE.onnx --fp16` and build the engine from that file"
            )
        config.set_flag(trt.BuilderFlag.FP16)
    # Timing results are only valid for one GPU and TensorRT version.
    timing_path = cache_dir() / "engines" / f"timing-{target.tensorrt}-sm{target.compute_capability}.cache"
    timing = config.create_timing_cache(timing_path.read_bytes() if timing_path.is_file() else b"")
    if not config.set_timing_cache(timing, False):
        config.set_timing_cache(config.create_timing_cache(b""), False)
    profile = builder.create_optimization_profile()
    r = info.resolution
    single, largest = trt.Dims4(1, 3, r, r), trt.Dims4(options.max_batch, 3, r, r)
    profile.set_shape(INPUT_NAME, single, single, largest)
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise SwapcamError("TensorRT failed to build the engine (see its log above)")
    write_atomically(timing_path, bytes(config.get_timing_cache().serialize()))
    return bytes(serialized)

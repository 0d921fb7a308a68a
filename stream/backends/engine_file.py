"""What a TensorRT engine file is valid for, and the checks before one is run or rebuilt.

An engine only runs on the TensorRT version and GPU it was built for; its JSON sidecar
(``FILE.engine.json``, written by ``swapcam export engine``) records them. Both the builder (export/) and
the runtime backend use these checks. ``tensorrt`` and ``cuda`` (cuda-python) are imported only inside
functions. NOT YET RUN ON HARDWARE: no machine this project is built on can install TensorRT.
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stream.errors import SwapcamError

if TYPE_CHECKING:
    import tensorrt

INSTALL_HINT = "pip install tensorrt cuda-python (needs an NVIDIA GPU and driver; see the README)"


@dataclass(frozen=True)
class Target:
    """Where an engine runs: it is valid only for this TensorRT version and GPU."""

    tensorrt: str
    gpu: str
    compute_capability: str


def require_tensorrt() -> None:
    """Raise a ``SwapcamError`` saying what to install unless the real TensorRT library is importable.

    ``tensorrt-stubs`` installs a ``tensorrt`` folder holding only type stubs, which Python imports as an
    empty namespace package: so the check is for the library's ``Builder``, not for a successful import.
    Callers then ``import tensorrt`` themselves, so that mypy checks every use against the stubs.
    """
    try:
        import tensorrt as trt
    except ImportError as error:
        raise SwapcamError(f"TensorRT is not installed: {INSTALL_HINT}") from error
    if not hasattr(trt, "Builder"):
        raise SwapcamError(f"TensorRT is not installed (only its type stubs are): {INSTALL_HINT}")


def cuda_runtime() -> Any:
    """cuda-python's runtime API module (``cuda.bindings.runtime``, or ``cuda.cudart`` before 12.6)."""
    try:
        from cuda.bindings import runtime
    except ImportError:
        try:
            from cuda import cudart as runtime
        except ImportError as error:
            raise SwapcamError(f"cuda-python is not installed: {INSTALL_HINT}") from error
    return runtime


def cuda_check(result: tuple[Any, ...]) -> Any:
    """Unwrap a cuda-python call's ``(error, value...)``; raise on a CUDA error."""
    error, *values = result
    if int(error) != 0:
        raise SwapcamError(f"CUDA call failed: {error}")
    return values[0] if len(values) == 1 else tuple(values)


def current_target() -> Target:
    import tensorrt as trt

    cudart = cuda_runtime()
    if cuda_check(cudart.cudaGetDeviceCount()) < 1:
        raise SwapcamError("TensorRT engines need an NVIDIA GPU, and CUDA sees none")
    properties = cuda_check(cudart.cudaGetDeviceProperties(0))
    name = properties.name
    return Target(
        tensorrt=str(trt.__version__),
        gpu=(name.decode() if isinstance(name, bytes) else str(name)).rstrip("\x00"),
        compute_capability=f"{properties.major}.{properties.minor}",
    )


def sidecar_path(engine: Path) -> Path:
    return engine.with_name(engine.name + ".json")


def check_engine(engine: Path, target: Target) -> dict[str, Any]:
    """The engine's sidecar, if it was built for ``target``; otherwise an error naming what differs."""
    sidecar = sidecar_path(engine)
    if not engine.is_file() or not sidecar.is_file():
        raise SwapcamError(
            f"{engine} or its sidecar {sidecar.name} is missing: build it with `swapcam export engine`"
        )
    try:
        recorded = json.loads(sidecar.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SwapcamError(
            f"{sidecar} is damaged: rebuild the engine with `swapcam export engine`"
        ) from error
    differences = [
        f"{field} {recorded.get(field)!r} (this machine: {value!r})"
        for field, value in asdict(target).items()
        if recorded.get(field) != value
    ]
    if differences:
        raise SwapcamError(
            f"{engine} was built for another setup: {'; '.join(differences)}. Rebuild it here: "
            f"swapcam export engine MODEL.onnx --out {engine}"
            + (" --fp16" if recorded.get("precision") == "fp16" else "")
        )
    return recorded


def load_engine(engine: Path) -> tuple["tensorrt.Runtime", "tensorrt.ICudaEngine", dict[str, Any]]:
    """(runtime, deserialized engine, sidecar) after checking the engine matches this GPU and TensorRT."""
    require_tensorrt()
    import tensorrt as trt

    recorded = check_engine(engine, current_target())
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    deserialized = runtime.deserialize_cuda_engine(engine.read_bytes())
    if deserialized is None:
        raise SwapcamError(f"TensorRT could not load {engine}: rebuild it with `swapcam export engine`")
    return runtime, deserialized, recorded

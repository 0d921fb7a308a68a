"""What this machine has for live swapping: runtimes that really load, GPUs, cameras, virtual cameras.

Every check returns a ``Finding`` (a line to print, and whether it is a problem); nothing here raises for
a missing piece, because reporting missing pieces is the point.
"""

import glob
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stream.errors import SwapcamError
from stream.sinks import LOOPBACK_HINT


@dataclass(frozen=True)
class Finding:
    topic: str
    text: str
    ok: bool = True


def gpu_findings() -> list[Finding]:
    """CUDA devices as torch sees them (torch is optional for live use, so its absence is no problem)."""
    try:
        import torch
    except ImportError:
        return [Finding("gpu", "torch is not installed: cannot list CUDA devices")]
    if not torch.cuda.is_available():
        return [Finding("gpu", f"no CUDA device visible to torch {torch.__version__}")]
    found = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        found.append(
            Finding(
                "gpu",
                f"cuda:{index} {props.name}, {props.total_memory / 2**30:.0f} GiB, "
                f"compute capability {props.major}.{props.minor}",
            )
        )
    return found


def tiny_onnx_model() -> bytes:
    """A one-node ONNX graph (Identity) used to check that an execution provider really loads."""
    import onnx
    from onnx import TensorProto, helper

    value = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe", [value], [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


# The execution providers a face swap can use, in the order `auto` prefers them; others (Azure's, say) are
# not shown.
SWAP_PROVIDERS = (
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "DmlExecutionProvider",
    "CoreMLExecutionProvider",
    "CPUExecutionProvider",
)


def provider_findings() -> list[Finding]:
    """Each execution provider onnxruntime lists that a face swap can use (``SWAP_PROVIDERS``), tried
    alone on a tiny model: listed is not loadable."""
    try:
        import onnxruntime as ort
    except ImportError as error:
        return [Finding("onnxruntime", f"not installed ({error})", ok=False)]
    return [
        Finding("onnxruntime", f"{ort.__version__} {provider}: {detail}", ok=detail == "loads")
        for provider, detail in provider_loads().items()
    ]


def provider_loads() -> dict[str, str]:
    """provider → "loads", or how it fails, for the ``SWAP_PROVIDERS`` onnxruntime lists (none without
    onnxruntime)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return {}
    model = tiny_onnx_model()
    found = {}
    for provider in (name for name in ort.get_available_providers() if name in SWAP_PROVIDERS):
        options = ort.SessionOptions()
        options.log_severity_level = 4
        try:
            session = ort.InferenceSession(model, options, providers=[provider])
            loaded = session.get_providers()[0]
            found[provider] = "loads" if loaded == provider else f"falls back to {loaded}"
        except Exception as error:  # onnxruntime raises provider-specific types
            found[provider] = f"fails to load: {str(error).splitlines()[0]}"
    return found


def tensorrt_findings() -> list[Finding]:
    from stream.backends.engine_file import cuda_runtime, current_target, require_tensorrt

    try:
        require_tensorrt()
        cuda_runtime()
        target = current_target()
    except SwapcamError as error:
        return [Finding("tensorrt", f"unavailable: {error}")]
    return [Finding("tensorrt", f"{target.tensorrt} on {target.gpu} (sm {target.compute_capability})")]


def video_devices(dev: Path = Path("/dev")) -> list[int]:
    """Indices N of /dev/videoN, sorted."""
    names = glob.glob(str(dev / "video*"))
    return sorted(int(match.group(1)) for name in names if (match := re.search(r"video(\d+)$", name)))


def is_loopback(index: int, sysfs: Path = Path("/sys")) -> bool:
    """v4l2loopback devices are virtual: they live under /sys/devices/virtual, real cameras under a bus."""
    return (sysfs / "devices" / "virtual" / "video4linux" / f"video{index}").exists()


def device_name(index: int, sysfs: Path = Path("/sys")) -> str:
    name = sysfs / "class" / "video4linux" / f"video{index}" / "name"
    return name.read_text().strip() if name.is_file() else "unknown"


def camera_findings(dev: Path = Path("/dev"), sysfs: Path = Path("/sys")) -> list[Finding]:
    """Cameras that open and deliver a frame, and v4l2loopback devices (with the set-up hint if none)."""
    import cv2

    found, loopbacks = [], []
    for index in video_devices(dev):
        if is_loopback(index, sysfs):
            loopbacks.append(Finding("virtual camera", f"/dev/video{index} {device_name(index, sysfs)}"))
            continue
        capture = cv2.VideoCapture(index, cv2.CAP_V4L2)
        try:
            ok, frame = capture.read() if capture.isOpened() else (False, None)
        finally:
            capture.release()
        if ok and frame is not None:
            height, width = frame.shape[:2]
            found.append(
                Finding("camera", f"{index}: {device_name(index, sysfs)}, opens at {width}x{height}")
            )
    if not found:
        found.append(
            Finding("camera", "no camera opens (use --source FILE to swap a video instead)", ok=False)
        )
    if not loopbacks:
        loopbacks.append(
            Finding("virtual camera", f"no v4l2loopback device; create one: {LOOPBACK_HINT}", ok=False)
        )
    return found + loopbacks


def backend_findings(model: Path) -> list[Finding]:
    """Which backend ``--backend auto`` picks for ``model``, and what it runs on once loaded."""
    from stream.backends import choose_backend, open_backend

    try:
        choice = choose_backend(model)
        backend = open_backend(model, choice, lambda message: None)
    except SwapcamError as error:
        return [Finding("backend", f"auto cannot run {model}: {error}", ok=False)]
    with backend:
        return [Finding("backend", f"auto runs {model.name} with {backend.describe()}: {choice.reason}")]


def requested_findings(backend: str | None, device: str | None) -> list[Finding]:
    """Whether the ``backend`` and/or ``device`` (cpu or cuda) asked about can run here."""
    loads = {provider for provider, detail in provider_loads().items() if detail == "loads"}
    checks: dict[tuple[str, str], Callable[[], bool]] = {
        ("onnxruntime", "cpu"): lambda: "CPUExecutionProvider" in loads,
        ("onnxruntime", "cuda"): lambda: bool(loads & {"CUDAExecutionProvider", "TensorrtExecutionProvider"}),
        ("tensorrt", "cuda"): _tensorrt_loads,
        ("torch", "cpu"): lambda: _torch_cuda() is not None,
        ("torch", "cuda"): lambda: bool(_torch_cuda()),
    }
    wanted = [
        (name, kind)
        for name, kind in checks
        if (backend is None or name == backend) and (device is None or kind == device)
    ]
    if not wanted:
        return [Finding("requested", f"{backend} does not run on {device}", ok=False)]
    running = [f"{name} on {kind}" for name, kind in wanted if checks[name, kind]()]
    asked = " on ".join(part for part in (backend, device) if part)
    verdict = f"runs here ({', '.join(running)})" if running else "cannot run here"
    return [Finding("requested", f"{asked}: {verdict}", ok=bool(running))]


def _tensorrt_loads() -> bool:
    from stream.backends.engine_file import cuda_runtime, current_target, require_tensorrt

    try:
        require_tensorrt()
        cuda_runtime()
        current_target()
    except SwapcamError:
        return False
    return True


def _torch_cuda() -> bool | None:
    """Whether torch sees a CUDA GPU; None without torch."""
    try:
        import torch
    except ImportError:
        return None
    return bool(torch.cuda.is_available())

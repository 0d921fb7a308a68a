"""The CUDA paths: the torch backend on the GPU (fp16, CUDA graphs, pinned copies), crop and paste-back on
the GPU in the live pipeline, and the GPU timings of the benchmark. They run where torch sees a CUDA device
and skip with the reason elsewhere (CI has none); the CPU twin of the GPU maths is tested in
test_gpu_paste.py everywhere.
"""

import numpy as np
import pytest
import torch

from stream.backends import device_swap, to_model_input
from stream.errors import SwapcamError
from stream.live import LiveOptions, run_live
from tests.stream.fakes import KeepingSink, ListSource
from trained.backend import TorchBackend
from trained.checkpoint import DECODER, load_checkpoint, load_model, model_info
from trained.demo import CHECKPOINT
from trained.model import SwapDirection

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: torch sees no GPU")


def quiet(message: str) -> None:
    pass


def demo_faces(frames: list[np.ndarray]) -> list:
    """The first face of each frame, aligned the way the demo model was trained."""
    from stream.landmarks import FaceLandmarker
    from stream.stages import face_of

    spec = model_info(load_checkpoint(CHECKPOINT), "a2b", "fp32").align_spec
    with FaceLandmarker(mode="image") as landmarker:
        return [face_of(frame, landmarker.detect(frame)[0].landmarks, spec) for frame in frames]


def crops_of(frames: list[np.ndarray]) -> np.ndarray:
    return np.stack([face.crop for face in demo_faces(frames)])


def test_blend_device_cuda_without_a_model_on_cuda_is_a_clear_error(demo_model):
    from stream.backends.ort import OrtBackend

    backend = OrtBackend(demo_model, quiet, providers=["CPUExecutionProvider"])
    try:
        with pytest.raises(SwapcamError, match="--blend-device cuda needs a model running on a CUDA GPU"):
            device_swap(backend, "cuda")
        assert device_swap(backend, "auto") is None and device_swap(backend, "cpu") is None
    finally:
        backend.close()


@needs_cuda
def test_torch_backend_on_cuda_matches_the_cpu_model_within_fp16_tolerance(woman_frames):
    backend = TorchBackend(CHECKPOINT, quiet)
    try:
        assert backend.on_cuda and backend.info.precision == "fp16"
        crops = crops_of(woman_frames[:3])
        for batch in (1, len(crops)):
            faces, masks = backend.swap(crops[:batch])
            model, _ = load_model(CHECKPOINT)
            module = SwapDirection(model, DECODER["a2b"]).eval()
            with torch.inference_mode():
                planar = torch.from_numpy(to_model_input(crops[:batch]))
                expected_face, expected_mask = module(planar)
            expected = expected_face.clamp(0, 1).numpy()[:, ::-1].transpose(0, 2, 3, 1)
            assert np.abs(faces - expected).max() < 0.02
            assert np.abs(masks - expected_mask.clamp(0, 1).numpy()[:, 0]).max() < 0.02
    finally:
        backend.close()


@needs_cuda
def test_the_cuda_graph_replays_the_eager_module(woman_frames):
    backend = TorchBackend(CHECKPOINT, quiet)
    try:
        crops = crops_of(woman_frames[:2])
        inputs = torch.from_numpy(to_model_input(crops)).cuda()
        with torch.inference_mode():
            graph_face, _ = backend.swap_cuda(inputs)
            graph_face = graph_face.clone()
            eager_face, _ = backend.module(inputs.half().contiguous(memory_format=torch.channels_last))
            other, _ = backend.swap_cuda(inputs.flip(0))  # the graph follows its input, not a stale copy
        assert torch.allclose(graph_face, eager_face, atol=2e-3)
        assert torch.allclose(other.flip(0), graph_face, atol=2e-3)
    finally:
        backend.close()


@needs_cuda
def test_live_picks_gpu_paste_back_for_a_checkpoint_on_cuda_and_matches_the_cpu_paste_back(woman_frames):
    frames = woman_frames[:4]
    outputs = {}
    for device in ("auto", "cpu"):
        sink = KeepingSink()
        options = LiveOptions(model=CHECKPOINT, blend_device=device, label=False)
        result = run_live(ListSource([f.copy() for f in frames]), [sink], options, quiet)
        assert result.figures.frames_delivered == len(frames)
        assert ("crop/paste-back on cuda" in result.backend) == (device == "auto")
        stages = set(result.figures.stages) - {"read"}
        assert stages == ({"landmarks", "cuda"} if device == "auto" else {"landmarks", "swap", "blend"})
        outputs[device] = np.stack(sink.frames).astype(int)
    difference = np.abs(outputs["auto"] - outputs["cpu"])
    changed = np.abs(outputs["cpu"] - np.stack(frames)).max(axis=3) > 10
    assert changed.mean() > 0.02  # the faces were swapped
    assert difference.mean() < 0.2 and np.percentile(difference, 99.9) <= 3


@needs_cuda
def test_gpu_timings_split_compute_from_copies_and_measure_the_ceilings(woman_frames):
    from bench.gpu_timing import gpu_ceilings, torch_cuda_split
    from bench.inputs import Inputs
    from bench.timing import QUICK

    faces = demo_faces(woman_frames[:2])
    results = torch_cuda_split(CHECKPOINT, Inputs(tuple(woman_frames[:2]), tuple(faces)), (1, 2), QUICK)
    kinds = {(entry["backend"].split(") ")[1], entry["batch"]) for entry in results}
    assert len(kinds) == 6 and all(0 < entry["p50_ms"] < 100 for entry in results)
    ceilings = gpu_ceilings()
    assert ceilings is not None and ceilings["fp16_tflops"] > 10 and ceilings["copy_gbps"] > 100

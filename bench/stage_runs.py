"""Stage benchmark: each stage of the live pipeline alone, on real frames of the sample clip."""

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from bench.inputs import Inputs, crop_of
from bench.timing import Budget, measure
from stream.backends import SwapBackend, device_swap
from stream.blend import gaussian_weights, paste_face, prepare_alpha, warm_up
from stream.blend_options import BlendOptions
from stream.label import draw_label
from stream.landmarks import FaceLandmarker
from stream.stages import face_of


def stage_calls(
    inputs: Inputs, backend: SwapBackend, landmarker: FaceLandmarker
) -> dict[str, Callable[[int], object]]:
    """Stage name → a call of that stage on the i-th real frame (or face), in pipeline order."""
    spec, options = backend.info.align_spec, BlendOptions()
    frames, faces = inputs.frames, inputs.faces
    outputs = [backend.swap(crop_of(face)[None]) for face in faces]
    canvases = [frame.copy() for frame in frames]  # blend works in place: time it on copies made once

    def blend_with(choice: BlendOptions) -> Callable[[int], None]:
        def blend(i: int) -> None:
            k = i % len(faces)
            swapped, mask = outputs[k]
            paste_face(canvases[k], swapped[0], mask[0], crop_of(faces[k]), faces[k].matrix, choice)

        return blend

    masks = [mask[0].astype(np.float32) for _, mask in outputs]
    return {
        "landmarks": lambda i: landmarker.detect(frames[i % len(frames)]),
        "align": lambda i: face_of(frames[i % len(frames)], faces[i % len(faces)].landmarks, spec),
        "swap": lambda i: backend.swap(crop_of(faces[i % len(faces)])[None]),
        "blend": blend_with(options),
        "blend, bilinear paste-back": blend_with(replace(options, interpolation="bilinear")),
        "mask erode + feather (Numba, the blend's)": lambda i: prepare_alpha(masks[i % len(masks)], options),
        "mask erode + feather (OpenCV)": lambda i: opencv_alpha(masks[i % len(masks)], options),
        "label": lambda i: draw_label(canvases[i % len(canvases)]),
        "vcam conversion (BGR→I420)": lambda i: cv2.cvtColor(frames[i % len(frames)], cv2.COLOR_BGR2YUV_I420),
    }


def opencv_alpha(mask: NDArray[np.float32], options: BlendOptions) -> NDArray[np.float32]:
    """``stream.blend.prepare_alpha`` with OpenCV's erode and separable filter instead of the Numba kernels
    (zeros beyond the crop's edge for both), timed beside it in the stage benchmark."""
    erode, feather = options.radii_px(mask.shape[0])
    kernel = np.ones((2 * erode + 1, 2 * erode + 1), np.uint8)
    eroded = cv2.erode(mask, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=(0,)) if erode else mask
    taps = gaussian_weights(feather)
    alpha = cv2.sepFilter2D(eroded, -1, taps, taps, borderType=cv2.BORDER_CONSTANT)
    return np.asarray(alpha, np.float32)  # ddepth -1: the mask's float32


def run_stages(inputs: Inputs, backend: SwapBackend, budget: Budget) -> list[dict[str, object]]:
    warm_up()
    with FaceLandmarker(mode="video") as landmarker, ExitStack() as owned:
        calls = stage_calls(inputs, backend, landmarker)
        swap = device_swap(backend, "auto")
        if swap is not None:
            calls["crop + swap + paste-back (cuda)"] = cuda_call(inputs, swap, backend.info.resolution, owned)
        return [{"stage": name, **measure(name, call, budget).fields()} for name, call in calls.items()]


def cuda_call(
    inputs: Inputs, swap: Callable[[Any], tuple[Any, Any]], size: int, owned: ExitStack
) -> Callable[[int], object]:
    """One face's crop, swap and paste-back on the GPU, upload and download included (the pipeline's
    CUDA stage without the label), on copies of the real frames."""
    import torch

    from stream.gpu.swapper import CudaSwapper

    swapper = CudaSwapper(swap, size, BlendOptions(), torch.device("cuda"))
    owned.callback(swapper.close)
    swapper.warm_up(1)
    canvases = [frame.copy() for frame in inputs.frames]
    return lambda i: swapper(canvases[i % len(canvases)], [inputs.faces[i % len(inputs.faces)].matrix])

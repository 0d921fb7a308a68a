"""Augmentation in torch (``trained.augment_device``) against the OpenCV path it stands in for, on CPU tensors
(the same code runs on a GPU), and its use in training."""

import dataclasses

import numpy as np
import pytest
import torch

from trained.augment import AugmentConfig, apply_colour, augment_sample, draw_batch, warp_maps
from trained.augment_device import augment_on_device, jitter_colour, upload, warp_fields
from trained.batches import DeviceUploads, augments_on_device
from trained.session import TrainOptions, open_session, train_step

CPU = torch.device("cpu")


def opencv_batch(params, data, other) -> dict[str, np.ndarray]:
    samples = [augment_sample(p, data, other) for p in params]
    inputs, targets, masks, regions = (np.stack(column) for column in zip(*samples, strict=True))
    return {
        "inputs": inputs.transpose(0, 3, 1, 2),
        "targets": targets.transpose(0, 3, 1, 2),
        "masks": masks[:, None],
        "regions": regions[:, None],
    }


@pytest.mark.parametrize("config", [AugmentConfig(flip=False), AugmentConfig(colour_transfer=False)])
def test_a_batch_made_in_torch_is_the_opencv_batch_to_interpolation_differences(faces_a, faces_b, config):
    params = draw_batch(np.random.default_rng(3), faces_a, 12, config, faces_b)
    assert config.flip == any(p.flip for p in params)
    expected = opencv_batch(params, faces_a, faces_b)
    made = augment_on_device(params, upload(faces_a, CPU), upload(faces_b, CPU))
    for name, reference in expected.items():
        difference = np.abs(made[name].numpy() - reference)
        assert made[name].shape == reference.shape and made[name].dtype == torch.float32
        # bilinear grid_sample vs OpenCV's fixed-point interpolation, Lab by formula vs OpenCV's table
        assert difference.mean() < 0.003 and np.percentile(difference, 99) < 0.02, (name, difference.mean())
    # the input is warped, the target is not
    assert np.abs(expected["inputs"] - expected["targets"]).mean() > 0.005
    assert (made["inputs"] - made["targets"]).abs().mean() > 0.005


def test_colour_jitter_is_the_opencv_paths_per_image(faces_a):
    images = torch.from_numpy(faces_a.faces[:4].transpose(0, 3, 1, 2).astype(np.float32) / 255)
    colour = torch.tensor([[0.05, 1.1, 0.9], [-0.04, 0.92, 1.08], [0.0, 1.0, 1.0], [0.06, 0.9, 1.1]])
    jittered = jitter_colour(images, colour)
    for image, (b, c, s), out in zip(images, colour.tolist(), jittered, strict=True):
        expected = apply_colour(image.numpy().transpose(1, 2, 0), b, c, s)
        np.testing.assert_allclose(out.numpy().transpose(1, 2, 0), expected, atol=1e-5)


def test_the_warp_field_is_opencvs_bicubic_upsampling_of_the_grid():
    grids = np.random.default_rng(5).normal(0, 3.0, (3, 2, 5, 5)).astype(np.float32)
    x, y = warp_fields(torch.from_numpy(grids), 64)
    for grid, gx, gy in zip(grids, x, y, strict=True):
        ex, ey = warp_maps(grid, 64)
        np.testing.assert_allclose(gx.numpy(), ex, atol=0.02)
        np.testing.assert_allclose(gy.numpy(), ey, atol=0.02)


def test_face_sets_are_uploaded_once_and_let_go_when_replaced(faces_a, faces_b):
    uploads = DeviceUploads(CPU)
    first = uploads("a", faces_a)
    assert uploads("b reference", faces_a) is first  # the same set under another name: no second copy
    assert uploads("a", dataclasses.replace(faces_a)) is not first  # a new set (a shard) replaces it
    assert uploads("b", faces_b).faces.shape == (len(faces_b), 3, 64, 64)


def test_where_batches_are_augmented():
    assert augments_on_device("auto", torch.device("cuda")) and not augments_on_device("auto", CPU)
    assert augments_on_device("device", CPU) and not augments_on_device("cpu", torch.device("cuda"))
    with pytest.raises(ValueError, match="--augment-on must be one of auto, cpu, device"):
        TrainOptions(augment_on="gpu")


def test_training_on_device_batches_sees_the_same_draws(extracted, tmp_path):
    """The same seed gives the same faces, jitters and warps whichever way the pixels are worked: the first
    step's losses agree to interpolation differences, and the generator ends in the same state."""
    losses, states = {}, {}
    for where in ("cpu", "device"):
        options = TrainOptions(preset="lite", resolution=64, batch=4, steps=1, device="cpu", augment_on=where)
        session, _ = open_session(
            extracted["woman"], extracted["man"], tmp_path / where, options, resume=False
        )
        with session:
            assert (session.uploads is not None) == (where == "device") and session.pool is None
            losses[where] = train_step(session, options)
            states[where] = session.rng.bit_generator.state
    assert states["cpu"] == states["device"]
    for key in ("loss_a", "loss_b"):
        assert losses["device"][key] == pytest.approx(losses["cpu"][key], rel=0.02)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: torch sees no GPU")
def test_on_a_gpu_the_batch_is_the_cpu_tensors_batch(faces_a, faces_b):
    params = draw_batch(np.random.default_rng(4), faces_a, 8, AugmentConfig(flip=True), faces_b)
    on_cpu = augment_on_device(params, upload(faces_a, CPU), upload(faces_b, CPU))
    cuda = torch.device("cuda")
    on_gpu = augment_on_device(params, upload(faces_a, cuda), upload(faces_b, cuda))
    for name, tensor in on_cpu.items():
        assert on_gpu[name].device.type == "cuda"
        torch.testing.assert_close(on_gpu[name].cpu(), tensor, atol=1e-4, rtol=0)

import pytest
import torch

from trained.model import PRESETS, SwapAutoencoder, SwapDirection, count_flops, preset_config


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("resolution", [64, 128, 256])
def test_forward_shapes_for_every_preset_and_resolution(preset, resolution):
    """Shapes on torch's meta device (no arithmetic: the big presets cost seconds per pass); the values of
    the one preset CPU runs use, lite, are computed for real below."""
    with torch.device("meta"):
        model = SwapAutoencoder(preset_config(preset, resolution)).eval()
        for decoder in ("a", "b"):
            face, mask = model(torch.empty(2, 3, resolution, resolution), decoder)
            assert face.shape == (2, 3, resolution, resolution)
            assert mask.shape == (2, 1, resolution, resolution)


@pytest.mark.parametrize("resolution", [64, 128])
def test_lite_draws_faces_and_masks_in_the_unit_range(resolution):
    model = SwapAutoencoder(preset_config("lite", resolution)).eval()
    with torch.no_grad():
        for decoder in ("a", "b"):
            face, mask = model(torch.rand(2, 3, resolution, resolution), decoder)
            assert float(face.min()) >= 0.0 and float(face.max()) <= 1.0
            assert float(mask.min()) >= 0.0 and float(mask.max()) <= 1.0


def test_lite_fits_the_cpu_budget_at_its_default_resolution():
    config = preset_config("lite")
    flops = count_flops(SwapDirection(SwapAutoencoder(config), "b"), config.resolution)
    assert 0.05e9 < flops <= 1.0e9


def test_the_classic_presets_are_much_larger_than_lite():
    lite = count_flops(SwapDirection(SwapAutoencoder(preset_config("lite", 128)), "b"), 128)
    df128 = count_flops(SwapDirection(SwapAutoencoder(preset_config("df128", 128)), "b"), 128)
    assert df128 > 20 * lite


@pytest.mark.parametrize("resolution", [48, 72, 272])
def test_resolutions_outside_64_to_256_in_steps_of_16_are_rejected(resolution):
    with pytest.raises(ValueError, match="in steps of 16"):
        preset_config("lite", resolution)


def test_unknown_preset_is_rejected():
    with pytest.raises(ValueError, match="preset must be one of"):
        preset_config("huge")


@pytest.mark.parametrize("architecture", ["df", "liae"])
def test_a_direction_runs_what_the_model_runs_and_holds_only_its_parts(architecture):
    model = SwapAutoencoder(preset_config("lite", 64, architecture)).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        for decoder in ("a", "b"):
            torch.testing.assert_close(SwapDirection(model, decoder)(x), model(x, decoder))
    into_b = {id(p) for p in SwapDirection(model, "b").parameters()}
    unused = model.decoders["a"] if architecture == "df" else model.inter_a
    assert into_b and not into_b & {id(p) for p in unused.parameters()}


def test_liae_draws_b_from_the_shared_inter_alone_and_a_with_its_own():
    """DeepFaceLab's LIAE wiring: A's own inter changes A's drawing, never a swap into B."""
    torch.manual_seed(0)
    model = SwapAutoencoder(preset_config("lite", 64, "liae")).eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        before = {decoder: model(x, decoder)[0] for decoder in ("a", "b")}
        for parameter in model.inter_a.parameters():
            parameter.add_(0.5)
        after = {decoder: model(x, decoder)[0] for decoder in ("a", "b")}
    torch.testing.assert_close(before["b"], after["b"])
    assert (before["a"] - after["a"]).abs().max() > 1e-3
    assert not hasattr(model, "decoders") and model.decoder.inputs == 2


def test_unknown_architecture_is_rejected():
    with pytest.raises(ValueError, match="architecture must be one of df, liae"):
        preset_config("lite", 64, "xyz")


@pytest.mark.parametrize("preset", ["lite", "df128"])
def test_different_faces_stay_different_through_the_encoder(preset, faces_a):
    """With PyTorch's default init all faces gave the same code to within 0.5%: only the mean was learnt."""
    torch.manual_seed(0)
    model = SwapAutoencoder(preset_config(preset, 64)).eval()
    faces = torch.from_numpy(faces_a.faces[::60]).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        _, code = model.encode(faces)
    assert float(code.std(dim=0).mean() / code.abs().mean()) > 0.1

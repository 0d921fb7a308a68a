import torch

from trained.losses import LossWeights, reconstruction_loss, ssim


def test_ssim_is_one_for_identical_images_and_lower_for_noise():
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(ssim(x, x), torch.ones(2))
    assert float(ssim(x, (x + 0.3 * torch.randn_like(x)).clamp(0, 1)).max()) < 0.8


def test_loss_is_zero_for_a_perfect_reconstruction_and_grows_with_error():
    target = torch.rand(2, 3, 32, 32)
    mask = torch.ones(2, 1, 32, 32)
    regions = torch.zeros(2, 1, 32, 32)
    perfect, _ = reconstruction_loss(target, mask, target, mask, regions, weights=LossWeights())
    worse, parts = reconstruction_loss(
        target.flip(-1), mask * 0.5, target, mask, regions, weights=LossWeights()
    )
    assert float(perfect) < 1e-5 < float(worse)
    assert parts["mask"] > 0.2


def test_eyes_and_mouth_errors_cost_more_than_the_same_error_elsewhere():
    target = torch.full((1, 3, 32, 32), 0.5)
    mask = torch.ones(1, 1, 32, 32)
    regions = torch.zeros(1, 1, 32, 32)
    regions[..., 8:16, 8:16] = 1
    in_region, outside = target.clone(), target.clone()
    in_region[..., 8:16, 8:16] += 0.2
    outside[..., 20:28, 20:28] += 0.2
    loss_in, _ = reconstruction_loss(in_region, mask, target, mask, regions, weights=LossWeights())
    loss_out, _ = reconstruction_loss(outside, mask, target, mask, regions, weights=LossWeights())
    assert float(loss_in) > float(loss_out)

"""The FakeApp / DeepFaceLab "DF" autoencoder: one shared encoder and bottleneck, one decoder per identity.

    face (N, 3, R, R) → encoder (4 stride-2 blocks) → inter (dense → dense → reshape → upscale)
        → decoder_a or decoder_b (3 pixel-shuffle upscales, optional residual blocks)
        → RGB (N, 3, R, R) and mask (N, 1, R, R)

Swapping A → B runs A's face through the shared encoder and inter, then B's decoder.
"""

import itertools
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

import torch
from torch import nn

MIN_RESOLUTION, MAX_RESOLUTION, RESOLUTION_STEP = 64, 256, 16


@dataclass(frozen=True)
class ModelConfig:
    """Everything that determines the network's shape; stored in every checkpoint."""

    resolution: int
    encoder_dims: int  # channels of the first encoder block; doubled at each of the next three
    bottleneck_dims: int  # width of the dense "inter" code
    inter_dims: int  # channels of the inter output before its upscale
    decoder_dims: int
    mask_dims: int
    residual_blocks: int = 1
    separable: bool = False  # depthwise-separable convolutions (the CPU preset)

    def __post_init__(self) -> None:
        r = self.resolution
        if not (MIN_RESOLUTION <= r <= MAX_RESOLUTION and r % RESOLUTION_STEP == 0):
            raise ValueError(
                f"resolution must be {MIN_RESOLUTION}..{MAX_RESOLUTION} "
                f"in steps of {RESOLUTION_STEP}, got {r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# The classic DeepFaceLab "DF" widths; df128 and df256 differ only in their default resolution.
_DF_WIDTHS = MappingProxyType({
    "encoder_dims": 64, "bottleneck_dims": 256, "inter_dims": 256, "decoder_dims": 64, "mask_dims": 22,
    "residual_blocks": 1, "separable": False,
})  # fmt: skip
# name → widths; the resolution comes from the preset's default or --resolution.
PRESETS = MappingProxyType({
    # residual blocks would double the training time on a 2-core CPU for little gain at 96 px
    "lite": MappingProxyType({
        "encoder_dims": 24, "bottleneck_dims": 128, "inter_dims": 96, "decoder_dims": 24, "mask_dims": 8,
        "residual_blocks": 0, "separable": True,
    }),
    "df128": _DF_WIDTHS,
    "df256": _DF_WIDTHS,
})  # fmt: skip
DEFAULT_RESOLUTION = MappingProxyType({"lite": 96, "df128": 128, "df256": 256})


def preset_config(preset: str, resolution: int | None = None) -> ModelConfig:
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    return ModelConfig(resolution=resolution or DEFAULT_RESOLUTION[preset], **PRESETS[preset])


def _conv(c_in: int, c_out: int, kernel: int, stride: int, separable: bool) -> nn.Module:
    padding = kernel // 2
    if not separable or c_in < 8:
        return nn.Conv2d(c_in, c_out, kernel, stride, padding)
    return nn.Sequential(
        nn.Conv2d(c_in, c_in, kernel, stride, padding, groups=c_in), nn.Conv2d(c_in, c_out, 1)
    )


class Downscale(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, separable: bool) -> None:
        super().__init__(_conv(c_in, c_out, 5, 2, separable), nn.LeakyReLU(0.1))


class Upscale(nn.Sequential):
    """Conv to 4x channels, then pixel-shuffle to twice the resolution."""

    def __init__(self, c_in: int, c_out: int, separable: bool) -> None:
        super().__init__(_conv(c_in, c_out * 4, 3, 1, separable), nn.LeakyReLU(0.1), nn.PixelShuffle(2))


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, separable: bool) -> None:
        super().__init__()
        self.conv1 = _conv(channels, channels, 3, 1, separable)
        self.conv2 = _conv(channels, channels, 3, 1, separable)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.conv2(self.act(self.conv1(x))))


class Encoder(nn.Sequential):
    def __init__(self, config: ModelConfig) -> None:
        dims = [3] + [config.encoder_dims * m for m in (1, 2, 4, 8)]
        super().__init__(
            *(Downscale(a, b, config.separable) for a, b in itertools.pairwise(dims)), nn.Flatten()
        )


class Inter(nn.Module):
    """Dense bottleneck shared by both identities, reshaped to R/16 and upscaled to R/8."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.side = config.resolution // 16
        self.channels = config.inter_dims
        flat_in = config.encoder_dims * 8 * self.side**2
        flat_out = self.channels * self.side**2
        self.dense = nn.Sequential(
            nn.Linear(flat_in, config.bottleneck_dims), nn.Linear(config.bottleneck_dims, flat_out)
        )
        self.upscale = Upscale(self.channels, self.channels, config.separable)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        x = self.dense(code).view(-1, self.channels, self.side, self.side)
        return self.upscale(x)


class Decoder(nn.Module):
    """Three upscales to full resolution with residual blocks; RGB and mask heads with sigmoid outputs."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d, m, sep = config.decoder_dims, config.mask_dims, config.separable
        widths = [config.inter_dims, d * 8, d * 4, d * 2]
        layers: list[nn.Module] = []
        for c_in, c_out in itertools.pairwise(widths):
            layers.append(Upscale(c_in, c_out, sep))
            layers.extend(ResidualBlock(c_out, sep) for _ in range(config.residual_blocks))
        self.face = nn.Sequential(*layers, nn.Conv2d(d * 2, 3, 1), nn.Sigmoid())
        mask_widths = [config.inter_dims, m * 8, m * 4, m * 2]
        self.mask = nn.Sequential(
            *(Upscale(a, b, sep) for a, b in itertools.pairwise(mask_widths)),
            nn.Conv2d(m * 2, 1, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.face(x), self.mask(x)


class SwapAutoencoder(nn.Module):
    """Shared encoder and inter, decoder ``a`` and decoder ``b``. Inputs are RGB in [0, 1], NCHW."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.inter = Inter(config)
        self.decoders = nn.ModuleDict({"a": Decoder(config), "b": Decoder(config)})
        self.apply(_initialise)

    def forward(self, face: torch.Tensor, decoder: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(swapped or reconstructed RGB, mask) through the given identity's decoder."""
        return self.decoders[decoder](self.inter(self.encoder(face)))


def _initialise(module: nn.Module) -> None:
    """He initialisation for LeakyReLU(0.1), zero biases.

    PyTorch's default (variance 1/(3 fan_in)) shrinks the signal about 3x per convolution; through the
    encoder's stride-2 blocks the differences between faces drop below the biases and the decoders can only
    learn the mean face.
    """
    if isinstance(module, nn.Conv2d | nn.Linear):
        nn.init.kaiming_uniform_(module.weight, a=0.1, nonlinearity="leaky_relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class BothIdentities(nn.Module):
    """A training step's forward pass: A's faces through decoder a and B's through decoder b, in one call,
    because DistributedDataParallel expects one forward per backward."""

    def __init__(self, model: SwapAutoencoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, faces_a: torch.Tensor, faces_b: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return (*self.model(faces_a, "a"), *self.model(faces_b, "b"))


class SwapDirection(nn.Module):
    """One direction of a trained model as a single graph: the module that export and inference run."""

    def __init__(self, model: SwapAutoencoder, decoder: str) -> None:
        super().__init__()
        self.encoder, self.inter, self.decoder = model.encoder, model.inter, model.decoders[decoder]

    def forward(self, face: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decoder(self.inter(self.encoder(face)))


def count_flops(module: nn.Module, resolution: int) -> int:
    """FLOPs of one frame (batch 1) counted by torch's FlopCounterMode (a multiply-add counts as 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(torch.rand(1, 3, resolution, resolution))
    return int(counter.get_total_flops())

"""Face-swap autoencoders in two wirings (``ModelConfig.architecture``).

"df", the FakeApp / DeepFaceLab DF design: one shared encoder and bottleneck, one decoder per identity.

    face (N, 3, R, R) → encoder (4 stride-2 blocks) → inter (dense → dense → reshape → upscale)
        → decoder_a or decoder_b (3 pixel-shuffle upscales, optional residual blocks)
        → RGB (N, 3, R, R) and mask (N, 1, R, R)

Swapping A → B runs A's face through the shared encoder and inter, then B's decoder.

"liae", DeepFaceLab's LIAE: one encoder, a shared inter and a second inter of A's own, and one decoder for
both identities, fed the two inters' outputs side by side. A's faces are drawn from (A's inter, shared
inter), B's from (shared, shared); swapping A → B draws A's face from (shared, shared). What only A has
can go through A's own inter, so the shared code has less reason to tell the people apart.
"""

import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

import torch
from torch import nn

MIN_RESOLUTION, MAX_RESOLUTION, RESOLUTION_STEP = 64, 256, 16
ARCHITECTURES = ("df", "liae")


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
    architecture: str = "df"  # ARCHITECTURES

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}"
            )
        r = self.resolution
        if not (MIN_RESOLUTION <= r <= MAX_RESOLUTION and r % RESOLUTION_STEP == 0):
            raise ValueError(
                f"resolution must be {MIN_RESOLUTION}..{MAX_RESOLUTION} "
                f"in steps of {RESOLUTION_STEP}, got {r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Widths:
    """A preset's widths: the ``ModelConfig`` fields other than the resolution and the architecture."""

    encoder_dims: int
    bottleneck_dims: int
    inter_dims: int
    decoder_dims: int
    mask_dims: int
    residual_blocks: int
    separable: bool


# The classic DeepFaceLab "DF" widths; df128 and df256 differ only in their default resolution.
_DF_WIDTHS = Widths(encoder_dims=64, bottleneck_dims=256, inter_dims=256, decoder_dims=64, mask_dims=22,
                    residual_blocks=1, separable=False)  # fmt: skip
# name → widths; the resolution comes from the preset's default or --resolution.
PRESETS = MappingProxyType({
    # residual blocks would double the training time on a 2-core CPU for little gain at 96 px
    "lite": Widths(encoder_dims=24, bottleneck_dims=128, inter_dims=96, decoder_dims=24, mask_dims=8,
                   residual_blocks=0, separable=True),
    "df128": _DF_WIDTHS,
    "df256": _DF_WIDTHS,
})  # fmt: skip
DEFAULT_RESOLUTION = MappingProxyType({"lite": 96, "df128": 128, "df256": 256})


def preset_config(preset: str, resolution: int | None = None, architecture: str = "df") -> ModelConfig:
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    return ModelConfig(
        resolution=resolution or DEFAULT_RESOLUTION[preset],
        architecture=architecture,
        **asdict(PRESETS[preset]),
    )


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

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.expand(self.bottleneck(features))

    def bottleneck(self, features: torch.Tensor) -> torch.Tensor:
        """The shared code (N, bottleneck_dims) of the encoder's flattened features."""
        return self.dense[0](features)

    def expand(self, code: torch.Tensor) -> torch.Tensor:
        """The decoders' input (N, inter_dims, R/8, R/8) from the shared code."""
        x = self.dense[1](code).view(-1, self.channels, self.side, self.side)
        return self.upscale(x)


class Decoder(nn.Module):
    """Three upscales to full resolution with residual blocks; RGB and mask heads with sigmoid outputs."""

    def __init__(self, config: ModelConfig, inputs: int = 1) -> None:
        """``inputs``: how many inter outputs the decoder reads side by side (2 for LIAE)."""
        super().__init__()
        self.inputs = inputs
        d, m, sep = config.decoder_dims, config.mask_dims, config.separable
        widths = [config.inter_dims * inputs, d * 8, d * 4, d * 2]
        layers: list[nn.Module] = []
        for c_in, c_out in itertools.pairwise(widths):
            layers.append(Upscale(c_in, c_out, sep))
            layers.extend(ResidualBlock(c_out, sep) for _ in range(config.residual_blocks))
        self.face = nn.Sequential(*layers, nn.Conv2d(d * 2, 3, 1), nn.Sigmoid())
        mask_widths = [config.inter_dims * inputs, m * 8, m * 4, m * 2]
        self.mask = nn.Sequential(
            *(Upscale(a, b, sep) for a, b in itertools.pairwise(mask_widths)),
            nn.Conv2d(m * 2, 1, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.face(x), self.mask(x)


class SwapAutoencoder(nn.Module):
    """Shared encoder and inter; decoders ``a`` and ``b`` ("df"), or A's own inter ``inter_a`` and one
    decoder ("liae"). Inputs are RGB in [0, 1], NCHW; ``decoder`` names the identity drawn."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.inter = Inter(config)
        if config.architecture == "liae":
            self.inter_a = Inter(config)
            self.decoder = Decoder(config, inputs=2)
        else:
            self.decoders = nn.ModuleDict({"a": Decoder(config), "b": Decoder(config)})
        self.apply(_initialise)

    def forward(self, face: torch.Tensor, decoder: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(swapped or reconstructed RGB, mask) drawn as identity ``decoder``."""
        features = self.encoder(face)
        return self.decode(features, self.inter.bottleneck(features), decoder)

    def encode(self, face: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(encoder features, shared bottleneck code (N, bottleneck_dims)): the code is what the two
        identities must have in common."""
        features = self.encoder(face)
        return features, self.inter.bottleneck(features)

    def decode(
        self, features: torch.Tensor, code: torch.Tensor, decoder: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return draw(self.parts(decoder), features, code)

    def parts(self, decoder: str) -> dict[str, nn.Module]:
        """The modules that draw identity ``decoder``: ``encoder``, ``inter``, ``decoder`` and, for A in a
        LIAE model, ``own`` (A's inter)."""
        if decoder not in ("a", "b"):
            raise ValueError(f"decoder must be 'a' or 'b', got {decoder!r}")
        parts: dict[str, nn.Module] = {"encoder": self.encoder, "inter": self.inter}
        if self.config.architecture == "df":
            return {**parts, "decoder": self.decoders[decoder]}
        return {**parts, "decoder": self.decoder, **({"own": self.inter_a} if decoder == "a" else {})}


def draw(
    parts: Mapping[str, nn.Module] | nn.ModuleDict, features: torch.Tensor, code: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Face and mask from encoder features and the shared code, through ``SwapAutoencoder.parts``: one
    inter output for "df"; for "liae" (own or shared, shared) side by side."""
    inter, decoder = parts["inter"], parts["decoder"]
    assert isinstance(inter, Inter) and isinstance(decoder, Decoder)
    shared = inter.expand(code)
    if decoder.inputs == 1:
        return decoder(shared)
    private = parts["own"](features) if "own" in parts else shared
    return decoder(torch.cat([private, shared], dim=1))


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
    because DistributedDataParallel expects one forward per backward. Returns face and mask of A, face and
    mask of B, and the shared codes of A and B."""

    def __init__(self, model: SwapAutoencoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, faces_a: torch.Tensor, faces_b: torch.Tensor) -> tuple[torch.Tensor, ...]:
        (features_a, code_a), (features_b, code_b) = self.model.encode(faces_a), self.model.encode(faces_b)
        drawn_a = self.model.decode(features_a, code_a, "a")
        return (*drawn_a, *self.model.decode(features_b, code_b, "b"), code_a, code_b)


class SwapDirection(nn.Module):
    """One direction of a trained model as a single graph: the module that export and inference run."""

    def __init__(self, model: SwapAutoencoder, decoder: str) -> None:
        super().__init__()
        self.parts = nn.ModuleDict(model.parts(decoder))  # only what this direction runs

    def forward(self, face: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features, inter = self.parts["encoder"](face), self.parts["inter"]
        assert isinstance(inter, Inter)
        return draw(self.parts, features, inter.bottleneck(features))


def count_flops(module: nn.Module, resolution: int) -> int:
    """FLOPs of one frame (batch 1) counted by torch's FlopCounterMode (a multiply-add counts as 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(torch.rand(1, 3, resolution, resolution))
    return int(counter.get_total_flops())

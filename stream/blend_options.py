"""How a swapped face is pasted back (``stream.blend`` does it): options with no heavy imports, so the
command line can offer them without loading numpy."""

from dataclasses import dataclass

COLOUR_TRANSFERS = ("rct", "none")
INTERPOLATIONS = ("bicubic", "bilinear")  # how the swapped face is resampled into the frame
MAX_MASK_FRACTION = 0.25  # erode or feather wider than a quarter of the crop leaves no face to paste
SCALE_RANGE = (0.8, 1.25)  # face scale: beyond these the pasted face no longer fits the head


@dataclass(frozen=True)
class BlendOptions:
    """How a swapped face is pasted back. Invalid values are rejected.

    ``erode`` and ``feather`` are radii as fractions of the crop side R, so one setting fits every model
    resolution: the defaults are 4 and 10 px on a 128 px crop, 8 and 20 px on a 256 px one. A model's mask
    rarely ends exactly on the face outline, so eroding pulls the seam a little inside it; the feather
    (Gaussian, sigma = radius / 3) then spreads the seam's 10-90% ramp over about 7% of the crop side.
    ``colour`` is "rct" (Reinhard transfer in Lab, measured with the feathered mask) or "none".
    ``interpolation`` resamples the swapped face into the frame, where a face is usually larger than the
    model's crop: "bicubic" keeps more of its fine detail than "bilinear" (MODEL_CARD.md measures both).
    ``scale`` grows (above 1) or shrinks the pasted face, mask included, about the crop's centre.
    """

    erode: float = 0.03
    feather: float = 0.08
    colour: str = "rct"
    interpolation: str = "bicubic"
    scale: float = 1.0

    def __post_init__(self) -> None:
        for name in ("erode", "feather"):
            value = getattr(self, name)
            if not 0.0 <= value <= MAX_MASK_FRACTION:
                raise ValueError(f"{name} must be 0..{MAX_MASK_FRACTION} of the crop side, got {value!r}")
        if self.colour not in COLOUR_TRANSFERS:
            raise ValueError(f"colour transfer must be one of {COLOUR_TRANSFERS}, got {self.colour!r}")
        low, high = SCALE_RANGE
        if not low <= self.scale <= high:
            raise ValueError(f"scale must be {low}..{high}, got {self.scale!r}")
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {self.interpolation!r}")

    def radii_px(self, size: int) -> tuple[int, int]:
        """Erode and feather radii in crop pixels for a crop of side ``size``."""
        return round(self.erode * size), round(self.feather * size)

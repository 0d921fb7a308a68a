"""The paste-back options of ``stream.blend_options.BlendOptions`` on the command line, for `swapcam live` and
`swapcam eval` alike."""

import argparse

from stream.blend_options import (
    COLOUR_TRANSFERS,
    INTERPOLATIONS,
    MAX_MASK_FRACTION,
    SCALE_RANGE,
    BlendOptions,
)


def add_blend_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = BlendOptions()
    group = parser.add_argument_group("paste-back (how the swapped face is blended into the frame)")
    group.add_argument(
        "--colour",
        choices=COLOUR_TRANSFERS,
        default=defaults.colour,
        help=f"give the swapped face the colours of the face it covers: rct (Reinhard transfer) or none "
        f"(default {defaults.colour})",
    )
    group.add_argument(
        "--erode",
        type=float,
        default=defaults.erode,
        metavar="FRACTION",
        help=f"pull the mask's edge inward by this fraction of the crop side, 0..{MAX_MASK_FRACTION} "
        f"(default {defaults.erode})",
    )
    group.add_argument(
        "--feather",
        type=float,
        default=defaults.feather,
        metavar="FRACTION",
        help=f"soften the mask's edge over this fraction of the crop side, 0..{MAX_MASK_FRACTION} "
        f"(default {defaults.feather})",
    )
    group.add_argument(
        "--interpolation",
        choices=INTERPOLATIONS,
        default=defaults.interpolation,
        help=f"how the face is resampled into the frame: bicubic keeps more fine detail, bilinear costs "
        f"less time (default {defaults.interpolation})",
    )
    group.add_argument(
        "--face-scale",
        type=float,
        default=defaults.scale,
        metavar="FACTOR",
        help=f"paste the swapped face this much larger or smaller, {SCALE_RANGE[0]}..{SCALE_RANGE[1]} "
        f"(default {defaults.scale:g})",
    )


# BlendOptions field → the option that sets it, where the names differ
OPTION_NAMES = {"scale": "face-scale"}


def blend_options(args: argparse.Namespace) -> BlendOptions:
    """The options given; a ``SwapcamError`` names the one out of range (argparse checks the choices)."""
    from stream.errors import SwapcamError

    try:
        return BlendOptions(
            erode=args.erode,
            feather=args.feather,
            colour=args.colour,
            interpolation=args.interpolation,
            scale=args.face_scale,
        )
    except ValueError as error:  # its message starts with the field's name: say the option's instead
        field, _, rest = str(error).partition(" ")
        raise SwapcamError(f"--{OPTION_NAMES.get(field, field)} {rest}") from error

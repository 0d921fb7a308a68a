import argparse

from stream.blend_options import BlendOptions
from stream.commands.blend_args import add_blend_arguments, blend_options
from stream.commands.live import configure


def parsed(*argv: str) -> BlendOptions:
    parser = argparse.ArgumentParser()
    add_blend_arguments(parser)
    return blend_options(parser.parse_args(argv))


def test_no_options_give_the_pipeline_defaults():
    assert parsed() == BlendOptions()


def test_every_option_reaches_the_blend_options():
    options = parsed("--colour", "none", "--erode", "0.1", "--feather", "0", "--interpolation", "bilinear",
                     "--face-scale", "1.1")  # fmt: skip
    assert options == BlendOptions(erode=0.1, feather=0.0, colour="none", interpolation="bilinear", scale=1.1)


def test_live_offers_them():
    parser = argparse.ArgumentParser()
    configure(parser)
    args = parser.parse_args(["--camera", "0", "--interpolation", "bilinear", "--erode", "0.05"])
    assert blend_options(args) == BlendOptions(erode=0.05, interpolation="bilinear")

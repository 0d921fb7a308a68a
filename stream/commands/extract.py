"""Find faces in videos, images and folders, and save aligned crops, hull masks and an index.

SRC may mix video files, image files and folders (searched recursively). For each face the output
folder gets faces/NAME.png (the aligned crop), masks/NAME.png (the landmark hull) and a row in
index.npz: source, frame index, landmarks in frame and crop pixels, the frame→crop matrix, face size and
a sharpness score. Running again with the same options skips sources that are already done.

--align dflive crops faces the way DeepFaceLive does (its mean face, coverage 2.2 by default): train on
such faces to take a model to DeepFaceLive with `swapcam export dfm`.

examples:
  swapcam extract "$(swapcam samples --name woman)" --out faces/woman --size 128
  swapcam extract clips/ photos/ --out faces/me --every 5
  swapcam extract clips/ --out faces/me-dfl --align dflive --size 224
"""

import argparse
import shutil
import sys
from pathlib import Path

ALIGN_CHOICES = ("swapcam", "dflive")  # stream.align.ALIGNMENTS, named here so --help imports nothing


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="+", type=Path, metavar="SRC", help="video, image or folder")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    parser.add_argument("--size", type=int, default=256, help="crop side in pixels, 64..640 (default 256)")
    parser.add_argument(
        "--face-type",
        default="whole_face",
        choices=("face", "whole_face"),
        help="face: brows to chin; whole_face: forehead and jaw too (default)",
    )
    parser.add_argument(
        "--coverage",
        type=float,
        help="context around the face region: swapcam 0.5..2.0 (default 1.0), dflive 0.1..8.0 (default 2.2)",
    )
    parser.add_argument(
        "--align",
        default="swapcam",
        choices=ALIGN_CHOICES,
        help="alignment template: swapcam (default) or dflive, DeepFaceLive's (whole_face only)",
    )
    parser.add_argument(
        "--every", type=int, default=1, help="use every N-th video frame, 1 or more (default 1)"
    )
    parser.add_argument(
        "--max-faces", type=int, default=1, help="faces per frame, largest first, 1 or more (default 1)"
    )
    parser.add_argument("--refine-iris", action="store_true", help="478 landmarks with iris points")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from stream.align import ALIGNMENTS, AlignSpec
    from stream.errors import SwapcamError
    from stream.extract import ExtractOptions, extract
    from stream.paths import Given, Output, check_paths

    alignment = ALIGNMENTS[args.align]
    coverage = alignment.coverage[1] if args.coverage is None else args.coverage
    try:
        options = ExtractOptions(
            spec=AlignSpec(
                face_type=args.face_type, size=args.size, coverage=coverage, template=alignment.template
            ),
            every=args.every,
            max_faces=args.max_faces,
            refine_iris=args.refine_iris,
        )
    except ValueError as error:
        raise SwapcamError(str(error)) from error
    check_paths(
        [Given("SRC", source) for source in args.sources],
        [Output("--out", args.out, folder=True, names=("index.npz", "faces", "masks"), apart=True)],
    )
    new_folder = not args.out.exists()
    summary = extract(args.sources, args.out, options, progress=False if args.no_progress else None)
    print(
        f"{summary.faces_written} faces written from {summary.frames_read} frames "
        f"({summary.frames_without_face} frames without a face) into {args.out}"
    )
    if summary.already_extracted:
        print(f"{len(summary.already_extracted)} source(s) already extracted with these options: skipped")
    for note in summary.notes:
        print(f"swapcam extract: warning: {note}", file=sys.stderr)
    for reason, paths in summary.skipped.items():
        print(f"skipped {len(paths)} source(s), {reason}: " + ", ".join(str(p) for p in paths))
    if summary.faces_available == 0:
        if new_folder:  # made by this run and holding no face: not left behind as a finished extract
            shutil.rmtree(args.out, ignore_errors=True)
        print(f"no usable faces in {args.out}" + (" (folder removed)" if new_folder else ""))
        return 1
    return 0

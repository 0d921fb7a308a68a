"""Train a face-swap autoencoder: one shared encoder, one decoder for face A and one for face B.

A and B are folders written by `swapcam extract` with the same --face-type and --coverage. The run
folder gets checkpoints/, log.csv (losses per step), previews/ and preview.png (columns A, A→A, A→B, B,
B→B, B→A). Ctrl-C saves a checkpoint and stops; --resume continues exactly where the run stopped.

examples:
  swapcam train --a faces/me --b faces/them --out runs/me2them --preset lite --minutes 30
  swapcam train --a faces/me --b faces/them --out runs/me2them --resume --steps 20000
"""

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--a", required=True, type=Path, help="extract folder of identity A (your face)")
    parser.add_argument(
        "--b", required=True, type=Path, help="extract folder of identity B (the target face)"
    )
    parser.add_argument("--out", required=True, type=Path, help="run folder (created if missing)")
    parser.add_argument("--preset", choices=("lite", "df128", "df256"), help="model size (default lite)")
    parser.add_argument("--resolution", type=int, help="64..256 in steps of 16 (default: the preset's)")
    parser.add_argument("--batch", type=int, default=16, help="faces per identity per step (default 16)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help="train until this total step count")
    length.add_argument("--minutes", type=float, help="train for this long (default: until Ctrl-C)")
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint"
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="default auto")
    parser.add_argument("--lr", type=float, default=5e-5, help="AdamW learning rate (default 5e-5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--holdout", type=float, default=0.0, help="fraction of each folder's last faces kept for evaluation"
    )
    parser.add_argument("--flip", action="store_true", help="random horizontal flips")
    parser.add_argument(
        "--no-colour-transfer", action="store_true", help="no colour transfer between A and B"
    )
    parser.add_argument("--preview-every", type=int, default=100)
    parser.add_argument("--save-every", type=int, default=250)
    parser.add_argument("--keep", type=int, default=3, help="checkpoints kept (default 3)")
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from stream.errors import SwapcamError
    from trained.augment import AugmentConfig
    from trained.session import TrainOptions
    from trained.train import train

    try:
        options = TrainOptions(
            preset=args.preset,
            resolution=args.resolution,
            batch=args.batch,
            steps=args.steps,
            minutes=args.minutes,
            learning_rate=args.lr,
            seed=args.seed,
            device=args.device,
            preview_every=args.preview_every,
            save_every=args.save_every,
            keep=args.keep,
            holdout=args.holdout,
            augment=AugmentConfig(flip=args.flip, colour_transfer=not args.no_colour_transfer),
        )
    except ValueError as error:
        raise SwapcamError(str(error)) from error
    result = train(
        args.a, args.b, args.out, options, resume=args.resume, progress=False if args.no_progress else None
    )
    state = "interrupted at" if result.interrupted else "reached"
    print(f"{state} step {result.step} in {result.seconds:.0f} s ({result.samples_per_second:.1f} samples/s)")
    if result.losses:
        print(f"last losses: A {result.losses['loss_a']:.4f}  B {result.losses['loss_b']:.4f}")
    if args.holdout > 0:
        print(f"held-out SSIM: A→A {result.holdout_ssim['aa']:.3f}  B→B {result.holdout_ssim['bb']:.3f}")
    print(f"checkpoint: {result.checkpoint}")
    print(f"preview: {args.out / 'preview.png'}")
    return 130 if result.interrupted else 0

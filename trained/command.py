"""Train a face-swap autoencoder: one shared encoder, one decoder for face A and one for face B.

A and B are folders written by `swapcam extract` with the same --face-type and --coverage. The run
folder gets checkpoints/, log.csv (losses per step), previews/ and preview.png (columns A, A→A, A→B, B,
B→B, B→A). Ctrl-C saves a checkpoint and stops; --resume continues where the run stopped (exactly, for
one process).

--nproc N trains data-parallel in N processes on this machine (torchrun; one per GPU, or CPU shares with
gloo): the global batch is --batch x N per identity and --lr is used as given. Several machines: start
`torchrun --nnodes ... --nproc-per-node ... -m trained ARGS` on each (see the README).

examples:
  swapcam train --a faces/me --b faces/them --out runs/me2them --preset lite --minutes 30
  swapcam train --a faces/me --b faces/them --out runs/me2them --resume --steps 20000
  swapcam train --a faces/me --b faces/them --out runs/me2them --preset df256 --nproc 4
"""

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    from trained.ranges import span

    parser.add_argument("--a", required=True, type=Path, help="extract folder of identity A (your face)")
    parser.add_argument(
        "--b", required=True, type=Path, help="extract folder of identity B (the target face)"
    )
    parser.add_argument("--out", required=True, type=Path, help="run folder (created if missing)")
    parser.add_argument("--preset", choices=("lite", "df128", "df256"), help="model size (default lite)")
    parser.add_argument(
        "--resolution", type=int, help=f"{span('--resolution')} in steps of 16 (default: the preset's)"
    )
    parser.add_argument(
        "--architecture",
        choices=("df", "liae"),
        help="df: a decoder per identity (default); liae: DeepFaceLab's LIAE, one decoder and A's own inter",
    )
    parser.add_argument(
        "--batch", type=int, default=16, help=f"faces per identity per step, {span('--batch')} (default 16)"
    )
    length = parser.add_mutually_exclusive_group()
    length.add_argument(
        "--steps",
        type=int,
        help=f"train until this total step count ({span('--steps')}; default: --minutes, or until Ctrl-C)",
    )
    length.add_argument(
        "--minutes", type=float, help=f"train for this long, {span('--minutes')} (default: until Ctrl-C)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint"
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="default auto")
    parser.add_argument(
        "--lr", type=float, default=5e-5, help=f"AdamW learning rate, {span('--lr')} (default 5e-5)"
    )
    parser.add_argument(
        "--lr-decay",
        type=float,
        default=0.0,
        help="fraction of a --steps or --minutes run at its end over which the learning rate falls "
        "linearly to 1%% of --lr (0..1, default 0: constant)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help=f"seed of weights and augmentation, {span('--seed')} (default 0)"
    )
    parser.add_argument(
        "--holdout",
        type=float,
        default=0.0,
        help=f"fraction of each folder's last faces kept for evaluation, {span('--holdout')} (default 0)",
    )
    parser.add_argument("--no-flip", action="store_true", help="no random horizontal flips")
    parser.add_argument(
        "--augment",
        default="dfl",
        choices=("dfl", "light"),
        help="warp and scale: DeepFaceLab's strength (dfl, default) or light (warp 0.03 of the side, "
        "scale 5%%)",
    )
    parser.add_argument(
        "--colour-transfer",
        default="b",
        choices=("b", "both", "none"),
        help="recolour B's faces toward A's (b, the default), each toward the other's (both), or none",
    )
    parser.add_argument(
        "--code-moments",
        type=float,
        default=0.5,
        help=f"weight of the term that matches A's and B's code statistics, {span('--code-moments')} "
        "(default 0.5; 0: off)",
    )
    parser.add_argument(
        "--code-critic",
        type=float,
        default=0.1,
        help="weight of the term that keeps a code classifier from telling A from B, "
        f"{span('--code-critic')} (default 0.1; 0: off)",
    )
    parser.add_argument(
        "--face-critic",
        type=float,
        default=0.0,
        help="weight of the term that keeps a patch critic from telling B's faces from B's decoder's "
        f"(sharper output), {span('--face-critic')} (default 0: off; may be switched on for --resume)",
    )
    parser.add_argument(
        "--augment-on",
        default="auto",
        choices=("auto", "cpu", "device"),
        help="where batches are augmented: auto (on the GPU when training on one, else the CPU), cpu, device "
        "(default auto)",
    )
    parser.add_argument(
        "--preview-every", type=int, default=100, help="write preview.png every N steps (default 100)"
    )
    parser.add_argument("--save-every", type=int, default=250, help="checkpoint every N steps (default 250)")
    parser.add_argument("--keep", type=int, default=3, help="checkpoints kept (default 3)")
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar (the log and header stay)"
    )
    parser.add_argument(
        "--nproc",
        type=int,
        default=1,
        help="processes on this machine, data-parallel via torchrun (default 1)",
    )


def run(args: argparse.Namespace) -> int:
    import os

    from stream.threads import size_thread_pools

    # before torch loads: OpenMP reads its pool size once. Under torchrun each process gets its share.
    size_thread_pools(share=max(args.nproc, int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))
    from dataclasses import replace

    from stream.errors import SwapcamError
    from trained.augment import AUGMENT_STRENGTHS
    from trained.distributed import current_world
    from trained.losses import LossWeights
    from trained.session import TrainOptions
    from trained.train import train

    if args.nproc < 1:
        raise SwapcamError(f"--nproc must be at least 1, got {args.nproc}")
    if args.nproc > 1 and current_world().size > 1:
        raise SwapcamError("--nproc launches torchrun; under torchrun already, leave it out")
    try:
        options = TrainOptions(
            preset=args.preset,
            resolution=args.resolution,
            architecture=args.architecture,
            batch=args.batch,
            steps=args.steps,
            minutes=args.minutes,
            learning_rate=args.lr,
            lr_decay=args.lr_decay,
            seed=args.seed,
            device=args.device,
            preview_every=args.preview_every,
            save_every=args.save_every,
            keep=args.keep,
            holdout=args.holdout,
            augment=replace(AUGMENT_STRENGTHS[args.augment], flip=not args.no_flip),
            augment_on=args.augment_on,
            weights=LossWeights(
                code_moments=args.code_moments, code_critic=args.code_critic, face_critic=args.face_critic
            ),
            colour_transfer=args.colour_transfer,
        )
    except ValueError as error:
        raise SwapcamError(str(error)) from error
    from stream.paths import Given, Output, check_paths

    check_paths(
        [Given("--a", args.a), Given("--b", args.b)],
        [Output("--out", args.out, folder=True, names=("checkpoints", "log.csv", "preview.png", "previews"))],
    )
    if args.nproc > 1:
        return _launch(args)
    result = train(
        args.a, args.b, args.out, options, resume=args.resume, progress=False if args.no_progress else None
    )
    if not current_world().leader:  # rank 0 reports for the job
        return 130 if result.interrupted else 0
    state = "interrupted at" if result.interrupted else "reached"
    print(f"{state} step {result.step} in {result.seconds:.0f} s ({result.samples_per_second:.1f} samples/s)")
    if result.losses:
        print(f"last losses: A {result.losses['loss_a']:.4f}  B {result.losses['loss_b']:.4f}")
    if args.holdout > 0:
        print(f"held-out SSIM: A→A {result.holdout_ssim['aa']:.3f}  B→B {result.holdout_ssim['bb']:.3f}")
        if result.holdout_swap:
            print(result.holdout_swap)
    print(f"checkpoint: {result.checkpoint}")
    print(f"preview: {args.out / 'preview.png'}")
    return 130 if result.interrupted else 0


def _forwarded(args: argparse.Namespace) -> list[str]:
    """The command line again, without --nproc, for every process torchrun starts."""
    values = {"--a": args.a, "--b": args.b, "--out": args.out, "--preset": args.preset,
              "--resolution": args.resolution, "--architecture": args.architecture, "--batch": args.batch,
              "--steps": args.steps,
              "--minutes": args.minutes, "--device": args.device, "--lr": args.lr,
              "--lr-decay": args.lr_decay, "--seed": args.seed,
              "--holdout": args.holdout, "--preview-every": args.preview_every,
              "--save-every": args.save_every, "--keep": args.keep,
              "--augment-on": args.augment_on, "--colour-transfer": args.colour_transfer,
              "--code-moments": args.code_moments, "--code-critic": args.code_critic,
              "--face-critic": args.face_critic,
              "--augment": args.augment}  # fmt: skip
    flags = {"--resume": args.resume, "--no-flip": args.no_flip,
             "--no-progress": args.no_progress}  # fmt: skip
    given = [(option, str(value)) for option, value in values.items() if value is not None]
    return [item for pair in given for item in pair] + [flag for flag, on in flags.items() if on]


def _launch(args: argparse.Namespace) -> int:
    """Run this training in ``--nproc`` processes under torchrun. Ctrl-C reaches torchrun, which passes it
    to the processes: they agree to stop, rank 0 saves, and this returns 130."""
    import os
    import signal
    import subprocess
    import sys

    from stream.errors import SwapcamError
    from stream.threads import export_pool_variables, plan_threads, usable_cores

    environment = dict(os.environ)
    export_pool_variables(plan_threads(usable_cores(), share=args.nproc), environment)
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command = [*launcher, f"--nproc-per-node={args.nproc}", "-m", "trained", *_forwarded(args)]
    print(f"swapcam train: {args.nproc} processes via torchrun", file=sys.stderr, flush=True)
    interrupted = False

    def note_interrupt(*_: object) -> None:
        nonlocal interrupted
        interrupted = True

    previous = signal.signal(signal.SIGINT, note_interrupt)
    try:
        with subprocess.Popen(command, env=environment) as torchrun:
            code = torchrun.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        return 130
    if code != 0:
        raise SwapcamError(
            f"distributed training failed: torchrun exited with code {code} (a process stopped; "
            "its error is printed above). The last checkpoint in --out is intact: --resume continues"
        )
    return 0

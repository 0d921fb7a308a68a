"""Training-recipe ablation: the same data and step budget for each variant of the recipe, one run folder
each, so that ``swapcam eval`` can judge every change's effect on identity and expression.

    python -m bench.ablation --a faces/woman --b faces/man --out runs/ablation --steps 1200 \\
        [--variants full round-1 ...]

Variants: ``full`` (the default recipe), ``round-1`` (the recipe before the code-alignment work), and the
full recipe without one change each (``no-code-moments``, ``no-code-critic``, ``colour-both``,
``light-augment``). A finished variant (its last checkpoint at the budget) is skipped when run again.
"""

import argparse
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from trained.augment import AugmentConfig
from trained.losses import LossWeights
from trained.session import TrainOptions

# The augmentation of the round-1 demo model: warp 0.03 of the side on a 4-cell grid, scale ±5%, no flips.
LIGHT_AUGMENT = AugmentConfig(scale=0.05, warp=0.12, warp_cells=(4,), flip=False)
NO_CODE_TERMS = LossWeights(code_moments=0.0, code_critic=0.0)

VARIANTS = MappingProxyType({
    "full": {},
    "round-1": {"augment": LIGHT_AUGMENT, "weights": NO_CODE_TERMS, "colour_transfer": "both"},
    "no-code-moments": {"weights": LossWeights(code_moments=0.0)},
    "no-code-critic": {"weights": LossWeights(code_critic=0.0)},
    "no-code-terms": {"weights": NO_CODE_TERMS},
    "colour-both": {"colour_transfer": "both"},
    "light-augment": {"augment": LIGHT_AUGMENT},
})  # fmt: skip


def variant_options(base: TrainOptions, name: str) -> TrainOptions:
    if name not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, got {name!r}")
    return replace(base, **VARIANTS[name])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ablation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True, type=Path)
    parser.add_argument("--b", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path, help="one run folder per variant is made here")
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args(argv)

    from stream.threads import size_thread_pools

    size_thread_pools()
    from trained import checkpoint as ckpt
    from trained.train import train

    base = TrainOptions(preset="lite", batch=args.batch, steps=args.steps, learning_rate=args.lr)
    for name in args.variants:
        run = args.out / name
        done = ckpt.list_checkpoints(run / "checkpoints")
        if done and ckpt.load_checkpoint(done[-1])["step"] >= args.steps:
            print(f"{name}: already trained to {args.steps} steps")
            continue
        result = train(args.a, args.b, run, variant_options(base, name), resume=bool(done), progress=False)
        print(f"{name}: {result.step} steps in {result.seconds:.0f} s → {result.checkpoint}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

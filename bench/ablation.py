"""Training-recipe ablation: the same data and step budget for each variant of the recipe, one run folder
each, judged by `swapcam eval` on the woman's sample clip, and one table of the results.

    swapcam bench ablation --a faces/woman --b faces/man --out runs/ablation --steps 1200 \\
        [--variants full round-1 ...] [--every 4]

Variants: ``full`` (the default recipe), ``round-1`` (the recipe of the first demo model), the full recipe
without one change each (``no-code-moments``, ``no-code-critic``, ``no-code-terms``, ``colour-both``,
``light-augment``), ``liae`` (the full recipe on the LIAE wiring), the light augmentation with
``--lr-decay`` over the whole run or its last third (``light-decay-all``, ``light-decay-third``) and with
flips (``light-flip``). A finished variant (trained to the budget, its report written) is not run again; the
table covers every variant with a report.
"""

import argparse
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import TypedDict

from trained.augment import AUGMENT_STRENGTHS, AugmentConfig
from trained.losses import LossWeights
from trained.session import TrainOptions

# The augmentation of the round-1 demo model: warp 0.03 of the side on a 4-cell grid, scale ±5%, no flips.
LIGHT_AUGMENT = replace(AUGMENT_STRENGTHS["light"], flip=False)
NO_CODE_TERMS = LossWeights(code_moments=0.0, code_critic=0.0)


class Changes(TypedDict, total=False):
    """The ``TrainOptions`` fields a variant sets."""

    augment: AugmentConfig
    weights: LossWeights
    colour_transfer: str
    architecture: str
    lr_decay: float


VARIANTS: Mapping[str, Changes] = MappingProxyType({
    "full": {},
    "round-1": {"augment": LIGHT_AUGMENT, "weights": NO_CODE_TERMS, "colour_transfer": "both"},
    "no-code-moments": {"weights": LossWeights(code_moments=0.0)},
    "no-code-critic": {"weights": LossWeights(code_critic=0.0)},
    "no-code-terms": {"weights": NO_CODE_TERMS},
    "colour-both": {"colour_transfer": "both"},
    "light-augment": {"augment": LIGHT_AUGMENT},
    "liae": {"architecture": "liae"},
    "light-decay-all": {"augment": LIGHT_AUGMENT, "lr_decay": 1.0},
    "light-decay-third": {"augment": LIGHT_AUGMENT, "lr_decay": 0.33},
    "light-flip": {"augment": AUGMENT_STRENGTHS["light"]},
})  # fmt: skip
COLUMNS = (
    ("closer_to_b_fraction", "closer to B than A"),
    ("median_distance_b", "median distance to B"),
    ("nearer_b_than_strangers_fraction", "nearer B than any stranger"),
    ("mouth_correlation", "mouth corr."),
    ("eye_correlation", "eye corr."),
    ("landmark_error", "landmark error"),
    ("flicker_ratio", "flicker ratio"),
    ("detail_ratio", "detail ratio"),
    ("detail_ceiling", "perfect model's detail ratio"),
    ("faces_lost", "faces lost"),
)


def variant_options(base: TrainOptions, name: str) -> TrainOptions:
    if name not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, got {name!r}")
    return replace(base, **VARIANTS[name])


def table(out: Path) -> str:
    """Markdown: one row per variant whose report exists under ``out``."""
    from bench.eval_report import figure_text

    lines = [
        "| variant | " + " | ".join(title for _, title in COLUMNS) + " |",
        "|---" * (len(COLUMNS) + 1) + "|",
    ]
    for name in VARIANTS:
        report = out / name / "eval" / "report.json"
        if report.is_file():
            summary = json.loads(report.read_text())["summary"]
            cells = [figure_text(summary.get(key, float("nan"))) for key, _ in COLUMNS]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """`swapcam bench ablation` (options: ``bench.command``)."""
    from stream.errors import SwapcamError

    variants = args.variants or list(VARIANTS)
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise SwapcamError(f"--variants expects names among {', '.join(VARIANTS)}, got {', '.join(unknown)}")
    base = TrainOptions(preset="lite", batch=args.batch, steps=args.steps, learning_rate=args.lr)
    for name in variants:
        run_variant(args, name, variant_options(base, name))
    print(table(args.action_out))
    return 0


def run_variant(args: argparse.Namespace, name: str, options: TrainOptions) -> None:
    from bench.eval_command import default_inputs
    from bench.eval_flow import evaluate_swap
    from trained import checkpoint as ckpt
    from trained.train import train

    run = args.action_out / name
    done = ckpt.list_checkpoints(run / "checkpoints")
    if not done or ckpt.load_checkpoint(done[-1])["step"] < args.steps:
        result = train(args.a, args.b, run, options, resume=bool(done), progress=False)
        print(f"{name}: {result.step} steps in {result.seconds:.0f} s", flush=True)
    if not (run / "eval" / "report.json").is_file():
        evaluate_swap(default_inputs(model=run), run / "eval", every=args.every, say=lambda message: None)

"""Package a finished training run as the shipped demo model.

    python -m trained.demo RUN --a FACES_A --b FACES_B --holdout 0.1

Writes the weights only (no optimizer or RNG state) to trained/demo/, a preview of held-out faces, and
prints the figures the model card reports: steps, final losses (mean of the last 100 steps), the
reconstruction SSIM of the held-out faces of A and B (the last 10% of each clip, never trained on) and the
swap figures of A's held-out faces (``trained.holdout_eval``).
"""

import argparse
import csv
from pathlib import Path

import numpy as np

from trained import checkpoint as ckpt
from trained.data import load_faces, split_holdout
from trained.demo import CHECKPOINT, PREVIEW
from trained.holdout_eval import holdout_figures
from trained.preview import preview_grid, reconstruction_ssim, write_preview

WEIGHT_KEYS = ("preset", "model_config", "labels", "alignment", "step", "model", "options")


def final_losses(run: Path, last: int = 100) -> dict[str, float]:
    with (run / "log.csv").open() as handle:
        rows = list(csv.DictReader(handle))[-last:]
    return {
        key: float(np.mean([float(row[key]) for row in rows]))
        for key in ("loss_a", "loss_b", "dssim_a", "dssim_b")
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=Path)
    parser.add_argument("--a", type=Path, required=True)
    parser.add_argument("--b", type=Path, required=True)
    parser.add_argument("--holdout", type=float, default=0.1)
    args = parser.parse_args()
    model, state = ckpt.load_model(args.run)
    ckpt.save_checkpoint(CHECKPOINT, {key: state[key] for key in WEIGHT_KEYS})
    resolution = model.config.resolution
    held = {
        key: split_holdout(load_faces(folder, resolution), args.holdout)[1]
        for key, folder in (("a", args.a), ("b", args.b))
    }
    rows = min(len(held["a"]), len(held["b"]), 6)
    pick = {key: data.faces[np.linspace(0, len(data) - 1, rows).astype(int)] for key, data in held.items()}
    write_preview(PREVIEW, preview_grid(model, pick["a"], pick["b"]))
    print(f"weights: {CHECKPOINT} ({CHECKPOINT.stat().st_size / 1e6:.1f} MB), step {state['step']}")
    print(f"held-out faces: A {len(held['a'])}, B {len(held['b'])}")
    ssim = {key: reconstruction_ssim(model, data, key) for key, data in held.items()}
    print(f"held-out SSIM A→A {ssim['a']:.3f}, B→B {ssim['b']:.3f}")
    trained_b = split_holdout(load_faces(args.b, resolution), args.holdout)[0]
    figures = holdout_figures(model.eval(), held["a"], trained_b)
    print(figures.describe() if figures else "no held-out faces of A")
    print(f"final losses (last 100 steps): {final_losses(args.run)}")
    print(f"preview: {PREVIEW}")


if __name__ == "__main__":
    main()

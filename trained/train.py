"""The training loop: both identities every step, checkpoints, CSV log, previews, exact resume.

A run folder holds ``checkpoints/step-NNNNNNN.pt`` (the last ``keep``), ``log.csv`` (one row per step),
``previews/step-NNNNNNN.png`` and ``preview.png`` (the latest). Ctrl-C finishes the step under way, saves a
checkpoint and returns, so that ``--resume`` repeats exactly what an uninterrupted run would have done.
"""

import contextlib
import csv
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from stream.errors import SwapcamError
from trained import checkpoint as ckpt
from trained.augment import AugmentConfig, Batch, sample_batch
from trained.data import FaceData, check_compatible, load_faces, split_holdout
from trained.losses import LossWeights, reconstruction_loss
from trained.model import ModelConfig, SwapAutoencoder, preset_config
from trained.preview import preview_grid, reconstruction_ssim, write_preview

# Options that change what a step does: a resumed run must use the values it was trained with.
RESUME_OPTIONS = ("batch", "learning_rate", "seed", "holdout", "flip", "colour_transfer")
LOG_FIELDS = ("step", "elapsed_s", "loss", "loss_a", "loss_b", "dssim_a", "dssim_b", "mask_a", "mask_b")


@dataclass(frozen=True)
class TrainOptions:
    preset: str | None = None  # None: "lite" for a new run, the checkpoint's for --resume
    resolution: int | None = None
    batch: int = 16
    steps: int | None = None  # total steps to reach; with neither steps nor minutes: until Ctrl-C
    minutes: float | None = None
    learning_rate: float = 5e-5
    seed: int = 0
    device: str = "auto"
    preview_every: int = 100
    save_every: int = 250
    keep: int = 3
    holdout: float = 0.0
    label_a: str | None = None
    label_b: str | None = None
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    weights: LossWeights = field(default_factory=LossWeights)

    def __post_init__(self) -> None:
        if self.batch < 1 or self.keep < 1 or self.preview_every < 1 or self.save_every < 1:
            raise ValueError("--batch, --keep, --preview-every and --save-every must be >= 1")
        if self.steps is not None and self.minutes is not None:
            raise ValueError("give --steps or --minutes, not both")
        if (self.steps is not None and self.steps < 1) or (self.minutes is not None and self.minutes <= 0):
            raise ValueError("--steps and --minutes must be positive")
        if not 0.0 <= self.holdout < 1.0 or self.learning_rate <= 0:
            raise ValueError(
                f"--holdout must be in [0, 1) and --lr > 0, got {self.holdout} and {self.learning_rate}"
            )

    def resume_values(self) -> dict[str, Any]:
        values = {
            "batch": self.batch,
            "learning_rate": self.learning_rate,
            "seed": self.seed,
            "holdout": self.holdout,
        }
        return {**values, "flip": self.augment.flip, "colour_transfer": self.augment.colour_transfer}


@dataclass(frozen=True)
class TrainResult:
    step: int
    checkpoint: Path
    losses: dict[str, float]
    seconds: float
    samples_per_second: float
    holdout_ssim: dict[str, float]
    interrupted: bool


@dataclass
class _Session:
    """The live objects of one training session (owned by ``train``)."""

    model: SwapAutoencoder
    optimizer: torch.optim.Optimizer
    rng: np.random.Generator
    step: int
    labels: dict[str, str]
    data: dict[str, FaceData]
    holdout: dict[str, FaceData]
    device: torch.device
    amp_dtype: torch.dtype | None
    scaler: torch.amp.GradScaler  # active only for float16 autocast; a no-op otherwise


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SwapcamError(
            "--device cuda was asked for, but torch sees no CUDA GPU (is a CUDA build of torch installed?)"
        )
    if name not in ("cpu", "cuda"):
        raise SwapcamError(f"--device must be auto, cpu or cuda, got {name!r}")
    return torch.device(name)


def _amp_dtype(device: torch.device) -> torch.dtype | None:
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _model_config(options: TrainOptions, saved: dict[str, Any] | None) -> ModelConfig:
    if saved is None:
        try:
            return preset_config(options.preset or "lite", options.resolution)
        except ValueError as error:
            raise SwapcamError(str(error)) from error
    config = ModelConfig(**saved["model_config"])
    if (options.preset and options.preset != saved["preset"]) or (
        options.resolution and options.resolution != config.resolution
    ):
        raise SwapcamError(
            f"the run was trained as {saved['preset']} at {config.resolution} px; "
            "--resume continues it as it is (drop --preset/--resolution or choose another --out)"
        )
    return config


def _check_resume(saved: dict[str, Any], options: TrainOptions, data: FaceData) -> None:
    """A resumed run continues with the options and the face alignment it was trained with."""
    recorded = saved.get("options", {})
    wanted = options.resume_values()
    differences = [
        f"{key} {recorded[key]} (now {wanted[key]})"
        for key in RESUME_OPTIONS
        if key in recorded and recorded[key] != wanted[key]
    ]
    if differences:
        raise SwapcamError(
            f"--resume must continue with the options the run was trained with: {'; '.join(differences)}"
        )
    alignment = {
        "face_type": data.spec.face_type,
        "coverage": data.spec.coverage,
        "align_template": data.align_template,
    }
    if saved["alignment"] != alignment:
        raise SwapcamError(
            f"the run was trained on faces aligned as {saved['alignment']}, these are {alignment}"
        )


def open_session(
    a_dir: Path, b_dir: Path, run: Path, options: TrainOptions, resume: bool
) -> tuple[_Session, str]:
    checkpoints = run / "checkpoints"
    try:
        checkpoints.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SwapcamError(f"cannot create the run folder --out {run}: {error.strerror or error}") from error
    saved = ckpt.load_checkpoint(ckpt.latest_checkpoint(run)) if resume else None
    if not resume and ckpt.list_checkpoints(checkpoints):
        raise SwapcamError(
            f"{run} already holds a training run: pass --resume to continue it, or choose another --out"
        )
    config = _model_config(options, saved)
    preset = saved["preset"] if saved else options.preset or "lite"
    data = {
        "a": load_faces(a_dir, config.resolution, options.label_a),
        "b": load_faces(b_dir, config.resolution, options.label_b),
    }
    check_compatible(data["a"], data["b"])
    if saved is not None:
        _check_resume(saved, options, data["a"])
    split = {key: split_holdout(value, options.holdout) for key, value in data.items()}
    device = resolve_device(options.device)
    torch.manual_seed(options.seed)
    model = SwapAutoencoder(config).to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=options.learning_rate, betas=(0.5, 0.999))
    amp_dtype = _amp_dtype(device)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
    rng = np.random.default_rng(options.seed)
    step = 0
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        if saved.get("scaler"):  # empty when the run so far had no float16 autocast
            scaler.load_state_dict(saved["scaler"])
        rng.bit_generator.state = saved["rng"]["numpy"]
        torch.set_rng_state(saved["rng"]["torch"])
        step = int(saved["step"])
    labels = saved["labels"] if saved else {key: value.label for key, value in data.items()}
    session = _Session(
        model=model,
        optimizer=optimizer,
        rng=rng,
        step=step,
        labels=labels,
        data={k: v[0] for k, v in split.items()},
        holdout={k: v[1] for k, v in split.items()},
        device=device,
        amp_dtype=amp_dtype,
        scaler=scaler,
    )
    return session, preset


def _to_device(batch: Batch, session: _Session) -> dict[str, torch.Tensor]:
    tensors = {
        name: torch.from_numpy(getattr(batch, name)).to(session.device)
        for name in ("inputs", "targets", "masks", "regions")
    }
    if session.device.type == "cuda":
        tensors = {k: v.contiguous(memory_format=torch.channels_last) for k, v in tensors.items()}
    return tensors


def train_step(session: _Session, options: TrainOptions) -> dict[str, float]:
    """One optimizer step on a fresh batch of each identity; returns the logged losses."""
    batches = {
        "a": sample_batch(session.rng, session.data["a"], options.batch, options.augment, session.data["b"]),
        "b": sample_batch(session.rng, session.data["b"], options.batch, options.augment, session.data["a"]),
    }
    session.optimizer.zero_grad(set_to_none=True)
    total = torch.zeros((), device=session.device)
    row: dict[str, float] = {}
    autocast = (
        torch.autocast("cuda", dtype=session.amp_dtype) if session.amp_dtype else contextlib.nullcontext()
    )
    for key, batch in batches.items():
        t = _to_device(batch, session)
        with autocast:
            face, mask = session.model(t["inputs"], key)
        loss, parts = reconstruction_loss(
            face.float(), mask.float(), t["targets"], t["masks"], t["regions"], weights=options.weights
        )
        total = total + loss
        row.update(
            {
                f"loss_{key}": float(loss.detach()),
                f"dssim_{key}": parts["dssim"],
                f"mask_{key}": parts["mask"],
            }
        )
    session.scaler.scale(total).backward()
    session.scaler.step(session.optimizer)
    session.scaler.update()
    session.step += 1
    row["loss"] = row["loss_a"] + row["loss_b"]
    return row


def _save(session: _Session, run: Path, options: TrainOptions, preset: str) -> Path:
    path = run / "checkpoints" / ckpt.checkpoint_name(session.step)
    data = session.data["a"]
    ckpt.save_checkpoint(
        path,
        {
            "preset": preset,
            "model_config": session.model.config.to_dict(),
            "labels": session.labels,
            "alignment": {
                "face_type": data.spec.face_type,
                "coverage": data.spec.coverage,
                "align_template": data.align_template,
            },
            "step": session.step,
            "model": session.model.state_dict(),
            "optimizer": session.optimizer.state_dict(),
            "scaler": session.scaler.state_dict(),
            "rng": {"numpy": session.rng.bit_generator.state, "torch": torch.get_rng_state()},
            "options": options.resume_values(),
        },
    )
    ckpt.prune_checkpoints(run / "checkpoints", options.keep)
    return path


def _preview(session: _Session, run: Path) -> None:
    def pick(key: str) -> np.ndarray:
        source = session.holdout[key] if len(session.holdout[key]) >= 4 else session.data[key]
        return source.faces[np.linspace(0, len(source) - 1, 4).astype(int)]

    path = run / "previews" / f"step-{session.step:07d}.png"
    write_preview(path, preview_grid(session.model, pick("a"), pick("b")))
    shutil.copyfile(path, run / "preview.png")


def train(
    a_dir: Path,
    b_dir: Path,
    run: Path,
    options: TrainOptions,
    *,
    resume: bool = False,
    progress: bool | None = None,
) -> TrainResult:
    """Train (or continue) a run; see the module docstring for what the run folder holds."""
    session, preset = open_session(a_dir, b_dir, run, options, resume)
    start_step, started = session.step, time.monotonic()
    deadline = started + options.minutes * 60 if options.minutes else None
    row: dict[str, float] = {}
    log_path = run / "log.csv"
    if resume:
        _drop_log_rows_after(log_path, session.step)
    new_log = not log_path.exists()
    with (
        _interrupt_flag() as interrupted,
        log_path.open("a", newline="") as log_file,
        tqdm(
            total=options.steps,
            initial=session.step,
            unit="step",
            disable=progress is False,
            dynamic_ncols=True,
        ) as bar,
    ):
        log = csv.DictWriter(log_file, LOG_FIELDS, extrasaction="ignore")
        if new_log:
            log.writeheader()
        while not interrupted.is_set() and _should_continue(session.step, options.steps, deadline):
            row = _guarded_step(session, options)
            log.writerow({**row, "step": session.step, "elapsed_s": round(time.monotonic() - started, 3)})
            bar.update(1)
            bar.set_postfix(
                loss=f"{row['loss']:.3f}",
                a=f"{row['loss_a']:.3f}",
                b=f"{row['loss_b']:.3f}",
                refresh=False,
            )
            if session.step % options.preview_every == 0:
                _preview(session, run)
            if session.step % options.save_every == 0:
                _save(session, run, options, preset)
    path = _save(session, run, options, preset)
    _preview(session, run)
    seconds = time.monotonic() - started
    steps_done = session.step - start_step
    holdout = {f"{k}{k}": reconstruction_ssim(session.model, session.holdout[k], k) for k in ("a", "b")}
    return TrainResult(
        step=session.step,
        checkpoint=path,
        losses=row,
        seconds=seconds,
        samples_per_second=2 * options.batch * steps_done / seconds if seconds else 0.0,
        holdout_ssim=holdout,
        interrupted=interrupted.is_set(),
    )


@contextlib.contextmanager
def _interrupt_flag() -> Iterator[threading.Event]:
    """Ctrl-C sets the returned flag instead of raising mid-step (main thread only; elsewhere it raises)."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = signal.signal(signal.SIGINT, lambda *_: flag.set())
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _drop_log_rows_after(log_path: Path, step: int) -> None:
    """Forget log rows past the checkpoint a run resumes from (steps that will be done again)."""
    if not log_path.exists():
        return
    with log_path.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if int(row["step"]) <= step]
    part = log_path.with_name(log_path.name + ".part")
    with part.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, LOG_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    part.replace(log_path)


def _should_continue(step: int, steps: int | None, deadline: float | None) -> bool:
    if steps is not None:
        return step < steps
    return deadline is None or time.monotonic() < deadline


def _guarded_step(session: _Session, options: TrainOptions) -> dict[str, float]:
    try:
        return train_step(session, options)
    except torch.cuda.OutOfMemoryError as error:
        raise SwapcamError(
            f"GPU out of memory at --batch {options.batch}: try --batch {max(1, options.batch // 2)}"
        ) from error

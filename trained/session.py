"""One training session's live objects, how they are set up (new or resumed), and one training step."""

import contextlib
import math
import os
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stream.align import alignment_record
from stream.errors import SwapcamError
from stream.lifecycle import OwnedResource
from stream.threads import usable_cores
from trained import checkpoint as ckpt
from trained.augment import AugmentConfig
from trained.batches import AUGMENT_ON, DeviceUploads, augments_on_device, training_batch
from trained.code_alignment import (
    CodeCritic,
    confusion_loss,
    critic_accuracy,
    critic_loss,
    moment_gap,
    separation,
)
from trained.data import FaceData, check_compatible, load_faces, split_holdout, subset
from trained.distributed import (
    ALONE,
    World,
    augment_rng,
    average_gradients,
    epoch_shard,
    join,
    leave,
    steps_per_epoch,
)
from trained.face_critic import FaceCritic, realism_loss
from trained.face_critic import critic_accuracy as face_critic_accuracy
from trained.face_critic import critic_loss as face_critic_loss
from trained.losses import LossWeights, reconstruction_loss
from trained.model import BothIdentities, ModelConfig, SwapAutoencoder, preset_config
from trained.ranges import RANGES, span

# Options that change what a step does: a resumed run must use the values it was trained with.
RESUME_OPTIONS = (
    "batch", "learning_rate", "seed", "holdout", "flip", "colour_transfer", "scale", "warp", "warp_cells",
    "code_moments", "code_critic", "lr_decay",
)  # fmt: skip
MAX_AUGMENT_WORKERS = 16
# Whose faces are recoloured toward the other identity's colours. "b": only B's, toward A's — B's decoder
# learns to draw B in A's light, and the encoder sees A as it is at inference (DeepFaceLab recolours its
# src toward dst the same way). "both" swaps the colour cue instead of removing it.
COLOUR_TRANSFER = ("b", "both", "none")
CRITIC_LEARNING_RATE = 1e-3
FACE_CRITIC_LEARNING_RATE = 2e-4


@dataclass(frozen=True)
class TrainOptions:
    preset: str | None = None  # None: "lite" for a new run, the checkpoint's for --resume
    resolution: int | None = None
    architecture: str | None = None  # trained.model.ARCHITECTURES; None: "df" for a new run
    batch: int = 16
    steps: int | None = None  # total steps to reach; with neither steps nor minutes: until Ctrl-C
    minutes: float | None = None
    learning_rate: float = 5e-5
    lr_decay: float = 0.0  # trained.schedule.rate_at
    seed: int = 0
    device: str = "auto"
    preview_every: int = 100
    save_every: int = 250
    keep: int = 3
    holdout: float = 0.0
    label_a: str | None = None
    label_b: str | None = None
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    augment_on: str = "auto"  # where batches are augmented: trained.batches.AUGMENT_ON
    weights: LossWeights = field(default_factory=LossWeights)
    colour_transfer: str = "b"  # COLOUR_TRANSFER

    def __post_init__(self) -> None:
        if self.steps is not None and self.minutes is not None:
            raise ValueError("give --steps or --minutes, not both")
        for option, value, (low, high) in self._ranged():
            if value is not None and not (math.isfinite(value) and low <= value <= high):
                raise ValueError(f"{option} must be {span(option)}, got {value}")
        if self.resolution is not None and self.resolution % 16:
            raise ValueError(f"--resolution must be a multiple of 16, got {self.resolution}")
        if self.augment_on not in AUGMENT_ON:
            raise ValueError(f"--augment-on must be one of {', '.join(AUGMENT_ON)}, got {self.augment_on!r}")
        if self.colour_transfer not in COLOUR_TRANSFER:
            raise ValueError(
                f"--colour-transfer must be one of {', '.join(COLOUR_TRANSFER)}, got {self.colour_transfer!r}"
            )
        if self.weights.code_moments > 0 and self.batch < 2:
            raise ValueError("--code-moments compares batch statistics: it needs --batch 2 or more (or 0)")

    def _ranged(self) -> list[tuple[str, float | None, tuple[float, float]]]:
        """(option, value, its range) for every number a user types (``RANGES``)."""
        values = {"--batch": self.batch, "--steps": self.steps, "--minutes": self.minutes,
                  "--lr": self.learning_rate, "--lr-decay": self.lr_decay, "--seed": self.seed,
                  "--preview-every": self.preview_every, "--save-every": self.save_every, "--keep": self.keep,
                  "--holdout": self.holdout, "--resolution": self.resolution,
                  "--code-moments": self.weights.code_moments,
                  "--code-critic": self.weights.code_critic,
                  "--face-critic": self.weights.face_critic}  # fmt: skip
        return [(option, values[option], RANGES[option]) for option in RANGES]

    def recoloured(self, key: str) -> bool:
        """Whether identity ``key``'s faces are recoloured toward the other identity's."""
        return self.colour_transfer == "both" or (self.colour_transfer == "b" and key == "b")

    def resume_values(self) -> dict[str, Any]:
        values = {
            "batch": self.batch,
            "learning_rate": self.learning_rate,
            "seed": self.seed,
            "holdout": self.holdout,
            "lr_decay": self.lr_decay,
        }
        augment = {
            "flip": self.augment.flip,
            "scale": self.augment.scale,
            "warp": self.augment.warp,
            "warp_cells": list(self.augment.warp_cells),
        }
        codes = {"code_moments": self.weights.code_moments, "code_critic": self.weights.code_critic}
        # recorded, not in RESUME_OPTIONS: the face critic may be switched on for a resumed run
        return {**values, **augment, "colour_transfer": self.colour_transfer, **codes,
                "face_critic": self.weights.face_critic}  # fmt: skip


@dataclass
class Session(OwnedResource):
    """The live objects of one training session (owned by ``trained.train.train``).

    Closing it stops the augmentation workers; see ``stream.lifecycle`` for the lifecycle.
    """

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
    pool: Executor | None  # augments the samples of a batch in parallel; None: one by one on this thread
    trainer: torch.nn.Module  # BothIdentities(model), inside DistributedDataParallel across processes
    world: World = ALONE
    uploads: DeviceUploads | None = None  # the faces on the device when batches are augmented there
    shards: dict[tuple[str, int], FaceData] = field(default_factory=dict)  # (identity, epoch) → this rank's
    critic: CodeCritic | None = None  # tells A's codes from B's; None when --code-critic is 0
    critic_optimizer: torch.optim.Optimizer | None = None
    face_critic: FaceCritic | None = None  # tells B's faces from B's decoder's; None when --face-critic is 0
    face_critic_optimizer: torch.optim.Optimizer | None = None

    def __post_init__(self) -> None:
        self._closed = False

    def _release(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        leave(self.world)


def augment_pool(device: torch.device) -> Executor | None:
    """Threads for augmentation when a GPU trains: the CPU must keep up with it. On the CPU the model
    already uses every core, so batches are augmented on the training thread."""
    if device.type != "cuda":
        return None
    sharing = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))  # processes of a group on this machine
    workers = max(1, min(MAX_AUGMENT_WORKERS, usable_cores() // sharing))
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="augment")


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
            return preset_config(options.preset or "lite", options.resolution, options.architecture or "df")
        except ValueError as error:
            raise SwapcamError(str(error)) from error
    config = ModelConfig(**saved["model_config"])
    if (
        (options.preset and options.preset != saved["preset"])
        or (options.resolution and options.resolution != config.resolution)
        or (options.architecture and options.architecture != config.architecture)
    ):
        raise SwapcamError(
            f"the run was trained as {saved['preset']} ({config.architecture}) at {config.resolution} px; "
            "--resume continues it as it is (drop --preset, --resolution and --architecture, or choose "
            "another --out)"
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
    alignment = data.spec.record()
    if alignment_record(saved["alignment"]) != alignment:
        raise SwapcamError(
            f"the run was trained on faces aligned as {saved['alignment']}, these are {alignment}"
        )


def open_session(
    a_dir: Path,
    b_dir: Path,
    run: Path,
    options: TrainOptions,
    resume: bool,
    *,
    world: World = ALONE,
    say: Callable[[str], None] = lambda message: None,
) -> tuple[Session, str]:
    """A new or resumed session. With several processes (``world``) every rank opens one: the same
    weights, its own augmentation draws, and the process group joined (left again on close). Folders it
    creates for a run that then fails to open are removed again; ``say`` hears of checkpoints skipped."""
    created = _missing_folders(run / "checkpoints")
    try:
        return _open_session(a_dir, b_dir, run, options, resume, world=world, say=say)
    except BaseException:
        for folder in created:  # deepest first; only if still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    for path in (folder, *folder.parents):
        if path.exists():
            break
        missing.append(path)
    return missing


def _run_folder(run: Path, resume: bool, world: World, say: Callable[[str], None]) -> dict[str, Any] | None:
    """Make the run folder ready: created, rid of half-written checkpoints; the checkpoint to resume from
    (None for a new run, which must not find an earlier run's checkpoints there)."""
    checkpoints = run / "checkpoints"
    try:
        checkpoints.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SwapcamError(f"cannot create the run folder --out {run}: {error.strerror or error}") from error
    if world.leader:
        ckpt.remove_stale_parts(checkpoints)
    if resume:
        return ckpt.newest_loadable(run, say if world.leader else None)
    if ckpt.list_checkpoints(checkpoints):
        raise SwapcamError(
            f"{run} already holds a training run: pass --resume to continue it, or choose another --out"
        )
    return None


def _open_session(
    a_dir: Path,
    b_dir: Path,
    run: Path,
    options: TrainOptions,
    resume: bool,
    *,
    world: World,
    say: Callable[[str], None],
) -> tuple[Session, str]:
    saved = _run_folder(run, resume, world, say)
    config = _model_config(options, saved)
    preset = saved["preset"] if saved else options.preset or "lite"
    split = _training_faces(a_dir, b_dir, config.resolution, options, saved=saved, world=world)
    device = _device_of(options, world)
    on_device = augments_on_device(options.augment_on, device)
    parts = _model_parts(config, options, device)
    step = _restore(saved, parts, world) if saved is not None else 0
    if saved is not None and world.leader:
        before = float(saved.get("options", {}).get("face_critic", 0.0))
        if before != options.weights.face_critic:
            say(f"--face-critic {before:g} so far, {options.weights.face_critic:g} from step {step} on")
    rng = _augment_rng(options, saved, step, world)
    session = Session(
        model=parts.model,
        optimizer=parts.optimizer,
        rng=rng,
        step=step,
        labels=saved["labels"] if saved else {key: train.label for key, (train, _) in split.items()},
        data={key: train for key, (train, _) in split.items()},
        holdout={key: held for key, (_, held) in split.items()},
        device=device,
        amp_dtype=parts.amp_dtype,
        scaler=parts.scaler,
        trainer=_trainer(parts.model, world, device),  # first: if joining fails, no pool has been started
        pool=None if on_device else augment_pool(device),
        world=world,
        uploads=DeviceUploads(device) if on_device else None,
        critic=parts.critic,
        critic_optimizer=parts.critic_optimizer,
        face_critic=parts.face_critic,
        face_critic_optimizer=parts.face_critic_optimizer,
    )
    return session, preset


def _training_faces(
    a_dir: Path,
    b_dir: Path,
    resolution: int,
    options: TrainOptions,
    *,
    saved: dict[str, Any] | None,
    world: World,
) -> dict[str, tuple[FaceData, FaceData]]:
    """Both identities' faces at the model's resolution, checked against each other (and against the run
    when resuming), split into (training, held out); each rank must get at least one training face."""
    data = {
        "a": load_faces(a_dir, resolution, options.label_a),
        "b": load_faces(b_dir, resolution, options.label_b),
    }
    check_compatible(data["a"], data["b"])
    if saved is not None:
        _check_resume(saved, options, data["a"])
    split = {key: split_holdout(value, options.holdout) for key, value in data.items()}
    for train_part, _ in split.values():
        if len(train_part) < world.size:
            raise SwapcamError(
                f"{train_part.label}: {len(train_part)} training faces cannot be shared by {world.size} "
                "processes: use fewer processes or more faces"
            )
    return split


def _device_of(options: TrainOptions, world: World) -> torch.device:
    """The device this rank trains on: with several processes on CUDA, the GPU of its local rank."""
    device = resolve_device(options.device)
    if device.type != "cuda" or world.size == 1:
        return device
    if world.local_rank >= torch.cuda.device_count():
        raise SwapcamError(
            f"process {world.local_rank} of this machine needs GPU {world.local_rank}, but torch sees "
            f"{torch.cuda.device_count()}: use at most that many processes per machine"
        )
    device = torch.device("cuda", world.local_rank)
    torch.cuda.set_device(device)
    return device


@dataclass
class _ModelParts:
    model: SwapAutoencoder
    optimizer: torch.optim.Optimizer
    amp_dtype: torch.dtype | None
    scaler: torch.amp.GradScaler
    critic: CodeCritic | None
    critic_optimizer: torch.optim.Optimizer | None
    face_critic: FaceCritic | None
    face_critic_optimizer: torch.optim.Optimizer | None


def _model_parts(config: ModelConfig, options: TrainOptions, device: torch.device) -> _ModelParts:
    """A fresh model, its optimizer, mixed-precision set-up and critics, seeded by ``options.seed``."""
    torch.manual_seed(options.seed)
    model = SwapAutoencoder(config).to(device)
    if device.type == "cuda":
        # torch's overloads of Module.to leave out its documented memory_format form
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    optimizer = torch.optim.AdamW(model.parameters(), lr=options.learning_rate, betas=(0.5, 0.999))
    amp_dtype = _amp_dtype(device)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
    critic, critic_optimizer = _critic(config, options, device)
    face_critic, face_critic_optimizer = _face_critic(options, device)
    return _ModelParts(
        model, optimizer, amp_dtype, scaler, critic, critic_optimizer, face_critic, face_critic_optimizer
    )


def _restore(saved: dict[str, Any], parts: _ModelParts, world: World) -> int:
    """Load a resumed run's weights and optimizer states (and, for one process, its random states) into
    ``parts``; the step it reached."""
    parts.model.load_state_dict(saved["model"])
    parts.optimizer.load_state_dict(saved["optimizer"])
    _restore_critic(saved.get("critic"), parts.critic, parts.critic_optimizer)
    _restore_critic(saved.get("face_critic"), parts.face_critic, parts.face_critic_optimizer)
    if saved.get("scaler"):  # empty when the run so far had no float16 autocast
        parts.scaler.load_state_dict(saved["scaler"])
    if world.size == 1:  # one process resumes exactly; ranks draw anew from (seed, step, rank)
        torch.set_rng_state(saved["rng"]["torch"])
    return int(saved["step"])


def _augment_rng(
    options: TrainOptions, saved: dict[str, Any] | None, step: int, world: World
) -> np.random.Generator:
    """The augmentation's random generator: seeded; a resumed single process continues its saved state;
    several processes each draw from (seed, step, rank)."""
    if world.size > 1:
        return augment_rng(options.seed, step, world)
    rng = np.random.default_rng(options.seed)
    if saved is not None:
        rng.bit_generator.state = saved["rng"]["numpy"]
    return rng


def _restore_critic(
    saved: dict[str, Any] | None, critic: torch.nn.Module | None, optimizer: torch.optim.Optimizer | None
) -> None:
    """A critic of a resumed run; a run saved without it (or before it existed) starts it anew."""
    if critic is not None and optimizer is not None and saved:
        critic.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])


def _critic(
    config: ModelConfig, options: TrainOptions, device: torch.device
) -> tuple[CodeCritic | None, torch.optim.Optimizer | None]:
    if options.weights.code_critic == 0:
        return None, None
    critic = CodeCritic(config.bottleneck_dims).to(device)
    return critic, torch.optim.Adam(critic.parameters(), lr=CRITIC_LEARNING_RATE, betas=(0.5, 0.999))


def _face_critic(
    options: TrainOptions, device: torch.device
) -> tuple[FaceCritic | None, torch.optim.Optimizer | None]:
    if options.weights.face_critic == 0:
        return None, None
    critic = FaceCritic().to(device)
    return critic, torch.optim.Adam(critic.parameters(), lr=FACE_CRITIC_LEARNING_RATE, betas=(0.5, 0.999))


def _trainer(model: SwapAutoencoder, world: World, device: torch.device) -> torch.nn.Module:
    """The module a step calls: both identities in one forward, data-parallel across processes."""
    both = BothIdentities(model)
    if world.size == 1:
        return both
    join(world, device)
    from torch.nn.parallel import DistributedDataParallel

    devices = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(both, device_ids=devices, gradient_as_bucket_view=True)


def training_faces(session: Session, key: str, options: TrainOptions) -> FaceData:
    """The faces this process draws from: all of them alone, its shard of the current epoch in a group."""
    data = session.data[key]
    if session.world.size == 1:
        return data
    epoch = session.step // steps_per_epoch(len(data), options.batch, session.world)
    if (key, epoch) not in session.shards:
        for old in [shard for shard in session.shards if shard[0] == key]:
            del session.shards[old]
        indices = epoch_shard(len(data), session.world, options.seed, epoch)
        session.shards[(key, epoch)] = subset(data, indices)
    return session.shards[(key, epoch)]


def train_step(session: Session, options: TrainOptions) -> dict[str, float]:
    """One optimizer step on a fresh batch of each identity; returns the logged losses (this process's)."""
    session._check_open()
    tensors = {
        key: training_batch(
            session.rng,
            training_faces(session, key, options),
            session.data[other] if options.recoloured(key) else None,
            batch=options.batch,
            config=options.augment,
            device=session.device,
            pool=session.pool,
            uploads=session.uploads,
            names=(key, f"{other} reference"),
        )
        for key, other in (("a", "b"), ("b", "a"))
    }
    session.optimizer.zero_grad(set_to_none=True)
    autocast = (
        torch.autocast("cuda", dtype=session.amp_dtype) if session.amp_dtype else contextlib.nullcontext()
    )
    with autocast:
        face_a, mask_a, face_b, mask_b, code_a, code_b = session.trainer(
            tensors["a"]["inputs"], tensors["b"]["inputs"]
        )
    code_a, code_b = code_a.float(), code_b.float()
    total, row = _code_terms(session, options.weights, code_a, code_b)
    for key, face, mask in (("a", face_a, mask_a), ("b", face_b, mask_b)):
        t = tensors[key]
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
    judged = None  # (B's faces, B's decoder's), masked: what the face critic compares
    if session.face_critic is not None:
        judged = (tensors["b"]["targets"] * tensors["b"]["masks"], face_b.float() * tensors["b"]["masks"])
        realism = realism_loss(session.face_critic, judged[1])
        total = total + options.weights.face_critic * realism
        row["realism"] = float(realism.detach())
    session.scaler.scale(total).backward()
    session.scaler.step(session.optimizer)
    session.scaler.update()
    if session.critic is not None and session.critic_optimizer is not None:
        row["critic_acc"] = _train_critic(session, code_a, code_b)
    if judged is not None:
        row["face_critic_acc"] = _train_face_critic(session, *judged)
    session.step += 1
    row["loss"] = row["loss_a"] + row["loss_b"]
    return row


def _code_terms(
    session: Session, weights: LossWeights, code_a: torch.Tensor, code_b: torch.Tensor
) -> tuple[torch.Tensor, dict[str, float]]:
    """The code-alignment part of the loss, and what the log records of the codes (batch statistics: none
    for a batch of one, which then trains without the moment term)."""
    total = torch.zeros((), device=code_a.device)
    row = {"code_gap": float("nan"), "separation": float("nan")}
    if len(code_a) > 1 and len(code_b) > 1:
        gap = moment_gap(code_a, code_b)
        total = total + weights.code_moments * gap
        row = {"code_gap": float(gap.detach()), "separation": separation(code_a.detach(), code_b.detach())}
    if session.critic is not None:
        total = total + weights.code_critic * confusion_loss(session.critic, code_a, code_b)
    return total, row


def _train_critic(session: Session, code_a: torch.Tensor, code_b: torch.Tensor) -> float:
    """One step of the code critic on this step's codes (after the encoder's step); its accuracy before."""
    assert session.critic is not None and session.critic_optimizer is not None
    accuracy = critic_accuracy(session.critic, code_a, code_b)
    loss = critic_loss(session.critic, code_a, code_b)
    _critic_step(session, session.critic, session.critic_optimizer, loss)
    return accuracy


def _train_face_critic(session: Session, real: torch.Tensor, drawn: torch.Tensor) -> float:
    """One step of the face critic on this step's B faces and B's reconstructions; its accuracy before."""
    assert session.face_critic is not None and session.face_critic_optimizer is not None
    accuracy = face_critic_accuracy(session.face_critic, real, drawn)
    loss = face_critic_loss(session.face_critic, real, drawn)
    _critic_step(session, session.face_critic, session.face_critic_optimizer, loss)
    return accuracy


def _critic_step(
    session: Session, critic: torch.nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor
) -> None:
    """A critic's optimizer step on its own loss, its gradients averaged over the processes."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    average_gradients(critic, session.world)
    optimizer.step()

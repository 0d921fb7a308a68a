"""The training loop: both identities every step, checkpoints, CSV log, previews, exact resume.

A run folder holds ``checkpoints/step-NNNNNNN.pt`` (the last ``keep``), ``log.csv`` (one row per step),
``previews/step-NNNNNNN.png`` and ``preview.png`` (the latest). Ctrl-C finishes the step under way, saves a
checkpoint and returns, so that ``--resume`` repeats exactly what an uninterrupted run would have done.

Started by torchrun (``trained.distributed``), every process runs this loop on its shard of the faces; the
ranks agree each step on whether to go on, and only rank 0 writes the checkpoints, the log and the previews.
"""

import contextlib
import csv
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from stream.errors import SwapcamError
from stream.files import atomic_output
from trained import checkpoint as ckpt
from trained.distributed import World, all_agree, current_world, leave, shared_maximum
from trained.preview import preview_grid, reconstruction_ssim, write_preview
from trained.schedule import rate_at, run_progress
from trained.session import Session, TrainOptions, open_session, train_step

LOG_FIELDS = (
    "step", "elapsed_s", "loss", "loss_a", "loss_b", "dssim_a", "dssim_b", "mask_a", "mask_b",
    "code_gap", "separation", "critic_acc", "realism", "face_critic_acc", "lr",
)  # fmt: skip


@dataclass(frozen=True)
class TrainResult:
    step: int
    checkpoint: Path
    losses: dict[str, float]
    seconds: float
    samples_per_second: float
    holdout_ssim: dict[str, float]
    interrupted: bool
    holdout_swap: str | None = None  # `swapcam eval`'s figures on A's held-out faces, as one line


def _save(session: Session, run: Path, options: TrainOptions, preset: str) -> Path:
    path = run / "checkpoints" / ckpt.checkpoint_name(session.step)
    data = session.data["a"]
    ckpt.save_checkpoint(
        path,
        {
            "preset": preset,
            "model_config": session.model.config.to_dict(),
            "labels": session.labels,
            "alignment": data.spec.record(),
            "step": session.step,
            "model": session.model.state_dict(),
            "optimizer": session.optimizer.state_dict(),
            "scaler": session.scaler.state_dict(),
            "critic": _critic_state(session.critic, session.critic_optimizer),
            "face_critic": _critic_state(session.face_critic, session.face_critic_optimizer),
            "rng": {"numpy": session.rng.bit_generator.state, "torch": torch.get_rng_state()},
            "options": options.resume_values(),
        },
    )
    ckpt.prune_checkpoints(run / "checkpoints", options.keep)
    return path


def _critic_state(
    critic: torch.nn.Module | None, optimizer: torch.optim.Optimizer | None
) -> dict[str, object]:
    if critic is None or optimizer is None:
        return {}
    return {"model": critic.state_dict(), "optimizer": optimizer.state_dict()}


def _preview(session: Session, run: Path) -> None:
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
    world = current_world()
    session, preset = open_session(a_dir, b_dir, run, options, resume, world=world, say=_tell)
    with session:
        if not world.leader:
            return _follow(session, options)
        return _train_session(session, preset, run, options, resume=resume, progress=progress)


def _follow(session: Session, options: TrainOptions) -> TrainResult:
    """A rank other than 0: train in step with the others, write nothing."""
    start_step, started = session.step, time.monotonic()
    row, interrupted = _steps(session, options, started, lambda row, elapsed: None)
    leave(session.world)
    seconds = time.monotonic() - started
    return TrainResult(
        step=session.step,
        checkpoint=Path(),
        losses=row,
        seconds=seconds,
        samples_per_second=_samples_per_second(session, options, start_step, seconds),
        holdout_ssim={},
        interrupted=interrupted,
    )


def _steps(
    session: Session,
    options: TrainOptions,
    started: float,
    after_step: Callable[[dict[str, float], float], None],
) -> tuple[dict[str, float], bool]:
    """The training loop every rank runs: steps until the budget is spent, Ctrl-C or another rank stops,
    ``after_step(losses, seconds since started)`` after each. (The last losses, whether Ctrl-C ended it.)"""
    deadline = started + options.minutes * 60 if options.minutes else None
    row: dict[str, float] = {}
    with _interrupt_flag() as interrupted:
        while _go_on(session, options, deadline, interrupted):
            row = _guarded_step(session, options, time.monotonic() - started)
            after_step(row, time.monotonic() - started)
    return row, interrupted.is_set()


def _go_on(session: Session, options: TrainOptions, deadline: float | None, stop: threading.Event) -> bool:
    """Whether every process trains another step (alone: whether this one does)."""
    wish = not stop.is_set() and _should_continue(session.step, options.steps, deadline)
    return all_agree(wish, session.world, session.device)


def _samples_per_second(session: Session, options: TrainOptions, start_step: int, seconds: float) -> float:
    """Face samples of the whole job (every process) per second: both identities, each rank's batch."""
    world: World = session.world
    return 2 * options.batch * world.size * (session.step - start_step) / seconds if seconds else 0.0


def _train_session(
    session: Session, preset: str, run: Path, options: TrainOptions, *, resume: bool, progress: bool | None
) -> TrainResult:
    start_step, started = session.step, time.monotonic()
    log_path = run / "log.csv"
    if resume:
        _drop_log_rows_after(log_path, session.step)
    new_log = not log_path.exists()
    _tell(header(session, preset, options))
    with (
        log_path.open("a", newline="") as log_file,
        _progress_bar(session, options, disable=progress is False) as bar,
    ):
        log = csv.DictWriter(log_file, LOG_FIELDS, extrasaction="ignore")
        if new_log:
            log.writeheader()

        def after_step(row: dict[str, float], elapsed: float) -> None:
            log.writerow({**row, "step": session.step, "elapsed_s": round(elapsed, 3)})
            log_file.flush()  # a killed run keeps every row it wrote
            bar.update(1 if _counts_steps(options) else min(elapsed, bar.total) - bar.n)
            bar.set_postfix(
                step=session.step,
                loss=f"{row['loss']:.3f}",
                a=f"{row['loss_a']:.3f}",
                b=f"{row['loss_b']:.3f}",
                refresh=False,
            )
            if session.step % options.preview_every == 0:
                _preview(session, run)
            if session.step % options.save_every == 0:
                os.fsync(log_file.fileno())  # no checkpoint without its log rows, even after a power cut
                _save(session, run, options, preset)

        row, interrupted = _steps(session, options, started, after_step)
        os.fsync(log_file.fileno())
    leave(session.world)  # every rank at once; what follows is rank 0's alone
    path = _save(session, run, options, preset)
    _preview(session, run)
    seconds = time.monotonic() - started
    holdout = {f"{k}{k}": reconstruction_ssim(session.model, session.holdout[k], k) for k in ("a", "b")}
    return TrainResult(
        holdout_swap=_judge_holdout(session),
        step=session.step,
        checkpoint=path,
        losses=row,
        seconds=seconds,
        samples_per_second=_samples_per_second(session, options, start_step, seconds),
        holdout_ssim=holdout,
        interrupted=interrupted,
    )


def header(session: Session, preset: str, options: TrainOptions) -> str:
    """What the run trains, on what, and until when: said once before the first step."""
    config = session.model.config
    faces = ", ".join(
        f"{session.labels[key]} {len(session.data[key])}"
        + (f" (+{len(session.holdout[key])} held out)" if len(session.holdout[key]) else "")
        for key in ("a", "b")
    )
    count = torch.get_num_threads()
    threads = f", {count} thread{'s' if count > 1 else ''}" if session.device.type == "cpu" else ""
    limits = [f"step {options.steps}"] if options.steps else []
    limits += [f"{options.minutes:g} minutes"] if options.minutes else []
    until = " or ".join(limits) or "Ctrl-C"  # whichever comes first
    return (
        f"training {preset} ({config.architecture}, {config.resolution} px, "
        f"{sum(p.numel() for p in session.model.parameters()) / 1e6:.2f} M parameters) on {faces} faces; "
        f"{session.device}{threads}, batch {options.batch} per identity x {session.world.size} "
        f"process(es); from step {session.step} until {until}"
    )


def _counts_steps(options: TrainOptions) -> bool:
    """Whether the bar counts steps (toward --steps, or open-ended) rather than seconds (--minutes)."""
    return bool(options.steps) or not options.minutes


def _progress_bar(session: Session, options: TrainOptions, *, disable: bool) -> tqdm:
    """Steps toward --steps, or seconds toward --minutes (the step count rides in the postfix): with a
    total, so tqdm shows the time left; without either, steps with no total."""
    if _counts_steps(options):
        return tqdm(
            total=options.steps, initial=session.step, unit="step", disable=disable, dynamic_ncols=True
        )
    return tqdm(
        total=round((options.minutes or 0.0) * 60),
        unit="s",
        disable=disable,
        dynamic_ncols=True,
        bar_format="{l_bar}{bar}| {elapsed}<{remaining}{postfix}",
    )


def _tell(message: str) -> None:
    tqdm.write(f"swapcam train: {message}", file=sys.stderr)


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


def _judge_holdout(session: Session) -> str | None:
    """The swap figures on A's held-out faces (None without held-out faces)."""
    from trained.holdout_eval import holdout_figures

    try:
        figures = holdout_figures(session.model.eval(), session.holdout["a"], session.data["b"])
    except SwapcamError as error:
        return f"held-out swap not judged: {error}"
    finally:
        session.model.train()
    return figures.describe() if figures is not None else None


def _drop_log_rows_after(log_path: Path, step: int) -> None:
    """Forget log rows past the checkpoint a run resumes from (steps that will be done again)."""
    if not log_path.exists():
        return
    with log_path.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if int(row["step"]) <= step]
    with atomic_output(log_path) as part, part.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, LOG_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def _should_continue(step: int, steps: int | None, deadline: float | None) -> bool:
    if steps is not None:
        return step < steps
    return deadline is None or time.monotonic() < deadline


def _set_learning_rate(session: Session, options: TrainOptions, elapsed: float) -> float:
    """Set the optimizer's rate for the next step from the run's progress (every rank the same one: the
    furthest rank's progress, which only differs between ranks for --minutes)."""
    progress = run_progress(session.step, options.steps, elapsed, options.minutes)
    if options.lr_decay > 0:
        progress = shared_maximum(progress, session.world, session.device)
    rate = rate_at(options.learning_rate, options.lr_decay, progress)
    for group in session.optimizer.param_groups:
        group["lr"] = rate
    return rate


def _guarded_step(session: Session, options: TrainOptions, elapsed: float) -> dict[str, float]:
    rate = _set_learning_rate(session, options, elapsed)
    try:
        return {**train_step(session, options), "lr": rate}
    except torch.cuda.OutOfMemoryError as error:
        raise SwapcamError(
            f"GPU out of memory at --batch {options.batch}: try --batch {max(1, options.batch // 2)}"
        ) from error

"""Data-parallel training across processes: PyTorch's DistributedDataParallel, launched by torchrun.

torchrun starts one process per GPU (or per CPU share) and tells each its place through the environment
(RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT). Every rank holds the whole model; DDP averages
the gradients after each backward pass (NCCL on GPUs, gloo on CPUs), so all ranks take the same optimizer
step and their weights stay identical. Each rank trains on its own disjoint shard of each identity's faces,
reshuffled every epoch.

The global batch is ``--batch`` x the world size per identity; the learning rate is used as given (no
scaling with the world size: AdamW adapts its step size per weight, and the rule is stated rather than
guessed). Collectives time out after ``COLLECTIVE_TIMEOUT_S``, so a rank that dies stops the others with an
error instead of a hang; torchrun then ends the job.
"""

import datetime
import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

COLLECTIVE_TIMEOUT_S = 120
SHARD_STREAM, AUGMENT_STREAM = 1, 2  # tags that keep the shard shuffle and each rank's draws apart


def augment_rng(seed: int, step: int, world: "World") -> np.random.Generator:
    """A rank's augmentation draws in a group: its own stream from (seed, step, rank)."""
    return np.random.default_rng([seed, AUGMENT_STREAM, step, world.rank])


@dataclass(frozen=True)
class World:
    rank: int
    size: int
    local_rank: int

    @property
    def leader(self) -> bool:
        """Rank 0 writes checkpoints, logs and previews; the others only train."""
        return self.rank == 0


ALONE = World(rank=0, size=1, local_rank=0)


def world_from(environment: Mapping[str, str]) -> World:
    """This process's place as torchrun describes it; a single process when it was not started by torchrun."""
    if "WORLD_SIZE" not in environment:
        return ALONE
    return World(
        rank=int(environment["RANK"]),
        size=int(environment["WORLD_SIZE"]),
        local_rank=int(environment.get("LOCAL_RANK", environment["RANK"])),
    )


def current_world() -> World:
    return world_from(os.environ)


def join(world: World, device: torch.device) -> None:
    """Join the process group (NCCL on CUDA, gloo on the CPU); nothing for a single process."""
    if world.size == 1:
        return
    dist.init_process_group(
        backend="nccl" if device.type == "cuda" else "gloo",
        rank=world.rank,
        world_size=world.size,
        timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT_S),
    )


def leave(world: World) -> None:
    """Leave the process group: every rank waits for the others first, so none tears the group down while
    another still talks to it (rank 0 has work left after training: it must not hold the others up either).
    Does nothing when already left or alone."""
    if world.size > 1 and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def all_agree(wish: bool, world: World, device: torch.device) -> bool:
    """True only when every rank wishes it (one tiny all-reduce): ranks stop at the same step, whichever of
    them saw Ctrl-C or its deadline first."""
    if world.size == 1:
        return wish
    flag = torch.tensor([1 if wish else 0], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag.item())


def shared_maximum(value: float, world: World, device: torch.device) -> float:
    """The largest of the ranks' ``value``s, on every rank (one tiny all-reduce; alone: ``value``)."""
    if world.size == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return float(tensor.item())


def epoch_shard(count: int, world: World, seed: int, epoch: int) -> np.ndarray:
    """Indices of this rank's share of ``count`` faces for ``epoch``: one permutation that every rank
    draws alike (from the seed and the epoch), dealt out in turn: disjoint shards that cover every face."""
    order = np.random.default_rng([seed, SHARD_STREAM, epoch]).permutation(count)
    return np.sort(order[world.rank :: world.size])


def steps_per_epoch(count: int, batch: int, world: World) -> int:
    """Steps in which the ranks together draw about as many faces as the identity has (at least one)."""
    return max(1, count // (batch * world.size))


def average_gradients(module: torch.nn.Module, world: World) -> None:
    """Average ``module``'s gradients over the ranks (for a module outside DistributedDataParallel)."""
    if world.size == 1:
        return
    for parameter in module.parameters():
        if parameter.grad is not None:
            dist.all_reduce(parameter.grad, op=dist.ReduceOp.SUM)
            parameter.grad /= world.size

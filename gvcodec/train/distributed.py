"""Running on several processes: torchrun environment, process group, DDP wrapping.

`torchrun --nproc_per_node=N -m gvcodec train ...` sets RANK, WORLD_SIZE and LOCAL_RANK; the
process group uses NCCL on CUDA devices and gloo on CPU. Without those variables the run is a
single process and nothing here does anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def world_from_env() -> World:
    return World(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                 int(os.environ.get("LOCAL_RANK", 0)))


def pick_device(name: str, world: World) -> torch.device:
    """`auto`: cuda:LOCAL_RANK when CUDA is present, else cpu."""
    if name == "auto":
        return torch.device(f"cuda:{world.local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and device.index is None and world.distributed:
        device = torch.device(f"cuda:{world.local_rank}")
    return device


def init(world: World, device: torch.device) -> None:
    """Join the process group (NCCL for CUDA, gloo for CPU) when there are several processes."""
    if world.distributed and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=world.rank, world_size=world.size)


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def wrap(module: torch.nn.Module, world: World, device: torch.device, find_unused: bool) -> torch.nn.Module:
    """DistributedDataParallel around `module` when distributed (parameters broadcast from rank 0)."""
    if not world.distributed:
        return module
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids, find_unused_parameters=find_unused)


def mean_over_ranks(values: dict[str, float]) -> dict[str, float]:
    """Average scalar metrics over ranks (for the log)."""
    if not dist.is_initialized() or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64)
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t)
    return {k: float(v) / dist.get_world_size() for k, v in zip(keys, t.cpu())}

"""Data-parallel training on ``torch.distributed``: one process per rank, started by ``torchrun``.

A run started by ``torchrun --nproc_per_node N -m rnnkit train TASK …`` (or ``rnnkit train TASK
… --nproc N``, :func:`launch`) has ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
``MASTER_PORT`` in its environment; :func:`init` joins the process group they describe, with the
``gloo`` backend on the CPU and ``nccl`` on CUDA (each rank on GPU ``LOCAL_RANK``). Without them
(or with ``WORLD_SIZE=1``) nothing here does anything: :func:`current` is ``None`` and the
Trainer runs exactly as in one process.

How the ranks share a step (Goyal et al. 2017, §2: the update of ``k`` workers with batches of
``n`` is the update of one worker with a batch of ``kn``):

- every rank builds the same global batch of ``B`` examples in the same order (a function of
  seed and epoch) and takes its own contiguous rows (:func:`shard_rows`);
- its loss ``L_r``, a mean over its own ``N_r`` items (examples, tokens), is scaled by
  ``W·N_r / N`` with ``N = Σ_r N_r`` (all-reduced), so that the gradients that
  ``DistributedDataParallel`` averages are those of the global mean ``Σ_r N_r L_r / N``;
- gradient clipping then sees the global gradient, already averaged in ``backward``.

Rank 0 alone writes the run directory; it evaluates on dev and sends the metrics to the others
(:func:`on_main`), so that early stopping and the schedule decide alike on every rank.
Collectives carry states as bytes, JSON plus safetensors
(:func:`~rnnkit.training.checkpoint.pack_state`), never pickles.
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import socket
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.training.checkpoint import pack_state, unpack_state
from rnnkit.training.device import resolve_device

__all__ = [
    "Group",
    "current",
    "free_port",
    "init",
    "is_main",
    "launch",
    "launched",
    "on_main",
    "rank_seed",
    "shard_rows",
    "shutdown",
]

T = TypeVar("T")
_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class Group:
    """This process's place in a data-parallel run.

    Attributes:
        rank: ``0 … world_size - 1``; rank 0 writes the run directory.
        world_size: ``W``, the processes in the run (over every machine).
        local_rank: the process's index on its machine (its GPU with ``nccl``).
        device: where the tensors of collectives live (the CPU for ``gloo``, the GPU for
            ``nccl``).
    """

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0."""
        return self.rank == 0

    def local_device(self, device: torch.device) -> torch.device:
        """``device`` with ``cuda`` narrowed to this rank's GPU, ``cuda:LOCAL_RANK``."""
        if device.type == "cuda" and device.index is None:
            return torch.device("cuda", self.local_rank)
        return device

    # -- collectives ------------------------------------------------------------------------

    def all_sum(self, values: torch.Tensor) -> torch.Tensor:
        """The element-wise sum of ``values`` over the ranks (float64, returned on the CPU)."""
        out = values.detach().to(self.device, torch.float64)
        dist.all_reduce(out)
        return out.cpu()

    def broadcast(self, state: Any) -> Any:
        """Rank 0's ``state`` (JSON values and tensors), on every rank; others pass anything."""
        blob = _bytes_tensor(pack_state(state) if self.is_main else b"", self.device)
        size = torch.tensor([blob.numel()], dtype=torch.int64, device=self.device)
        dist.broadcast(size, 0)
        if not self.is_main:
            blob = torch.empty(int(size.item()), dtype=torch.uint8, device=self.device)
        dist.broadcast(blob, 0)
        return state if self.is_main else unpack_state(blob.cpu().numpy().tobytes())

    def gather(self, state: Any) -> list[Any]:
        """Every rank's ``state``, in rank order, on every rank."""
        blob = _bytes_tensor(pack_state(state), self.device)
        size = torch.tensor([blob.numel()], dtype=torch.int64, device=self.device)
        sizes = [torch.zeros_like(size) for _ in range(self.world_size)]
        dist.all_gather(sizes, size)
        longest = max(int(s.item()) for s in sizes)
        padded = torch.zeros(longest, dtype=torch.uint8, device=self.device)
        padded[: blob.numel()] = blob
        parts = [torch.empty_like(padded) for _ in range(self.world_size)]
        dist.all_gather(parts, padded)
        return [
            unpack_state(p[: int(s.item())].cpu().numpy().tobytes())
            for p, s in zip(parts, sizes, strict=True)
        ]

    def barrier(self) -> None:
        """Wait until every rank is here."""
        dist.barrier()

    def sync_module(self, module: nn.Module) -> None:
        """Copy rank 0's parameters and buffers into ``module`` on every rank."""
        for tensor in [*module.parameters(), *module.buffers()]:
            with torch.no_grad():
                moved = tensor.detach().to(self.device)
                dist.broadcast(moved, 0)
                tensor.copy_(moved)

    def wrap(self, module: nn.Module, find_unused_parameters: bool = False) -> nn.Module:
        """``module`` in :class:`~torch.nn.parallel.DistributedDataParallel` (gradients averaged
        over the ranks in ``backward``). Frozen parameters (``requires_grad`` false) are left
        out by DDP itself; ``find_unused_parameters`` is for a trainable parameter that a
        forward may not reach. Buffers are not re-broadcast at every forward: rnnkit's are
        constants (class weights, masks), identical on every rank."""
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(
            module,
            device_ids=device_ids,
            broadcast_buffers=False,
            find_unused_parameters=find_unused_parameters,
        )


def _bytes_tensor(data: bytes, device: torch.device) -> torch.Tensor:
    """``data`` as a uint8 tensor ``(len(data),)`` on ``device``."""
    if not data:  # frombuffer refuses an empty buffer
        return torch.zeros(0, dtype=torch.uint8, device=device)
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).to(device)


_GROUP: Group | None = None


def launched() -> bool:
    """Whether this process was started by ``torchrun`` with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init(device: str | torch.device = "auto") -> Group | None:
    """Join the process group that ``torchrun``'s environment describes (once per process) and
    return it; ``None`` when the run is one process. The backend follows ``device``
    (:func:`~rnnkit.training.device.resolve_device`): ``nccl`` for CUDA, else ``gloo``.

    Raises:
        ConfigError: the environment is incomplete, or the run's device disagrees with the
            backend already chosen (one group per process).
    """
    global _GROUP
    if not launched():
        return None
    resolved = resolve_device(device)
    backend = "nccl" if resolved.type == "cuda" else "gloo"
    if _GROUP is not None:
        if (_GROUP.device.type == "cuda") != (backend == "nccl"):
            raise ConfigError(
                f"this process already trains on {_GROUP.device.type}; one distributed run "
                f"cannot switch to {resolved.type}"
            )
        return _GROUP
    missing = [name for name in _ENV if name not in os.environ]
    if missing:
        raise ConfigError(
            f"WORLD_SIZE is set but {', '.join(missing)} are not: start several processes "
            "with torchrun (or rnnkit train TASK … --nproc N)"
        )
    local_rank = int(os.environ["LOCAL_RANK"])
    comm = torch.device("cpu")
    if backend == "nccl":
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(
                f"process {local_rank} of this machine needs GPU {local_rank}, but only "
                f"{torch.cuda.device_count()} exist: start at most that many processes per "
                "machine, or train on the CPU (--device cpu)"
            )
        comm = torch.device("cuda", local_rank)
        torch.cuda.set_device(comm)
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=timedelta(minutes=30))
        atexit.register(shutdown)
    _GROUP = Group(dist.get_rank(), dist.get_world_size(), local_rank, comm)
    return _GROUP


def current() -> Group | None:
    """The group :func:`init` joined, or ``None`` in a one-process run."""
    return _GROUP


def is_main() -> bool:
    """Whether this process writes the run's files: rank 0, or the only process."""
    return _GROUP is None or _GROUP.is_main


def shutdown() -> None:
    """Leave the process group (registered to run at exit by :func:`init`)."""
    global _GROUP
    _GROUP = None
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def on_main(fn: Callable[[], T]) -> T:
    """``fn()`` run on rank 0 alone, its result (JSON values and tensors) sent to every rank.

    An :class:`~rnnkit.errors.RnnkitError` (a user's error) raised by ``fn`` on rank 0 is raised
    on every rank with the same message, so that all of them stop alike instead of waiting for
    rank 0 forever; any other exception stops the others with a line that points to rank 0's
    traceback. In a one-process run it is just ``fn()``.
    """
    group = _GROUP
    if group is None:
        return fn()
    if not group.is_main:
        answer = group.broadcast(None)
        if "error" in answer:
            raise RnnkitError(answer["error"])
        return answer["value"]  # type: ignore[no-any-return]
    try:
        value = fn()
    except RnnkitError as err:
        group.broadcast({"error": str(err)})
        raise
    except BaseException as err:
        detail = traceback.format_exception_only(err)[-1].strip()
        group.broadcast({"error": f"rank 0 failed ({detail}); see its traceback"})
        raise
    group.broadcast({"value": value})
    return value


def rank_seed(seed: int, rank: int) -> int:
    """The seed of rank ``rank``'s global generators (dropout masks): ``seed`` on rank 0, so that
    a one-process run is unchanged, and a number drawn from ``(seed, rank)`` on the others."""
    if rank == 0:
        return seed
    return int(np.random.SeedSequence([seed, rank]).generate_state(1)[0])


def shard_rows(batch: T, rank: int, world_size: int, keep: Sequence[str] = ()) -> T | None:
    """Rank ``rank``'s contiguous rows of ``batch`` (as :func:`torch.tensor_split` cuts ``B``
    rows in ``world_size`` parts: the first ``B mod W`` ranks get one more), or ``None`` when
    its part is empty (``B < W``).

    ``batch`` is a tensor ``(B, …)`` or a dataclass whose tensor fields all have ``B`` rows,
    except the fields named in ``keep`` (shared by every row, such as a tagger's table of the
    batch's distinct words), which every rank gets whole. Other fields (ints, ``None``) are
    kept as they are.

    Raises:
        ConfigError: a tensor field (not in ``keep``) without ``B`` rows.
    """
    if isinstance(batch, torch.Tensor):
        part = torch.tensor_split(batch, world_size)[rank]
        return part if part.shape[0] else None  # type: ignore[return-value]
    if not (dataclasses.is_dataclass(batch) and not isinstance(batch, type)):
        raise ConfigError(
            f"cannot split a {type(batch).__name__} between processes: give the Trainer a "
            "shard_fn, or batches that are tensors or dataclasses of tensors"
        )
    fields = [f.name for f in dataclasses.fields(batch) if f.init and f.name not in keep]
    tensors = {n: v for n in fields if isinstance(v := getattr(batch, n), torch.Tensor)}
    rows = {int(t.shape[0]) if t.ndim else -1 for t in tensors.values()}
    if len(rows) != 1 or -1 in rows:
        shapes = {n: tuple(t.shape) for n, t in tensors.items()}
        raise ConfigError(
            f"cannot split a {type(batch).__name__} into rows: its tensors {shapes} do not "
            "all have the same first dimension"
        )
    parts = {n: torch.tensor_split(t, world_size)[rank] for n, t in tensors.items()}
    if next(iter(parts.values())).shape[0] == 0:
        return None
    return dataclasses.replace(batch, **parts)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` now (for a rendezvous on one machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def launch(nproc: int, argv: Sequence[str]) -> None:
    """Run ``python -m rnnkit ARGV`` in ``nproc`` processes on this machine, through PyTorch's
    elastic launcher (``torch.distributed.run``, what ``torchrun --standalone
    --nproc_per_node NPROC`` does), and return when all have finished.

    Raises:
        ConfigError: ``nproc`` below 1.
        RnnkitError: a process failed (its error is on stderr, prefixed by its rank).
    """
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    if nproc < 1:
        raise ConfigError(f"--nproc must be >= 1, got {nproc}")
    args = get_args_parser().parse_args(
        ["--standalone", "--nproc_per_node", str(nproc), "-m", "rnnkit", *argv]
    )
    try:
        run(args)  # type: ignore[no-untyped-call]
    except ChildFailedError as err:
        ranks = ", ".join(str(r) for r in sorted({f.local_rank for f in err.failures.values()}))
        raise RnnkitError(
            f"training failed on process(es) {ranks}; see their errors above"
        ) from None

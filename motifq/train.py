"""Training: :func:`fit` runs the loop, validation, early stopping, checkpoints and resume.

Files written (only by rank 0 under DistributedDataParallel), for ``out = model.pt``:

``model.pt``             the best checkpoint (lowest validation loss at an epoch end; until
                         the first epoch ends, the model where ``max_steps`` stopped)
``model.last.pt``        the latest checkpoint, with a ``resume`` entry (see below); written at
                         every epoch end, every ``checkpoint_minutes``, at ``max_steps``, and on
                         Ctrl-C or SIGTERM (which take effect between two steps)
``model.metrics.jsonl``  one JSON object per validation: ``epoch`` (1-based), ``step``,
                         ``train_loss``, ``valid_loss``, ``best``, ``partial`` (true when taken
                         in the middle of epoch ``epoch`` at ``max_steps``), ``seconds``,
                         ``samples_per_s``, ``lr``

Checkpoint keys are listed in :mod:`motifq.models` (``format``, ``version``, ``state_dict``,
``model_config``, ``train_config``, ``alphabet``, ``targets``, ``jaspar``, ``metrics``). The
``resume`` entry of ``model.last.pt`` holds ``epoch`` (0-based, the epoch in progress),
``batch`` (batches of that epoch already done), ``step`` (optimizer steps so far), ``best_loss``,
``bad_epochs``, ``loss_sum``/``loss_count`` (running training loss of the epoch), ``optimizer``
(its ``state_dict``), ``rng`` (torch CPU and CUDA RNG states), ``world_size`` and ``seconds``.

Randomness is derived, not carried: the data order of epoch ``e`` is a permutation drawn from
``numpy.random.default_rng([seed, e])``; the reverse-complement flips from
``default_rng([seed, e, rank, 1])``; dropout from torch's generator reseeded at every step
with ``(seed, step, rank)``. So resuming from any step continues exactly: the weights after a
run that was interrupted and resumed equal those of an uninterrupted run (on CPU).

Devices: ``auto`` takes CUDA when present, with bf16 autocast and the cuDNN LSTM. Batches are
gathered from the (memory-mapped) uint8 tokens by a background thread, moved to the device as
uint8 and one-hot encoded there. Under ``torchrun --nproc_per_node K -m motifq train ...`` (the
``WORLD_SIZE``/``RANK``/``LOCAL_RANK`` environment variables) the model is wrapped in
DistributedDataParallel (gloo on CPU, nccl on GPU), each process takes every K-th sample of the
epoch's permutation (padded by wrapping, as DistributedSampler) and `batch_size` is per process.
"""
from __future__ import annotations

import json
import math
import os
import queue
import signal
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .config import ModelConfig, TrainConfig
from .data.dataset import Split
from .errors import atomic_write, check
from .models import (build_model, fit_kmer_stats, load_checkpoint, model_from_checkpoint, one_hot_tokens,
                     read_checkpoint, resolve_device, save_checkpoint)
from .sequence import reverse_complement_tokens

__all__ = ["fit", "train_step", "holdout_split", "resolve_device", "last_path", "metrics_path", "load_checkpoint",
           "save_checkpoint", "make_optimizer"]


# ---------------------------------------------------------------------------------------------
# small pieces
# ---------------------------------------------------------------------------------------------
def last_path(out) -> Path:
    """``model.pt`` -> ``model.last.pt`` (the resumable latest checkpoint)."""
    out = Path(out)
    return out.with_name(out.stem + ".last" + (out.suffix or ".pt"))


def metrics_path(out) -> Path:
    """``model.pt`` -> ``model.metrics.jsonl``."""
    out = Path(out)
    return out.with_name(out.stem + ".metrics.jsonl")


class _RMSprop(torch.optim.RMSprop):
    """torch's RMSprop with a CPU fast path: the same arithmetic, in place, into a scratch buffer
    kept between steps (torch allocates a new parameter-sized tensor at every step for
    ``sqrt(v) + eps``; for DanQ's 47 M parameters that costs about as much as the update itself).
    State (``step``, ``square_avg``) and results are those of torch.optim.RMSprop."""

    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        self._scratch: dict = {}

    @torch.no_grad()
    def step(self, closure=None):
        groups = self.param_groups
        simple = all(not g["centered"] and g["momentum"] == 0 and g["weight_decay"] == 0 and not g["maximize"]
                     and not g["differentiable"] and not g["capturable"] for g in groups)
        params = [p for g in groups for p in g["params"] if p.grad is not None]
        if closure is not None or not simple or any(p.device.type != "cpu" or p.grad.is_sparse for p in params):
            return super().step(closure)
        for g in groups:
            alpha, eps, lr = g["alpha"], g["eps"], g["lr"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0)
                    state["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                v, grad = state["square_avg"], p.grad
                buf = self._scratch.get(p)
                if buf is None or buf.shape != p.shape:
                    buf = self._scratch[p] = torch.empty_like(p)
                v.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
                torch.sqrt(v, out=buf).add_(eps)
                p.addcdiv_(grad, buf, value=-lr)
        return None


def make_optimizer(model, config: TrainConfig):
    """The optimizer `config` names: RMSprop (Keras's defaults as in the paper: rho 0.9,
    epsilon 1e-6), Adam, or AdamW (decoupled weight decay ``config.weight_decay``); Adam and
    AdamW use PyTorch's fused implementation. Build it after moving the model to its device."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "rmsprop":
        return _RMSprop(params, lr=config.lr, alpha=0.9, eps=1e-6)
    fused = all(p.device.type in ("cpu", "cuda") for p in params)   # one fused kernel per step
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, fused=fused)
    return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay, fused=fused)


def holdout_split(split: Split, fraction: float = 0.1, seed: int = 0) -> tuple[Split, Split]:
    """Split one data set into training and validation parts at random (seeded).

    Parameters
    ----------
    split : Split
        Tokens (N, L) uint8 (0..3 = A, C, G, T; 4 = N) and labels (N, T).
    fraction : float
        Share held out for validation (at least one sample, and one left to train on).
        Default is 0.1.
    seed : int
        Seed of the choice. Default is 0.

    Returns
    -------
    train, valid : Split
        In-memory splits with the same targets; samples keep their original order.
    """
    n = len(split)
    check(n >= 2, f"{split.name or 'data'}: {n} sequence(s); need at least 2 to hold out a validation set")
    n_valid = min(n - 1, max(1, int(round(fraction * n))))
    chosen = np.zeros(n, dtype=bool)
    chosen[np.random.default_rng(seed).choice(n, n_valid, replace=False)] = True
    parts = []
    for mask, name in ((~chosen, "train"), (chosen, "valid")):
        idx = np.flatnonzero(mask)
        parts.append(Split(np.ascontiguousarray(split.tokens[idx]), np.ascontiguousarray(split.packed_labels[idx]),
                           list(split.targets), name=f"{split.name}:{name}" if split.name else name))
    return parts[0], parts[1]


def _distributed():
    """(rank, world, local_rank, initialised_here) from torchrun's environment."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, 0, False
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size(), local_rank, False
    return rank, world, local_rank, True


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _epoch_order(n: int, seed: int, epoch: int, rank: int, world: int) -> np.ndarray:
    """This process's sample indices for `epoch` (DistributedSampler-like padding by wrapping)."""
    perm = np.random.default_rng([seed, epoch]).permutation(n)
    per_rank = _ceil_div(n, world)
    if per_rank * world > n:
        perm = np.concatenate([perm, perm[:per_rank * world - n]])
    return perm[rank::world]


def _epoch_flips(n: int, seed: int, epoch: int, rank: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch, rank, 1]).random(n) < 0.5


def _step_seed(seed: int, step: int, rank: int) -> int:
    return int(np.random.SeedSequence([seed, step, rank, 2]).generate_state(1, dtype=np.uint64)[0] >> 1)


class _Batches:
    """Gather batches from (memory-mapped) data on a background thread.

    Yields ``(tokens (B, L) uint8 tensor, labels (B, T) uint8 tensor, flips (B,) bool tensor)``
    on the CPU (pinned when `pin`).
    """

    def __init__(self, split: Split, order, flips, batch_size: int, start_batch: int = 0, pin: bool = False,
                 prefetch: int = 4):
        self.split, self.order, self.flips, self.bs = split, order, flips, batch_size
        self.start, self.pin = start_batch, pin
        self.q: queue.Queue = queue.Queue(maxsize=prefetch)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()

    def _work(self):
        try:
            for b in range(self.start, _ceil_div(len(self.order), self.bs)):
                if self.stop.is_set():
                    return
                idx = self.order[b * self.bs:(b + 1) * self.bs]
                srt = np.sort(idx)                               # sequential reads from a memmap
                inv = np.argsort(np.argsort(idx, kind="stable"), kind="stable")
                tokens = torch.from_numpy(np.ascontiguousarray(self.split.tokens[srt][inv], dtype=np.uint8))
                labels = torch.from_numpy(np.ascontiguousarray(self.split.labels(srt)[inv], dtype=np.uint8))
                flips = torch.from_numpy(self.flips[b * self.bs:(b + 1) * self.bs].copy())
                if self.pin:
                    tokens, labels = tokens.pin_memory(), labels.pin_memory()
                self.q.put((tokens, labels, flips))
            self.q.put(None)
        except BaseException as exc:  # re-raised in the consumer
            self.q.put(exc)

    def __iter__(self):
        while True:
            item = self.q.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self):
        self.stop.set()
        while self.thread.is_alive():
            try:
                self.q.get(timeout=0.05)
            except queue.Empty:
                pass


def _l2(model, l2: float):
    if l2 <= 0:
        return 0.0
    return l2 * sum((p.float() ** 2).sum() for n, p in model.named_parameters()
                    if not n.rsplit(".", 1)[-1].startswith("bias"))


def train_step(net, optimizer, tokens, labels, flips, device, amp: bool = False, l2: float = 0.0) -> float:
    """One optimizer step on one minibatch; the loop body of :func:`fit`.

    Parameters
    ----------
    net : torch.nn.Module
        The model (or its DistributedDataParallel wrapper), in train mode.
    optimizer : torch.optim.Optimizer
    tokens : (B, L) uint8 tensor
        0..3 = A, C, G, T; 4 = N. Moved to `device` as uint8 and one-hot encoded there.
    labels : (B, T) uint8 tensor of 0/1
    flips : (B,) bool tensor
        Samples to replace by their reverse complement (augmentation).
    device : torch.device
    amp : bool
        bf16 autocast for the forward pass. Default is False.
    l2 : float
        L2 penalty on the weights added to the loss. Default is 0.0.

    Returns
    -------
    torch.Tensor
        The minibatch's mean BCE over samples and targets (without the L2 term): a detached
        scalar on `device` (reading it with ``float()`` waits for the GPU).
    """
    tokens = tokens.to(device, non_blocking=True)
    y = labels.to(device, non_blocking=True).float()
    flips = flips.to(device, non_blocking=True)
    tokens = torch.where(flips[:, None], reverse_complement_tokens(tokens), tokens)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
        logits = net(one_hot_tokens(tokens))                       # (B, T)
    loss = F.binary_cross_entropy_with_logits(logits.float(), y)
    total = loss + _l2(getattr(net, "module", net), l2)
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    optimizer.step()
    return loss.detach()


@torch.no_grad()
def _validate(model, split: Split, device, batch_size: int, amp: bool, rank: int, world: int) -> float:
    """Mean BCE over all samples and targets of `split` (forward strand, eval mode)."""
    model.eval()
    idx = np.arange(rank, len(split), world)
    total = torch.zeros(2, dtype=torch.float64, device=device)
    for start in range(0, len(idx), batch_size):
        rows = idx[start:start + batch_size]
        t = torch.from_numpy(np.ascontiguousarray(split.tokens[rows], dtype=np.uint8)).to(device)
        y = torch.from_numpy(split.labels(rows)).to(device).float()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(one_hot_tokens(t))
        total[0] += F.binary_cross_entropy_with_logits(logits.float(), y, reduction="sum").double()
        total[1] += y.numel()
    if world > 1:
        import torch.distributed as dist

        dist.all_reduce(total)
    model.train()
    return float(total[0] / total[1].clamp_min(1))


# ---------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------
def fit(model_config: ModelConfig, train: Split, valid: Split, out, train_config: TrainConfig | None = None,
        targets=None, resume: bool = False, progress: bool = True) -> dict:
    """Train a model and write its best and last checkpoints and metrics log.

    Parameters
    ----------
    model_config : ModelConfig
        What to build (``n_targets`` and ``length`` must match the data). On `resume` the
        checkpoint's model config is used and this one is ignored.
    train, valid : Split
        Tokens (N, L) uint8 in A, C, G, T token order (4 = N), labels (N, T). May be memory-mapped.
    out : str or os.PathLike
        The best checkpoint; ``<stem>.last.pt`` and ``<stem>.metrics.jsonl`` go beside it.
    train_config : TrainConfig or None
        Default is None: ``TrainConfig()`` (the paper's settings).
    targets : list of str or None
        Target names stored in the checkpoint. Default is None: ``train.targets``.
    resume : bool
        Continue from ``<stem>.last.pt`` (weights, optimizer, epoch, step, early-stopping state).
        Default is False.
    progress : bool
        Show a progress bar (rank 0 only). Default is True.

    Returns
    -------
    dict
        ``best_valid_loss`` (of the checkpoint at `out`), ``epochs`` (completed), ``steps``, ``stopped`` (``epochs``,
        ``max_steps`` or ``early``), ``metrics`` (list of dicts), ``out``, ``last``.
    """
    import torch.distributed as dist

    tc = train_config or TrainConfig()
    tc.validate()
    targets = list(targets if targets is not None else train.targets)
    out = Path(out)
    last = last_path(out)
    check(len(train) > 0, f"{train.name or 'train'}: no training samples")
    check(len(valid) > 0, f"{valid.name or 'valid'}: no validation samples")
    check(train.n_targets == valid.n_targets and train.length == valid.length,
          f"data: training ({train.length} bp, {train.n_targets} targets) and validation ({valid.length} bp, "
          f"{valid.n_targets} targets) differ")

    rank, world, local_rank, init_here = _distributed()
    device = resolve_device(tc.device, local_rank)
    if init_here:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = True
    amp = tc.amp and device.type == "cuda"
    try:
        return _fit(model_config, train, valid, out, last, tc, targets, resume, progress, rank, world, device, amp)
    finally:
        if init_here and dist.is_initialized():
            dist.destroy_process_group()


def _fit(model_config, train, valid, out, last, tc, targets, resume, progress, rank, world, device, amp):
    state = None
    jaspar_map: list = []
    metrics: list = []
    if resume:
        check(last.exists(), f"--resume: {last}: no such file (nothing to resume)")
        ckpt = read_checkpoint(last)
        check("resume" in ckpt, f"--resume: {last}: has no training state")
        model = model_from_checkpoint(ckpt, last)
        model_config = model.config
        state = ckpt["resume"]
        jaspar_map, metrics = list(ckpt["jaspar"]), list(ckpt["metrics"])
        targets = list(ckpt["targets"])
        check(state.get("world_size", 1) == world,
              f"--resume: {last} was written by {state.get('world_size', 1)} processes, now {world}")
        model.train()
    else:
        torch.manual_seed(tc.seed)
        model = build_model(model_config)
        if tc.jaspar_init:
            from .jaspar import load_motifs, seed_kernels

            check(model.conv is not None, f"jaspar-init: the {model_config.kind} model has no convolution to seed")
            jaspar_map = seed_kernels(model.conv, load_motifs(tc.jaspar_init), fraction=tc.jaspar_fraction,
                                      add_reverse_complements=tc.jaspar_reverse_complements,
                                      rng=np.random.default_rng([tc.seed, 3]))
        if model_config.kind == "lr":
            fit_kmer_stats(model, train.tokens, seed=tc.seed)
    c = model.config
    check(c.length == train.length, f"model: built for {c.length} bp, data has {train.length} bp")
    check(c.n_targets == train.n_targets, f"model: {c.n_targets} outputs, data has {train.n_targets} targets")
    check(len(targets) == c.n_targets, f"targets: {len(targets)} names for {c.n_targets} targets")

    model = model.to(device)
    net = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = make_optimizer(model, tc)
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])

    # Ctrl-C and SIGTERM (kill, torchrun, job schedulers) take effect between two steps, so the
    # last checkpoint is never written from a half-applied update; a second signal stops at once.
    signals: list = []
    old_handlers = {}

    def on_signal(signum, frame):
        if signals:
            signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
            raise KeyboardInterrupt
        signals.append(signum)

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            old_handlers[sig] = signal.signal(sig, on_signal)
    try:
        return _loop(model, net, optimizer, train, valid, out, last, tc, targets, jaspar_map, metrics, state,
                     signals, rank, world, device, amp, progress)
    finally:
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)


def _loop(model, net, optimizer, train, valid, out, last, tc, targets, jaspar_map, metrics, state, signals, rank,
          world, device, amp, progress):
    """The epoch loop of :func:`fit`: `state` is the checkpoint's ``resume`` entry or None;
    `signals` fills when SIGINT/SIGTERM arrive."""
    c = model.config
    import torch.distributed as dist
    from tqdm.auto import tqdm

    epoch, batch0, step, best_loss, bad, seconds = 0, 0, 0, math.inf, 0, 0.0
    loss_sum, loss_count = 0.0, 0
    if state is not None:
        epoch, batch0, step = int(state["epoch"]), int(state["batch"]), int(state["step"])
        best_loss, bad, seconds = float(state["best_loss"]), int(state["bad_epochs"]), float(state["seconds"])
        loss_sum, loss_count = float(state["loss_sum"]), int(state["loss_count"])

    def resume_state(ep, b):
        return {"epoch": ep, "batch": b, "step": step, "best_loss": best_loss, "bad_epochs": bad,
                "loss_sum": loss_sum, "loss_count": loss_count, "optimizer": optimizer.state_dict(),
                "rng": {"torch": torch.get_rng_state(),
                        "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else torch.zeros(0, dtype=torch.uint8)},
                "world_size": world, "seconds": seconds}

    def save(path, ep, b, with_state):
        if rank == 0:
            save_checkpoint(path, model, targets=targets, train_config=tc, jaspar=jaspar_map, metrics=metrics,
                            resume=resume_state(ep, b) if with_state else None)

    def write_metrics():
        if rank == 0:
            with atomic_write(metrics_path(out)) as fh:
                for row in metrics:
                    fh.write(json.dumps(row) + "\n")

    def evaluate(ep, partial):
        nonlocal best_loss, bad
        v = _validate(net if world == 1 else model, valid, device, max(tc.batch_size, 256), amp, rank, world)
        row = {"epoch": ep + 1, "step": step,
               "train_loss": loss_sum / max(loss_count, 1), "valid_loss": v, "best": False, "partial": partial,
               "seconds": round(seconds, 3), "samples_per_s": round(step * tc.batch_size * world / max(seconds, 1e-9), 1),
               "lr": tc.lr}
        if not partial:
            if v < best_loss:
                best_loss, bad, row["best"] = v, 0, True
            else:
                bad += 1
        metrics.append(row)
        return row

    n_batches = _ceil_div(_ceil_div(len(train), world), tc.batch_size)   # per process and epoch
    stopped = "epochs"
    show = progress and rank == 0
    last_save = time.monotonic()
    pin = device.type == "cuda"
    net.train()
    while epoch < tc.epochs:
        if tc.max_steps is not None and step >= tc.max_steps:
            stopped = "max_steps"
            break
        if bad >= tc.patience:          # a resumed run that had already stopped early
            stopped = "early"
            break
        order = _epoch_order(len(train), tc.seed, epoch, rank, world)
        flips = _epoch_flips(len(order), tc.seed, epoch, rank) if tc.rc_augment else np.zeros(len(order), bool)
        batches = _Batches(train, order, flips, tc.batch_size, start_batch=batch0, pin=pin)
        bar = tqdm(total=n_batches, initial=batch0, disable=not show, desc=f"epoch {epoch + 1}/{tc.epochs}",
                   unit="batch", dynamic_ncols=True, leave=False)
        b = batch0
        pending: list = []

        def fold():                      # add the losses still on the device to the running sum
            nonlocal loss_sum, loss_count
            if pending:
                loss_sum += float(torch.stack(pending).double().sum())
                loss_count += len(pending)
                pending.clear()

        t0 = t_bar = time.monotonic()
        steps0 = 0
        try:
            for tokens, labels, flip in batches:
                if tc.max_steps is not None and step >= tc.max_steps:
                    break
                torch.manual_seed(_step_seed(tc.seed, step, rank))
                pending.append(train_step(net, optimizer, tokens, labels, flip, device, amp, c.l2))
                step += 1
                b += 1
                steps0 += 1
                if signals:
                    raise KeyboardInterrupt
                if len(pending) >= 50:
                    fold()
                if show and (steps0 % 10 == 0 or b == n_batches):
                    fold()
                    dt = time.monotonic() - t_bar
                    bar.set_postfix(loss=f"{loss_sum / loss_count:.4f}",
                                    samples_s=f"{steps0 * tc.batch_size * world / max(dt, 1e-9):.0f}", refresh=False)
                bar.update(1)
                if tc.checkpoint_minutes and time.monotonic() - last_save > 60 * tc.checkpoint_minutes:
                    seconds += time.monotonic() - t0
                    t0 = time.monotonic()
                    fold()
                    save(last, epoch, b, True)
                    last_save = time.monotonic()
        except KeyboardInterrupt:
            seconds += time.monotonic() - t0
            fold()
            save(last, epoch, b, True)
            raise
        finally:
            batches.close()
            bar.close()
        fold()
        seconds += time.monotonic() - t0
        if b < n_batches:               # stopped by max_steps in the middle of an epoch
            row = evaluate(epoch, partial=True)
            batch0 = b
            stopped = "max_steps"
            save(last, epoch, b, True)
            if not math.isfinite(best_loss):    # no epoch finished yet: `out` holds this model
                save(out, epoch, b, False)
            write_metrics()
            _report(row, show)
            break
        row = evaluate(epoch, partial=False)
        epoch += 1
        batch0 = 0
        loss_sum, loss_count = 0.0, 0
        if row["best"]:
            save(out, epoch, 0, False)
        save(last, epoch, 0, True)
        last_save = time.monotonic()
        write_metrics()
        _report(row, show)
        if bad >= tc.patience:
            stopped = "early"
            break
    if world > 1:
        dist.barrier()
    return {"best_valid_loss": best_loss if math.isfinite(best_loss) else (metrics[-1]["valid_loss"] if metrics else math.inf),
            "epochs": epoch, "steps": step, "stopped": stopped,
            "metrics": metrics, "out": out, "last": last}


def _report(row: dict, show: bool) -> None:
    if show:
        from tqdm.auto import tqdm

        tqdm.write(f"epoch {row['epoch']}{' (partial)' if row['partial'] else ''}  step {row['step']}  "
                   f"train {row['train_loss']:.4f}  valid {row['valid_loss']:.4f}"
                   f"{'  best' if row['best'] else ''}  {row['samples_per_s']:.0f} samples/s")

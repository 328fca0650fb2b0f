"""Training: :func:`fit` runs the loop, validation checks, the stopping rule, checkpoints and resume.

The recipe (``TrainConfig.recipe``; docs/training.md says why): ``default`` is AdamW at 3e-3,
batch 100, PyTorch's fan-in initialisation with up to half of the first-layer kernels seeded from
enriched k-mers (:mod:`motifq.kmers`), zero output biases, gradients clipped to norm 1 and
the learning rate halved after 2 checks without a better validation loss (once off the label
prior); ``paper`` is DanQ as published.

Validation checks are spaced in training samples (``val_every``; automatic by default), and
patience counts checks. Training never stops early while the best validation loss has not
beaten the label prior's (the loss of predicting each target's training frequency, taken on
the validation labels) by ``prior_margin``; a run that ends at the prior says so (a warning on
the ``motifq`` logger, and ``left_prior: false`` in the summary).

Files written (only by rank 0 under DistributedDataParallel), for ``out = model.pt``:

``model.pt``             the best checkpoint (lowest validation loss at a check; until the first
                         check, the model where the budget ended), with the whole history and
                         the summary once training ends
``model.last.pt``        the latest checkpoint, with a ``resume`` entry (see below); written at
                         every check, every ``checkpoint_minutes``, at the end, and on Ctrl-C or
                         SIGTERM (which take effect between two steps)
``model.history.jsonl``  one JSON object per check: ``epoch`` (epochs done, fractional between
                         epoch ends), ``step``, ``samples``, ``train_loss`` (mean since the last
                         check), ``valid_loss``, ``prior_loss``, ``pr_auc`` (mean validation PR
                         AUC over targets), ``best``, ``partial`` (a check off the schedule where
                         the budget ended; it does not count for patience), ``seconds``,
                         ``samples_per_s``, ``lr``; then one line ``{"summary": {...}}`` (see
                         :func:`summary_lines`)

Checkpoint keys are listed in :mod:`motifq.models` (``format``, ``version``, ``state_dict``,
``model_config``, ``train_config``, ``alphabet``, ``targets``, ``jaspar``, ``history``,
``summary``). The ``resume`` entry of ``model.last.pt`` holds the loop state (``epoch`` epochs
done, ``batch`` batches of the epoch in progress done, ``step``, ``best_loss``, ``best_step``,
``bad`` and ``plateau`` check counters, ``lr_scale``, ``left_prior_step``, ``seconds``,
``loss_sum``/``loss_count``, ``best_pr_auc``), the ``optimizer`` state, ``rng`` (torch CPU and
CUDA RNG states) and ``world_size``.

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

import contextlib
import dataclasses
import json
import logging
import math
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from .config import ModelConfig, TrainConfig
from .data.dataset import Split
from .errors import atomic_path, atomic_write, check
from .metrics import target_aucs
from .models import (build_model, fit_kmer_stats, init_output_bias, load_checkpoint, model_from_checkpoint,
                     one_hot_tokens, read_checkpoint, resolve_device, save_checkpoint)
from .sequence import reverse_complement_tokens

__all__ = ["fit", "train_step", "holdout_split", "resolve_device", "last_path", "history_path", "load_checkpoint",
           "save_checkpoint", "make_optimizer", "param_groups", "Objective", "make_objective", "label_frequencies", "prior_logits",
           "prior_loss", "summary_lines"]

_log = logging.getLogger("motifq")


# ---------------------------------------------------------------------------------------------
# small pieces
# ---------------------------------------------------------------------------------------------
def last_path(out) -> Path:
    """``model.pt`` -> ``model.last.pt`` (the resumable latest checkpoint)."""
    out = Path(out)
    return out.with_name(out.stem + ".last" + (out.suffix or ".pt"))


def history_path(out) -> Path:
    """``model.pt`` -> ``model.history.jsonl`` (one line per validation check, then the summary)."""
    out = Path(out)
    return out.with_name(out.stem + ".history.jsonl")


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


def param_groups(model, lr: float, dense_fan_in: int = 0) -> list[dict]:
    """The model's trainable parameters in groups with their learning rates: each
    ``nn.Linear`` layer whose fan-in exceeds `dense_fan_in` (weight and bias) gets
    ``lr * dense_fan_in / fan_in``, everything else `lr`. The group key ``lr_scale`` keeps the
    factor (the schedule multiplies it in).

    Why: the dense layer after the convolution, pooling and ReLU sees thousands of non-negative
    inputs (4,800 for a 64-kernel model on 1,000 bp, 48,000 for DanQ). An Adam or RMSprop step
    moves every weight by about the learning rate whatever the gradient's size, all in one
    direction for a unit, so a unit's input moves by ``lr * sum(x)``: many times its spread.
    While the model still sits at the label prior the gradient is noise, the units' inputs
    random-walk in these large steps and the ReLU units die one by one (measured: three
    quarters to a tenth of the units in 80 steps of AdamW at 2e-3). Scaling the step by
    1/fan-in, as muP scales Adam for wide layers, keeps them alive.

    Parameters
    ----------
    model : torch.nn.Module
    lr : float
        The base learning rate.
    dense_fan_in : int
        0: one group at `lr`. Default is 0.

    Returns
    -------
    list of dict
        ``params``, ``lr``, ``lr_scale`` per group.
    """
    scaled: dict = {}
    if dense_fan_in > 0:
        for module in model.modules():
            if isinstance(module, torch.nn.Linear) and module.in_features > dense_fan_in:
                for p in module.parameters():
                    scaled[id(p)] = dense_fan_in / module.in_features
    groups: dict = {}
    for p in model.parameters():
        if p.requires_grad:
            groups.setdefault(scaled.get(id(p), 1.0), []).append(p)
    return [{"params": ps, "lr": lr * f, "lr_scale": f} for f, ps in sorted(groups.items(), reverse=True)]


def make_optimizer(model, config: TrainConfig):
    """The optimizer `config` names: RMSprop (Keras's defaults as in the paper: rho 0.9,
    epsilon 1e-6), Adam, or AdamW (decoupled weight decay ``config.weight_decay``); Adam and
    AdamW use PyTorch's fused implementation. The parameter groups are :func:`param_groups`
    with ``config.dense_fan_in``. Build it after moving the model to its device."""
    groups = param_groups(model, config.lr, config.dense_fan_in)
    if config.optimizer == "rmsprop":
        return _RMSprop(groups, lr=config.lr, alpha=0.9, eps=1e-6)
    fused = all(p.device.type in ("cpu", "cuda") for g in groups for p in g["params"])   # one fused kernel per step
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr, fused=fused)
    return torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay, fused=fused)


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


# ---------------------------------------------------------------------------------------------
# losses and the label prior
# ---------------------------------------------------------------------------------------------
class Objective(NamedTuple):
    """The training loss: a small record called as ``objective(logits, y)`` -> elementwise loss.

    ``loss`` is ``bce``, ``weighted`` or ``focal`` (see :class:`~motifq.config.TrainConfig`);
    ``pos_weight`` is a (T,) float tensor (``weighted`` only, else None); ``gamma`` the focal
    exponent.
    """

    loss: str = "bce"
    pos_weight: torch.Tensor | None = None
    gamma: float = 2.0

    def __call__(self, logits, y):
        """logits (B, T) float, y (B, T) float 0/1 -> (B, T) float loss of each sample and target."""
        if self.loss == "focal":
            bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
            return (1.0 - torch.exp(-bce)) ** self.gamma * bce      # exp(-bce) = p of the true label
        weight = self.pos_weight.to(logits.device) if self.loss == "weighted" else None
        return F.binary_cross_entropy_with_logits(logits, y, reduction="none", pos_weight=weight)


def label_frequencies(split: Split, rows: int = 65536) -> np.ndarray:
    """Each target's share of positive labels, read in blocks of `rows` samples.

    Parameters
    ----------
    split : Split
        Labels (N, T), possibly memory-mapped and bit-packed.
    rows : int
        Samples unpacked at a time. Default is 65536.

    Returns
    -------
    (T,) float64 array
    """
    total = np.zeros(split.n_targets, dtype=np.int64)
    for start in range(0, len(split), rows):
        total += split.labels(slice(start, start + rows)).sum(0, dtype=np.int64)
    return total / max(len(split), 1)


def make_objective(config: TrainConfig, frequencies) -> Objective:
    """The loss `config` names; the ``weighted`` loss's positive weight of target t is
    ``min((1 - p_t) / p_t, config.pos_weight_max)`` for its training frequency p_t.

    Parameters
    ----------
    config : TrainConfig
    frequencies : (T,) array of float
        Training frequency of each target (:func:`label_frequencies`).

    Returns
    -------
    Objective
    """
    p = np.clip(np.asarray(frequencies, dtype=np.float64), 1e-12, 1.0)
    weight = torch.tensor(np.minimum((1.0 - p) / p, config.pos_weight_max), dtype=torch.float32)
    return Objective(config.loss, weight if config.loss == "weighted" else None, float(config.focal_gamma))


def _constant_losses(objective: Objective, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Loss of the constant logits z (G, T) against a positive and against a negative label."""
    return objective(z, torch.ones_like(z)), objective(z, torch.zeros_like(z))


def prior_logits(frequencies, objective: Objective | None = None) -> np.ndarray:
    """The constant logit of each target that minimises the expected training loss under its
    training frequency p: ``log(p / (1 - p))`` for BCE; found on a grid of logits in [-16, 16]
    (step 0.005) for the other losses. The output biases start here under ``output_bias=prior``.

    Parameters
    ----------
    frequencies : (T,) array of float
        Training frequency of each target.
    objective : Objective or None
        Default is None: BCE.

    Returns
    -------
    (T,) float64 array
    """
    p = np.clip(np.asarray(frequencies, dtype=np.float64), 1e-6, 1 - 1e-6)
    if objective is None or objective.loss == "bce":
        return np.log(p / (1 - p))
    grid = torch.linspace(-16, 16, 6401, dtype=torch.float64)[:, None].expand(-1, len(p))   # (G, T)
    pos, neg = _constant_losses(Objective(objective.loss, None if objective.pos_weight is None
                                          else objective.pos_weight.double(), objective.gamma), grid)
    pt = torch.from_numpy(p)
    expected = pt * pos + (1 - pt) * neg                                                       # (G, T)
    return grid[expected.argmin(0), torch.arange(len(p))].numpy()


def prior_loss(logits, frequencies, objective: Objective | None = None) -> float:
    """Mean loss over samples and targets of predicting the constant `logits` on data whose
    targets have positive shares `frequencies` (the validation split's): the label prior's loss.

    Parameters
    ----------
    logits : (T,) array of float
        From :func:`prior_logits` of the training frequencies.
    frequencies : (T,) array of float
        Positive share of each target in the data the loss is taken on.
    objective : Objective or None
        Default is None: BCE.

    Returns
    -------
    float
    """
    objective = objective or Objective()
    z = torch.as_tensor(np.asarray(logits, dtype=np.float32))[None, :]
    pos, neg = _constant_losses(objective, z)
    q = torch.as_tensor(np.asarray(frequencies, dtype=np.float32))[None, :]
    return float((q * pos + (1 - q) * neg).mean())


# ---------------------------------------------------------------------------------------------
# one step, one validation
# ---------------------------------------------------------------------------------------------
def train_step(net, optimizer, tokens, labels, flips, device, amp: bool = False, l2: float = 0.0,
               objective: Objective | None = None, clip_norm: float = 0.0):
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
    objective : Objective or None
        The loss. Default is None: mean BCE.
    clip_norm : float
        Clip the gradient's global L2 norm to this (0: no clipping). Default is 0.0.

    Returns
    -------
    torch.Tensor
        The minibatch's mean loss over samples and targets (without the L2 term): a detached
        scalar on `device` (reading it with ``float()`` waits for the GPU).
    """
    tokens = tokens.to(device, non_blocking=True)
    y = labels.to(device, non_blocking=True).float()
    flips = flips.to(device, non_blocking=True)
    tokens = torch.where(flips[:, None], reverse_complement_tokens(tokens), tokens)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
        logits = net(one_hot_tokens(tokens))                       # (B, T)
    loss = (objective or Objective())(logits.float(), y).mean()
    total = loss + _l2(getattr(net, "module", net), l2)
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    if clip_norm > 0:
        torch.nn.utils.clip_grad_norm_(net.parameters(), clip_norm)
    optimizer.step()
    return loss.detach()


@torch.no_grad()
def _validate(model, split: Split, device, batch_size: int, amp: bool, rank: int, world: int,
              objective: Objective) -> tuple[float, np.ndarray]:
    """Mean loss over all samples and targets of `split` (forward strand, eval mode), and the
    (N, T) float32 probabilities (gathered from every process)."""
    model.eval()
    idx = np.arange(rank, len(split), world)
    total = torch.zeros(2, dtype=torch.float64, device=device)
    probs = []
    for start in range(0, len(idx), batch_size):
        rows = idx[start:start + batch_size]
        t = torch.from_numpy(np.ascontiguousarray(split.tokens[rows], dtype=np.uint8)).to(device)
        y = torch.from_numpy(split.labels(rows)).to(device).float()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(one_hot_tokens(t)).float()
        total[0] += objective(logits, y).sum().double()
        total[1] += y.numel()
        probs.append(torch.sigmoid(logits).cpu().numpy())
    mine = np.concatenate(probs) if probs else np.zeros((0, split.n_targets), np.float32)
    if world > 1:
        import torch.distributed as dist

        dist.all_reduce(total)
        parts: list = [None] * world
        dist.all_gather_object(parts, (idx, mine))
        mine = np.zeros((len(split), split.n_targets), np.float32)
        for rows, p in parts:
            mine[rows] = p
    model.train()
    return float(total[0] / total[1].clamp_min(1)), mine


# ---------------------------------------------------------------------------------------------
# the run's fixed parts and its state
# ---------------------------------------------------------------------------------------------
@dataclass
class _Run:
    """What stays fixed during one call of :func:`fit`."""

    model: torch.nn.Module
    net: torch.nn.Module
    optimizer: torch.optim.Optimizer
    train: Split
    valid: Split
    out: Path
    last: Path
    tc: TrainConfig
    targets: list
    jaspar: list
    rank: int
    world: int
    device: torch.device
    amp: bool
    show: bool
    objective: Objective
    prior_loss: float
    valid_labels: np.ndarray
    n_batches: int
    check_steps: int
    warmup: int
    signals: list


@dataclass
class _State:
    """What changes during training; all of it but `history` is the last checkpoint's
    ``resume`` entry (with the optimizer, RNG states and world size)."""

    epoch: int = 0                  # epochs completed
    batch: int = 0                  # batches of the epoch in progress already done
    step: int = 0
    best_loss: float = math.inf
    best_step: int = 0
    bad: int = 0                    # checks in a row without a better validation loss
    plateau: int = 0                # the same, reset when the learning rate is halved
    lr_scale: float = 1.0
    left_prior_step: int = -1       # the check's step where the model left the prior (-1: not yet)
    seconds: float = 0.0
    loss_sum: float = 0.0           # running training loss since the last check
    loss_count: int = 0
    best_pr_auc: list = dataclasses.field(default_factory=list)
    history: list = dataclasses.field(default_factory=list)

    @classmethod
    def from_resume(cls, entry: dict, history: list) -> "_State":
        names = {f.name for f in dataclasses.fields(cls)} - {"history"}
        values = {k: v for k, v in entry.items() if k in names}
        if "bad_epochs" in entry:                     # written before checks were counted in samples
            values.setdefault("bad", int(entry["bad_epochs"]))
        return cls(**values, history=list(history))

    def resume_entry(self, run: _Run) -> dict:
        entry = {k: v for k, v in dataclasses.asdict(self).items() if k != "history"}
        cuda = torch.cuda.get_rng_state(run.device) if run.device.type == "cuda" else torch.zeros(0, dtype=torch.uint8)
        entry.update(optimizer=run.optimizer.state_dict(), world_size=run.world,
                     rng={"torch": torch.get_rng_state(), "cuda": cuda})
        return entry


def _budget(tc: TrainConfig, n_train: int, world: int) -> int:
    """Training samples of ``epochs`` epochs: the budget the warm-up and the automatic check
    spacing are scaled to. ``max_steps`` is left out on purpose, so that a run stopped by
    ``max_steps`` and resumed without it continues exactly as an uninterrupted run."""
    return tc.epochs * _ceil_div(_ceil_div(n_train, world), tc.batch_size) * tc.batch_size * world


def _check_steps(tc: TrainConfig, n_train: int, n_batches: int, world: int) -> int:
    """Optimizer steps between two validation checks (see ``TrainConfig.val_every``)."""
    per_step = tc.batch_size * world
    if tc.val_every is not None:
        return max(1, _ceil_div(tc.val_every, per_step))
    if tc.recipe == "paper":
        return n_batches
    every = min(max(n_train, 10_000), 500_000, max(_budget(tc, n_train, world) // 10, 1))
    if every >= n_train:                            # whole epochs: checks fall on epoch ends
        return n_batches * max(1, int(round(every / n_train)))
    return max(1, _ceil_div(every, per_step))


def _learning_rate(run: _Run, st: _State) -> float:
    """Linear warm-up over ``warmup`` samples (at most a tenth of the budget), then the peak rate
    halved at each plateau."""
    tc = run.tc
    ramp = 1.0 if run.warmup <= 0 else min(1.0, (st.step + 1) * tc.batch_size * run.world / run.warmup)
    return tc.lr * st.lr_scale * ramp


# ---------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------
def fit(model_config: ModelConfig, train: Split, valid: Split, out, train_config: TrainConfig | None = None,
        targets=None, resume: bool = False, progress: bool = True) -> dict:
    """Train a model and write its best and last checkpoints and history log.

    Parameters
    ----------
    model_config : ModelConfig
        What to build (``n_targets`` and ``length`` must match the data). On `resume` the
        checkpoint's model config is used and this one is ignored.
    train, valid : Split
        Tokens (N, L) uint8 in A, C, G, T token order (4 = N), labels (N, T). May be memory-mapped.
    out : str or os.PathLike
        The best checkpoint; ``<stem>.last.pt`` and ``<stem>.history.jsonl`` go beside it.
    train_config : TrainConfig or None
        Default is None: ``TrainConfig()`` (the default recipe).
    targets : list of str or None
        Target names stored in the checkpoint. Default is None: ``train.targets``.
    resume : bool
        Continue from ``<stem>.last.pt`` (weights, optimizer, epoch, step, stopping state).
        Default is False.
    progress : bool
        Show a progress bar and one line per check (rank 0 only). Default is True.

    Returns
    -------
    dict
        ``best_valid_loss`` (of the checkpoint at `out`), ``epochs`` (completed), ``steps``,
        ``stopped`` (``epochs``, ``max_steps`` or ``early``), ``history`` (list of dicts, one per
        check; also under its older name ``metrics``), ``summary`` (see :func:`summary_lines`),
        ``out``, ``last``.
    """
    import torch.distributed as dist

    tc = train_config or TrainConfig()
    tc.validate()
    targets = list(targets if targets is not None else train.targets)
    out = Path(out)
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
    try:
        return _fit(model_config, train, valid, out, tc, targets, resume, progress and rank == 0, device)
    finally:
        if init_here and dist.is_initialized():
            dist.destroy_process_group()


def _new_model(model_config: ModelConfig, train: Split, tc: TrainConfig, logits) -> tuple:
    """A freshly initialised model and its JASPAR seeding map."""
    torch.manual_seed(tc.seed)
    model = build_model(model_config)
    jaspar_map: list = []
    if tc.jaspar_init:
        from .jaspar import load_motifs, seed_kernels

        check(model.conv is not None, f"jaspar-init: the {model_config.kind} model has no convolution to seed")
        jaspar_map = seed_kernels(model.conv, load_motifs(tc.jaspar_init), fraction=tc.jaspar_fraction,
                                  add_reverse_complements=tc.jaspar_reverse_complements,
                                  rng=np.random.default_rng([tc.seed, 3]), threshold=tc.seed_threshold)
    if tc.kmer_init > 0 and getattr(model, "conv", None) is not None:
        jaspar_map = sorted(jaspar_map + _kmer_seeds(model.conv, train, tc, {e["kernel"] for e in jaspar_map}),
                            key=lambda e: e["kernel"])
    if model_config.kind == "lr":
        fit_kmer_stats(model, train.tokens, seed=tc.seed)
    init_output_bias(model, logits if tc.output_bias == "prior" else np.zeros(model_config.n_targets))
    return model, jaspar_map


def _kmer_seeds(conv, train: Split, tc: TrainConfig, taken: set) -> list[dict]:
    """Seed up to ``round(tc.kmer_init * K)`` kernels of `conv` (weight (K, 4, W), A, C, G, T)
    not in `taken` with motifs grown from the k-mers most enriched in each target's positives
    (:func:`motifq.kmers.enriched_motifs`); returns their entries for the seeded-kernel map
    (see :func:`motifq.jaspar.seed_kernels`)."""
    from .jaspar import seed_kernels
    from .kmers import enriched_motifs

    K = conv.weight.shape[0]
    free = [k for k in range(K) if k not in taken]
    n = min(len(free), int(round(tc.kmer_init * K)))
    width = conv.weight.shape[2]
    flank = max(0, min(4, (width - 8) // 2))                       # 8-mers, grown to fit the kernel
    motifs = enriched_motifs(train.tokens, train.labels, n, targets=train.targets, flank=flank, seed=tc.seed) if n else []
    if not motifs:
        _log.info("kmer-init: no k-mer is enriched in any target's positives; no kernel seeded")
        return []
    _log.info("kmer-init: %d kernels seeded from enriched k-mers (%s)", len(motifs),
             ", ".join(f"{m.name} {m.id}" for m in motifs[:8]) + (", ..." if len(motifs) > 8 else ""))
    return seed_kernels(conv, motifs, n_kernels=len(motifs), kernels=free, rng=np.random.default_rng([tc.seed, 5]),
                        what="kmer-init", threshold=tc.seed_threshold)


def _resumed_model(last: Path, world: int) -> tuple:
    """The model, state, JASPAR map and targets of a last checkpoint."""
    check(last.exists(), f"--resume: {last}: no such file (nothing to resume)")
    ckpt = read_checkpoint(last)
    check("resume" in ckpt, f"--resume: {last}: has no training state")
    entry = ckpt["resume"]
    check(entry.get("world_size", 1) == world,
          f"--resume: {last} was written by {entry.get('world_size', 1)} processes, now {world}")
    model = model_from_checkpoint(ckpt, last)
    model.train()
    return model, _State.from_resume(entry, ckpt["history"]), entry, list(ckpt["jaspar"]), list(ckpt["targets"])


def _fit(model_config, train, valid, out, tc, targets, resume, show, device):
    rank, world, _, _ = _distributed()
    freq = label_frequencies(train)
    objective = make_objective(tc, freq)
    logits = prior_logits(freq, objective)
    entry = None
    if resume:
        model, st, entry, jaspar_map, targets = _resumed_model(last_path(out), world)
    else:
        (model, jaspar_map), st = _new_model(model_config, train, tc, logits), _State()
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
    if entry is not None:
        optimizer.load_state_dict(entry["optimizer"])
    valid_labels = valid.labels()
    n_batches = _ceil_div(_ceil_div(len(train), world), tc.batch_size)   # per process and epoch
    run = _Run(model, net, optimizer, train, valid, out, last_path(out), tc, targets, jaspar_map, rank, world,
               device, tc.amp and device.type == "cuda", show, objective,
               prior_loss(logits, valid_labels.mean(0), objective), valid_labels, n_batches,
               _check_steps(tc, len(train), n_batches, world), min(tc.warmup, _budget(tc, len(train), world) // 10), [])
    with _stop_signals(run.signals):
        return _loop(run, st)


@contextlib.contextmanager
def _stop_signals(signals: list):
    """Ctrl-C and SIGTERM (kill, torchrun, job schedulers) take effect between two steps, so the
    last checkpoint is never written from a half-applied update: the first signal is appended
    to `signals`; a second stops at once."""
    def on_signal(signum, frame):
        if signals:
            signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
            raise KeyboardInterrupt
        signals.append(signum)

    old = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, on_signal)
    try:
        yield signals
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


# ---------------------------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------------------------
def _loop(run: _Run, st: _State) -> dict:
    """Epochs until the budget is spent or the stopping rule fires; then the summary."""
    tc = run.tc
    stopped = None
    run.net.train()
    while stopped is None:
        if tc.max_steps is not None and st.step >= tc.max_steps:
            stopped = "max_steps"
        elif st.epoch >= tc.epochs:
            stopped = "epochs"
        elif _should_stop(run, st):         # a resumed run that had already stopped early
            stopped = "early"
        else:
            stopped = _run_epoch(run, st)
    if not st.history or st.history[-1]["step"] != st.step:
        _check(run, st, partial=True)       # the budget ended between two checks
    if run.world > 1:
        import torch.distributed as dist

        dist.barrier()
    summary = _finish(run, st, stopped)
    best = st.best_loss if math.isfinite(st.best_loss) else st.history[-1]["valid_loss"]
    return {"best_valid_loss": best, "epochs": st.epoch, "steps": st.step, "stopped": stopped,
            "history": st.history, "metrics": st.history, "summary": summary, "out": run.out, "last": run.last}


def _run_epoch(run: _Run, st: _State):
    """Train on the rest of the epoch in progress, checking every ``check_steps`` steps.
    Returns ``early`` or ``max_steps`` when training must stop, else None."""
    from tqdm.auto import tqdm

    tc = run.tc
    order = _epoch_order(len(run.train), tc.seed, st.epoch, run.rank, run.world)
    flips = _epoch_flips(len(order), tc.seed, st.epoch, run.rank) if tc.rc_augment else np.zeros(len(order), bool)
    batches = _Batches(run.train, order, flips, tc.batch_size, start_batch=st.batch, pin=run.device.type == "cuda")
    bar = tqdm(total=run.n_batches, initial=st.batch, disable=not run.show, desc=f"epoch {st.epoch + 1}/{tc.epochs}",
               unit="batch", dynamic_ncols=True, leave=False)
    pending: list = []
    clock = [time.monotonic(), time.monotonic()]       # since the last time added to st.seconds; last save
    try:
        for tokens, labels, flip in batches:
            if tc.max_steps is not None and st.step >= tc.max_steps:
                return "max_steps"
            pending.append(_one_step(run, st, tokens, labels, flip))
            if run.signals:
                raise KeyboardInterrupt
            if len(pending) >= 50:
                _fold(st, pending)
            bar.update(1)
            if st.step % run.check_steps == 0:
                _tick(st, clock, pending)
                _check(run, st, partial=False)
                clock[:] = [time.monotonic(), time.monotonic()]
                if _should_stop(run, st):
                    return "early"
            elif tc.checkpoint_minutes and time.monotonic() - clock[1] > 60 * tc.checkpoint_minutes:
                _tick(st, clock, pending)
                _save(run, st, run.last, resume=True)
                clock[1] = time.monotonic()
    except KeyboardInterrupt:
        _tick(st, clock, pending)
        _save(run, st, run.last, resume=True)
        raise
    finally:
        _tick(st, clock, pending)
        batches.close()
        bar.close()
    return "max_steps" if tc.max_steps is not None and st.step >= tc.max_steps else None


def _one_step(run: _Run, st: _State, tokens, labels, flip):
    """One optimizer step at this step's learning rate; advances the step, batch and epoch."""
    tc = run.tc
    lr = _learning_rate(run, st)
    for group in run.optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
    torch.manual_seed(_step_seed(tc.seed, st.step, run.rank))
    loss = train_step(run.net, run.optimizer, tokens, labels, flip, run.device, run.amp, run.model.config.l2,
                      run.objective, tc.clip_norm)
    st.step += 1
    st.batch += 1
    if st.batch == run.n_batches:
        st.epoch, st.batch = st.epoch + 1, 0
    return loss


def _fold(st: _State, pending: list) -> None:
    """Add the step losses still on the device to the running training loss."""
    if pending:
        st.loss_sum += float(torch.stack(pending).double().sum())
        st.loss_count += len(pending)
        pending.clear()


def _tick(st: _State, clock: list, pending: list) -> None:
    """Add the time since ``clock[0]`` to the state's seconds and fold the pending losses."""
    now = time.monotonic()
    st.seconds += now - clock[0]
    clock[0] = now
    _fold(st, pending)


# ---------------------------------------------------------------------------------------------
# checks, the stopping rule, files
# ---------------------------------------------------------------------------------------------
def _check(run: _Run, st: _State, partial: bool) -> dict:
    """Validate, update the stopping state (unless `partial`: a check off the schedule, where
    the budget ended), write the checkpoints and the history."""
    tc = run.tc
    loss, probs = _validate(run.net if run.world == 1 else run.model, run.valid, run.device,
                            max(tc.batch_size, 256), run.amp, run.rank, run.world, run.objective)
    pr = target_aucs(run.valid_labels, probs).pr_auc
    samples = st.step * tc.batch_size * run.world
    epochs = st.epoch + st.batch / run.n_batches
    row = {"epoch": int(epochs) if epochs == int(epochs) else round(epochs, 3), "step": st.step, "samples": samples,
           "train_loss": st.loss_sum / max(st.loss_count, 1), "valid_loss": loss, "prior_loss": run.prior_loss,
           "pr_auc": _nanmean(pr), "best": False, "partial": partial, "seconds": round(st.seconds, 3),
           "samples_per_s": round(samples / max(st.seconds, 1e-9), 1), "lr": _learning_rate(run, st)}
    if not partial:
        _update_stopping(run, st, row, pr)
        st.loss_sum, st.loss_count = 0.0, 0
    st.history.append(row)
    if row["best"] or (partial and not math.isfinite(st.best_loss)):    # nothing better yet: `out` holds this
        _save(run, st, run.out, resume=False)
    _save(run, st, run.last, resume=True)
    _write_history(run, st.history)
    _report(row, run.show)
    return row


def _update_stopping(run: _Run, st: _State, row: dict, pr: np.ndarray) -> None:
    """Best loss, patience and plateau counters, leaving the prior, halving the learning rate."""
    tc = run.tc
    if row["valid_loss"] < st.best_loss:
        st.best_loss, st.best_step, st.bad, st.plateau = row["valid_loss"], st.step, 0, 0
        st.best_pr_auc = [None if not np.isfinite(x) else float(x) for x in pr]
        row["best"] = True
    else:
        st.bad += 1
        st.plateau += 1
    if st.left_prior_step < 0 and st.best_loss <= run.prior_loss * (1.0 - tc.prior_margin):
        st.left_prior_step = st.step
    if st.left_prior_step >= 0 and tc.lr_patience and st.plateau >= tc.lr_patience:
        st.lr_scale *= 0.5
        st.plateau = 0


def _should_stop(run: _Run, st: _State) -> bool:
    """Patience is spent and the model has left the label prior (never stop at the prior)."""
    return st.bad >= run.tc.patience and st.left_prior_step >= 0


def _save(run: _Run, st: _State, path: Path, resume: bool, summary: dict | None = None) -> None:
    if run.rank == 0:
        save_checkpoint(path, run.model, targets=run.targets, train_config=run.tc, jaspar=run.jaspar,
                        history=st.history, resume=st.resume_entry(run) if resume else None, summary=summary)


def _write_history(run: _Run, history: list, summary: dict | None = None) -> None:
    if run.rank == 0:
        with atomic_write(history_path(run.out)) as fh:
            for row in history:
                fh.write(json.dumps(row) + "\n")
            if summary is not None:
                fh.write(json.dumps({"summary": summary}) + "\n")


def _nanmean(x) -> float | None:
    x = np.asarray(x, dtype=np.float64)
    return float(np.nanmean(x)) if np.isfinite(x).any() else None


def _report(row: dict, show: bool) -> None:
    """One INFO line on the ``motifq`` logger per validation (written around the progress bar when shown)."""
    from tqdm.contrib.logging import logging_redirect_tqdm

    pr = "NA" if row["pr_auc"] is None else f"{row['pr_auc']:.3f}"
    line = (f"epoch {row['epoch']}{' (partial)' if row['partial'] else ''}  step {row['step']}  "
            f"train {row['train_loss']:.4f}  valid {row['valid_loss']:.4f} (prior {row['prior_loss']:.4f})  "
            f"PR AUC {pr}{'  best' if row['best'] else ''}  {row['samples_per_s']:.0f} samples/s")
    with logging_redirect_tqdm([_log]) if show else contextlib.nullcontext():
        _log.info(line)


# ---------------------------------------------------------------------------------------------
# the summary
# ---------------------------------------------------------------------------------------------
#: A target "stayed at its frequency" when its validation PR AUC is less than this share of the
#: way from its positive rate (a constant predictor's PR AUC) to 1.
AT_FREQUENCY = 0.1


def _at_frequency(pr: np.ndarray, rate: np.ndarray) -> list:
    """Columns whose PR AUC `pr` ((T,), NaN where undefined) is below ``rate + AT_FREQUENCY *
    (1 - rate)`` for their validation positive rates `rate` ((T,)); targets without positives
    or negatives left out."""
    ok = np.isfinite(pr) & (rate > 0) & (rate < 1)
    return [int(j) for j in np.flatnonzero(ok) if pr[j] < rate[j] + AT_FREQUENCY * (1 - rate[j])]


def _summary(run: _Run, st: _State, stopped: str) -> dict:
    tc = run.tc
    best = next((r for r in reversed(st.history) if r["best"]), st.history[-1])
    pr = np.array([np.nan if x is None else x for x in st.best_pr_auc] if st.best_pr_auc else [np.nan] * len(run.targets))
    order = [int(j) for j in np.argsort(np.where(np.isfinite(pr), pr, np.inf), kind="stable")[:5] if np.isfinite(pr[j])]
    samples = st.step * tc.batch_size * run.world
    rate = run.valid_labels.mean(axis=0)
    flat = _at_frequency(pr, rate)
    return {"recipe": tc.recipe, "loss": tc.loss, "stopped": stopped, "steps": st.step, "samples": samples,
            "best_step": best["step"], "best_valid_loss": best["valid_loss"], "prior_loss": run.prior_loss,
            "left_prior": st.left_prior_step >= 0, "left_prior_step": st.left_prior_step if st.left_prior_step >= 0 else None,
            "pr_auc_mean": _nanmean(pr), "worst_pr_auc": [[run.targets[j], float(pr[j])] for j in order],
            "pr_auc": {t: (None if not np.isfinite(x) else float(x)) for t, x in zip(run.targets, pr)},
            "at_frequency": [[run.targets[j], float(pr[j]), float(rate[j])] for j in flat],
            "seconds": round(st.seconds, 3), "samples_per_s": round(samples / max(st.seconds, 1e-9), 1)}


def _finish(run: _Run, st: _State, stopped: str) -> dict:
    """The summary: into the history log and both checkpoints; the at-prior warning."""
    summary = _summary(run, st, stopped)
    _write_history(run, st.history, summary)
    _save(run, st, run.last, resume=True, summary=summary)
    if run.rank == 0 and run.out.exists():
        ckpt = torch.load(run.out, map_location="cpu", weights_only=True)
        ckpt.update(history=st.history, summary=summary)
        with atomic_path(run.out) as tmp:
            torch.save(ckpt, tmp)
    if run.rank == 0:
        lines = summary_lines(summary)
        if not summary["left_prior"]:
            _log.warning(lines.pop(0))           # always, also with progress off
        for line in lines:
            _log.info(line)
    return summary


def summary_lines(summary: dict) -> list[str]:
    """The training summary as a few plain lines (the first a warning when the run ended at the
    label prior).

    Parameters
    ----------
    summary : dict
        ``summary`` of :func:`fit`'s result (also in the checkpoints and the last line of the
        history log): ``stopped``, ``steps``, ``best_step``, ``best_valid_loss``, ``prior_loss``,
        ``left_prior``, ``left_prior_step``, ``pr_auc_mean``, ``worst_pr_auc`` (the five
        targets with the lowest validation PR AUC at the best check), ``pr_auc`` (target ->
        validation PR AUC), ``at_frequency`` ([target, PR AUC, validation positive rate] of the
        targets whose PR AUC stayed within :data:`AT_FREQUENCY` of the way from their positive
        rate to 1; absent from summaries written before it existed), ``seconds``,
        ``samples_per_s``, ``recipe``, ``loss``.

    Returns
    -------
    list of str
    """
    s = summary
    lines = []
    if not s["left_prior"]:
        lines.append(f"warning: training ended at the label prior (best validation loss {s['best_valid_loss']:.4f}, "
                     f"the prior's {s['prior_loss']:.4f}): the model learned nothing; try a longer budget (--epochs, "
                     f"--max-steps), another --lr, --loss focal, or check that the labels follow from the sequences")
    gain = 100 * (1 - s["best_valid_loss"] / s["prior_loss"]) if s["prior_loss"] > 0 else 0.0
    left = f"left the prior at step {s['left_prior_step']}" if s["left_prior"] else "never left the prior"
    lines.append(f"stopped ({s['stopped']}) at step {s['steps']}; best step {s['best_step']}: validation loss "
                 f"{s['best_valid_loss']:.4f} against the label prior's {s['prior_loss']:.4f} ({gain:.1f}% below it; {left})")
    mean = "NA" if s["pr_auc_mean"] is None else f"{s['pr_auc_mean']:.3f}"
    worst = ", ".join(f"{t} {v:.3f}" for t, v in s["worst_pr_auc"]) or "none"
    lines.append(f"validation PR AUC at the best step: mean {mean}; lowest: {worst}")
    flat = s.get("at_frequency") or []
    if s["left_prior"] and flat:
        names = ", ".join(f"{t} {v:.3f} ({100 * r:.1f}% positive)" for t, v, r in flat[:8])
        more = f" and {len(flat) - 8} more" if len(flat) > 8 else ""
        lines.append(f"{len(flat)} of {len(s['pr_auc'])} targets stayed at their frequency (validation PR AUC less than "
                     f"{AT_FREQUENCY:.0%} of the way from their positive rate to 1): {names}{more}; the model does not "
                     f"predict them: their labels may not follow from the sequence, or the other targets crowd "
                     f"them out (a model trained on their labels alone may learn them; docs/training.md)")
    lines.append(f"{s['seconds']:.0f} s, {s['samples_per_s']:.0f} samples/s ({s['recipe']} recipe, {s['loss']} loss)")
    return lines

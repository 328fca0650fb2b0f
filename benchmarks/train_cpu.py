"""CPU training step, batch 100, full-size DanQ on 1000-bp input: motifq vs a plain PyTorch DanQ.

Both are timed in the same process, in alternating rounds (so a change in machine load hits both
alike), with the same optimizer (RMSprop, lr 1e-3) and loss (mean BCE with logits over 919 targets).

* motifq: :func:`motifq.train.train_step` exactly as ``fit`` runs it: uint8 tokens -> reverse-
  complement augmentation -> one-hot on the device -> ``build_model(danq)`` -> loss -> step.
* reference: Conv1d(4, 320, 26) -> ReLU -> MaxPool1d(13) -> Dropout(0.2) ->
  bidirectional nn.LSTM(320, 320, batch_first=True) on (batch, steps, features) -> Dropout(0.5) ->
  Linear(48000, 925) -> ReLU -> Linear(925, 919), fed a precomputed float one-hot batch.

Usage::

    PYTHONPATH=. python benchmarks/train_cpu.py [--rounds 5] [--steps 4] [--threads 2,1]
        [--out benchmarks/results/train_cpu.md]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motifq.config import ModelConfig  # noqa: E402
from motifq.models import build_model, one_hot_tokens  # noqa: E402
from motifq.train import make_optimizer, train_step  # noqa: E402
from motifq.config import TrainConfig  # noqa: E402


class ReferenceDanQ(nn.Module):
    def __init__(self, n_targets=919):
        super().__init__()
        self.conv = nn.Conv1d(4, 320, 26)
        self.pool = nn.MaxPool1d(13, 13)
        self.drop1 = nn.Dropout(0.2)
        self.lstm = nn.LSTM(320, 320, batch_first=True, bidirectional=True)
        self.drop2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(75 * 640, 925)
        self.fc2 = nn.Linear(925, n_targets)

    def forward(self, x):
        h = self.drop1(self.pool(F.relu(self.conv(x))))
        h, _ = self.lstm(h.transpose(1, 2))
        h = self.drop2(h).flatten(1)
        return self.fc2(F.relu(self.fc1(h)))


def _loadavg():
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def run(threads, rounds, steps, B):
    torch.set_num_threads(threads)
    L, T = 1000, 919
    rng = np.random.default_rng(0)
    tokens = torch.from_numpy(rng.integers(0, 4, (B, L), dtype=np.uint8))
    labels = torch.from_numpy((rng.random((B, T)) < 0.02).astype(np.uint8))
    flips = torch.from_numpy(rng.random(B) < 0.5)
    device = torch.device("cpu")

    torch.manual_seed(0)
    ours = build_model(ModelConfig.for_kind("danq")).train()
    ours_opt = make_optimizer(ours, TrainConfig())
    ref = ReferenceDanQ(T).train()
    ref_opt = torch.optim.RMSprop(ref.parameters(), lr=1e-3)
    x_ref = one_hot_tokens(tokens)
    y_ref = labels.float()

    def step_ours():
        float(train_step(ours, ours_opt, tokens, labels, flips, device))

    def step_ref():
        loss = F.binary_cross_entropy_with_logits(ref(x_ref), y_ref)
        ref_opt.zero_grad(set_to_none=True)
        loss.backward()
        ref_opt.step()

    load_before = _loadavg()
    step_ours(), step_ref()          # warm-up
    rates = {"motifq": [], "reference": []}
    for r in range(rounds):
        for name, fn in (("motifq", step_ours), ("reference", step_ref)) if r % 2 == 0 else \
                        (("reference", step_ref), ("motifq", step_ours)):
            t = time.perf_counter()
            for _ in range(steps):
                fn()
            rates[name].append(steps * B / (time.perf_counter() - t))
        print(f"{threads} threads, round {r + 1}: motifq {rates['motifq'][-1]:.1f}  "
              f"reference {rates['reference'][-1]:.1f} samples/s", flush=True)
    load_after = _loadavg()
    med = {k: statistics.median(v) for k, v in rates.items()}
    ratios = [a / b for a, b in zip(rates["motifq"], rates["reference"])]
    return [
        f"## {threads} torch thread{'s' if threads > 1 else ''}",
        "",
        "| | median samples/s | all rounds |",
        "| --- | --- | --- |",
        f"| motifq `train_step` | {med['motifq']:.1f} | {', '.join(f'{v:.1f}' for v in rates['motifq'])} |",
        f"| reference PyTorch DanQ | {med['reference']:.1f} | {', '.join(f'{v:.1f}' for v in rates['reference'])} |",
        f"| ratio motifq / reference | **{statistics.median(ratios):.2f}x** (median of per-round ratios) | "
        f"{', '.join(f'{v:.2f}' for v in ratios)} |",
        "",
        f"Load average (1, 5, 15 min) before: {', '.join(f'{v:.2f}' for v in load_before)}; "
        f"after: {', '.join(f'{v:.2f}' for v in load_after)}.",
        "",
    ]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=4, help="steps per model per round")
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--threads", default=str(torch.get_num_threads()),
                    help="comma-separated torch thread counts to measure (default: torch's default)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "train_cpu.md"))
    args = ap.parse_args(argv)
    lines = [
        "# CPU training step: motifq DanQ vs a plain PyTorch DanQ",
        "",
        f"Full-size `danq` (46.9 M parameters), 1000 bp, 919 targets, batch {args.batch_size}, RMSprop, fp32; "
        f"{args.rounds} alternating rounds of {args.steps} steps per model after one warm-up step each. "
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}. The machine was "
        "shared with other jobs (see the load averages, > 2 means more runnable work than cores): absolute "
        "figures depend on that load, the ratio much less.",
        "",
    ]
    for threads in (int(t) for t in args.threads.split(",")):
        lines += run(threads, args.rounds, args.steps, args.batch_size)
    lines += [
        "This run measured the CPU only (the machine had no GPU); "
        "`benchmarks/train_gpu.py` measures GPU throughput.",
        "",
        f"Command: `PYTHONPATH=. python benchmarks/train_cpu.py --rounds {args.rounds} --steps {args.steps} "
        f"--threads {args.threads}`",
        "",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

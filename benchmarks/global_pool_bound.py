"""What the simulated data allow: a position-invariant motif detector on the same data and budget.

Not a motifq model: one convolution layer (64 kernels of width 26, ReLU), the maximum of each
kernel over the whole sequence (global max pooling: a motif counts the same wherever it is),
dropout 0.2 and a linear layer to the targets. It is what a PWM scan can express, and so a bound
of a different kind than DanQ (pooling over 13 bp, then position-specific weights through the
BiLSTM and the flattened dense layer): where this model learns a target and DanQ does not, the
data hold the signal and DanQ's training is what misses it; where neither learns a target within
the budget, the data are too thin for it at that budget.

Trained as ``benchmarks/train_recipes.py`` trains its rows: AdamW 3e-3 (weight decay 0.01),
minibatches of 100, reverse-complement augmentation, the same fixed budget of samples (default
300,000), seed 0, one torch thread; test PR AUC per target of the sigmoid of the mean of the
forward and reverse-complement logits (motifq.models.predict averages the two probabilities
instead; both are strand-symmetric).

Usage: PYTHONPATH=. python benchmarks/global_pool_bound.py [--n-train 12000] [--length 1000]
Writes benchmarks/results/global_pool_bound.md.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from motifq.data.simulate import simulate, target_kinds  # noqa: E402
from motifq.metrics import target_aucs  # noqa: E402
from motifq.models import one_hot_tokens  # noqa: E402
from motifq.sequence import reverse_complement_one_hot as _rc  # noqa: E402  (N, 4, L), A, C, G, T

RESULTS = ROOT / "benchmarks" / "results" / "global_pool_bound.md"


class GlobalMaxPool(torch.nn.Module):
    """(N, 4, L) one-hot, A, C, G, T -> (N, T) logits: conv, ReLU, max over positions, linear."""

    def __init__(self, n_targets: int, kernels: int = 64, width: int = 26):
        super().__init__()
        self.conv = torch.nn.Conv1d(4, kernels, width)
        self.drop = torch.nn.Dropout(0.2)
        self.out = torch.nn.Linear(kernels, n_targets)

    def forward(self, x):
        return self.out(self.drop(torch.relu(self.conv(x)).amax(dim=2)))


def train(model, tokens, labels, steps: int, batch: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    y_all = torch.as_tensor(labels.astype(np.float32))
    for _ in range(steps):
        i = rng.integers(0, len(tokens), batch)
        x = one_hot_tokens(torch.as_tensor(np.asarray(tokens[i])))
        if rng.random() < 0.5:
            x = _rc(x)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y_all[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@torch.no_grad()
def predict(model, tokens, batch: int = 500):
    model.eval()
    out = []
    for j in range(0, len(tokens), batch):
        x = one_hot_tokens(torch.as_tensor(np.asarray(tokens[j:j + batch])))
        out.append(torch.sigmoid((model(x) + model(_rc(x))) / 2).numpy())
    return np.concatenate(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-train", type=int, default=12000)
    ap.add_argument("--length", type=int, default=1000)
    ap.add_argument("--budget", type=int, default=300_000, metavar="SAMPLES")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    sim = simulate(args.n_train, 1000, 3000, length=args.length, seed=0)
    tr, te = sim.splits["train"], sim.splits["test"]
    kinds = target_kinds(sim.rules)
    model = GlobalMaxPool(tr.n_targets)
    t0 = time.perf_counter()
    train(model, tr.tokens, tr.labels(), args.budget // 100, 100)
    seconds = time.perf_counter() - t0
    aucs = target_aucs(te.labels(), predict(model, te.tokens))
    freq = te.labels().mean(axis=0)
    rows = [f"| {t} | {kinds[t]} | {f:.3f} | {a:.3f} |" for t, f, a in zip(te.targets, freq, aucs.pr_auc)]
    lines = [
        "# A position-invariant bound on the simulated data", "",
        f"Command: `PYTHONPATH=. python benchmarks/global_pool_bound.py --n-train {args.n_train} --length "
        f"{args.length} --budget {args.budget}` ({platform.machine()}, one torch thread, {seconds:.0f} s of "
        f"training). Data: `motifq simulate --n-train {args.n_train} --n-valid 1000 --n-test 3000 --length "
        f"{args.length}` (seed 0). Model: 64 kernels of width 26, ReLU, global max pooling, dropout 0.2, "
        f"linear; AdamW 3e-3, minibatches of 100, {args.budget:,} samples. Compare with the DanQ rows of "
        "`train_recipes.md` on the same data and budget (their `pr_auc_targets` in `train_recipes.json`).", "",
        "| target | kind | test frequency | test PR AUC |", "| --- | --- | --- | --- |", *rows, ""]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

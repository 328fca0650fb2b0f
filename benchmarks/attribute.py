"""Benchmark: attributions on a trained DanQ against the planted ground truth, and ISM speed.

Stages (one run does all of them; the trained model and data are cached under
``benchmarks/_work/`` so reruns skip training):

1. simulate the quickstart's data (60,000 / 2,000 / 4,000 sequences of 300 bp, seed 0) and train
   its small DanQ with the recipe known to learn (PyTorch's default initialisation, Adam at 3e-3,
   minibatches of 64, dropout 0.1 / 0.3, 12,000 steps: ``motifq.quickstart.SIZES["small"]``);
2. science: for test sequences positive for each presence target, the AUROC of the per-position
   |attribution| (summed over the four bases) for the positions of that target's planted
   instances; mean over sequences, per method;
3. discover: seqlets -> motifs from the ISM attributions, matched to JASPAR 2024; how many of the
   8 planted motifs are recovered at E < 0.01, beside the kernels' recovery (quickstart-style);
4. speed: :func:`motifq.attribute.ism` against tangermeme's ``saturation_mutagenesis`` on the
   same model and sequences (same numbers to 1e-5), the ratio from the same run.

Usage::

    PYTHONPATH=. python benchmarks/attribute.py [--threads 1] [--train-only]

Writes ``benchmarks/results/attribute.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"


def train_model(work: Path, seed: int = 0):
    """Simulate the quickstart data and train its small DanQ once; return the checkpoint path."""
    from motifq.config import ModelConfig, TrainConfig
    from motifq.data.dataset import open_split
    from motifq.data.simulate import simulate, write_simulation
    from motifq.quickstart import SIZES
    from motifq.train import fit

    s = SIZES["small"]
    data, ckpt = work / "data", work / "danq.pt"
    if not (data / "dataset.json").is_file():
        write_simulation(simulate(s["n_train"], s["n_valid"], s["n_test"], length=s["length"], seed=seed), data)
    if ckpt.is_file():
        return data, ckpt
    train, valid = open_split(data, "train"), open_split(data, "valid")
    mc = ModelConfig.for_kind("danq", n_targets=train.n_targets, length=train.length, conv_kernels=s["kernels"],
                              conv_width=s["width"], pool=s["pool"], lstm_units=s["lstm"], dense=s["dense"],
                              init=s["init"], dropouts=s["dropouts"])
    epochs = max(1, -(-s["steps"] * s["batch_size"] // len(train)))
    tc = TrainConfig(epochs=epochs, max_steps=s["steps"], batch_size=s["batch_size"], optimizer=s["optimizer"],
                     lr=s["learning_rate"], patience=10 ** 6, seed=seed, device="cpu", checkpoint_minutes=0)
    t0 = time.perf_counter()
    fit(mc, train, valid, ckpt, tc, progress=False)
    (work / "train_seconds.txt").write_text(f"{time.perf_counter() - t0:.1f}\n")
    return data, ckpt


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--train-only", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    data, ckpt = train_model(WORK)
    if args.train_only:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

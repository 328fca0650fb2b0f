"""Benchmark: motif extraction (first conv layer only) vs full-model inference, CPU, full-size danq.

Builds an untrained ``danq`` at the published size (320 kernels x 26, 1000 bp, 919 targets),
draws random ACGT sequences (1% N) and times

* ``kernel_sites`` in ``sequence`` mode (the default of ``motifq extract-motifs``),
* ``kernel_sites`` in ``position`` mode (two passes over the data),
* ``models.predict`` forward only (``rc=False``) and with reverse-complement averaging
  (``rc=True``, what ``motifq evaluate`` runs),

each as sequences per second after one warm-up batch. Goal: extraction at least 5x faster than
the forward-only inference. Writes ``benchmarks/results/extract.md``.

Usage::

    PYTHONPATH=. python benchmarks/extract.py [--n 2000] [--threads 2] [--device cpu]
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from motifq.config import ModelConfig
from motifq.extract import kernel_sites
from motifq.models import build_model, predict


def _rate(fn, n, repeats=1):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best, best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="sequences for extraction (default 2000)")
    ap.add_argument("--n-predict", type=int, default=400, help="sequences for inference (default 400)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=int, default=None, help="default: the library's (8 on the CPU, 256 on a GPU)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "extract.md"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    cfg = ModelConfig(kind="danq")  # 320 x 26 conv, 1000 bp, 919 targets
    model = build_model(cfg).eval().to(args.device)
    tokens = rng.integers(0, 4, size=(args.n, cfg.length)).astype(np.uint8)
    tokens[rng.random(tokens.shape) < 0.01] = 4
    conv = model.conv

    kernel_sites(conv, tokens[:256], batch_size=args.batch_size, device=args.device)  # warm-up
    seq_rate, seq_s = _rate(lambda: kernel_sites(conv, tokens, batch_size=args.batch_size, device=args.device), args.n)
    pos_rate, pos_s = _rate(lambda: kernel_sites(conv, tokens, mode="position", batch_size=args.batch_size,
                                                 device=args.device), args.n)
    ptoks = tokens[:args.n_predict]
    predict(model, ptoks[:50], batch_size=50, rc=False, device=args.device)  # warm-up
    fwd_rate, fwd_s = _rate(lambda: predict(model, ptoks, batch_size=100, rc=False, device=args.device), len(ptoks))
    rc_rate, rc_s = _rate(lambda: predict(model, ptoks, batch_size=100, rc=True, device=args.device), len(ptoks))

    load = os.getloadavg()[0]
    lines = [
        "# Motif extraction vs full-model inference (danq, 320 x 26 kernels, 1000 bp, 919 targets)",
        "",
        f"Command: `PYTHONPATH=. python benchmarks/extract.py --n {args.n} --n-predict {args.n_predict} "
        f"--threads {args.threads} --device {args.device}`",
        f"Machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} threads, device {args.device}, {os.cpu_count()} CPUs with load average {load:.1f} at the end "
        "(a shared machine: absolute rates vary, the ratios are what the goal is about). "
        "Untrained weights, random sequences (1% N).",
        "",
        "| what | sequences | seconds | sequences/s | vs forward inference |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| extract, sequence mode (batch {args.batch_size or 'default'}) | {args.n} | {seq_s:.2f} | {seq_rate:.0f} | {seq_rate / fwd_rate:.1f}x |",
        f"| extract, position mode (two passes) | {args.n} | {pos_s:.2f} | {pos_rate:.0f} | {pos_rate / fwd_rate:.1f}x |",
        f"| full model, forward only (`predict rc=False`, batch 100) | {len(ptoks)} | {fwd_s:.2f} | {fwd_rate:.0f} | 1.0x |",
        f"| full model, forward + reverse complement (`predict rc=True`) | {len(ptoks)} | {rc_s:.2f} | {rc_rate:.0f} | {rc_rate / fwd_rate:.1f}x |",
        "",
        f"Goal: extraction >= 5x forward inference: {'met' if seq_rate >= 5 * fwd_rate else 'NOT met'} "
        f"({seq_rate / fwd_rate:.1f}x). At this rate the DeepSEA test set (455,024 sequences) takes "
        f"{455024 / seq_rate / 60:.0f} min in sequence mode.",
        "",
    ]
    text = "\n".join(lines)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()

"""GPU training throughput for `danq` and `danq-jaspar` (1000 bp, 919 targets), and the implied
time of one 4.4 M-sample DeepSEA epoch.

Two measurements per model and batch size, both bf16 autocast with the cuDNN LSTM, both with
``motifq train``'s default recipe (:class:`motifq.config.TrainConfig` defaults: AdamW, gradient
clipping; the batch size is the one measured):

* ``step``: :func:`motifq.train.train_step` in a loop on uint8 token batches that start on the
  host (pinned) and are moved, reverse-complemented and one-hot encoded on the GPU — the loop
  body of ``fit`` without the data reader;
* ``fit``: :func:`motifq.train.fit` itself for ``--fit-steps`` steps on an in-memory synthetic
  split (background batch reader, progress bookkeeping, validation excluded from the timing).

Needs a CUDA device; not run by the tests. Usage::

    PYTHONPATH=. python benchmarks/train_gpu.py [--batch-sizes 100,500,1000] [--steps 50]
        [--fit-steps 300] [--out benchmarks/results/train_gpu.md]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motifq.config import ModelConfig, TrainConfig  # noqa: E402
from motifq.data.dataset import Split  # noqa: E402
from motifq.models import build_model  # noqa: E402
from motifq.train import fit, make_optimizer, train_step  # noqa: E402

EPOCH = 4_400_000


def bench_step(kind, batch, steps, device):
    torch.manual_seed(0)
    model = build_model(ModelConfig.for_kind(kind)).to(device).train()
    recipe = TrainConfig()
    opt = make_optimizer(model, recipe)
    rng = np.random.default_rng(0)
    batches = [(torch.from_numpy(rng.integers(0, 4, (batch, 1000), dtype=np.uint8)).pin_memory(),
                torch.from_numpy((rng.random((batch, 919)) < 0.02).astype(np.uint8)).pin_memory(),
                torch.from_numpy(rng.random(batch) < 0.5)) for _ in range(4)]
    for i in range(5):                                  # warm-up (cuDNN autotuning)
        train_step(model, opt, *batches[i % 4], device, amp=True, clip_norm=recipe.clip_norm)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for i in range(steps):
        loss = train_step(model, opt, *batches[i % 4], device, amp=True, clip_norm=recipe.clip_norm)
    float(loss)
    torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t)


def bench_fit(kind, batch, steps):
    rng = np.random.default_rng(0)
    n = batch * (steps + 10)
    train = Split.from_arrays(rng.integers(0, 4, (n, 1000), dtype=np.uint8),
                              (rng.random((n, 919)) < 0.02).astype(np.uint8), [f"t{i}" for i in range(919)])
    valid = Split.from_arrays(train.tokens[:batch], train.labels(slice(0, batch)), train.targets)
    with tempfile.TemporaryDirectory() as d:
        r = fit(ModelConfig.for_kind(kind), train, valid, Path(d) / "m.pt",
                TrainConfig(epochs=1, max_steps=steps, batch_size=batch, checkpoint_minutes=0), progress=False)
    return r["history"][-1]["samples_per_s"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-sizes", default="100,500,1000")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--fit-steps", type=int, default=300)
    ap.add_argument("--models", default="danq,danq-jaspar")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "train_gpu.md"))
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        sys.exit("train_gpu.py: no CUDA device")
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    rows = []
    for kind in args.models.split(","):
        for bs in (int(b) for b in args.batch_sizes.split(",")):
            s = bench_step(kind, bs, args.steps, device)
            f = bench_fit(kind, bs, args.fit_steps) if args.fit_steps else float("nan")
            rows.append((kind, bs, s, f))
            print(f"{kind} batch {bs}: step {s:.0f} samples/s, fit {f:.0f} samples/s "
                  f"(epoch {EPOCH / f:.0f} s)", flush=True)
    lines = ["# GPU training throughput (bf16 autocast, cuDNN LSTM, default recipe)", "",
             f"Device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}.", "",
             "| model | batch | train_step samples/s | fit samples/s | one 4.4 M-sample epoch (fit) |",
             "| --- | --- | --- | --- | --- |"]
    lines += [f"| {k} | {b} | {s:.0f} | {f:.0f} | {EPOCH / f:.0f} s |" for k, b, s, f in rows]
    lines += ["", f"Command: `PYTHONPATH=. python benchmarks/train_gpu.py --batch-sizes {args.batch_sizes} "
                  f"--steps {args.steps} --fit-steps {args.fit_steps}`", ""]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

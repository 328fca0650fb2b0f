"""Training recipes on simulated and real data: does ``motifq train`` learn with its defaults?

One run = one model trained once with a fixed seed and a fixed budget of training samples, then:
test-split presence and grammar PR AUC (forward + reverse-complement mean), planted motifs
recovered (the first-layer kernels -> PFMs as the quickstart extracts them, compared with all
879 JASPAR 2024 CORE vertebrate matrices; a planted motif is recovered when some kernel matches
it at E < 0.01), the step where the model left the label prior, and whether the run ended there.

Runs are named ``MODEL:RECIPE[:LOSS]:N_TRAIN:LENGTH`` (simulated data, seed 0, the simulator's
eight motifs and grammar, 1,000 validation and 2,000 test sequences) or ``real:NAME`` (the real
sets beside the project, default recipe). ``paper`` is DanQ as published; with ``rmsprop`` and
U(+-0.05) it is also motifq's defaults before the default recipe existed. Each run appends one
JSON line to ``--log``; ``--report`` turns the log into the results table.

Usage (one torch thread per run; runs in parallel as separate processes)::

    PYTHONPATH=. python benchmarks/train_recipes.py --run danq:default:12000:1000 [--budget 300000]
    PYTHONPATH=. python benchmarks/train_recipes.py --report [--out benchmarks/results/train_recipes.md]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motifq.config import ModelConfig, TrainConfig  # noqa: E402
from motifq.data.dataset import Split  # noqa: E402
from motifq.metrics import target_aucs  # noqa: E402
from motifq.models import load_checkpoint, predict  # noqa: E402
from motifq.train import fit, holdout_split  # noqa: E402

HERE = Path(__file__).resolve().parent
REAL = Path(os.environ.get("MOTIFQ_SHARED", HERE.parent.parent / "shared")) / "reference" / "real_sequences"
SMALL = dict(conv_kernels=64, conv_width=26, pool=13, lstm_units=32, dense=64)
EVALUE = 0.01


def simulated(n_train: int, length: int):
    from motifq.data.simulate import simulate, target_kinds

    sim = simulate(n_train, 1000, 2000, length=length, seed=0)
    return sim.splits["train"], sim.splits["valid"], sim.splits["test"], sim.motifs, target_kinds(sim.rules)


def _fasta_tokens(path, length):
    from motifq.extract import pad_sequences
    from motifq.sequence import read_fasta

    names, seqs = read_fasta(path)
    return pad_sequences([s[:length] for s in seqs], length)


def real(name: str):
    """``oct4_mafk``: janggu's Oct4 and MafK ChIP-seq peaks (200 bp), one target each; the
    rest of each file trains (10 % held out for validation), the ``_test`` files test."""
    check_name = {"oct4_mafk": "janggu_oct4_mafk_200bp"}
    d = REAL / check_name[name]
    parts = {}
    for split, suffix in (("train", ""), ("test", "_test")):
        a, b = _fasta_tokens(d / f"sample{suffix}.fa", 200), _fasta_tokens(d / f"sample2{suffix}.fa", 200)
        y = np.zeros((len(a) + len(b), 2), np.uint8)
        y[:len(a), 0], y[len(a):, 1] = 1, 1
        parts[split] = Split.from_arrays(np.concatenate([a, b]), y, ["Oct4", "MafK"], name=f"{name}:{split}")
    train, valid = holdout_split(parts["train"], 0.1, seed=0)
    return train, valid, parts["test"], [], {"Oct4": "presence", "MafK": "presence"}


def recovered(model, valid, test, planted):
    from motifq.compare import compare
    from motifq.extract import extract_motifs
    from motifq.jaspar import load_motifs

    seqs = np.concatenate([np.asarray(test.tokens), np.asarray(valid.tokens)])
    learned, _, _ = extract_motifs(model.conv.cpu(), seqs, mode="position", threshold=0.7, min_sites=10, trim=0.3)
    if not learned:
        return {m.name: None for m in planted}
    table = compare(learned, load_motifs("jaspar2024"), min_overlap=5, thresh=1.0, evalue=True)
    best = {}
    for m in planted:
        hit = table[table["Target_ID"] == m.id]
        best[m.name] = float(hit["E-value"].min()) if len(hit) else None
    return best


def one_run(spec: str, budget: int, threads: int) -> dict:
    torch.set_num_threads(threads)
    parts = spec.split(":")
    if parts[0] == "real":
        kind, recipe, loss = "danq", "default", "bce"
        train, valid, test, planted, kinds = real(parts[1])
        sized = dict(conv_kernels=64, conv_width=19, pool=9, lstm_units=32, dense=64)
    else:
        kind, recipe = parts[0], parts[1]
        loss = parts[2] if len(parts) == 5 else "bce"
        n_train, length = int(parts[-2]), int(parts[-1])
        train, valid, test, planted, kinds = simulated(n_train, length)
        sized = dict(SMALL, **({"lstm_units": 0} if kind == "cnn" else {}))
    mc = ModelConfig.for_kind(kind, recipe=recipe, n_targets=train.n_targets, length=train.length, **sized)
    tc0 = TrainConfig(recipe=recipe, loss=loss, seed=0, device="cpu", checkpoint_minutes=0)
    tc = TrainConfig(recipe=recipe, loss=loss, seed=0, device="cpu", checkpoint_minutes=0,
                     epochs=max(1, -(-budget // len(train))), max_steps=max(1, budget // tc0.batch_size))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        res = fit(mc, train, valid, Path(d) / "m.pt", tc, progress=False)
        model, _ = load_checkpoint(Path(d) / "m.pt")
    train_s = time.perf_counter() - t0
    p = predict(model, test.tokens, batch_size=500, rc=True)
    aucs = target_aucs(test.labels(), p)
    by_kind: dict = {}
    for j, t in enumerate(test.targets):
        by_kind.setdefault(kinds[t], []).append(float(aucs.pr_auc[j]))
    evalues = recovered(model, valid, test, planted) if planted else {}
    s = res["summary"]
    return {"run": spec, "kind": kind, "recipe": recipe, "loss": loss, "n_train": len(train), "length": train.length,
            "budget": budget, "steps": res["steps"], "stopped": res["stopped"], "left_prior": s["left_prior"],
            "left_prior_step": s["left_prior_step"], "best_step": s["best_step"],
            "best_valid_loss": s["best_valid_loss"], "prior_loss": s["prior_loss"],
            "pr_auc": {k: float(np.nanmean(v)) for k, v in by_kind.items()},
            "roc_auc_mean": float(np.nanmean(aucs.roc_auc)),
            "recovered": sum(e is not None and e < EVALUE for e in evalues.values()), "evalues": evalues,
            "train_seconds": round(train_s, 1), "samples_per_s": s["samples_per_s"],
            "load": os.getloadavg(), "threads": threads}


def _cell(x, fmt="{:.3f}"):
    return "—" if x is None or (isinstance(x, float) and not np.isfinite(x)) else fmt.format(x)


def report(log: Path, out: Path) -> None:
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    lines = ["# train_recipes: what the training recipes learn", "",
             f"Command: `PYTHONPATH=. python benchmarks/train_recipes.py --run SPEC` per row (one torch thread each, "
             f"at most two runs at a time), then `--report`. Machine: {platform.machine()}, {os.cpu_count()} CPUs "
             "shared with other jobs (load average at the end of each run in the last column). Simulated data: "
             "`motifq.data.simulate` seed 0 (8 JASPAR motifs, 8 presence + 2 grammar + 1 cluster + 2 noise "
             "targets), 1,000 validation and 2,000 test sequences. Models: 64 kernels of width 26, pool 13, "
             "BiLSTM 32+32 (danq only), dense 64. Seed 0. A fixed budget of training samples per run.", "",
             "| run | recipe | loss | train seqs x bp | budget (samples) | steps | stopped | left prior at step | "
             "best valid loss / prior | presence PR AUC | grammar PR AUC | motifs recovered (E < 0.01) | "
             "train s | samples/s | load |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        pr = r["pr_auc"]
        rec = f"{r['recovered']} of {len(r['evalues'])}" if r["evalues"] else "—"
        lines.append(f"| {r['run']} | {r['recipe']} | {r['loss']} | {r['n_train']:,} x {r['length']} | {r['budget']:,} | "
                     f"{r['steps']} | {r['stopped']} | {r['left_prior_step'] if r['left_prior'] else '**never**'} | "
                     f"{r['best_valid_loss']:.4f} / {r['prior_loss']:.4f} | {_cell(pr.get('presence'))} | "
                     f"{_cell(pr.get('grammar'))} | {rec} | {r['train_seconds']:.0f} | {r['samples_per_s']:.0f} | "
                     f"{r['load'][0]:.1f} |")
    lines += ["", "E-values of the planted motifs (best kernel per motif; — = no kernel matched):", ""]
    for r in rows:
        if r["evalues"]:
            lines.append(f"- {r['run']}: " + ", ".join(f"{k} {_cell(v, '{:.1g}')}" for k, v in r["evalues"].items()))
    out.write_text("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", action="append", default=[], metavar="SPEC")
    ap.add_argument("--budget", type=int, default=300000, metavar="SAMPLES")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--log", default=str(HERE / "results" / "train_recipes.jsonl"))
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results" / "train_recipes.md"))
    args = ap.parse_args(argv)
    for spec in args.run:
        row = one_run(spec, args.budget, args.threads)
        with open(args.log, "a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
    if args.report:
        report(Path(args.log), Path(args.out))


if __name__ == "__main__":
    main()

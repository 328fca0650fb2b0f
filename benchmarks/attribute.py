"""Benchmark: attributions on a trained DanQ against the planted ground truth, and ISM speed.

Stages (one run does all of them; the trained model and data are cached under
``benchmarks/_work/`` so reruns skip training):

1. simulate the quickstart's data (60,000 / 2,000 / 4,000 sequences of 300 bp, seed 0) and train
   its small DanQ with the recipe known to learn (PyTorch's default initialisation, Adam at 3e-3,
   minibatches of 64, dropout 0.1 / 0.3, 12,000 steps: ``motifq.quickstart.SIZES["small"]``'s sizes);
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

    # the quickstart's data and model sizes with the settings the results file was measured with
    s = dict(SIZES["small"], steps=12000, batch_size=64, optimizer="adam", learning_rate=0.003, init="pytorch")
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


def planted_mask(inst, seqs, motif_id, L):
    """(n, L) bool: positions inside the test-split instances of `motif_id` in sequences `seqs`."""
    row = {int(q): i for i, q in enumerate(seqs)}
    mask = np.zeros((len(seqs), L), dtype=bool)
    sel = (inst["split"] == "test") & (inst["motif"] == motif_id)
    for q, a, b in zip(inst["sequence"][sel], inst["start"][sel], inst["end"][sel]):
        if int(q) in row:
            mask[row[int(q)], a:b] = True
    return mask


def mean_auroc(score, mask):
    """Mean over sequences (with both classes) of the AUROC of `score` for `mask`."""
    from motifq.metrics import roc_auc

    aucs = [roc_auc(m.astype(np.uint8), s) for s, m in zip(score, mask) if 0 < m.sum() < len(m)]
    return float(np.mean(aucs)), len(aucs)


def positives(split, target, n):
    """Indices of the first `n` sequences of `split` labelled 1 for `target`."""
    t = split.targets.index(target)
    return np.flatnonzero(split.labels()[:, t] == 1)[:n]


def science(model, ckpt, test, inst, presence, n_per, methods):
    """Per presence target and method: mean AUROC of |attribution| for the planted positions;
    the ISM attributions kept for discover."""
    from motifq.attribute import attribute, contributions

    rows, kept = [], {}
    for name, motif_id in presence:
        idx = positives(test, name, n_per)
        toks = np.asarray(test.tokens[idx])
        mask = planted_mask(inst, idx, motif_id, toks.shape[1])
        t = ckpt["targets"].index(name)
        for method in methods:
            t0 = time.perf_counter()
            attr, logits = attribute(model, toks, t, method=method)
            dt = time.perf_counter() - t0
            obs, _ = mean_auroc(np.abs(contributions(attr, toks)), mask)
            mx, n_seq = mean_auroc(np.abs(attr).max(1), mask)
            rows.append(dict(target=name, motif=motif_id, method=method, n=n_seq, auroc_observed=obs, auroc_max=mx,
                             seconds=dt))
            if method == "ism":
                kept[name] = (idx, toks, attr, logits, t)
            print(f"  {name:12s} {method:22s} AUROC observed {obs:.3f} max {mx:.3f} ({n_seq} seqs, {dt:.1f} s)",
                  flush=True)
    return rows, kept


def discover_recovery(kept, presence, db):
    """discover on each presence target's ISM attributions; is the planted motif matched at E < 0.01?"""
    from motifq.attribute import Attributions, discover
    from motifq.compare import compare

    rows = []
    for name, motif_id in presence:
        idx, toks, attr, logits, t = kept[name]
        res = Attributions(toks, attr, logits, idx.astype(str), name, t, "ism", "danq")
        t0 = time.perf_counter()
        motifs, _, seqlets = discover(res)
        dt = time.perf_counter() - t0
        best, best_id, top = np.inf, "", ""
        if motifs:
            table = compare(motifs, db, min_overlap=5, thresh=1.0, evalue=True)
            hit = table[table["Target_ID"] == motif_id].sort_values("E-value")
            if len(hit):
                best, best_id = float(hit["E-value"].iloc[0]), hit["Query_ID"].iloc[0]
                top = table[table["Query_ID"] == best_id].sort_values("E-value")["Target_ID"].iloc[0]
        rows.append(dict(target=name, motif=motif_id, seqlets=len(seqlets.seq), motifs=len(motifs), best=best_id,
                         evalue=best, top=top, recovered=best < 0.01, seconds=dt))
        print(f"  discover {name:12s} {len(seqlets.seq)} seqlets, {len(motifs)} motifs, best {best_id} E {best:.2g}",
              flush=True)
    return rows


def modisco_recovery(kept, presence, db):
    """TF-MoDISco-lite (the ``modisco`` package) on the same ISM attributions (hypothetical
    contributions), its defaults except the metacluster size (100 -> 20: 100 sequences a target)."""
    from modiscolite.tfmodisco import TFMoDISco

    from motifq.compare import compare
    from motifq.models import one_hot_tokens
    from motifq.motif import Motif

    rows = []
    for name, motif_id in presence:
        _, toks, attr, _, _ = kept[name]
        oh = one_hot_tokens(torch.as_tensor(toks)).numpy().transpose(0, 2, 1).astype(np.float32)   # (N, L, 4)
        t0 = time.perf_counter()
        pos, neg = TFMoDISco(oh, attr.transpose(0, 2, 1).astype(np.float32), min_metacluster_size=20)
        dt = time.perf_counter() - t0
        motifs = [Motif(f"{sign}_{i}", p.sequence * len(p.seqlets) + 1e-9, nsites=len(p.seqlets))
                  for sign, pats in (("pos", pos), ("neg", neg)) for i, p in enumerate(pats or [])]
        best = np.inf
        if motifs:
            table = compare(motifs, db, min_overlap=5, thresh=1.0, evalue=True)
            hit = table[table["Target_ID"] == motif_id]
            best = float(hit["E-value"].min()) if len(hit) else np.inf
        rows.append(dict(target=name, motifs=len(motifs), evalue=best, recovered=best < 0.01, seconds=dt))
        print(f"  modisco {name:12s} {len(motifs)} motifs, best E {best:.2g} ({dt:.0f} s)", flush=True)
    return rows


def kernel_recovery(model, test, valid, presence, db):
    """The quickstart's rule: Basset-style sites of the DanQ kernels -> PFMs -> JASPAR 2024."""
    from motifq.compare import compare
    from motifq.extract import extract_motifs

    seqs = np.concatenate([np.asarray(test.tokens[:4000]), np.asarray(valid.tokens)])
    motifs, _, _ = extract_motifs(model.conv, seqs, mode="position", threshold=0.7, min_sites=10, trim=0.3)
    table = compare(motifs, db, min_overlap=5, thresh=1.0, evalue=True)
    out = {}
    for _, motif_id in presence:
        hit = table[table["Target_ID"] == motif_id]
        out[motif_id] = float(hit["E-value"].min()) if len(hit) else np.inf
    return out


def speed(model, ckpt, test, target, n):
    """motifq's ism against tangermeme's saturation_mutagenesis on the same sequences."""
    import warnings

    from tangermeme.saturation_mutagenesis import saturation_mutagenesis

    from motifq.attribute import ism
    from motifq.models import one_hot_tokens

    idx = positives(test, target, n)
    toks = np.asarray(test.tokens[idx])
    t = ckpt["targets"].index(target)
    X = one_hot_tokens(torch.as_tensor(toks))
    out = {"n": len(idx), "L": toks.shape[1]}
    t0 = time.perf_counter()
    ours, _ = ism(model, toks, t, rc=False)
    out["motifq"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ism(model, toks, t, rc=True)
    out["motifq_rc"] = time.perf_counter() - t0
    for label, bs in (("tangermeme", 32), ("tangermeme_1024", 1024)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            theirs = saturation_mutagenesis(model, X, target=t, hypothetical=True, device="cpu", batch_size=bs)
            out[label] = time.perf_counter() - t0
        out[label + "_warnings"] = " / ".join(dict.fromkeys(" ".join(str(x.message).split())[:300] for x in w))
        out[label + "_maxdiff"] = float((theirs.float().numpy() - ours).__abs__().max())
        print(f"  speed {label}: {out[label]:.1f} s, max |diff| {out[label + '_maxdiff']:.2g}", flush=True)
    out["scale"] = float(np.abs(ours).max())
    print(f"  speed motifq {out['motifq']:.1f} s (fwd), {out['motifq_rc']:.1f} s (fwd + rc)", flush=True)
    return out


def write_results(path, args, sci, disc, kern, mod, spd, train_s, wall):
    """benchmarks/results/attribute.md."""
    import pandas as pd

    sci = pd.DataFrame(sci)
    lines = ["# Attributions on a trained DanQ: planted-motif ground truth, motifs from attributions, ISM speed", "",
             f"Command: `PYTHONPATH=. python benchmarks/attribute.py --threads {args.threads} --n {args.n} "
             f"--n-speed {args.n_speed}{' --no-modisco' if args.no_modisco else ''}` ({wall / 60:.1f} min in all, training {'cached' if train_s is None else f'{train_s:.0f} s'}). "
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other jobs (load average "
             f"{os.getloadavg()[0]:.1f} at the end), torch {torch.__version__}, {args.threads} thread(s); "
             "every figure is CPU.", "",
             "Model: the quickstart's small DanQ (64 kernels x 24, pool 13, BiLSTM 32+32, dense 64, dropout 0.1 / 0.3, "
             "PyTorch's default initialisation, Adam 3e-3, 12,000 minibatches of 64) trained on the quickstart's "
             "simulated data (seed 0; 60,000 training sequences of 300 bp, eight JASPAR 2024 motifs planted). "
             "Attributions of each presence target's reverse-complement mean logit on the first "
             f"{args.n} test sequences labelled positive for it.", "",
             "## Planted positions ranked by |attribution| (goal: mean AUROC >= 0.9 for ISM)", "",
             "Per sequence, the AUROC of the per-position |attribution| for the positions inside that target's planted "
             "instances (instances.tsv) against every other position; mean over the sequences. *observed*: "
             "the attribution at the observed base (what `discover` uses); *max*: the largest |attribution| of the "
             "four bases.", "",
             "| method | mean AUROC (observed) | mean AUROC (max over bases) | seconds (8 targets) |",
             "| --- | --- | --- | --- |"]
    for method, g in sci.groupby("method", sort=False):
        lines.append(f"| {method} | {g.auroc_observed.mean():.3f} | {g.auroc_max.mean():.3f} | {g.seconds.sum():.1f} |")
    lines += ["", "Per target (ISM):", "", "| target | motif | sequences | AUROC observed | AUROC max |", "| --- | --- | --- | --- | --- |"]
    for r in sci[sci.method == "ism"].itertuples():
        lines.append(f"| {r.target} | {r.motif} | {r.n} | {r.auroc_observed:.3f} | {r.auroc_max:.3f} |")
    n_disc = sum(r["recovered"] for r in disc)
    n_kern = sum(e < 0.01 for e in kern.values())
    n_mod = sum(r["recovered"] for r in mod) if mod else None
    lines += ["", f"## Motifs from attributions (goal: >= 7 of 8 at E < 0.01): discover {n_disc}/8, kernels {n_kern}/8"
              + (f", TF-MoDISco-lite {n_mod}/8" if mod else ""), "",
              "`discover` with its defaults (window 20, Laplace-null FDR 0.05, similarity 0.6, >= 20 seqlets) on each "
              "target's ISM attributions; a planted motif is recovered when a discovered motif matches it at "
              "E < 0.01 against all 879 JASPAR 2024 CORE vertebrate matrices (Pearson, overlap >= 5). The kernels' "
              "column is the quickstart's rule on the same model (Basset-style sites at 0.7 of each kernel's maximum "
              "over 4,000 test + 2,000 validation sequences).", "",
              "TF-MoDISco-lite (`modisco` package, its defaults except `min_metacluster_size=20`) ran on the same "
              "attributions (as hypothetical contributions) in the same run.", "",
              "| target | seqlets | motifs | best discovered motif | E-value | its top JASPAR match | kernels' best E "
              "| TF-MoDISco-lite: motifs, best E, seconds | discover seconds |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    mods = {r["target"]: r for r in mod or []}
    for r in disc:
        m = mods.get(r["target"])
        lines.append(f"| {r['target']} ({r['motif']}) | {r['seqlets']} | {r['motifs']} | {r['best'] or '-'} | "
                     f"{r['evalue']:.2g} | {r['top'] or '-'} | {kern[r['motif']]:.2g} | "
                     + (f"{m['motifs']}, {m['evalue']:.2g}, {m['seconds']:.0f} |" if m else "- |") + f" {r['seconds']:.1f} |")
    ratio = spd["motifq"] / min(spd["tangermeme"], spd["tangermeme_1024"])
    lines += ["", f"## ISM speed against tangermeme (goal <= 1.0x): {ratio:.2f}x", "",
              f"{spd['n']} CTCF-positive test sequences of {spd['L']} bp, every substitution ({3 * spd['L']} mutants "
              "each), one target, forward strand only (what tangermeme computes), the same model, same process, one "
              "thread. tangermeme's `saturation_mutagenesis(model, X, target=t, hypothetical=True)` (fast=True, its "
              "default) at its default batch of 32 and at 1,024; motifq's `ism(..., rc=False)` at its default "
              "batch of 1,024 mutants.", "",
              "| run | seconds | max abs difference from motifq |", "| --- | --- | --- |",
              f"| motifq ism, forward strand | {spd['motifq']:.2f} | - |",
              f"| tangermeme, batch 32 | {spd['tangermeme']:.2f} | {spd['tangermeme_maxdiff']:.2g} |",
              f"| tangermeme, batch 1024 | {spd['tangermeme_1024']:.2f} | {spd['tangermeme_1024_maxdiff']:.2g} |",
              f"| motifq ism, forward + reverse complement (its default) | {spd['motifq_rc']:.2f} | - |", "",
              f"Ratio motifq / tangermeme's faster run: **{ratio:.2f}x**; the largest attribution is {spd['scale']:.3g} "
              f"in absolute value, so the numbers agree to {max(spd['tangermeme_maxdiff'], spd['tangermeme_1024_maxdiff']):.1g} "
              "(goal 1e-5)."]
    lines += ["", "tangermeme chooses by itself whether to use its fastISM path (`torch.export` capture; tried only "
              "for a job it expects to take over 30 s). Warnings raised during its calls, verbatim:"]
    for k, label in (("tangermeme_warnings", "batch 32"), ("tangermeme_1024_warnings", "batch 1024")):
        lines.append(f"- {label}: {spd[k] or 'none'}")
    Path(path).write_text("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n", type=int, default=100, help="positive test sequences per presence target (default 100)")
    ap.add_argument("--n-speed", type=int, default=64, help="sequences for the speed comparison (default 64)")
    ap.add_argument("--methods", default="ism,saliency,input-x-gradient,integrated-gradients")
    ap.add_argument("--no-modisco", action="store_true", help="leave out the TF-MoDISco-lite comparison")
    ap.add_argument("--train-only", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results" / "attribute.md"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    cached = (WORK / "danq.pt").is_file()
    data, ckpt_path = train_model(WORK)
    if args.train_only:
        return 0
    from motifq.data.dataset import open_split
    from motifq.data.simulate import read_truth, target_kinds
    from motifq.jaspar import load_motifs
    from motifq.models import load_checkpoint

    model, ckpt = load_checkpoint(ckpt_path)
    test, valid = open_split(data, "test"), open_split(data, "valid")
    _, rules, inst = read_truth(data)
    kinds = target_kinds(rules)
    presence = [(r["name"], r["motif"]) for r in rules["targets"] if kinds[r["name"]] == "presence"]
    db = load_motifs("jaspar2024")
    print("science", flush=True)
    sci, kept = science(model, ckpt, test, inst, presence, args.n, args.methods.split(","))
    print("discover", flush=True)
    disc = discover_recovery(kept, presence, db)
    kern = kernel_recovery(model, test, valid, presence, db)
    mod = None if args.no_modisco else modisco_recovery(kept, presence, db)
    print("speed", flush=True)
    spd = speed(model, ckpt, test, "CTCF", args.n_speed)
    train_s = None if cached else float((WORK / "train_seconds.txt").read_text())
    write_results(args.out, args, sci, disc, kern, mod, spd, train_s, time.perf_counter() - t_start)
    (WORK / "attribute.json").write_text(json.dumps(dict(science=sci, discover=disc, kernels=kern, modisco=mod, speed=spd),
                                                    default=float, indent=1))
    print(Path(args.out).read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

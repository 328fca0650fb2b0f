"""Benchmark ``score-variants`` on the simulated genome: does a DanQ trained on the dataset that
``build-dataset`` makes from that genome rank variants that break planted sites above neutral
ones, does ``--annotate`` name the planted motif, and how fast is the batched scorer against a
plain per-variant loop over the same model, in one run.

Steps (genome, dataset and model are cached in benchmarks/_work/variants/):

1. ``simulate_genome`` (5 chromosomes, chr1 --chrom-length bp, 3.75 times that in all; 400 SNVs:
   half break a planted instance, half neutral; plus indels, a multi-allelic record and REF
   mismatches).
2. ``build_dataset`` on it: DeepSEA's rule with 200-bp bins and --window-bp windows, the
   simulation's blacklist, chr4 validation, chr5 test (never trained on), and as many GC-matched
   negatives (bins no peak touches) as there are training bins.
3. A DanQ of the quickstart's small size (64 kernels x 24, pool 13, BiLSTM 32 + 32, dense 64,
   dropout 0.1 / 0.3) trained with motifq's default recipe (``TrainConfig()``: nothing but the
   budget set; the budget is --steps minibatches, as ``epochs`` epochs rounded up), one thread.
4. ``score_vcf`` with ``--annotate truth/motifs.meme`` on the simulated VCF: AUROC of
   ``|max_logit_diff|`` for break vs neutral alleles (all chromosomes, and chr4 + chr5 only),
   and the fraction of break alleles whose ``motif`` is the planted one.
5. Speed on a VCF of --n-speed random SNVs: ``score_vcf`` (batched, streamed) vs a loop that
   builds each allele's two windows and calls ``models.predict`` on them alone.

Writes benchmarks/results/score_variants.md.

Usage: OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/score_variants.py [--steps 10000] [--n-speed 2000]
       [--chrom-length 2000000] [--window-bp 400] [--train-only]
       [--start-from STEPS]   (continue a cached shorter run; the training time reported is the sum)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORK = ROOT / "benchmarks" / "_work" / "variants"
RESULTS = ROOT / "benchmarks" / "results" / "score_variants.md"
BIN = 200
#: The quickstart's small DanQ (motifq/quickstart.py, size "small").
SMALL = dict(conv_kernels=64, conv_width=24, pool=13, lstm_units=32, dense=64, dropouts=(0.1, 0.3))


def make_genome(chrom_length: int, seed: int = 0) -> Path:
    from motifq.data.simulate_genome import simulate_genome, write_genome_simulation

    out = WORK / f"genome_{chrom_length}"
    if not (out / "genome.fa.fai").exists():
        sim = simulate_genome(n_chroms=5, chrom_length=chrom_length, n_variants=400, seed=seed)
        write_genome_simulation(sim, out)
    return out


def make_dataset(folder: Path, window: int) -> Path:
    """The dataset ``motifq build-dataset`` makes (see the module docstring), cached."""
    from motifq.data.build import DatasetOptions, build_dataset
    from motifq.data.genome import peak_files

    out = folder / f"dataset_{window}"
    if not (out / "dataset.json").exists():
        peaks = peak_files(table=folder / "peaks.tsv")
        first = build_dataset(folder / "genome.fa", peaks, out, DatasetOptions(
            bin_size=BIN, window=window, valid=["chr4"], test=["chr5"], blacklist=str(folder / "blacklist.bed")),
            progress=False)
        build_dataset(folder / "genome.fa", peaks, out, DatasetOptions(
            bin_size=BIN, window=window, valid=["chr4"], test=["chr5"], blacklist=str(folder / "blacklist.bed"),
            negatives=first.samples["train"], gc_matched=True), progress=False)
    return out


def settings_key(mc, tc) -> str:
    """A short hash of every model and training setting but the budget (`epochs`, `max_steps`):
    the cached model's name, so a changed default recipe trains a new model instead of reusing
    one trained under the old default, while a longer run can continue a shorter one."""
    recipe = dict(tc.to_dict(), epochs=None, max_steps=None)
    return hashlib.sha256(json.dumps([mc.to_dict(), recipe], sort_keys=True).encode()).hexdigest()[:10]


def train_model(data: Path, steps: int, seed: int = 0, start_from: int | None = None) -> Path:
    from motifq.config import ModelConfig, TrainConfig
    from motifq.data import open_data
    from motifq.train import fit, summary_lines

    train, valid = open_data(data, "train", progress=False), open_data(data, "valid", progress=False)
    mc = ModelConfig.for_kind("danq", n_targets=train.n_targets, length=train.length, **SMALL)
    epochs = max(1, -(-steps * TrainConfig().batch_size // len(train)))
    tc = TrainConfig(epochs=epochs, max_steps=steps, seed=seed, device="cpu", checkpoint_minutes=0)
    key = settings_key(mc, tc)
    path = WORK / f"{data.parent.name}_{data.name}_danq_{key}_{steps}.pt"
    if path.exists():
        return path
    resume = False
    if start_from:                                     # continue a cached shorter run (same data, same seed)
        import shutil

        for suffix in (".pt", ".last.pt", ".history.jsonl"):
            shutil.copy(WORK / f"{data.parent.name}_{data.name}_danq_{key}_{start_from}{suffix}",
                        path.with_name(path.stem + suffix))
        resume = True
    print(f"training on {len(train)} windows, validating on {len(valid)}; {train.n_targets} targets", flush=True)
    result = fit(mc, train, valid, path, tc, resume=resume, progress=False)
    print("\n".join(summary_lines(result["summary"])), flush=True)
    return path


def auroc(pos, neg) -> float:
    from motifq.metrics import roc_auc

    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    return float(roc_auc(y, np.r_[pos, neg]))


def science(model, targets, folder: Path) -> dict:
    import pandas as pd

    from motifq.variants import score_vcf

    out = WORK / "effects.tsv"
    t0 = time.perf_counter()
    summary = score_vcf(model, folder / "variants.vcf.gz", folder / "genome.fa", out,
                        annotate=str(folder / "truth" / "motifs.meme"), vcf_out=WORK / "annotated.vcf.gz",
                        model_targets=targets)
    seconds = time.perf_counter() - t0
    eff = pd.read_csv(out, sep="\t")
    truth = pd.read_csv(folder / "truth" / "variants_truth.tsv", sep="\t")
    m = eff.merge(truth[["chrom", "pos", "ref", "alt", "effect", "kind", "name", "motif", "targets"]],
                  on=["chrom", "pos", "ref", "alt"], suffixes=("", "_truth"))
    m["abs"] = m["max_logit_diff"].abs()
    res = {"summary": summary, "seconds": seconds, "n": len(m)}
    for label, sel in (("all", np.ones(len(m), bool)), ("held_out", m["chrom"].isin(["chr4", "chr5"]).to_numpy())):
        b = m[sel & (m["effect"] == "break")]
        n = m[sel & (m["effect"] == "neutral")]
        res[label] = {"break": len(b), "neutral": len(n), "auroc": auroc(b["abs"], n["abs"]),
                      "auroc_snv": auroc(b.loc[b["kind"] == "snv", "abs"], n.loc[n["kind"] == "snv", "abs"]),
                      "named": float((b["motif"] == b["name"]).mean()),
                      "median_break": float(b["abs"].median()), "median_neutral": float(n["abs"].median())}
    res["mismatch_rows"] = int((~m["ref_match"]).sum())
    neutral = m.loc[m["effect"] == "neutral", "abs"]
    breaks = m[m["effect"] == "break"]
    res["by_motif"] = {name: {"n": len(b), "auroc": auroc(b["abs"], neutral), "median": float(b["abs"].median()),
                              "targets": sorted({t for ts in b["targets"] for t in str(ts).split(",")})}
                       for name, b in breaks.groupby("name")}
    return res


def motif_baseline(data: Path, folder: Path) -> dict:
    """Validation PR AUC of each presence target scored by the best log-odds site (both strands) of
    its planted motif in the window: what the motif alone tells about the labels."""
    from motifq.data import open_data
    from motifq.formats import read_meme
    from motifq.metrics import average_precision

    split = open_data(data, "valid", progress=False)
    tokens = np.asarray(split.tokens)
    onehot = np.eye(5, 4, dtype=np.float32)[tokens]
    onehot[tokens == 4] = 0.25
    out = {}
    for motif in read_meme(folder / "truth" / "motifs.meme"):
        target = motif.name.replace("::", "_")
        if target not in split.targets:
            continue
        lo = np.log2((np.asarray(motif.probabilities(), dtype=np.float32) + 0.01) / 1.04 / 0.25)   # (W, 4) ACGT
        width, n_pos = len(lo), tokens.shape[1] - len(lo) + 1
        best = np.full(len(tokens), -np.inf, dtype=np.float32)
        for mat in (lo, lo[::-1, ::-1]):
            score = sum(onehot[:, j:j + n_pos, :] @ mat[j] for j in range(width))        # (N, n_pos)
            best = np.maximum(best, score.max(axis=1))
        y = np.asarray(split.labels())[:, split.targets.index(target)]
        out[target] = float(average_precision(y, best))
    return out


def speed_vcf(folder: Path, n: int, seed: int = 1) -> Path:
    """A sorted VCF of `n` random SNVs away from N runs and chromosome ends."""
    import pysam

    fasta = pysam.FastaFile(str(folder / "genome.fa"))
    rng = np.random.default_rng(seed)
    rows = []
    for chrom in fasta.references:
        size = fasta.get_reference_length(chrom)
        for p in np.sort(rng.choice(np.arange(1000, size - 1000), n // len(fasta.references), replace=False)):
            ref = fasta.fetch(chrom, int(p), int(p) + 1).upper()
            if ref in "ACGT":
                rows.append(f"{chrom}\t{p + 1}\t.\t{ref}\t{'ACGT'[('ACGT'.index(ref) + 1 + rng.integers(3)) % 4]}\t.\t.\t.\n")
    path = WORK / "speed.vcf"
    path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "".join(rows))
    return path


def loop(model, vcf: Path, genome: Path) -> int:
    """The plain way: one allele at a time, its two windows through ``models.predict`` alone."""
    from motifq.data.genome import open_genome
    from motifq.models import predict
    from motifq.variants import allele_windows, read_records, split_alleles

    fasta = open_genome(genome)
    n = 0
    for chunk in read_records(vcf):
        for allele in split_alleles(chunk):
            w = allele_windows(fasta, [allele], model.config.length)
            predict(model, np.concatenate([w.ref, w.alt]), batch_size=2)
            n += 1
    return n


def speed(model, targets, folder: Path, n: int) -> dict:
    from motifq.variants import score_vcf

    vcf = speed_vcf(folder, n)
    res = {}
    t0 = time.perf_counter()
    s = score_vcf(model, vcf, folder / "genome.fa", WORK / "speed.tsv", model_targets=targets)
    res["batched_s"] = time.perf_counter() - t0
    res["n"] = s["scored"]
    t0 = time.perf_counter()
    score_vcf(model, vcf, folder / "genome.fa", WORK / "speed_annot.tsv", model_targets=targets,
              annotate=str(folder / "truth" / "motifs.meme"))
    res["annotated_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    loop(model, vcf, folder / "genome.fa")
    res["loop_s"] = time.perf_counter() - t0
    return res


def report(sci: dict, spd: dict, args, data: Path, summary: dict) -> str:
    import json

    import torch

    a, h = sci["all"], sci["held_out"]
    meta = json.loads((data / "dataset.json").read_text())

    def rate(seconds):
        return spd["n"] / seconds

    gain = 100 * (1 - summary["best_valid_loss"] / summary["prior_loss"])
    lines = [
        "# score-variants: effects of planted-site breaks vs neutral variants, and speed",
        "",
        "`OMP_NUM_THREADS=1 nice -n 10 PYTHONPATH=. python benchmarks/score_variants.py "
        f"--steps {args.steps} --n-speed {args.n_speed} --chrom-length {args.chrom_length} --window-bp {args.window_bp}` "
        f"(one torch thread, CPU only, {platform.machine()}, Python {platform.python_version()}, torch {torch.__version__}; "
        "a 2-core machine shared with other jobs, so times are upper bounds).",
        "",
        f"Genome: `simulate_genome(n_chroms=5, chrom_length={args.chrom_length:_}, n_variants=400, seed=0)` "
        f"({3.75 * args.chrom_length / 1e6:.2f} Mb). Dataset: `build_dataset` with {BIN}-bp bins, {meta['length']}-bp "
        "windows, min-overlap 0.5, the simulation's blacklist, chr4 validation, chr5 test, and as many GC-matched "
        f"negatives as training bins: {meta['splits']['train']:,} train / {meta['splits']['valid']:,} valid / "
        f"{meta['splits']['test']:,} test samples, {len(meta['targets'])} targets. Model: the quickstart's small DanQ "
        "(64 kernels x 24, pool 13, BiLSTM 32 + 32, dense 64, dropout 0.1 / 0.3) trained with motifq's default recipe "
        f"(`TrainConfig(epochs=..., max_steps={args.steps})`, nothing else set): stopped ({summary['stopped']}) at step "
        f"{summary['steps']:,}, best step {summary['best_step']:,}, validation loss {summary['best_valid_loss']:.4f} "
        f"against the label prior's {summary['prior_loss']:.4f} ({gain:.0f} % below), mean validation PR AUC "
        f"{summary['pr_auc_mean']:.3f}; {summary['seconds'] / 60:.1f} min of training.",
        "",
        "## Science: |max_logit_diff| of break vs neutral alleles",
        "",
        "| alleles | break | neutral | AUROC (all kinds) | AUROC (SNVs) | median break | median neutral | `--annotate` names the planted motif |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| all chromosomes | {a['break']} | {a['neutral']} | {a['auroc']:.3f} | {a['auroc_snv']:.3f} | "
        f"{a['median_break']:.3f} | {a['median_neutral']:.3f} | {100 * a['named']:.1f} % |",
        f"| chr4 + chr5 (not trained on) | {h['break']} | {h['neutral']} | {h['auroc']:.3f} | {h['auroc_snv']:.3f} | "
        f"{h['median_break']:.3f} | {h['median_neutral']:.3f} | {100 * h['named']:.1f} % |",
        "",
        f"Goals: AUROC >= 0.9 and the planted motif named for >= 90 % of break alleles. The REF-mismatch "
        f"alleles ({sci['mismatch_rows']}) are listed with `ref_match` False and not scored. "
        f"`--annotate truth/motifs.meme` scans the planted matrices (the user's own motif set); the motif "
        "named is the one whose best log-odds site overlapping the allele changes most.",
        "",
        f"## Speed ({spd['n']} random SNVs, CPU, one thread, same model, same run)",
        "",
        "| how | seconds | variants/s | ratio to the loop |",
        "| --- | --- | --- | --- |",
        f"| `score_vcf` (batched: 256 windows per pass, VCF streamed in chunks of 4096) | {spd['batched_s']:.1f} | "
        f"{rate(spd['batched_s']):.0f} | {spd['loop_s'] / spd['batched_s']:.1f}x |",
        f"| `score_vcf --annotate` (8 motifs + 64 kernels) | {spd['annotated_s']:.1f} | {rate(spd['annotated_s']):.0f} | "
        f"{spd['loop_s'] / spd['annotated_s']:.1f}x |",
        f"| plain loop: one allele's two windows per `models.predict` call | {spd['loop_s']:.1f} | "
        f"{rate(spd['loop_s']):.0f} | 1.0x |",
        "",
        "Both give the same numbers (tests/test_variants.py checks batched == per-variant).",
        "",
        "## Break alleles by planted motif",
        "",
        "AUROC of each motif's break alleles against all neutral alleles, and the validation PR AUC (at the "
        "best step) of the targets whose rule the break removes: where the model has not learned a target, "
        "breaking its sites changes little.",
        "",
        "| planted motif | break alleles | AUROC vs neutral | median \\|max_logit_diff\\| | targets removed (validation PR AUC) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, r in sorted(sci["by_motif"].items(), key=lambda kv: -kv[1]["auroc"]):
        removed = ", ".join(f"{t} ({summary['pr_auc'][t]:.2f})" for t in r["targets"])
        lines.append(f"| {name} | {r['n']} | {r['auroc']:.3f} | {r['median']:.3f} | {removed} |")
    lines += ["", "Are those targets learnable from the windows? Validation PR AUC of each motif's presence target "
              "scored by the best log-odds site of the planted matrix in the window (both strands, no model), "
              "against the trained DanQ's:", "",
              "| target | planted motif's best site | DanQ |", "| --- | --- | --- |"]
    for target, value in sci["baseline"].items():
        lines.append(f"| {target} | {value:.3f} | {summary['pr_auc'][target]:.3f} |")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    import torch

    from motifq.errors import atomic_write
    from motifq.models import load_checkpoint

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--n-speed", type=int, default=2000)
    ap.add_argument("--chrom-length", type=int, default=2_000_000)
    ap.add_argument("--window-bp", type=int, default=400)
    ap.add_argument("--train-only", action="store_true")
    ap.add_argument("--start-from", type=int, metavar="STEPS",
                    help="continue the cached run of this many steps up to --steps (instead of starting over)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    WORK.mkdir(parents=True, exist_ok=True)
    folder = make_genome(args.chrom_length)
    data = make_dataset(folder, args.window_bp)
    path = train_model(data, args.steps, start_from=args.start_from)
    if args.train_only:
        return
    model, ckpt = load_checkpoint(path)
    sci = science(model, ckpt["targets"], folder)
    sci["baseline"] = motif_baseline(data, folder)
    print(sci, flush=True)
    spd = speed(model, ckpt["targets"], folder, args.n_speed)
    print(spd, flush=True)
    text = report(sci, spd, args, data, ckpt["summary"])
    with atomic_write(RESULTS) as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()

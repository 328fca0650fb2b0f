"""Training recipes on simulated and real data: does ``motifq train`` learn with its defaults?

One run = one model trained once with a fixed seed and a fixed budget of training samples, then:
test-split presence and grammar PR AUC (forward + reverse-complement mean), planted motifs
recovered (the first-layer kernels -> PFMs as the quickstart extracts them, compared with all
879 JASPAR 2024 CORE vertebrate matrices; a planted motif is recovered when some kernel matches
it at E < 0.01), the step where the model left the label prior, and whether the run ended there.

Runs are named ``MODEL:RECIPE[:LOSS]:N_TRAIN:LENGTH`` (MODEL ``danq``, ``cnn``, ``danq-jaspar``
with half its kernels seeded from JASPAR 2016 as published, or ``deepsea``, all at the small
sizes of :data:`SMALL_KINDS`; simulated data, seed 0, the simulator's
eight motifs and grammar, 1,000 validation and 3,000 test sequences: the data of
``motifq simulate --n-train N_TRAIN --n-valid 1000 --n-test 3000 --length LENGTH``) or
``real:NAME`` (the real sets beside the project, default recipe; the "planted" motifs are the
JASPAR matrices of the factors that were immunoprecipitated). ``paper`` is DanQ as published;
with ``rmsprop`` and U(+-0.05) it is also motifq's defaults before the default recipe existed.
``v1`` is the first default recipe (:data:`V1`: AdamW at 2e-3, batch 64, warm-up, the dense
layer at ``lr * 64 / fan-in``, output biases at the prior, no k-mer seeding), replaced by
measurement; its rows are kept so the two can be compared. Rows ending ``+kmer_init=0`` are
the default recipe as it was before it seeded kernels from enriched k-mers (the grid was
first measured with it). Rows ending ``+seed_threshold=0`` are the second default recipe:
today's with the seeded kernels' biases drawn from U(-1, 0) as DanQ-JASPAR published, instead of
set at half their best score. Rows with ``+only=TARGET`` train and test one target's labels alone
(same sequences, same recipe): is a target that the multi-task model leaves at its frequency
learnable on its own?

Finished runs are kept in ``--cache`` (a JSON file beside the results, keyed by run and budget),
so the grid can be measured a few runs at a time: ``--grid`` runs every run of the issue's grid
that the cache does not hold yet. ``--report`` writes the results table with every finished run,
the goals checked on them, and the runs not measured yet with the command that measures them.

Usage (one torch thread per run; run two processes at a time on a 2-core machine)::

    PYTHONPATH=. python benchmarks/train_recipes.py --run danq:default:12000:1000 [--budget 300000]
    PYTHONPATH=. python benchmarks/train_recipes.py --grid            # everything not measured yet
    PYTHONPATH=. python benchmarks/train_recipes.py --report
"""
from __future__ import annotations

import argparse
import fcntl
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
# the shared folder beside the repository (or MOTIFQ_SHARED): ../shared/reference/real_sequences
_SHARED = [Path(os.environ["MOTIFQ_SHARED"])] if "MOTIFQ_SHARED" in os.environ else \
    [HERE.parent.parent / "shared", HERE.parent.parent.parent / "shared"]
REAL = next((p for p in _SHARED if p.is_dir()), _SHARED[0]) / "reference" / "real_sequences"
SMALL = dict(conv_kernels=64, conv_width=26, pool=13, lstm_units=32, dense=64)
#: The other kinds at the same small scale: DeepSEA's layers (widths 8, pools 4) with 64, 96 and
#: 128 kernels; DanQ-JASPAR is SMALL with half its kernels seeded from JASPAR 2016 (as published).
SMALL_KINDS = {"danq": SMALL, "cnn": dict(SMALL, lstm_units=0), "danq-jaspar": SMALL,
               "deepsea": dict(conv_kernels=64, conv_width=8, pool=4, lstm_units=0, dense=64,
                               extra_conv_kernels=(96, 128))}
JASPAR_KINDS = {"danq-jaspar": dict(jaspar_init="jaspar2016")}
REAL_SIZE = dict(conv_kernels=64, conv_width=19, pool=9, lstm_units=32, dense=64)
EVALUE = 0.01
BUDGET = 300_000
#: The first default recipe, as overrides of today's (the ``v1`` runs).
V1 = dict(lr=0.002, batch_size=64, warmup=20000, output_bias="prior", dense_fan_in=64, kmer_init=0.0)

# The grid: simulated sizes x lengths x models x recipes, then the losses, then the real sets.
GRID = ([f"{k}:{r}:{n}:{L}" for n in (3000, 12000, 60000) for L in (300, 1000) for k in ("danq", "cnn")
         for r in ("default", "paper")]
        + [f"danq:default:{loss}:{n}:{L}" for n, L in ((3000, 300), (12000, 1000)) for loss in ("weighted", "focal")]
        + ["real:oct4_mafk", "real:ctcf_p73"])


def simulated(n_train: int, length: int):
    from motifq.data.simulate import simulate, target_kinds

    sim = simulate(n_train, 1000, 3000, length=length, seed=0)
    planted = {m.name: [m.id] for m in sim.motifs}
    return sim.splits["train"], sim.splits["valid"], sim.splits["test"], planted, target_kinds(sim.rules)


def _fasta_tokens(path, length):
    from motifq.extract import pad_sequences
    from motifq.sequence import read_fasta

    names, seqs = read_fasta(path)
    return pad_sequences([s[:length] for s in seqs], length)


def _two_classes(a, b, targets, name) -> Split:
    """Sequences of two ChIP-seq experiments as two targets: a's rows (1, 0), b's rows (0, 1)."""
    y = np.zeros((len(a) + len(b), 2), np.uint8)
    y[:len(a), 0], y[len(a):, 1] = 1, 1
    return Split.from_arrays(np.concatenate([a, b]), y, targets, name=name)


def real(name: str):
    """``oct4_mafk``: janggu's Oct4 and MafK ChIP-seq peaks (200 bp), one target each; the
    rest of each file trains (10 % held out for validation), the ``_test`` files test.
    ``ctcf_p73``: GimmeMotifs' example peaks, GM12878 CTCF (top 500) and TAp73alpha (1,000),
    200 bp, one target each; 20 % (seeded) test, 10 % of the rest validation."""
    if name == "oct4_mafk":
        d = REAL / "janggu_oct4_mafk_200bp"
        parts = {split: _two_classes(_fasta_tokens(d / f"sample{sfx}.fa", 200), _fasta_tokens(d / f"sample2{sfx}.fa", 200),
                                     ["Oct4", "MafK"], f"{name}:{split}")
                 for split, sfx in (("train", ""), ("test", "_test"))}
        rest, test = parts["train"], parts["test"]
        expected = {"POU5F1": ["MA1115.2", "MA0142.1"], "MAFK": ["MA0496.4"]}
    elif name == "ctcf_p73":
        d = REAL / "gimmemotifs_examples"
        both = _two_classes(_fasta_tokens(d / "Gm12878.CTCF.top500.w200.fa", 200), _fasta_tokens(d / "TAp73alpha.fa", 200),
                            ["CTCF", "TAp73"], name)
        rest, test = holdout_split(both, 0.2, seed=0)
        expected = {"CTCF": ["MA0139.2", "MA1929.2", "MA1930.2"], "TP73 (or TP53/TP63)": ["MA0861.2", "MA0106.3", "MA0525.2"]}
    else:
        raise SystemExit(f"train_recipes: unknown real set {name!r} (oct4_mafk, ctcf_p73)")
    train, valid = holdout_split(rest, 0.1, seed=0)
    return train, valid, test, expected, {t: "presence" for t in train.targets}


def recovered(model, valid, test, planted: dict) -> dict:
    """Best E-value of any learned motif against each planted motif's JASPAR IDs (None: no match)."""
    from motifq.compare import compare
    from motifq.extract import extract_motifs
    from motifq.jaspar import load_motifs

    seqs = np.concatenate([np.asarray(test.tokens), np.asarray(valid.tokens)])
    learned, _, _ = extract_motifs(model.conv.cpu(), seqs, mode="position", threshold=0.7, min_sites=10, trim=0.3)
    if not learned:
        return {name: None for name in planted}
    table = compare(learned, load_motifs("jaspar2024"), min_overlap=5, thresh=1.0, evalue=True)
    best = {}
    for name, ids in planted.items():
        hit = table[table["Target_ID"].isin(ids)]
        best[name] = float(hit["E-value"].min()) if len(hit) else None
    return best


def _value(text: str):
    """An override's value: an int, a float, a tuple of floats (``0.1,0.3``) or the text."""
    if "," in text:
        return tuple(float(x) for x in text.split(","))
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse(spec: str) -> dict:
    """``MODEL:RECIPE[:LOSS]:N_TRAIN:LENGTH[+FIELD=VALUE...]`` or ``real:NAME`` -> its fields.

    ``+FIELD=VALUE`` (diagnostic runs) sets one field of the TrainConfig, or of the ModelConfig
    when the TrainConfig has no such field, e.g. ``danq:default:60000:300+output_bias=zero``;
    ``+only=TARGET[,TARGET...]`` trains and tests on those targets' labels alone (same
    sequences), e.g. ``danq:default:12000:1000+only=CTCF``."""
    spec, *extra = spec.split("+")
    overrides = dict(e.split("=", 1) for e in extra if "=" in e)
    if len(overrides) != len(extra):
        raise SystemExit(f"train_recipes: bad override in {spec!r}: +FIELD=VALUE")
    p = _parse_base(spec)
    p["overrides"] = dict(V1 if p["recipe"] == "v1" else {},
                          **{k: (v if k == "only" else _value(v)) for k, v in overrides.items()})
    return p


def _parse_base(spec: str) -> dict:
    parts = spec.split(":")
    if parts[0] == "real" and len(parts) == 2:
        return dict(real=parts[1], kind="danq", recipe="default", loss="bce")
    ok = len(parts) in (4, 5) and parts[0] in SMALL_KINDS and parts[1] in ("default", "paper", "v1") \
        and parts[-2].isdigit() and parts[-1].isdigit() and (len(parts) == 4 or parts[2] in ("bce", "weighted", "focal"))
    if not ok:
        raise SystemExit(f"train_recipes: bad run {spec!r}: MODEL:RECIPE[:LOSS]:N_TRAIN:LENGTH or real:NAME")
    return dict(real=None, kind=parts[0], recipe=parts[1], loss=parts[2] if len(parts) == 5 else "bce",
                n_train=int(parts[-2]), length=int(parts[-1]))


def only_targets(split: Split, names: list) -> Split:
    """The same sequences ((N, L) tokens, A, C, G, T) with the labels of `names` alone, in memory."""
    cols = [split.target_index(n) for n in names]
    return Split.from_arrays(np.asarray(split.tokens), split.labels()[:, cols], names, name=split.name)


def one_run(spec: str, budget: int, threads: int) -> dict:
    torch.set_num_threads(threads)
    p = parse(spec)
    load_start = os.getloadavg()
    kind, recipe, loss = p["kind"], p["recipe"], p["loss"]
    base = "default" if recipe == "v1" else recipe          # v1: the default recipe with V1's overrides
    if p["real"]:
        train, valid, test, planted, kinds = real(p["real"])
        sized = REAL_SIZE
    else:
        train, valid, test, planted, kinds = simulated(p["n_train"], p["length"])
        sized = SMALL_KINDS[kind]
    overrides = dict(p["overrides"])
    if "only" in overrides:
        names = overrides.pop("only").split(",")
        train, valid, test = (only_targets(s, names) for s in (train, valid, test))
    train_fields = {f for f in TrainConfig.__dataclass_fields__}
    t_over = dict(JASPAR_KINDS.get(kind, {}), **{k: v for k, v in overrides.items() if k in train_fields})
    m_over = {k: v for k, v in overrides.items() if k not in train_fields}
    mc = ModelConfig.for_kind(kind, recipe=base, n_targets=train.n_targets, length=train.length,
                              **dict(sized, **m_over))
    batch = TrainConfig(recipe=base, **t_over).batch_size
    tc = TrainConfig(**dict(dict(recipe=base, loss=loss, seed=0, device="cpu", checkpoint_minutes=0,
                                 epochs=max(1, -(-budget // len(train))), max_steps=max(1, budget // batch)),
                            **t_over))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        res = fit(mc, train, valid, Path(d) / "m.pt", tc, progress=False)
        model, _ = load_checkpoint(Path(d) / "m.pt")
    train_s = time.perf_counter() - t0
    probs = predict(model, test.tokens, batch_size=500, rc=True)
    aucs = target_aucs(test.labels(), probs)
    by_kind: dict = {}
    for j, t in enumerate(test.targets):
        by_kind.setdefault(kinds[t], []).append(float(aucs.pr_auc[j]))
    evalues = recovered(model, valid, test, planted)
    s = res["summary"]
    return {"run": spec, "kind": kind, "recipe": recipe, "loss": loss, "n_train": len(train), "length": train.length,
            "n_test": len(test), "budget": budget, "batch_size": tc.batch_size, "steps": res["steps"], "stopped": res["stopped"],
            "left_prior": s["left_prior"], "left_prior_step": s["left_prior_step"], "best_step": s["best_step"],
            "best_valid_loss": s["best_valid_loss"], "prior_loss": s["prior_loss"],
            "pr_auc": {k: float(np.nanmean(v)) for k, v in by_kind.items()},
            "pr_auc_targets": {t: float(x) for t, x in zip(test.targets, aucs.pr_auc)},
            "roc_auc_mean": float(np.nanmean(aucs.roc_auc)),
            "recovered": sum(e is not None and e < EVALUE for e in evalues.values()), "evalues": evalues,
            "train_seconds": round(train_s, 1), "samples_per_s": s["samples_per_s"],
            "load_start": load_start, "load": os.getloadavg(), "threads": threads,
            "torch": torch.__version__, "date": time.strftime("%Y-%m-%d", time.gmtime())}


# ---------------------------------------------------------------------------------------------
# the cache: finished runs, keyed by run and budget
# ---------------------------------------------------------------------------------------------
def _key(spec: str, budget: int) -> str:
    return f"{spec}@{budget}"


def load_cache(path: Path) -> dict:
    return json.loads(path.read_text())["runs"] if path.exists() else {}


def store(path: Path, row: dict) -> None:
    """Add one finished run to the cache (locked, so parallel runs may write; atomic replace)."""
    lock = os.open(path.parent, os.O_RDONLY)           # the folder's lock: no lock file left behind
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        runs = load_cache(path)
        runs[_key(row["run"], row["budget"])] = row
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".train_recipes.")
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "w") as fh:
            json.dump({"runs": dict(sorted(runs.items(), key=lambda kv: _order(kv[1])))}, fh, indent=1)
            fh.write("\n")
        os.replace(tmp, path)
    finally:
        os.close(lock)


def _order(row: dict) -> tuple:
    return (GRID.index(row["run"]) if row["run"] in GRID else len(GRID), row["run"], row["budget"])


# ---------------------------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------------------------
def _cell(x, fmt="{:.3f}"):
    return "—" if x is None or (isinstance(x, float) and not np.isfinite(x)) else fmt.format(x)


def _left(r: dict) -> str:
    """The step where the run left the prior, and the training samples seen by then."""
    if not r["left_prior"]:
        return "**never**"
    return f"{r['left_prior_step']} ({r['left_prior_step'] * _batch(r):,})"


def _batch(r: dict) -> int:
    """The run's minibatch size (rows written before it was recorded: from the run's name)."""
    if "batch_size" in r:
        return r["batch_size"]
    p = parse(r["run"])
    return p["overrides"].get("batch_size") or TrainConfig(recipe="paper" if p["recipe"] == "paper" else "default").batch_size


def _row(r: dict) -> str:
    pr = r["pr_auc"]
    rec = f"{r['recovered']} of {len(r['evalues'])}" if r["evalues"] else "—"
    load = f"{r['load_start'][0]:.1f}–{r['load'][0]:.1f}" if "load_start" in r else f"{r['load'][0]:.1f}"
    return (f"| {r['run']} | {r['n_train']:,} x {r['length']} | {r['budget']:,} ({r['budget'] / r['n_train']:.0f} ep.) | "
            f"{r['steps']} ({r['stopped']}) | {_left(r)} | "
            f"{r['best_valid_loss']:.4f} / {r['prior_loss']:.4f} | {_cell(pr.get('presence'))} | "
            f"{_cell(pr.get('grammar'))} | {rec} | {r['train_seconds']:.0f} | {r['samples_per_s']:.0f} | {load} |")


def goals(rows: list) -> list:
    """The issue's goals, checked on the finished runs (simulated data, bce loss)."""
    sim = [r for r in rows if not r["run"].startswith("real:") and r["loss"] == "bce"]
    out = []
    big = [r for r in sim if _today(r) and r["n_train"] >= 12000 and r["length"] >= 1000]
    for r in big:
        out.append(f"- ≥ 7 of 8 planted motifs, default recipe, {r['run']} ({r['budget']:,} samples): "
                   f"{'met' if r['recovered'] >= 7 else '**not met**'} ({r['recovered']} of {len(r['evalues'])})")
    if not big:
        out.append("- ≥ 7 of 8 planted motifs on every size ≥ 12,000 x 1,000 bp: no such default-recipe run finished")
    for r in sim:
        cnn = next((c for c in sim if c["kind"] == "cnn" and c["run"] == r["run"].replace("danq:", "cnn:", 1)
                    and c["budget"] == r["budget"]), None)
        if r["kind"] == "danq" and cnn is not None:
            d, c = r["pr_auc"].get("grammar"), cnn["pr_auc"].get("grammar")
            out.append(f"- DanQ ahead of the CNN on grammar, {r['run'][5:]}: "
                       f"{'met' if d > c else '**not met**'} (PR AUC {d:.3f} vs {c:.3f})")
    stuck = [r["run"] for r in rows if not r["left_prior"] and _today(r)]
    others = [r["run"] for r in rows if not r["left_prior"] and not _today(r)]
    out.append(f"- No run of today's default recipe ends at the prior: {'met' if not stuck else '**not met**'}"
               + (f" — ended at the prior: {', '.join(stuck)}" if stuck else ""))
    if others:
        out.append(f"- Other runs that ended at the prior (paper recipe, diagnostics, earlier defaults): {', '.join(others)}")
    return out


def twin_table(rows: list, twin: str = "+kmer_init=0") -> list:
    """Each run of today's default beside its `twin` (same data, model, loss and budget, one
    setting changed: ``+kmer_init=0``, no k-mer seeds; ``+seed_threshold=0``, seeded kernels
    with the published U(-1, 0) biases): what that setting changed."""
    by = {(r["run"], r["budget"]): r for r in rows}
    out = ["| run | motifs recovered | presence PR AUC | grammar PR AUC | best valid loss / prior | left prior at step |",
           "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        old = by.get((r["run"] + twin, r["budget"])) if _today(r) else None
        if old is None:
            continue
        cells = [f"{old['recovered']} → **{r['recovered']}**",
                 f"{_cell(old['pr_auc'].get('presence'))} → {_cell(r['pr_auc'].get('presence'))}",
                 f"{_cell(old['pr_auc'].get('grammar'))} → {_cell(r['pr_auc'].get('grammar'))}",
                 f"{old['best_valid_loss']:.4f} → {r['best_valid_loss']:.4f} / {r['prior_loss']:.4f}",
                 f"{_left(old)} → {_left(r)}"]
        out.append(f"| {r['run']} | " + " | ".join(cells) + " |")
    return out if len(out) > 2 else ["(no pair measured yet)"]


def _target(motif_name: str) -> str:
    """The simulator's presence target of a planted motif (its name, ``::`` as ``_``)."""
    return motif_name.replace("::", "_")


def _today(r: dict) -> bool:
    """A run of today's default recipe: no overrides (the loss may differ)."""
    return r["recipe"] == "default" and "+" not in r["run"]


def report(cache: Path, out: Path, budget: int) -> None:
    runs = load_cache(cache)
    rows = sorted(runs.values(), key=_order)
    loads = [x for r in rows for x in (r.get("load_start", r["load"])[0], r["load"][0])]
    lines = ["# train_recipes: what the training recipes learn", "",
             "Command: `PYTHONPATH=. python benchmarks/train_recipes.py --run SPEC` per row (one torch thread each, "
             "two to four runs at a time), then `--report`; the finished runs are kept in `train_recipes.json` beside this "
             f"file. Machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other jobs "
             + (f"(load average {min(loads):.1f}–{max(loads):.1f}; each row gives it at the start and end of its run, "
                "so the times and samples/s are only indicative). " if loads else ". ")
             + "Simulated data: `motifq.data.simulate` seed 0 (8 JASPAR motifs; 8 presence, 2 grammar, 1 cluster and "
             "2 noise targets, ~11 % positive), 1,000 validation and 3,000 test sequences — the data of "
             "`motifq simulate --n-train N --n-valid 1000 --n-test 3000 --length L`. Models: 64 kernels of width 26, "
             "pool 13, BiLSTM 32+32 (danq only), dense 64; real sets: width 19, pool 9. Seed 0. A fixed budget of "
             "training samples per run (`--epochs` and `--max-steps` set to it); runs may stop early once off the prior. "
             "PR AUCs are on the test split (forward and reverse-complement mean); a motif is recovered when a "
             f"learned kernel matches its JASPAR 2024 matrix at E < {EVALUE}. Run names: MODEL:RECIPE[:LOSS]:N:L.", "",
             "| run | train seqs x bp | budget, samples (epochs) | steps (stopped by) | left prior at step (samples) | "
             "best valid loss / prior | presence PR AUC | grammar PR AUC | motifs recovered (E < 0.01) | "
             "train s | samples/s | load |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [_row(r) for r in rows] or ["| (no run finished yet) |" + " |" * 11]
    lines += ["", "Real sets: the presence column is the mean PR AUC of the two factors' targets; the motifs are those "
              "factors' JASPAR matrices. The validation losses of the weighted and focal runs are in their own loss "
              "(the prior's loss likewise), not comparable with BCE's.", "", "## Goals (issue 14) on the finished runs", ""] + goals(rows)
    lines += ["", "## K-mer seeding: today's default against the same recipe without seeds", ""] + twin_table(rows)
    lines += ["", "## Seed threshold: today's default against its seeded kernels with the published U(-1, 0) biases",
              "", "Rows ending `+seed_threshold=0` are the default recipe before the seeded kernels' biases were set "
              "to half their best score (`--seed-threshold 0.5`), i.e. the second default recipe.", ""] \
        + twin_table(rows, "+seed_threshold=0")
    lines += ["", "## E-values of the planted motifs", "", "Best kernel per motif; — = no kernel matched it at E ≤ 1. "
              "In brackets, where recorded, the test PR AUC of that motif's presence target: a kernel can match a "
              "motif whose target the model does not predict (a seeded kernel that kept its seed's shape).", ""]
    for r in rows:
        auc = r.get("pr_auc_targets", {})
        size = f" ({r['budget']:,} samples)" if r["budget"] != budget else ""
        lines.append(f"- {r['run']}{size}: " + ", ".join(
            f"{k} {_cell(v, '{:.2g}')}" + (f" ({auc[_target(k)]:.2f})" if _target(k) in auc else "")
            for k, v in r["evalues"].items()))
    done = {r["run"] for r in rows if r["budget"] == budget}
    missing = [s for s in GRID if s not in done]
    lines += ["", "## Not measured yet", ""]
    if missing:
        lines += [f"{len(missing)} runs of the grid at a budget of {budget:,} samples have no result yet. "
                  "`PYTHONPATH=. python benchmarks/train_recipes.py --grid` measures all of them (the finished runs "
                  "are kept), or one at a time:", "", "```bash"]
        lines += [f"PYTHONPATH=. python benchmarks/train_recipes.py --run {s}" for s in missing] + ["```"]
    else:
        lines.append("None: every run of the grid has a result.")
    out.write_text("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", action="append", default=[], metavar="SPEC")
    ap.add_argument("--grid", action="store_true", help="every run of the grid the cache does not hold yet")
    ap.add_argument("--force", action="store_true", help="rerun runs the cache holds")
    ap.add_argument("--budget", type=int, default=BUDGET, metavar="SAMPLES")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache", default=str(HERE / "results" / "train_recipes.json"))
    ap.add_argument("--log", default=None, help="also append each finished run to this JSON-lines file")
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results" / "train_recipes.md"))
    args = ap.parse_args(argv)
    cache = Path(args.cache)
    specs = args.run + (GRID if args.grid else [])
    for spec in specs:
        parse(spec)
    for spec in dict.fromkeys(specs):
        if not args.force and _key(spec, args.budget) in load_cache(cache):
            print(f"{spec}: in the cache, skipped (--force reruns it)", flush=True)
            continue
        row = one_run(spec, args.budget, args.threads)
        store(cache, row)
        if args.log:
            with open(args.log, "a") as fh:
                fh.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
    if args.report or specs:
        report(cache, Path(args.out), args.budget)


if __name__ == "__main__":
    main()

"""The first run: simulate -> train DanQ, CNN, LR -> evaluate -> extract motifs -> compare with
JASPAR -> cluster -> logos -> one report (``report.html``, self-contained, and ``report.md``).

Everything goes through the library (no command line is re-invoked) and nothing is downloaded:
the data are made by :mod:`motifq.data.simulate` from the bundled JASPAR 2024 matrices, so the
report can say which planted motifs the model recovered and whether the BiLSTM helped on the
targets whose labels depend on the order and spacing of two motifs.

Sizes (:data:`SIZES`): ``small`` is the real demonstration (minutes on a 2-core CPU: 60,000
training sequences of 300 bp, a DanQ with 64 kernels of width 24, pool 13, BiLSTM 32+32, dense 64,
dropout 0.1 / 0.3, trained with ``motifq train``'s default recipe for 7,680 minibatches of 100; see
:data:`WHY_SETTINGS`); ``tiny`` runs every step on very little data in well under a minute (for
the tests; its numbers mean nothing). The DanQ starts from random kernels, some of them seeded
with k-mers enriched in the training positives (the default recipe's ``kmer_init``; no JASPAR
seeding), so every recovered motif came from the data.

Files written under ``out/``::

    data/                 the simulated dataset (+ data/truth/: planted motifs, rules, instances)
    models/danq.pt, cnn.pt, lr.pt   best checkpoints (+ .last.pt, .metrics.jsonl)
    predictions/<model>.test.npy    (N, T) float32 test-set probabilities (forward + RC mean)
    metrics.tsv           per-target ROC AUC and PR AUC of every model
    learned_motifs.meme   the DanQ kernels as PFMs (kernel_<k>)
    matches.tsv           Tomtom-like comparison of the learned motifs with JASPAR 2024
    recovery.tsv          each planted motif: best learned kernel, its E-value, recovered or not
    clusters.tsv          clusters of the learned motifs
    figures/*.png         logos, training curves, cluster heatmap, AUC comparison, grammar maps,
                          attribution logos (one per planted motif)
    report.html           everything above in one file (images embedded as base64)
    report.md             the same as Markdown (images linked from figures/)
    quickstart.json       the numbers of the report (timings, settings, AUCs, recovery)
"""
from __future__ import annotations

import base64
import html
import json
import logging
import platform
import time
from pathlib import Path

import numpy as np

from .errors import atomic_write, check, check_number, check_output_dir

log = logging.getLogger("motifq")

__all__ = ["SIZES", "WHY_SETTINGS", "quickstart"]

#: Data, model and training sizes of each quickstart size. ``steps`` are optimizer steps of
#: minibatches of ``batch_size``; the same number for the DanQ and the CNN so they compare fairly.
SIZES = {
    "small": dict(n_train=60000, n_valid=2000, n_test=4000, length=300, kernels=64, width=24, pool=13,
                  lstm=32, dense=64, steps=7680, lr_steps=1920, batch_size=100, dropouts=(0.1, 0.3),
                  extract_seqs=4000),
    "tiny": dict(n_train=600, n_valid=200, n_test=300, length=300, kernels=12, width=20, pool=13,
                 lstm=8, dense=16, steps=12, lr_steps=6, batch_size=50, dropouts=(0.1, 0.3), extract_seqs=300),
}

#: Why the ``small`` settings are what they are (measured on this simulated data, printed in the report).
WHY_SETTINGS = (
    "Why these settings: the models train with motifq train's default recipe (AdamW at 3e-3, minibatches of "
    "100, PyTorch's fan-in initialisation with up to half of the kernels seeded from k-mers enriched in the "
    "training positives and biased to fire only on their sites, zero output biases; docs/training.md says how it was chosen). The "
    "quickstart chooses only the data, the model's size and dropout, and the budget. Data: on 12,000 training "
    "sequences the models memorised the few positives after a few epochs, so it uses 60,000 shorter (300-bp) "
    "sequences, each seen about 13 times in the 768,000-sample budget. Dropout (measured with the quickstart's "
    "earlier settings, Adam at 3e-3 and minibatches of 64, close to today's default): with the paper's 0.2 "
    "after pooling and 0.5 after the BiLSTM this small DanQ recovered 6 to 8 of the 8 motifs over training "
    "seeds 0..3 (CTCF the usual miss), with 0.1 and 0.3 8 of 8 with every seed tried. With the default recipe on "
    "this data (seed 0; two threads, and before its seed threshold one and two threads) the DanQ recovered 8 of 8. "
    "The CNN gets exactly the same initialisation, "
    "dropout and steps.")

_INIT_WORDS = {"pytorch": "random, PyTorch's default (U(±1/√fan_in) weights and biases)",
               "uniform": "random U(-0.05, 0.05) weights and zero biases as the paper"}


def _init_words(mc, tc) -> str:
    """How the model's weights started, in words."""
    words = _INIT_WORDS[mc.init]
    if tc.kmer_init > 0 and mc.kind != "lr":
        return (f"{words}; up to {tc.kmer_init:.0%} of the first-layer kernels then seeded from the k-mers most "
                "enriched in each target's training positives (motifq.kmers)"
                + (f", their biases at -{tc.seed_threshold:g} x their best score" if tc.seed_threshold > 0 else "")
                + ", no JASPAR seeding")
    return words + ", no JASPAR seeding"


_THRESHOLD = 0.7       # Basset's rule: windows above this fraction of the kernel's maximum are sites
_EVALUE = 0.01          # a planted motif is recovered when a learned kernel matches it below this
_FLANK = 25             # bases drawn on each side of the planted instances in the attribution logos


class _Clock:
    """Timings of the steps, and the status line printed for each."""

    def __init__(self):
        self.rows, self.t0 = [], time.perf_counter()

    def run(self, name, fn, *args, **kwargs):
        log.info(f"[{len(self.rows) + 1}] {name} ...")
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        dt = time.perf_counter() - t
        self.rows.append((name, dt))
        log.info(f"[{len(self.rows)}] {name}: {dt:.1f} s (total {time.perf_counter() - self.t0:.0f} s)")
        return out


def _train(kind, sizes, train, valid, out, seed, device, progress, steps):
    from .config import ModelConfig, TrainConfig
    from .train import fit

    # The lr baseline keeps its own defaults; DanQ and CNN share every size (the CNN has no BiLSTM).
    sized = {} if kind == "lr" else dict(conv_kernels=sizes["kernels"], conv_width=sizes["width"], pool=sizes["pool"],
                                          dense=sizes["dense"], dropouts=sizes["dropouts"])
    if kind == "danq":
        sized["lstm_units"] = sizes["lstm"]
    mc = ModelConfig.for_kind(kind, n_targets=train.n_targets, length=train.length, **sized)
    epochs = max(1, -(-steps * sizes["batch_size"] // len(train)))
    # motifq train's default recipe; the quickstart chooses only the data, the model's size and
    # dropout, and the budget (`steps` minibatches; the default stopping rule may end it sooner)
    tc = TrainConfig(epochs=epochs, max_steps=steps, batch_size=sizes["batch_size"], seed=seed, device=device,
                     checkpoint_minutes=0)
    result = fit(mc, train, valid, out, tc, progress=progress)
    return mc, tc, result


def _predict(path, split, device, progress):
    from .models import load_checkpoint, predict
    from .models import resolve_device

    model, ckpt = load_checkpoint(path)
    return model, ckpt, predict(model, split.tokens, batch_size=500, rc=True, device=resolve_device(device),
                                progress=progress)


def _recovery(planted, learned, matches):
    """For each planted motif: the learned motif with the smallest E-value against it (and the
    seed that kernel started from, if any)."""
    seeds = {m.id: m.name for m in learned}
    rows = []
    for m in planted:
        hit = matches[matches["Target_ID"] == m.id].sort_values(["E-value", "Query_ID"]) if len(matches) else matches
        if len(hit):
            h = hit.iloc[0]
            top = matches[matches["Query_ID"] == h["Query_ID"]].sort_values("E-value").iloc[0]
            rows.append(dict(motif=m.id, name=m.name, kernel=h["Query_ID"], evalue=float(h["E-value"]),
                             pvalue=float(h["p-value"]), offset=int(h["Optimal_offset"]), strand=h["Orientation"],
                             overlap=int(h["Overlap"]), recovered=bool(h["E-value"] < _EVALUE),
                             kernel_top_match=top["Target_ID"], kernel_top_evalue=float(top["E-value"]),
                             kernel_seed=seeds.get(h["Query_ID"], "")))
        else:
            rows.append(dict(motif=m.id, name=m.name, kernel="", evalue=float("nan"), pvalue=float("nan"), offset=0,
                             strand="+", overlap=0, recovered=False, kernel_top_match="", kernel_top_evalue=float("nan"),
                             kernel_seed=""))
    return rows


def quickstart(out="motifq-quickstart", size: str = "small", device: str = "auto", seed: int = 0,
               threads: int | None = None, progress: bool = True) -> dict:
    """Run the whole method on simulated data and write a report.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder (created; files inside are replaced). Default is ``motifq-quickstart``.
    size : str
        ``small`` (the demonstration) or ``tiny`` (a smoke run for tests), see :data:`SIZES`.
        Default is ``small``.
    device : str
        ``auto`` (CUDA when present), ``cpu`` or ``cuda``. Default is ``auto``.
    seed : int
        Seeds the simulation and the training. Default is 0.
    threads : int or None
        CPU threads for torch during the run (restored afterwards). On a machine busy with other
        work, 1 can be many times faster than torch's default of one per core. Default is None:
        torch's default.
    progress : bool
        Progress bars while training and predicting. Default is True. One status line per
        step goes to the ``motifq`` logger at level INFO.

    Returns
    -------
    dict
        What ``quickstart.json`` holds: ``timings`` (step -> seconds), ``settings``,
        ``metrics`` (model -> target -> {roc_auc, pr_auc}), ``kinds`` (target -> kind),
        ``recovery`` (one dict per planted motif), ``recovered`` (count), ``report`` (path).
    """
    check(size in SIZES, f"size: {size!r} is not one of {', '.join(SIZES)}")
    check(device in ("auto", "cpu", "cuda") or str(device).startswith("cuda:"),
          f"device: {device!r} is not auto, cpu or cuda")
    check(threads is None or threads >= 1, f"threads: must be >= 1, got {threads}")
    check_number(seed, "seed", integer=True, minimum=0, maximum=2 ** 32 - 1)
    check_output_dir(out, "output")
    import torch

    from .models import torch_threads

    with torch_threads(threads):
        return _quickstart(Path(out), size, device, seed, progress, torch.get_num_threads())


def _quickstart(out: Path, size: str, device: str, seed: int, progress: bool, n_threads: int) -> dict:
    """The steps of :func:`quickstart` in order, each timed by a :class:`_Clock`; returns the
    dict written to ``quickstart.json``."""
    sizes = SIZES[size]
    (out / "figures").mkdir(parents=True, exist_ok=True)
    (out / "models").mkdir(exist_ok=True)
    (out / "predictions").mkdir(exist_ok=True)
    clock = _Clock()
    t_start = time.perf_counter()
    sim = clock.run("simulate", _simulate, sizes, seed, out)
    from .data.dataset import open_split
    from .data.simulate import target_kinds

    kinds = target_kinds(sim.rules)
    train, valid, test = (open_split(out / "data", s) for s in ("train", "valid", "test"))
    trained = _train_models(clock, sizes, train, valid, out, seed, device, progress)
    aucs, models = clock.run("evaluate on the test split", _evaluate_all, trained, test, out, device, progress)
    metrics = _write_metrics(out, aucs, train.targets, kinds)
    learned, skipped = clock.run("extract motifs from the DanQ kernels", _extract, *models["DanQ"], test, valid,
                                 sizes, out, progress)
    matches = clock.run("compare the learned motifs with JASPAR 2024", _match, learned, out)
    recovery = _recovery(sim.motifs, learned, matches)
    _write_recovery(out, recovery)
    clusters, informative = clock.run("cluster the learned motifs", _cluster, learned, out)
    made = clock.run("figures (logos, curves, clusters)", _figures, out / "figures", learned, sim.motifs, recovery,
                     trained, aucs, clusters)
    grammar = clock.run("grammar maps of the planted rules", _grammar_maps, models, sim.motifs, sim.rules,
                        train.targets, out / "figures", size, seed, made)
    attributions = clock.run("attribution logos (ISM)", _attribution_logos, models["DanQ"][0], test, sim,
                             train.targets, out, made)
    result = {"timings": {name: round(dt, 2) for name, dt in clock.rows},
              "settings": _settings(size, seed, device, sizes, trained, test, valid, n_threads),
              "metrics": metrics, "kinds": kinds, "recovery": recovery,
              "recovered": sum(r["recovered"] for r in recovery), "n_planted": len(sim.motifs),
              "learned_motifs": len(learned), "kernels_without_sites": len(skipped),
              "clustered": len(informative), "clusters": 0 if clusters is None else len(clusters.summaries),
              "grammar": grammar, "attributions": attributions, "report": str(out / "report.html")}
    _write_outputs(out, result, sim, made, train.targets, t_start)
    log.info(f"recovered {result['recovered']} of {len(sim.motifs)} planted motifs at E < {_EVALUE}; report: "
        f"{out / 'report.html'} ({result['timings']['total']:.0f} s in all)")
    return result


# 1. data --------------------------------------------------------------------------------------
def _simulate(sizes, seed, out: Path):
    """Simulate the dataset of this size and write it to ``out/data``; returns the simulation."""
    from .data.simulate import simulate, write_simulation

    sim = simulate(sizes["n_train"], sizes["n_valid"], sizes["n_test"], length=sizes["length"], seed=seed)
    write_simulation(sim, out / "data")
    return sim


# 2-4. models ----------------------------------------------------------------------------------
def _train_models(clock, sizes, train, valid, out: Path, seed, device, progress) -> dict:
    """DanQ, CNN and LR trained one after another (a clock step each); label -> (ModelConfig,
    TrainConfig, fit result)."""
    trained = {}
    for kind, label, steps in (("danq", "DanQ", sizes["steps"]), ("cnn", "CNN", sizes["steps"]),
                               ("lr", "LR", sizes["lr_steps"])):
        trained[label] = clock.run(f"train {label} ({steps} steps)", _train, kind, sizes, train, valid,
                                   out / "models" / f"{kind}.pt", seed, device, progress, steps)
    return trained


# 5. evaluate ----------------------------------------------------------------------------------
def _evaluate_all(trained, test, out: Path, device, progress):
    """Each model's test-set predictions (saved to ``out/predictions``) and per-target AUCs;
    returns (label -> TargetAUCs, label -> (model, checkpoint))."""
    from .evaluate import target_aucs

    res, models = {}, {}
    labels = test.labels()
    for label, (mc, _, _) in trained.items():
        model, ckpt, p = _predict(out / "models" / f"{mc.kind}.pt", test, device, progress)
        with atomic_write(out / "predictions" / f"{mc.kind}.test.npy", "wb") as fh:
            np.save(fh, p)
        res[label] = target_aucs(labels, p)
        models[label] = (model, ckpt)
    return res, models


def _write_metrics(out: Path, aucs, targets, kinds) -> dict:
    """``metrics.tsv`` (one row per target, ROC AUC and PR AUC of every model); returns
    model -> target -> {roc_auc, pr_auc}."""
    metrics = {label: {t: {"roc_auc": float(a.roc_auc[j]), "pr_auc": float(a.pr_auc[j])} for j, t in enumerate(targets)}
               for label, a in aucs.items()}
    with atomic_write(out / "metrics.tsv") as fh:
        fh.write("target\tkind\t" + "\t".join(f"{m}_roc_auc\t{m}_pr_auc" for m in aucs) + "\n")
        for j, t in enumerate(targets):
            fh.write(f"{t}\t{kinds[t]}\t" + "\t".join(f"{a.roc_auc[j]:.4f}\t{a.pr_auc[j]:.4f}" for a in aucs.values()) + "\n")
    return metrics


# 6. extract -----------------------------------------------------------------------------------
def _extract(danq, ckpt, test, valid, sizes, out: Path, progress):
    """Motifs from the DanQ's kernels over test and validation sequences (Basset's rule),
    written to ``learned_motifs.meme``, each seeded kernel named after its seed (``kmer:<word>_<target>``);
    returns (motifs, kernels without sites)."""
    from .extract import extract_motifs
    from .formats import write_meme

    conv = danq.conv.cpu()
    seqs = np.concatenate([np.asarray(test.tokens[:sizes["extract_seqs"]]), np.asarray(valid.tokens)])
    motifs, skipped, _ = extract_motifs(conv, seqs, mode="position", threshold=_THRESHOLD, min_sites=10,
                                        trim=0.3, jaspar_map=ckpt.get("jaspar"), progress=progress)
    write_meme(out / "learned_motifs.meme", motifs)
    return motifs, skipped


# 7. compare -----------------------------------------------------------------------------------
def _match(learned, out: Path):
    """The learned motifs compared with JASPAR 2024 (``matches.tsv``; every pair, E-values);
    returns the table (empty with no learned motif)."""
    from .compare import compare
    from .jaspar import load_motifs

    db = load_motifs("jaspar2024")
    table = compare(learned, db, min_overlap=5, thresh=1.0, evalue=True) if learned else None
    if table is None:
        import pandas as pd

        from .compare import COLUMNS
        table = pd.DataFrame(columns=COLUMNS)
    with atomic_write(out / "matches.tsv") as fh:
        table.to_csv(fh, sep="\t", index=False)
    return table


def _write_recovery(out: Path, recovery) -> None:
    """``recovery.tsv``: one row per planted motif (:func:`_recovery`)."""
    with atomic_write(out / "recovery.tsv") as fh:
        cols = list(recovery[0])
        fh.write("\t".join(cols) + "\n")
        fh.writelines("\t".join(str(r[c]) for c in cols) + "\n" for r in recovery)


# 8. cluster -----------------------------------------------------------------------------------
def _cluster(learned, out: Path):
    """The learned motifs with >= 3 bits in all, clustered (``clusters.tsv``); returns
    (ClusterResult or None when fewer than two, those motifs)."""
    from .cluster import cluster_motifs, clusters_table

    informative = [m for m in learned if m.information_content().sum() >= 3.0]
    if len(informative) < 2:
        return None, informative
    res = cluster_motifs(informative)
    with atomic_write(out / "clusters.tsv") as fh:
        clusters_table(res).to_csv(fh, sep="\t", index=False)
    return res, informative


# 9. figures -----------------------------------------------------------------------------------
def _figures(figs: Path, learned, planted, recovery, trained, aucs, clusters) -> dict:
    """Every figure of the report, saved under `figs`; returns figure key -> path."""
    made = _match_logos(figs, learned, planted, recovery)
    made.update(_metric_figures(figs, trained, aucs))
    if clusters is not None:
        from .plot import plot_cluster_heatmap, save_figure

        axes = plot_cluster_heatmap(clusters)
        made["clusters"] = save_figure(axes[0].figure, figs / "clusters.png", dpi=90)
    return made


def _match_logos(figs: Path, learned, planted, recovery) -> dict:
    """One figure per planted motif: its best learned kernel aligned with it, or its logo alone."""
    import matplotlib.pyplot as plt

    from .plot import plot_logo, plot_match, save_figure, tomtom_placement

    made = {}
    by_id = {m.id: m for m in learned}
    for r, m in zip(recovery, planted):
        if r["kernel"]:
            q = by_id[r["kernel"]]
            off = tomtom_placement(q.width, m.width, r["offset"], r["strand"])
            axes = plot_match(q, m, off, r["strand"], pvalue=r["pvalue"], evalue=r["evalue"])
            fig = axes[0].figure
        else:
            fig, ax = plt.subplots(figsize=(4, 1.8))
            plot_logo(m, ax=ax, title=f"{m.id} {m.name}: no learned match")
        made[f"logo_{r['motif']}"] = save_figure(fig, figs / f"logo_{r['motif']}.png", dpi=90)
    return made


def _metric_figures(figs: Path, trained, aucs) -> dict:
    """The training curves of every model and the PR AUC scatter plots (DanQ against CNN, LR)."""
    import matplotlib.pyplot as plt

    from .plot import save_figure
    from .plot_metrics import plot_auc_scatter, plot_training_curves

    made = {}
    fig, axes = plt.subplots(1, len(trained), figsize=(4.2 * len(trained), 3.2))
    for ax, (label, (_, _, res)) in zip(np.atleast_1d(axes), trained.items()):
        plot_training_curves(res["history"], ax=ax)
        ax.set_title(label)
    made["training_curves"] = save_figure(fig, figs / "training_curves.png", dpi=90)
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 4))
    plot_auc_scatter(aucs["CNN"].pr_auc, aucs["DanQ"].pr_auc, "CNN", "DanQ", metric="PR AUC", ax=axes[0])
    plot_auc_scatter(aucs["LR"].pr_auc, aucs["DanQ"].pr_auc, "LR", "DanQ", metric="PR AUC", ax=axes[1])
    made["auc_scatter"] = save_figure(fig, figs / "auc_scatter.png", dpi=90)
    return made


# 10. report -----------------------------------------------------------------------------------
def _settings(size, seed, device, sizes, trained, test, valid, n_threads) -> dict:
    """The settings of the run as the report and ``quickstart.json`` state them."""
    return {
        "size": size, "seed": seed, "device": device,
        "data": {k: sizes[k] for k in ("n_train", "n_valid", "n_test", "length")},
        "models": {label: {k: v for k, v in mc.to_dict().items() if k in ("kind", "conv_kernels", "conv_width", "pool",
                                                                        "lstm_units", "dense", "dropouts", "kmax")}
                   for label, (mc, _, _) in trained.items()},
        "training": {label: {"recipe": tc.recipe, "optimizer": tc.optimizer, "lr": tc.lr, "batch_size": tc.batch_size,
                             "max_steps": tc.max_steps, "epochs": tc.epochs, "rc_augment": tc.rc_augment,
                             "init": _init_words(mc, tc),
                             "steps_done": res["steps"], "best_valid_loss": res["best_valid_loss"]}
                     for label, (mc, tc, res) in trained.items()},
        "extraction": {"mode": "position", "threshold": _THRESHOLD, "min_sites": 10, "trim_bits": 0.3,
                       "sequences": int(min(sizes["extract_seqs"], len(test)) + len(valid))},
        "comparison": {"database": "jaspar2024 (879 CORE vertebrate matrices)", "dist": "pearson",
                       "min_overlap": 5, "recovered_if_evalue_below": _EVALUE},
        "machine": {"python": platform.python_version(), "cpu": platform.machine(),
                    "threads": n_threads},
    }


def _write_outputs(out: Path, result, sim, made, targets, t_start) -> None:
    """The reports (timed: written once to time them, then again with the report and total
    times in their table) and ``quickstart.json``."""
    timings = result["timings"]
    t = time.perf_counter()
    _write_reports(out, result, sim.rules, sim.motifs, made, targets)
    timings["report"] = round(time.perf_counter() - t, 2)
    timings["total"] = round(time.perf_counter() - t_start, 2)
    _write_reports(out, result, sim.rules, sim.motifs, made, targets)
    with atomic_write(out / "quickstart.json") as fh:
        json.dump(_clean(result), fh, indent=1)


#: Grammar maps in the report: backgrounds, largest gap and gap step per size (kept small: seconds).
_GRAMMAR = {"small": dict(n=12, max_gap=100, gap_step=5), "tiny": dict(n=3, max_gap=100, gap_step=50)}


def _grammar_maps(models, planted, rules, targets, figs, size, seed, made) -> list:
    """Maps of each planted grammar rule for the DanQ and the CNN (figures into `made`)."""
    import matplotlib.pyplot as plt

    from .grammar import backgrounds, rule_maps
    from .plot import plot_grammar_map, save_figure

    g = _GRAMMAR[size]
    gaps = np.arange(0, g["max_gap"] + 1, g["gap_step"])
    found = {}
    for label in ("DanQ", "CNN"):
        model = models[label][0].cpu()
        bg = backgrounds("simulated", g["n"], model.config.length, seed)
        found[label] = rule_maps(model, planted, rules, targets, bg, max_gap=g["max_gap"], gaps=gaps, rng=seed)
    names = {m.id: m.name for m in planted}
    out = []
    for i, rule_map in enumerate(found["DanQ"]):
        r = rule_map["rule"]
        fig, axes = plt.subplots(2, 2, figsize=(11, 4.4), constrained_layout=True)
        lim = max(float(found[lb][i]["table"]["interaction"].abs().max()) for lb in found) or 1.0
        for row, label in enumerate(found):
            t = found[label][i]["table"]
            for col, (f, s) in enumerate(((r["first"], r["second"]), (r["second"], r["first"]))):
                plot_grammar_map(t, f, s, r["name"], ax=axes[row, col], vmax=lim, window=(r["min_gap"], r["max_gap"]),
                                 title=f"{label}: {names[f]} then {names[s]}")
        made[f"grammar_{r['name']}"] = save_figure(fig, figs / f"grammar_{r['name']}.png", dpi=80)
        out.append({"rule": r["name"], "first": names[r["first"]], "second": names[r["second"]],
                    "min_gap": r["min_gap"], "max_gap": r["max_gap"], "backgrounds": g["n"],
                    "gaps": f"0..{g['max_gap']} every {g['gap_step']} bp",
                    **{label: {**found[label][i]["cells"], "verdict": found[label][i]["verdict"]} for label in found}})
    return out


# 11. attributions -------------------------------------------------------------------------------
def _attribution_picks(sim, targets, probs, labels) -> list:
    """Per planted motif: its presence target's column and the positive test sequence holding a
    planted instance of it that the DanQ scores highest (None when there is none), with the
    instances' (start, end) in that sequence."""
    inst = {k: np.asarray(v) for k, v in sim.instances.items()}
    presence = {r["motif"]: r["name"] for r in sim.rules["targets"] if r["kind"] == "presence"}
    picks = []
    for m in sim.motifs:
        j = list(targets).index(presence[m.id])
        mine = (inst["split"] == "test") & (inst["motif"] == m.id)
        seqs = np.unique(inst["sequence"][mine].astype(np.int64))
        seqs = seqs[labels[seqs, j] == 1]
        best = int(seqs[np.argmax(probs[seqs, j])]) if len(seqs) else None
        here = mine & (inst["sequence"].astype(np.int64) == best)
        sites = sorted(zip(inst["start"][here].astype(int).tolist(), inst["end"][here].astype(int).tolist()))
        picks.append(dict(motif=m.id, name=m.name, target=presence[m.id], column=j, sequence=best, sites=sites,
                          prob=float(probs[best, j]) if best is not None else float("nan")))
    return picks


def _top_inside(contrib: np.ndarray, sites, k: int) -> float:
    """Fraction of the `k` positions of largest |contribution| (L,) that lie in a planted site."""
    inside = np.zeros(contrib.shape[0], bool)
    for s, e in sites:
        inside[s:e] = True
    return float(inside[np.argsort(-np.abs(contrib), kind="stable")[:k]].mean())


def _attribution_logos(danq, test, sim, targets, out: Path, made) -> list:
    """One attribution logo per planted motif: exact ISM (forward + reverse-complement mean) of the
    DanQ's presence logit of that motif on its highest-scoring positive test sequence
    (:func:`_attribution_picks`), the planted instances shaded; saved as one figure. Returns the
    picks with ``top_inside``: the share of the motif-width positions of largest |contribution|
    that fall inside a planted instance."""
    import matplotlib.pyplot as plt

    from .attribute import contributions, ism
    from .plot import plot_attribution, save_figure

    probs = np.load(out / "predictions" / "danq.test.npy")
    picks = _attribution_picks(sim, targets, probs, test.labels())
    shown = [p for p in picks if p["sequence"] is not None]
    widths = {m.id: m.width for m in sim.motifs}
    if shown:
        fig, axes = plt.subplots(len(shown), 1, figsize=(11, 1.8 * len(shown)), squeeze=False, constrained_layout=True)
        for ax, p in zip(axes[:, 0], shown):
            tokens = np.array(test.tokens[p["sequence"]:p["sequence"] + 1])
            a = ism(danq, tokens, p["column"], rc=True)[0]
            p["top_inside"] = _top_inside(contributions(a, tokens)[0], p["sites"], widths[p["motif"]])
            lo, hi = max(0, p["sites"][0][0] - _FLANK), min(tokens.shape[1], p["sites"][-1][1] + _FLANK)
            plot_attribution(a[0, :, lo:hi], tokens[0, lo:hi], ax=ax, start=lo, title=f"{p['name']}: ISM of the "
                             f"{p['target']} logit, test sequence {p['sequence']} (DanQ p = {p['prob']:.2f}), positions "
                             f"{lo + 1}..{hi}; planted instance shaded")
            for s, e in p["sites"]:
                ax.axvspan(s - 0.5, e - 0.5, color="gold", alpha=0.3, lw=0)
        made["attribution_logos"] = save_figure(fig, out / "figures" / "attribution_logos.png", dpi=80)
    return picks


def _attribution_report(picks, made) -> list:
    """The report's attribution section: which sequence each logo shows and how much of the
    attribution falls on the planted instance."""
    if not picks:
        return []
    out = [("h2", "Attribution logos: what the DanQ reads in a sequence"),
           ("p", "For each planted motif, its presence target's logit attributed to every base of the positive "
                 "test sequence the DanQ scores highest (among those holding a planted instance of it), by exact "
                 "in-silico mutagenesis (every substitution, forward and reverse-complement mean; `motifq attribute`"
                 f"), drawn over the instance and {_FLANK} bases on each side. Each observed base is drawn as tall "
                 "as its mean-centred ISM value (the logit's changes under "
                 "the four bases at that position, centred): above the axis when mutating it away lowers the logit, "
                 "below when it raises it. The planted instance is "
                 "shaded: the learned motif should stand out there and nowhere else. Top-k inside: the share of the "
                 "k positions of largest |attribution| (k = the motif's width) that fall in a planted instance.")]
    rows = [[f"{p['motif']} {p['name']}", p["target"], "—" if p["sequence"] is None else str(p["sequence"]),
             _fmt(p["prob"], 2), ", ".join(f"{s + 1}..{e}" for s, e in p["sites"]) or "—",
             _fmt(p.get("top_inside", float("nan")), 2)] for p in picks]
    out.append(("table", (["planted motif", "target", "test sequence", "DanQ p", "instance (1-based)",
                           "top-k inside"], rows)))
    if "attribution_logos" in made:
        out.append(("img", ("attribution_logos", "attribution logos, one per planted motif")))
    return out


def _grammar_report(grammar) -> list:
    """The report's grammar section: per planted rule, DanQ's and the CNN's maps and numbers."""
    if not grammar:
        return []
    g = grammar[0]
    out = [("h2", "Grammar the models learned (in-silico insertions)"),
           ("p", f"Each planted rule's two motifs inserted into {g['backgrounds']} simulated backgrounds (samples of "
                 f"the PFMs), both orders, four strand combinations, gaps {g['gaps']}; the "
                 f"interaction f(AB) − f(A) − f(B) + f(∅) of the rule's own logit (forward + reverse-complement "
                 f"mean). Inside = the planted order and strands at the planted gaps (dashed box); the reversed order "
                 f"should show nothing. Dots: 95 % CI excludes 0. (`motifq grammar` runs the full experiment.)")]
    rows = []
    for r in grammar:
        for label in ("DanQ", "CNN"):
            c = r[label]
            rows.append([f"{r['first']} → {r['second']} (gap {r['min_gap']}..{r['max_gap']})", label,
                         _fmt(c["inside"]), _fmt(c["outside_abs"]), _fmt(c["ratio"], 2), _fmt(c["reversed"]),
                         _fmt(c["inside_excess"]), _fmt(c["outside_excess"]), _fmt(c["excess_ratio"], 2),
                         _fmt(c["reversed_excess"])])
    out.append(("table", (["rule", "model", "mean inside", "mean |outside|", "inside / |outside|", "reversed order",
                           "inside − median", "mean |outside − median|", "ratio", "reversed − median"], rows)))
    out.append(("p", "The last four columns measure against the map's median: where both motifs are present the "
                     "logit is sub-additive almost everywhere (the simulation's decoys hold both motifs in the wrong "
                     "arrangement and are negatives), which shifts every cell; the planted arrangement stands out "
                     "from that level."))
    for r in grammar:
        out.append(("img", (f"grammar_{r['rule']}", f"interaction maps of {r['first']} → {r['second']}: DanQ (top), "
                                                     f"CNN (bottom); planted order left, reversed right")))
    return out


def _clean(x):
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    return x


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------
def _fmt(x, digits: int = 3) -> str:
    return "NA" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _fmt_e(x) -> str:
    return "NA" if x is None or not np.isfinite(x) else f"{x:.2g}"


def _rule_text(r, names) -> str:
    if r["kind"] == "presence":
        return f"at least one {names[r['motif']]} site (either strand)"
    if r["kind"] == "grammar":
        return (f"{names[r['first']]} followed by {names[r['second']]} on the same strand, gap "
                f"{r['min_gap']}–{r['max_gap']} bp (decoys: wrong order, opposite strands, 90–300 bp apart)")
    if r["kind"] == "cluster":
        return f"≥ {r['min_copies']} {names[r['motif']]} sites within {r['window']} bp"
    return f"random labels, rate {r['rate']:.0%}"


def _sections(result, rules, planted, made, targets):
    """The report as a list of (kind, payload): ('h', text), ('p', text), ('table', (header, rows)),
    ('img', (key, alt)). Rendered to HTML and Markdown by the writers."""
    names = {m.id: m.name for m in planted}
    return (_intro_section(result) + _recovery_section(result, names, made)
            + _auc_section(result, rules, names, made, targets) + _curves_section()
            + _clusters_section(result, made) + _grammar_report(result.get("grammar"))
            + _attribution_report(result.get("attributions"), made)
            + _settings_section(result) + _timings_section(result))


def _intro_section(result):
    """Title and what was run."""
    s = result["settings"]
    tot = result["timings"].get("total")
    return [("h1", "motifq quickstart report"),
            ("p", f"Simulated data → DanQ, CNN and LR trained on this machine → evaluation → motifs from the "
                  f"DanQ kernels → Tomtom-like comparison with JASPAR 2024 → clustering. Size "
                  f"`{s['size']}`, seed {s['seed']}" + (f", {tot:.0f} s in all." if tot else "."))]


def _recovery_section(result, names, made):
    """The planted motifs, the learned kernel that matches each best, and their logos."""
    rec, n = result["recovered"], result["n_planted"]
    out = [("h2", "Planted motifs and what the DanQ learned")]
    out.append(("p", f"**{rec} of {n}** planted motifs recovered: a learned kernel matches the planted JASPAR "
                     f"matrix with E < {_EVALUE} (against all 879 JASPAR 2024 CORE vertebrate matrices). The DanQ "
                     f"started from random kernels, some seeded from k-mers enriched in a target's training "
                     f"positives (the default recipe; no JASPAR seeding): a seeded kernel's seed is named beside "
                     f"it. {result['learned_motifs']} kernels gave motifs (≥ 10 sites), "
                     f"{result['kernels_without_sites']} did not."))
    rows = []
    for r in result["recovery"]:
        kernel = r["kernel"] + (f" (seed {r['kernel_seed']})" if r.get("kernel_seed") else "")
        rows.append([f"{r['motif']} {r['name']}", kernel or "—", _fmt_e(r["evalue"]),
                     "yes" if r["recovered"] else "no",
                     f"{r['kernel_top_match']} {names.get(r['kernel_top_match'], '')}".strip() + f" ({_fmt_e(r['kernel_top_evalue'])})"
                     if r["kernel_top_match"] else "—"])
    out.append(("table", (["planted motif", "best learned kernel", "E-value", "recovered", "that kernel's best JASPAR match (E)"], rows)))
    out.append(("p", "Each logo pair: the learned kernel's motif (top) aligned with the planted JASPAR matrix "
                     "(bottom, reverse-complemented when the match is on the other strand)."))
    for r in result["recovery"]:
        key = f"logo_{r['motif']}"
        if key in made:
            out.append(("img", (key, f"{r['name']}: learned vs JASPAR")))
    return out


def _auc_section(result, rules, names, made, targets):
    """Per-target AUCs of every model, the grammar targets read beside their motifs' presence
    targets, and the AUC scatter plots."""
    out = [("h2", "Per-target AUCs on the test split: DanQ vs CNN vs LR")]
    out.append(("p", "Predictions are the mean of the forward and reverse-complement strands. **Grammar** targets "
                     "(marked ★) are positive only when two motifs occur in a given order, strand and spacing; "
                     "decoys hold the same two motifs otherwise, so co-occurrence alone cannot score them — the "
                     "BiLSTM is what should help there. Noise targets are random labels (AUC ≈ 0.5 expected)."))
    out.append(("table", _auc_table(result, rules, names, targets)))
    out += _grammar_notes(result, rules, targets)
    if "auc_scatter" in made:
        out.append(("img", ("auc_scatter", "PR AUC per target, DanQ against the CNN and the LR")))
    return out


def _auc_table(result, rules, names, targets):
    """(header, rows): one row per target (its kind and rule, PR and ROC AUC of every model),
    then the mean of each kind."""
    kinds = result["kinds"]
    metrics = result["metrics"]
    models = list(metrics)
    header = ["target", "kind", "rule"] + [f"{m} PR AUC" for m in models] + [f"{m} ROC AUC" for m in models]
    rows = []
    rule_by_name = {r["name"]: r for r in rules["targets"]}
    for t in targets:
        mark = " ★" if kinds[t] == "grammar" else ""
        row = [t + mark, kinds[t], _rule_text(rule_by_name[t], names)]
        row += [_fmt(metrics[m][t]["pr_auc"]) for m in models]
        row += [_fmt(metrics[m][t]["roc_auc"]) for m in models]
        rows.append(row)
    for kind in ("presence", "grammar", "cluster", "noise"):
        ts = [t for t in targets if kinds[t] == kind]
        if ts:
            row = [f"mean of {kind}", kind, f"{len(ts)} targets"]
            row += [_fmt(np.nanmean([metrics[m][t]["pr_auc"] for t in ts])) for m in models]
            row += [_fmt(np.nanmean([metrics[m][t]["roc_auc"] for t in ts])) for m in models]
            rows.append(row)
    return header, rows


def _grammar_notes(result, rules, targets):
    """DanQ against the CNN on the grammar targets, and each grammar PR AUC beside those of its
    two motifs' presence targets (paragraphs; none without grammar targets or either model)."""
    metrics = result["metrics"]
    g = [t for t in targets if result["kinds"][t] == "grammar"]
    if not (g and "DanQ" in metrics and "CNN" in metrics):
        return []
    d = np.nanmean([metrics["DanQ"][t]["pr_auc"] - metrics["CNN"][t]["pr_auc"] for t in g])
    out = [("p", f"On the grammar targets DanQ's PR AUC is {'ahead of' if d > 0 else 'not ahead of'} the "
                 f"CNN's by {d:+.3f} on average (same kernels, pooling, dense layer and training steps; "
                 f"the CNN lacks only the BiLSTM).")]
    rule_by_name = {r["name"]: r for r in rules["targets"]}
    presence = {r["motif"]: r["name"] for r in rules["targets"] if r["kind"] == "presence"}
    parts = []
    for t in g:
        r = rule_by_name[t]
        a, b = presence.get(r["first"]), presence.get(r["second"])
        if a is None or b is None:
            continue
        parts.append(f"{t}: " + ", ".join(
            f"{m} {_fmt(metrics[m][t]['pr_auc'])} (its presence PR AUCs {_fmt(metrics[m][a]['pr_auc'])}"
            f" / {_fmt(metrics[m][b]['pr_auc'])})" for m in ("DanQ", "CNN")))
    if parts:
        out.append(("p", "A grammar target can only be scored by a model that detects both of its motifs, so "
                         "read each grammar PR AUC beside how well the same model learned the two motifs on "
                         "their own: " + "; ".join(parts) + "."))
    return out


def _curves_section():
    """The training curves figure."""
    return [("h2", "Training curves"), ("img", ("training_curves", "training and validation loss"))]


def _clusters_section(result, made):
    """The cluster heatmap of the learned motifs, or why there is none."""
    out = [("h2", "Clusters of the learned motifs")]
    if "clusters" in made:
        out.append(("p", f"The {result['clustered']} learned motifs with ≥ 3 bits in all, clustered as RSAT "
                         f"matrix-clustering does (Pearson correlation and width-normalised correlation, average "
                         f"linkage) into {result['clusters']} clusters; kernels that learned the same motif (often "
                         f"one per strand) fall together."))
        out.append(("img", ("clusters", "clustered learned motifs")))
    else:
        out.append(("p", f"Only {result['clustered']} learned motifs have ≥ 3 bits in all: nothing to cluster."))
    return out


def _architecture(mc) -> str:
    """One model's architecture in words, from its settings entry."""
    if mc.get("kind") == "lr":
        return f"logistic regression on 1..{mc['kmax']}-mer counts"
    return (f"conv {mc['conv_kernels']}×{mc['conv_width']}, pool {mc['pool']}"
            + (f", BiLSTM {mc['lstm_units']}+{mc['lstm_units']}" if mc.get("kind") == "danq" else "")
            + f", dense {mc['dense']}, dropout {' / '.join(f'{d:g}' for d in mc['dropouts'])}")


def _settings_section(result):
    """The models and their training, why these settings (``small``), the data, extraction and
    comparison settings."""
    s = result["settings"]
    out = [("h2", "Settings")]
    rows = []
    for label, tr in s["training"].items():
        rows.append([label, _architecture(s["models"][label]), tr["optimizer"], str(tr["lr"]), str(tr["batch_size"]),
                     str(tr["steps_done"]), _fmt(tr["best_valid_loss"], 4)])
    out.append(("table", (["model", "architecture", "optimizer", "learning rate", "batch", "steps", "best valid loss"], rows)))
    if s["size"] == "small":
        out.append(("p", WHY_SETTINGS))
    d = s["data"]
    out.append(("p", f"Data: {d['n_train']:,} training, {d['n_valid']:,} validation and {d['n_test']:,} test sequences "
                     f"of {d['length']} bp (first-order Markov background with human dinucleotide frequencies). "
                     f"Initialisation of DanQ and CNN: {next(iter(s['training'].values()))['init']}; reverse-complement "
                     f"augmentation on. Motif extraction: Basset's rule (every window above "
                     f"{s['extraction']['threshold']:.0%} of the kernel's maximum), {s['extraction']['sequences']:,} sequences, edges below "
                     f"{s['extraction']['trim_bits']} bits trimmed. Comparison: Pearson column scores, overlap ≥ 5."))
    return out


def _timings_section(result):
    """Seconds per step and the machine."""
    rows = [[k, f"{v:.1f}"] for k, v in result["timings"].items()]
    s = result["settings"]
    m = s["machine"]
    return [("h2", "Time per step"), ("table", (["step", "seconds"], rows)),
            ("p", f"Python {m['python']} on {m['cpu']}, {m['threads']} torch threads, device `{s['device']}`.")]


def _md_inline(text: str) -> str:
    return text


def _html_inline(text: str) -> str:
    import re

    t = html.escape(text, quote=False)
    t = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", t)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", t)


def _write_reports(out: Path, result, rules, planted, made, targets) -> None:
    sections = _sections(result, rules, planted, made, targets)
    md, body = [], []
    for kind, payload in sections:
        if kind in ("h1", "h2"):
            md.append(("# " if kind == "h1" else "## ") + payload + "\n")
            body.append(f"<{kind}>{html.escape(payload)}</{kind}>")
        elif kind == "p":
            md.append(payload + "\n")
            body.append(f"<p>{_html_inline(payload)}</p>")
        elif kind == "table":
            header, rows = payload
            md.append("| " + " | ".join(header) + " |\n| " + " | ".join("---" for _ in header) + " |")
            md.extend("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows)
            md.append("")
            body.append("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead><tbody>"
                        + "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
                        + "</tbody></table>")
        elif kind == "img":
            key, alt = payload
            path = made[key]
            md.append(f"![{alt}](figures/{path.name})\n")
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            body.append(f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{html.escape(alt)}</figcaption></figure>")
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 7px;"
             "text-align:left}th{background:#f3f3f3}img{max-width:100%}figure{display:inline-block;margin:0.5em}"
             "figcaption{font-size:0.8em;color:#555}code{background:#f3f3f3;padding:0 3px}")
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>motifq quickstart report</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
    with atomic_write(out / "report.html") as fh:
        fh.write(page)
    with atomic_write(out / "report.md") as fh:
        fh.write("\n".join(md) + "\n")

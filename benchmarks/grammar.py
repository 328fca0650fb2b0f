"""Grammar maps of a trained DanQ and CNN against the simulation's planted rules, and speed.

Run: PYTHONPATH=. python benchmarks/grammar.py [--quickstart DIR] [--n 32] [--speed-n 200] [--speed-pairs 6]
     [--speed-only | --maps-only] [--train-only]

1. Models: the quickstart's data and trained DanQ and CNN (``motifq quickstart --size small``,
   seed 0, one thread: 60,000 training sequences of 300 bp, ``motifq train``'s default recipe),
   from ``--quickstart DIR`` or run once into benchmarks/_work/grammar/quickstart (gitignored).
2. Science: for each planted rule (``rules.json``), ``grammar`` maps of both orders, four strand
   combinations, gaps 0..100, on 200 simulated backgrounds; the interaction inside the planted
   window (planted order and strands, gap min_gap..max_gap) against outside, and the reversed
   order's map, for the DanQ and the CNN.
3. Speed: one pair scored by full forward passes and incrementally in the same run (the ratio, and
   the largest difference of the two tables); and the issue's job, all pairs of 20 motifs x 101 gaps
   x 8 orientations x 200 backgrounds on the DanQ, timed on a subset of its pairs on 1 and 2 threads
   and scaled to 190 pairs (stated as such). ``--speed-only`` runs this part alone, on an untrained
   DanQ of the quickstart's size, and replaces only the speed section of the results file.

Writes benchmarks/results/grammar.md.
"""
import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work" / "grammar"


def train_models(work: Path = WORK, seed: int = 0, folder=None) -> dict:
    """The quickstart's data and trained DanQ and CNN: those of an existing ``motifq quickstart``
    output `folder`, or of a ``small`` quickstart run once into ``work/quickstart`` (cached)."""
    from motifq.quickstart import quickstart

    qs = Path(folder) if folder else work / "quickstart"
    paths = {"data": qs / "data", "danq": qs / "models" / "danq.pt", "cnn": qs / "models" / "cnn.pt",
             "folder": qs}
    if not (paths["danq"].exists() and paths["cnn"].exists() and (qs / "quickstart.json").exists()):
        if folder:
            raise SystemExit(f"{qs}: not a finished quickstart output (needs models/danq.pt, cnn.pt, quickstart.json)")
        t = time.perf_counter()
        quickstart(qs, size="small", seed=seed, threads=1, progress=False)
        print(f"quickstart in {time.perf_counter() - t:.0f} s", flush=True)
    return paths


def science(paths: dict, kind: str, n: int, max_gap: int, gap_step: int, seed: int = 0) -> list:
    """Rule maps of one model (``danq`` or ``cnn``): rows for the results table, cached in WORK."""
    from motifq.data.simulate import read_truth
    from motifq.grammar import backgrounds, rule_maps
    from motifq.models import load_checkpoint

    planted, rules, _ = read_truth(paths["data"])
    model, ckpt = load_checkpoint(paths[kind])
    bg = backgrounds("simulated", n, model.config.length, seed)
    t = time.perf_counter()
    maps = rule_maps(model, planted, rules, ckpt["targets"], bg, max_gap=max_gap,
                     gaps=np.arange(0, max_gap + 1, gap_step), rng=seed)
    dt = time.perf_counter() - t
    rows = [(kind, m["rule"]["name"], m["cells"], m["verdict"], dt / len(maps)) for m in maps]
    for m in maps:
        m["table"].to_csv(WORK / f"map_{kind}_{m['rule']['name']}.tsv", sep="\t", index=False)
    (WORK / f"science_{kind}.json").write_text(json.dumps(rows))
    return rows


def small_danq(n_targets: int = 13):
    """A DanQ of the quickstart's ``small`` size (300 bp, 64 kernels of 24, pool 13, BiLSTM 32+32,
    dense 64, 13 targets) with its initial weights: a forward pass costs what a trained one costs."""
    import torch

    from motifq.config import ModelConfig
    from motifq.models import build_model
    from motifq.quickstart import SIZES

    s = SIZES["small"]
    torch.manual_seed(0)
    mc = ModelConfig.for_kind("danq", n_targets=n_targets, length=s["length"], conv_kernels=s["kernels"],
                              conv_width=s["width"], pool=s["pool"], lstm_units=s["lstm"], dense=s["dense"],
                              dropouts=s["dropouts"])
    return build_model(mc).eval()


def _timed(fn):
    """(seconds, result) of fn()."""
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def speed_ratio(model, n: int, seed: int = 0) -> dict:
    """One pair (Spi1, ESRRB; gaps 0..100, 8 orientations, `n` backgrounds) scored by full forward
    passes of every arrangement (the method before the incremental one) and incrementally, in the
    same run: seconds, forward passes per second and the largest difference of the tables."""
    from motifq.grammar import backgrounds, pair_map
    from motifq.jaspar import load_motifs

    a, b = load_motifs("jaspar2024:MA0080.7,MA0141.4")
    bg = backgrounds("simulated", n, model.config.length, seed)
    t_full, full = _timed(lambda: pair_map(model, a, b, bg, max_gap=100, rng=seed, method="full"))
    t_inc, inc = _timed(lambda: pair_map(model, a, b, bg, max_gap=100, rng=seed, method="incremental"))
    cols = ["effect", "interaction", "ci_low", "ci_high"]
    seqs = (2 * 4 * 101 + 2 * 2 * 101 + 2 * 2 + 1) * n     # pairs, second alone, first alone, empty
    return {"n": n, "sequences": seqs, "full_s": t_full, "incremental_s": t_inc, "ratio": t_full / t_inc,
            "full_per_s": 2 * seqs / t_full, "incremental_per_s": 2 * seqs / t_inc,
            "max_diff": float((full[cols] - inc[cols]).abs().to_numpy().max()),
            "max_abs": float(full[cols].abs().to_numpy().max())}


def exactness(model, n: int = 20, scale: float = 6.0, seed: int = 0) -> dict:
    """The largest difference between the full and incremental tables of one pair (gaps 0..100 every
    5 bp, `n` backgrounds) for `model` with every weight multiplied by `scale` (an untrained DanQ's
    logits barely move; scaled, its gates saturate and the interactions are of order 1)."""
    import copy

    import torch

    from motifq.grammar import backgrounds, pair_map
    from motifq.jaspar import load_motifs

    big = copy.deepcopy(model)
    with torch.no_grad():
        for p in big.parameters():
            p.mul_(scale)
    a, b = load_motifs("jaspar2024:MA0080.7,MA0141.4")
    bg = backgrounds("simulated", n, model.config.length, seed)
    gaps = np.arange(0, 101, 5)
    full, inc = (pair_map(big, a, b, bg, max_gap=100, gaps=gaps, rng=seed, method=m) for m in ("full", "incremental"))
    cols = ["effect", "interaction", "ci_low", "ci_high"]
    return {"n": n, "scale": scale, "max_diff": float((full[cols] - inc[cols]).abs().to_numpy().max()),
            "max_abs": float(full[cols].abs().to_numpy().max())}


def speed_workload(model, n: int = 200, n_pairs: int = 6, threads=(1, 2), seed: int = 0) -> dict:
    """The issue's job, all 190 pairs of 20 motifs x 101 gaps x 8 orientations x `n` backgrounds,
    timed on `n_pairs` of its pairs (20 JASPAR 2024 motifs drawn with `seed`) on each thread count
    and scaled to 190 pairs."""
    import torch

    from motifq.grammar import all_pairs, backgrounds, pair_map
    from motifq.jaspar import load_motifs

    rng = np.random.default_rng(seed)
    every = load_motifs("jaspar2024")
    motifs = [every[i] for i in rng.choice(len(every), 20, replace=False)]
    pairs = all_pairs(motifs)
    chosen = [pairs[i] for i in sorted(rng.choice(len(pairs), n_pairs, replace=False))]
    bg = backgrounds("simulated", n, model.config.length, seed)
    out = {"n": n, "pairs": [(a.id, a.width, b.id, b.width) for a, b in chosen], "threads": {}}
    for k in threads:
        torch.set_num_threads(k)
        load, cpu = os.getloadavg()[0], time.process_time()
        dt, _ = _timed(lambda: [pair_map(model, a, b, bg, max_gap=100, rng=seed) for a, b in chosen])
        cpu = time.process_time() - cpu
        out["threads"][k] = {"seconds": dt, "per_pair": dt / n_pairs, "all_190": dt / n_pairs * 190, "load": load,
                             "cpu_190": cpu / n_pairs * 190}
    torch.set_num_threads(1)
    return out


def speed(paths, n: int, n_pairs: int, seed: int = 0) -> dict:
    """Both speed measurements on the DanQ (the trained one of `paths`, or :func:`small_danq` when
    `paths` is None)."""
    from motifq.models import load_checkpoint

    model = load_checkpoint(paths["danq"])[0] if paths else small_danq()
    return {"load": os.getloadavg()[0], "ratio": speed_ratio(model, n, seed), "exact": exactness(model, seed=seed),
            "workload": speed_workload(model, 200, n_pairs, seed=seed)}


def speed_lines(sp, args, model_words: str) -> list:
    """The speed section: old against new on one pair, and the issue's job scaled from a subset."""
    r, w, e = sp["ratio"], sp["workload"], sp["exact"]
    one, two = w["threads"][1], w["threads"][2]
    pairs = ", ".join(f"{a} ({wa} bp) x {b} ({wb} bp)" for a, wa, b, wb in w["pairs"])
    return ["## Speed", "",
            f"Command: `PYTHONPATH=. python benchmarks/grammar.py --speed-n {args.speed_n} --speed-pairs "
            f"{args.speed_pairs}{' --speed-only' if args.speed_only else ''}`; {platform.machine()}, "
            f"{os.cpu_count()} cores shared with other jobs (load average {sp['load']:.1f} when the run began; timings "
            f"vary with that load: compare the ratios measured in one run). Model: {model_words}. `pair_map` scores a DanQ incrementally "
            "(`motifq.incremental`: only the pooled cells an insertion changes, the BiLSTM from the first and "
            "last changed step, from cached states of the background and of each motif alone); "
            "`method=\"full\"` runs a forward pass of every sequence, as before.", "",
            f"Same pair, same run, one thread (Spi1 x ESRRB: gaps 0..100, 8 orientations, {r['n']} backgrounds = "
            f"{r['sequences']:,} sequences, each with its reverse complement): full forward passes "
            f"{r['full_s']:.1f} s ({r['full_per_s']:,.0f} passes per second), incremental {r['incremental_s']:.2f} s "
            f"({r['incremental_per_s']:,.0f} passes per second equivalent): **{r['ratio']:.1f}x** faster. Largest "
            f"difference between the two tables (effect, interaction, CI bounds): {r['max_diff']:.1e} (largest "
            f"|value| {r['max_abs']:.2g}); with the same DanQ's weights scaled {e['scale']:g}x (saturated gates; "
            f"{e['n']} backgrounds, gaps every 5 bp): {e['max_diff']:.1e} (largest |value| {e['max_abs']:.2g}).", "",
            f"The issue's job (all 190 pairs of 20 motifs x 101 gaps x 8 orientations x {w['n']} backgrounds), "
            f"timed on {len(w['pairs'])} of its pairs (20 JASPAR 2024 motifs drawn at random: {pairs}) and "
            f"scaled to 190 pairs: one thread {one['seconds']:.0f} s, {one['per_pair']:.1f} s per pair, "
            f"**{one['all_190'] / 60:.0f} min** for all 190 pairs (process CPU time scaled the same way: "
            f"{one['cpu_190'] / 60:.0f} min, roughly what a core of its own would take); two threads (the two strands side by side; load "
            f"average {two['load']:.1f} as they began) {two['seconds']:.0f} s, "
            f"{two['per_pair']:.1f} s per pair, **{two['all_190'] / 60:.0f} min** (the full forward path "
            f"scaled the same way: {2 * 190 * (808 + 404 + 5) * w['n'] / r['full_per_s'] / 3600:.1f} h on one "
            "thread). Fewer backgrounds (the CI widens as 1/sqrt(n)) or fewer gaps (`gaps=`) cut it "
            "proportionally.", ""]


def maps_lines(rows, args, train_note) -> list:
    """The maps part of the results file (everything before the speed section)."""
    lines = ["# grammar: the planted rules' maps on the quickstart's DanQ and CNN, and speed", "",
             f"Command: `PYTHONPATH=. python benchmarks/grammar.py --n {args.n} --max-gap {args.max_gap} "
             f"--gap-step {args.gap_step}{' --maps-only' if args.maps_only else f' --speed-n {args.speed_n}'}`. One torch thread; "
             f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs. {train_note}", "",
             f"Maps: {args.n} simulated backgrounds (300 bp, human-like Markov chain), instances sampled from the "
             f"PFMs, gaps 0..{args.max_gap} every {args.gap_step} bp, both orders, four strand combinations, "
             f"forward + reverse-complement mean of the logit of the rule's own target. Inside = the planted "
             f"order and strands (A(+) then B(+), and B(-) then A(-)) at the planted gaps 15..45; outside = every "
             f"other cell; reversed = B(+) then A(+) and A(-) then B(-) at 15..45.", "",
             "| model | rule | mean inside | mean outside | mean abs outside | inside / abs outside (goal >= 5) | "
             "reversed | reversed / inside |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for kind, name, c, _, _ in rows:
        lines.append(f"| {kind} | {name} | {c['inside']:.3f} | {c['outside']:.3f} | {c['outside_abs']:.3f} | "
                     f"**{c['ratio']:.2f}** | {c['reversed']:.3f} | {c['reversed_ratio']:.2f} |")
    lines += ["", "Against the map's median (every cell where both motifs are present is shifted by the logit's "
              "sub-additivity; see below):", "",
              "| model | rule | median | inside - median | mean abs(outside - median) | ratio | reversed - median | "
              "mean effect inside | mean effect outside |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for kind, name, c, _, _ in rows:
        lines.append(f"| {kind} | {name} | {c['baseline']:.3f} | {c['inside_excess']:.3f} | {c['outside_excess']:.3f} "
                     f"| **{c['excess_ratio']:.2f}** | {c['reversed_excess']:.3f} | {c['effect_inside']:.2f} | "
                     f"{c['effect_outside']:.2f} |")
    lines += ["", "Verdicts (`motifq.grammar.verdict`):", ""]
    lines += [f"- {kind}: {v}" for kind, _, _, v, _ in rows]
    return lines


def report(rows, sp, args, train_note) -> str:
    return "\n".join(maps_lines(rows, args, train_note) + [""] + speed_lines(sp, args, "the quickstart's trained DanQ"))


def _with_maps(path: Path, lines: list) -> str:
    """The results file with its maps part replaced by `lines` (the speed section is kept)."""
    old = path.read_text() if path.exists() else ""
    speed_part = old[old.index("\n## Speed") + 1:] if "\n## Speed" in old else ""
    return "\n".join(lines) + "\n\n" + speed_part


def _with_speed(path: Path, lines: list) -> str:
    """The results file with its speed section replaced by `lines` (the maps part, written by a full
    run, is kept; a file without one gets a header saying how to make it)."""
    old = path.read_text() if path.exists() else ""
    if "\n## Speed" in old:
        return old[:old.index("\n## Speed") + 1] + "\n".join(lines)
    return "\n".join(["# grammar: speed of the in-silico insertion maps", "",
                      "The science part (the planted rules' maps on the quickstart's trained DanQ and CNN) is "
                      "written to this file by the full run: `PYTHONPATH=. python benchmarks/grammar.py "
                      "[--quickstart DIR]` (it runs `motifq quickstart --size small` first when no DIR is given).",
                      ""] + lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train-only", action="store_true")
    ap.add_argument("--quickstart", help="a finished `motifq quickstart --size small` output folder to use")
    ap.add_argument("--speed-only", action="store_true",
                    help="only the speed part, on an untrained DanQ of the quickstart's size")
    ap.add_argument("--science", choices=["danq", "cnn"], help="only the maps of this (trained) model, cached")
    ap.add_argument("--reuse", action="store_true", help="use maps cached by --science")
    ap.add_argument("--maps-only", action="store_true",
                    help="only the maps part: replace it in the results file and keep the speed section")
    ap.add_argument("--n", type=int, default=32, help="backgrounds per map (default: 32)")
    ap.add_argument("--max-gap", type=int, default=100)
    ap.add_argument("--gap-step", type=int, default=2)
    ap.add_argument("--speed-n", type=int, default=200,
                    help="backgrounds of the pair timed both ways, full and incremental (default: 200)")
    ap.add_argument("--speed-pairs", type=int, default=6,
                    help="pairs of the 190 timed at 200 backgrounds on 1 and 2 threads (default: 6)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    WORK.mkdir(parents=True, exist_ok=True)
    if args.speed_only:
        sp = speed(None, args.speed_n, args.speed_pairs)
        lines = speed_lines(sp, args, "a DanQ of the quickstart's small size with its initial weights (a forward "
                                      "pass, full or incremental, costs the same as a trained one's)")
        text = _with_speed(HERE / "results" / "grammar.md", lines)
        (HERE / "results" / "grammar.md").write_text(text)
        print("\n".join(lines))
        return 0
    paths = train_models(folder=args.quickstart)
    if args.science:
        science(paths, args.science, args.n, args.max_gap, args.gap_step)
        return 0
    if args.train_only:
        return 0
    rows = []
    for kind in ("danq", "cnn"):
        cached = WORK / f"science_{kind}.json"
        rows += [tuple(r) for r in json.loads(cached.read_text())] if cached.exists() and args.reuse else \
            science(paths, kind, args.n, args.max_gap, args.gap_step)
    note = ("Models: the DanQ and CNN of `motifq quickstart --size small --seed 0 --threads 1` "
            f"({'given with --quickstart' if args.quickstart else 'run by this script'}).")
    if args.maps_only:
        text = _with_maps(HERE / "results" / "grammar.md", maps_lines(rows, args, note))
        (HERE / "results" / "grammar.md").write_text(text)
        print(text)
        return 0
    sp = speed(paths, args.speed_n, args.speed_pairs)
    text = report(rows, sp, args, note)
    (HERE / "results" / "grammar.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

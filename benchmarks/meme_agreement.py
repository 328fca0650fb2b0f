"""Agreement of motifq's comparison with MEME's Tomtom, on the compare benchmark's workload.

Runs MEME's ``tomtom`` (a binary you provide: MEME is not a motifq dependency) and
``motifq.compare.compare`` on the same two MEME files, the first 320 JASPAR 2016 motifs (by
matrix ID) against the 879 JASPAR 2024 CORE vertebrates, for ``-dist ed`` and ``-dist pearson``
(MEME's defaults otherwise: ``-min-overlap 1``, ``-motif-pseudo 0.1``, both strands), every pair
kept (``-evalue -thresh 1e6``; ``-no-ssc``, Tomtom's default). Then, over the pairs both report:

* Spearman correlation of log10 p-values;
* the fraction of queries whose best target (lowest p, Tomtom's first row) is the same;
* the queries with a match at E < 0.01 in each tool, and the pairs significant in one only;
* offset, overlap and orientation agreement of the pairs;
* the smallest p-values, and pairs that one tool reports as 0 and the other does not.

Then, in memelite's setting (``ed``, no pseudocount: ``tomtom -motif-pseudo 0``), the same
Spearman, best-target and E < 0.01 figures for motifq and for memelite.tomtom at its defaults and
with ``n_target_bins=None`` (skip with --no-memelite).

Writes benchmarks/results/meme_agreement.md (and the Tomtom tables next to it with --keep).

Usage: PYTHONPATH=. python benchmarks/meme_agreement.py --tomtom /path/to/tomtom
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.compare import workload  # noqa: E402
from motifq.compare import compare  # noqa: E402
from motifq.formats import read_meme, write_meme  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "meme_agreement.md"
EVALUE = 0.01


def run_tomtom(tomtom, queries, targets, dist, pseudo=0.1):
    """Tomtom's -text table (pandas) and its wall time."""
    import pandas as pd

    cmd = [tomtom, "-no-ssc", "-text", "-min-overlap", "1", "-dist", dist, "-evalue",
           "-thresh", "1000000", "-motif-pseudo", str(pseudo), str(queries), str(targets)]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    lines = [ln for ln in res.stdout.splitlines() if ln and not ln.startswith("#")]
    rows = [ln.split("\t") for ln in lines[1:]]
    df = pd.DataFrame(rows, columns=lines[0].lstrip("#").split("\t"))
    for c in ("Optimal_offset", "Overlap"):
        df[c] = df[c].astype(int)
    for c in ("p-value", "E-value", "q-value"):
        df[c] = df[c].astype(float)
    return df, wall


def spearman(a, b):
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def agreement(meme, mq, n_queries):
    """Numbers comparing two -text tables (MEME's and motifq's) with every pair."""
    m = meme.merge(mq, on=["Query_ID", "Target_ID"], suffixes=("_meme", "_mq"))
    lp_meme = np.log10(np.maximum(m["p-value_meme"].to_numpy(), 1e-300))
    lp_mq = np.log10(np.maximum(m["p-value_mq"].to_numpy(), 1e-300))
    # Tomtom's first row per query is its best target (sorted by p, then its tie order)
    top_meme = meme.groupby("Query_ID", sort=False)["Target_ID"].first()
    top_mq = mq.groupby("Query_ID", sort=False)["Target_ID"].first()
    same_top = float((top_meme == top_mq.reindex(top_meme.index)).mean())
    sig_meme = m["E-value_meme"] < EVALUE
    sig_mq = m["E-value_mq"] < EVALUE
    q_meme = set(m.loc[sig_meme, "Query_ID"])
    q_mq = set(m.loc[sig_mq, "Query_ID"])
    same_strand = m["Orientation_meme"] == m["Orientation_mq"]
    differ = ~same_strand | (m["Optimal_offset_meme"] != m["Optimal_offset_mq"]) | (m["Overlap_meme"] != m["Overlap_mq"])
    both = (m["p-value_meme"] > 0).to_numpy()  # MEME prints p below ~1e-45 as 0
    return {
        "pairs": len(m), "pairs_meme": len(meme), "pairs_motifq": len(mq),
        "spearman": spearman(lp_meme, lp_mq),
        "spearman_sig": spearman(lp_meme[sig_meme], lp_mq[sig_meme]) if sig_meme.sum() > 2 else float("nan"),
        "max_abs_dlog10p": float(np.max(np.abs(lp_meme - lp_mq)[both])),
        "median_abs_dlog10p": float(np.median(np.abs(lp_meme - lp_mq))),
        "same_top": same_top, "n_queries": n_queries,
        "q_sig_meme": len(q_meme), "q_sig_mq": len(q_mq), "q_sig_both": len(q_meme & q_mq),
        "pairs_sig_meme": int(sig_meme.sum()), "pairs_sig_mq": int(sig_mq.sum()),
        "pairs_sig_one": int((sig_meme != sig_mq).sum()),
        "same_strand": float(same_strand.mean()),
        "same_offset": float(((m["Optimal_offset_meme"] == m["Optimal_offset_mq"]) & same_strand).mean()),
        "same_overlap": float((m["Overlap_meme"] == m["Overlap_mq"]).mean()),
        "differ_min_p": float(m.loc[differ, ["p-value_meme", "p-value_mq"]].min(axis=1).min()) if differ.any() else float("nan"),
        "min_p_meme": float(m["p-value_meme"].min()), "min_p_mq": float(m["p-value_mq"].min()),
        "zero_mq_only": int(((m["p-value_mq"] == 0) & (m["p-value_meme"] > 0)).sum()),
        "zero_meme_only": int(((m["p-value_meme"] == 0) & (m["p-value_mq"] > 0)).sum()),
    }


def p_agreement(meme, pvalue, query_ids, target_ids):
    """Agreement of a p-value matrix (n_queries, n_targets) with MEME's table: Spearman of log10
    p, same best target, queries with a match at E < EVALUE."""
    qi = {q: i for i, q in enumerate(query_ids)}
    ti = {t: j for j, t in enumerate(target_ids)}
    rows = meme["Query_ID"].map(qi).to_numpy()
    cols = meme["Target_ID"].map(ti).to_numpy()
    p_other = pvalue[rows, cols]
    p_meme = meme["p-value"].to_numpy()
    lp = lambda x: np.log10(np.maximum(x, 1e-300))  # noqa: E731
    top_meme = meme.groupby("Query_ID", sort=False)["Target_ID"].first()
    top_other = {q: target_ids[int(np.argmin(pvalue[qi[q]]))] for q in top_meme.index}
    n = len(target_ids)
    sig_meme = set(meme.loc[p_meme * n < EVALUE, "Query_ID"])
    sig_other = {q for q in query_ids if (pvalue[qi[q]] * n < EVALUE).any()}
    return {"spearman": spearman(lp(p_meme), lp(p_other)),
            "same_top": float(np.mean([top_other[q] == t for q, t in top_meme.items()])),
            "q_sig": f"{len(sig_meme)} / {len(sig_other)} / {len(sig_meme & sig_other)}",
            "pairs_sig_one": int(((p_meme * n < EVALUE) != (p_other * n < EVALUE)).sum())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tomtom", required=True, help="MEME's tomtom binary")
    ap.add_argument("--dist", nargs="+", default=["ed", "pearson"])
    ap.add_argument("--keep", action="store_true", help="keep Tomtom's tables in benchmarks/results/")
    ap.add_argument("--no-memelite", action="store_true",
                    help="skip the comparison of memelite (ed, no pseudocount) with MEME")
    a = ap.parse_args(argv)

    version = subprocess.run([a.tomtom, "-version"], capture_output=True, text=True).stdout.strip()
    queries, targets = workload()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        qf, tf = Path(tmp) / "queries.meme", Path(tmp) / "targets.meme"
        write_meme(qf, queries)
        write_meme(tf, targets)
        # both tools read the same files (probabilities as written, 6 decimals)
        q_read, t_read = read_meme(qf), read_meme(tf)
        for dist in a.dist:
            meme, wall = run_tomtom(a.tomtom, qf, tf, dist)
            if a.keep:
                meme.to_csv(RESULTS.parent / f"tomtom_{dist}.tsv", sep="\t", index=False)
            compare(q_read, t_read, dist=dist, report_all=True)  # compile / warm up
            t0 = time.perf_counter()
            mq = compare(q_read, t_read, dist=dist, report_all=True)
            wall_mq = time.perf_counter() - t0
            out[dist] = agreement(meme, mq, len(queries)) | {"wall_meme": wall, "wall_mq": wall_mq}
            print(dist, out[dist], flush=True)
        lite = {}
        if not a.no_memelite:
            # memelite's setting: ed, no pseudocount; MEME and motifq run the same way
            from memelite import tomtom as memelite_tomtom
            from motifq.compare import pvalue_matrix

            meme0, _ = run_tomtom(a.tomtom, qf, tf, "ed", pseudo=0)
            Q = [m.probabilities().T.copy() for m in q_read]
            T = [m.probabilities().T.copy() for m in t_read]
            qids, tids = [m.id for m in q_read], [m.id for m in t_read]
            lite["motifq (motif_pseudo=0)"] = p_agreement(
                meme0, pvalue_matrix(q_read, t_read, dist="ed", motif_pseudo=0).pvalue, qids, tids)
            lite["memelite 0.5.0, its defaults"] = p_agreement(
                meme0, np.asarray(memelite_tomtom(Q, T)[0], dtype=np.float64), qids, tids)
            lite["memelite 0.5.0, n_target_bins=None"] = p_agreement(
                meme0, np.asarray(memelite_tomtom(Q, T, n_target_bins=None)[0], dtype=np.float64), qids, tids)
            print(lite, flush=True)

    lines = ["# motifq compare vs MEME Tomtom", "",
             f"Workload: the {len(queries)} first JASPAR 2016 motifs (by matrix ID) × the {len(targets)} JASPAR 2024 "
             f"CORE vertebrates, both strands, MEME's defaults (min overlap 1, motif pseudocount 0.1), every pair "
             f"kept. MEME Tomtom {version} (`tomtom -no-ssc -text -evalue -thresh 1e6 -dist D`) and motifq read the "
             f"same two MEME files. Written by `PYTHONPATH=. python benchmarks/meme_agreement.py --tomtom PATH` "
             f"on {os.cpu_count()} CPU cores. Statistics over the query-target pairs both tools report.", "",
             "| | " + " | ".join(f"`{d}`" for d in out) + " |",
             "| --- | " + " | ".join("---:" for _ in out) + " |"]
    rows = [
        ("pairs compared", lambda r: f"{r['pairs']:,}"),
        ("Spearman(log10 p), all pairs", lambda r: f"{r['spearman']:.7f}"),
        (f"Spearman(log10 p), pairs with MEME E < {EVALUE}", lambda r: f"{r['spearman_sig']:.7f}"),
        ("median / max abs. difference of log10 p (pairs where MEME's p > 0)",
         lambda r: f"{r['median_abs_dlog10p']:.2g} / {r['max_abs_dlog10p']:.2g}"),
        ("queries with the same best target", lambda r: f"{r['same_top']:.1%}"),
        (f"queries with a match at E < {EVALUE}: MEME / motifq / both",
         lambda r: f"{r['q_sig_meme']} / {r['q_sig_mq']} / {r['q_sig_both']}"),
        (f"pairs at E < {EVALUE}: MEME / motifq / in one only",
         lambda r: f"{r['pairs_sig_meme']:,} / {r['pairs_sig_mq']:,} / {r['pairs_sig_one']}"),
        ("same orientation / offset (and orientation) / overlap",
         lambda r: f"{r['same_strand']:.2%} / {r['same_offset']:.2%} / {r['same_overlap']:.2%}"),
        ("smallest p of a pair whose orientation, offset or overlap differ", lambda r: f"{r['differ_min_p']:.4g}"),
        ("smallest p: MEME / motifq", lambda r: f"{r['min_p_meme']:.3g} / {r['min_p_mq']:.3g}"),
        ("p = 0 in motifq only / in MEME only", lambda r: f"{r['zero_mq_only']} / {r['zero_meme_only']}"),
        ("wall time, MEME Tomtom (1 core) / motifq compare, full table (s)",
         lambda r: f"{r['wall_meme']:.1f} / {r['wall_mq']:.2f}"),
    ]
    for name, f in rows:
        lines.append(f"| {name} | " + " | ".join(f(r) for r in out.values()) + " |")
    if lite:
        lines += ["", "## `ed` without pseudocount (memelite's setting), against `tomtom -dist ed -motif-pseudo 0`",
                  "", "memelite's default merges target columns whose letter frequencies fall in the same 1/100 bins "
                  "(`n_target_bins=100`) and takes medians from 1,000 bins.", "",
                  "| tool | Spearman(log10 p), all pairs | same best target | queries with a match at E < 0.01: "
                  "MEME / tool / both | pairs at E < 0.01 in one only |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for name, r in lite.items():
            lines.append(f"| {name} | {r['spearman']:.7f} | {r['same_top']:.1%} | {r['q_sig']} | {r['pairs_sig_one']} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("wrote", RESULTS.relative_to(ROOT))


if __name__ == "__main__":
    main()

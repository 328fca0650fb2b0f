"""Benchmark motifq's Tomtom-like comparison against memelite.tomtom, in one run.

Workload: the first 320 JASPAR 2016 motifs (by matrix ID) against the 879 JASPAR 2024 CORE
vertebrate motifs, both strands. Measures, for each tool in this same run:

* warm wall time (median of --repeats calls) of the all-pairs computation
  (motifq ``pvalue_matrix`` for ``ed`` and ``pearson``, and the full ``compare`` table with
  q-values; memelite ``tomtom``, which has ``ed`` only, at its defaults and with its approximate
  merging of similar target columns turned off, ``n_target_bins=None``);
* the first call in a fresh process, including the import of the tool and numba (the numba
  on-disk cache is warm);
* with --cold, the first call in a fresh process with an empty numba cache (compilation);
* the CLI end to end in a new process (``motifq compare queries.meme jaspar2024 -o out.tsv``);
* agreement with memelite for ``ed``: Spearman correlation of log p-values over all pairs and the
  fraction of queries with the same top-1 target (motifq with ``motif_pseudo=0``, memelite's
  setting, and with MEME's default 0.1).

Writes benchmarks/results/compare.md. ``--golden`` instead writes the memelite p-values used by
tests/test_compare.py (20 of the queries against all 879 targets).

Usage: PYTHONPATH=. python benchmarks/compare.py [--repeats 5] [--cold] [--golden]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from motifq.jaspar import load_bundled  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "compare.md"
GOLDEN = ROOT / "tests" / "data" / "memelite_ed_jaspar2016x2024.npz"


def workload():
    queries = sorted(load_bundled("jaspar2016"), key=lambda m: m.id)[:320]
    targets = load_bundled("jaspar2024")
    return queries, targets


def as_memelite(motifs):
    """memelite takes (4, W) probability matrices, A, C, G, T rows."""
    return [m.probabilities().T.copy() for m in motifs]


_FIRST_CALL = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from benchmarks.compare import workload, as_memelite
    q, t = workload()
    if {tool!r} == "memelite":
        Q, T = as_memelite(q), as_memelite(t)
        t0 = time.perf_counter()
        from memelite import tomtom
        tomtom(Q, T)
    else:
        t0 = time.perf_counter()
        from motifq.compare import pvalue_matrix
        pvalue_matrix(q, t, dist={dist!r})
    print(time.perf_counter() - t0)
""")


def first_call(tool, dist="ed", cold=False):
    """Seconds of the first call in a fresh process, with the import of the tool (memelite,
    numba) but not the data loading."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        if cold:
            env["NUMBA_CACHE_DIR"] = tmp
        code = _FIRST_CALL.format(root=str(ROOT), tool=tool, dist=dist)
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                           check=True)
    return float(r.stdout.strip().splitlines()[-1])


def cli_time(repeats):
    from motifq.formats import write_meme

    queries, _ = workload()
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        qf = Path(tmp) / "queries.meme"
        write_meme(qf, queries)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        for _ in range(repeats):
            out = Path(tmp) / "out.tsv"
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "motifq", "-q", "compare", str(qf), "jaspar2024", "-o", str(out)],
                           check=True, env=env, cwd=tmp)
            times.append(time.perf_counter() - t0)
            n_lines = out.read_text().count("\n")
    return statistics.median(times), min(times), n_lines


def write_golden():
    import memelite
    from memelite import tomtom

    queries, targets = workload()
    queries = queries[::16]
    r = tomtom(as_memelite(queries), as_memelite(targets))
    np.savez_compressed(GOLDEN, query_ids=np.array([m.id for m in queries]),
                        target_ids=np.array([m.id for m in targets]), pvalue=r[0].astype(np.float64),
                        version=np.array(memelite.__version__))
    print(f"wrote {GOLDEN.relative_to(ROOT)}: {r[0].shape}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cold", action="store_true", help="also time first calls with an empty numba cache")
    ap.add_argument("--golden", action="store_true", help="write the memelite test data and stop")
    args = ap.parse_args(argv)
    if args.golden:
        write_golden()
        return

    import memelite
    import numba
    from memelite import tomtom
    from scipy.stats import spearmanr

    from motifq.compare import compare, pvalue_matrix

    queries, targets = workload()
    Q, T = as_memelite(queries), as_memelite(targets)
    # make sure both are compiled / loaded from the cache before timing warm calls
    tomtom(Q, T)
    tomtom(Q, T, n_target_bins=None)
    pvalue_matrix(queries, targets, dist="ed")
    pvalue_matrix(queries, targets, dist="pearson")

    # the calls are interleaved (one of each per round), so a change in machine load hits all alike
    fns = {
        "memelite.tomtom (ed)": lambda: tomtom(Q, T),
        # memelite's default merges target columns whose values fall in the same 1/100 bins
        # (approximate hashing); without it every target column is scored, as motifq and MEME do
        "memelite.tomtom (ed), n_target_bins=None (no merging of similar target columns)":
            lambda: tomtom(Q, T, n_target_bins=None),
        "motifq pvalue_matrix (ed)": lambda: pvalue_matrix(queries, targets, dist="ed"),
        "motifq pvalue_matrix (pearson)": lambda: pvalue_matrix(queries, targets, dist="pearson"),
        "motifq compare, full table with q-values (ed)": lambda: compare(queries, targets, dist="ed", report_all=True),
        "motifq compare, full table with q-values (pearson)":
            lambda: compare(queries, targets, dist="pearson", report_all=True),
    }
    times = {k: [] for k in fns}
    outs = {}
    for _ in range(args.repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            outs[k] = fn()
            times[k].append(time.perf_counter() - t0)
    ml = outs["memelite.tomtom (ed)"]
    base = statistics.median(times["memelite.tomtom (ed)"])
    rows = [(k, statistics.median(v), min(v), statistics.median(v) / base) for k, v in times.items()]

    first = [("memelite.tomtom (ed)", first_call("memelite")),
             ("motifq pvalue_matrix (ed)", first_call("motifq", "ed")),
             ("motifq pvalue_matrix (pearson)", first_call("motifq", "pearson"))]
    cold = []
    if args.cold:
        cold = [("memelite.tomtom (ed)", first_call("memelite", cold=True)),
                ("motifq pvalue_matrix (ed)", first_call("motifq", "ed", cold=True))]
    cli_med, cli_min, cli_lines = cli_time(args.repeats)

    ml_p = ml[0]
    agree = []
    for pseudo in (0.0, 0.1):
        ours = pvalue_matrix(queries, targets, dist="ed", motif_pseudo=pseudo).pvalue
        rho = spearmanr(np.log(ours).ravel(), np.log(ml_p).ravel())[0]
        top1 = float((ours.argmin(1) == ml_p.argmin(1)).mean())
        agree.append((pseudo, rho, top1, float(ours.min()), float(ml_p.min())))

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    lines = [
        "# motifq compare vs memelite.tomtom",
        "",
        f"Workload: first 320 JASPAR 2016 motifs (by matrix ID) × 879 JASPAR 2024 CORE vertebrates, both "
        f"strands. Measured in one run by `PYTHONPATH=. python benchmarks/compare.py"
        f"{' --cold' if args.cold else ''}` on {platform.machine()} with {os.cpu_count()} CPU cores, "
        f"numba {numba.__version__} ({numba.get_num_threads()} threads, both tools), memelite "
        f"{memelite.__version__}, numpy {np.__version__}. Load average at the end: "
        f"{load[0]:.1f} (the machine is shared, so absolute times vary between runs; compare rows "
        f"within this run).",
        "",
        "## Warm calls (median and best of {} interleaved rounds)".format(args.repeats),
        "",
        "| what | median (s) | best (s) | median / memelite |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {name} | {med:.3f} | {mn:.3f} | {ratio:.2f} |" for name, med, mn, ratio in rows]
    lines += ["", "## First call in a fresh process (import of the tool and numba included, data loading excluded)", "",
              "| what | numba cache warm (s) |" + (" empty numba cache (s) |" if cold else ""),
              "| --- | ---: |" + (" ---: |" if cold else "")]
    cold_d = dict(cold)
    for name, sec in first:
        lines.append(f"| {name} | {sec:.2f} |" + (f" {cold_d[name]:.1f} |" if name in cold_d else (" – |" if cold else "")))
    lines += ["", "## Command line, new process, end to end", "",
              f"`motifq -q compare queries.meme jaspar2024 -o out.tsv` (the 320 queries, pearson, q ≤ 0.5; "
              f"{cli_lines - 1} rows written): median {cli_med:.2f} s, best {cli_min:.2f} s over "
              f"{args.repeats} runs (numba cache warm).",
              "", "## Agreement with memelite (ed)", "",
              "memelite applies no pseudocount; MEME's default is 0.1.", "",
              "| motifq motif_pseudo | Spearman(log p), all 281,280 pairs | same top-1 target | smallest p motifq | smallest p memelite |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {ps} | {rho:.5f} | {top1:.3f} | {mp:.3g} | {mlp:.3g} |" for ps, rho, top1, mp, mlp in agree]
    lines.append("")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Check a change of the compare kernel (``motifq/_tomtom.py``) against an earlier revision:
outputs bit-identical, speed and compile time measured in one run.

The earlier kernel is read with ``git show REV:motifq/_tomtom.py`` into a temporary folder and
imported there under another name (its numba cache stays in that folder), so that both kernels
run on the same inputs in the same process.

* **Identical outputs**: p-values, offsets, overlaps, strands and the p-values of both strands,
  compared byte for byte, for ``ed``, ``pearson`` and ``sandelin`` at min-overlap 1 and 5, for
  each query set against the 879 JASPAR 2024 CORE vertebrate motifs; and for 40 queries against
  200 targets: one strand only, the targets in a shuffled layout (the kernel then copies their
  columns) and two threads.
* **Speed**: the workload of ``benchmarks/compare.py`` (first 320 JASPAR 2016 motifs by matrix
  ID x JASPAR 2024, both strands) on one thread (``NUMBA_NUM_THREADS=1`` is set before numba
  loads), ``ed`` and ``pearson``; the two kernels are called alternately, in alternating order,
  for ``--rounds`` rounds, and the medians of wall and CPU time (this process) are compared.
* **Compile time** (``--cold N``): the first call (target rows + kernel, 4 queries x 60
  targets) in N fresh processes per kernel, interleaved, each with an empty numba cache; CPU
  seconds of that call.

Writes benchmarks/results/compare_kernel.md; exits 1 when any output differs.

Usage: PYTHONPATH=. python benchmarks/compare_kernel.py --against REV [--queries FILE ...]
[--rounds 25] [--cold 3]   (e.g. ``--queries ../shared/reference/DanQ.meme`` adds the DanQ
kernels' motifs, 26 columns wide, as a second query set)
"""
from __future__ import annotations

import os

os.environ["NUMBA_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import importlib  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from motifq import _tomtom as new  # noqa: E402
from motifq.compare import DISTANCES, _prepare  # noqa: E402
from motifq.jaspar import load_bundled, load_motifs  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "compare_kernel.md"
FIELDS = ("P", "O", "L", "S", "p")


def load_before(rev: str, folder: str):
    """motifq/_tomtom.py at revision `rev`, imported from `folder` as ``_tomtom_before``."""
    src = subprocess.run(["git", "show", f"{rev}:motifq/_tomtom.py"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    (Path(folder) / "_tomtom_before.py").write_text(src)
    sys.path.insert(0, folder)
    return importlib.import_module("_tomtom_before")


def kernel_inputs(mod, queries, targets, dist, min_overlap):
    """The kernel's inputs as ``compare`` builds them, the target rows from `mod`."""
    _, _, qs, ts = _prepare(queries, targets, dist, min_overlap, 0.1)
    q_start = np.concatenate([[0], np.cumsum(qs.widths)[:-1]]).astype(np.int64)
    order = np.argsort(ts.widths, kind="stable").astype(np.int64)
    Tt, t_start = mod.target_rows(ts.cols, ts.widths, order, DISTANCES[dist] == 1)
    return DISTANCES[dist], qs.cols, q_start, qs.widths, Tt, t_start, ts.widths


def cases(query_sets, targets):
    """(name, kernel arguments after the inputs) of every identity check."""
    for qname, queries in query_sets.items():
        for dist in DISTANCES:
            for mo in (1, 5):
                yield f"{qname} {dist} min-overlap {mo}", queries, targets, dist, mo, None
    small_q, small_t = next(iter(query_sets.values()))[:40], targets[:200]
    perm = np.random.default_rng(0).permutation(len(small_t))
    yield "40 x 200 ed min-overlap 3, one strand", small_q, small_t, "ed", 3, "one strand"
    yield "40 x 200 ed min-overlap 3, shuffled targets, two threads", small_q, small_t, "ed", 3, perm


def run_case(mod, queries, targets, dist, mo, variant):
    d, Q, q_start, q_len, Tt, t_start, t_len = kernel_inputs(mod, queries, targets, dist, mo)
    if variant is None:
        return mod.tomtom_kernel(d, Q, q_start, q_len, Tt, t_start, t_len, 2, mo, 1, True)
    if isinstance(variant, str):
        return mod.tomtom_kernel(d, Q, q_start, q_len, Tt, t_start, t_len, 1, mo, 1, True)
    return mod.tomtom_kernel(d, Q, q_start, q_len, Tt, t_start[:, variant], t_len[variant], 2, mo, 2, True)


def identical(before, query_sets, targets):
    rows, n_bad = [], 0
    for name, *case in cases(query_sets, targets):
        a, b = run_case(before, *case), run_case(new, *case)
        bad = [f for f, x, y in zip(FIELDS, a, b)
               if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes()]
        n_bad += bool(bad)
        rows.append(f"| {name} | {a[0].shape[0]} x {a[0].shape[1]} | {'yes' if not bad else 'NO: ' + ', '.join(bad)} |")
    return rows, n_bad


def speed(before, rounds):
    queries = sorted(load_bundled("jaspar2016"), key=lambda m: m.id)[:320]
    targets = load_bundled("jaspar2024")
    rows = []
    for dist in ("ed", "pearson"):
        args = kernel_inputs(new, queries, targets, dist, 1)
        mods = {"before": before, "now": new}
        for mod in mods.values():
            mod.tomtom_kernel(*args, 2, 1, 1)
        wall = {k: [] for k in mods}
        cpu = {k: [] for k in mods}
        for r in range(rounds):
            for k in (("before", "now") if r % 2 == 0 else ("now", "before")):
                t0, c0 = time.perf_counter(), time.process_time()
                mods[k].tomtom_kernel(*args, 2, 1, 1)
                wall[k].append(time.perf_counter() - t0)
                cpu[k].append(time.process_time() - c0)
        med = {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in mods}
        paired = statistics.median(b / a for a, b in zip(cpu["before"], cpu["now"]))
        rows.append(f"| {dist} | {med['before'][0] * 1e3:.1f} | {med['now'][0] * 1e3:.1f} | "
                    f"{med['now'][0] / med['before'][0]:.3f} | {med['before'][1] * 1e3:.1f} | "
                    f"{med['now'][1] * 1e3:.1f} | {med['now'][1] / med['before'][1]:.3f} | {paired:.3f} |")
    return rows


_COLD = r"""
import resource, sys
sys.path.insert(0, {root!r})
from benchmarks.compare_kernel import kernel_inputs
from motifq.jaspar import load_bundled
q = sorted(load_bundled("jaspar2016"), key=lambda m: m.id)[:4]
t = load_bundled("jaspar2024")[:60]
if {folder!r}:
    sys.path.insert(0, {folder!r})
    import _tomtom_before as mod
else:
    import motifq._tomtom as mod
kernel_inputs(mod, q, t, "ed", 1)  # pseudocounts compiled before the clock starts
r0 = resource.getrusage(resource.RUSAGE_SELF)
mod.tomtom_kernel(*kernel_inputs(mod, q, t, "ed", 1), 2, 1, 1)
r1 = resource.getrusage(resource.RUSAGE_SELF)
print((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
"""


def cold(folder, n):
    """CPU seconds of the first kernel call with an empty numba cache, n fresh processes per
    kernel, interleaved."""
    out = {"before": [], "now": []}
    for r in range(n):
        for k in (("before", "now") if r % 2 == 0 else ("now", "before")):
            with tempfile.TemporaryDirectory() as cache:
                code = _COLD.format(root=str(ROOT), folder=folder if k == "before" else "")
                env = dict(os.environ, NUMBA_CACHE_DIR=cache)
                r_ = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                    cwd=ROOT, check=True)
                out[k].append(float(r_.stdout.split()[-1]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--against", required=True, help="git revision of the earlier kernel")
    ap.add_argument("--queries", nargs="*", default=[], help="more query motif files (MEME or JASPAR)")
    ap.add_argument("--rounds", type=int, default=25)
    ap.add_argument("--cold", type=int, default=0, help="fresh processes per kernel for the compile time")
    args = ap.parse_args(argv)
    rev = subprocess.run(["git", "rev-parse", "--short", args.against], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as folder:
        before = load_before(args.against, folder)
        query_sets = {"JASPAR 2016 (first 320)": sorted(load_bundled("jaspar2016"), key=lambda m: m.id)[:320]}
        query_sets.update({Path(f).name: load_motifs(f) for f in args.queries})
        ident, n_bad = identical(before, query_sets, load_bundled("jaspar2024"))
        sp = speed(before, args.rounds)
        cd = cold(folder, args.cold) if args.cold else None
    load = os.getloadavg()
    lines = ["# compare kernel: this tree against an earlier revision", "",
             f"`PYTHONPATH=. python benchmarks/compare_kernel.py --against {args.against}"
             + "".join(f" --queries {Path(f).name}" for f in args.queries)
             + f" --rounds {args.rounds}" + (f" --cold {args.cold}" if args.cold else "")
             + f"`: the kernel at {rev} (before) and in this tree (now), in one process, on "
             f"{platform.machine()} with {os.cpu_count()} CPU cores, one numba thread; load average at the "
             f"end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (a shared machine: compare the two within "
             f"this run).", "",
             "## Outputs bit-identical (p-value, offset, overlap, strand, both strands' p-values)", "",
             "| case | queries x targets | identical |", "| --- | ---: | --- |", *ident, "",
             f"## Speed: 320 JASPAR 2016 x 879 JASPAR 2024, one thread, median of {args.rounds} interleaved "
             "calls each", "",
             "| dist | wall before (ms) | wall now (ms) | now / before | CPU before (ms) | CPU now (ms) | "
             "now / before | median of paired CPU ratios |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", *sp, ""]
    if cd:
        lines += ["## First call with an empty numba cache (compilation), CPU seconds", "",
                  "| kernel | median | each run |", "| --- | ---: | --- |"]
        lines += [f"| {k} | {statistics.median(v):.1f} | {', '.join(f'{x:.1f}' for x in v)} |" for k, v in cd.items()]
        lines.append("")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    return 1 if n_bad else 0


if __name__ == "__main__":
    sys.exit(main())

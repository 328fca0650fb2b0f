"""Benchmark: every per-target ROC AUC and PR AUC of a DeepSEA-test-sized prediction matrix.

455,024 sequences x 919 targets of random float32 scores, labels ~2% positive (positives scored
a little higher, so AUCs are not all 0.5). Times :func:`motifq.evaluate.target_aucs` and
scikit-learn's per-target loop (``roc_auc_score`` + ``average_precision_score``) in the same run,
each phase in its own child process so its peak RSS (``ru_maxrss``, data included) is its own.
scikit-learn's loop runs on a subset of targets and is extrapolated to all (said in the output);
the AUCs of that subset are compared.

    PYTHONPATH=$PWD python benchmarks/auc.py                       # full size, writes results/auc.md
    PYTHONPATH=$PWD python benchmarks/auc.py --n 20000 --t 64      # a quick look
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def make_data(n: int, t: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = np.empty((n, t), dtype=bool)
    scores = np.empty((n, t), dtype=np.float32)
    for r0 in range(0, n, 65536):                 # in chunks: no float64 temporaries of full size
        r1 = min(n, r0 + 65536)
        y = rng.random((r1 - r0, t), dtype=np.float32) < 0.02
        s = rng.random((r1 - r0, t), dtype=np.float32)
        np.sqrt(s, out=s, where=y)                # positives skew higher: ROC AUC ~0.67
        labels[r0:r1], scores[r0:r1] = y, s
    return labels, scores


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def child(args) -> dict:
    if args.phase == "write":
        from motifq.data.dataset import Split, write_dataset

        labels, scores = make_data(args.n, args.t)
        folder = Path(args.save).parent
        write_dataset(folder / "ds", {"test": Split.from_arrays(np.zeros((args.n, 1), np.uint8), labels,
                                                                [f"t{i}" for i in range(args.t)])})
        np.save(folder / "scores.npy", scores)
        return {}
    if args.phase == "motifq-memmap":
        from motifq.data.dataset import open_split
        from motifq.evaluate import target_aucs

        folder = Path(args.save).parent
        split = open_split(folder / "ds", "test")
        mm = np.load(folder / "scores.npy", mmap_mode="r")
        out = {"rss_after_data_gb": _peak_gb()}
        t0, c0 = time.perf_counter(), time.process_time()
        res = target_aucs(split, mm, block_size=args.block_size)
        out["seconds"], out["cpu_seconds"] = time.perf_counter() - t0, time.process_time() - c0
        out["targets"] = args.t
        out["peak_rss_gb"] = _peak_gb()
        np.save(args.save, np.stack([res.roc_auc, res.pr_auc]))
        return out
    labels, scores = make_data(args.n, args.t)
    out = {"rss_after_data_gb": _peak_gb()}
    if args.phase == "motifq":
        from motifq.evaluate import target_aucs

        t0, c0 = time.perf_counter(), time.process_time()
        res = target_aucs(labels, scores, block_size=args.block_size)
        out["seconds"], out["cpu_seconds"] = time.perf_counter() - t0, time.process_time() - c0
        out["targets"] = args.t
        np.save(args.save, np.stack([res.roc_auc, res.pr_auc]))
    else:
        from sklearn.metrics import average_precision_score, roc_auc_score

        cols = np.linspace(0, args.t - 1, min(args.sklearn_targets, args.t)).astype(int)
        t0, c0 = time.perf_counter(), time.process_time()
        roc = [roc_auc_score(labels[:, j], scores[:, j]) for j in cols]
        ap = [average_precision_score(labels[:, j], scores[:, j]) for j in cols]
        out["seconds"], out["cpu_seconds"] = time.perf_counter() - t0, time.process_time() - c0
        out["targets"] = int(len(cols))
        out["columns"] = cols.tolist()
        np.save(args.save, np.stack([roc, ap]))
    out["peak_rss_gb"] = _peak_gb()
    return out


def run_phase(phase: str, args, tmp: Path) -> dict:
    save = tmp / f"{phase}.npy"
    cmd = [sys.executable, __file__, "--phase", phase, "--n", str(args.n), "--t", str(args.t),
           "--sklearn-targets", str(args.sklearn_targets), "--block-size", str(args.block_size), "--save", str(save)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
    if res.returncode:
        raise SystemExit(f"{phase} failed:\n{res.stderr}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    if phase != "write":
        out["aucs"] = np.load(save)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=455_024)
    ap.add_argument("--t", type=int, default=919)
    ap.add_argument("--sklearn-targets", type=int, default=92, help="targets scikit-learn scores (then extrapolated)")
    ap.add_argument("--block-size", type=int, default=128)
    ap.add_argument("--phase", choices=["motifq", "write", "motifq-memmap", "sklearn"])
    ap.add_argument("--save")
    ap.add_argument("--skip-memmap", action="store_true", help="skip the memory-mapped (driver) variant")
    ap.add_argument("-o", "--out", default=str(HERE / "results" / "auc.md"))
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(child(args)))
        return
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mq = run_phase("motifq", args, tmp)
        mm = None
        if not args.skip_memmap:
            run_phase("write", args, tmp)
            mm = run_phase("motifq-memmap", args, tmp)
        sk = run_phase("sklearn", args, tmp)
    load1 = os.getloadavg()
    cols = sk["columns"]
    diff_roc = float(np.max(np.abs(mq["aucs"][0, cols] - sk["aucs"][0])))
    diff_ap = float(np.max(np.abs(mq["aucs"][1, cols] - sk["aucs"][1])))
    sk_full = sk["seconds"] * args.t / sk["targets"]
    import numpy, sklearn  # noqa: E401

    lines = [
        "# Benchmark: all per-target ROC AUC + PR AUC",
        "",
        f"Command: `PYTHONPATH=$PWD python benchmarks/auc.py{'' if args.n == 455_024 and args.t == 919 else f' --n {args.n} --t {args.t}'}`",
        "",
        f"Data: {args.n:,} x {args.t} random float32 scores, labels ~2% positive "
        "(positives' scores are sqrt of a uniform draw), generated in memory.",
        f"Machine: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), shared with other jobs; "
        f"load average {load0[0]:.1f} before, {load1[0]:.1f} after. numpy {numpy.__version__}, "
        f"scikit-learn {sklearn.__version__}. Each phase runs in its own process; peak RSS is that process's "
        "ru_maxrss and includes the data (scores + labels; for the memory map, the file pages it touched).",
        "",
        "| method | targets timed | wall seconds | wall seconds, all targets | CPU seconds, all targets | peak RSS (GB) | RSS of the data alone (GB) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| motifq `target_aucs` (arrays in memory, block {args.block_size}) | {mq['targets']} | {mq['seconds']:.1f} | "
        f"{mq['seconds']:.1f} | {mq['cpu_seconds']:.1f} | {mq['peak_rss_gb']:.2f} | {mq['rss_after_data_gb']:.2f} |",
    ]
    if mm is not None:
        lines.append(f"| motifq `target_aucs` (float32 `.npy` memory map + packed motifq labels, as `motifq evaluate`) | "
                     f"{mm['targets']} | {mm['seconds']:.1f} | {mm['seconds']:.1f} | {mm['cpu_seconds']:.1f} | "
                     f"{mm['peak_rss_gb']:.2f} | {mm['rss_after_data_gb']:.2f} |")
    f = args.t / sk["targets"]
    lines += [
        f"| scikit-learn loop (`roc_auc_score` + `average_precision_score`) | {sk['targets']} | {sk['seconds']:.1f} | "
        f"{sk_full:.0f} (x{f:.1f}, extrapolated) | {sk['cpu_seconds'] * f:.0f} (extrapolated) | {sk['peak_rss_gb']:.2f} | "
        f"{sk['rss_after_data_gb']:.2f} |",
        "",
        "CPU seconds (`time.process_time`) count only the time this process ran, so they change less with the "
        "machine's load than wall seconds do.",
        "",
        f"Speed-up over scikit-learn's loop: {sk_full / mq['seconds']:.1f}x wall, "
        f"{sk['cpu_seconds'] * f / mq['cpu_seconds']:.1f}x CPU. Largest difference from scikit-learn on the "
        f"{sk['targets']} compared targets: ROC AUC {diff_roc:.1e}, PR AUC {diff_ap:.1e}.",
        "",
        f"Mean ROC AUC {np.nanmean(mq['aucs'][0]):.4f}, mean PR AUC {np.nanmean(mq['aucs'][1]):.4f}.",
        "",
    ]
    if mm is not None:
        same = bool(np.array_equal(mm["aucs"], mq["aucs"], equal_nan=True))
        lines.insert(-2, f"The memory-mapped run gives {'identical' if same else 'DIFFERENT'} AUCs.")
        lines.insert(-2, "")
    text = "\n".join(lines)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()

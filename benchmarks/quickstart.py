"""Run `motifq quickstart` at its default size and record what it measured.

Run: PYTHONPATH=. [THREADS=1] python benchmarks/quickstart.py [OUT]   (default OUT: /tmp/motifq-quickstart)
Writes benchmarks/results/quickstart.md (timings, recovery, grammar-target AUCs, the machine) and
docs/quickstart.png (a small picture of the report for the README).
"""
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

from motifq.quickstart import quickstart

HERE = Path(__file__).resolve().parent


def _montage(out: Path, res: dict, path: Path) -> None:
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    rec = [r for r in res["recovery"] if r["recovered"]][:4] or res["recovery"][:4]
    panels = [out / "figures" / f"logo_{r['motif']}.png" for r in rec] + [out / "figures" / "auc_scatter.png"]
    fig = plt.figure(figsize=(12, 6.2))
    gs = fig.add_gridspec(2, 4, height_ratios=[1, 1.25])
    for i, p in enumerate(panels[:4]):
        ax = fig.add_subplot(gs[0, i])
        ax.imshow(mpimg.imread(p))
        ax.axis("off")
    ax = fig.add_subplot(gs[1, :2])
    ax.imshow(mpimg.imread(panels[-1]))
    ax.axis("off")
    ax = fig.add_subplot(gs[1, 2:])
    ax.imshow(mpimg.imread(out / "figures" / "training_curves.png"))
    ax.axis("off")
    fig.suptitle(f"motifq quickstart report: {res['recovered']} of {res['n_planted']} planted motifs recovered "
                 f"(learned kernel above, JASPAR below); PR AUC per target; training curves", fontsize=10)
    fig.savefig(path, dpi=80, bbox_inches="tight")


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/motifq-quickstart")
    t0 = time.time()
    threads = int(os.environ.get("THREADS", "0")) or None
    res = quickstart(out, size="small", device="cpu", threads=threads, progress=False)
    wall = time.time() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu = ru.ru_utime + ru.ru_stime
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    kinds = res["kinds"]
    g = [t for t, k in kinds.items() if k == "grammar"]
    lines = ["# quickstart (size small): what it measured", "",
             f"Command: `PYTHONPATH=. THREADS={threads or 0} python benchmarks/quickstart.py` (= `motifq quickstart --device cpu"
             f"{f' --threads {threads}' if threads else ''}`). "
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch threads "
             f"{res['settings']['machine']['threads']}, Python {platform.python_version()}; load average at the "
             f"end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (other jobs shared the machine).", "",
             f"Wall time {wall:.0f} s; CPU time of the process {cpu:.0f} s.", "",
             f"Planted motifs recovered at E < 0.01: **{res['recovered']} of {res['n_planted']}**.", "",
             "| planted | best learned kernel | E-value | recovered |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['motif']} {r['name']} | {r['kernel'] or '-'} | {r['evalue']:.2g} | {'yes' if r['recovered'] else 'no'} |"
              for r in res["recovery"]]
    lines += ["", "| target | kind | DanQ PR AUC | CNN PR AUC | LR PR AUC | DanQ ROC AUC | CNN ROC AUC | LR ROC AUC |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for t, k in kinds.items():
        m = res["metrics"]
        lines.append(f"| {t} | {k} | " + " | ".join(f"{m[x][t]['pr_auc']:.3f}" for x in ("DanQ", "CNN", "LR")) + " | "
                     + " | ".join(f"{m[x][t]['roc_auc']:.3f}" for x in ("DanQ", "CNN", "LR")) + " |")
    d = np.mean([res["metrics"]["DanQ"][t]["pr_auc"] - res["metrics"]["CNN"][t]["pr_auc"] for t in g])
    lines += ["", f"Grammar targets, DanQ minus CNN PR AUC (mean): {d:+.3f}.", "",
              "| step | seconds |", "| --- | --- |"] + [f"| {k} | {v:.1f} |" for k, v in res["timings"].items()]
    tr = res["settings"]["training"]
    lines += ["", "Training: " + "; ".join(f"{k}: {v['optimizer']} lr {v['lr']}, batch {v['batch_size']}, "
                                            f"{v['steps_done']} steps" for k, v in tr.items()) + "."]
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "quickstart.md").write_text("\n".join(lines) + "\n")
    _montage(out, res, HERE.parent / "docs" / "quickstart.png")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

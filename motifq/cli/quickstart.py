"""``motifq quickstart``: the whole method on simulated data, one report."""
from __future__ import annotations

from .common import _SEED, _add_output, _add_threads, _device


def add_quickstart(sub) -> None:
    p = sub.add_parser("quickstart", help="the whole method on simulated data in minutes: train, evaluate, "
                                          "extract, compare, cluster, one report",
                       description="Simulate data with planted JASPAR motifs, train a small DanQ from random kernels "
                                   "and the CNN and LR baselines, evaluate all three, turn the DanQ kernels into "
                                   "motifs, compare them with JASPAR 2024, cluster them and write DIR/report.html "
                                   "(self-contained) and DIR/report.md.")
    _add_output(p, "dir", default="motifq-quickstart", help="output folder (default: motifq-quickstart)")
    p.add_argument("--size", default="small", choices=["small", "tiny"],
                   help="small: the demonstration (minutes on a 2-core CPU); tiny: a smoke run in seconds "
                        "(default: small)")
    p.add_argument("--device", type=_device, default="auto", help="auto, cpu or cuda (default: auto)")
    p.add_argument("--seed", type=_SEED, default=0, help="random seed (default: 0)")
    _add_threads(p)
    p.set_defaults(func=run_quickstart)


def run_quickstart(args) -> int:
    from ..quickstart import quickstart

    quickstart(args.output, size=args.size, device=args.device, seed=args.seed, threads=args.threads,
               progress=not args.quiet)
    return 0

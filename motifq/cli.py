"""The ``motifq`` command line: parse arguments, call the library, print. Nothing else.

Every subcommand is added by an ``_add_<name>(subparsers)`` function listed in
:data:`_COMMANDS`; each sets ``func`` to a ``_run_<name>(args)`` that returns an exit code.
Heavy imports (torch, matplotlib) happen inside the ``_run_`` functions, so ``motifq --help`` is
instant. A :class:`~motifq.errors.MotifqError` becomes one line on stderr,
``motifq: error: <what>: <why>``, and exit status 2 (a traceback only with ``--debug``).
"""
from __future__ import annotations

import argparse
import sys

from . import __version__
from .errors import MotifqError

__all__ = ["main", "build_parser"]


# ---------------------------------------------------------------------------------------------
# motifs info / convert
# ---------------------------------------------------------------------------------------------
def _add_motifs(sub) -> None:
    p = sub.add_parser("motifs", help="inspect and convert motif files (MEME, JASPAR, bundled names)")
    msub = p.add_subparsers(dest="motifs_command", metavar="ACTION", required=True)
    info = msub.add_parser("info", help="table of id, name, width, nsites, information content, consensus")
    info.add_argument("motifs", metavar="FILE|NAME", help="MEME or JASPAR file, or jaspar2016, jaspar2024, jaspar2026")
    info.add_argument("-o", "--output", help="write the table as TSV here instead of printing it")
    info.set_defaults(func=_run_motifs_info)
    conv = msub.add_parser("convert", help="convert between MEME and JASPAR formats")
    conv.add_argument("input", metavar="IN", help="MEME or JASPAR file, or a bundled name")
    conv.add_argument("output", metavar="OUT", help="output file; format from the ending (.jaspar/.pfm -> JASPAR, else MEME)")
    conv.add_argument("--to", choices=["meme", "jaspar"], help="output format (overrides the ending)")
    conv.set_defaults(func=_run_motifs_convert)


def _motif_table(motifs):
    import pandas as pd

    from .formats import _fmt_nsites

    return pd.DataFrame({
        "id": [m.id for m in motifs],
        "name": [m.name for m in motifs],
        "width": [m.width for m in motifs],
        "nsites": [_fmt_nsites(m.nsites) for m in motifs],
        "total_ic": [round(float(m.information_content().sum()), 3) for m in motifs],
        "consensus": [m.consensus() for m in motifs],
    })


def _run_motifs_info(args) -> int:
    from .errors import atomic_write
    from .jaspar import load_motifs

    table = _motif_table(load_motifs(args.motifs))
    if args.output:
        with atomic_write(args.output) as fh:
            table.to_csv(fh, sep="\t", index=False)
    else:
        sys.stdout.write(table.to_csv(sep="\t", index=False))
    return 0


def _run_motifs_convert(args) -> int:
    from .formats import format_for_path, write_motifs
    from .jaspar import load_motifs

    motifs = load_motifs(args.input)
    fmt = format_for_path(args.output, args.to)
    write_motifs(args.output, motifs, fmt)
    _say(args, f"wrote {len(motifs)} motifs to {args.output} ({fmt})")
    return 0


# ---------------------------------------------------------------------------------------------
# shared arguments
# ---------------------------------------------------------------------------------------------
def _add_data_args(p, split: str | None = "test") -> None:
    """--data / --fasta --labels / --targets / --cache (and --split when `split` is given)."""
    g = p.add_argument_group("data")
    g.add_argument("--data", metavar="DIR",
                   help="DeepSEA bundle folder (train.mat, valid.mat, test.mat) or motifq dataset folder")
    g.add_argument("--fasta", metavar="SEQS.fa", help="sequences, all one length (instead of --data)")
    g.add_argument("--labels", metavar="LABELS.tsv", help="0/1 labels, one row per sequence, header of target names")
    g.add_argument("--targets", metavar="FILE", help="target names, one per line (e.g. DeepSEA's predictor.names)")
    g.add_argument("--cache", metavar="DIR", help="where the converted DeepSEA cache lives (default: DATA/motifq-cache)")
    if split:
        g.add_argument("--split", default=split, choices=["train", "valid", "test"], help=f"default: {split}")


def _open_data(args, split: str):
    """The Split named by the --data/--fasta arguments."""
    from .data import open_data

    return open_data(data=args.data, split=split, fasta=args.fasta, labels=args.labels, targets=args.targets,
                     cache=args.cache, progress=not args.quiet)


# ---------------------------------------------------------------------------------------------
# simulate
# ---------------------------------------------------------------------------------------------
def _add_simulate(sub) -> None:
    p = sub.add_parser("simulate", help="make a data set with planted JASPAR motifs and known rules (no download)",
                       description="Simulate sequences on a human-like background with planted JASPAR motifs and "
                                   "presence, grammar (order + spacing), homotypic-cluster and noise targets; write "
                                   "a motifq dataset folder with its ground truth in DIR/truth/.")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output dataset folder")
    p.add_argument("--n-train", type=int, default=20000, metavar="N", help="training sequences (default: 20000)")
    p.add_argument("--n-valid", type=int, default=2000, metavar="N", help="validation sequences (default: 2000)")
    p.add_argument("--n-test", type=int, default=4000, metavar="N", help="test sequences (default: 4000)")
    p.add_argument("--length", type=int, default=1000, metavar="L", help="sequence length (default: 1000)")
    p.add_argument("--motifs", default=None, metavar="FILE|NAME",
                   help="motifs to plant: a MEME/JASPAR file or e.g. jaspar2024:MA0139.2,REST "
                        "(default: eight JASPAR 2024 motifs: CTCF, GATA1::TAL1, SPI1, CEBPB, ESRRB, REST, NRF1, TP53)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.set_defaults(func=_run_simulate)


def _run_simulate(args) -> int:
    import time

    import numpy as np

    from .data.simulate import simulate, write_simulation

    t0 = time.time()
    sim = simulate(args.n_train, args.n_valid, args.n_test, args.length, args.motifs, args.seed)
    write_simulation(sim, args.output)
    _say(args, f"wrote {args.output}: " + ", ".join(f"{k} {len(s)}" for k, s in sim.splits.items())
         + f" sequences of {args.length} bp, {len(sim.instances['start'])} planted instances, "
         f"{len(sim.rules['targets'])} targets ({time.time() - t0:.1f} s)")
    for name, s in sim.splits.items():
        rates = s.labels().mean(axis=0) if len(s) else np.zeros(s.n_targets)
        _say(args, f"  {name} positive rates: " + ", ".join(f"{t} {r:.1%}" for t, r in zip(s.targets, rates)))
    return 0


# ---------------------------------------------------------------------------------------------
# convert-deepsea
# ---------------------------------------------------------------------------------------------
def _add_convert_deepsea(sub) -> None:
    p = sub.add_parser("convert-deepsea",
                       help="convert a DeepSEA bundle (train/valid/test.mat) once into a memory-mapped motifq cache")
    p.add_argument("bundle", metavar="DIR", help="folder with train.mat, valid.mat, test.mat (one-hot A, G, C, T)")
    p.add_argument("--cache", metavar="OUT", help="cache folder (a motifq dataset; default: DIR/motifq-cache)")
    p.add_argument("--splits", default="train,valid,test", help="comma-separated splits (default: train,valid,test; "
                                                               "a split without its .mat file is skipped)")
    p.add_argument("--chunk-size", type=int, metavar="N", help="samples converted at a time (default: ~256 MB of one-hot)")
    p.set_defaults(func=_run_convert_deepsea)


def _run_convert_deepsea(args) -> int:
    from .data.deepsea import convert_bundle, default_cache
    from .data.dataset import read_info

    splits = [s.strip() for s in args.splits.split(",") if s.strip()]
    done = convert_bundle(args.bundle, cache=args.cache, splits=splits, chunk_size=args.chunk_size,
                          progress=not args.quiet)
    cache = args.cache or default_cache(args.bundle)
    if not done:
        raise MotifqError(f"{args.bundle}: none of the splits {', '.join(splits)} has a .mat file")
    info = read_info(cache)
    for split, converted in done.items():
        _say(args, f"{split}: {info['splits'][split]} sequences of length {info['length']}, "
                   f"{len(info['targets'])} targets ({'converted' if converted else 'already cached'})")
    _say(args, f"cache: {cache}")
    return 0


# ---------------------------------------------------------------------------------------------
# plumbing
# ---------------------------------------------------------------------------------------------
_COMMANDS = [_add_motifs, _add_simulate, _add_convert_deepsea]


def _say(args, message: str) -> None:
    """Print a status line to stderr unless --quiet."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="motifq",
        description="Train DanQ models on chromatin-profiling data and see which motifs they learned.")
    parser.add_argument("--version", action="version", version=f"motifq {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or status lines")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in _COMMANDS:
        add(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str or None
        Arguments without the program name. Default is None: ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 2 on a user error (bad file, bad value), 130 when interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MotifqError as exc:
        if args.debug:
            raise
        print(f"motifq: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("motifq: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

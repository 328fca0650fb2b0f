"""The ``motifq`` command line: parse arguments, call the library, print. Nothing else.

Every subcommand is added by an ``_add_<name>(subparsers)`` function listed in
:data:`_COMMANDS`; each sets ``func`` to a ``_run_<name>(args)`` that returns an exit code.
Heavy imports (torch, matplotlib) happen inside the ``_run_`` functions, so ``motifq --help`` is
instant.

The contract (docs/errors.md): every bad input is one line on stderr,
``motifq: error: <what>: <why>``, and exit status 2 (a traceback only with ``--debug``), before
any expensive work. Three things make it hold for every command, including the ones added later:

* argument errors (a bad choice, a missing value) are reported by :class:`_Parser` as that line;
* every number is read by a :func:`_number` type: finite, in range, or refused while parsing;
* every output is declared with :func:`_add_output` (``-o/--output``, a file or a folder), and
  :func:`main` checks it (:func:`~motifq.errors.check_output_file`,
  :func:`~motifq.errors.check_output_dir`) before the command runs.

The ``train`` options are generated from the fields of :class:`~motifq.config.TrainConfig` and
:class:`~motifq.config.ModelConfig` (types and defaults from the dataclasses, help from their
numpydoc), so a new config field is a new option without editing this file.
"""
from __future__ import annotations

import argparse
import dataclasses
import re
import os
import sys

from . import __version__
from .errors import MotifqError

__all__ = ["main", "build_parser"]


# ---------------------------------------------------------------------------------------------
# parser plumbing: one-line errors, checked numbers, declared outputs
# ---------------------------------------------------------------------------------------------
class _UsageError(MotifqError):
    """A command-line syntax error (reported as one line, exit 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with errors raised as :class:`_UsageError` (one line) instead of usage + exit."""

    def error(self, message):
        if message.startswith("argument "):
            message = message[len("argument "):]
        raise _UsageError(f"{message} (see motifq {self.prog.split(' ', 1)[-1]} --help)"
                          if " " in self.prog else message)


def _number(kind=float, minimum=None, maximum=None, above=None):
    """An argparse type: `kind` (int or float) parsed from text, finite, >= `minimum` (or >
    `above`) and <= `maximum`. The bounds are kept on the function for the tests."""
    from .errors import check_number

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {'an integer' if kind is int else 'a number'}, got {text!r}") from None
        try:
            check_number(value, "value", integer=kind is int, minimum=above if above is not None else minimum,
                         maximum=maximum, exclusive_minimum=above is not None)
        except MotifqError as exc:
            raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[1]) from None
        return value

    parse.__name__ = kind.__name__
    parse.bounds = (kind, minimum if above is None else above, maximum, above is not None)
    return parse


def _number_list(kind=float):
    """An argparse type: comma-separated numbers (each finite), as a tuple."""
    one = _number(kind)

    def parse(text: str):
        if not text.strip():
            raise argparse.ArgumentTypeError("must be one or more comma-separated numbers, got ''")
        return tuple(one(x) for x in text.split(","))

    parse.__name__ = f"{kind.__name__} list"
    parse.bounds = (kind, None, None, False)
    return parse


def _device(text: str) -> str:
    """An argparse type: auto, cpu, cuda or cuda:N."""
    from .config import check_device

    try:
        return check_device(text, "value")
    except MotifqError as exc:
        raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[1]) from None


_SEED = _number(int, 0, 2 ** 32 - 1)
_COUNT = _number(int, 1)


def _add_output(p, kind: str, aliases=(), required: bool = False, default=None, metavar=None, help=""):
    """``-o/--output`` (plus old spellings in `aliases`): a ``file`` or a ``dir`` that
    :func:`main` checks before the command runs."""
    p.add_argument("-o", "--output", *aliases, dest="output", required=required, default=default,
                   metavar=metavar or ("DIR" if kind == "dir" else "FILE"), help=help)
    p.set_defaults(output_kind=kind)


def _check_outputs(args) -> None:
    """Check every output of the command (its -o and the files written beside it) up front."""
    from .errors import check_output_dir, check_output_file

    outputs = []
    if getattr(args, "output_kind", None) and getattr(args, "output", None) is not None:
        outputs.append((args.output, args.output_kind))
    more = getattr(args, "more_outputs", None)
    outputs += more(args) if more else []
    for path, kind in outputs:
        (check_output_dir if kind == "dir" else check_output_file)(path, "output")


def _say(args, message: str) -> None:
    """Print a status line to stderr unless --quiet."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def _write_or_print(path, text: str) -> None:
    """`text` to the file `path` (atomically), or to stdout when `path` is None."""
    if path is None:
        sys.stdout.write(text)
        return
    from .errors import atomic_write

    with atomic_write(path) as fh:
        fh.write(text)


# ---------------------------------------------------------------------------------------------
# motifs info / convert
# ---------------------------------------------------------------------------------------------
def _add_motifs(sub) -> None:
    p = sub.add_parser("motifs", help="inspect and convert motif files (MEME, JASPAR, bundled names)")
    msub = p.add_subparsers(dest="motifs_command", metavar="ACTION", required=True)
    info = msub.add_parser("info", help="table of id, name, width, nsites, information content, consensus")
    info.add_argument("motifs", metavar="FILE|NAME", help="MEME or JASPAR file, or jaspar2016, jaspar2024, jaspar2026")
    _add_output(info, "file", help="write the table as TSV here instead of printing it")
    info.set_defaults(func=_run_motifs_info)
    conv = msub.add_parser("convert", help="convert between MEME and JASPAR formats")
    conv.add_argument("input", metavar="IN", help="MEME or JASPAR file, or a bundled name")
    conv.add_argument("output", metavar="OUT", help="output file; format from the ending (.jaspar/.pfm -> JASPAR, else MEME)")
    conv.add_argument("--to", choices=["meme", "jaspar"], help="output format (overrides the ending)")
    conv.set_defaults(func=_run_motifs_convert, output_kind="file")


def _run_motifs_info(args) -> int:
    from .formats import format_motif_table
    from .jaspar import load_motifs

    _write_or_print(args.output, format_motif_table(load_motifs(args.motifs)))
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
# compare (Tomtom-like)
# ---------------------------------------------------------------------------------------------
def _add_compare(sub) -> None:
    p = sub.add_parser("compare", help="compare motifs with motif databases, as MEME's Tomtom (p-, E-, q-values)",
                       description="Compare each query motif with every target motif on both strands, as MEME's "
                                   "Tomtom does (complete scores; Gupta et al. 2007), and print Tomtom's -text table.")
    p.add_argument("query", metavar="QUERY", help="query motifs: MEME or JASPAR file, or a bundled name (jaspar2024:CTCF)")
    p.add_argument("targets", metavar="TARGET", nargs="+",
                   help="target motifs: files or bundled names (jaspar2016, jaspar2024, jaspar2026)")
    p.add_argument("--dist", choices=["pearson", "ed", "sandelin"], default="pearson",
                   help="column similarity (default: pearson; MEME's command-line default is ed)")
    p.add_argument("--min-overlap", type=_number(int, 0), default=1, metavar="N", help="minimum aligned columns (default: 1)")
    p.add_argument("--motif-pseudo", type=_number(float, 0), default=0.1, metavar="S",
                   help="pseudocount added to query and target motifs (default: 0.1)")
    p.add_argument("--evalue", action="store_true", help="apply --thresh to the E-value instead of the q-value (as Tomtom's -evalue)")
    p.add_argument("--thresh", type=_number(float, 0), default=0.5, metavar="X",
                   help="keep matches with q-value (E-value with --evalue) <= X (default: 0.5)")
    p.add_argument("--all", action="store_true", help="write every query-target pair (no threshold)")
    _add_output(p, "file", help="write the table here (TSV) instead of printing it")
    p.set_defaults(func=_run_compare)


def _run_compare(args) -> int:
    from .compare import compare_columns, format_table  # no pandas: the CLI starts faster
    from .jaspar import load_motifs

    queries = load_motifs(args.query)
    dbs = [load_motifs(spec) for spec in args.targets]
    targets = [m for ms in dbs for m in ms]
    table = compare_columns(queries, targets, args.dist, args.min_overlap, args.motif_pseudo, args.thresh,
                            args.evalue, args.all, db=[i for i, ms in enumerate(dbs) for _ in ms])
    _write_or_print(args.output, format_table(table))
    if args.output:
        _say(args, f"wrote {len(table['Query_ID'])} matches of {len(queries)} queries against {len(targets)} targets "
                   f"to {args.output}")
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
    _add_output(p, "dir", required=True, help="output dataset folder")
    p.add_argument("--n-train", type=_number(int, 0), default=20000, metavar="N", help="training sequences (default: 20000)")
    p.add_argument("--n-valid", type=_number(int, 0), default=2000, metavar="N", help="validation sequences (default: 2000)")
    p.add_argument("--n-test", type=_number(int, 0), default=4000, metavar="N", help="test sequences (default: 4000)")
    p.add_argument("--length", type=_number(int, 200, 10_000_000), default=1000, metavar="L",
                   help="sequence length (default: 1000)")
    p.add_argument("--motifs", default=None, metavar="FILE|NAME",
                   help="motifs to plant: a MEME/JASPAR file or e.g. jaspar2024:MA0139.2,REST "
                        "(default: eight JASPAR 2024 motifs: CTCF, GATA1::TAL1, SPI1, CEBPB, ESRRB, REST, NRF1, TP53)")
    p.add_argument("--seed", type=_SEED, default=0, help="random seed (default: 0)")
    _add_simulate_genome_args(p)
    p.set_defaults(func=_run_simulate)


def _run_simulate(args) -> int:
    import time

    import numpy as np

    from .data.simulate import simulate, write_simulation

    if args.genome:
        return _run_simulate_genome(args)
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


def _add_simulate_genome_args(p) -> None:
    g = p.add_argument_group("genome (simulate --genome)")
    g.add_argument("--genome", action="store_true",
                   help="write a small genome instead: FASTA + .fai, per-target narrowPeak files, blacklist, a VCF of "
                        "variants with known effects and the ground truth (see docs/genome.md)")
    g.add_argument("--chroms", type=_COUNT, default=5, metavar="K", help="chromosomes chr1..chrK (default: 5)")
    g.add_argument("--chrom-length", type=_number(int, 10_000, 100_000_000), default=400_000, metavar="BP",
                   help="length of chr1; the others fall linearly to half of it (default: 400000, 1.5 Mb in all)")
    g.add_argument("--n-variants", type=_number(int, 0), default=200, metavar="N",
                   help="SNVs in the VCF: half breaking planted sites, half neutral; plus indels, one multi-allelic "
                        "record and 5 REF mismatches (default: 200)")


def _run_simulate_genome(args) -> int:
    import time

    from .data.genome import check_output_folder
    from .data.simulate_genome import is_genome_simulation, simulate_genome, write_genome_simulation

    t0 = time.time()
    check_output_folder(args.output, is_genome_simulation)
    sim = simulate_genome(args.chroms, args.chrom_length, args.motifs, args.n_variants, args.seed)
    write_genome_simulation(sim, args.output)
    size = sum(len(s) for s in sim.sequences.values())
    effects = sim.variants["effect"]
    _say(args, f"wrote {args.output}: {len(sim.sequences)} chromosomes, {size:,} bp, "
         f"{int((sim.regions['kind'] == 'enhancer').sum())} regions, {len(sim.instances['start'])} planted instances, "
         f"{len(sim.peaks)} peak files, {len(effects)} variant alleles ({int((effects == 'break').sum())} break, "
         f"{int((effects == 'neutral').sum())} neutral, {int((effects == 'ref_mismatch').sum())} REF mismatches) "
         f"({time.time() - t0:.1f} s)")
    return 0


# ---------------------------------------------------------------------------------------------
# build-dataset
# ---------------------------------------------------------------------------------------------
def _add_build_dataset(sub) -> None:
    p = sub.add_parser("build-dataset", help="genome FASTA + peak files -> a motifq dataset, as DeepSEA built its own",
                       description="Cut the genome into bins, label each bin for each target by the fraction its peaks "
                                   "cover, take the window centred on each bin as input, hold out chromosomes for "
                                   "validation and test (DeepSEA's procedure; see docs/genome.md).")
    p.add_argument("--genome", required=True, metavar="GENOME.fa",
                   help="FASTA, plain or bgzip, indexed by samtools faidx (.fai built beside it if missing)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--peaks", nargs="+", metavar="FILE",
                   help="peak files (BED3+, narrowPeak, broadPeak; .gz or not); targets named by file stem")
    g.add_argument("--peaks-table", metavar="TSV", help="name<TAB>path per line (paths relative to the table)")
    _add_output(p, "dir", required=True, metavar="DATASET", help="output dataset folder")
    p.add_argument("--bin", type=_COUNT, default=200, metavar="BP", help="bin width (default: 200)")
    p.add_argument("--window", type=_COUNT, default=1000, metavar="BP", help="input length centred on the bin (default: 1000)")
    p.add_argument("--min-overlap", type=_number(float), default=0.5, metavar="F",
                   help="fraction of a bin a target's merged peaks must cover for a positive (default: 0.5)")
    p.add_argument("--valid", default="chr7", metavar="CHROMS", help="validation chromosomes, comma-separated (default: chr7)")
    p.add_argument("--test", default="chr8,chr9", metavar="CHROMS", help="test chromosomes (default: chr8,chr9)")
    p.add_argument("--blacklist", metavar="BED", help="drop windows overlapping these regions (e.g. the ENCODE blacklist)")
    p.add_argument("--all-bins", action="store_true", help="every bin, not only bins a peak touches")
    p.add_argument("--negatives", type=_number(int, 0), default=0, metavar="N", help="add N bins that no peak touches (default: 0)")
    p.add_argument("--gc-matched", action="store_true", help="draw the negatives to match the positives' GC content")
    p.add_argument("--chroms", default=r"(chr)?([0-9]+|X|Y)", metavar="REGEX",
                   help="chromosomes to use, a regular expression matching the whole name (default: (chr)?([0-9]+|X|Y))")
    p.add_argument("--max-n", type=_number(float, 0, 1), default=0.05, metavar="F", help="drop windows with more N than this (default: 0.05)")
    p.add_argument("--seed", type=_SEED, default=0, help="seed of the negatives' draw (default: 0)")
    p.set_defaults(func=_run_build_dataset)


def _names(text: str) -> list:
    """A comma-separated list, blanks dropped."""
    return [c.strip() for c in text.split(",") if c.strip()]


def _run_build_dataset(args) -> int:
    import time

    from .data.build import DatasetOptions, build_dataset
    from .data.genome import peak_files

    t0 = time.time()
    options = DatasetOptions(bin_size=args.bin, window=args.window, min_overlap=args.min_overlap,
                             valid=_names(args.valid), test=_names(args.test), blacklist=args.blacklist,
                             all_bins=args.all_bins, negatives=args.negatives, gc_matched=args.gc_matched,
                             chroms=args.chroms, max_n=args.max_n, seed=args.seed)
    files = peak_files(args.peaks, args.peaks_table)
    out = build_dataset(args.genome, files, args.output, options, progress=not args.quiet)
    _say(args, f"wrote {out.path}: {len(out.targets)} targets, " + ", ".join(
        f"{s} {n:,} ({', '.join(out.chroms[s][:4])}{', ...' if len(out.chroms[s]) > 4 else ''})" for s, n in out.samples.items())
        + f" samples of {args.window} bp; dropped {out.dropped['edge']} (window off the chromosome), "
          f"{out.dropped['blacklist']} (blacklist), {out.dropped['n']} (N); {out.negatives} negatives "
          f"({time.time() - t0:.1f} s)")
    for s, pos in out.positives.items():
        rates = pos / max(out.samples[s], 1)
        _say(args, f"  {s} positive rates: " + ", ".join(f"{t} {r:.1%}" for t, r in zip(out.targets, rates)))
    return 0


# ---------------------------------------------------------------------------------------------
# convert-deepsea
# ---------------------------------------------------------------------------------------------
def _add_convert_deepsea(sub) -> None:
    p = sub.add_parser("convert-deepsea",
                       help="convert a DeepSEA bundle (train/valid/test.mat) once into a memory-mapped motifq cache")
    p.add_argument("bundle", metavar="DIR", help="folder with train.mat, valid.mat, test.mat (one-hot A, G, C, T)")
    _add_output(p, "dir", aliases=("--cache",), help="cache folder (a motifq dataset; default: DIR/motifq-cache)")
    p.add_argument("--splits", default="train,valid,test", help="comma-separated splits (default: train,valid,test; "
                                                               "a split without its .mat file is skipped)")
    p.add_argument("--chunk-size", type=_COUNT, metavar="N", help="samples converted at a time (default: ~256 MB of one-hot)")
    p.set_defaults(func=_run_convert_deepsea, more_outputs=_deepsea_default_cache)


def _deepsea_default_cache(args) -> list:
    from pathlib import Path

    return [] if args.output is not None else [(Path(args.bundle) / "motifq-cache", "dir")]


def _run_convert_deepsea(args) -> int:
    from .data.dataset import read_info
    from .data.deepsea import convert_bundle, default_cache

    splits = [s.strip() for s in args.splits.split(",") if s.strip()]
    done = convert_bundle(args.bundle, cache=args.output, splits=splits, chunk_size=args.chunk_size,
                          progress=not args.quiet)
    cache = args.output or default_cache(args.bundle)
    if not done:
        raise MotifqError(f"{args.bundle}: none of the splits {', '.join(splits)} has a .mat file")
    info = read_info(cache)
    for split, converted in done.items():
        _say(args, f"{split}: {info['splits'][split]} sequences of length {info['length']}, "
                   f"{len(info['targets'])} targets ({'converted' if converted else 'already cached'})")
    _say(args, f"cache: {cache}")
    return 0


# ---------------------------------------------------------------------------------------------
# extract-motifs / cluster / logos
# ---------------------------------------------------------------------------------------------
def _add_extract_motifs(sub) -> None:
    p = sub.add_parser("extract-motifs", help="turn a model's first-layer kernels into motifs (DeepBind-style)",
                       description="Run the first convolution layer (with its bias) over sequences and count, "
                                   "per kernel, the bases of the kernel-wide windows it fires on; write the "
                                   "PFMs as MEME (kernel_<k>, nsites = number of sites).")
    p.add_argument("model", metavar="MODEL", help="checkpoint written by motifq train")
    _add_data_args(p, split="test")
    p.add_argument("--max-seqs", type=_COUNT, metavar="N", help="use at most the first N sequences (after --positives)")
    p.add_argument("--positives", metavar="TARGET", help="only sequences labelled 1 for this target (name or index)")
    p.add_argument("--mode", choices=["sequence", "position"], default="sequence",
                   help="sequence: each sequence adds its best window if its activation > 0 (DanQ); "
                        "position: every window above --threshold x the kernel's maximum (Basset). Default: sequence")
    p.add_argument("--threshold", type=_number(float, 0, 1), default=0.5,
                   help="position mode: fraction of each kernel's maximum (default 0.5)")
    p.add_argument("--min-sites", type=_COUNT, default=10, help="leave out kernels with fewer sites (default 10)")
    p.add_argument("--trim", type=_number(float, 0), metavar="IC",
                   help="trim edge columns below IC bits (default: keep the kernel width)")
    p.add_argument("--match", metavar="NAME|FILE", help="compare with a database (e.g. jaspar2016) and write matches.tsv beside the output")
    p.add_argument("--thresh", "--evalue", dest="thresh", type=_number(float, 0), default=0.01, metavar="E",
                   help="--match: E-value cut for the summary line and matches.tsv (default 0.01; "
                        "--evalue E is the old spelling)")
    p.add_argument("--batch-size", type=_COUNT, default=None,
                   help="sequences per batch (default: 8 on the CPU, where small batches stay in cache; 256 on a GPU)")
    p.add_argument("--device", type=_device, default="auto", help="auto, cpu, cuda or cuda:N (default: auto = cuda when available)")
    _add_output(p, "file", required=True, metavar="motifs.meme", help="MEME file to write")
    p.set_defaults(func=_run_extract_motifs, more_outputs=_matches_output)


def _matches_output(args) -> list:
    from pathlib import Path

    return [(Path(args.output).with_name("matches.tsv"), "file")] if args.match and args.output else []


def _extract_tokens(args):
    """(N, L) uint8 ACGT tokens for extract-motifs, filtered by --positives and --max-seqs."""
    import numpy as np

    from .errors import check

    if args.fasta is not None and args.labels is None and args.data is None:
        check(args.positives is None, "positives: needs labels (--data, or --fasta with --labels)")
        from .sequence import read_fasta

        _, seqs = read_fasta(args.fasta)
        from .extract import pad_sequences

        tokens = pad_sequences(seqs[:args.max_seqs])
        return tokens, f"{len(tokens)} sequences from {args.fasta}"
    split = _open_data(args, args.split)
    what = f"{args.split} split" if args.fasta is None else str(args.fasta)
    if args.positives is None:
        return split.tokens[:args.max_seqs], f"{min(len(split), args.max_seqs or len(split))} sequences ({what})"
    t = split.target_index(args.positives)
    idx = split.positives(t)[:args.max_seqs]
    check(len(idx) > 0, f"positives: no sequence is labelled 1 for {split.targets[t]}")
    return np.asarray(split.tokens[idx]), f"{len(idx)} sequences ({what}, {len(idx)} positives for {split.targets[t]})"


def _run_extract_motifs(args) -> int:
    from .errors import atomic_write, check

    tokens, what = _extract_tokens(args)  # the data first: a bad FASTA is reported before torch loads
    db = None
    if args.match:
        from .jaspar import load_motifs

        db = load_motifs(args.match)
    from .extract import extract_motifs
    from .formats import write_meme
    from .models import load_checkpoint
    from .models import resolve_device

    device = str(resolve_device(args.device))
    model, ckpt = load_checkpoint(args.model, device=device)
    conv = getattr(model, "conv", None)
    check(conv is not None, f"{args.model}: this model has no convolution layer to extract motifs from")
    _say(args, f"extracting {conv.out_channels} kernels of width {conv.kernel_size[0]} over {what} ({args.mode} mode, {device})")
    motifs, skipped, sites = extract_motifs(conv, tokens, mode=args.mode, threshold=args.threshold,
                                            min_sites=args.min_sites, trim=args.trim, jaspar_map=ckpt.get("jaspar"),
                                            batch_size=args.batch_size, device=device, progress=not args.quiet)
    check(len(motifs) > 0, f"{args.model}: no kernel has {args.min_sites} or more sites; nothing written "
                           f"(try more sequences or a lower --min-sites)")
    write_meme(args.output, motifs)
    K = len(sites.nsites)
    _say(args, f"wrote {len(motifs)}/{K} motifs to {args.output}")
    if skipped:
        _say(args, f"{len(skipped)} kernels with fewer than {args.min_sites} sites left out: "
                   + " ".join(f"kernel_{k}" for k in skipped))
    if db is None:
        return 0
    from .compare import compare_columns, format_table

    table = compare_columns(motifs, db, dist="pearson", min_overlap=5, thresh=args.thresh, evalue=True)
    path = _matches_output(args)[0][0]
    with atomic_write(path) as fh:
        fh.write(format_table(table) + f"# database: {args.match}\n")
    print(f"{len(set(table['Query_ID']))}/{K} kernels match a known motif at E < {args.thresh:g}")
    _say(args, f"wrote {path}")
    return 0


def _add_cluster(sub) -> None:
    p = sub.add_parser("cluster", help="cluster motifs (RSAT matrix-clustering-like) and draw the tree",
                       description="Align every pair (best offset and strand), build an average-linkage tree "
                                   "on 1 - Ncor and cut it where the mean cor / Ncor of a node drop below the "
                                   "thresholds. Writes clusters.tsv, summaries.meme, tree_letters.png, tree_ic.png.")
    p.add_argument("motifs", metavar="MOTIFS", help="MEME or JASPAR file, or a bundled name")
    _add_output(p, "dir", aliases=("--outdir",), default="clusters", help="output folder (default: clusters)")
    p.add_argument("--cor", type=_number(float, -1, 1), default=0.75,
                   help="least mean Pearson correlation in a cluster, in [-1, 1] (default 0.75)")
    p.add_argument("--ncor", type=_number(float, -1, 1), default=0.55,
                   help="least mean width-normalised correlation, in [-1, 1] (default 0.55)")
    p.add_argument("--min-overlap", type=_COUNT, default=5, help="fewest aligned columns (default 5)")
    p.set_defaults(func=_run_cluster)


def _run_cluster(args) -> int:
    import time

    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    from .cluster import cluster_motifs
    from .jaspar import load_motifs
    from .plot import write_cluster_folder

    motifs = load_motifs(args.motifs)
    start = time.perf_counter()
    result = cluster_motifs(motifs, min_cor=args.cor, min_ncor=args.ncor, min_overlap=args.min_overlap)
    seconds = time.perf_counter() - start
    names = write_cluster_folder(result, args.output)
    sizes = np.bincount(result.labels)[1:]
    _say(args, f"{len(motifs)} motifs -> {len(sizes)} clusters ({int((sizes > 1).sum())} with 2 or more members, "
               f"largest {int(sizes.max())}) in {seconds:.1f} s; wrote {args.output}/" + ", ".join(names))
    return 0


def _add_logos(sub) -> None:
    p = sub.add_parser("logos", help="information-content logos, with best known matches, as PNG pages + index.html")
    p.add_argument("motifs", metavar="MOTIFS", help="MEME or JASPAR file, or a bundled name")
    p.add_argument("--matches", metavar="matches.tsv", help="Tomtom-style table from extract-motifs --match / motifq compare")
    p.add_argument("--db", metavar="NAME|FILE", help="the database the matches' targets come from "
                                                       "(default: the '# database:' line of matches.tsv)")
    p.add_argument("--top", type=_COUNT, metavar="N", help="only the N motifs with the best matches (or the most information)")
    p.add_argument("--per-page", type=_COUNT, default=12, help="logos per PNG page (default 12)")
    _add_output(p, "dir", aliases=("--outdir",), default="logos", help="output folder (default: logos)")
    p.set_defaults(func=_run_logos)


def _run_logos(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from .errors import check
    from .formats import read_matches
    from .jaspar import load_motifs
    from .plot import best_matches, write_logo_pages

    motifs = load_motifs(args.motifs)
    best, targets = {}, None
    if args.matches:
        rows, db_name = read_matches(args.matches)
        db_name = args.db or db_name
        check(db_name is not None, f"{args.matches}: no '# database:' line; say which database with --db")
        targets = {}
        for m in load_motifs(db_name):
            targets.setdefault(m.id, m)
        best = best_matches(rows, targets, widths={m.id: m.width for m in motifs})
    pages = write_logo_pages(motifs, args.output, best, targets, top=args.top, per_page=args.per_page,
                             title=args.motifs, progress=not args.quiet)
    _say(args, f"wrote {len(pages)} pages of logos and index.html to {args.output}")
    return 0


# ---------------------------------------------------------------------------------------------
# train: options generated from the config dataclasses
# ---------------------------------------------------------------------------------------------
#: Config fields that are not options: they come from the data.
_FROM_DATA = ("n_targets", "length")
#: Spellings that differ from the field name (the first is shown in --help; the others are aliases).
_SPELLINGS = {"kind": ("--model",), "jaspar_reverse_complements": ("--jaspar-reverse-complements", "--jaspar-rc")}
#: argparse settings beyond type and default.
_EXTRA = {"jaspar_init": dict(nargs="?", const="jaspar2016", metavar="RELEASE|FILE")}


def _field_docs(cls) -> dict:
    """Field name -> description from the numpydoc ``Parameters`` section of `cls` (without
    its "Default is ..." sentence and the rst quotes)."""
    import inspect

    doc = inspect.getdoc(cls) or ""
    if "Parameters\n----------\n" not in doc:
        return {}
    docs, names = {}, []
    for line in doc.split("Parameters\n----------\n", 1)[1].splitlines():
        head = re.match(r"^(\w+(?:\s*,\s*\w+)*) : ", line)
        if head:
            names = [n.strip() for n in head.group(1).split(",")]
            docs.update({n: "" for n in names})
        elif line.startswith("    ") and names:
            for n in names:
                docs[n] = (docs[n] + " " + line.strip()).strip()
        elif line.strip():
            names = []   # the next section
    return {k: re.sub(r"``?([^`]+)``?", r"\1", re.sub(r":\w+:(?=`)", "", re.sub(r"\s*Default is .*$", "", v))).strip()
            for k, v in docs.items()}


def _field_option(group, f, help_text: str, default, model: bool) -> None:
    """One option for the dataclass field `f` (its type from the annotation)."""
    flags = _SPELLINGS.get(f.name, ("--" + f.name.replace("_", "-"),))
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", None) or str(f.type)
    if kind.startswith("tuple") and not isinstance(f.type, str):
        kind = str(f.type)   # tuple[int, ...]
    kinds = [k.strip() for k in kind.split("|")]
    base = next((k for k in kinds if k != "None"), "str")
    shown = default
    if not model and default is None and f.name in _recipe_fields():
        from .config import RECIPES

        shown = "the recipe's; " + ", ".join(f"{r} {RECIPES[r][f.name]}" for r in RECIPES)
    if model:
        from .config import MODEL_DEFAULTS

        danq = MODEL_DEFAULTS["danq"].get(f.name, default)
        shown = "danq" if f.name == "kind" else f"the --model kind's; danq: {danq}"
    kw = dict(dest=f.name, help=f"{help_text.rstrip('.')} (default: {shown})".replace("%", "%%"))
    if base == "bool":
        if default is True:
            flags = tuple("--no-" + fl[2:] for fl in flags)
            kw.update(action="store_false", default=True)
        else:
            kw.update(action="store_true", default=None if model else False)
    else:
        types = {"int": _number(int), "float": _number(float), "tuple[int, ...]": _number_list(int),
                 "tuple[float, ...]": _number_list(float)}
        kw.update(type=types.get(base, str), default=None if model else default,
                  metavar=f.name.split("_")[-1].upper())
        kw.update(_EXTRA.get(f.name, {}))
    group.add_argument(*flags, **kw)


def _recipe_fields() -> set:
    """TrainConfig fields whose default comes from the ``--recipe``."""
    from .config import RECIPES

    return set(RECIPES["default"]) - {"init"}


def _add_config_options(p, cls, title: str, model: bool) -> None:
    """An option group with one option per field of the dataclass `cls`."""
    group = p.add_argument_group(title)
    docs = _field_docs(cls)
    for f in dataclasses.fields(cls):
        if f.name in _FROM_DATA:
            continue
        default = f.default if f.default is not dataclasses.MISSING else None
        _field_option(group, f, docs.get(f.name, ""), default, model)


def _add_train(sub) -> None:
    from .config import ModelConfig, TrainConfig

    p = sub.add_parser("train", help="train DanQ (or a baseline) on a data set; writes the best and last checkpoints",
                       description="Train a model. Writes OUTPUT (best validation loss), OUTPUT's .last.pt (resumable) "
                                   "and a per-epoch log beside it. Multi-GPU: torchrun --nproc_per_node K -m motifq train ...")
    _add_data_args(p, split=None)
    _add_config_options(p, ModelConfig, "model", model=True)
    _add_config_options(p, TrainConfig, "training", model=False)
    _add_output(p, "file", aliases=("--out",), default="model.pt", metavar="model.pt",
                help="best checkpoint (default: model.pt)")
    p.add_argument("--resume", action="store_true", help="continue exactly from OUTPUT's .last.pt")
    p.set_defaults(func=_run_train, more_outputs=_train_outputs)


def _last_checkpoint(out):
    """``model.pt`` -> ``model.last.pt``, as :func:`motifq.train.last_path` (a test keeps the two
    equal); computed here so that the outputs are checked and the FASTA read before torch loads."""
    from pathlib import Path

    out = Path(out)
    return out.with_name(out.stem + ".last" + (out.suffix or ".pt"))


def _train_outputs(args) -> list:
    return [(_last_checkpoint(args.output), "file")]


def _configs_from_args(args):
    """(model kind, model overrides, TrainConfig) from the generated options, checked."""
    from .config import ModelConfig, TrainConfig, check_model_options

    model = {f.name: getattr(args, f.name) for f in dataclasses.fields(ModelConfig) if f.name not in _FROM_DATA}
    kind = model.pop("kind") or "danq"
    train = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)}
    if kind == "danq-jaspar" and train["jaspar_init"] is None:
        train["jaspar_init"] = "jaspar2016"
    try:
        check_model_options(kind, **model)
        return kind, model, TrainConfig(**train)
    except MotifqError as exc:  # "seed: ..." / "model: conv-kernels ..." -> "--seed: ..." / "--conv-kernels ..."
        raise MotifqError(re.sub(r"^(?:model: (?=[a-z]))?([a-z][a-z0-9-]*)(?::|(?= must)|(?= '))", r"--\1:", str(exc))) from None


def _run_train(args) -> int:
    import logging
    import os

    from .errors import check

    rank0 = os.environ.get("RANK", "0") == "0"
    quiet = args.quiet or not rank0
    logging.basicConfig(format="motifq: %(message)s", level=logging.WARNING if quiet else logging.INFO)
    kind, overrides, config = _configs_from_args(args)   # every option checked before any work
    if args.fasta is not None or args.labels is not None:
        check(args.fasta is not None and args.labels is not None, "data: --fasta and --labels go together")
        data = _open_data(args, "train")                  # the FASTA is read before torch loads
        from .train import holdout_split

        train, valid = holdout_split(data, config.valid_fraction, config.seed)
    else:
        check(args.data is not None, "data: give --data DIR or --fasta SEQS.fa --labels LABELS.tsv")
        train, valid = _open_data(args, "train"), _open_data(args, "valid")
    if args.resume:                                       # a bad training state is refused before training
        from .models import read_checkpoint

        last = _last_checkpoint(args.output)
        check(last.exists(), f"--resume: {last}: no such file (nothing to resume)")
        check("resume" in read_checkpoint(last), f"--resume: {last}: has no training state")
    from .config import ModelConfig
    from .train import fit

    model = ModelConfig.for_kind(kind, recipe=config.recipe, n_targets=train.n_targets, length=train.length, **overrides)
    if not quiet:
        _say(args, f"training {model.kind} on {len(train)} sequences of {train.length} bp, {train.n_targets} targets; "
                   f"validating on {len(valid)}; {config.recipe} recipe"
                   + (f"; kernels seeded from {config.jaspar_init}" if config.jaspar_init else ""))
    result = fit(model, train, valid, args.output, config, resume=args.resume, progress=not quiet)
    if not quiet:                     # the summary itself went to the motifq logger
        _say(args, f"wrote {result['out']} and {result['last']}")
    return 0


# ---------------------------------------------------------------------------------------------
# predict
# ---------------------------------------------------------------------------------------------
def _add_predict(sub) -> None:
    p = sub.add_parser("predict", help="per-sequence probabilities per target from a trained model")
    p.add_argument("model", metavar="MODEL", help="checkpoint written by motifq train")
    p.add_argument("fasta", metavar="SEQS.fa", nargs="?", help="sequences of the model's input length (or --bed)")
    _add_output(p, "file", metavar="preds.tsv", help="TSV (name, then one column per target); default: stdout")
    p.add_argument("--batch-size", type=_COUNT, default=1000, metavar="N", help="default: 1000")
    p.add_argument("--no-rc", action="store_true", help="forward strand only (default: mean of both strands)")
    p.add_argument("--device", type=_device, default="auto", metavar="DEV", help="auto, cpu, cuda or cuda:N (default: auto)")
    _add_predict_tracks(p)
    p.set_defaults(func=_run_predict, more_outputs=_predict_outputs)


def _predict_outputs(args) -> list:
    """The folder of a track prefix (--bigwig/--bedgraph PREFIX)."""
    from pathlib import Path

    prefix = args.bigwig if args.bigwig is not None else args.bedgraph
    return [] if prefix is None else [(Path(prefix).parent, "dir")]


def _run_predict(args) -> int:
    import numpy as np

    from .errors import check
    from .sequence import read_fasta, tokenize

    if args.bed is not None or args.genome is not None:
        return _run_predict_tracks(args)
    check(args.fasta is not None, "predict: give SEQS.fa, or --bed and --genome for genome tracks")
    names, seqs = read_fasta(args.fasta)   # the FASTA first: a bad file is reported before torch loads
    tokens = [tokenize(s, name=f"{args.fasta}: record {n!r}") for n, s in zip(names, seqs)]
    import pandas as pd

    from .models import load_checkpoint, predict, resolve_device

    model, ckpt = load_checkpoint(args.model, device=resolve_device(args.device))
    L = model.config.length
    for name, t in zip(names, tokens):
        check(len(t) == L, f"{args.fasta}: record {name!r} has {len(t)} bases; the model takes {L}")
    probs = predict(model, np.stack(tokens), batch_size=args.batch_size, rc=not args.no_rc, progress=not args.quiet)
    table = pd.DataFrame(probs, columns=ckpt["targets"])
    table.insert(0, "name", names)
    _write_or_print(args.output, table.to_csv(sep="\t", index=False, float_format="%.6g"))
    if args.output:
        _say(args, f"wrote {len(names)} x {len(ckpt['targets'])} probabilities to {args.output}")
    return 0


# ---------------------------------------------------------------------------------------------
# predict --bed --genome: genome tracks
# ---------------------------------------------------------------------------------------------
def _add_predict_tracks(p) -> None:
    g = p.add_argument_group("genome tracks", "tile windows over BED regions and write one track per target")
    g.add_argument("--bed", metavar="REGIONS.bed", help="regions to tile (0-based half-open; instead of SEQS.fa)")
    g.add_argument("--genome", metavar="GENOME.fa", help="indexed genome FASTA (.fai; bgzip also .gzi)")
    g.add_argument("--step", type=_COUNT, default=50, metavar="BP", help="tiling step and bin width (default: 50)")
    out = g.add_mutually_exclusive_group()
    out.add_argument("--bigwig", metavar="PREFIX", help="write PREFIX.<target>.bw")
    out.add_argument("--bedgraph", metavar="PREFIX", help="write PREFIX.<target>.bedGraph")
    g.add_argument("--targets", metavar="NAMES", help="comma-separated target names or 0-based indices (default: all)")
    g.add_argument("--window", type=_COUNT, metavar="BP", help="window length; must equal the model's (default: the model's)")


def _run_predict_tracks(args) -> int:
    from .errors import check

    check(args.fasta is None, "predict: give either SEQS.fa or --bed with --genome, not both")
    check(args.bed is not None and args.genome is not None, "predict: genome tracks need both --bed and --genome")
    check(args.bigwig is not None or args.bedgraph is not None, "predict: genome tracks need --bigwig or --bedgraph PREFIX")
    check(not args.no_rc, "predict: genome tracks always average both strands (--no-rc is for SEQS.fa)")
    from .models import load_checkpoint, resolve_device
    from .tracks import write_tracks

    device = resolve_device(args.device)
    model, ckpt = load_checkpoint(args.model, device=device)
    fmt, prefix = ("bigwig", args.bigwig) if args.bigwig is not None else ("bedgraph", args.bedgraph)
    paths = write_tracks(model, args.bed, args.genome, prefix, step=args.step, fmt=fmt, targets=args.targets,
                         model_targets=ckpt["targets"], window=args.window, batch_size=args.batch_size,
                         device=device, progress=not args.quiet)
    _say(args, f"wrote {len(paths)} {fmt} tracks: {', '.join(paths)}")
    return 0


# ---------------------------------------------------------------------------------------------
# score-variants
# ---------------------------------------------------------------------------------------------
def _add_score_variants(sub) -> None:
    p = sub.add_parser("score-variants", help="effects of VCF variants on every target: ref vs alt windows from a genome",
                       description="For each VCF variant (each ALT of a multi-allelic record) predict the model's "
                                   "window centred on it with the reference and with the alternative allele "
                                   "(forward + reverse-complement mean) and write per target ref_prob, alt_prob, "
                                   "diff (alt - ref) and logit_diff, plus the target with the largest |logit_diff|.")
    p.add_argument("model", metavar="MODEL", help="checkpoint written by motifq train")
    p.add_argument("--vcf", required=True, metavar="V.vcf[.gz]", help="variants: VCF or BCF, plain or gzip (1-based POS)")
    p.add_argument("--genome", required=True, metavar="GENOME.fa", help="indexed genome FASTA (.fai; bgzip also .gzi)")
    _add_output(p, "file", required=True, metavar="effects.tsv", help="effects table (TSV)")
    p.add_argument("--targets", metavar="NAMES", help="comma-separated target names or 0-based indices (default: all)")
    p.add_argument("--long", action="store_true", help="one row per variant and target (default: one row per variant)")
    p.add_argument("--vcf-out", metavar="annotated.vcf.gz",
                   help="also write the VCF with MQ_* INFO fields, bgzipped and tabix-indexed (needs a sorted VCF)")
    p.add_argument("--annotate", metavar="MOTIFS|matches.tsv",
                   help="motif file or bundled name (jaspar2024), or matches.tsv from extract-motifs --match: "
                        "the known motif and the learned kernel that change most at each variant")
    p.add_argument("--ignore-ref-mismatch", action="store_true",
                   help="also score variants whose REF differs from the genome (default: listed, not scored)")
    p.add_argument("--window", type=_COUNT, metavar="BP", help="window length; must equal the model's (default: the model's)")
    p.add_argument("--batch-size", type=_COUNT, default=256, metavar="N", help="windows per forward pass (default: 256)")
    p.add_argument("--device", type=_device, default="auto", metavar="DEV", help="auto, cpu, cuda or cuda:N (default: auto)")
    p.set_defaults(func=_run_score_variants, more_outputs=_score_variants_outputs)


def _score_variants_outputs(args) -> list:
    """--vcf-out and its tabix index."""
    return [] if args.vcf_out is None else [(args.vcf_out, "file"), (f"{args.vcf_out}.tbi", "file")]


def _run_score_variants(args) -> int:
    from .models import load_checkpoint, resolve_device
    from .variants import score_vcf

    device = resolve_device(args.device)
    model, ckpt = load_checkpoint(args.model, device=device)
    s = score_vcf(model, args.vcf, args.genome, args.output, targets=args.targets, long=args.long,
                  vcf_out=args.vcf_out, annotate=args.annotate, ignore_ref_mismatch=args.ignore_ref_mismatch,
                  window=args.window, batch_size=args.batch_size, device=device, progress=not args.quiet,
                  model_targets=ckpt["targets"])
    if s["ref_mismatch"]:
        what = "scored anyway (--ignore-ref-mismatch)" if args.ignore_ref_mismatch else "not scored"
        print(f"motifq: {s['ref_mismatch']} of {s['alleles']} variant alleles have a REF that differs from "
              f"{args.genome}; {what}", file=sys.stderr)   # reported even with --quiet
    skipped = [f"{s[k]} {k.replace('_', ' ')}" for k in ("symbolic", "too_long") if s[k]]
    _say(args, f"scored {s['scored']} of {s['alleles']} alleles ({s['records']} records)"
               + (f"; not scored: {', '.join(skipped)}" if skipped else "") + f"; wrote {args.output}"
               + (f" and {args.vcf_out}" if args.vcf_out else ""))
    return 0


# ---------------------------------------------------------------------------------------------
# evaluate
# ---------------------------------------------------------------------------------------------
def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="per-target ROC/PR AUC, loss and accuracy of trained models; tables and figures",
                       description="Evaluate checkpoints as the DanQ paper did: predictions averaged over the forward "
                                   "and reverse-complement strands, ROC AUC and PR AUC per target, Table S1 loss and "
                                   "accuracy (and the all-zeros predictor's), model-vs-model scatter plots.")
    p.add_argument("models", nargs="+", metavar="MODEL",
                   help="checkpoint (.pt) from motifq train; NAME=PATH names it (default: the file name)")
    _add_data_args(p, split="test")
    _add_output(p, "dir", aliases=("--out",), default="evaluation",
                help="output folder for metrics.tsv, summary.json and figures (default: evaluation)")
    p.add_argument("--reference", metavar="TSV",
                   help="published per-target AUCs (columns '<model> ROC AUC', '<model> PR AUC'), drawn as more models")
    p.add_argument("--no-rc", dest="rc", action="store_false",
                   help="forward strand only (default: mean of forward and reverse complement)")
    p.add_argument("--curves", metavar="NAME,...",
                   help="targets (names or 0-based indices) to draw ROC/PR curves for (default: 4 across the PR AUC range)")
    p.add_argument("--batch-size", type=_COUNT, default=256, metavar="N", help="sequences per forward pass (default: 256)")
    p.add_argument("--device", type=_device, default="auto", help="cpu, cuda, cuda:1, ... (default: auto = cuda if available)")
    p.add_argument("--float16", action="store_true",
                   help="store the streamed predictions as float16 (half the disk; more ties, AUCs differ slightly)")
    p.add_argument("--keep-predictions", action="store_true",
                   help="keep OUTDIR/predictions_<model>.npy, (N, T) probabilities")
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args) -> int:
    from .report import evaluate_models
    from .models import resolve_device

    device = resolve_device(args.device)
    split = _open_data(args, args.split)
    curves = [c for c in (args.curves or "").split(",") if c.strip()] or None
    summary = evaluate_models(args.models, split, args.output, rc=args.rc, batch_size=args.batch_size, device=device,
                              reference=args.reference, curves=curves, dtype="float16" if args.float16 else "float32",
                              keep_predictions=args.keep_predictions, progress=not args.quiet,
                              say=lambda m: _say(args, m))
    cols = ["loss", "accuracy", "roc_auc_mean", "roc_auc_median", "pr_auc_mean", "pr_auc_median"]
    print("model\t" + "\t".join(cols))  # the Table S1 rows are the result: printed even with --quiet
    for name, row in summary["models"].items():
        print(name + "\t" + "\t".join("NA" if row.get(c) is None else f"{row[c]:.4f}" for c in cols))
    return 0


# ---------------------------------------------------------------------------------------------
# quickstart
# ---------------------------------------------------------------------------------------------
def _add_quickstart(sub) -> None:
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
    p.add_argument("--threads", type=_COUNT, metavar="N",
                   help="CPU threads for torch (default: torch's, one per core; on a busy machine 1 can be much faster)")
    p.set_defaults(func=_run_quickstart)


def _run_quickstart(args) -> int:
    from .quickstart import quickstart

    quickstart(args.output, size=args.size, device=args.device, seed=args.seed, threads=args.threads,
               progress=not args.quiet, say=lambda m: _say(args, m))
    return 0


# ---------------------------------------------------------------------------------------------
# attribute (ISM, gradients)
# ---------------------------------------------------------------------------------------------
def _add_attribute(sub) -> None:
    p = sub.add_parser("attribute", help="which bases drive a target's prediction (ISM, saliency, integrated gradients)",
                       description="Attribute one target's logit (the mean of the forward and reverse-complement "
                                   "strands) to every base of every sequence. Writes an .npz with tokens (N, L) "
                                   "uint8, attributions (N, 4, L) float32 in A, C, G, T order, logits, names, "
                                   "target and method. ISM is exact: every single substitution, mean-centred per "
                                   "position (see docs/interpretation.md).")
    p.add_argument("model", metavar="MODEL", help="checkpoint written by motifq train")
    _add_data_args(p, split="test")
    p.add_argument("--target", required=True, metavar="NAME|INDEX", help="the model output to attribute")
    p.add_argument("--method", choices=["ism", "saliency", "input-x-gradient", "integrated-gradients"],
                   help="attribution method (default: ism, exact and the right choice for BiLSTM models)")
    p.add_argument("--positives", action="store_true", help="only sequences labelled 1 for the target (needs labels)")
    p.add_argument("--max-seqs", type=_COUNT, metavar="N", help="use at most the first N sequences (after --positives)")
    p.add_argument("--plot", type=_number(int, 0), default=0, metavar="K",
                   help="draw attribution logos of the K sequences with the highest logit beside the output")
    p.add_argument("--steps", type=_COUNT, default=32, help="integrated gradients: points on the path (default 32)")
    p.add_argument("--batch-size", type=_COUNT, default=None,
                   help="mutants (ism) or sequences per pass (default: 1024 mutants; 256 sequences, 16 for integrated gradients)")
    p.add_argument("--device", type=_device, default="auto", help="auto, cpu, cuda or cuda:N (default: auto = cuda when available)")
    _add_output(p, "file", required=True, metavar="attr.npz", help="attributions file to write")
    p.set_defaults(func=_run_attribute)


def _attribute_tokens(args, target_name: str, length: int):
    """(N, L) tokens, their names and a description for attribute (--positives, --max-seqs)."""
    import numpy as np

    from .errors import check

    check(args.max_seqs is None or args.max_seqs >= 1, f"max-seqs: must be at least 1, got {args.max_seqs}")
    if args.fasta is not None and args.labels is None and args.data is None:
        check(not args.positives, "positives: needs labels (--data, or --fasta with --labels)")
        from .extract import pad_sequences
        from .sequence import read_fasta

        names, seqs = read_fasta(args.fasta)
        bad = [n for n, s in zip(names, seqs) if len(s) != length]
        check(not bad, f"{args.fasta}: sequence {bad[0] if bad else ''!r} is not {length} bp long (the model's input length)")
        n = len(seqs) if args.max_seqs is None else args.max_seqs
        return pad_sequences(seqs[:n], length), np.asarray(names[:n]), f"{min(n, len(seqs))} sequences from {args.fasta}"
    split = _open_data(args, args.split)
    check(split.length == length, f"{args.data or args.fasta}: sequences are {split.length} bp, the model takes {length}")
    idx = np.arange(len(split))
    what = f"{args.split} split" if args.fasta is None else str(args.fasta)
    if args.positives:
        check(target_name in split.targets, f"positives: the data has no target {target_name!r} to select positives by")
        t = split.targets.index(target_name)
        packed = split.packed_labels
        hit = np.concatenate([(np.asarray(packed[i:i + 65536, t // 8]) >> (t % 8)) & 1
                              for i in range(0, len(packed), 65536)]).astype(bool)
        idx = np.flatnonzero(hit)
        check(len(idx) > 0, f"positives: no sequence is labelled 1 for {target_name}")
        what += f", positives for {target_name}"
    idx = idx[:args.max_seqs]
    return np.asarray(split.tokens[idx]), idx.astype(str), f"{len(idx)} sequences ({what})"


def _attribution_logos(args, result, k: int) -> list:
    """Logos of the k sequences with the highest logit, beside the output: <stem>.logo<rank>.png."""
    from pathlib import Path

    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plot import plot_attribution, save_figure

    out, paths = Path(args.output), []
    for rank, i in enumerate(np.argsort(-result.logits, kind="stable")[:k], 1):
        fig, ax = plt.subplots(figsize=(min(24.0, 0.08 * result.tokens.shape[1] + 1), 2.0))
        plot_attribution(result.attributions[i], result.tokens[i], ax=ax,
                         title=f"{result.names[i]}: {result.target} logit {result.logits[i]:.2f} ({result.method})")
        paths.append(save_figure(fig, out.with_name(f"{out.stem}.logo{rank}.png"), dpi=100))
    return paths


def _run_attribute(args) -> int:
    from pathlib import Path

    from .attribute import Attributions, attribute, resolve_target, save_attributions
    from .errors import check
    from .models import load_checkpoint, resolve_device

    device = resolve_device(args.device)
    model, ckpt = load_checkpoint(args.model, device=device)
    t = resolve_target(args.target, ckpt["targets"])
    method = args.method or "ism"
    check(method == "ism" or getattr(model, "conv", None) is not None,
          f"method: {method} needs a model that is differentiable in its input; this {model.config.kind} model is not "
          "(use --method ism)")
    tokens, names, what = _attribute_tokens(args, ckpt["targets"][t], model.config.length)
    _say(args, f"{method} attributions of {ckpt['targets'][t]} over {what} ({device})")
    attr, logits = attribute(model, tokens, t, method=method, batch_size=args.batch_size, steps=args.steps,
                             progress=not args.quiet)
    result = Attributions(tokens, attr, logits, names, ckpt["targets"][t], t, method, model.config.kind)
    save_attributions(args.output, result)
    _say(args, f"wrote {len(tokens)} x 4 x {tokens.shape[1]} attributions to {args.output}")
    for path in _attribution_logos(args, result, min(args.plot, len(tokens))):
        _say(args, f"wrote {path}")
    return 0


# ---------------------------------------------------------------------------------------------
# discover (seqlets -> motifs)
# ---------------------------------------------------------------------------------------------
def _add_discover(sub) -> None:
    p = sub.add_parser("discover", help="motifs from attributions: seqlets grouped, aligned and counted",
                       description="Find seqlets (non-overlapping windows whose summed attribution stands out "
                                   "from a Laplace null), group them by aligning their attribution patterns, "
                                   "and count each group's aligned sequences. Writes the motifs (MEME), "
                                   "seqlets.tsv beside them (0-based half-open coordinates) and, with --match, "
                                   "matches.tsv.")
    p.add_argument("attributions", metavar="attr.npz", help="file written by motifq attribute")
    p.add_argument("--window", type=_COUNT, default=20, help="seqlet width in bp (default 20)")
    p.add_argument("--fdr", type=_number(float, above=0, maximum=1), default=0.05, help="seqlet null: expected false fraction beyond the cut (default 0.05)")
    p.add_argument("--min-seqlets", type=_COUNT, default=20, help="fewest seqlets in a motif (default 20)")
    p.add_argument("--min-similarity", type=_number(float, -1, 1), default=0.6,
                   help="least Pearson correlation of a seqlet with its group's pattern (default 0.6)")
    p.add_argument("--max-motifs", type=_COUNT, default=40, help="most motifs per sign (default 40)")
    p.add_argument("--trim", type=_number(float, 0, 2), default=0.3, metavar="IC", help="cut edge columns below IC bits (default 0.3)")
    p.add_argument("--match", metavar="NAME|FILE", help="compare with a database (e.g. jaspar2024) and write matches.tsv beside the output")
    p.add_argument("--evalue", type=_number(float, above=0), default=0.01, help="--match: E-value cut for the summary line and matches.tsv (default 0.01)")
    _add_output(p, "file", required=True, metavar="motifs.meme", help="MEME file to write")
    p.set_defaults(func=_run_discover, more_outputs=_discover_outputs)


def _discover_outputs(args) -> list:
    """seqlets.tsv beside the MEME file, and matches.tsv with --match."""
    from pathlib import Path

    return [(Path(args.output).with_name("seqlets.tsv"), "file")] + _matches_output(args)


def _run_discover(args) -> int:
    from pathlib import Path

    from .attribute import discover, read_attributions, write_seqlets
    from .errors import check
    from .formats import write_meme

    result = read_attributions(args.attributions)
    db = None
    if args.match:
        from .jaspar import load_motifs

        db = load_motifs(args.match)  # fail early on a bad database
    motifs, rows, seqlets = discover(result, window=args.window, fdr=args.fdr, min_seqlets=args.min_seqlets,
                                     min_similarity=args.min_similarity, max_motifs=args.max_motifs, trim=args.trim)
    _say(args, f"{len(seqlets.seq)} seqlets in {len(result.tokens)} sequences (|window sum| >= {seqlets.threshold:.3g})")
    check(len(motifs) > 0, f"{args.attributions}: no group of {args.min_seqlets} or more seqlets; nothing written "
                           "(try more sequences, a lower --min-seqlets or --min-similarity)")
    matches = None
    if db is not None:
        from .compare import compare

        matches = compare(motifs, db, dist="pearson", min_overlap=5, thresh=args.evalue, evalue=True)
    write_meme(args.output, motifs)
    path = write_seqlets(Path(args.output).with_name("seqlets.tsv"), rows, names=list(result.names))
    _say(args, f"wrote {len(motifs)} motifs to {args.output} and {len(rows)} seqlets to {path}")
    if matches is not None:
        from .errors import atomic_write

        mpath = _matches_output(args)[0][0]
        with atomic_write(mpath) as fh:
            matches.to_csv(fh, sep="\t", index=False)
            fh.write(f"# database: {args.match}\n")
        k = matches.loc[matches["E-value"] < args.evalue, "Query_ID"].nunique()
        print(f"{k}/{len(motifs)} motifs match a known motif at E < {args.evalue:g}")
        _say(args, f"wrote {mpath}")
    return 0


# ---------------------------------------------------------------------------------------------
# scan (FIMO-like)
# ---------------------------------------------------------------------------------------------
def _add_scan(sub) -> None:
    p = sub.add_parser("scan", help="find known motif instances in sequences with exact p-values and q-values, as "
                                    "MEME's FIMO (FIMO's TSV, 1-based inclusive coordinates)")
    p.add_argument("motifs", metavar="MOTIFS", help="MEME or JASPAR file, or a bundled name (jaspar2024:CTCF,MA0080.7)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--fasta", metavar="SEQS.fa", help="sequences (any lengths; IUPAC codes read as N)")
    src.add_argument("--data", metavar="DIR", help="a motifq dataset or DeepSEA bundle folder; sequences named SPLIT_INDEX")
    p.add_argument("--split", default="test", choices=["train", "valid", "test"], help="with --data (default: test)")
    p.add_argument("--thresh", type=_number(float, above=0, maximum=1), default=1e-4, help="report windows with p-value < this (default: 1e-4)")
    p.add_argument("--bg", default="uniform", metavar="uniform|motif|sequences|FILE",
                   help="background: uniform (default), each motif's own (FIMO's default), the scanned "
                        "sequences' letter frequencies, or a MEME background file")
    p.add_argument("--pseudocount", type=_number(float, 0), default=0.1, help="motif pseudocount (FIMO's --motif-pseudo; default: 0.1)")
    p.add_argument("--norc", action="store_true", help="scan the given strand of each motif only (default: both)")
    p.add_argument("--max-stored-scores", type=_COUNT, default=100000, metavar="N",
                   help="keep at most N hits per motif, the best (default: 100000)")
    _add_output(p, "file", required=True, metavar="hits.tsv", help="FIMO's TSV")
    p.set_defaults(func=_run_scan)


def _run_scan(args) -> int:
    from .errors import check
    from .jaspar import load_motifs
    from .scan import read_background, scan, write_hits

    motifs = load_motifs(args.motifs)
    if args.fasta:
        from .sequence import read_fasta

        names, seqs = read_fasta(args.fasta)
    else:
        from .data import open_data

        split = open_data(data=args.data, split=args.split, progress=not args.quiet)
        seqs = split.tokens
        names = [f"{args.split}_{i}" for i in range(len(split))]
    if args.bg not in ("uniform", "motif", "sequences"):
        read_background(args.bg)  # a file: checked before the scan
    hits = scan(motifs, seqs, names=names, thresh=args.thresh, background=args.bg, pseudocount=args.pseudocount,
                both_strands=not args.norc, max_stored_scores=args.max_stored_scores, progress=not args.quiet)
    write_hits(args.output, hits, comment=f"motifq scan {args.motifs} thresh={args.thresh:g} bg={args.bg} "
                                          f"pseudocount={args.pseudocount:g} strands={'+' if args.norc else '+ -'}")
    _say(args, f"wrote {len(hits)} hits of {len(motifs)} motifs in {len(names)} sequences to {args.output}")
    return 0


# ---------------------------------------------------------------------------------------------
# grammar (in-silico insertions)
# ---------------------------------------------------------------------------------------------
def _add_grammar(sub) -> None:
    p = sub.add_parser("grammar", help="insert motifs into background sequences: marginal effects, and the "
                                       "interaction of a pair at every gap, order and strand")
    p.add_argument("model", metavar="MODEL", help="checkpoint written by motifq train")
    p.add_argument("--motifs", required=True, metavar="A,B",
                   help="one or two bundled motifs or files (jaspar2024:SPI1,ESRRB; a.meme,b.meme); with --pairs, "
                        "a file of learned motifs")
    p.add_argument("--target", metavar="NAME|INDEX", help="the target to draw and judge (default: the one with the "
                                                           "strongest interaction); grammar.tsv has every target")
    p.add_argument("--background", default="simulated", metavar="DATA|FASTA|simulated",
                   help="background sequences: simulated (default), a data set folder or a FASTA file")
    p.add_argument("--split", default="test", choices=["train", "valid", "test"], help="with a data set (default: test)")
    p.add_argument("--n", type=_number(int, 2), default=200, help="number of backgrounds (default: 200)")
    p.add_argument("--max-gap", type=_number(int, 0), default=100, metavar="BP", help="gaps 0..BP (default: 100)")
    p.add_argument("--insert", default="sample", choices=["sample", "consensus"],
                   help="insert a sample of each PFM per background (default) or its consensus")
    p.add_argument("--pairs", type=_number(int, 2), metavar="K", help="every pair of the K best-matched motifs of --motifs, ranked")
    p.add_argument("--matches", metavar="matches.tsv", help="with --pairs: extract-motifs/compare matches to rank by")
    p.add_argument("--seed", type=_SEED, default=0, help="backgrounds and instances (default: 0)")
    p.add_argument("--batch-size", type=_COUNT, default=512, metavar="N", help="sequences per forward pass (default: 512)")
    _add_output(p, "dir", required=True, help="output folder")
    p.set_defaults(func=_run_grammar)


def _grammar_inputs(args):
    """Everything checked before any forward pass: model, targets, motifs, layout, backgrounds."""
    from .errors import check, check_file
    from .grammar import backgrounds, layout, parse_motifs, resolve_target, top_matched
    from .models import load_checkpoint

    model, ckpt = load_checkpoint(check_file(args.model))
    names, length = list(ckpt["targets"]), model.config.length
    target = None if args.target is None else resolve_target(args.target, names)
    motifs = parse_motifs(args.motifs)
    if args.pairs is not None:
        motifs = top_matched(motifs, args.matches, args.pairs)
    else:
        check(len(motifs) <= 2, f"--motifs: {len(motifs)} motifs; give one or two, or use --pairs K")
    for m in motifs:
        check(m.width <= length, f"motif {m.id}: {m.width} bp is wider than the model's sequences ({length} bp)")
    if len(motifs) >= 2:
        widest = sorted(m.width for m in motifs)[-2:]
        layout(widest[0], widest[1], length, args.max_gap)
    check(args.background == "simulated" or os.path.exists(args.background),
          f"--background: {args.background}: no such file or folder (or say simulated)")
    bg = backgrounds(args.background, args.n, length, args.seed, split=args.split)
    return model, names, target, motifs, bg


def _write_pair_figures(out, table, a, b, target) -> None:
    import matplotlib.pyplot as plt

    from .plot import plot_grammar_map, save_figure

    fig, axes = plt.subplots(2, 1, figsize=(9, 5), constrained_layout=True)
    lim = float(table[table["target"] == target]["interaction"].abs().max()) or 1.0
    for ax, (f, s) in zip(axes, ((a, b), (b, a))):
        plot_grammar_map(table, f, s, target, ax=ax, vmax=lim)
    save_figure(fig, out / f"map_{a}_{b}.png")


def _strongest_target(table):
    return table.loc[table["interaction"].abs().idxmax(), "target"]


def _run_grammar(args) -> int:
    from pathlib import Path

    from .errors import atomic_write
    from .grammar import all_pairs, marginal, pair_map, rank_pairs, verdict

    model, names, target, motifs, bg = _grammar_inputs(args)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    if len(motifs) == 1:
        table = marginal(model, motifs[0], bg, target_names=names, insert=args.insert, rng=args.seed,
                         batch_size=args.batch_size)
        with atomic_write(out / "marginal.tsv") as fh:
            table.to_csv(fh, sep="\t", index=False, float_format="%.6g")
        _say(args, f"wrote the marginal effect of {motifs[0].id} on {len(names)} targets to {out / 'marginal.tsv'}")
        return 0
    tables, lines = {}, []
    for a, b in all_pairs(motifs):
        t = pair_map(model, a, b, bg, args.max_gap, target_names=names, insert=args.insert, rng=args.seed,
                     batch_size=args.batch_size)
        tables[(a.id, b.id)] = t
        lines.append(verdict(t, names[target] if target is not None else _strongest_target(t)))
    import pandas as pd

    with atomic_write(out / "grammar.tsv") as fh:
        pd.concat(tables.values()).to_csv(fh, sep="\t", index=False, float_format="%.6g")
    ranked = rank_pairs(tables)
    with atomic_write(out / "pairs.tsv") as fh:
        ranked.to_csv(fh, sep="\t", index=False, float_format="%.6g")
    with atomic_write(out / "verdicts.txt") as fh:
        fh.write("\n".join(lines) + "\n")
    for r in ranked.head(3).itertuples(index=False):
        t = tables[(r.motif_a, r.motif_b)]
        _write_pair_figures(out, t, r.motif_a, r.motif_b, names[target] if target is not None else r.target)
    sys.stdout.write("\n".join(lines) + "\n")
    _say(args, f"wrote grammar.tsv, pairs.tsv, verdicts.txt and maps of {min(3, len(tables))} pairs to {out}")
    return 0


# ---------------------------------------------------------------------------------------------
# plumbing
# ---------------------------------------------------------------------------------------------
_COMMANDS = [_add_motifs, _add_simulate, _add_build_dataset, _add_convert_deepsea, _add_train, _add_predict, _add_evaluate, _add_extract_motifs, _add_compare, _add_cluster, _add_logos, _add_quickstart,
             _add_attribute, _add_discover, _add_scan, _add_grammar, _add_score_variants]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = _Parser(
        prog="motifq",
        description="Train DanQ models on chromatin-profiling data and see which motifs they learned.")
    parser.add_argument("--version", action="version", version=f"motifq {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or status lines")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in _COMMANDS:
        add(sub)
    return parser


def _one_line(message: str) -> str:
    return " ".join(str(message).split()) or "error"


def main(argv=None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str or None
        Arguments without the program name. Default is None: ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 2 on a user error (bad file, bad value, bad output path; one line on
        stderr), 130 when interrupted.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv[:argv.index("--")] if "--" in argv else "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        _check_outputs(args)
        return int(args.func(args) or 0)
    except (MotifqError, OSError, MemoryError) as exc:
        if debug:
            raise
        if isinstance(exc, BrokenPipeError):
            return 0
        why = exc if isinstance(exc, MotifqError) else _os_message(exc)
        print(f"motifq: error: {_one_line(why)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("motifq: interrupted", file=sys.stderr)
        return 130


def _os_message(exc: BaseException) -> str:
    """``<file>: <why>`` for an operating-system error (a file that cannot be read, memory)."""
    if isinstance(exc, MemoryError):
        return "out of memory (try a smaller --batch-size or fewer sequences)"
    name = getattr(exc, "filename", None)
    why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{name}: {why}" if name else why


if __name__ == "__main__":
    sys.exit(main())

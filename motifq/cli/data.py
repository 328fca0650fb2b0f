"""Commands that make data sets: ``simulate`` (and ``simulate --genome``), ``build-dataset``,
``convert-deepsea``."""
from __future__ import annotations

from ..errors import MotifqError
from .common import _COUNT, _SEED, _add_output, _names, _number, log


def add_simulate(sub) -> None:
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
    p.set_defaults(func=run_simulate)


def run_simulate(args) -> int:
    import time

    import numpy as np

    from ..data.simulate import simulate, write_simulation

    if args.genome:
        return _run_simulate_genome(args)
    t0 = time.time()
    sim = simulate(args.n_train, args.n_valid, args.n_test, args.length, args.motifs, args.seed)
    write_simulation(sim, args.output)
    log.info(f"wrote {args.output}: " + ", ".join(f"{k} {len(s)}" for k, s in sim.splits.items())
             + f" sequences of {args.length} bp, {len(sim.instances['start'])} planted instances, "
             f"{len(sim.rules['targets'])} targets ({time.time() - t0:.1f} s)")
    for name, s in sim.splits.items():
        rates = s.labels().mean(axis=0) if len(s) else np.zeros(s.n_targets)
        log.info(f"  {name} positive rates: " + ", ".join(f"{t} {r:.1%}" for t, r in zip(s.targets, rates)))
    return 0


def _add_simulate_genome_args(p) -> None:
    g = p.add_argument_group("genome (simulate --genome)")
    g.add_argument("--genome", action="store_true",
                   help="write a small genome instead: FASTA + .fai, per-target narrowPeak files, blacklist, a VCF of "
                        "variants with known effects and the ground truth (see docs/genome.md)")
    g.add_argument("--chroms", type=_number(int, 1, 100), default=5, metavar="K", help="chromosomes chr1..chrK (default: 5)")
    g.add_argument("--chrom-length", type=_number(int, 40_000, 100_000_000), default=400_000, metavar="BP",
                   help="length of chr1; the others fall linearly to half of it (default: 400000, 1.5 Mb in all)")
    g.add_argument("--n-variants", type=_number(int, 2, 1_000_000), default=200, metavar="N",
                   help="SNVs in the VCF: half breaking planted sites, half neutral; plus indels, one multi-allelic "
                        "record and 5 REF mismatches (default: 200)")


def _run_simulate_genome(args) -> int:
    import time

    from ..data.genome import check_output_folder
    from ..data.simulate_genome import is_genome_simulation, simulate_genome, write_genome_simulation

    t0 = time.time()
    check_output_folder(args.output, is_genome_simulation)
    sim = simulate_genome(args.chroms, args.chrom_length, args.motifs, args.n_variants, args.seed)
    write_genome_simulation(sim, args.output)
    size = sum(len(s) for s in sim.sequences.values())
    effects = sim.variants["effect"]
    log.info(f"wrote {args.output}: {len(sim.sequences)} chromosomes, {size:,} bp, "
             f"{int((sim.regions['kind'] == 'enhancer').sum())} regions, {len(sim.instances['start'])} planted instances, "
             f"{len(sim.peaks)} peak files, {len(effects)} variant alleles ({int((effects == 'break').sum())} break, "
             f"{int((effects == 'neutral').sum())} neutral, {int((effects == 'ref_mismatch').sum())} REF mismatches) "
             f"({time.time() - t0:.1f} s)")
    return 0


# ---------------------------------------------------------------------------------------------
# build-dataset
# ---------------------------------------------------------------------------------------------
def add_build_dataset(sub) -> None:
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
    p.set_defaults(func=run_build_dataset)


def run_build_dataset(args) -> int:
    import time

    from ..data.build import DatasetOptions, build_dataset
    from ..data.genome import peak_files

    t0 = time.time()
    options = DatasetOptions(bin_size=args.bin, window=args.window, min_overlap=args.min_overlap,
                             valid=_names(args.valid), test=_names(args.test), blacklist=args.blacklist,
                             all_bins=args.all_bins, negatives=args.negatives, gc_matched=args.gc_matched,
                             chroms=args.chroms, max_n=args.max_n, seed=args.seed)
    files = peak_files(args.peaks, args.peaks_table)
    out = build_dataset(args.genome, files, args.output, options, progress=not args.quiet)
    log.info(f"wrote {out.path}: {len(out.targets)} targets, " + ", ".join(
        f"{s} {n:,} ({', '.join(out.chroms[s][:4])}{', ...' if len(out.chroms[s]) > 4 else ''})" for s, n in out.samples.items())
        + f" samples of {args.window} bp; dropped {out.dropped['edge']} (window off the chromosome), "
          f"{out.dropped['blacklist']} (blacklist), {out.dropped['n']} (N); {out.negatives} negatives "
          f"({time.time() - t0:.1f} s)")
    for s, pos in out.positives.items():
        rates = pos / max(out.samples[s], 1)
        log.info(f"  {s} positive rates: " + ", ".join(f"{t} {r:.1%}" for t, r in zip(out.targets, rates)))
    return 0


# ---------------------------------------------------------------------------------------------
# convert-deepsea
# ---------------------------------------------------------------------------------------------
def add_convert_deepsea(sub) -> None:
    p = sub.add_parser("convert-deepsea",
                       help="convert a DeepSEA bundle (train/valid/test.mat) once into a memory-mapped motifq cache")
    p.add_argument("bundle", metavar="DIR", help="folder with train.mat, valid.mat, test.mat (one-hot A, G, C, T)")
    _add_output(p, "dir", aliases=("--cache",), help="cache folder (a motifq dataset; default: DIR/motifq-cache)")
    p.add_argument("--splits", default="train,valid,test", help="comma-separated splits (default: train,valid,test; "
                                                               "a split without its .mat file is skipped)")
    p.add_argument("--chunk-size", type=_COUNT, metavar="N", help="samples converted at a time (default: ~256 MB of one-hot)")
    p.set_defaults(func=run_convert_deepsea, more_outputs=_deepsea_default_cache)


def _deepsea_default_cache(args) -> list:
    from pathlib import Path

    return [] if args.output is not None else [(Path(args.bundle) / "motifq-cache", "dir")]


def run_convert_deepsea(args) -> int:
    from ..data.dataset import read_info
    from ..data.deepsea import convert_bundle, default_cache

    splits = _names(args.splits)
    done = convert_bundle(args.bundle, cache=args.output, splits=splits, chunk_size=args.chunk_size,
                          progress=not args.quiet)
    cache = args.output or default_cache(args.bundle)
    if not done:
        raise MotifqError(f"{args.bundle}: none of the splits {', '.join(splits)} has a .mat file")
    info = read_info(cache)
    for split, converted in done.items():
        log.info(f"{split}: {info['splits'][split]} sequences of length {info['length']}, "
                 f"{len(info['targets'])} targets ({'converted' if converted else 'already cached'})")
    log.info(f"cache: {cache}")
    return 0

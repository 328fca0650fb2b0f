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
    p.add_argument("--min-overlap", type=int, default=1, metavar="N", help="minimum aligned columns (default: 1)")
    p.add_argument("--motif-pseudo", type=float, default=0.1, metavar="S",
                   help="pseudocount added to query and target motifs (default: 0.1)")
    p.add_argument("--evalue", action="store_true", help="threshold on the E-value instead of the q-value")
    p.add_argument("--thresh", type=float, default=0.5, metavar="X", help="significance threshold (default: 0.5)")
    p.add_argument("--all", action="store_true", help="write every query-target pair (no threshold)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the table here (TSV) instead of printing it")
    p.set_defaults(func=_run_compare)


def _run_compare(args) -> int:
    from .compare import _compare_columns, format_table  # no pandas: the CLI starts faster
    from .errors import atomic_write
    from .jaspar import load_motifs

    queries = load_motifs(args.query)
    dbs = [load_motifs(spec) for spec in args.targets]
    targets = [m for ms in dbs for m in ms]
    table = _compare_columns(queries, targets, args.dist, args.min_overlap, args.motif_pseudo, args.thresh,
                             args.evalue, args.all, _db=[i for i, ms in enumerate(dbs) for _ in ms])
    text = format_table(table)
    if args.output:
        with atomic_write(args.output) as fh:
            fh.write(text)
        _say(args, f"wrote {len(table['Query_ID'])} matches of {len(queries)} queries against {len(targets)} targets to {args.output}")
    else:
        sys.stdout.write(text)
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
    g.add_argument("--chroms", type=int, default=5, metavar="K", help="chromosomes chr1..chrK (default: 5)")
    g.add_argument("--chrom-length", type=int, default=400_000, metavar="BP",
                   help="length of chr1; the others fall linearly to half of it (default: 400000, 1.5 Mb in all)")
    g.add_argument("--n-variants", type=int, default=200, metavar="N",
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
    p.add_argument("-o", "--output", required=True, metavar="DATASET", help="output dataset folder")
    p.add_argument("--bin", type=int, default=200, metavar="BP", help="bin width (default: 200)")
    p.add_argument("--window", type=int, default=1000, metavar="BP", help="input length centred on the bin (default: 1000)")
    p.add_argument("--min-overlap", type=float, default=0.5, metavar="F",
                   help="fraction of a bin a target's merged peaks must cover for a positive (default: 0.5)")
    p.add_argument("--valid", default="chr7", metavar="CHROMS", help="validation chromosomes, comma-separated (default: chr7)")
    p.add_argument("--test", default="chr8,chr9", metavar="CHROMS", help="test chromosomes (default: chr8,chr9)")
    p.add_argument("--blacklist", metavar="BED", help="drop windows overlapping these regions (e.g. the ENCODE blacklist)")
    p.add_argument("--all-bins", action="store_true", help="every bin, not only bins a peak touches")
    p.add_argument("--negatives", type=int, default=0, metavar="N", help="add N bins that no peak touches (default: 0)")
    p.add_argument("--gc-matched", action="store_true", help="draw the negatives to match the positives' GC content")
    p.add_argument("--chroms", default=r"(chr)?([0-9]+|X|Y)", metavar="REGEX",
                   help="chromosomes to use, a regular expression matching the whole name (default: (chr)?([0-9]+|X|Y))")
    p.add_argument("--max-n", type=float, default=0.05, metavar="F", help="drop windows with more N than this (default: 0.05)")
    p.add_argument("--seed", type=int, default=0, help="seed of the negatives' draw (default: 0)")
    p.set_defaults(func=_run_build_dataset)


def _names(text: str) -> list:
    """A comma-separated list, blanks dropped."""
    return [c.strip() for c in text.split(",") if c.strip()]


def _run_build_dataset(args) -> int:
    import time

    from .data.genome import DatasetOptions, build_dataset, peak_files

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
# extract-motifs / cluster / logos
# ---------------------------------------------------------------------------------------------
def _add_extract_motifs(sub) -> None:
    p = sub.add_parser("extract-motifs", help="turn a model's first-layer kernels into motifs (DeepBind-style)",
                       description="Run the first convolution layer (with its bias) over sequences and count, "
                                   "per kernel, the bases of the kernel-wide windows it fires on; write the "
                                   "PFMs as MEME (kernel_<k>, nsites = number of sites).")
    p.add_argument("model", metavar="MODEL", help="checkpoint written by motifq train")
    _add_data_args(p, split="test")
    p.add_argument("--max-seqs", type=int, metavar="N", help="use at most the first N sequences (after --positives)")
    p.add_argument("--positives", metavar="TARGET", help="only sequences labelled 1 for this target (name or index)")
    p.add_argument("--mode", choices=["sequence", "position"], default="sequence",
                   help="sequence: each sequence adds its best window if its activation > 0 (DanQ); "
                        "position: every window above --threshold x the kernel's maximum (Basset). Default: sequence")
    p.add_argument("--threshold", type=float, default=0.5, help="position mode: fraction of each kernel's maximum (default 0.5)")
    p.add_argument("--min-sites", type=int, default=10, help="leave out kernels with fewer sites (default 10)")
    p.add_argument("--trim", type=float, metavar="IC", help="trim edge columns below IC bits (default: keep the kernel width)")
    p.add_argument("--match", metavar="NAME|FILE", help="compare with a database (e.g. jaspar2016) and write matches.tsv beside the output")
    p.add_argument("--evalue", type=float, default=0.01, help="--match: E-value cut for the summary line and matches.tsv (default 0.01)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="sequences per batch (default: 8 on the CPU, where small batches stay in cache; 256 on a GPU)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto = cuda when available)")
    p.add_argument("-o", "--output", required=True, metavar="motifs.meme", help="MEME file to write")
    p.set_defaults(func=_run_extract_motifs)


def _extract_tokens(args):
    """(N, L) uint8 ACGT tokens for extract-motifs, filtered by --positives and --max-seqs."""
    import numpy as np

    from .errors import check
    from .extract import pad_sequences

    check(args.max_seqs is None or args.max_seqs >= 1, f"max-seqs: must be at least 1, got {args.max_seqs}")
    if args.fasta is not None and args.labels is None and args.data is None:
        check(args.positives is None, "positives: needs labels (--data, or --fasta with --labels)")
        from .sequence import read_fasta

        _, seqs = read_fasta(args.fasta)
        tokens = pad_sequences(seqs[:args.max_seqs])
        return tokens, f"{len(tokens)} sequences from {args.fasta}"
    split = _open_data(args, args.split)
    tokens = split.tokens
    what = f"{args.split} split" if args.fasta is None else str(args.fasta)
    if args.positives is not None:
        names = list(split.targets)
        t = names.index(args.positives) if args.positives in names else None
        if t is None and args.positives.isdigit() and int(args.positives) < len(names):
            t = int(args.positives)
        check(t is not None, f"positives: no target {args.positives!r} in the data ({len(names)} targets)")
        packed = split.packed_labels
        hit = np.concatenate([(np.asarray(packed[i:i + 65536, t // 8]) >> (t % 8)) & 1
                              for i in range(0, len(packed), 65536)]).astype(bool)
        idx = np.flatnonzero(hit)[:args.max_seqs]
        check(len(idx) > 0, f"positives: no sequence is labelled 1 for {names[t]}")
        tokens = np.asarray(tokens[idx])
        what += f", {len(idx)} positives for {names[t]}"
    elif args.max_seqs is not None:
        tokens = tokens[:args.max_seqs]
    return tokens, f"{len(tokens)} sequences ({what})"


def _matches_path(output):
    from pathlib import Path

    return Path(output).with_name("matches.tsv")


def _run_extract_motifs(args) -> int:
    from .errors import check
    from .extract import extract_motifs
    from .formats import write_meme
    from .models import load_checkpoint
    from .train import resolve_device

    check(args.min_sites >= 1, f"min-sites: must be at least 1, got {args.min_sites}")
    check(args.batch_size is None or args.batch_size >= 1, f"batch-size: must be at least 1, got {args.batch_size}")
    check(0.0 <= args.threshold <= 1.0, f"threshold: must be in [0, 1], got {args.threshold}")
    device = str(resolve_device(args.device))
    model, ckpt = load_checkpoint(args.model, device=device)
    conv = getattr(model, "conv", None)
    check(conv is not None, f"{args.model}: this model has no convolution layer to extract motifs from")
    db = None
    if args.match:
        from .jaspar import load_motifs

        db = load_motifs(args.match)  # fail early on a bad database
    tokens, what = _extract_tokens(args)
    _say(args, f"extracting {conv.out_channels} kernels of width {conv.kernel_size[0]} over {what} ({args.mode} mode, {device})")
    motifs, skipped, sites = extract_motifs(conv, tokens, mode=args.mode, threshold=args.threshold,
                                            min_sites=args.min_sites, trim=args.trim, jaspar_map=ckpt.get("jaspar"),
                                            batch_size=args.batch_size, device=device, progress=not args.quiet)
    check(len(motifs) > 0, f"{args.model}: no kernel has {args.min_sites} or more sites; nothing written "
                           f"(try more sequences or a lower --min-sites)")
    K = len(sites.nsites)
    matches = None
    if db is not None:
        from .compare import compare

        matches = compare(motifs, db, dist="pearson", min_overlap=5, thresh=args.evalue, evalue=True)
    write_meme(args.output, motifs)
    _say(args, f"wrote {len(motifs)}/{K} motifs to {args.output}")
    if skipped:
        _say(args, f"{len(skipped)} kernels with fewer than {args.min_sites} sites left out: "
                   + " ".join(f"kernel_{k}" for k in skipped))
    if matches is not None:
        from .errors import atomic_write

        path = _matches_path(args.output)
        with atomic_write(path) as fh:
            matches.to_csv(fh, sep="\t", index=False)
            fh.write(f"# database: {args.match}\n")
        k = matches.loc[matches["E-value"] < args.evalue, "Query_ID"].nunique()
        print(f"{k}/{K} kernels match a known motif at E < {args.evalue:g}")
        _say(args, f"wrote {path}")
    return 0


def _add_cluster(sub) -> None:
    p = sub.add_parser("cluster", help="cluster motifs (RSAT matrix-clustering-like) and draw the tree",
                       description="Align every pair (best offset and strand), build an average-linkage tree "
                                   "on 1 - Ncor and cut it where the mean cor / Ncor of a node drop below the "
                                   "thresholds. Writes clusters.tsv, summaries.meme, tree_letters.png, tree_ic.png.")
    p.add_argument("motifs", metavar="MOTIFS", help="MEME or JASPAR file, or a bundled name")
    p.add_argument("-o", "--outdir", default="clusters", help="output folder (default: clusters)")
    p.add_argument("--cor", type=float, default=0.75, help="least mean Pearson correlation in a cluster (default 0.75)")
    p.add_argument("--ncor", type=float, default=0.55, help="least mean width-normalised correlation (default 0.55)")
    p.add_argument("--min-overlap", type=int, default=5, help="fewest aligned columns (default 5)")
    p.set_defaults(func=_run_cluster)


def _run_cluster(args) -> int:
    import time
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    from .cluster import cluster_motifs, clusters_table
    from .errors import atomic_write
    from .formats import write_meme
    from .jaspar import load_motifs
    from .plot import plot_cluster_heatmap, save_figure

    motifs = load_motifs(args.motifs)
    start = time.perf_counter()
    result = cluster_motifs(motifs, min_cor=args.cor, min_ncor=args.ncor, min_overlap=args.min_overlap)
    seconds = time.perf_counter() - start
    out = Path(args.outdir)
    with atomic_write(out / "clusters.tsv") as fh:
        clusters_table(result).to_csv(fh, sep="\t", index=False)
    write_meme(out / "summaries.meme", result.summaries)
    for kind, name in (("letter", "tree_letters.png"), ("position", "tree_ic.png")):
        axes = plot_cluster_heatmap(result, color_by=kind)
        save_figure(axes[0].figure, out / name)
    sizes = np.bincount(result.labels)[1:]
    _say(args, f"{len(motifs)} motifs -> {len(sizes)} clusters ({int((sizes > 1).sum())} with 2 or more members, "
               f"largest {int(sizes.max())}) in {seconds:.1f} s; wrote {out}/clusters.tsv, summaries.meme, "
               f"tree_letters.png, tree_ic.png")
    return 0


def _add_logos(sub) -> None:
    p = sub.add_parser("logos", help="information-content logos, with best known matches, as PNG pages + index.html")
    p.add_argument("motifs", metavar="MOTIFS", help="MEME or JASPAR file, or a bundled name")
    p.add_argument("--matches", metavar="matches.tsv", help="Tomtom-style table from extract-motifs --match / motifq compare")
    p.add_argument("--db", metavar="NAME|FILE", help="the database the matches' targets come from "
                                                       "(default: the '# database:' line of matches.tsv)")
    p.add_argument("--top", type=int, metavar="N", help="only the N motifs with the best matches (or the most information)")
    p.add_argument("--per-page", type=int, default=12, help="logos per PNG page (default 12)")
    p.add_argument("-o", "--outdir", default="logos", help="output folder (default: logos)")
    p.set_defaults(func=_run_logos)


def _read_matches(path):
    """The matches table (Tomtom columns) and the database named in its '# database:' line."""
    import pandas as pd

    from .errors import MotifqError, check, check_file

    p = check_file(path)
    db = None
    for line in p.read_text(encoding="utf-8").splitlines():
        if line.startswith("# database:"):
            db = line.split(":", 1)[1].strip()
    try:
        table = pd.read_csv(p, sep="\t", comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise MotifqError(f"{p}: not a matches table ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    need = ["Query_ID", "Target_ID", "Optimal_offset", "p-value", "E-value", "Orientation"]
    missing = [c for c in need if c not in table.columns]
    check(not missing, f"{p}: missing columns {', '.join(missing)}")
    return table, db


def _run_logos(args) -> int:
    import html
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from .errors import atomic_write, check
    from .jaspar import load_motifs
    from .plot import plot_logo, plot_match, save_figure, tomtom_placement

    check(args.per_page >= 1, f"per-page: must be at least 1, got {args.per_page}")
    check(args.top is None or args.top >= 1, f"top: must be at least 1, got {args.top}")
    motifs = load_motifs(args.motifs)
    best, targets = {}, {}
    if args.matches:
        table, db_name = _read_matches(args.matches)
        db_name = args.db or db_name
        check(db_name is not None, f"{args.matches}: no '# database:' line; say which database with --db")
        for m in load_motifs(db_name):
            targets.setdefault(m.id, m)
        table = table.sort_values("E-value", kind="stable")
        for row in table.to_dict("records"):
            q = str(row["Query_ID"])
            if q not in best and str(row["Target_ID"]) in targets:
                best[q] = row
    ids = [m.id for m in motifs]
    if best:
        order = sorted(range(len(motifs)), key=lambda i: (ids[i] not in best, float(best[ids[i]]["E-value"]) if ids[i] in best else 0.0))
    else:
        order = sorted(range(len(motifs)), key=lambda i: -float(motifs[i].information_content().sum()))
    order = order[:args.top]
    from tqdm.auto import tqdm

    out = Path(args.outdir)
    pages = []
    for p0 in tqdm(range(0, len(order), args.per_page), desc="pages", unit="page", disable=args.quiet, leave=False):
        chunk = order[p0:p0 + args.per_page]
        cols = 2
        rows = (len(chunk) + cols - 1) // cols
        fig = plt.figure(figsize=(13, 3.6 * rows))
        gs = fig.add_gridspec(rows, cols, hspace=0.55, wspace=0.15)
        for c, i in enumerate(chunk):
            m = motifs[i]
            if m.id in best:
                row = best[m.id]
                target = targets[str(row["Target_ID"])]
                offset = tomtom_placement(m.width, target.width, int(row["Optimal_offset"]), row["Orientation"])
                cell = gs[c // cols, c % cols].subgridspec(2, 1, hspace=0.3)
                axes = [fig.add_subplot(cell[0])]
                axes.append(fig.add_subplot(cell[1], sharex=axes[0]))
                plot_match(m, target, offset, row["Orientation"], pvalue=float(row["p-value"]),
                           evalue=float(row["E-value"]), axes=axes)
            else:
                plot_logo(m, ax=fig.add_subplot(gs[c // cols, c % cols]))
        name = f"page_{len(pages) + 1:03d}.png"
        save_figure(fig, out / name)
        pages.append((name, [motifs[i] for i in chunk]))
    with atomic_write(out / "index.html") as fh:
        fh.write("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>motifq logos</title></head><body>\n")
        fh.write(f"<h1>Logos of {html.escape(str(args.motifs))}</h1>\n<p>{len(order)} motifs"
                 + (f", {sum(ids[i] in best for i in order)} with a known match" if args.matches else "") + "</p>\n")
        for name, ms in pages:
            fh.write(f"<h2>{name}</h2>\n<p>{html.escape(', '.join(m.id for m in ms))}</p>\n"
                     f"<img src=\"{name}\" alt=\"{name}\" style=\"max-width:100%\">\n")
        fh.write("</body></html>\n")
    _say(args, f"wrote {len(pages)} pages of logos and index.html to {out}")
    return 0


# ---------------------------------------------------------------------------------------------
# train / predict
# ---------------------------------------------------------------------------------------------
_MODEL_KINDS = ("danq", "danq-jaspar", "deepsea", "cnn", "lr")


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train DanQ (or a baseline) on a data set; writes the best and last checkpoints",
                       description="Train a model. Writes OUT (best validation loss), OUT's .last.pt (resumable) "
                                   "and .metrics.jsonl beside it. Multi-GPU: torchrun --nproc_per_node K -m motifq train ...")
    _add_data_args(p, split=None)
    p.add_argument("--valid-fraction", type=float, default=0.1, metavar="F",
                   help="with --fasta/--labels: seeded fraction held out for validation (default: 0.1)")
    m = p.add_argument_group("model")
    m.add_argument("--model", choices=_MODEL_KINDS, default="danq", help="default: danq")
    m.add_argument("--jaspar-init", nargs="?", const="jaspar2016", default=None, metavar="RELEASE|FILE",
                   help="seed first-layer kernels from motifs (default release when given bare: jaspar2016; "
                        "--model danq-jaspar implies it)")
    m.add_argument("--jaspar-fraction", type=float, default=0.5, metavar="F", help="fraction of kernels to seed (default: 0.5)")
    m.add_argument("--jaspar-rc", action="store_true", help="also seed each chosen motif's reverse complement")
    for flag, what in (("--conv-kernels", "first-layer kernels"), ("--conv-width", "kernel width"),
                       ("--pool", "max-pool window"), ("--lstm-units", "BiLSTM units per direction"),
                       ("--dense", "hidden dense units")):
        m.add_argument(flag, type=int, metavar="N", help=f"{what} (default: the model's published size)")
    m.add_argument("--init", choices=["uniform", "pytorch"], default="uniform",
                   help="initial weights: uniform = the paper's U(-0.05, 0.05) with zero biases; pytorch = each "
                        "layer's PyTorch default, U(+-1/sqrt(fan_in)), which leaves the label prior sooner when "
                        "training from random kernels on small data (default: uniform)")
    t = p.add_argument_group("training")
    t.add_argument("--epochs", type=int, default=60, metavar="N", help="default: 60")
    t.add_argument("--max-steps", type=int, metavar="N", help="stop after N optimizer steps in total")
    t.add_argument("--batch-size", type=int, default=100, metavar="N", help="per process (default: 100)")
    t.add_argument("--optimizer", choices=["rmsprop", "adam", "adamw"], default="rmsprop", help="default: rmsprop")
    t.add_argument("--lr", type=float, default=0.001, metavar="LR", help="learning rate (default: 0.001)")
    t.add_argument("--weight-decay", type=float, default=0.01, metavar="W", help="adamw only (default: 0.01)")
    t.add_argument("--patience", type=int, default=5, metavar="N", help="early stopping, epochs (default: 5)")
    t.add_argument("--seed", type=int, default=0, metavar="S", help="default: 0")
    t.add_argument("--device", default="auto", metavar="DEV", help="auto, cpu, cuda or cuda:N (default: auto)")
    t.add_argument("--no-rc-augment", action="store_true", help="no reverse-complement augmentation")
    t.add_argument("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    t.add_argument("--checkpoint-minutes", type=float, default=10.0, metavar="M",
                   help="also write the last checkpoint this often within an epoch (default: 10)")
    t.add_argument("--out", default="model.pt", metavar="model.pt", help="best checkpoint (default: model.pt)")
    t.add_argument("--resume", action="store_true", help="continue exactly from OUT's .last.pt")
    p.set_defaults(func=_run_train)


def _run_train(args) -> int:
    import logging
    import os

    from .config import ModelConfig, TrainConfig
    from .errors import check
    from .train import fit, holdout_split

    rank0 = os.environ.get("RANK", "0") == "0"
    quiet = args.quiet or not rank0
    logging.basicConfig(format="motifq: %(message)s", level=logging.WARNING if quiet else logging.INFO)
    check(0.0 < args.valid_fraction < 1.0, f"--valid-fraction: must be in (0, 1), got {args.valid_fraction}")
    if args.fasta is not None or args.labels is not None:
        check(args.fasta is not None and args.labels is not None, "data: --fasta and --labels go together")
        train, valid = holdout_split(_open_data(args, "train"), args.valid_fraction, args.seed)
    else:
        check(args.data is not None, "data: give --data DIR or --fasta SEQS.fa --labels LABELS.tsv")
        train, valid = _open_data(args, "train"), _open_data(args, "valid")
    jaspar = args.jaspar_init
    if args.model == "danq-jaspar" and jaspar is None:
        jaspar = "jaspar2016"
    model = ModelConfig.for_kind(args.model, n_targets=train.n_targets, length=train.length,
                                 conv_kernels=args.conv_kernels, conv_width=args.conv_width, pool=args.pool,
                                 lstm_units=args.lstm_units, dense=args.dense, init=args.init)
    config = TrainConfig(epochs=args.epochs, max_steps=args.max_steps, batch_size=args.batch_size,
                         optimizer=args.optimizer, lr=args.lr, weight_decay=args.weight_decay, patience=args.patience,
                         seed=args.seed, device=args.device, rc_augment=not args.no_rc_augment, amp=not args.no_amp,
                         jaspar_init=jaspar, jaspar_fraction=args.jaspar_fraction,
                         jaspar_reverse_complements=args.jaspar_rc, valid_fraction=args.valid_fraction,
                         checkpoint_minutes=args.checkpoint_minutes)
    if not quiet:
        _say(args, f"training {model.kind} on {len(train)} sequences of {train.length} bp, {train.n_targets} targets; "
                   f"validating on {len(valid)}" + (f"; kernels seeded from {jaspar}" if jaspar else ""))
    result = fit(model, train, valid, args.out, config, resume=args.resume, progress=not quiet)
    if not quiet:
        _say(args, f"stopped ({result['stopped']}) after {result['epochs']} epochs, {result['steps']} steps; "
                   f"best valid loss {result['best_valid_loss']:.4f}; wrote {result['out']} and {result['last']}")
    return 0


def _add_predict(sub) -> None:
    p = sub.add_parser("predict", help="per-sequence probabilities per target from a trained model")
    p.add_argument("model", metavar="MODEL", help="checkpoint written by motifq train")
    p.add_argument("fasta", metavar="SEQS.fa", nargs="?", help="sequences of the model's input length (or --bed)")
    p.add_argument("-o", "--output", metavar="preds.tsv", help="TSV (name, then one column per target); default: stdout")
    p.add_argument("--batch-size", type=int, default=1000, metavar="N", help="default: 1000")
    p.add_argument("--no-rc", action="store_true", help="forward strand only (default: mean of both strands)")
    p.add_argument("--device", default="auto", metavar="DEV", help="auto, cpu, cuda or cuda:N (default: auto)")
    _add_predict_tracks(p)
    p.set_defaults(func=_run_predict)


def _run_predict(args) -> int:
    import numpy as np
    import pandas as pd

    from .errors import atomic_write, check
    from .models import load_checkpoint, predict
    from .sequence import read_fasta, tokenize
    from .train import resolve_device

    if args.bed is not None or args.genome is not None:
        return _run_predict_tracks(args)
    check(args.fasta is not None, "predict: give SEQS.fa, or --bed and --genome for genome tracks")
    check(args.batch_size >= 1, f"--batch-size: must be >= 1, got {args.batch_size}")
    device = resolve_device(args.device)
    model, ckpt = load_checkpoint(args.model, device=device)
    names, seqs = read_fasta(args.fasta)
    L = model.config.length
    for name, seq in zip(names, seqs):
        check(len(seq) == L, f"{args.fasta}: record {name!r} has {len(seq)} bases; the model takes {L}")
    tokens = np.stack([tokenize(s) for s in seqs])
    probs = predict(model, tokens, batch_size=args.batch_size, rc=not args.no_rc, progress=not args.quiet)
    table = pd.DataFrame(probs, columns=ckpt["targets"])
    table.insert(0, "name", names)
    if args.output:
        with atomic_write(args.output) as fh:
            table.to_csv(fh, sep="\t", index=False, float_format="%.6g")
        _say(args, f"wrote {len(names)} x {len(ckpt['targets'])} probabilities to {args.output}")
    else:
        sys.stdout.write(table.to_csv(sep="\t", index=False, float_format="%.6g"))
    return 0


# ---------------------------------------------------------------------------------------------
# predict --bed --genome: genome tracks
# ---------------------------------------------------------------------------------------------
def _add_predict_tracks(p) -> None:
    g = p.add_argument_group("genome tracks", "tile windows over BED regions and write one track per target")
    g.add_argument("--bed", metavar="REGIONS.bed", help="regions to tile (0-based half-open; instead of SEQS.fa)")
    g.add_argument("--genome", metavar="GENOME.fa", help="indexed genome FASTA (.fai; bgzip also .gzi)")
    g.add_argument("--step", type=int, default=50, metavar="BP", help="tiling step and bin width (default: 50)")
    out = g.add_mutually_exclusive_group()
    out.add_argument("--bigwig", metavar="PREFIX", help="write PREFIX.<target>.bw")
    out.add_argument("--bedgraph", metavar="PREFIX", help="write PREFIX.<target>.bedGraph")
    g.add_argument("--targets", metavar="NAMES", help="comma-separated target names or 0-based indices (default: all)")
    g.add_argument("--window", type=int, metavar="BP", help="window length; must equal the model's (default: the model's)")


def _run_predict_tracks(args) -> int:
    from .errors import check

    check(args.fasta is None, "predict: give either SEQS.fa or --bed with --genome, not both")
    check(args.bed is not None and args.genome is not None, "predict: genome tracks need both --bed and --genome")
    check(args.bigwig is not None or args.bedgraph is not None, "predict: genome tracks need --bigwig or --bedgraph PREFIX")
    check(args.step >= 1, f"step: must be at least 1, got {args.step}")
    check(args.batch_size >= 1, f"--batch-size: must be >= 1, got {args.batch_size}")
    check(not args.no_rc, "predict: genome tracks always average both strands (--no-rc is for SEQS.fa)")
    from .models import load_checkpoint
    from .tracks import write_tracks
    from .train import resolve_device

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
    p.add_argument("-o", "--output", required=True, metavar="effects.tsv", help="effects table (TSV)")
    p.add_argument("--targets", metavar="NAMES", help="comma-separated target names or 0-based indices (default: all)")
    p.add_argument("--long", action="store_true", help="one row per variant and target (default: one row per variant)")
    p.add_argument("--vcf-out", metavar="annotated.vcf.gz",
                   help="also write the VCF with MQ_* INFO fields, bgzipped and tabix-indexed (needs a sorted VCF)")
    p.add_argument("--annotate", metavar="MOTIFS|matches.tsv",
                   help="motif file or bundled name (jaspar2024), or matches.tsv from extract-motifs --match: "
                        "the known motif and the learned kernel that change most at each variant")
    p.add_argument("--ignore-ref-mismatch", action="store_true",
                   help="also score variants whose REF differs from the genome (default: listed, not scored)")
    p.add_argument("--window", type=int, metavar="BP", help="window length; must equal the model's (default: the model's)")
    p.add_argument("--batch-size", type=int, default=256, metavar="N", help="windows per forward pass (default: 256)")
    p.add_argument("--device", default="auto", metavar="DEV", help="auto, cpu, cuda or cuda:N (default: auto)")
    p.set_defaults(func=_run_score_variants)


def _run_score_variants(args) -> int:
    from .errors import check

    check(args.batch_size >= 1, f"--batch-size: must be >= 1, got {args.batch_size}")
    from .models import load_checkpoint
    from .train import resolve_device
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
    p.add_argument("-o", "--out", default="evaluation", metavar="OUTDIR",
                   help="output folder for metrics.tsv, summary.json and figures (default: evaluation)")
    p.add_argument("--reference", metavar="TSV",
                   help="published per-target AUCs (columns '<model> ROC AUC', '<model> PR AUC'), drawn as more models")
    p.add_argument("--no-rc", dest="rc", action="store_false",
                   help="forward strand only (default: mean of forward and reverse complement)")
    p.add_argument("--curves", metavar="NAME,...",
                   help="targets (names or 0-based indices) to draw ROC/PR curves for (default: 4 across the PR AUC range)")
    p.add_argument("--batch-size", type=int, default=256, metavar="N", help="sequences per forward pass (default: 256)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, ... (default: auto = cuda if available)")
    p.add_argument("--float16", action="store_true",
                   help="store the streamed predictions as float16 (half the disk; more ties, AUCs differ slightly)")
    p.add_argument("--keep-predictions", action="store_true",
                   help="keep OUTDIR/predictions_<model>.npy, (N, T) probabilities")
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args) -> int:
    from .errors import check
    from .evaluate import evaluate_models

    check(args.batch_size >= 1, f"--batch-size: must be >= 1, got {args.batch_size}")
    from .train import resolve_device

    device = resolve_device(args.device)
    split = _open_data(args, args.split)
    curves = [c for c in (args.curves or "").split(",") if c.strip()] or None
    summary = evaluate_models(args.models, split, args.out, rc=args.rc, batch_size=args.batch_size, device=device,
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
    p.add_argument("-o", "--output", default="motifq-quickstart", metavar="DIR",
                   help="output folder (default: motifq-quickstart)")
    p.add_argument("--size", default="small", choices=["small", "tiny"],
                   help="small: the demonstration (minutes on a 2-core CPU); tiny: a smoke run in seconds "
                        "(default: small)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="CPU threads for torch (default: torch's, one per core; on a busy machine 1 can be much faster)")
    p.set_defaults(func=_run_quickstart)


def _run_quickstart(args) -> int:
    from .quickstart import quickstart

    quickstart(args.output, size=args.size, device=args.device, seed=args.seed, threads=args.threads,
               progress=not args.quiet,
               say=lambda m: _say(args, m))
    return 0


# ---------------------------------------------------------------------------------------------
# plumbing
# ---------------------------------------------------------------------------------------------
_COMMANDS = [_add_motifs, _add_simulate, _add_build_dataset, _add_convert_deepsea, _add_train, _add_predict, _add_score_variants, _add_evaluate, _add_extract_motifs, _add_compare, _add_cluster, _add_logos, _add_quickstart]


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

"""``motifq extract-motifs``: a model's first-layer kernels -> motifs (DeepBind-style)."""
from __future__ import annotations

from .common import _COUNT, _add_data_args, _add_output, _data_options, _device, _matches_output, _number, log


def add_extract_motifs(sub) -> None:
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
    p.set_defaults(func=run_extract_motifs, more_outputs=_matches_output)


def run_extract_motifs(args) -> int:
    from ..errors import check
    from ..extract import load_tokens

    tokens, what = load_tokens(split=args.split, positives=args.positives, max_seqs=args.max_seqs,
                               **_data_options(args))   # the data first: a bad FASTA is reported before torch loads
    db = None
    if args.match:
        from ..jaspar import load_motifs

        db = load_motifs(args.match)
    from ..extract import extract_motifs
    from ..formats import write_meme
    from ..models import load_checkpoint, resolve_device

    device = str(resolve_device(args.device))
    model, ckpt = load_checkpoint(args.model, device=device)
    conv = getattr(model, "conv", None)
    check(conv is not None, f"{args.model}: this model has no convolution layer to extract motifs from")
    log.info(f"extracting {conv.out_channels} kernels of width {conv.kernel_size[0]} over {what} ({args.mode} mode, {device})")
    motifs, skipped, sites = extract_motifs(conv, tokens, mode=args.mode, threshold=args.threshold,
                                            min_sites=args.min_sites, trim=args.trim, jaspar_map=ckpt.get("jaspar"),
                                            batch_size=args.batch_size, device=device, progress=not args.quiet)
    check(len(motifs) > 0, f"{args.model}: no kernel has {args.min_sites} or more sites; nothing written "
                           f"(try more sequences or a lower --min-sites)")
    write_meme(args.output, motifs)
    K = len(sites.nsites)
    log.info(f"wrote {len(motifs)}/{K} motifs to {args.output}")
    if skipped:
        log.info(f"{len(skipped)} kernels with fewer than {args.min_sites} sites left out: "
                 + " ".join(f"kernel_{k}" for k in skipped))
    if db is not None:
        from ..compare import compare_columns, write_matches

        table = compare_columns(motifs, db, dist="pearson", min_overlap=5, thresh=args.thresh, evalue=True)
        path = _matches_output(args)[0][0]
        write_matches(path, table, args.match)
        print(f"{len(set(table['Query_ID']))}/{K} kernels match a known motif at E < {args.thresh:g}")
        log.info(f"wrote {path}")
    return 0

"""``motifq scan``: known motif instances in sequences with exact p-values and q-values, as MEME's FIMO."""
from __future__ import annotations

from .common import _COUNT, _add_output, _number, log


def add_scan(sub) -> None:
    p = sub.add_parser("scan", help="find known motif instances in sequences with exact p-values and q-values, as "
                                    "MEME's FIMO (FIMO's TSV, 1-based inclusive coordinates)")
    p.add_argument("motifs", metavar="MOTIFS", help="MEME or JASPAR file, or a bundled name (jaspar2024:CTCF,MA0080.7)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--fasta", metavar="SEQS.fa", help="sequences (any lengths; IUPAC codes read as N)")
    src.add_argument("--data", metavar="DIR", help="a motifq dataset or DeepSEA bundle folder; sequences named SPLIT_INDEX")
    p.add_argument("--split", default="test", choices=["train", "valid", "test"], help="with --data (default: test)")
    p.add_argument("--thresh", type=_number(float, above=0, maximum=1), default=1e-4, help="report windows with p-value <= this, as MEME's fimo (default: 1e-4)")
    p.add_argument("--bg", default="uniform", metavar="uniform|motif|sequences|FILE",
                   help="background: uniform (default), each motif's own (FIMO's default), the scanned "
                        "sequences' letter frequencies, or a MEME background file")
    p.add_argument("--pseudocount", type=_number(float, 0), default=0.1, help="motif pseudocount (FIMO's --motif-pseudo; default: 0.1)")
    p.add_argument("--norc", action="store_true", help="scan the given strand of each motif only (default: both)")
    p.add_argument("--max-stored-scores", type=_COUNT, default=100000, metavar="N",
                   help="keep at most N hits per motif, the best (default: 100000)")
    _add_output(p, "file", required=True, metavar="hits.tsv", help="FIMO's TSV")
    p.set_defaults(func=run_scan)


def run_scan(args) -> int:
    from ..jaspar import load_motifs
    from ..scan import read_background, scan, write_hits

    motifs = load_motifs(args.motifs)
    if args.fasta:
        from ..sequence import read_fasta

        names, seqs = read_fasta(args.fasta)
    else:
        from ..data import open_data

        split = open_data(data=args.data, split=args.split, progress=not args.quiet)
        seqs = split.tokens
        names = [f"{args.split}_{i}" for i in range(len(split))]
    if args.bg not in ("uniform", "motif", "sequences"):
        read_background(args.bg)  # a file: checked before the scan
    hits = scan(motifs, seqs, names=names, thresh=args.thresh, background=args.bg, pseudocount=args.pseudocount,
                both_strands=not args.norc, max_stored_scores=args.max_stored_scores, progress=not args.quiet)
    write_hits(args.output, hits, comment=f"motifq scan {args.motifs} thresh={args.thresh:g} bg={args.bg} "
                                          f"pseudocount={args.pseudocount:g} strands={'+' if args.norc else '+ -'}")
    log.info(f"wrote {len(hits)} hits of {len(motifs)} motifs in {len(names)} sequences to {args.output}")
    return 0

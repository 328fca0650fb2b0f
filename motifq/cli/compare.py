"""``motifq compare``: motifs against motif databases, as MEME's Tomtom."""
from __future__ import annotations

from .common import _add_output, _number, _write_or_print, log


def add_compare(sub) -> None:
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
    p.set_defaults(func=run_compare)


def run_compare(args) -> int:
    from ..compare import compare_columns, format_table  # no pandas: the CLI starts faster
    from ..jaspar import load_motifs

    queries = load_motifs(args.query)
    dbs = [load_motifs(spec) for spec in args.targets]
    targets = [m for ms in dbs for m in ms]
    table = compare_columns(queries, targets, args.dist, args.min_overlap, args.motif_pseudo, args.thresh,
                            args.evalue, args.all, db=[i for i, ms in enumerate(dbs) for _ in ms])
    _write_or_print(args.output, format_table(table))
    if args.output:
        log.info(f"wrote {len(table['Query_ID'])} matches of {len(queries)} queries against {len(targets)} targets "
                 f"to {args.output}")
    return 0

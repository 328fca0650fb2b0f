"""Commands on motif files: ``motifs info``, ``motifs convert``, ``cluster``, ``logos``."""
from __future__ import annotations

from .common import _COUNT, _add_output, _number, _write_or_print, log


# ---------------------------------------------------------------------------------------------
# motifs info / convert
# ---------------------------------------------------------------------------------------------
def add_motifs(sub) -> None:
    p = sub.add_parser("motifs", help="inspect and convert motif files (MEME, JASPAR, bundled names)")
    msub = p.add_subparsers(dest="motifs_command", metavar="ACTION", required=True)
    info = msub.add_parser("info", help="table of id, name, width, nsites, information content, consensus")
    info.add_argument("motifs", metavar="FILE|NAME", help="MEME or JASPAR file, or jaspar2016, jaspar2024, jaspar2026")
    _add_output(info, "file", help="write the table as TSV here instead of printing it")
    info.set_defaults(func=run_motifs_info)
    conv = msub.add_parser("convert", help="convert between MEME and JASPAR formats")
    conv.add_argument("input", metavar="IN", help="MEME or JASPAR file, or a bundled name")
    conv.add_argument("output", metavar="OUT", help="output file; format from the ending (.jaspar/.pfm -> JASPAR, else MEME)")
    conv.add_argument("--to", choices=["meme", "jaspar"], help="output format (overrides the ending)")
    conv.set_defaults(func=run_motifs_convert, output_kind="file")


def run_motifs_info(args) -> int:
    from ..formats import format_motif_table
    from ..jaspar import load_motifs

    _write_or_print(args.output, format_motif_table(load_motifs(args.motifs)))
    return 0


def run_motifs_convert(args) -> int:
    from ..formats import format_for_path, write_motifs
    from ..jaspar import load_motifs

    motifs = load_motifs(args.input)
    fmt = format_for_path(args.output, args.to)
    write_motifs(args.output, motifs, fmt)
    log.info(f"wrote {len(motifs)} motifs to {args.output} ({fmt})")
    return 0


# ---------------------------------------------------------------------------------------------
# cluster
# ---------------------------------------------------------------------------------------------
def add_cluster(sub) -> None:
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
    p.set_defaults(func=run_cluster)


def run_cluster(args) -> int:
    import time

    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    from ..cluster import cluster_motifs
    from ..jaspar import load_motifs
    from ..plot import write_cluster_folder

    motifs = load_motifs(args.motifs)
    start = time.perf_counter()
    result = cluster_motifs(motifs, min_cor=args.cor, min_ncor=args.ncor, min_overlap=args.min_overlap)
    seconds = time.perf_counter() - start
    names = write_cluster_folder(result, args.output)
    sizes = np.bincount(result.labels)[1:]
    log.info(f"{len(motifs)} motifs -> {len(sizes)} clusters ({int((sizes > 1).sum())} with 2 or more members, "
             f"largest {int(sizes.max())}) in {seconds:.1f} s; wrote {args.output}/" + ", ".join(names))
    return 0


# ---------------------------------------------------------------------------------------------
# logos
# ---------------------------------------------------------------------------------------------
def add_logos(sub) -> None:
    p = sub.add_parser("logos", help="information-content logos, with best known matches, as PNG pages + index.html")
    p.add_argument("motifs", metavar="MOTIFS", help="MEME or JASPAR file, or a bundled name")
    p.add_argument("--matches", metavar="matches.tsv", help="Tomtom-style table from extract-motifs --match / motifq compare")
    p.add_argument("--db", metavar="NAME|FILE", help="the database the matches' targets come from "
                                                       "(default: the '# database:' line of matches.tsv)")
    p.add_argument("--top", type=_COUNT, metavar="N", help="only the N motifs with the best matches (or the most information)")
    p.add_argument("--per-page", type=_COUNT, default=12, help="logos per PNG page (default 12)")
    _add_output(p, "dir", aliases=("--outdir",), default="logos", help="output folder (default: logos)")
    p.set_defaults(func=run_logos)


def run_logos(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from ..jaspar import load_motifs
    from ..report import write_logos

    motifs = load_motifs(args.motifs)
    pages = write_logos(motifs, args.output, matches=args.matches, db=args.db, top=args.top, per_page=args.per_page,
                        title=args.motifs, progress=not args.quiet)
    log.info(f"wrote {len(pages)} pages of logos and index.html to {args.output}")
    return 0

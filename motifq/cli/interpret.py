"""Commands that explain a model: ``attribute`` (ISM, gradients) and ``discover`` (seqlets -> motifs)."""
from __future__ import annotations

from .common import _COUNT, _add_data_args, _add_output, _data_options, _device, _matches_output, _number, log


def add_attribute(sub) -> None:
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
    p.add_argument("--plot", type=_number(int, 0, 100), default=0, metavar="K",
                   help="draw attribution logos of the K sequences with the highest logit beside the output")
    p.add_argument("--steps", type=_COUNT, default=32, help="integrated gradients: points on the path (default 32)")
    p.add_argument("--batch-size", type=_COUNT, default=None,
                   help="mutants (ism) or sequences per pass (default: 1024 mutants; 256 sequences, 16 for integrated gradients)")
    p.add_argument("--device", type=_device, default="auto", help="auto, cpu, cuda or cuda:N (default: auto = cuda when available)")
    _add_output(p, "file", required=True, metavar="attr.npz", help="attributions file to write")
    p.set_defaults(func=run_attribute, more_outputs=_attribute_outputs)


def _attribute_outputs(args) -> list:
    """The logos beside the output (--plot K): <stem>.logo1.png .. <stem>.logoK.png."""
    from pathlib import Path

    out = Path(args.output)
    return [(out.with_name(f"{out.stem}.logo{k}.png"), "file") for k in range(1, args.plot + 1)]


def run_attribute(args) -> int:
    from ..attribute import Attributions, attribute, load_sequences, resolve_target, save_attributions
    from ..errors import check
    from ..models import load_checkpoint, resolve_device

    device = resolve_device(args.device)
    model, ckpt = load_checkpoint(args.model, device=device)
    t = resolve_target(args.target, ckpt["targets"])
    method = args.method or "ism"
    check(method == "ism" or getattr(model, "conv", None) is not None,
          f"method: {method} needs a model that is differentiable in its input; this {model.config.kind} model is not "
          "(use --method ism)")
    tokens, names, what = load_sequences(model.config.length, ckpt["targets"][t], split=args.split,
                                         positives=args.positives, max_seqs=args.max_seqs, **_data_options(args))
    log.info(f"{method} attributions of {ckpt['targets'][t]} over {what} ({device})")
    attr, logits = attribute(model, tokens, t, method=method, batch_size=args.batch_size, steps=args.steps,
                             progress=not args.quiet)
    result = Attributions(tokens, attr, logits, names, ckpt["targets"][t], t, method, model.config.kind)
    save_attributions(args.output, result)
    log.info(f"wrote {len(tokens)} x 4 x {tokens.shape[1]} attributions to {args.output}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from ..report import write_attribution_logos

        for path in write_attribution_logos(result, args.output, min(args.plot, len(tokens))):
            log.info(f"wrote {path}")
    return 0


def add_discover(sub) -> None:
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
    p.set_defaults(func=run_discover, more_outputs=_discover_outputs)


def _discover_outputs(args) -> list:
    """seqlets.tsv beside the MEME file, and matches.tsv with --match."""
    from pathlib import Path

    return [(Path(args.output).with_name("seqlets.tsv"), "file")] + _matches_output(args)


def run_discover(args) -> int:
    from pathlib import Path

    from ..attribute import discover, read_attributions, write_seqlets
    from ..errors import check
    from ..formats import write_meme

    result = read_attributions(args.attributions)
    db = None
    if args.match:
        from ..jaspar import load_motifs

        db = load_motifs(args.match)  # fail early on a bad database
    motifs, rows, seqlets = discover(result, window=args.window, fdr=args.fdr, min_seqlets=args.min_seqlets,
                                     min_similarity=args.min_similarity, max_motifs=args.max_motifs, trim=args.trim)
    log.info(f"{len(seqlets.seq)} seqlets in {len(result.tokens)} sequences (|window sum| >= {seqlets.threshold:.3g})")
    check(len(motifs) > 0, f"{args.attributions}: no group of {args.min_seqlets} or more seqlets; nothing written "
                           "(try more sequences, a lower --min-seqlets or --min-similarity)")
    matches = None
    if db is not None:
        from ..compare import compare_columns

        matches = compare_columns(motifs, db, dist="pearson", min_overlap=5, thresh=args.evalue, evalue=True)
    write_meme(args.output, motifs)
    path = write_seqlets(Path(args.output).with_name("seqlets.tsv"), rows, names=list(result.names))
    log.info(f"wrote {len(motifs)} motifs to {args.output} and {len(rows)} seqlets to {path}")
    if matches is not None:
        from ..compare import matched_queries, write_matches

        mpath = _matches_output(args)[0][0]
        write_matches(mpath, matches, args.match)
        print(f"{matched_queries(matches, args.evalue)}/{len(motifs)} motifs match a known motif at E < {args.evalue:g}")
        log.info(f"wrote {mpath}")
    return 0

"""``motifq grammar``: motifs inserted into backgrounds; marginal effects and pair maps."""
from __future__ import annotations

import sys

from .common import _COUNT, _SEED, _add_output, _add_threads, _number, log


def add_grammar(sub) -> None:
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
    _add_threads(p)
    _add_output(p, "dir", required=True, help="output folder")
    p.set_defaults(func=run_grammar, more_outputs=_grammar_outputs)


def _grammar_outputs(args) -> list:
    """The tables in the output folder (the maps' names are checked once the motifs are known)."""
    from pathlib import Path

    return [(Path(args.output) / f, "file") for f in ("marginal.tsv", "grammar.tsv", "pairs.tsv", "verdicts.txt")]


def _check_map_outputs(output, motifs) -> None:
    """Every map file a pair of `motifs` may get, checked before any forward pass."""
    from pathlib import Path

    from ..errors import check_output_file
    from ..grammar import all_pairs
    from ..report import grammar_map_name

    for a, b in all_pairs(motifs):
        check_output_file(Path(output) / grammar_map_name(a.id, b.id), "output")


def run_grammar(args) -> int:
    from ..models import torch_threads

    with torch_threads(args.threads):
        return _run_grammar(args)


def _run_grammar(args) -> int:
    from ..grammar import load_inputs, marginal, pair_maps

    inputs = load_inputs(args.model, args.motifs, target=args.target, pairs=args.pairs, matches=args.matches,
                         max_gap=args.max_gap, background=args.background, n=args.n, seed=args.seed, split=args.split)
    model, names, motifs, bg = inputs.model, inputs.names, inputs.motifs, inputs.background
    _check_map_outputs(args.output, motifs)
    if len(motifs) == 1:
        from ..report import write_marginal

        table = marginal(model, motifs[0], bg, target_names=names, insert=args.insert, rng=args.seed,
                         batch_size=args.batch_size)
        path = write_marginal(args.output, table)
        log.info(f"wrote the marginal effect of {motifs[0].id} on {len(names)} targets to {path}")
        return 0
    import matplotlib

    matplotlib.use("Agg")
    from ..report import write_grammar

    maps = pair_maps(model, motifs, bg, args.max_gap, target_names=names, insert=args.insert, rng=args.seed,
                     batch_size=args.batch_size, target=None if inputs.target is None else names[inputs.target])
    write_grammar(args.output, maps)
    sys.stdout.write("\n".join(maps.verdicts) + "\n")
    log.info(f"wrote grammar.tsv, pairs.tsv, verdicts.txt and maps of {min(3, len(maps.tables))} pairs to {args.output}")
    return 0

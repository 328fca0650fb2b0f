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
                                 lstm_units=args.lstm_units, dense=args.dense)
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
    p.add_argument("fasta", metavar="SEQS.fa", help="sequences of the model's input length")
    p.add_argument("-o", "--output", metavar="preds.tsv", help="TSV (name, then one column per target); default: stdout")
    p.add_argument("--batch-size", type=int, default=1000, metavar="N", help="default: 1000")
    p.add_argument("--no-rc", action="store_true", help="forward strand only (default: mean of both strands)")
    p.add_argument("--device", default="auto", metavar="DEV", help="auto, cpu, cuda or cuda:N (default: auto)")
    p.set_defaults(func=_run_predict)


def _run_predict(args) -> int:
    import numpy as np
    import pandas as pd

    from .errors import atomic_write, check
    from .models import load_checkpoint, predict
    from .sequence import read_fasta, tokenize
    from .train import resolve_device

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
# plumbing
# ---------------------------------------------------------------------------------------------
_COMMANDS = [_add_motifs, _add_convert_deepsea, _add_train, _add_predict, _add_evaluate]


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

"""``motifq evaluate``: per-target AUCs, loss and accuracy of checkpoints; the Table S1 rows on stdout."""
from __future__ import annotations

from .common import _COUNT, _add_data_args, _add_output, _device, _names, _open_data


def add_evaluate(sub) -> None:
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
    p.set_defaults(func=run_evaluate)


def run_evaluate(args) -> int:
    from ..models import resolve_device
    from ..report import evaluate_models

    device = resolve_device(args.device)
    split = _open_data(args, args.split)
    curves = _names(args.curves or "") or None
    summary = evaluate_models(args.models, split, args.output, rc=args.rc, batch_size=args.batch_size, device=device,
                              reference=args.reference, curves=curves, dtype="float16" if args.float16 else "float32",
                              keep_predictions=args.keep_predictions, progress=not args.quiet)
    cols = ["loss", "accuracy", "roc_auc_mean", "roc_auc_median", "pr_auc_mean", "pr_auc_median"]
    print("model\t" + "\t".join(cols))  # the Table S1 rows are the result: printed even with --quiet
    for name, row in summary["models"].items():
        print(name + "\t" + "\t".join("NA" if row.get(c) is None else f"{row[c]:.4f}" for c in cols))
    return 0

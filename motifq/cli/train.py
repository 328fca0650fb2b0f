"""``motifq train``: the options come from the config dataclasses (:mod:`motifq.cli.configs`)."""
from __future__ import annotations

import dataclasses
import re

from ..errors import MotifqError
from .common import _add_data_args, _add_output, _open_data, log
from .configs import _FROM_DATA, _add_config_options


def add_train(sub) -> None:
    from ..config import ModelConfig, TrainConfig

    p = sub.add_parser("train", help="train DanQ (or a baseline) on a data set; writes the best and last checkpoints",
                       description="Train a model. Writes OUTPUT (best validation loss), OUTPUT's .last.pt (resumable) "
                                   "and a per-epoch log beside it. Multi-GPU: torchrun --nproc_per_node K -m motifq train ...")
    _add_data_args(p, split=None)
    _add_config_options(p, ModelConfig, "model", model=True)
    _add_config_options(p, TrainConfig, "training", model=False)
    _add_output(p, "file", aliases=("--out",), default="model.pt", metavar="model.pt",
                help="best checkpoint (default: model.pt)")
    p.add_argument("--resume", action="store_true", help="continue exactly from OUTPUT's .last.pt")
    p.set_defaults(func=run_train, more_outputs=_train_outputs)


def _last_checkpoint(out):
    """``model.pt`` -> ``model.last.pt``, as :func:`motifq.train.last_path` (a test keeps the two
    equal); computed here so that the outputs are checked and the FASTA read before torch loads."""
    from pathlib import Path

    out = Path(out)
    return out.with_name(out.stem + ".last" + (out.suffix or ".pt"))


def _train_outputs(args) -> list:
    return [(_last_checkpoint(args.output), "file")]


def _configs_from_args(args):
    """(model kind, model overrides, TrainConfig) from the generated options, checked."""
    from ..config import ModelConfig, TrainConfig, check_model_options

    model = {f.name: getattr(args, f.name) for f in dataclasses.fields(ModelConfig) if f.name not in _FROM_DATA}
    kind = model.pop("kind") or "danq"
    train = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)}
    if kind == "danq-jaspar" and train["jaspar_init"] is None:
        train["jaspar_init"] = "jaspar2016"
    try:
        check_model_options(kind, **model)
        return kind, model, TrainConfig(**train)
    except MotifqError as exc:  # "seed: ..." / "model: conv-kernels ..." -> "--seed: ..." / "--conv-kernels ..."
        raise MotifqError(re.sub(r"^(?:model: (?=[a-z]))?([a-z][a-z0-9-]*)(?::|(?= must)|(?= '))", r"--\1:", str(exc))) from None


def _train_data(args, config):
    """(train split, validation split): --data's train and valid, or a held-out part of --fasta/--labels."""
    from ..errors import check

    if args.fasta is not None or args.labels is not None:
        check(args.fasta is not None and args.labels is not None, "data: --fasta and --labels go together")
        data = _open_data(args, "train")                  # the FASTA is read before torch loads
        from ..train import holdout_split

        return holdout_split(data, config.valid_fraction, config.seed)
    check(args.data is not None, "data: give --data DIR or --fasta SEQS.fa --labels LABELS.tsv")
    return _open_data(args, "train"), _open_data(args, "valid")


def _check_resumable(args) -> None:
    """A missing or stateless OUTPUT.last.pt is refused before any training."""
    from ..errors import check
    from ..models import read_checkpoint

    last = _last_checkpoint(args.output)
    check(last.exists(), f"--resume: {last}: no such file (nothing to resume)")
    check("resume" in read_checkpoint(last), f"--resume: {last}: has no training state")


def run_train(args) -> int:
    import os

    show = not args.quiet and os.environ.get("RANK", "0") == "0"
    kind, overrides, config = _configs_from_args(args)   # every option checked before any work
    train, valid = _train_data(args, config)
    if args.resume:
        _check_resumable(args)
    from ..config import ModelConfig
    from ..train import fit

    model = ModelConfig.for_kind(kind, recipe=config.recipe, n_targets=train.n_targets, length=train.length, **overrides)
    log.debug(f"model: {dataclasses.asdict(model)}; training: {dataclasses.asdict(config)}")
    log.info(f"training {model.kind} on {len(train)} sequences of {train.length} bp, {train.n_targets} targets; "
             f"validating on {len(valid)}; {config.recipe} recipe"
             + (f"; kernels seeded from {config.jaspar_init}" if config.jaspar_init else ""))
    result = fit(model, train, valid, args.output, config, resume=args.resume, progress=show)
    log.info(f"wrote {result['out']} and {result['last']}")   # the summary went to the logger before
    return 0

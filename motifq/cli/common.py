"""The parser plumbing every command shares: one-line errors, checked numbers, declared outputs,
the data options, and the ``motifq`` logger.

Nothing here imports torch, pandas or matplotlib: ``motifq --help`` builds every parser.
"""
from __future__ import annotations

import argparse
import logging
import sys

from ..errors import MotifqError

log = logging.getLogger("motifq")
"""The package's one logger: status lines at INFO, details at DEBUG; :func:`motifq.cli.main`
sends it to stderr as ``motifq: <message>`` (WARNING with ``-q``, DEBUG with ``-v``)."""


class _UsageError(MotifqError):
    """A command-line syntax error (reported as one line, exit 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with errors raised as :class:`_UsageError` (one line) instead of usage + exit."""

    def error(self, message):
        if message.startswith("argument "):
            message = message[len("argument "):]
        raise _UsageError(f"{message} (see motifq {self.prog.split(' ', 1)[-1]} --help)"
                          if " " in self.prog else message)

    def _get_values(self, action, arg_strings):
        # argparse drops a lone "--" from an option's values, so "--plot=--" would give [] instead
        # of a number: refuse it as a missing value
        if action.option_strings and action.nargs is None and arg_strings == ["--"]:
            self.error(f"argument {'/'.join(action.option_strings)}: expected one argument")
        return super()._get_values(action, arg_strings)


def _number(kind=float, minimum=None, maximum=None, above=None):
    """An argparse type: `kind` (int or float) parsed from text, finite, >= `minimum` (or >
    `above`) and <= `maximum`. The bounds are kept on the function for the tests."""
    from ..errors import check_number

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {'an integer' if kind is int else 'a number'}, got {text!r}") from None
        try:
            check_number(value, "value", integer=kind is int, minimum=above if above is not None else minimum,
                         maximum=maximum, exclusive_minimum=above is not None)
        except MotifqError as exc:
            raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[1]) from None
        return value

    parse.__name__ = kind.__name__
    parse.bounds = (kind, minimum if above is None else above, maximum, above is not None)
    return parse


def _number_list(kind=float):
    """An argparse type: comma-separated numbers (each finite), as a tuple."""
    one = _number(kind)

    def parse(text: str):
        if not text.strip():
            raise argparse.ArgumentTypeError("must be one or more comma-separated numbers, got ''")
        return tuple(one(x) for x in text.split(","))

    parse.__name__ = f"{kind.__name__} list"
    parse.bounds = (kind, None, None, False)
    return parse


def _device(text: str) -> str:
    """An argparse type: auto, cpu, cuda or cuda:N."""
    from ..config import check_device

    try:
        return check_device(text, "value")
    except MotifqError as exc:
        raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[1]) from None


_SEED = _number(int, 0, 2 ** 32 - 1)
_COUNT = _number(int, 1)


def _add_threads(p) -> None:
    """``--threads N``: the CPU threads torch may use (see :func:`motifq.models.torch_threads`)."""
    p.add_argument("--threads", type=_COUNT, metavar="N",
                   help="CPU threads for torch (default: torch's, one per core; on a busy machine 1 can be much faster)")


def _add_output(p, kind: str, aliases=(), required: bool = False, default=None, metavar=None, help=""):
    """``-o/--output`` (plus old spellings in `aliases`): a ``file`` or a ``dir`` that
    :func:`motifq.cli.main` checks before the command runs."""
    p.add_argument("-o", "--output", *aliases, dest="output", required=required, default=default,
                   metavar=metavar or ("DIR" if kind == "dir" else "FILE"), help=help)
    p.set_defaults(output_kind=kind)


def _check_outputs(args) -> None:
    """Check every output of the command (its -o and the files written beside it) up front."""
    from ..errors import check_output_dir, check_output_file

    outputs = []
    if getattr(args, "output_kind", None) and getattr(args, "output", None) is not None:
        outputs.append((args.output, args.output_kind))
    more = getattr(args, "more_outputs", None)
    outputs += more(args) if more else []
    for path, kind in outputs:
        (check_output_dir if kind == "dir" else check_output_file)(path, "output")


def _matches_output(args) -> list:
    """``matches.tsv`` beside the output when ``--match`` is given (extract-motifs, discover)."""
    from pathlib import Path

    return [(Path(args.output).with_name("matches.tsv"), "file")] if args.match and args.output else []


def _write_or_print(path, text: str) -> None:
    """`text` to the file `path` (atomically), or to stdout when `path` is None."""
    if path is None:
        sys.stdout.write(text)
        return
    from ..errors import atomic_write

    with atomic_write(path) as fh:
        fh.write(text)


def _names(text: str) -> list:
    """A comma-separated list, blanks dropped."""
    return [c.strip() for c in text.split(",") if c.strip()]


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


def _data_options(args) -> dict:
    """The --data/--fasta/--labels/--targets/--cache values as keyword arguments of
    :func:`motifq.data.open_data`."""
    return dict(data=args.data, fasta=args.fasta, labels=args.labels, targets=args.targets, cache=args.cache,
                progress=not args.quiet)


def _open_data(args, split: str):
    """The Split named by the --data/--fasta arguments."""
    from ..data import open_data

    return open_data(split=split, **_data_options(args))

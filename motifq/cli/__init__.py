"""The ``motifq`` command line: parse arguments, call the library, print. Nothing else.

Layout (docs/development.md, "Adding a command"):

* :mod:`motifq.cli.common` -- the plumbing every command shares: :class:`~motifq.cli.common._Parser`
  (one-line errors), :func:`~motifq.cli.common._number` (checked numbers),
  :func:`~motifq.cli.common._add_output` (declared outputs), the data options, the logger;
* :mod:`motifq.cli.configs` -- ``train``'s options generated from the config dataclasses;
* one module per group of commands (:mod:`~motifq.cli.motifs`, :mod:`~motifq.cli.data`,
  :mod:`~motifq.cli.train`, :mod:`~motifq.cli.predict`, :mod:`~motifq.cli.evaluate`,
  :mod:`~motifq.cli.extract`, :mod:`~motifq.cli.compare`, :mod:`~motifq.cli.quickstart`,
  :mod:`~motifq.cli.interpret`, :mod:`~motifq.cli.scan`, :mod:`~motifq.cli.grammar`), each with
  an ``add_<name>(subparsers)`` that sets ``func`` to a ``run_<name>(args)`` returning an exit
  code. :data:`COMMANDS` lists the ``add_`` functions in the order ``motifq --help`` shows them.

Heavy imports (torch, matplotlib, pandas) happen inside the ``run_`` functions, so ``motifq
--help`` is instant.

The contract (docs/errors.md): every bad input is one line on stderr,
``motifq: error: <what>: <why>``, and exit status 2 (a traceback only with ``--debug``), before
any expensive work. Three things make it hold for every command, including the ones added later:

* argument errors (a bad choice, a missing value) are reported by the parser as that line;
* every number is read by a ``_number`` type: finite, in range, or refused while parsing;
* every output is declared with ``_add_output`` (``-o/--output``, a file or a folder), and
  :func:`main` checks it (:func:`~motifq.errors.check_output_file`,
  :func:`~motifq.errors.check_output_dir`) before the command runs.

Status lines go to the ``motifq`` logger (:mod:`logging`), which :func:`main` sends to stderr as
``motifq: <message>``: INFO by default, WARNING with ``-q``, DEBUG with ``-v``. What a command is
asked to print (tables, verdicts) goes to stdout.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys

from .. import __version__
from ..errors import MotifqError
from .common import _check_outputs, _Parser
from .compare import add_compare
from .data import add_build_dataset, add_convert_deepsea, add_simulate
from .evaluate import add_evaluate
from .extract import add_extract_motifs
from .grammar import add_grammar
from .interpret import add_attribute, add_discover
from .motifs import add_cluster, add_logos, add_motifs
from .predict import add_predict, add_score_variants
from .quickstart import add_quickstart
from .scan import add_scan
from .train import add_train

__all__ = ["main", "build_parser", "COMMANDS"]

COMMANDS = [add_motifs, add_simulate, add_build_dataset, add_convert_deepsea, add_train, add_predict, add_evaluate,
            add_extract_motifs, add_compare, add_cluster, add_logos, add_quickstart, add_attribute, add_discover,
            add_scan, add_grammar, add_score_variants]
"""Every subcommand's ``add_`` function, in the order ``motifq --help`` lists them."""


def build_parser():
    """The argument parser with every subcommand.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = _Parser(
        prog="motifq",
        description="Train DanQ models on chromatin-profiling data and see which motifs they learned.")
    parser.add_argument("--version", action="version", version=f"motifq {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    loud = parser.add_mutually_exclusive_group()
    loud.add_argument("-q", "--quiet", action="store_true", help="no progress bars or status lines")
    loud.add_argument("-v", "--verbose", action="store_true", help="more status lines (the motifq logger at DEBUG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


class _StderrHandler(logging.StreamHandler):
    """A handler that writes to whatever ``sys.stderr`` is when a record is emitted (so a test's
    captured stderr, or a redirected one, gets the lines)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def log_level(quiet: bool = False, verbose: bool = False) -> int:
    """The ``motifq`` logger's level for ``-q``/``-v``: WARNING, DEBUG, else INFO; WARNING in every
    process but the first of a ``torchrun`` job (``RANK`` > 0).

    Parameters
    ----------
    quiet : bool
        ``-q/--quiet``. Default is False.
    verbose : bool
        ``-v/--verbose``. Default is False.

    Returns
    -------
    int
    """
    if quiet or os.environ.get("RANK", "0") != "0":
        return logging.WARNING
    return logging.DEBUG if verbose else logging.INFO


@contextlib.contextmanager
def _logging(args):
    """The ``motifq`` logger on stderr (``motifq: <message>``) at the level of -q/-v while a command
    runs; the logger's level and handlers are restored afterwards (``main`` can be called again)."""
    logger = logging.getLogger("motifq")
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("motifq: %(message)s"))
    old = logger.level
    logger.setLevel(log_level(args.quiet, args.verbose))
    logger.addHandler(handler)
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


def _one_line(message: str) -> str:
    return " ".join(str(message).split()) or "error"


def main(argv=None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str or None
        Arguments without the program name. Default is None: ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 2 on a user error (bad file, bad value, bad output path; one line on
        stderr), 130 when interrupted.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv[:argv.index("--")] if "--" in argv else "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        _check_outputs(args)
        with _logging(args) as logger:
            logger.debug(f"motifq {__version__}, {args.command}: " + ", ".join(
                f"{k}={v!r}" for k, v in sorted(vars(args).items()) if not callable(v)))
            return int(args.func(args) or 0)
    except (MotifqError, OSError, MemoryError) as exc:
        if debug:
            raise
        if isinstance(exc, BrokenPipeError):
            return 0
        why = exc if isinstance(exc, MotifqError) else _os_message(exc)
        print(f"motifq: error: {_one_line(why)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("motifq: interrupted", file=sys.stderr)
        return 130


def _os_message(exc: BaseException) -> str:
    """``<file>: <why>`` for an operating-system error (a file that cannot be read, memory)."""
    if isinstance(exc, MemoryError):
        return "out of memory (try a smaller --batch-size or fewer sequences)"
    name = getattr(exc, "filename", None)
    why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{name}: {why}" if name else why

"""FASTA + labels: a user's own labelled sequences as one :class:`~motifq.data.dataset.Split`.

Two files:

* ``sequences.fa`` — FASTA, every record the same length L. Letters A, C, G, T (any case) get
  tokens 0..3 in A, C, G, T order; N and the other IUPAC ambiguity codes (R Y S W K M B D H V)
  are allowed and become token 4 (one-hot 0.25 everywhere); U reads as T. Anything else is an
  error naming the record.
* ``labels.tsv`` — tab-separated 0/1 labels, one row per sequence, and a header row of target
  names. If the first header field is ``name`` (or ``id``), the first column holds FASTA ids
  (the first word of each header) and rows are matched to records **by name**: every record needs
  exactly one row and every row a record; the row order does not matter. Otherwise rows are
  matched to records **by order** and the counts must be equal. Values must be ``0`` or ``1``;
  blank lines are ignored. Example::

      name    CTCF    GATA1   H3K27ac
      seq1    1       0       0
      seq2    0       0       1

Every problem (label count mismatch, a value that is not 0/1, a row with the wrong number of
fields, unequal sequence lengths, an illegal character, an unknown or duplicate name) is a
one-line :class:`~motifq.errors.MotifqError` naming the file and the line or record.
"""
from __future__ import annotations

import numpy as np

from ..errors import MotifqError, check, check_file
from ..sequence import read_fasta, tokenize
from .dataset import Split

__all__ = ["read_labels", "read_fasta_labels"]

_NAME_COLUMNS = ("name", "id")


def read_labels(path) -> tuple[list, list | None, np.ndarray]:
    """Read a TSV of 0/1 labels with a header of target names.

    Parameters
    ----------
    path : str or os.PathLike
        The TSV file; an optional first column ``name`` (or ``id``) of sequence names.

    Returns
    -------
    targets : list of str
        The T target names, in column order.
    names : list of str or None
        The row names when the file has a ``name`` column, else None.
    labels : numpy.ndarray
        (N, T) uint8 of 0/1.
    """
    p = check_file(path)
    rows, names = [], []
    try:
        with open(p, encoding="utf-8", newline="") as fh:
            header = None
            for lineno, line in enumerate(fh, 1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                fields = line.split("\t")
                if header is None:
                    header = [f.strip() for f in fields]
                    has_names = header[0].lower() in _NAME_COLUMNS
                    targets = header[1:] if has_names else header
                    check(len(targets) > 0, f"{p}: line {lineno}: header has no target names")
                    check(all(targets), f"{p}: line {lineno}: empty target name in the header (is the file tab-separated?)")
                    dup = [t for i, t in enumerate(targets) if t in targets[:i]]
                    check(not dup, f"{p}: line {lineno}: duplicate target name {dup[0] if dup else ''!r}")
                    width = len(header)
                    continue
                check(len(fields) == width,
                      f"{p}: line {lineno}: {len(fields)} fields, the header has {width}")
                if has_names:
                    names.append(fields[0].strip())
                    fields = fields[1:]
                rows.append(_label_row(fields, targets, p, lineno))
    except UnicodeDecodeError:
        raise MotifqError(f"{p}: not a text file") from None
    check(header is not None, f"{p}: empty labels file")
    check(len(rows) > 0, f"{p}: no label rows under the header")
    return list(targets), (names if has_names else None), np.stack(rows).astype(np.uint8)


def _label_row(fields: list, targets: list, p, lineno: int) -> np.ndarray:
    """One row of 0/1 cells as (T,) uint8; an empty cell or any other value is an error."""
    cells = [f.strip() for f in fields]
    joined = "".join(cells)
    values = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8) - ord("0")
    if any(len(c) != 1 for c in cells) or (values > 1).any():
        j = next(j for j, c in enumerate(cells) if c not in ("0", "1"))
        why = "empty cell; labels are 0 or 1" if not cells[j] else f"label {cells[j]!r} is not 0 or 1"
        raise MotifqError(f"{p}: line {lineno}: {why} (target {targets[j]!r})")
    return values


def read_fasta_labels(fasta, labels, name: str = "") -> Split:
    """Read sequences and their labels into an in-memory split.

    Parameters
    ----------
    fasta : str or os.PathLike
        FASTA file, all records of one length L; IUPAC codes allowed (token 4).
    labels : str or os.PathLike
        TSV of 0/1 labels with a header of target names; see the module notes for the optional
        ``name`` column (match by name) versus match by order.
    name : str
        What to call the split in messages. Default is ``""``: the FASTA path.

    Returns
    -------
    Split
        Tokens (N, L) uint8 in **A, C, G, T** token order (4 = N), labels (N, T) bit-packed, in
        FASTA record order.
    """
    fasta = check_file(fasta)
    ids, seqs = read_fasta(fasta)
    L = len(seqs[0])
    for rid, s in zip(ids, seqs):
        if len(s) != L:
            raise MotifqError(f"{fasta}: record {rid!r} has length {len(s)}, the first record {ids[0]!r} has {L} "
                              f"(all sequences must have one length)")
    tokens = np.empty((len(seqs), L), dtype=np.uint8)
    for i, s in enumerate(seqs):
        tokens[i] = tokenize(s, name=f"{fasta}: record {ids[i]!r}")
    targets, names, y = read_labels(labels)
    if names is None:
        check(len(y) == len(seqs), f"{labels}: {len(y)} label rows for {len(seqs)} sequences in {fasta}")
    else:
        row_of = {}
        for i, n in enumerate(names):
            check(n not in row_of, f"{labels}: sequence name {n!r} appears twice")
            row_of[n] = i
        seen = set()
        order = np.empty(len(ids), dtype=np.int64)
        for i, rid in enumerate(ids):
            check(rid not in seen, f"{fasta}: record name {rid!r} appears twice (labels are matched by name)")
            seen.add(rid)
            check(rid in row_of, f"{labels}: no label row for {fasta} record {rid!r}")
            order[i] = row_of[rid]
        extra = [n for n in names if n not in seen]
        check(not extra, f"{labels}: {len(extra)} label rows name no record of {fasta}, e.g. {extra[0] if extra else ''!r}")
        y = y[order]
    return Split.from_arrays(tokens, y, targets, name=name or str(fasta))

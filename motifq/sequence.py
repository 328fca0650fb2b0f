"""Alphabet orders, one-hot encoding, reverse complements and FASTA I/O.

This module owns every alphabet order in motifq:

* ``"ACGT"`` — motif matrices (MEME, JASPAR) and the model input.
* ``"AGCT"`` — the DeepSEA bundle's one-hot channels (``train.mat``, ``valid.mat``, ``test.mat``).

Every function that takes or returns a one-hot array takes an ``alphabet`` argument or states
its order. Both orders are closed under complement (A<->T at the outer channels, the two inner
channels swap), so the reverse complement of a one-hot array in either order is a flip of both
the channel and the position axis.

Encoding of N and other IUPAC codes
-----------------------------------
Sequences are upper-cased. ``A, C, G, T`` get tokens ``0..3`` in ACGT order; ``N`` and every
other IUPAC ambiguity code (``R Y S W K M B D H V``) get token ``4`` and one-hot column
``[0.25, 0.25, 0.25, 0.25]`` (so the convolution sees the mean of the four bases). ``U`` is read
as ``T``. Any other character (digits, ``-``, ``.``, ``*``) is an error.
"""
from __future__ import annotations


import numpy as np

from .errors import MotifqError, atomic_write, check, check_file

__all__ = [
    "ACGT", "AGCT", "N_TOKEN", "IUPAC", "tokenize", "detokenize", "one_hot", "tokens_to_one_hot",
    "one_hot_to_tokens", "convert_order", "reverse_complement", "reverse_complement_one_hot",
    "reverse_complement_tokens", "read_fasta", "write_fasta",
]

ACGT = "ACGT"
AGCT = "AGCT"
N_TOKEN = 4
#: IUPAC codes and the bases they stand for.
IUPAC = {
    "A": "A", "C": "C", "G": "G", "T": "T", "U": "T",
    "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
    "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}
_ALPHABETS = (ACGT, AGCT)

_LUT = np.full(256, 255, dtype=np.uint8)
for _ch, _bases in IUPAC.items():
    _tok = ACGT.index(_bases) if len(_bases) == 1 else N_TOKEN
    _LUT[ord(_ch)] = _tok
    _LUT[ord(_ch.lower())] = _tok

_COMPLEMENT = str.maketrans("ACGTUNRYSWKMBDHVacgtunryswkmbdhv", "TGCAANYRSWMKVHDBtgcaanyrswmkvhdb")


def _check_alphabet(alphabet: str) -> None:
    check(alphabet in _ALPHABETS, f"alphabet: {alphabet!r} is not one of {', '.join(_ALPHABETS)}")


def tokenize(seq: str, name: str = "sequence") -> np.ndarray:
    """Turn a DNA string into tokens.

    Parameters
    ----------
    seq : str
        DNA letters, any case; IUPAC ambiguity codes allowed.
    name : str
        What to call the sequence in an error message. Default is ``"sequence"``.

    Returns
    -------
    numpy.ndarray
        (L,) uint8 tokens: 0, 1, 2, 3 for A, C, G, T; 4 for N or any ambiguity code.
    """
    raw = np.frombuffer(seq.encode("ascii", errors="replace"), dtype=np.uint8)
    tokens = _LUT[raw]
    bad = np.flatnonzero(tokens == 255)
    if bad.size:
        i = int(bad[0])
        raise MotifqError(f"{name}: illegal character {seq[i]!r} at position {i + 1}")
    return tokens


def detokenize(tokens) -> str:
    """Turn tokens back into a string.

    Parameters
    ----------
    tokens : (L,) int array
        0..3 for A, C, G, T; 4 for N.

    Returns
    -------
    str
    """
    letters = np.frombuffer(b"ACGTN", dtype=np.uint8)
    return letters[np.asarray(tokens, dtype=np.int64)].tobytes().decode("ascii")


def tokens_to_one_hot(tokens, alphabet: str = ACGT, dtype=np.float32) -> np.ndarray:
    """One-hot encode tokens.

    Parameters
    ----------
    tokens : (..., L) int array
        0..3 for A, C, G, T (always ACGT token order); 4 for N.
    alphabet : str
        Channel order of the result, ``"ACGT"`` or ``"AGCT"``. Default is ``"ACGT"``.
    dtype : numpy dtype
        Default is float32.

    Returns
    -------
    numpy.ndarray
        (..., 4, L) with channels in `alphabet` order; N columns are 0.25 everywhere.
    """
    _check_alphabet(alphabet)
    table = np.zeros((5, 4), dtype=dtype)
    for i, base in enumerate(ACGT):
        table[i, alphabet.index(base)] = 1
    table[N_TOKEN] = 0.25
    out = table[np.asarray(tokens, dtype=np.int64)]  # (..., L, 4)
    return np.ascontiguousarray(np.moveaxis(out, -1, -2))


def one_hot(seqs, alphabet: str = ACGT, dtype=np.float32) -> np.ndarray:
    """One-hot encode one sequence or a list of equal-length sequences.

    Parameters
    ----------
    seqs : str or sequence of str
        DNA; IUPAC codes allowed (encoded as N, see the module docstring).
    alphabet : str
        Channel order of the result. Default is ``"ACGT"``.
    dtype : numpy dtype
        Default is float32.

    Returns
    -------
    numpy.ndarray
        (4, L) for one string, (N, 4, L) for a list; channels in `alphabet` order.
    """
    if isinstance(seqs, str):
        return tokens_to_one_hot(tokenize(seqs), alphabet, dtype)
    seqs = list(seqs)
    check(len(seqs) > 0, "sequences: empty list")
    lengths = {len(s) for s in seqs}
    check(len(lengths) == 1, f"sequences: lengths differ ({min(lengths)} to {max(lengths)} bp)")
    tokens = np.stack([tokenize(s, name=f"sequence {i + 1}") for i, s in enumerate(seqs)])
    return tokens_to_one_hot(tokens, alphabet, dtype)


def one_hot_to_tokens(x, alphabet: str = ACGT) -> np.ndarray:
    """Invert :func:`tokens_to_one_hot`.

    Parameters
    ----------
    x : (..., 4, L) array
        One-hot with channels in `alphabet` order. A column that is not one-hot (all zeros,
        or 0.25 everywhere) becomes N.
    alphabet : str
        Channel order of `x`. Default is ``"ACGT"``.

    Returns
    -------
    numpy.ndarray
        (..., L) uint8 tokens in ACGT token order (4 for N).
    """
    _check_alphabet(alphabet)
    x = np.asarray(x)
    perm = [alphabet.index(b) for b in ACGT]
    xa = np.take(x, perm, axis=-2)
    tokens = np.argmax(xa, axis=-2).astype(np.uint8)
    is_base = (xa.max(axis=-2) == 1) & (xa.sum(axis=-2) == 1)
    tokens[~is_base] = N_TOKEN
    return tokens


def convert_order(x, source: str, target: str, axis: int = -2) -> np.ndarray:
    """Reorder the channel axis of a one-hot array or matrix from one alphabet order to another.

    Parameters
    ----------
    x : array
        Any array with a length-4 channel axis, e.g. (N, 4, L) one-hot or (W, 4) matrix.
    source, target : str
        ``"ACGT"`` or ``"AGCT"``: the order `x` holds and the order wanted.
    axis : int
        The channel axis. Default is -2 (the (N, 4, L) layout).

    Returns
    -------
    numpy.ndarray
        `x` with channels in `target` order (a copy).
    """
    _check_alphabet(source)
    _check_alphabet(target)
    perm = [source.index(b) for b in target]
    return np.take(np.asarray(x), perm, axis=axis)


def reverse_complement(seq: str) -> str:
    """Reverse complement of a DNA string (IUPAC codes complemented, case kept)."""
    return seq.translate(_COMPLEMENT)[::-1]


def reverse_complement_one_hot(x):
    """Reverse complement of one-hot DNA in ACGT or AGCT order.

    Both orders put complementary bases at mirrored channels, so this is a flip of the
    channel and position axes whichever order `x` holds.

    Parameters
    ----------
    x : (..., 4, L) numpy array or torch tensor
        One-hot with channels in ACGT or AGCT order.

    Returns
    -------
    Same type as `x`, (..., 4, L), same channel order.
    """
    if isinstance(x, np.ndarray):
        return np.ascontiguousarray(x[..., ::-1, ::-1])
    return x.flip(-1).flip(-2)


def reverse_complement_tokens(tokens):
    """Reverse complement of tokens (0..3 = ACGT, 4 = N).

    Parameters
    ----------
    tokens : (..., L) numpy int array or torch tensor

    Returns
    -------
    Same type, (..., L).
    """
    if isinstance(tokens, np.ndarray):
        rc = np.where(tokens == N_TOKEN, N_TOKEN, 3 - tokens.astype(np.int16)).astype(tokens.dtype)
        return np.ascontiguousarray(rc[..., ::-1])
    import torch

    rc = torch.where(tokens == N_TOKEN, tokens, 3 - tokens)
    return rc.flip(-1)


def read_fasta(path) -> tuple[list[str], list[str]]:
    """Read a FASTA file.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    names : list of str
        The first word of each header.
    seqs : list of str
        Upper-cased sequences, checked for illegal characters (IUPAC codes allowed).
    """
    from Bio.SeqIO.FastaIO import SimpleFastaParser

    p = check_file(path)
    names, seqs = [], []
    try:
        with open(p, encoding="utf-8") as fh:
            first = fh.read(1)
            fh.seek(0)
            check(first == ">", f"{p}: not FASTA (the first character is not '>')")
            for title, seq in SimpleFastaParser(fh):
                name = title.split()[0] if title.split() else ""
                check(name != "", f"{p}: record {len(names) + 1} has an empty header")
                check(len(seq) > 0, f"{p}: record {name!r} has no sequence")
                tokenize(seq, name=f"{p}: record {name!r}")
                names.append(name)
                seqs.append(seq.upper())
    except UnicodeDecodeError:
        raise MotifqError(f"{p}: not a text file") from None
    check(len(seqs) > 0, f"{p}: no FASTA records")
    return names, seqs


def write_fasta(path, names, seqs, width: int = 60) -> None:
    """Write sequences to a FASTA file atomically.

    Parameters
    ----------
    path : str or os.PathLike
    names, seqs : sequence of str
    width : int
        Line width. Default is 60.
    """
    with atomic_write(path) as fh:
        for name, seq in zip(names, seqs):
            fh.write(f">{name}\n")
            for i in range(0, len(seq), width):
                fh.write(seq[i:i + width] + "\n")

"""The Motif type: a position frequency matrix with its metadata.

A motif holds a counts matrix of shape (W, 4) with columns in **A, C, G, T** order (the MEME and
JASPAR order). Motifs read from a probability matrix (MEME) carry ``counts = p * nsites``.

Conversions (as logomaker's ``matrix.py``), for position i and letter b with column total
``n_i = sum_b counts[i, b]``, pseudocount ``s`` and background ``bg``:

* probability:  ``p[i, b] = (counts[i, b] + s * bg[b]) / (n_i + s)``
* information:  ``IC[i] = sum_b p[i, b] * log2(p[i, b] / bg[b])`` (bits; 2 for a one-hot column
  on a uniform background, 0 for a column equal to the background)
* letter height in a logo: ``p[i, b] * IC[i]``
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .errors import check

__all__ = ["Motif", "UNIFORM", "consensus_letter"]

UNIFORM = np.full(4, 0.25)

# IUPAC code for each set of bases (ACGT order bit mask: A=1, C=2, G=4, T=8).
_IUPAC_BY_MASK = {1: "A", 2: "C", 4: "G", 8: "T", 5: "R", 10: "Y", 6: "S", 9: "W", 12: "K",
                  3: "M", 14: "B", 13: "D", 11: "H", 7: "V", 15: "N"}


def consensus_letter(column) -> str:
    """IUPAC letter for one probability column (A, C, G, T order).

    Rules (Cavener 1987, as used by MEME's and RSAT's consensus strings): a single base when its
    probability exceeds 0.5 and twice the second; else a two-base code when the top two exceed
    0.75 together; else ``N``.

    Parameters
    ----------
    column : (4,) array of probabilities, A, C, G, T order.

    Returns
    -------
    str
    """
    col = np.asarray(column, dtype=float)
    order = np.argsort(-col, kind="stable")
    first, second = col[order[0]], col[order[1]]
    if first > 0.5 and first >= 2 * second:
        return "ACGT"[order[0]]
    if first + second > 0.75:
        return _IUPAC_BY_MASK[(1 << order[0]) | (1 << order[1])]
    return "N"


@dataclass(eq=False)
class Motif:
    """A DNA motif.

    Parameters
    ----------
    id : str
        Identifier (``MOTIF id`` in MEME; the matrix ID in JASPAR, e.g. ``MA0139.2``).
    counts : (W, 4) float array
        Site counts per position, A, C, G, T order. Columns may have different totals (JASPAR
        matrices often do).
    name : str
        Alternative name (``MOTIF id name``), e.g. ``CTCF``. Default is ``""``.
    nsites : float or None
        Number of sites. Default is None: the largest column total.
    background : (4,) float array
        Background letter frequencies, A, C, G, T. Default is uniform.
    source : str
        Where the motif came from (a file name or ``jaspar2024``). Default is ``""``.
    url : str
        MEME ``URL`` line. Default is ``""``.
    evalue : str
        MEME ``E=`` field, kept as written. Default is ``""``.
    """

    id: str
    counts: np.ndarray
    name: str = ""
    nsites: float | None = None
    background: np.ndarray = field(default_factory=lambda: UNIFORM.copy())
    source: str = ""
    url: str = ""
    evalue: str = ""

    def __post_init__(self):
        counts = np.asarray(self.counts, dtype=np.float64)
        check(counts.ndim == 2 and counts.shape[1] == 4 and counts.shape[0] > 0,
              f"motif {self.id}: matrix must have shape (W, 4), got {counts.shape}")
        check(np.isfinite(counts).all() and (counts >= 0).all(),
              f"motif {self.id}: matrix has negative or non-finite entries")
        check((counts.sum(axis=1) > 0).all(), f"motif {self.id}: a column sums to 0")
        self.counts = counts
        bg = np.asarray(self.background, dtype=np.float64)
        check(bg.shape == (4,) and (bg > 0).all(), f"motif {self.id}: background must be 4 positive numbers")
        self.background = bg / bg.sum()
        if self.nsites is None:
            self.nsites = float(counts.sum(axis=1).max())

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def from_probabilities(cls, probs, nsites=None, **kwargs) -> "Motif":
        """Build a motif from a probability matrix.

        Parameters
        ----------
        probs : (W, 4) array, A, C, G, T; rows are normalised to sum to 1.
        nsites : float or None
            Number of sites; counts become ``probs * nsites``. Default is None: 20 is used for
            the counts (MEME's convention when nsites is unknown) and recorded as nsites.
        **kwargs
            Other :class:`Motif` fields.
        """
        p = np.asarray(probs, dtype=np.float64)
        check(p.ndim == 2 and p.shape[1] == 4, f"motif {kwargs.get('id', '')}: matrix must have shape (W, 4), got {p.shape}")
        n = 20.0 if nsites is None else float(nsites)
        p = p / p.sum(axis=1, keepdims=True)
        return cls(counts=p * n, nsites=n, **kwargs)

    # -- views -------------------------------------------------------------------------------
    @property
    def width(self) -> int:
        """Number of positions W."""
        return self.counts.shape[0]

    def probabilities(self, pseudocount: float = 0.0) -> np.ndarray:
        """Position probability matrix.

        Parameters
        ----------
        pseudocount : float
            Total pseudocount ``s`` spread by the background: ``(c + s*bg) / (n + s)``.
            Default is 0.0.

        Returns
        -------
        numpy.ndarray
            (W, 4) float64, A, C, G, T; rows sum to 1.
        """
        c = self.counts + pseudocount * self.background
        return c / c.sum(axis=1, keepdims=True)

    def information_content(self, pseudocount: float = 0.0) -> np.ndarray:
        """Information content of each position in bits against the background.

        Parameters
        ----------
        pseudocount : float
            See :meth:`probabilities`. Default is 0.0.

        Returns
        -------
        numpy.ndarray
            (W,) float64; 0 <= IC <= log2(1 / min(bg)); 2 for a one-hot column on a uniform
            background.
        """
        p = self.probabilities(pseudocount)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * np.log2(p / self.background), 0.0)
        return terms.sum(axis=1)

    def letter_heights(self, pseudocount: float = 0.0) -> np.ndarray:
        """Logo letter heights ``p * IC`` in bits, (W, 4), A, C, G, T."""
        return self.probabilities(pseudocount) * self.information_content(pseudocount)[:, None]

    def consensus(self) -> str:
        """IUPAC consensus string (see :func:`consensus_letter`)."""
        return "".join(consensus_letter(col) for col in self.probabilities())

    # -- transforms --------------------------------------------------------------------------
    def reverse_complement(self) -> "Motif":
        """The motif on the other strand: positions reversed, A<->T and C<->G (and background)."""
        return replace(self, counts=self.counts[::-1, ::-1].copy(), background=self.background[::-1].copy())

    def trim(self, min_ic: float = 0.0, pseudocount: float = 0.0) -> tuple["Motif", int, int]:
        """Remove edge positions whose information content is below `min_ic`.

        Parameters
        ----------
        min_ic : float
            Bits; edge columns with IC < min_ic are dropped. Default is 0.0 (keep all).
        pseudocount : float
            Used for the IC. Default is 0.0.

        Returns
        -------
        motif : Motif
            The trimmed motif (at least one column: the most informative one if all are below).
        left, right : int
            Number of columns removed at each end.
        """
        ic = self.information_content(pseudocount)
        keep = np.flatnonzero(ic >= min_ic)
        if keep.size == 0:
            keep = np.array([int(np.argmax(ic))])
        left, right = int(keep[0]), int(self.width - 1 - keep[-1])
        return replace(self, counts=self.counts[left:self.width - right].copy()), left, right

    def allclose(self, other: "Motif", atol: float = 1e-6) -> bool:
        """True when both motifs have the same width and probabilities within `atol`.

        Parameters
        ----------
        other : Motif
        atol : float
            Absolute tolerance on each probability. Default is 1e-6.
        """
        return self.width == other.width and bool(np.allclose(self.probabilities(), other.probabilities(), atol=atol, rtol=0))

    def __repr__(self) -> str:
        name = f" {self.name}" if self.name else ""
        return f"Motif({self.id}{name}, w={self.width}, nsites={self.nsites:g}, {self.consensus()})"

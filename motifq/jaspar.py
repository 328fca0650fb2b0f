"""Bundled JASPAR releases and motif look-up by name.

``motifq/_data/jaspar/`` (package data) holds JASPAR CORE vertebrates, latest
version of each matrix, for the releases in :data:`BUNDLED`, each twice: ``<name>.jaspar``
(the exact counts) and ``<name>.meme`` (MEME minimal format for other tools). They are made by
``scripts/make_jaspar_bundle.py`` from the PyPI package ``pyjaspar``; nothing is downloaded at
run time.

Wherever motifq expects a motif file it also takes a bundled name (``jaspar2016``,
``jaspar2024``, ``jaspar2026``, or ``jaspar`` for the newest), optionally with a selection of
matrix IDs or names: ``jaspar2024:MA0139.2,MA0102.4`` or ``jaspar2024:CTCF,CEBPB``.

:func:`seed_kernels` initialises a model's first convolution from motifs (DanQ-JASPAR).
"""
from __future__ import annotations

import functools
import logging
from pathlib import Path

from .errors import MotifqError, check
from .formats import read_jaspar, read_motifs
from .motif import Motif

__all__ = ["BUNDLED", "LATEST", "bundled_dir", "bundled_path", "load_bundled", "load_motifs",
           "is_bundled_name", "best_score", "seed_kernels", "trim_to_width"]

log = logging.getLogger("motifq")

#: Bundled releases: name -> (description, number of motifs).
BUNDLED = {
    "jaspar2016": ("JASPAR 2016 CORE vertebrates (the release the DanQ paper used)", 519),
    "jaspar2024": ("JASPAR 2024 CORE vertebrates", 879),
    "jaspar2026": ("JASPAR 2026 CORE vertebrates", 1019),
}
LATEST = "jaspar2026"


def bundled_dir() -> Path:
    """The folder of the bundled JASPAR files: ``_data/jaspar`` inside the installed package.

    Returns
    -------
    pathlib.Path
    """
    from importlib.resources import files

    d = Path(str(files("motifq").joinpath("_data", "jaspar")))
    if not (d / f"{LATEST}.jaspar").exists():
        raise MotifqError(f"bundled JASPAR: {d}: data files not found; reinstall motifq")
    return d


def _release(name: str) -> str:
    key = name.lower()
    return LATEST if key == "jaspar" else key


def is_bundled_name(spec) -> bool:
    """True when `spec` names a bundled release (with or without a ``:selection``)."""
    return isinstance(spec, str) and _release(spec.split(":", 1)[0]) in BUNDLED and not Path(spec).exists()


def bundled_path(name: str, fmt: str = "meme") -> Path:
    """Path of a bundled release file.

    Parameters
    ----------
    name : str
        ``jaspar2016``, ``jaspar2024``, ``jaspar2026`` or ``jaspar``.
    fmt : str
        ``meme`` or ``jaspar``. Default is ``meme``.
    """
    rel = _release(name)
    check(rel in BUNDLED, f"{name}: not a bundled motif set (choose from {', '.join(BUNDLED)})")
    return bundled_dir() / f"{rel}.{fmt}"


@functools.lru_cache(maxsize=None)
def _load(rel: str) -> tuple[Motif, ...]:
    motifs = read_jaspar(bundled_path(rel, "jaspar"))
    for m in motifs:
        m.source = rel
        m.url = f"https://jaspar.elixir.no/matrix/{m.id}/"
    return tuple(motifs)


def load_bundled(name: str) -> list[Motif]:
    """The motifs of a bundled release, exact counts, A, C, G, T.

    Parameters
    ----------
    name : str
        See :func:`bundled_path`.

    Returns
    -------
    list of Motif
        Sorted by matrix ID as in the file; ``source`` is the release name.
    """
    from dataclasses import replace

    return [replace(m, counts=m.counts.copy()) for m in _load(_release(name))]


def load_motifs(spec) -> list[Motif]:
    """Motifs from a file (MEME or JASPAR) or a bundled name with an optional selection.

    Parameters
    ----------
    spec : str or os.PathLike
        A path, or ``jaspar2024``, or ``jaspar2024:MA0139.2,CTCF`` (matrix IDs, with or without
        version, or names; in the order given).

    Returns
    -------
    list of Motif
    """
    if not is_bundled_name(spec):
        return read_motifs(spec)
    name, _, sel = str(spec).partition(":")
    motifs = load_bundled(name)
    if not sel:
        return motifs
    by_key: dict[str, Motif] = {}
    for m in motifs:
        for key in (m.id, m.id.split(".")[0], m.name, m.name.upper()):
            by_key.setdefault(key, m)
    out = []
    for key in [k.strip() for k in sel.split(",") if k.strip()]:
        m = by_key.get(key) or by_key.get(key.upper())
        check(m is not None, f"{spec}: no motif {key!r} in {name}")
        out.append(m)
    return out


# ---------------------------------------------------------------------------------------------
# kernel initialisation from motifs (DanQ-JASPAR)
# ---------------------------------------------------------------------------------------------
def trim_to_width(motif: Motif, width: int) -> tuple[Motif, int, int]:
    """Drop edge columns of lowest information content until `motif` is at most `width` wide.

    At each step the end whose column has the lower information content (bits, uniform
    background, no pseudocount) is removed; ties remove the right end.

    Parameters
    ----------
    motif : Motif
        Counts (W, 4), A, C, G, T.
    width : int
        The widest allowed result (>= 1).

    Returns
    -------
    motif : Motif
        At most `width` columns.
    left, right : int
        Columns removed at each end.
    """
    ic = motif.information_content()
    lo, hi = 0, motif.width
    while hi - lo > width:
        if ic[lo] < ic[hi - 1]:
            lo += 1
        else:
            hi -= 1
    if (lo, hi) == (0, motif.width):
        return motif, 0, 0
    from dataclasses import replace

    return replace(motif, counts=motif.counts[lo:hi].copy()), lo, motif.width - hi


def best_score(weight) -> float:
    """A kernel's best score: the sum over its columns of the largest weight, i.e. the
    convolution's value (without bias) on the sequence that matches it best.

    Parameters
    ----------
    weight : torch.Tensor
        One kernel's weight (4, W), input channels A, C, G, T.

    Returns
    -------
    float
    """
    return float(weight.detach().max(dim=0).values.sum())


def seed_kernels(conv, motifs, fraction: float = 0.5, add_reverse_complements: bool = False, rng=None,
                 margin: int = 3, kernels=None, what: str = "jaspar-init", n_kernels: int | None = None,
                 threshold: float = 0.0) -> list[dict]:
    """Seed kernels of a first convolution with motifs, as DanQ-JASPAR (in place).

    For each chosen motif (and strand) one kernel, chosen at random, gets a random window of
    the motif's width set to ``PFM - 0.25`` (probabilities (w, 4), A, C, G, T, transposed into
    the kernel's (4, W) weight, whose input channels are A, C, G, T), leaving at least `margin`
    untouched columns at each side where the kernel width allows (fewer, as evenly as
    possible, when it does not). That kernel's bias is drawn from U(-1, 0), or with `threshold`
    set to minus `threshold` times the kernel's best score (the sum over its W columns of the
    largest of the 4 weights, the window and the weights outside it). Weights outside the
    windows and the other kernels are left as they are (``build_model`` initialises them
    U(-0.05, 0.05) with bias 0, the paper's initialisation). Motifs wider than the kernel are
    trimmed by information content (:func:`trim_to_width`) and logged on the ``motifq`` logger.

    Parameters
    ----------
    conv : torch.nn.Conv1d
        Weight (K, 4, W), input channels in A, C, G, T order; bias (K,).
    motifs : list of Motif
        Candidates (e.g. ``load_motifs("jaspar2016")``), counts (w, 4), A, C, G, T.
    fraction : float
        Seed about ``round(fraction * K)`` kernels, at most one per motif and strand.
        Default is 0.5.
    add_reverse_complements : bool
        Also seed each chosen motif's reverse complement in its own kernel (within the same
        budget of kernels). Default is False.
    rng : numpy.random.Generator or int or None
        Randomness for motif, kernel and window choice and the biases. Default is None: a
        fresh unseeded generator.
    margin : int
        Untouched columns wanted at each side of a window. Default is 3.
    kernels : sequence of int or None
        The kernels that may be seeded (the budget stays ``round(fraction * K)``, at most
        their number). Default is None: all.
    what : str
        The option named in messages. Default is ``jaspar-init``.
    n_kernels : int or None
        Seed this many kernels instead of ``round(fraction * K)`` (still at most the number
        of `kernels`). Default is None.
    threshold : float
        In [0, 1). 0: each seeded kernel's bias from U(-1, 0), as DanQ-JASPAR; under it a
        seeded kernel (best score about 8 for a 16-column seed) fires on most background
        positions. > 0: the bias is ``-threshold * best score``, so the kernel fires only where
        a site scores more than that fraction of a perfect match. Default is 0.0.

    Returns
    -------
    list of dict
        One per seeded kernel, in kernel order: ``kernel`` (int), ``motif_id``, ``name``,
        ``offset`` (first kernel column of the window), ``strand`` (``+`` or ``-``: the motif
        or its reverse complement), ``width`` (columns written), ``trimmed`` ([left, right]
        columns removed from the motif first).
    """
    import numpy as np
    import torch

    check(len(motifs) > 0, f"{what}: no motifs to seed kernels with")
    check(0.0 < fraction <= 1.0, f"jaspar-fraction: must be in (0, 1], got {fraction}")
    check(0.0 <= threshold < 1.0, f"seed-threshold: must be in [0, 1), got {threshold}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    K, channels, W = conv.weight.shape
    check(channels == 4, f"{what}: the convolution has {channels} input channels, expected 4 (A, C, G, T)")
    free = np.arange(K) if kernels is None else np.asarray(list(kernels), dtype=np.int64)
    budget = min(max(1, int(round(fraction * K)) if n_kernels is None else n_kernels), len(free))
    per_motif = 2 if add_reverse_complements else 1
    n_motifs = min(len(motifs), -(-budget // per_motif))
    chosen = rng.choice(len(motifs), size=n_motifs, replace=False)
    entries = [(motifs[i], s) for i in chosen for s in "+-"[:per_motif]][:budget]
    chosen_kernels = rng.permutation(free)[:len(entries)]
    out, n_trimmed = [], 0
    with torch.no_grad():
        for kernel, (motif, strand) in zip(chosen_kernels, entries):
            m = motif if strand == "+" else motif.reverse_complement()
            m, left, right = trim_to_width(m, W)
            if left or right:
                n_trimmed += 1
                log.info("%s: %s %s (%s strand) is %d wide; trimmed %d+%d low-information columns "
                         "to fit kernel width %d", what, motif.id, motif.name, strand, motif.width, left, right, W)
            w = m.width
            pad = min(margin, (W - w) // 2)
            offset = int(rng.integers(pad, W - w - pad + 1))
            pfm = torch.as_tensor(m.probabilities().T - 0.25, dtype=conv.weight.dtype)  # (4, w) A, C, G, T
            conv.weight[kernel, :, offset:offset + w] = pfm.to(conv.weight.device)
            if conv.bias is not None:
                bias = float(rng.uniform(-1.0, 0.0))            # drawn either way: same stream
                conv.bias[kernel] = -threshold * best_score(conv.weight[kernel]) if threshold > 0 else bias
            out.append({"kernel": int(kernel), "motif_id": motif.id, "name": motif.name, "offset": offset,
                        "strand": strand, "width": int(w), "trimmed": [int(left), int(right)]})
    if n_trimmed:
        log.warning("%s: %d motif(s) wider than the kernel (%d) were trimmed by information content",
                    what, n_trimmed, W)
    return sorted(out, key=lambda d: d["kernel"])

"""Bundled JASPAR releases and motif look-up by name.

``data/jaspar/`` (installed as ``motifq.jaspar_data``) holds JASPAR CORE vertebrates, latest
version of each matrix, for the releases in :data:`BUNDLED`, each twice: ``<name>.jaspar``
(the exact counts) and ``<name>.meme`` (MEME minimal format for other tools). They are made by
``scripts/make_jaspar_bundle.py`` from the PyPI package ``pyjaspar``; nothing is downloaded at
run time.

Wherever motifq expects a motif file it also takes a bundled name (``jaspar2016``,
``jaspar2024``, ``jaspar2026``, or ``jaspar`` for the newest), optionally with a selection of
matrix IDs or names: ``jaspar2024:MA0139.2,MA0102.4`` or ``jaspar2024:CTCF,CEBPB``.
"""
from __future__ import annotations

import functools
from pathlib import Path

from .errors import MotifqError, check
from .formats import read_jaspar, read_motifs
from .motif import Motif

__all__ = ["BUNDLED", "LATEST", "bundled_dir", "bundled_path", "load_bundled", "load_motifs",
           "is_bundled_name"]

#: Bundled releases: name -> (description, number of motifs).
BUNDLED = {
    "jaspar2016": ("JASPAR 2016 CORE vertebrates (the release the DanQ paper used)", 519),
    "jaspar2024": ("JASPAR 2024 CORE vertebrates", 879),
    "jaspar2026": ("JASPAR 2026 CORE vertebrates", 1019),
}
LATEST = "jaspar2026"


def bundled_dir() -> Path:
    """The folder holding the bundled files (installed package data, or the source tree's
    ``data/jaspar``)."""
    try:
        from importlib.resources import files

        d = Path(str(files("motifq.jaspar_data")))
        if (d / f"{LATEST}.jaspar").exists():
            return d
    except (ModuleNotFoundError, TypeError):
        pass
    d = Path(__file__).resolve().parent.parent / "data" / "jaspar"
    if (d / f"{LATEST}.jaspar").exists():
        return d
    raise MotifqError("bundled JASPAR: data files not found; reinstall motifq")


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

"""Regenerate the bundled JASPAR files in motifq/_data/jaspar/ from the PyPI package pyjaspar.

    pip install pyjaspar
    python scripts/make_jaspar_bundle.py

Writes, for each release, <name>.jaspar (exact counts) and <name>.meme (MEME minimal format,
nsites = the largest column total, rounded to a whole number as MEME, Biopython and memelite
read it), CORE collection, vertebrates, latest version of each matrix.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from motifq.formats import write_jaspar, write_meme  # noqa: E402
from motifq.motif import Motif  # noqa: E402

RELEASES = {"jaspar2016": "JASPAR2016", "jaspar2024": "JASPAR2024", "jaspar2026": "JASPAR2026"}


def fetch(release: str) -> list[Motif]:
    """CORE vertebrate motifs of one pyjaspar release, latest versions, sorted by matrix ID."""
    from pyjaspar import jaspardb

    db = jaspardb(release=release)
    raw = db.fetch_motifs(collection="CORE", tax_group=["vertebrates"], all_versions=False)
    motifs = []
    for m in raw:
        counts = np.array([m.counts[b] for b in "ACGT"], dtype=float).T  # (W, 4) ACGT
        motifs.append(Motif(id=m.matrix_id, name=m.name, counts=counts,
                            url=f"https://jaspar.elixir.no/matrix/{m.matrix_id}/"))
    return sorted(motifs, key=lambda m: m.id)


def main() -> None:
    out = ROOT / "motifq" / "_data" / "jaspar"
    out.mkdir(parents=True, exist_ok=True)
    for name, release in RELEASES.items():
        motifs = fetch(release)
        write_jaspar(out / f"{name}.jaspar", motifs)
        write_meme(out / f"{name}.meme", motifs)
        print(f"{name}: {len(motifs)} motifs")


if __name__ == "__main__":
    main()

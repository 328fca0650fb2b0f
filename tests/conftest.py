"""Shared fixtures: small seeded motifs and sequences made in the test, never read from the
working directory."""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

# CI runs the same hypothesis examples every time (a red run then means a change broke it);
# local runs keep drawing new examples, which is how the cluster alignment bug was found.
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models run faster on one thread: no OpenMP spin-waits on a loaded 2-core machine."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def random_motifs(rng):
    """Five random motifs with integer counts, widths 6..14."""
    from motifq.motif import Motif

    out = []
    for i in range(5):
        w = int(rng.integers(6, 15))
        counts = rng.multinomial(50, rng.dirichlet(np.full(4, 0.5)), size=w).astype(float)
        counts[counts.sum(1) == 0, 0] = 1
        out.append(Motif(id=f"M{i}", name=f"alt{i}", counts=counts))
    return out


def three_meme_readers_agree(path):
    """Biopython (minimal MEME), memelite and motifq read the MEME file `path` alike."""
    import numpy as np
    from Bio import motifs as bio_motifs
    from memelite.io import read_meme as memelite_read

    from motifq.formats import read_meme

    ours = read_meme(path)
    with open(path) as fh:
        bio = bio_motifs.parse(fh, "minimal")
    lite = memelite_read(str(path))
    assert [m.name for m in bio] == [m.id for m in ours]
    assert list(lite) == [f"{m.id} {m.name}".strip() for m in ours]
    for m, b, l in zip(ours, bio, lite.values()):
        p = m.probabilities()
        n = b.num_occurrences
        assert n == round(m.nsites) and n >= 1
        assert np.allclose(l.T, p, atol=1e-6)
        # Biopython keeps counts round(p * nsites) of the 6-decimal probabilities as written
        assert np.abs(np.array([b.counts[c] for c in "ACGT"]).T - p * n).max() <= 0.5 + n * 1e-6

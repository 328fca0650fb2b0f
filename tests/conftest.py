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

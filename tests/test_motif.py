import numpy as np
import pytest

from motifq.errors import MotifqError
from motifq.motif import Motif, consensus_letter


def test_information_content_bounds():
    m = Motif("x", np.array([[1, 1, 1, 1], [10, 0, 0, 0], [0, 0, 0, 7]], float))
    ic = m.information_content()
    assert ic[0] == pytest.approx(0.0, abs=1e-12)
    assert ic[1] == pytest.approx(2.0) and ic[2] == pytest.approx(2.0)
    # pseudocount lowers a one-hot column below 2 bits
    assert m.information_content(pseudocount=1.0)[1] < 2.0
    # skewed background: a column equal to it has 0 bits
    bg = np.array([0.3, 0.2, 0.2, 0.3])
    m2 = Motif("y", np.array([[3, 2, 2, 3]], float), background=bg)
    assert m2.information_content()[0] == pytest.approx(0.0, abs=1e-12)


def test_probabilities_with_pseudocount():
    m = Motif("x", np.array([[8, 0, 0, 0]], float))
    p = m.probabilities(pseudocount=2.0)
    assert np.allclose(p, [[8.5 / 10, 0.5 / 10, 0.5 / 10, 0.5 / 10]])


def test_reverse_complement_twice(random_motifs):
    for m in random_motifs:
        rc = m.reverse_complement()
        assert np.array_equal(rc.counts[0], m.counts[-1][::-1])
        assert rc.reverse_complement().allclose(m, atol=0)


def test_consensus_and_trim():
    counts = np.array([[1, 1, 1, 1], [9, 0, 1, 0], [5, 0, 5, 0], [0, 0, 0, 10], [1, 1, 1, 1.2]], float)
    m = Motif("x", counts)
    assert m.consensus() == "NARTN"
    t, left, right = m.trim(min_ic=0.5)
    assert (left, right) == (1, 1) and t.width == 3 and t.consensus() == "ART"
    assert consensus_letter([0.4, 0.4, 0.1, 0.1]) == "M"


def test_allclose_tolerance():
    a = Motif.from_probabilities([[0.5, 0.5, 0, 0]], nsites=10, id="a")
    b = Motif.from_probabilities([[0.5 + 1e-7, 0.5 - 1e-7, 0, 0]], nsites=10, id="b")
    assert a.allclose(b, atol=1e-6) and not a.allclose(b, atol=1e-9)


def test_bad_matrices():
    with pytest.raises(MotifqError, match="shape"):
        Motif("x", np.zeros((3, 5)))
    with pytest.raises(MotifqError, match="negative"):
        Motif("x", -np.ones((3, 4)))
    with pytest.raises(MotifqError, match="sums to 0"):
        Motif("x", np.zeros((3, 4)))

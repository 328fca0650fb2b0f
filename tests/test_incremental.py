"""The incremental scores of inserted motifs against full forward passes of every arrangement: the
same logits (1e-5, float32) for a DanQ and its CNN, on both strands, at the edge gaps, across pool
boundaries and for models of other convolution widths and pools; and the cells an insertion changes
against a brute-force convolution."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from motifq.config import ModelConfig
from motifq.errors import MotifqError
from motifq.grammar import logits, pair_map
from motifq.incremental import cells_changed, pair_logits, prepare, supports
from motifq.models import build_model, one_hot_tokens
from motifq.motif import Motif


def _model(kind, length, width, pool, seed=0):
    """A small model with weights large enough that the BiLSTM's gates saturate in places."""
    torch.manual_seed(seed)
    model = build_model(ModelConfig.for_kind(kind, n_targets=3, length=length, conv_kernels=6, conv_width=width,
                                             pool=pool, lstm_units=5, dense=7))
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)
    return model.eval()


def _with(base, *placed):
    out = base.copy()
    for sites, start in placed:
        out[:, start:start + sites.shape[1]] = sites
    return out


def _rc(x):
    return np.ascontiguousarray(3 - x[:, ::-1])


def _full(model, bg, firsts, p0, seconds, starts):
    """The same four kinds of logits from full forward passes (forward and reverse-complement mean)."""
    first = [logits(model, _with(bg, (f, p0))) for f in firsts]
    second = [np.stack([logits(model, _with(bg, (s, q))) for q in starts]) for s in seconds]
    both = {(i, j): np.stack([logits(model, _with(bg, (f, p0), (s, q))) for q in starts])
            for i, f in enumerate(firsts) for j, s in enumerate(seconds)}
    return logits(model, bg), first, second, both


CASES = [  # kind, L, conv width, pool, first width, second width, p0
    ("danq", 120, 9, 5, 6, 8, 20),
    ("cnn", 120, 9, 5, 6, 8, 20),
    ("danq", 100, 12, 7, 3, 11, 0),      # the first motif at base 0
    ("cnn", 100, 12, 7, 3, 11, 0),
    ("danq", 64, 5, 13, 10, 2, 30),      # a 2-bp second motif: at the end it changes no pooled cell
    ("cnn", 64, 5, 13, 10, 2, 30),
]


@pytest.mark.parametrize("kind,length,width,pool,wf,ws,p0", CASES)
def test_pair_logits_equal_full_forward_passes(kind, length, width, pool, wf, ws, p0):
    model = _model(kind, length, width, pool)
    rng = np.random.default_rng(length + width)
    n = 5
    bg = rng.integers(0, 4, (n, length)).astype(np.uint8)
    bg[0, 3], bg[1, -2] = 4, 4                                          # an N base (0.25 each channel)
    fa, fb = rng.integers(0, 4, (n, wf)).astype(np.uint8), rng.integers(0, 4, (n, ws)).astype(np.uint8)
    firsts, seconds = [fa, _rc(fa)], [fb, _rc(fb)]
    starts = np.arange(p0 + wf, length - ws + 1)                        # gap 0 up to the sequence's end
    fast = pair_logits(prepare(model, bg), firsts, p0, seconds, starts, batch_size=3 * n)
    empty, first, second, both = _full(model, bg, firsts, p0, seconds, starts)
    assert np.ptp(np.stack(list(both.values()))) > 0.5                  # the scores do vary
    np.testing.assert_allclose(fast.empty, empty, atol=1e-5, rtol=0)
    for i in range(2):
        np.testing.assert_allclose(fast.first[i], first[i], atol=1e-5, rtol=0)
        np.testing.assert_allclose(fast.second[i], second[i], atol=1e-5, rtol=0)
        for j in range(2):
            np.testing.assert_allclose(fast.both[(i, j)], both[(i, j)], atol=1e-5, rtol=0)


def test_an_insertion_past_the_pooled_columns_changes_nothing():
    # L 64, W 5: 60 columns, pool 13: 4 cells use columns 0..51; bases 56.. reach no pooled column
    assert cells_changed(62, 2, 5, 13, 4) == (0, -1)
    assert cells_changed(55, 2, 5, 13, 4) == (3, 3)
    assert cells_changed(0, 3, 5, 13, 4) == (0, 0)


def test_cells_changed_against_a_brute_force_convolution():
    rng = np.random.default_rng(0)
    for length, width, pool in ((60, 5, 4), (75, 9, 13), (40, 12, 3)):
        conv = torch.nn.Conv1d(4, 3, width)
        steps = (length - width + 1) // pool
        base = rng.integers(0, 4, (1, length))
        for start in range(0, length - 3):
            w = int(rng.integers(1, 4))
            other = base.copy()
            other[0, start:start + w] = (other[0, start:start + w] + 1) % 4   # every base different
            with torch.no_grad():
                a, b = (conv(one_hot_tokens(x))[0, :, :steps * pool] for x in (base, other))
            cols = torch.nonzero((a != b).any(0)).ravel()
            lo, hi = cells_changed(start, w, width, pool, steps)
            expect = (int(cols.min()) // pool, int(cols.max()) // pool) if len(cols) else None
            assert (lo, hi) == expect if expect else hi < lo


def test_pair_map_incremental_equals_full_and_falls_back():
    model = _model("danq", 90, 7, 6, seed=1)
    a = Motif.from_probabilities(np.random.default_rng(2).dirichlet(np.ones(4), 7), id="a")
    b = Motif.from_probabilities(np.random.default_rng(3).dirichlet(np.ones(4), 5), id="b")
    bg = np.random.default_rng(4).integers(0, 4, (6, 90)).astype(np.uint8)
    full = pair_map(model, a, b, bg, max_gap=40, gaps=np.arange(0, 41, 3), method="full")
    fast = pair_map(model, a, b, bg, max_gap=40, gaps=np.arange(0, 41, 3), method="incremental")
    cols = ["effect", "interaction", "ci_low", "ci_high"]
    assert full[cols].abs().to_numpy().max() > 0.05
    np.testing.assert_allclose(fast[cols].to_numpy(), full[cols].to_numpy(), atol=2e-5, rtol=0)
    assert (fast.drop(columns=cols) == full.drop(columns=cols)).all().all()
    assert supports(model) and not supports(model.train()) and not supports(torch.nn.Conv1d(4, 1, 90))
    other = torch.nn.Sequential(torch.nn.Conv1d(4, 1, 90), torch.nn.Flatten())     # any other model: full passes
    auto = pair_map(other, a, b, bg, max_gap=40, gaps=[0, 40])
    assert auto[cols].equals(pair_map(other, a, b, bg, max_gap=40, gaps=[0, 40], method="full")[cols])
    with pytest.raises(MotifqError, match="incremental"):
        pair_map(other, a, b, bg, max_gap=40, method="incremental")
    with pytest.raises(MotifqError, match="method"):
        pair_map(model, a, b, bg, max_gap=40, method="fast")


def test_backgrounds_scored_in_chunks_give_the_same_logits():
    from motifq.grammar import _incremental_pair_logits

    model = _model("danq", 70, 6, 4, seed=2)
    rng = np.random.default_rng(5)
    bg = rng.integers(0, 4, (7, 70)).astype(np.uint8)
    fa, fb = rng.integers(0, 4, (7, 5)).astype(np.uint8), rng.integers(0, 4, (7, 4)).astype(np.uint8)
    starts = np.arange(25, 50)
    whole = _incremental_pair_logits(model, bg, [fa], 20, [fb, _rc(fb)], starts, rows=100)
    parts = _incremental_pair_logits(model, bg, [fa], 20, [fb, _rc(fb)], starts, rows=100, chunk=3)
    for x, y in ((whole.empty, parts.empty), (whole.first[0], parts.first[0]), (whole.second[1], parts.second[1]),
                 (whole.both[(0, 1)], parts.both[(0, 1)])):
        assert x.shape == y.shape
        np.testing.assert_allclose(x, y, atol=1e-6, rtol=0)


def test_two_threads_score_the_strands_side_by_side_with_the_same_numbers():
    model = _model("danq", 60, 5, 4, seed=3)
    rng = np.random.default_rng(6)
    bg = rng.integers(0, 4, (4, 60)).astype(np.uint8)
    fa, fb = rng.integers(0, 4, (4, 5)).astype(np.uint8), rng.integers(0, 4, (4, 6)).astype(np.uint8)
    prep, threads = prepare(model, bg), torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = pair_logits(prep, [fa], 10, [fb], np.arange(15, 40))
        torch.set_num_threads(2)
        two = pair_logits(prep, [fa], 10, [fb], np.arange(15, 40))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_allclose(two.both[(0, 0)], one.both[(0, 0)], atol=1e-6, rtol=0)
    np.testing.assert_allclose(two.second[0], one.second[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("n", [1, 3])
def test_insertions_covering_every_cell_leave_the_background_as_it_was(n):
    # 24 bp, W 5, P 4: 5 cells; an 8-bp motif changes most of them, and a single background's
    # columns are a contiguous block (a slice of them is no copy)
    model = _model("danq", 24, 5, 4, seed=4)
    rng = np.random.default_rng(7)
    bg = rng.integers(0, 4, (n, 24)).astype(np.uint8)
    fa, fb = rng.integers(0, 4, (n, 8)).astype(np.uint8), rng.integers(0, 4, (n, 6)).astype(np.uint8)
    prep = prepare(model, bg)
    before = [s.cols.clone() for s in prep.scored]
    fast = pair_logits(prep, [fa, _rc(fa)], 0, [fb], np.arange(8, 19))
    assert all(torch.equal(a, s.cols) for a, s in zip(before, prep.scored))
    empty, first, second, both = _full(model, bg, [fa, _rc(fa)], 0, [fb], np.arange(8, 19))
    np.testing.assert_allclose(fast.second[0], second[0], atol=1e-5, rtol=0)
    np.testing.assert_allclose(fast.both[(1, 0)], both[(1, 0)], atol=1e-5, rtol=0)

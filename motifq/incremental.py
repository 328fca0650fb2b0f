"""Exact, incremental scores of a DanQ (or its CNN) for backgrounds with one or two motifs inserted:
what :mod:`motifq.grammar` computes for every gap, order and strand of a pair.

A DanQ in eval mode is conv (width W) -> max-pool (P, stride P) -> ReLU -> BiLSTM -> dense -> logits
(``cnn``: no BiLSTM). An insertion at bases [s, s + w) of a sequence of L bp changes only the
convolution columns s - W + 1 .. s + w - 1, hence only the pooled steps ("cells")
``(s - W + 1) // P .. (s + w - 1) // P``, clipped to 0 .. S - 1 with S = (L - W + 1) // P (the
columns past S * P are never pooled); every other cell keeps the background's value. Here

- the background is evaluated once (both strands): its convolution columns, the features of each
  cell, the BiLSTM's hidden and cell states at every step, the logits;
- a sequence with one insertion recomputes only its changed cells: the convolution is linear, so
  its new columns are the background's plus one matrix product of the inserted bases' one-hot
  change (w x 4 values) with the kernels laid out as a band matrix (:func:`_toeplitz`), then
  max-pool and ReLU over the changed cells; the BiLSTM's forward direction equals the
  background's before the first changed cell, so it runs from there (starting from the
  background's states), and the backward direction runs from the last changed cell down;
- a sequence with two insertions, the left one changing cells [l0, l1] and the right one [r0, r1]
  (l0 <= r0, l1 <= r1), takes its cells from the left-only and right-only sequences (recomputing
  only the cells both change, from both insertions' column changes); its forward direction equals
  the left-only sequence's before r0 and runs from r0; its backward direction equals the
  right-only sequence's after l1 and runs from l1 down;
- the dense layer sums each step's contribution (a step's hidden state times its columns of the
  dense weight; steps the G sequences of a group share are computed once), then ReLU and the
  output layer as usual.

A cell's features are the BiLSTM's input projections of both directions (8U values: ``W_ih x + b_ih
+ b_hh``, forward then backward; the gates of ``torch.nn.LSTM`` reordered i, f, o, g and the g
gate's doubled, see :func:`_net`), or for the CNN the pooled values (K). The results are those of the full forward pass up to float32 rounding (the tests hold
them to 1e-5); everything is computed in float32 on the model's device. Other models (DeepSEA, k-mer
LR, any other module) are not supported here (:func:`supports`): the caller runs them in full.

Sequences are handled in groups of shape (G, N): N backgrounds, G positions of the moving
insertion; tensors of shape (1, N, ...) broadcast over G. Every sequence is scored on both
strands, as :func:`motifq.grammar.logits` does: the reverse complement is its own sequence, with
its own background evaluation and the insertions at mirrored positions.
"""
from __future__ import annotations

from itertools import groupby
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from .models import DanQ, one_hot_tokens
from .sequence import reverse_complement_tokens

__all__ = ["supports", "Prepared", "prepare", "PairLogits", "pair_logits", "cells_changed"]


class _Net(NamedTuple):
    """The pieces of a :class:`~motifq.models.DanQ` the incremental evaluation uses."""

    conv: object            # nn.Conv1d, weight (K, 4, W), input channels A, C, G, T
    width: int              # W
    pool: int               # P
    steps: int              # S
    units: int              # U (0: the CNN)
    w_ih: object            # (8U, K) input weights, forward then backward, gates i, f, o, 2g; None: CNN
    bias: object            # (8U,) b_ih + b_hh, the same order and scale; None for the CNN
    w_hh: tuple             # ((U, 4U), (U, 4U)) recurrent weights, transposed, forward and backward
    dense: object           # dense weight: (D, S K) for the CNN; (2S, U, D) for the DanQ, per direction and step
    dense_bias: object      # (D,)
    out: object             # nn.Linear (D, T)


class _Scored(NamedTuple):
    """Sequences scored against a background: G x N of them (G may be 1, broadcast)."""

    lo: int                 # first changed cell
    hi: int                 # last changed cell (hi < lo: nothing changed)
    feats: object           # (G, N, hi - lo + 1, F) features of the changed cells
    states: object          # [forward, backward]: step -> (h, c), each (G or 1, N, U); None for the CNN
    logits: object          # (G, N, T) float32
    cols: object = None     # an insertion: its change of the convolution columns (G, N, n_cols, K) (see
    first: tuple = ()       # _delta), from column first[g]; a background: its (1, N, S P, K) columns, first (0,)


def supports(model) -> bool:
    """Whether `model` can be scored incrementally: a :class:`~motifq.models.DanQ` (``danq``,
    ``danq-jaspar``, ``cnn``) in eval mode with at least one pooled step.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    bool
    """
    return type(model) is DanQ and not model.training and model.config.steps() > 0


def _net(model) -> _Net:
    """The weights of `model` (a DanQ in eval mode) in the layout the loops use: the BiLSTM's gates
    reordered i, f, o, g, the g gate's rows doubled (tanh(x) = 2 sigmoid(2x) - 1: one sigmoid per
    step), and the dense weight split by direction and step."""
    c, lstm, d = model.config, model.lstm, model.dense
    if lstm is None:
        return _Net(model.conv, c.conv_width, c.pool, c.steps(), 0, None, None, (), d.weight, d.bias, model.out)
    u, s = c.lstm_units, c.steps()
    order = torch.cat([torch.arange(0, 2 * u), torch.arange(3 * u, 4 * u), torch.arange(2 * u, 3 * u)])  # i f o g
    scale = torch.cat([torch.ones(3 * u), torch.full((u,), 2.0)]).to(lstm.weight_ih_l0)                 # g: 2x
    w_ih = torch.cat([lstm.weight_ih_l0[order], lstm.weight_ih_l0_reverse[order]]) * scale.repeat(2)[:, None]
    bias = torch.cat([(lstm.bias_ih_l0 + lstm.bias_hh_l0)[order],
                      (lstm.bias_ih_l0_reverse + lstm.bias_hh_l0_reverse)[order]]) * scale.repeat(2)
    w_hh = tuple((w[order] * scale[:, None]).t().contiguous() for w in (lstm.weight_hh_l0, lstm.weight_hh_l0_reverse))
    dense = d.weight.reshape(-1, s, 2, u).permute(2, 1, 3, 0).reshape(2 * s, u, -1).contiguous()   # (2S, U, D)
    return _Net(model.conv, c.conv_width, c.pool, s, u, w_ih, bias, w_hh, dense, d.bias, model.out)


def cells_changed(start: int, width: int, conv_width: int, pool: int, steps: int) -> tuple[int, int]:
    """The pooled steps an insertion changes.

    Parameters
    ----------
    start, width : int
        The insertion's bases [start, start + width) on the sequence scored.
    conv_width, pool, steps : int
        The model's W, P and S.

    Returns
    -------
    tuple of int
        (lo, hi): the cells lo..hi; hi < lo when no pooled column sees the insertion.
    """
    j0, j1 = max(start - conv_width + 1, 0), min(start + width - 1, steps * pool - 1)
    return (j0 // pool, j1 // pool) if j0 <= j1 else (0, -1)


# ---------------------------------------------------------------------------------------------
# convolution columns, cells and features
# ---------------------------------------------------------------------------------------------
def _one_hot_rows(tokens):
    """(..., w) long tokens -> (..., 4 w) float32: each base's one-hot (A, C, G, T; N = 0.25 each)
    in turn, base-major."""
    return one_hot_tokens(tokens).transpose(-1, -2).flatten(-2)


def _toeplitz(net: _Net, width: int, cache: dict):
    """The matrix that maps the one-hot bases of a `width`-bp stretch to the convolution columns
    that see them (bias excluded).

    Parameters
    ----------
    net : _Net
    width : int
        w.
    cache : dict
        Matrices already built, by width (filled in).

    Returns
    -------
    torch.Tensor
        (4 w, (w + W - 1) K): row 4 k + c (base k, channel c in A, C, G, T), column jj K + o (kernel o
        of the column jj - W + 1 relative to the stretch's first base).
    """
    if width not in cache:
        weight = net.conv.weight                            # (K, 4, W)
        k, _, w_conv = weight.shape
        taps = weight.flip(-1).permute(1, 2, 0)             # (4, W, K): column jj = k + W - 1 - tap
        t = weight.new_zeros(width, 4, width + w_conv - 1, k)
        for base in range(width):
            t[base, :, base:base + w_conv] = taps
        cache[width] = t.reshape(4 * width, -1)
    return cache[width]


def _delta(net: _Net, tokens, sites, starts, cache: dict):
    """How `sites` written at each of `starts` change the convolution columns that see them.

    Parameters
    ----------
    net : _Net
    tokens : (N, L) long tensor
        The backgrounds (0..3 = A, C, G, T, 4 = N).
    sites : (N, w) long tensor
    starts : list of int
        G start positions.
    cache : dict
        :func:`_toeplitz` matrices by width.

    Returns
    -------
    torch.Tensor
        (G, N, w + W - 1, K): columns starts[g] - W + 1 .. starts[g] + w - 1 (the convolution is
        linear: new columns = the background's + this).
    """
    n, w = sites.shape
    new = _one_hot_rows(sites)                              # (N, 4 w)
    old = torch.stack([_one_hot_rows(tokens[:, q:q + w]) for q in starts])   # (G, N, 4 w)
    d = (new - old).reshape(-1, 4 * w) @ _toeplitz(net, w, cache)           # (G N, (w + W - 1) K)
    return d.reshape(len(starts), n, w + net.width - 1, -1)


def _cells(net: _Net, bg_cols, lo: int, hi: int, changes):
    """Features of cells lo..hi of sequences whose convolution columns are the background's plus
    some changes.

    Parameters
    ----------
    net : _Net
    bg_cols : (N, S P, K) tensor
        The backgrounds' convolution columns (bias included), channels last.
    lo, hi : int
        Cells, 0 <= lo <= hi < S.
    changes : list of (delta, first)
        delta (G or 1, N, n_cols, K) from :func:`_delta`, first the list of G (or 1) first columns.

    Returns
    -------
    torch.Tensor
        (G, N, hi - lo + 1, F): the BiLSTM input projections (F = 8U) or, for the CNN, the pooled
        values (F = K), as the model computes them (max-pool then ReLU).
    """
    b0, b1 = lo * net.pool, (hi + 1) * net.pool
    g = max([1] + [d.shape[0] for d, _ in changes])
    n, k_ = bg_cols.shape[0], bg_cols.shape[2]
    block = bg_cols.new_empty(g, n, b1 - b0, k_).copy_(bg_cols[:, b0:b1])   # (G, N, n P, K), a copy (added to below)
    for delta, first in changes:
        for k in range(g):
            j0 = first[k if len(first) > 1 else 0]
            o0, o1 = max(j0, b0), min(j0 + delta.shape[2], b1)
            if o0 < o1:
                block[k, :, o0 - b0:o1 - b0] += delta[k if delta.shape[0] > 1 else 0, :, o0 - j0:o1 - j0]
    cells = block.reshape(g, n, hi - lo + 1, net.pool, -1).amax(3).relu_()   # (G, N, n, K)
    return cells if net.w_ih is None else F.linear(cells, net.w_ih, net.bias)


# ---------------------------------------------------------------------------------------------
# the BiLSTM from a changed step, and the head
# ---------------------------------------------------------------------------------------------
def _feature_at(base: _Scored, overrides, t: int):
    """(G or 1, N, F) features of cell t: the last override that covers it, else the base's."""
    for lo, feats in reversed(overrides):
        if lo <= t < lo + feats.shape[2]:
            return feats[:, :, t - lo]
    return base.feats[:, :, t - base.lo]


def _direction(net: _Net, base, overrides, steps, d: int, start) -> dict:
    """Run one direction of the BiLSTM over `steps`.

    Parameters
    ----------
    net : _Net
    base : _Scored
        The background (features of every cell).
    overrides : list of (lo, feats (G or 1, N, n, 8U))
        Cells whose features differ from the background's; later entries win.
    steps : range
        The steps to run, in the direction's order.
    d : int
        0 forward, 1 backward.
    start : tuple of two (G or 1, N, U) tensors
        Hidden and cell state before the first step.

    Returns
    -------
    dict
        step -> (h, c), each (G or 1, N, U).
    """
    u = net.units
    cols = slice(4 * u * d, 4 * u * (d + 1))
    h, c = start
    out = {}
    for t in steps:
        x = _feature_at(base, overrides, t)[..., cols]                      # (G or 1, N, 4U) i, f, o, 2g
        g = torch.matmul(h.expand(-1, x.shape[1], -1), net.w_hh[d])          # (G or 1, N, 4U)
        g = g + x if x.shape[0] > g.shape[0] else g.add_(x)
        g.sigmoid_()                                                         # i, f, o, (tanh(g) + 1) / 2
        c = torch.addcmul(g[..., u:2 * u] * c - g[..., :u], g[..., :u], g[..., 3 * u:], value=2.0)   # f c + i tanh(g)
        h = g[..., 2 * u:3 * u] * torch.tanh(c)                              # (G, N, U)
        out[t] = (h, c)
    return out


def _head(net: _Net, x):
    """The CNN's head: (G, N, S K) pooled cells, step by step -> (G, N, T) logits."""
    y = F.relu(F.linear(x, net.dense, net.dense_bias))    # (G, N, D)
    return net.out(y)                                      # (G, N, T)


def _head_steps(net: _Net, hs, g: int, n: int):
    """The DanQ's head: 2S hidden states (G or 1, N, U) (forward steps 0..S-1, then backward) ->
    (G, N, T) logits; the dense layer as the sum of each step's contribution, the states shared
    by the G sequences (batch 1) multiplied once."""
    shared = [i for i, h in enumerate(hs) if h.shape[0] == 1] if g > 1 else []
    y = None
    for i in shared:
        y = torch.matmul(hs[i], net.dense[i]) if y is None else y.add_(torch.matmul(hs[i], net.dense[i]))
    y = y.expand(g, n, -1).clone() if y is not None else hs[0].new_zeros(g, n, net.dense.shape[2])
    for i in sorted(set(range(len(hs))) - set(shared)):
        y.add_(torch.matmul(hs[i], net.dense[i]))           # (G, N, D)
    return net.out(F.relu(y.add_(net.dense_bias)))         # (G, N, T)


def _run(net: _Net, base: _Scored, overrides, span, fwd: _Scored, bwd: _Scored) -> _Scored:
    """Score G x N sequences that differ from `base` in the cells of `overrides`.

    Parameters
    ----------
    net : _Net
    base : _Scored
        The backgrounds (lo = 0, features of every cell); None when `overrides` cover every cell.
    overrides : list of (lo, feats (G or 1, N, n, F))
        Changed cells and their features; later entries win.
    span : tuple of int
        (a, b): the forward direction runs from step a, the backward one from step b down.
    fwd, bwd : _Scored or None
        The sequences whose forward states hold before a, and whose backward states hold after b
        (None: a = 0 and b = S - 1, start from zeros).

    Returns
    -------
    _Scored
        lo, hi, feats of the last override (the changed cells when it is the only one).
    """
    lo, feats = overrides[-1]
    g = max(f.shape[0] for _, f in overrides)
    n, s = feats.shape[1], net.steps
    scored = _Scored(lo, lo + feats.shape[2] - 1, feats, None, None)
    if net.w_ih is None:                                   # the CNN: cells straight to the head
        x = (base.feats if base is not None else feats).expand(g, n, s, -1).clone()
        for o_lo, o in overrides:
            x[:, :, o_lo:o_lo + o.shape[2]] = o
        return scored._replace(logits=_head(net, x.reshape(g, n, -1)))
    a, b = span
    states = [_direction(net, base, overrides, range(a, s), 0, _start(fwd, 0, a - 1, feats)),
              _direction(net, base, overrides, range(b, -1, -1), 1, _start(bwd, 1, b + 1, feats))]
    for d, ref, kept in ((0, fwd, range(a)), (1, bwd, range(b + 1, s))):
        states[d].update({t: ref.states[d][t] for t in kept})
    hs = [states[d][t][0] for d in (0, 1) for t in range(s)]
    g = max(h.shape[0] for h in hs)
    return scored._replace(states=states, logits=_head_steps(net, hs, g, n))


def _start(ref: _Scored, d: int, t: int, like):
    """Direction d's (h, c) of `ref` at step t, or (1, 1, U) zeros where t is outside 0..S-1
    (`like`: a (..., 8U) features tensor, for the dtype, device and U)."""
    if ref is None or not 0 <= t < len(ref.states[d]):
        z = like.new_zeros(1, 1, like.shape[-1] // 8)
        return z, z
    return ref.states[d][t]


# ---------------------------------------------------------------------------------------------
# backgrounds, one insertion, two insertions
# ---------------------------------------------------------------------------------------------
class Prepared(NamedTuple):
    """Backgrounds evaluated on both strands (:func:`prepare`)."""

    net: object
    """The model's weights in the loops' layout."""
    tokens: tuple
    """(forward, reverse complement) (N, L) long tensors, A, C, G, T = 0..3, N = 4."""
    scored: tuple
    """The backgrounds' evaluations on each strand (features, states, logits)."""
    length: int
    """L."""
    toeplitz: dict
    """:func:`_toeplitz` matrices by motif width (filled as needed)."""


def prepare(model, background) -> Prepared:
    """Evaluate backgrounds once, on both strands, for :func:`pair_logits`.

    Parameters
    ----------
    model : torch.nn.Module
        A model :func:`supports` accepts.
    background : (N, L) uint8 array
        0..3 = A, C, G, T, 4 = N.

    Returns
    -------
    Prepared
    """
    net = _net(model)
    device = next(iter(model.parameters())).device
    fwd = torch.from_numpy(np.ascontiguousarray(background)).to(device).long()
    tokens = (fwd, reverse_complement_tokens(fwd).contiguous())
    with torch.inference_mode():
        scored = tuple(_background(net, t) for t in tokens)
    return Prepared(net, tokens, scored, int(fwd.shape[1]), {})


def _background(net: _Net, tokens) -> _Scored:
    """Every column, cell, state and logit of (N, L) background tokens."""
    s, p = net.steps, net.pool
    cols = net.conv(one_hot_tokens(tokens[:, :s * p + net.width - 1])).transpose(1, 2).contiguous()  # (N, S P, K)
    feats = _cells(net, cols, 0, s - 1, [])                                  # (1, N, S, F)
    return _run(net, None, [(0, feats)], (0, s - 1), None, None)._replace(cols=cols[None], first=(0,))


def _single(net: _Net, bg: _Scored, tokens, sites, starts, cache: dict) -> _Scored:
    """G x N sequences: the backgrounds with `sites` (N, w) at each of `starts` (G positions that
    change the same cells); `cache` holds the :func:`_toeplitz` matrices."""
    lo, hi = cells_changed(starts[0], sites.shape[1], net.width, net.pool, net.steps)
    if hi < lo:
        return bg._replace(lo=0, hi=-1, cols=None)
    delta = _delta(net, tokens, sites, starts, cache)
    first = tuple(q - net.width + 1 for q in starts)
    feats = _cells(net, bg.cols[0], lo, hi, [(delta, first)])               # (G, N, n, F)
    return _run(net, bg, [(lo, feats)], (lo, hi), bg, bg)._replace(cols=delta, first=first)


def _pair(net: _Net, bg: _Scored, left: _Scored, right: _Scored) -> _Scored:
    """G x N sequences with two insertions, each scored alone (:func:`_single`), the left one's
    bases before the right one's."""
    if right.hi < right.lo or left.hi < left.lo:
        return left if right.hi < right.lo else right
    overrides = [(left.lo, left.feats), (right.lo, right.feats)]
    if right.lo <= left.hi:                                # cells both change: both changes of the columns
        both = _cells(net, bg.cols[0], right.lo, left.hi, [(left.cols, left.first), (right.cols, right.first)])
        overrides.append((right.lo, both))
    return _run(net, bg, overrides, (right.lo, left.hi), left, right)


class PairLogits(NamedTuple):
    """Logits of every arrangement of a pair (forward and reverse-complement mean, float64)."""

    empty: np.ndarray
    """(N, T): the backgrounds."""
    first: list
    """Per instance set of the first motif: (N, T) with it alone at p0."""
    second: list
    """Per instance set of the second motif: (n_starts, N, T) with it alone at each start."""
    both: dict
    """(i, j) -> (n_starts, N, T): first set i at p0 and second set j at each start."""


def pair_logits(prep: Prepared, firsts, p0: int, seconds, starts, batch_size: int = 4096) -> PairLogits:
    """Logits of the backgrounds, each motif alone and both, at every start of the second motif.

    The same numbers as scoring every arrangement with the full model (forward and
    reverse-complement mean, as :func:`motifq.grammar.logits`), up to float32 rounding.

    Parameters
    ----------
    prep : Prepared
        The backgrounds (N, L), from :func:`prepare`.
    firsts : list of (N, wF) uint8 arrays
        Instance sets of the first motif (0..3 = A, C, G, T, as written on the forward strand),
        one instance per background; each set is inserted at `p0`.
    p0 : int
        The first motif's start (bp, forward strand).
    seconds : list of (N, wS) uint8 arrays
        Instance sets of the second motif.
    starts : (n_starts,) int array
        The second motif's starts, each >= p0 + wF and <= L - wS.
    batch_size : int
        At most this many sequences (G x N, at least N) per group scored together. Default is 4096.

    Returns
    -------
    PairLogits
    """
    starts = [int(q) for q in starts]

    def strand(k):
        with torch.inference_mode():                       # (per thread)
            return _strand(prep, k, firsts, p0, seconds, starts, batch_size)

    parts = _two_ways(strand)

    def mean(a, b):
        return ((a.double() + b.double()) / 2).cpu().numpy()

    (e0, f0, s0, b0), (e1, f1, s1, b1) = parts
    return PairLogits(mean(e0, e1), [mean(a, b) for a, b in zip(f0, f1)], [mean(a, b) for a, b in zip(s0, s1)],
                      {key: mean(b0[key], b1[key]) for key in b0})


def _two_ways(fn) -> list:
    """[fn(0), fn(1)]: one after the other on torch's threads, or, when torch has two or more CPU
    threads, side by side on two Python threads with half of torch's threads each (many small
    operations run better that way than each split across threads); torch's setting is restored."""
    threads = torch.get_num_threads()
    if threads < 2:
        return [fn(0), fn(1)]
    from concurrent.futures import ThreadPoolExecutor

    torch.set_num_threads(threads // 2)
    try:
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(fn, (0, 1)))
    finally:
        torch.set_num_threads(threads)


def _strand(prep: Prepared, k: int, firsts, p0: int, seconds, starts, batch_size: int):
    """:func:`pair_logits` on strand k (0 forward, 1 reverse complement): float32 tensors
    (empty (N, T), first [(N, T)], second [(n_starts, N, T)], both {(i, j): (n_starts, N, T)})."""
    net, tokens, bg, length = prep.net, prep.tokens[k], prep.scored[k], prep.length
    n = tokens.shape[0]

    def site(x):                                           # (N, w) instances on strand k
        t = torch.from_numpy(np.ascontiguousarray(x)).to(tokens.device).long()
        return t if k == 0 else reverse_complement_tokens(t)

    def place(s, w):                                       # start on strand k
        return s if k == 0 else length - s - w

    fixed = [_single(net, bg, tokens, site(f), [place(p0, f.shape[1])], prep.toeplitz) for f in firsts]
    second = [bg.logits.new_empty(len(starts), n, bg.logits.shape[2]) for _ in seconds]
    both = {(i, j): torch.empty_like(second[j]) for i in range(len(firsts)) for j in range(len(seconds))}
    for j, x in enumerate(seconds):
        sites = site(x)
        pos = [place(q, x.shape[1]) for q in starts]
        for a, b in _groups(net, pos, x.shape[1], max(1, batch_size // n)):
            moving = _single(net, bg, tokens, sites, pos[a:b], prep.toeplitz)
            second[j][a:b] = moving.logits.expand(b - a, -1, -1)
            for i, fx in enumerate(fixed):
                pair = _pair(net, bg, *((fx, moving) if k == 0 else (moving, fx)))
                both[(i, j)][a:b] = pair.logits.expand(b - a, -1, -1)
    return bg.logits[0], [fx.logits[0] for fx in fixed], second, both


def _groups(net: _Net, pos, width: int, most: int):
    """(a, b) ranges of consecutive `pos` that change the same cells, at most `most` long."""
    key = [cells_changed(p, width, net.width, net.pool, net.steps) for p in pos]
    out, a = [], 0
    for _, run in groupby(range(len(pos)), key=lambda i: key[i]):
        b = a + len(list(run))
        out += [(s, min(s + most, b)) for s in range(a, b, most)]
        a = b
    return out

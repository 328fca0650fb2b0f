"""Which bases drive a prediction: in-silico mutagenesis (ISM) and gradient attributions of one
target's logit; seqlets (high-attribution windows) grouped into motifs.

What is attributed
------------------
Every method attributes the **reverse-complement mean logit** of one target,
``f(x) = (logit_t(x) + logit_t(rc(x))) / 2`` — the quantity motifq's predictions average — so a
sequence and its reverse complement get mirrored attributions. Attributions are (N, 4, L)
float32 with channels in **A, C, G, T** order.

Methods (:data:`METHODS`)
-------------------------
``ism``
    Exact saturation mutagenesis: every single-base substitution of every sequence (3 L mutants,
    4 at an ``N``), its effect on ``f``. Stored **mean-centred** at each position,
    ``a[b, i] = d[b, i] - mean_b' d[b', i]`` with ``d[b, i] = f(x with base b at i) - f(x)``
    (so ``d`` is 0 at the reference base). Why: the value at the observed base is then how much
    that base raises ``f`` against the average base — the number a logo shows and the
    "hypothetical contributions" TF-MoDISco reads — and it is tangermeme's
    ``saturation_mutagenesis`` convention (``hypothetical=True``), which the benchmark matches
    to 1e-5. Nothing is lost: ``d[b, i] = a[b, i] - a[ref_i, i]``. For DanQ models (and the
    ``cnn``) only the convolution windows a substitution touches are recomputed and pooled
    (exact, see :func:`ism`); the BiLSTM and dense layers run on every mutant.
``saliency``
    The gradient of ``f`` with respect to the one-hot input, mean-centred over the four bases at
    each position (the gradient's component off the one-hot simplex says nothing about any
    sequence; Majdandzic et al. 2023). All four bases are meaningful: a first-order estimate of
    the ISM values.
``input-x-gradient``
    ``x * (mean-centred gradient)``: non-zero at the observed base only.
``integrated-gradients``
    Sundararajan et al. 2017, from the all-``N`` baseline (every column 0.25, reverse-complement
    symmetric) along the straight path, Gauss-Legendre quadrature with `steps` points. The
    per-position total ``sum_b (x - x')[b, i] * mean_grad[b, i]`` is stored at the observed base
    (zero elsewhere); the totals sum to ``f(x) - f(x')`` (completeness) up to the quadrature error.

No DeepLIFT or DeepLIFT-SHAP is offered: their rescale rules have no accepted form for the
LSTM's multiplicative gates. Gradients run through the BiLSTM on a GPU as well: cuDNN refuses the
RNN backward pass in eval mode, so the backward pass runs with cuDNN switched off (the model stays
in eval mode, dropout off).

Per-position contributions (:func:`contributions`) are the attribution at each position's
observed base (0 at ``N``): for ``ism`` and ``saliency`` the observed base of the mean-centred
values, for the other two the stored values.

Seqlets and motifs: see :func:`find_seqlets` and :func:`discover`.

The attributions file (:func:`save_attributions`, :func:`read_attributions`) is an ``.npz``
(no pickles) with keys :data:`NPZ_KEYS`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .errors import MotifqError, atomic_path, check, check_file
from .sequence import N_TOKEN, reverse_complement_tokens

__all__ = ["METHODS", "NPZ_FORMAT", "NPZ_KEYS", "Attributions", "Seqlets", "attribute", "ism", "gradients",
           "integrated_gradients", "contributions", "resolve_target", "save_attributions", "read_attributions",
           "find_seqlets", "group_seqlets", "discover", "write_seqlets", "load_sequences"]

#: The attribution methods, in the order the CLI lists them.
METHODS = ("ism", "saliency", "input-x-gradient", "integrated-gradients")
#: The ``format`` entry of an attributions file.
NPZ_FORMAT = "motifq-attributions"
NPZ_VERSION = 1
#: Keys of an attributions file.
NPZ_KEYS = ("format", "version", "tokens", "attributions", "logits", "names", "target", "target_index", "method",
            "model_kind", "alphabet")


class Attributions(NamedTuple):
    """Attributions of one target over N sequences of length L.

    Attributes
    ----------
    tokens : (N, L) uint8
        0..3 = A, C, G, T; 4 = N.
    attributions : (N, 4, L) float32
        A, C, G, T (see the module notes for what each method stores).
    logits : (N,) float32
        The attributed quantity ``f``: the target's reverse-complement mean logit.
    names : (N,) str
        Sequence names.
    target : str
        Target name.
    target_index : int
        Its index among the model's outputs.
    method : str
        One of :data:`METHODS`.
    model_kind : str
        The model's kind (``danq``, ``cnn``, ...).
    """

    tokens: np.ndarray
    attributions: np.ndarray
    logits: np.ndarray
    names: np.ndarray
    target: str
    target_index: int
    method: str
    model_kind: str


# ---------------------------------------------------------------------------------------------
# targets and methods
# ---------------------------------------------------------------------------------------------
def resolve_target(target, names) -> int:
    """The output index of `target`, given by name or by index.

    Parameters
    ----------
    target : str or int
        A target name, or its 0-based index (as an int or a string of digits).
    names : list of str
        The model's target names, in output order.

    Returns
    -------
    int
    """
    names = list(names)
    if isinstance(target, str) and target in names:
        return names.index(target)
    if str(target).isdigit() and int(target) < len(names):
        return int(target)
    raise MotifqError(f"target: no target {target!r} in the model ({len(names)} targets"
                      + (f", e.g. {names[0]!r})" if names else ")"))


def _device_of(model):
    p = next(iter(model.parameters()), None)
    import torch

    return p.device if p is not None else torch.device("cpu")


def _is_danq(model) -> bool:
    """A DanQ-shaped model (conv -> pool -> [BiLSTM] -> dense -> out) whose ISM can reuse the
    reference convolution."""
    import torch.nn as nn

    if not all(hasattr(model, a) for a in ("conv", "pool", "drop1", "drop2", "dense", "out", "lstm")):
        return False
    conv, pool = model.conv, model.pool
    plain_conv = isinstance(conv, nn.Conv1d) and conv.in_channels == 4 and conv.stride == (1,) \
        and conv.padding == (0,) and conv.dilation == (1,) and conv.groups == 1
    k = pool.kernel_size if isinstance(pool, nn.MaxPool1d) else None
    plain_pool = k is not None and pool.stride == k and pool.padding == 0 and pool.dilation == 1 \
        and not pool.ceil_mode
    return plain_conv and plain_pool


# ---------------------------------------------------------------------------------------------
# ISM
# ---------------------------------------------------------------------------------------------
def _mutants(tokens):
    """Every single substitution of each sequence: (seq, pos, base) int64 arrays, 3 per known
    position (the other bases) and 4 at an N, ordered by sequence, then position, then base."""
    base = np.arange(4)[None, None, :]
    keep = base != tokens[:, :, None]                                 # (N, L, 4); all True at N
    seq, pos, b = np.nonzero(keep)
    return seq.astype(np.int64), pos.astype(np.int64), b.astype(np.int64)


def _danq_tail(model, pooled, target):
    """DanQ after the max-pool: ReLU -> BiLSTM -> dense -> the target's logit.
    pooled (M, K, S) pre-ReLU -> (M,)."""
    import torch.nn.functional as F

    h = F.relu(pooled).transpose(1, 2)                                # (M, S, K)
    if model.lstm is not None:
        h, _ = model.lstm(h.contiguous())                             # (M, S, 2U)
    h = F.relu(model.dense(h.flatten(1)))                             # (M, D)
    return model.out(h)[:, target]                                    # (M,)


class _DanqReference(NamedTuple):
    conv: object        # (G, K, L') reference convolution (bias included)
    pooled: object      # (G, K, S) reference max-pool, pre-ReLU
    tokens: object      # (G, L) long tokens, 0..3 = A, C, G, T; 4 = N


def _danq_reference(model, x, tokens):
    conv = model.conv(x)                                             # (G, K, L')
    pooled = model.pool(conv)                                        # (G, K, S)
    return _DanqReference(conv, pooled, tokens.long())


def _danq_mutant_logits(model, ref, seq, pos, base, target):
    """Logits of mutants (seq, pos, base) (M,) of the sequences in `ref`, recomputing only the
    convolution columns p - w + 1 .. p and the pooled steps they fall in."""
    import torch

    conv, pooled = ref.conv, ref.pooled
    K = conv.shape[1]
    S = pooled.shape[2]
    w = model.conv.kernel_size[0]
    pool = model.pool.kernel_size
    nb = min(S, (w - 1) // pool + 2)                                  # pooled steps a substitution can touch
    M = len(seq)
    first = torch.clamp(pos - w + 1, min=0) // pool                   # first touched step
    sb = torch.clamp(torch.minimum(first, torch.full_like(first, S - nb)), min=0)   # block start step (M,)
    cols = sb[:, None] * pool + torch.arange(nb * pool, device=conv.device)        # (M, nb*pool)
    block = conv[seq[:, None, None], torch.arange(K, device=conv.device)[None, :, None], cols[:, None, :]]
    k = torch.arange(w, device=conv.device)
    j = pos[:, None] - k[None, :]                                     # (M, w) conv columns touched
    rel = j - sb[:, None] * pool
    ok = (j >= 0) & (rel >= 0) & (rel < nb * pool)
    W = model.conv.weight                                            # (K, 4, w)
    W5 = torch.cat([W, W.mean(1, keepdim=True)], 1)                  # (K, 5, w): an N is 0.25 of each base
    delta = (W5[:, base, :] - W5[:, ref.tokens[seq, pos], :]).permute(1, 0, 2)    # (M, K, w)
    delta = delta * ok[:, None, :]
    block = block.scatter_add(2, rel.clamp(0, nb * pool - 1)[:, None, :].expand(M, K, w), delta)
    new = model.pool(block)                                           # (M, K, nb)
    out = pooled[seq].clone()                                         # (M, K, S)
    out.scatter_(2, (sb[:, None] + torch.arange(nb, device=conv.device))[:, None, :].expand(M, K, nb), new)
    return _danq_tail(model, out, target)


def _onehot(tokens, model):
    """(B, L) uint8 tokens -> (B, 4, L) one-hot A, C, G, T on the model's device, in its dtype."""
    import torch

    from .models import one_hot_tokens

    p = next(iter(model.parameters()), None)
    dtype = p.dtype if p is not None and p.is_floating_point() else torch.float32
    toks = np.array(tokens, dtype=np.uint8, order="C")     # a writable copy: tokens may be a read-only memory map
    return one_hot_tokens(torch.as_tensor(toks, device=_device_of(model)), dtype)


def _generic_mutant_logits(model, x, seq, pos, base, target):
    """Logits of mutants (seq, pos, base) built in full and run through the whole model."""
    import torch

    xm = x[seq].clone()                                               # (M, 4, L)
    m = torch.arange(len(seq), device=x.device)
    xm[m, :, pos] = 0.0
    xm[m, base, pos] = 1.0
    return model(xm)[:, target]


def _ism_strand(model, tokens, target, batch_size, bar):
    """Mean-centred ISM of one strand: tokens (N, L) -> (N, 4, L) float32 and the logits (N,)."""
    import torch

    n, L = tokens.shape
    device = _device_of(model)
    fast = _is_danq(model)
    per_seq = 3 * L
    group = max(1, batch_size // per_seq)
    start, done = (bar.n if bar is not None else 0), 0
    delta = np.zeros((n, 4, L), dtype=np.float64)
    logits = np.empty(n, dtype=np.float64)
    for g0 in range(0, n, group):
        toks = tokens[g0:g0 + group]
        x = _onehot(toks, model)                                     # (G, 4, L)
        if fast:
            ref = _danq_reference(model, x, torch.as_tensor(toks, device=device))
            y0 = _danq_tail(model, ref.pooled, target)                # (G,)
        else:
            y0 = model(x)[:, target]
        seq, pos, base = _mutants(toks)
        for m0 in range(0, len(seq), batch_size):
            s, p, b = (torch.as_tensor(a[m0:m0 + batch_size], device=device) for a in (seq, pos, base))
            y = (_danq_mutant_logits(model, ref, s, p, b, target) if fast
                 else _generic_mutant_logits(model, x, s, p, b, target))
            d = (y - y0[s]).double().cpu().numpy()
            delta[g0 + seq[m0:m0 + batch_size], base[m0:m0 + batch_size], pos[m0:m0 + batch_size]] = d
            done += len(d)
            if bar is not None:                  # set, not added: fractions summed drift past the total
                bar.n = min(start + done / per_seq, bar.total)
                bar.update(0)
        logits[g0:g0 + len(toks)] = y0.double().cpu().numpy()
    delta -= delta.mean(axis=1, keepdims=True)
    return delta, logits


def _rc_attr(a):
    """Map attributions of the reverse-complement strand back onto the forward strand:
    (N, 4, L) -> (N, 4, L) (channels and positions flipped: A<->T, C<->G)."""
    return a[:, ::-1, ::-1]


def ism(model, tokens, target: int, rc: bool = True, batch_size: int = 1024, progress: bool = False):
    """Exact in-silico saturation mutagenesis of one target's logit.

    Every single substitution of every sequence is scored (3 L mutants per sequence, 4 at an
    ``N``), in batches of `batch_size` mutants, on the model's device. For DanQ-shaped models
    (``danq``, ``danq-jaspar``, ``cnn``) a substitution at position ``p`` changes only the
    convolution columns ``p - w + 1 .. p``: those are updated from the reference convolution
    (``+ W[:, b, k] - W[:, ref, k]``), max-pooled again over the pooled steps they fall in, and
    the BiLSTM and dense layers run on every mutant — the same numbers as running each mutant
    through the whole model, up to float rounding. Other models run every mutant in full.

    Parameters
    ----------
    model : torch.nn.Module
        A motifq model (returns logits), in eval mode, on its device.
    tokens : (N, L) uint8 array
        0..3 = A, C, G, T; 4 = N.
    target : int
        The output to attribute.
    rc : bool
        Attribute the mean of the forward and reverse-complement logits (the second strand's
        mutagenesis mapped back). Default is True.
    batch_size : int
        Mutants per forward pass. Default is 1024.
    progress : bool
        Show a progress bar (sequences). Default is False.

    Returns
    -------
    attributions : (N, 4, L) float32
        Mean-centred effects on the logit, A, C, G, T (module notes).
    logits : (N,) float32
        The reference logits (reverse-complement mean when `rc`).
    """
    import torch

    check(batch_size >= 1, f"batch-size: must be >= 1, got {batch_size}")
    tokens = np.ascontiguousarray(tokens, dtype=np.uint8)
    strands = (tokens, reverse_complement_tokens(tokens)) if rc else (tokens,)
    bar = _bar(len(tokens) * len(strands), progress, "ism")
    outs = []
    with torch.no_grad(), bar:
        for i, t in enumerate(strands):
            a, y = _ism_strand(model, t, target, batch_size, bar if progress else None)
            outs.append((_rc_attr(a) if i else a, y))
    attr = sum(a for a, _ in outs) / len(outs)
    logits = sum(y for _, y in outs) / len(outs)
    return np.ascontiguousarray(attr, dtype=np.float32), logits.astype(np.float32)


def _bar(total, enabled, desc):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="seq", dynamic_ncols=True)


# ---------------------------------------------------------------------------------------------
# gradients
# ---------------------------------------------------------------------------------------------
def _target_grad(model, x, target):
    """d logit_target / d x for x (B, 4, L) float -> (gradient (B, 4, L), logits (B,)).

    cuDNN's RNN refuses a backward pass in eval mode, so the pass runs with cuDNN off (the native
    kernels; the model stays in eval mode)."""
    import torch

    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad(), torch.backends.cudnn.flags(enabled=False):
        y = model(x)[:, target]
        (g,) = torch.autograd.grad(y.sum(), x)
    return g.detach(), y.detach()


def _strand_grad(model, x, target, rc):
    """Gradient of the (reverse-complement mean) logit: x (B, 4, L) -> ((B, 4, L), (B,))."""
    g, y = _target_grad(model, x, target)
    if rc:
        g2, y2 = _target_grad(model, x.flip(1).flip(2), target)
        g, y = (g + g2.flip(1).flip(2)) / 2, (y + y2) / 2
    return g, y


def gradients(model, tokens, target: int, method: str = "saliency", rc: bool = True, batch_size: int = 256,
              progress: bool = False):
    """Saliency or input x gradient of one target's logit (module notes).

    Parameters
    ----------
    model : torch.nn.Module
        A motifq model (returns logits), in eval mode, on its device.
    tokens : (N, L) uint8 array
        0..3 = A, C, G, T; 4 = N.
    target : int
        The output to attribute.
    method : str
        ``saliency`` (mean-centred gradient, all four bases) or ``input-x-gradient``
        (``x * `` that, the observed base only). Default is ``saliency``.
    rc : bool
        Attribute the forward and reverse-complement mean logit. Default is True.
    batch_size : int
        Sequences per backward pass. Default is 256.
    progress : bool
        Show a progress bar. Default is False.

    Returns
    -------
    attributions : (N, 4, L) float32
        A, C, G, T.
    logits : (N,) float32
    """
    check(method in ("saliency", "input-x-gradient"), f"method: {method!r} is not saliency or input-x-gradient")
    check(batch_size >= 1, f"batch-size: must be >= 1, got {batch_size}")
    tokens = np.ascontiguousarray(tokens, dtype=np.uint8)
    attr = np.empty((len(tokens), 4, tokens.shape[1]), dtype=np.float32)
    logits = np.empty(len(tokens), dtype=np.float32)
    with _bar(len(tokens), progress, method) as bar:
        for s in range(0, len(tokens), batch_size):
            x = _onehot(tokens[s:s + batch_size], model)
            g, y = _strand_grad(model, x, target, rc)
            g = g - g.mean(1, keepdim=True)
            if method == "input-x-gradient":
                g = g * x
            attr[s:s + len(x)] = g.cpu().numpy()
            logits[s:s + len(x)] = y.cpu().numpy()
            bar.update(len(x))
    return attr, logits


def integrated_gradients(model, tokens, target: int, steps: int = 32, rc: bool = True, batch_size: int = 16,
                         progress: bool = False):
    """Integrated gradients of one target's logit from the all-``N`` baseline (module notes).

    Parameters
    ----------
    model : torch.nn.Module
        A motifq model (returns logits), in eval mode, on its device.
    tokens : (N, L) uint8 array
        0..3 = A, C, G, T; 4 = N.
    target : int
        The output to attribute.
    steps : int
        Gauss-Legendre points on the path. Default is 32.
    rc : bool
        Attribute the forward and reverse-complement mean logit. Default is True.
    batch_size : int
        Sequences per pass (each runs `steps` path points). Default is 16.
    progress : bool
        Show a progress bar. Default is False.

    Returns
    -------
    attributions : (N, 4, L) float32
        A, C, G, T; each position's total at its observed base, 0 elsewhere. Their sum over
        bases and positions is ``f(x) - f(baseline)`` up to the quadrature error.
    logits : (N,) float32
        ``f(x)``.
    """
    import torch

    check(steps >= 1, f"steps: must be >= 1, got {steps}")
    check(batch_size >= 1, f"batch-size: must be >= 1, got {batch_size}")
    tokens = np.ascontiguousarray(tokens, dtype=np.uint8)
    device = _device_of(model)
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    dtype = _onehot(tokens[:1], model).dtype
    alphas = torch.tensor((nodes + 1) / 2, dtype=dtype, device=device)              # (P,) in (0, 1)
    wts = torch.tensor(weights / 2, dtype=dtype, device=device)                     # (P,) sum 1
    n, L = tokens.shape
    attr = np.zeros((n, 4, L), dtype=np.float32)
    logits = np.empty(n, dtype=np.float32)
    with _bar(n, progress, "integrated-gradients") as bar:
        for s in range(0, n, batch_size):
            x = _onehot(tokens[s:s + batch_size], model)                             # (B, 4, L)
            base = torch.full_like(x, 0.25)
            path = base[None] + alphas[:, None, None, None] * (x - base)[None]        # (P, B, 4, L)
            g, _ = _strand_grad(model, path.flatten(0, 1), target, rc)
            g = (g.view(len(alphas), *x.shape) * wts[:, None, None, None]).sum(0)     # (B, 4, L)
            total = ((x - base) * g).sum(1)                                           # (B, L)
            known = torch.as_tensor(tokens[s:s + batch_size] < N_TOKEN, device=device)
            attr[s:s + len(x)] = (total[:, None, :] * (x * known[:, None, :])).cpu().numpy()
            _, y = _strand_grad(model, x, target, rc)
            logits[s:s + len(x)] = y.cpu().numpy()
            bar.update(len(x))
    return attr, logits


def attribute(model, tokens, target: int, method: str = "ism", rc: bool = True, batch_size: int | None = None,
              steps: int = 32, progress: bool = False):
    """Attributions of one target's logit by any of :data:`METHODS`.

    Parameters
    ----------
    model : torch.nn.Module
        A motifq model (returns logits), in eval mode, on its device.
    tokens : (N, L) uint8 array
        0..3 = A, C, G, T; 4 = N.
    target : int
        The output to attribute.
    method : str
        One of :data:`METHODS`. Default is ``ism``.
    rc : bool
        Attribute the forward and reverse-complement mean logit. Default is True.
    batch_size : int or None
        Mutants (``ism``) or sequences per pass. Default is None: each method's default.
    steps : int
        ``integrated-gradients`` only: points on the path. Default is 32.
    progress : bool
        Show a progress bar. Default is False.

    Returns
    -------
    attributions : (N, 4, L) float32
        A, C, G, T.
    logits : (N,) float32
    """
    check(method in METHODS, f"method: {method!r} is not one of {', '.join(METHODS)}")
    kw = {} if batch_size is None else {"batch_size": batch_size}
    if method == "ism":
        return ism(model, tokens, target, rc=rc, progress=progress, **kw)
    if method == "integrated-gradients":
        return integrated_gradients(model, tokens, target, steps=steps, rc=rc, progress=progress, **kw)
    return gradients(model, tokens, target, method=method, rc=rc, progress=progress, **kw)


def contributions(attributions, tokens) -> np.ndarray:
    """Each position's contribution: the attribution at its observed base (0 at ``N``).

    Parameters
    ----------
    attributions : (N, 4, L) float array
        A, C, G, T.
    tokens : (N, L) uint8 array
        0..3 = A, C, G, T; 4 = N.

    Returns
    -------
    numpy.ndarray
        (N, L) float32.
    """
    a = np.asarray(attributions)
    t = np.asarray(tokens).astype(np.int64)
    known = t < N_TOKEN
    out = np.take_along_axis(a, np.minimum(t, 3)[:, None, :], axis=1)[:, 0, :]
    return np.where(known, out, 0.0).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# the attributions file
# ---------------------------------------------------------------------------------------------
def save_attributions(path, result: Attributions) -> Path:
    """Write an attributions ``.npz`` atomically (keys :data:`NPZ_KEYS`, no pickled objects).

    Parameters
    ----------
    path : str or os.PathLike
    result : Attributions

    Returns
    -------
    pathlib.Path
    """
    arrays = {"format": np.array(NPZ_FORMAT), "version": np.array(NPZ_VERSION),
              "tokens": np.ascontiguousarray(result.tokens, dtype=np.uint8),
              "attributions": np.ascontiguousarray(result.attributions, dtype=np.float32),
              "logits": np.asarray(result.logits, dtype=np.float32),
              "names": np.asarray([str(n) for n in result.names], dtype=str),
              "target": np.array(str(result.target)), "target_index": np.array(int(result.target_index)),
              "method": np.array(result.method), "model_kind": np.array(str(result.model_kind)),
              "alphabet": np.array("ACGT")}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return Path(path)


def _npz_arrays(p: Path) -> dict:
    """Every array of the .npz `p`: never a pickled object, and not more bytes than the machine has."""
    import zipfile

    try:
        with zipfile.ZipFile(p) as zf:
            size = sum(i.file_size for i in zf.infolist())
        check(size <= _physical_memory(), f"{p}: holds {size:,} bytes uncompressed, more than this machine's memory")
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MotifqError(f"{p}: not a motifq attributions file ({why[:160]})") from None


def _physical_memory() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):   # not POSIX: no cap
        return float("inf")


def _scalar(z: dict, key: str, p: Path, integer: bool = False):
    """The single value `key` of an attributions file: a text (or an integer)."""
    v = z[key]
    ok = v.ndim == 0 and (v.dtype.kind in "iu" if integer else v.dtype.kind == "U")
    check(ok, f"{p}: {key} must be one {'integer' if integer else 'text'}, got {v.dtype} of shape {v.shape}")
    return int(v) if integer else str(v)


def read_attributions(path) -> Attributions:
    """Read and check an attributions file written by :func:`save_attributions`.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Attributions
    """
    p = check_file(path)
    z = _npz_arrays(p)
    fmt = z.get("format", np.array(""))
    check(fmt.ndim == 0 and fmt.dtype.kind == "U" and str(fmt) == NPZ_FORMAT,
          f"{p}: not a motifq attributions file (no format '{NPZ_FORMAT}' entry)")
    missing = [k for k in NPZ_KEYS if k not in z]
    check(not missing, f"{p}: attributions file is missing {', '.join(missing)}")
    version = _scalar(z, "version", p, integer=True)
    check(version == NPZ_VERSION, f"{p}: attributions version {version} is not supported")
    target, method, kind, alphabet = (_scalar(z, k, p) for k in ("target", "method", "model_kind", "alphabet"))
    target_index = _scalar(z, "target_index", p, integer=True)
    check(target_index >= 0, f"{p}: target_index must be >= 0, got {target_index}")
    check(method in METHODS, f"{p}: unknown method {method!r}")
    check(alphabet == "ACGT", f"{p}: alphabet {alphabet!r}, expected 'ACGT'")
    t, a = z["tokens"], z["attributions"]
    check(t.ndim == 2 and t.dtype == np.uint8 and t.size > 0, f"{p}: tokens must be a non-empty (N, L) uint8 array")
    check(int(t.max()) <= N_TOKEN, f"{p}: tokens must be 0..4 (A, C, G, T, N)")
    n, L = t.shape
    check(a.shape == (n, 4, L) and a.dtype == np.float32, f"{p}: attributions must be (N, 4, L) = {(n, 4, L)} float32, "
                                                          f"got {a.shape} {a.dtype}")
    check(np.isfinite(a).all(), f"{p}: attributions hold NaN or infinite values")
    logits, names = z["logits"], z["names"]
    check(logits.shape == (n,) and names.shape == (n,), f"{p}: logits and names must have one entry per sequence")
    check(logits.dtype.kind == "f" and np.isfinite(logits).all(), f"{p}: logits must be finite numbers")
    check(names.dtype.kind == "U", f"{p}: names must be text, got {names.dtype}")
    return Attributions(t, a, logits, names, target, target_index, method, kind)


# ---------------------------------------------------------------------------------------------
# seqlets -> motifs
# ---------------------------------------------------------------------------------------------
class Seqlets(NamedTuple):
    """High-attribution windows (:func:`find_seqlets`), one entry per seqlet.

    Attributes
    ----------
    seq : (n,) int64
        Sequence index.
    start : (n,) int64
        First position of the window, 0-based (the window is ``start .. start + window - 1``,
        i.e. 0-based half-open ``[start, start + window)``).
    score : (n,) float64
        Window sum of contributions minus the null's centre; the sign says whether the window
        raises (+) or lowers (-) the prediction.
    window : int
        Window width.
    threshold : float
        The |score| cut the null gave.
    """

    seq: np.ndarray
    start: np.ndarray
    score: np.ndarray
    window: int
    threshold: float


def _window_sums(contrib, window):
    """(N, L) -> (N, L - window + 1): sum of each `window`-wide run."""
    c = np.cumsum(np.pad(contrib.astype(np.float64), ((0, 0), (1, 0))), axis=1)
    return c[:, window:] - c[:, :-window]


def _laplace_threshold(dev, fdr):
    """The |deviation| cut at which a Laplace null (scale from the median absolute deviation)
    expects at most `fdr` of the windows above it to be null; inf when no cut qualifies."""
    a = np.sort(np.abs(dev).ravel())[::-1]
    scale = np.median(a) / np.log(2)
    if scale <= 0:
        return float(a[0] / 2) if a[0] > 0 else np.inf
    k = np.arange(1, len(a) + 1)
    ok = len(a) * np.exp(-a / scale) / k <= fdr
    return float(a[np.flatnonzero(ok).max()]) if ok.any() else np.inf


def _non_overlapping(dev, thresh, window):
    """Greedy per sequence: take the window with the largest |dev| above `thresh`, drop every
    window overlapping it, repeat. -> (seq, start) arrays."""
    seqs, starts = [], []
    for i in np.flatnonzero((np.abs(dev) >= thresh).any(axis=1)):
        d = np.abs(dev[i]).copy()
        while True:
            j = int(np.argmax(d))
            if d[j] < thresh:
                break
            seqs.append(i)
            starts.append(j)
            d[max(0, j - window + 1):j + window] = -np.inf
    return np.asarray(seqs, dtype=np.int64), np.asarray(starts, dtype=np.int64)


def find_seqlets(contrib, window: int = 20, fdr: float = 0.05, threshold: float | None = None) -> Seqlets:
    """Seqlets: non-overlapping windows whose summed contribution stands out from a null.

    The rule (TF-MoDISco's, simplified): sum the per-position contributions over every
    `window`-wide run; centre the sums on their median; fit a Laplace null to them (scale =
    median absolute deviation / ln 2, robust to the few windows that hold motifs); the cut ``t``
    is the smallest |deviation| at which the null expects at most `fdr` of the windows beyond
    ``t`` (either sign) — ``n_windows * exp(-t / scale) <= fdr * #{|dev| >= t}``. Then, per
    sequence, greedily keep the window with the largest |deviation| above ``t`` and drop every
    window overlapping it, until none is left.

    Parameters
    ----------
    contrib : (N, L) float array
        Per-position contributions (:func:`contributions`).
    window : int
        Window width in bp. Default is 20.
    fdr : float
        The null's expected fraction of false windows beyond the cut. Default is 0.05.
    threshold : float or None
        A fixed |deviation| cut instead of the null's. Default is None.

    Returns
    -------
    Seqlets
    """
    contrib = np.asarray(contrib, dtype=np.float64)
    check(contrib.ndim == 2, f"contributions: must be (N, L), got shape {contrib.shape}")
    check(1 <= window <= contrib.shape[1], f"window: must be in 1..{contrib.shape[1]} (the sequence length), got {window}")
    check(0 < fdr < 1, f"fdr: must be in (0, 1), got {fdr}")
    sums = _window_sums(contrib, window)
    dev = sums - np.median(sums)
    t = _laplace_threshold(dev, fdr) if threshold is None else float(threshold)
    seq, start = _non_overlapping(dev, t, window) if np.isfinite(t) else (np.zeros(0, np.int64),) * 2
    return Seqlets(seq, start, dev[seq, start] if len(seq) else np.zeros(0), window, t)


def _seqlet_matrices(attributions, tokens, seqlets, flank):
    """The (n, 4, window + 2 flank) attribution matrices and tokens of each seqlet with `flank`
    extra columns on each side (zeros / N beyond the sequence ends)."""
    pad = flank
    a = np.pad(attributions, ((0, 0), (0, 0), (pad, pad)))
    t = np.pad(tokens, ((0, 0), (pad, pad)), constant_values=N_TOKEN)
    cols = seqlets.start[:, None] + np.arange(seqlets.window + 2 * flank)[None, :]     # padded coords
    mats = a[seqlets.seq[:, None, None], np.arange(4)[None, :, None], cols[:, None, :]]
    return mats.astype(np.float64), t[seqlets.seq[:, None], cols]


def _align(mats, template, shift):
    """Best alignment of each seqlet matrix to `template` (4, W): Pearson correlation over the
    4 W values at every offset 0..2 shift and both strands.
    mats (n, 4, W + 2 shift) -> similarity (n,), offset (n,), strand (n,) +1/-1."""
    W = template.shape[1]
    tz = template.ravel() - template.mean()
    tz = tz / (np.linalg.norm(tz) or 1.0)
    best = np.full(len(mats), -np.inf)
    off = np.zeros(len(mats), dtype=np.int64)
    strand = np.ones(len(mats), dtype=np.int64)
    for s, m in ((1, mats), (-1, mats[:, ::-1, ::-1])):
        for o in range(2 * shift + 1):
            x = m[:, :, o:o + W].reshape(len(m), -1)
            x = x - x.mean(1, keepdims=True)
            r = x @ tz / np.maximum(np.linalg.norm(x, axis=1), 1e-12)
            better = r > best
            best[better], off[better], strand[better] = r[better], o, s
    return best, off, strand


def _oriented(mats, off, strand, W):
    """The aligned (n, 4, W) windows of seqlet matrices (or (n, W) tokens) by offset and strand."""
    out = []
    for m, o, s in zip(mats, off, strand):
        if m.ndim == 2:
            m = m if s > 0 else m[::-1, ::-1]
            out.append(m[:, o:o + W])
        else:
            m = m if s > 0 else np.where(m[::-1] == N_TOKEN, N_TOKEN, 3 - m[::-1])
            out.append(m[o:o + W])
    return np.stack(out)


class _Group(NamedTuple):
    members: np.ndarray      # indices into the seqlets
    offset: np.ndarray       # their alignment offsets (columns into the flanked window)
    strand: np.ndarray       # +1 / -1
    template: np.ndarray     # (4, W) mean aligned attribution matrix


def _grow_group(mats, pool, seed, shift, min_similarity, rounds: int = 3):
    """Seed a template with one seqlet, align the pool to it, average the members, repeat."""
    W = mats.shape[2] - 2 * shift
    template = mats[seed, :, shift:shift + W]
    for _ in range(rounds):
        sim, off, strand = _align(mats[pool], template, shift)
        keep = sim >= min_similarity
        keep[pool == seed] = True
        members, off, strand = pool[keep], off[keep], strand[keep]
        template = _oriented(mats[members], off, strand, W).mean(0)
    return _Group(members, off, strand, template)


def group_seqlets(attributions, tokens, seqlets: Seqlets, shift: int = 5, min_similarity: float = 0.6,
                  min_seqlets: int = 20, max_motifs: int = 40) -> list:
    """Group seqlets into motifs by aligning their attribution matrices (greedy seed and grow).

    Positive and negative seqlets are grouped apart. Within a sign, the seqlet with the largest
    |score| not yet grouped seeds a template (its (4, window) attribution matrix); every
    ungrouped seqlet is aligned to the template (best Pearson correlation of the 4 x window
    values over shifts of up to `shift` bp and both strands); those with correlation
    >= `min_similarity` join, the template becomes their mean aligned matrix, and the
    alignment is repeated (three rounds). A group with at least `min_seqlets` members is a
    motif; its seqlets leave the pool either way.

    Parameters
    ----------
    attributions : (N, 4, L) float array
        A, C, G, T.
    tokens : (N, L) uint8 array
        0..3 = A, C, G, T; 4 = N.
    seqlets : Seqlets
    shift : int
        Largest shift in bp either way when aligning. Default is 5.
    min_similarity : float
        Least Pearson correlation with the template to join. Default is 0.6.
    min_seqlets : int
        Fewest seqlets in a motif. Default is 20.
    max_motifs : int
        Most motifs per sign. Default is 40.

    Returns
    -------
    list of tuple
        ``(sign, group)`` per motif, largest first within a sign: ``sign`` +1/-1; ``group`` has
        ``members`` (m,) seqlet indices, ``offset`` (m,) the aligned window's first column
        counted from ``start - shift`` on the seqlet's strand, ``strand`` (m,) +1/-1 and
        ``template`` (4, window), the mean aligned attribution matrix (times ``sign``).
    """
    mats, _ = _seqlet_matrices(attributions, tokens, seqlets, shift)
    groups = []
    for sign in (1, -1):
        pool = np.flatnonzero(np.sign(seqlets.score) == sign)
        pool = pool[np.argsort(-np.abs(seqlets.score[pool]), kind="stable")]
        found, signed = [], mats * sign
        while len(pool) >= min_seqlets and len(found) < max_motifs:
            g = _grow_group(signed, pool, pool[0], shift, min_similarity)
            if len(g.members) >= min_seqlets:
                found.append((sign, g))
            pool = pool[~np.isin(pool, np.append(g.members, pool[0]))]
        groups.extend(sorted(found, key=lambda x: -len(x[1].members)))
    return groups


def _merge_groups(mats, groups, motifs, merge_evalue):
    """Merge groups of the same sign whose motifs match each other (Tomtom-like E < merge_evalue):
    the members of the smaller are re-aligned to the larger's template."""
    from .compare import compare

    if len(motifs) < 2:
        return groups
    shift = (mats.shape[2] - groups[0][1].template.shape[1]) // 2
    table = compare(motifs, motifs, min_overlap=5, thresh=merge_evalue, evalue=True)
    parent = list(range(len(groups)))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    ids = {m.id: i for i, m in enumerate(motifs)}
    for q, t in zip(table["Query_ID"], table["Target_ID"]):
        a, b = root(ids[q]), root(ids[t])
        if a != b and groups[a][0] == groups[b][0]:
            parent[max(a, b)] = min(a, b)      # groups are largest first within a sign
    out = []
    for i, (sign, g) in enumerate(groups):
        if root(i) != i:
            continue
        members = np.concatenate([groups[j][1].members for j in range(len(groups)) if root(j) == i])
        _, off, strand = _align(mats[members] * sign, g.template, shift)
        out.append((sign, _Group(members, off, strand, g.template)))
    return out


def _group_motif(tokens_wide, group, W, ext, ident, sign, trim):
    """Counts of a group's aligned seqlet sequences over the window widened by `ext` each side,
    trimmed to the columns with >= `trim` bits. -> (Motif, left columns trimmed, width)."""
    from .motif import Motif

    toks = _oriented(tokens_wide[group.members], group.offset, group.strand, W + 2 * ext)     # (m, W + 2 ext)
    counts = np.stack([(toks == b).sum(0) + 0.25 * (toks == N_TOKEN).sum(0) for b in range(4)], axis=1)
    full = Motif(ident, counts.astype(np.float64), name=f"{'pos' if sign > 0 else 'neg'}_seqlets={len(toks)}",
                 nsites=float(len(toks)), source="motifq discover")
    m, left, right = full.trim(trim)
    return m, left, W + 2 * ext - left - right


def _seqlet_rows(seqlets, group, motif_id, left, width, shift, ext):
    """Sequence coordinates (0-based half-open) of each member's trimmed motif window."""
    s = seqlets.start[group.members]
    fwd = s - shift - ext + group.offset + left
    rev = s + seqlets.window + shift + ext - group.offset - left - width
    start = np.where(group.strand > 0, fwd, rev)
    return [(int(seqlets.seq[i]), int(a), int(a + width), "+" if st > 0 else "-", motif_id, float(seqlets.score[i]))
            for i, a, st in zip(group.members, start, group.strand)]


def discover(result: Attributions, window: int = 20, fdr: float = 0.05, shift: int = 5, ext: int = 5,
             min_similarity: float = 0.6, min_seqlets: int = 20, max_motifs: int = 40, trim: float = 0.3,
             merge_evalue: float = 1e-3):
    """Seqlets -> motifs: :func:`find_seqlets`, :func:`group_seqlets`, merge groups whose motifs
    match each other, and count each group's aligned seqlet sequences.

    Parameters
    ----------
    result : Attributions
        From :func:`read_attributions` (or made in memory).
    window : int
        Seqlet width in bp. Default is 20.
    fdr : float
        The seqlet null's false-window fraction (:func:`find_seqlets`). Default is 0.05.
    shift : int
        Largest alignment shift in bp either way. Default is 5.
    ext : int
        Columns added on each side of the aligned window before counting (the motif may reach
        past the seqlet); edges below `trim` bits are then cut. Default is 5.
    min_similarity : float
        Least Pearson correlation with a group's template. Default is 0.6.
    min_seqlets : int
        Fewest seqlets in a motif. Default is 20.
    max_motifs : int
        Most motifs per sign. Default is 40.
    trim : float
        Edge columns with less information (bits) are cut. Default is 0.3.
    merge_evalue : float
        Groups of the same sign whose motifs match at a Tomtom-like E-value below this are
        merged. Default is 0.001.

    Returns
    -------
    motifs : list of Motif
        ``pos_<k>`` (seqlets raising the prediction) and ``neg_<k>`` (lowering it): (w, 4)
        counts, A, C, G, T, nsites = seqlets.
    rows : list of tuple
        One per seqlet: ``(sequence index, start, end, strand, motif id, score)``; start/end
        0-based half-open on the forward strand (the motif's trimmed columns; clipped to the
        sequence), strand ``+``/``-`` = the motif reads 5'->3' on that strand; seqlets in no
        motif have motif ``-``, strand ``.`` and their window as start/end.
    seqlets : Seqlets
    """
    check(window <= result.tokens.shape[1], f"window: {window} is longer than the sequences ({result.tokens.shape[1]} bp)")
    check(shift >= 0 and ext >= 0, "shift, ext: must be >= 0")
    check(min_seqlets >= 1, f"min-seqlets: must be >= 1, got {min_seqlets}")
    tokens, attr = result.tokens, result.attributions
    seqlets = find_seqlets(contributions(attr, tokens), window=window, fdr=fdr)
    if len(seqlets.seq) == 0:
        return [], [], seqlets
    groups = group_seqlets(attr, tokens, seqlets, shift, min_similarity, min_seqlets, max_motifs)
    mats, _ = _seqlet_matrices(attr, tokens, seqlets, shift)
    _, wide = _seqlet_matrices(attr, tokens, seqlets, shift + ext)
    W, L = seqlets.window, tokens.shape[1]
    draft = [_group_motif(wide, g, W, ext, f"g{i}", s, trim)[0] for i, (s, g) in enumerate(groups)]
    groups = _merge_groups(mats, groups, draft, merge_evalue)
    motifs, rows, grouped = [], [], np.zeros(len(seqlets.seq), dtype=bool)
    count = {1: 0, -1: 0}
    for sign, g in sorted(groups, key=lambda x: (-x[0], -len(x[1].members))):
        count[sign] += 1
        ident = f"{'pos' if sign > 0 else 'neg'}_{count[sign]}"
        m, left, width = _group_motif(wide, g, W, ext, ident, sign, trim)
        motifs.append(m)
        rows += _seqlet_rows(seqlets, g, ident, left, width, shift, ext)
        grouped[g.members] = True
    rows = [(q, max(0, a), min(L, b), st, mid, sc) for q, a, b, st, mid, sc in rows]
    rows += [(int(seqlets.seq[i]), int(seqlets.start[i]), int(seqlets.start[i] + W), ".", "-", float(seqlets.score[i]))
             for i in np.flatnonzero(~grouped)]
    return motifs, sorted(rows, key=lambda r: (r[0], r[1])), seqlets


def write_seqlets(path, rows, names=None) -> Path:
    """Write seqlets as a TSV (atomically): ``sequence start end strand motif score``.

    Coordinates are 0-based half-open on the forward strand (BED's convention), as the header
    comment line says.

    Parameters
    ----------
    path : str or os.PathLike
    rows : list of tuple
        From :func:`discover`.
    names : sequence of str or None
        Sequence names by index. Default is None: the index.

    Returns
    -------
    pathlib.Path
    """
    from .errors import atomic_write

    with atomic_write(path) as fh:
        fh.write("# start, end: 0-based half-open on the forward strand; strand: the motif's orientation\n")
        fh.write("sequence\tstart\tend\tstrand\tmotif\tscore\n")
        for q, a, b, st, mid, sc in rows:
            fh.write(f"{names[q] if names is not None else q}\t{a}\t{b}\t{st}\t{mid}\t{sc:.5g}\n")
    return Path(path)


def load_sequences(length: int, target_name: str, data=None, split: str = "test", fasta=None, labels=None,
                   targets=None, cache=None, positives: bool = False, max_seqs: int | None = None,
                   progress: bool = False):
    """The sequences ``motifq attribute`` reads: a FASTA file or a split of a data set, each
    `length` bp, optionally only the positives of `target_name`, at most `max_seqs` of them.

    Parameters
    ----------
    length : int
        The model's input length L; every sequence must have it.
    target_name : str
        The attributed target (the model's name for it).
    data, split, fasta, labels, targets, cache
        As :func:`motifq.data.open_data`; a `fasta` without `labels` and `data` is read as plain
        sequences. Defaults are None, ``test``, None, None, None, None.
    positives : bool
        Only sequences the data labels 1 for `target_name` (needs labels). Default is False.
    max_seqs : int or None
        At most the first `max_seqs` sequences (after `positives`). Default is None: all.
    progress : bool
        A progress bar while a DeepSEA bundle is converted. Default is False.

    Returns
    -------
    tokens : (N, L) uint8 array
        A, C, G, T = 0..3, N = 4.
    names : (N,) str array
        FASTA record names, or the sequences' indices in the split.
    description : str
        What was read, e.g. ``"3 sequences (test split, 3 positives for CTCF)"``.
    """
    from .extract import select_sequences

    return select_sequences(data, split, fasta, labels, targets, cache, target_name if positives else None,
                            max_seqs, length=length, progress=progress)

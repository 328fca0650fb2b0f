"""First-layer convolution kernels -> sites -> position frequency matrices (DeepBind-style).

A kernel of width W is turned into a motif by running the first convolution layer (with its
bias, before any ReLU or pooling) over many sequences and counting the bases of the W-wide
windows where it fires:

* ``sequence`` mode (the DanQ authors' rule, DanQ issue #9): each sequence adds its single
  best-scoring window for each kernel if that activation is above 0.
* ``position`` mode (Basset's rule): every window whose activation is above
  ``threshold * max_k`` adds itself, where ``max_k`` is the kernel's largest activation over
  all the sequences (this needs a first pass over the data to find ``max_k``).

Windows that contain an N (token 4) are never counted: in ``sequence`` mode the best window
without an N is taken. Only the forward strand is scanned (as DeepBind and DanQ did). The
counts are (W, 4) in **A, C, G, T** order and each site adds one count to every column, so a
motif's columns all sum to its number of sites (``nsites``).

Everything is batched torch. The convolution is computed from a lookup table rather than by
multiplying one-hot windows: a kernel's activation on a window is the sum, over its W columns,
of the weight of the base in each column, so the columns are taken three at a time and each
run of three bases (a 3-mer, 64 possibilities) is looked up in a precomputed (64, K) table of
summed weights (:func:`_kmer_table`, bias folded into the first run). A window then costs
``ceil(W / 3)`` table rows added together (one ``torch.nn.functional.embedding_bag`` call per
batch) instead of ``4 * W`` multiply-adds; windows with an N take a ``-inf`` row. The best window
is a max/argmax over positions; windows are gathered by index arithmetic on the (B, L) token
tensor and counted with ``torch.bincount`` into a flat (K * W * 4) array; when many windows pass
(``position`` mode with weak kernels), the counts are instead one matrix product of the
(K, B * P) site mask and the (B * P, W * 4) one-hot windows.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .errors import check
from .motif import Motif

__all__ = ["KernelSites", "MODES", "kernel_sites", "sites_to_motifs", "extract_motifs", "seed_names",
           "pad_sequences", "load_tokens", "select_sequences"]

MODES = ("sequence", "position")


class KernelSites(NamedTuple):
    """What a pass over the data found for each kernel.

    Attributes
    ----------
    counts : (K, W, 4) float64
        Base counts of the windows each kernel fired on, A, C, G, T.
    nsites : (K,) int64
        Number of windows (sites) counted per kernel.
    max_activation : (K,) float64
        Largest activation (after the bias) of each kernel over all N-free windows; ``-inf``
        when no sequence had an N-free window.
    n_sequences : int
        Number of sequences scanned.
    mode : str
        ``sequence`` or ``position``.
    threshold : float
        The fraction of ``max_activation`` used in ``position`` mode (recorded in both).
    """

    counts: np.ndarray
    nsites: np.ndarray
    max_activation: np.ndarray
    n_sequences: int
    mode: str
    threshold: float


def _conv_parts(conv):
    """(K, 4, W) weight and (K,) bias tensors of a Conv1d (bias zeros when it has none)."""
    import torch

    weight = conv.weight.detach()
    check(weight.ndim == 3 and weight.shape[1] == 4,
          f"conv: expected a Conv1d with 4 input channels (A, C, G, T), got weight shape {tuple(weight.shape)}")
    for attr in ("stride", "dilation"):
        value = getattr(conv, attr, (1,))
        check(tuple(value) == (1,), f"conv: {attr} must be 1 to extract windows, got {tuple(value)}")
    check(getattr(conv, "groups", 1) == 1, "conv: groups must be 1")
    bias = conv.bias.detach() if getattr(conv, "bias", None) is not None else torch.zeros(weight.shape[0])
    return weight, bias


_GROUP = 3  # kernel columns per table lookup (4**3 = 64 rows per group)


def _kmer_table(weight, bias, group: int = _GROUP):
    """The kernels rewritten as a lookup table over g-mers.

    A kernel's activation on a one-hot window is the sum over its columns of the weight of the
    base in that column. Grouping the W columns into runs of `group` (the last run may be
    shorter), each run contributes one of ``4**group`` precomputed sums, so a window costs
    ``ceil(W / group)`` table rows added together instead of ``4 * W`` multiply-adds.

    Parameters
    ----------
    weight : (K, 4, W) tensor, input channels A, C, G, T.
    bias : (K,) tensor
        Added to the rows of the first run (every window takes exactly one of them).
    group : int
        Columns per run. Default is 3.

    Returns
    -------
    table : (R + 1, K) tensor
        Row ``offsets[j] + code`` holds, for each kernel, the summed weights of run ``j``
        (kernel columns ``starts[j] .. starts[j] + sizes[j] - 1``) for the bases whose code is
        ``code`` (base 4, first base most significant, A, C, G, T = 0..3). The last row is
        ``-inf``: a window that contains an N takes it instead of its first run's row.
    starts, sizes, offsets : list of int
        Each run's first kernel column, its number of columns, and its first row in `table`.
    """
    import torch

    K, _, W = weight.shape
    parts, starts, sizes, offsets = [], [], [], []
    row = 0
    for s in range(0, W, group):
        n = min(group, W - s)
        codes = torch.arange(4 ** n, device=weight.device)
        part = torch.zeros((4 ** n, K), dtype=weight.dtype, device=weight.device)
        for i in range(n):
            base = (codes // 4 ** (n - 1 - i)) % 4  # (4**n,) the i-th base of each code
            part += weight[:, base, s + i].T
        parts.append(part)
        starts.append(s)
        sizes.append(n)
        offsets.append(row)
        row += 4 ** n
    parts[0] += bias
    parts.append(torch.full((1, K), float("-inf"), dtype=weight.dtype, device=weight.device))
    return torch.cat(parts), starts, sizes, offsets


def _codes(tok, start, size, P):
    """(B, P) base-4 code of ``tok[:, p + start : p + start + size]`` for every window start p."""
    code = tok[:, start:start + P].clone()
    for i in range(1, size):
        code.mul_(4).add_(tok[:, start + i:start + i + P])
    return code


def _batch_activations(kmers, tok, W):
    """Activations (after the bias) of every kernel at every window of one batch.

    Parameters
    ----------
    kmers : tuple
        :func:`_kmer_table` of the (K, 4, W) kernels (A, C, G, T) and their bias.
    tok : (B, L) int32 tensor of tokens (0..3 = A, C, G, T; 4 = N).
    W : int
        Kernel width.

    Returns
    -------
    act : (B, P, K) tensor, P = L - W + 1: the activation of the window starting at p, ``-inf``
        where the window contains an N.
    """
    import torch
    import torch.nn.functional as F

    table, starts, sizes, offsets = kmers
    B, L = tok.shape
    P = L - W + 1
    t = tok.clamp(max=3)  # windows with an N take the -inf row below; any base will do here
    full = _codes(t, 0, sizes[0], L - sizes[0] + 1)  # (B, L - g + 1) codes of every g-mer
    index = torch.empty((B, P, len(starts)), dtype=tok.dtype, device=tok.device)
    for j, (s, n, o) in enumerate(zip(starts, sizes, offsets)):
        index[:, :, j] = (full[:, s:s + P] if n == sizes[0] else _codes(t, s, n, P)) + o
    csum = F.pad((tok == 4).to(torch.int32).cumsum(1), (1, 0))  # (B, L + 1) running count of Ns
    has_n = (csum[:, W:] - csum[:, :-W]) > 0  # (B, P)
    index[:, :, 0].masked_fill_(has_n, table.shape[0] - 1)
    # One fused gather-and-sum per window (a bag of ceil(W / g) table rows).
    return F.embedding_bag(index.view(B * P, -1), table, mode="sum").view(B, P, -1)


def _count_windows(tok, b, k, p, K, W):
    """Add the W-wide windows ``tok[b, p:p+W]`` of kernels ``k`` into a flat (K * W * 4) count.

    Parameters
    ----------
    tok : (B, L) int32 tensor of tokens, none of the windows contain 4 (N).
    b, k, p : (S,) int64 tensors: sequence in the batch, kernel, window start.
    K, W : int
        Number of kernels and their width.

    Returns
    -------
    (K * W * 4,) int64 tensor, index ``(k * W + w) * 4 + base``.
    """
    import torch

    cols = torch.arange(W, device=tok.device)
    bases = tok[b[:, None], p[:, None] + cols]  # (S, W)
    index = (k[:, None] * W + cols) * 4 + bases  # (S, W)
    return torch.bincount(index.reshape(-1), minlength=K * W * 4)


def _count_dense(tok, hit, W):
    """Window base counts for many sites at once, as one matrix product.

    ``counts[k, w, b] = sum over (n, p) of hit[n, p, k] * onehot[n, p + w, b]``: the (K, B * P)
    site mask times the (B * P, W * 4) one-hot windows (a view made by ``unfold``), so the cost
    does not grow with the number of sites.

    Parameters
    ----------
    tok : (B, L) int32 tensor of tokens (0..3 = A, C, G, T; 4 = N, an all-zero one-hot column).
    hit : (B, P, K) bool tensor, P = L - W + 1.
    W : int
        Kernel width.

    Returns
    -------
    (K, W, 4) int64 tensor, A, C, G, T.
    """
    import torch
    import torch.nn.functional as F

    B, P, K = hit.shape
    out = torch.zeros((K, W * 4), dtype=torch.int64, device=tok.device)
    step = max(1, (1 << 22) // P)  # float32 sums of 0/1 stay exact below 2**24
    for i in range(0, B, step):
        t, h = tok[i:i + step], hit[i:i + step]
        x = F.one_hot(t.long(), 5)[..., :4].to(torch.float32)  # (b, L, 4)
        windows = x.unfold(1, W, 1).transpose(2, 3).reshape(-1, W * 4)  # (b * P, W * 4)
        mask = h.to(torch.float32).reshape(-1, K).T  # (K, b * P)
        out += (mask @ windows).round().to(torch.int64)
    return out.reshape(K, W, 4)


def _batches(tokens, batch_size, device):
    import torch

    for start in range(0, len(tokens), batch_size):
        chunk = np.asarray(tokens[start:start + batch_size])
        yield torch.from_numpy(chunk.astype(np.int32, copy=False)).to(device)  # int32: embedding_bag's faster index


def kernel_sites(conv, tokens, mode: str = "sequence", threshold: float = 0.5, batch_size: int | None = None,
                 device: str = "cpu", progress: bool = False) -> KernelSites:
    """Count the windows each first-layer kernel fires on.

    Parameters
    ----------
    conv : torch.nn.Conv1d
        The first convolution layer: weight (K, 4, W) with input channels in A, C, G, T order,
        and its bias (zeros if it has none). Stride and dilation must be 1; padding is ignored
        (only windows that lie inside the sequence are scanned).
    tokens : (N, L) integer array
        Sequences as tokens, A, C, G, T = 0..3 and N = 4 (a memory-mapped array is read in
        batches). Pad sequences of different lengths with 4 (see :func:`pad_sequences`).
    mode : str
        ``sequence``: each sequence adds its best window (by activation after the bias) if that
        activation is > 0. ``position``: every window with activation > ``threshold * max_k``
        adds itself, ``max_k`` being the kernel's largest activation over the data (two passes).
        Default is ``sequence``.
    threshold : float
        Fraction of each kernel's maximum, ``position`` mode only. Default is 0.5.
    batch_size : int or None
        Sequences per batch. Default is None: 256 on a GPU, 8 on the CPU (there the (B, P, K)
        activations of a small batch stay in cache: 1.7x the speed of 32 for a full DanQ).
    device : str
        Torch device, e.g. ``cpu`` or ``cuda``. Default is ``cpu``.
    progress : bool
        Show a tqdm progress bar. Default is False.

    Returns
    -------
    KernelSites
        Counts (K, W, 4) A, C, G, T, sites per kernel (K,), each kernel's maximum activation.
    """
    import torch
    from tqdm.auto import tqdm

    check(mode in MODES, f"mode: {mode!r} is not one of {', '.join(MODES)}")
    if batch_size is None:
        batch_size = 8 if str(device).startswith("cpu") else 256
    check(batch_size >= 1, f"batch-size: must be at least 1, got {batch_size}")
    check(0.0 <= threshold <= 1.0 or mode == "sequence", f"threshold: must be in [0, 1], got {threshold}")
    check(getattr(tokens, "ndim", 0) == 2, f"tokens: expected shape (N, L), got {getattr(tokens, 'shape', None)}")
    weight, bias = _conv_parts(conv)
    weight = weight.to(device=device, dtype=torch.float32)
    bias = bias.to(device=device, dtype=torch.float32)
    K, _, W = weight.shape
    N, L = tokens.shape
    kmers = _kmer_table(weight, bias)
    check(L >= W, f"tokens: sequences of length {L} are shorter than the kernels ({W})")

    def bar(desc):
        return tqdm(total=N, desc=desc, unit="seq", disable=not progress, leave=False)

    with torch.inference_mode():
        if mode == "sequence":
            counts, nsites, kmax = _best_window_sites(kmers, tokens, K, W, batch_size, device, bar)
        else:
            counts, nsites, kmax = _threshold_sites(kmers, tokens, K, W, threshold, batch_size, device, bar)
    return KernelSites(counts.reshape(K, W, 4).cpu().numpy().astype(np.float64),
                       nsites.cpu().numpy(), kmax.cpu().numpy().astype(np.float64),
                       int(N), mode, float(threshold))


def _site_tallies(K, W, device):
    """Zeroed tallies: counts (K * W * 4,) int64 (kernel, column, A, C, G, T), sites per kernel
    (K,) int64, and each kernel's maximum activation (K,) float32 at -inf."""
    import torch

    return (torch.zeros(K * W * 4, dtype=torch.int64, device=device),
            torch.zeros(K, dtype=torch.int64, device=device), torch.full((K,), float("-inf"), device=device))


def _best_window_sites(kmers, tokens, K, W, batch_size, device, bar):
    """``sequence`` mode of :func:`kernel_sites`: each sequence adds its best window of each
    kernel when that activation is > 0. Returns the tallies of :func:`_site_tallies`."""
    import torch

    counts, nsites, kmax = _site_tallies(K, W, device)
    with bar("extracting") as pb:
        for tok in _batches(tokens, batch_size, device):
            act = _batch_activations(kmers, tok, W)  # (B, P, K)
            best, pos = act.max(dim=1)  # (B, K)
            kmax = torch.maximum(kmax, best.max(dim=0).values)
            b, k = torch.nonzero(best > 0, as_tuple=True)
            counts += _count_windows(tok, b, k, pos[b, k], K, W)
            nsites += torch.bincount(k, minlength=K)
            pb.update(len(tok))
    return counts, nsites, kmax


def _threshold_sites(kmers, tokens, K, W, threshold, batch_size, device, bar):
    """``position`` mode of :func:`kernel_sites`: a first pass finds each kernel's maximum, the
    second adds every window above `threshold` times it. Returns the tallies of
    :func:`_site_tallies`."""
    import torch

    counts, nsites, kmax = _site_tallies(K, W, device)
    with bar("maxima") as pb:
        for tok in _batches(tokens, batch_size, device):
            act = _batch_activations(kmers, tok, W)
            kmax = torch.maximum(kmax, act.amax(dim=(0, 1)))
            pb.update(len(tok))
    cut = threshold * kmax  # (K,), broadcast over (B, P, K)
    with bar("extracting") as pb:
        for tok in _batches(tokens, batch_size, device):
            act = _batch_activations(kmers, tok, W)
            hit = act > cut  # (B, P, K)
            per_kernel = hit.sum(dim=(0, 1))
            if int(per_kernel.sum()) * 64 < hit.numel():  # sparse: gather the few windows
                b, p, k = torch.nonzero(hit, as_tuple=True)
                counts += _count_windows(tok, b, k, p, K, W)
            else:  # dense: one matrix product
                counts += _count_dense(tok, hit, W).reshape(-1)
            nsites += per_kernel
            pb.update(len(tok))
    return counts, nsites, kmax


def seed_names(jaspar_map=None) -> dict:
    """Kernel index -> ``"<matrix id>_<name>"`` for JASPAR-seeded kernels.

    Parameters
    ----------
    jaspar_map : list of dict or None
        A checkpoint's record of seeded kernels, one dict per kernel with the kernel index
        (key ``kernel``) and the motif's ID and name (keys ``motif_id`` or ``id``, and
        ``name``). Default is None.

    Returns
    -------
    dict of int -> str
        E.g. ``{17: "MA0139.1_CTCF"}``.
    """
    out = {}
    for entry in jaspar_map or []:
        k = entry.get("kernel", entry.get("kernel_index", entry.get("index")))
        mid = entry.get("motif_id", entry.get("id", ""))
        name = entry.get("name", "")
        if k is None:
            continue
        label = "_".join(str(s) for s in (mid, name) if s)
        out[int(k)] = label.replace(" ", "_")
    return out


def sites_to_motifs(sites: KernelSites, min_sites: int = 10, trim: float | None = None, seeds=None,
                    prefix: str = "kernel_") -> tuple[list[Motif], list[int]]:
    """Turn kernel site counts into motifs, leaving out kernels with too few sites.

    Parameters
    ----------
    sites : KernelSites
        From :func:`kernel_sites`.
    min_sites : int
        Kernels with fewer sites are left out. At least 1. Default is 10.
    trim : float or None
        Trim edge columns whose information content (bits) is below this. Default is None
        (keep the full kernel width, as the published DanQ motif files do).
    seeds : dict of int -> str or None
        Alternative names for JASPAR-seeded kernels (see :func:`seed_names`). Default is None.
    prefix : str
        Motif IDs are ``prefix + kernel index``. Default is ``kernel_``.

    Returns
    -------
    motifs : list of Motif
        One per kernel with enough sites, in kernel order; counts (W, 4) A, C, G, T, ``nsites``
        the number of sites, ``name`` the JASPAR seed (``MA0139.1_CTCF``) or empty.
    skipped : list of int
        Kernel indices left out.
    """
    check(min_sites >= 1, f"min-sites: must be at least 1, got {min_sites}")
    seeds = seeds or {}
    motifs, skipped = [], []
    for k in range(len(sites.nsites)):
        n = int(sites.nsites[k])
        if n < min_sites:
            skipped.append(k)
            continue
        m = Motif(id=f"{prefix}{k}", counts=sites.counts[k], name=seeds.get(k, ""), nsites=float(n),
                  source=f"{sites.mode} mode")
        if trim is not None:
            m = m.trim(trim)[0]
        motifs.append(m)
    return motifs, skipped


def extract_motifs(conv, tokens, mode: str = "sequence", threshold: float = 0.5, min_sites: int = 10,
                   trim: float | None = None, jaspar_map=None, batch_size: int | None = None, device: str = "cpu",
                   progress: bool = False) -> tuple[list[Motif], list[int], KernelSites]:
    """Kernels of a first convolution layer -> motifs (:func:`kernel_sites` + :func:`sites_to_motifs`).

    Parameters
    ----------
    conv : torch.nn.Conv1d
        Weight (K, 4, W), input channels A, C, G, T.
    tokens : (N, L) integer array
        Tokens A, C, G, T = 0..3, N = 4.
    mode : str
        ``sequence`` or ``position`` (see :func:`kernel_sites`). Default is ``sequence``.
    threshold : float
        ``position`` mode: fraction of each kernel's maximum. Default is 0.5.
    min_sites : int
        Kernels with fewer sites are listed in `skipped`, not returned. Default is 10.
    trim : float or None
        Edge information-content cut in bits. Default is None.
    jaspar_map : list of dict or None
        A checkpoint's seeded-kernel record (see :func:`seed_names`). Default is None.
    batch_size : int or None
        Sequences per batch. Default is None: see :func:`kernel_sites`.
    device : str
        Torch device. Default is ``cpu``.
    progress : bool
        Show a progress bar. Default is False.

    Returns
    -------
    motifs : list of Motif
        ``kernel_<k>`` motifs, (W, 4) counts in A, C, G, T.
    skipped : list of int
        Kernels with fewer than `min_sites` sites.
    sites : KernelSites
        The raw counts.
    """
    sites = kernel_sites(conv, tokens, mode=mode, threshold=threshold, batch_size=batch_size, device=device,
                         progress=progress)
    motifs, skipped = sites_to_motifs(sites, min_sites=min_sites, trim=trim, seeds=seed_names(jaspar_map))
    return motifs, skipped, sites


def pad_sequences(seqs, length: int | None = None) -> np.ndarray:
    """Tokenize DNA strings into one (N, L) array, padding shorter ones with N (token 4).

    Parameters
    ----------
    seqs : sequence of str
        DNA strings (IUPAC codes become N).
    length : int or None
        L. Default is None: the longest sequence.

    Returns
    -------
    numpy.ndarray
        (N, L) uint8 tokens, A, C, G, T = 0..3, N = 4. Padding windows are never counted.
    """
    from .sequence import tokenize

    toks = [tokenize(s) for s in seqs]
    L = max(len(t) for t in toks) if length is None else int(length)
    out = np.full((len(toks), L), 4, dtype=np.uint8)
    for i, t in enumerate(toks):
        out[i, :min(L, len(t))] = t[:L]
    return out


def select_sequences(data=None, split: str = "test", fasta=None, labels=None, targets=None, cache=None,
                     positives=None, max_seqs: int | None = None, length: int | None = None, progress: bool = False):
    """The sequences a command reads: a FASTA file, or a split of a data set, optionally only the
    positives of one target, at most `max_seqs` of them.

    Parameters
    ----------
    data, split, fasta, labels, targets, cache
        As :func:`motifq.data.open_data`; a `fasta` without `labels` and `data` is read as plain
        sequences (padded with N to the longest). Defaults are None, ``test``, None, None, None, None.
    positives : str or None
        Only sequences labelled 1 for this target (name or 0-based index; needs labels).
        Default is None: all.
    max_seqs : int or None
        At most the first `max_seqs` sequences (after `positives`). Default is None: all.
    length : int or None
        Every sequence must be this long (a model's input length). Default is None: any.
    progress : bool
        A progress bar while a DeepSEA bundle is converted. Default is False.

    Returns
    -------
    tokens : (N, L) uint8 array
        A, C, G, T = 0..3, N = 4.
    names : (N,) str array
        FASTA record names, or the sequences' indices in the split.
    description : str
        What was read, e.g. ``"40 sequences (test split, 40 positives for CTCF)"``.
    """
    check(max_seqs is None or max_seqs >= 1, f"max-seqs: must be at least 1, got {max_seqs}")
    if fasta is not None and labels is None and data is None:
        check(positives is None, "positives: needs labels (--data, or --fasta with --labels)")
        from .sequence import read_fasta

        names, seqs = read_fasta(fasta)
        bad = [n for n, q in zip(names, seqs) if length is not None and len(q) != length]
        check(not bad, f"{fasta}: sequence {bad[0] if bad else ''!r} is not {length} bp long (the model's input length)")
        tokens = pad_sequences(seqs[:max_seqs], length)
        return tokens, np.asarray(names[:len(tokens)]), f"{len(tokens)} sequences from {fasta}"
    from .data import open_data

    s = open_data(data=data, split=split, fasta=fasta, labels=labels, targets=targets, cache=cache, progress=progress)
    check(length is None or s.length == length, f"{data or fasta}: sequences are {s.length} bp, the model takes {length}")
    what = f"{split} split" if fasta is None else str(fasta)
    if positives is None:
        idx = np.arange(min(len(s), max_seqs or len(s)))
        return np.asarray(s.tokens[:len(idx)]), idx.astype(str), f"{len(idx)} sequences ({what})"
    t = s.target_index(positives)
    idx = s.positives(t)[:max_seqs]
    check(len(idx) > 0, f"positives: no sequence is labelled 1 for {s.targets[t]}")
    return (np.asarray(s.tokens[idx]), idx.astype(str),
            f"{len(idx)} sequences ({what}, {len(idx)} positives for {s.targets[t]})")


def load_tokens(data=None, split: str = "test", fasta=None, labels=None, targets=None, cache=None,
                positives=None, max_seqs: int | None = None, progress: bool = False):
    """The sequences ``extract-motifs`` reads: :func:`select_sequences` without the names.

    Returns
    -------
    tokens : (N, L) uint8 array
        A, C, G, T = 0..3, N = 4.
    description : str
    """
    tokens, _, what = select_sequences(data, split, fasta, labels, targets, cache, positives, max_seqs,
                                       progress=progress)
    return tokens, what

"""DanQ and the baselines the paper compares it with, built from a :class:`~motifq.config.ModelConfig`;
batched prediction; checkpoints.

Every model takes ``x`` of shape (N, 4, L) float, one-hot DNA with channels in **A, C, G, T** order
(an ``N`` base is the column [0.25, 0.25, 0.25, 0.25]), and returns (N, T) **logits** (apply a
sigmoid for probabilities). Every convolutional model (``danq``, ``danq-jaspar``, ``deepsea``,
``cnn``) exposes its first convolution as ``model.conv`` (an ``nn.Conv1d`` whose weight is
(kernels, 4, width) with input channels in A, C, G, T order) — the motif-extraction stage reads
it. The ``lr`` model has ``model.conv = None``.

In eval mode a sample's output does not depend on the other samples of its batch (the BiLSTM
runs along the pooled positions of each sample, ``batch_first=True`` with a (batch, steps,
features) tensor).

Checkpoints
-----------
A checkpoint is a ``dict`` saved with :func:`torch.save` and read with
``torch.load(weights_only=True)``; keys:

``format``         ``"motifq-checkpoint"``
``version``        1
``state_dict``     the model's ``state_dict()`` (tensors on CPU)
``model_config``   :meth:`ModelConfig.to_dict` (rebuilds the model with :func:`build_model`)
``train_config``   :meth:`TrainConfig.to_dict` or ``{}``
``alphabet``       ``"ACGT"``: the order of the model's input channels
``targets``        list of the T target names, in output order
``jaspar``         list of dicts, one per seeded kernel: ``kernel``, ``motif_id``, ``name``,
                   ``offset``, ``strand`` (``+``/``-``), ``width``, ``trimmed`` ([left, right]);
                   ``[]`` when not JASPAR-initialised
``history``        list of per-check dicts (``epoch``, ``step``, ``train_loss``, ``valid_loss``, ...;
                   see :mod:`motifq.train`); read as ``metrics`` from older checkpoints
``summary``        the training summary (:mod:`motifq.train`), ``{}`` when not written by training
``resume``         only in ``last`` checkpoints written by training: optimizer state, RNG
                   states, epoch and step (see :mod:`motifq.train`)
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig
from .errors import MotifqError, atomic_path, check, check_file
from .sequence import reverse_complement_tokens

__all__ = ["torch_threads", "DanQ", "DeepSEA", "KmerLogistic", "build_model", "init_weights", "init_output_bias", "output_layer", "one_hot_tokens", "predict", "fit_kmer_stats", "save_checkpoint",
           "load_checkpoint", "read_checkpoint", "model_from_checkpoint", "resolve_device", "CHECKPOINT_FORMAT"]


@contextmanager
def torch_threads(n=None):
    """Run the body with torch set to `n` CPU threads, then restore torch's setting.

    Parameters
    ----------
    n : int or None
        Threads; None or 0 leaves torch's setting as it is. Default is None.
    """
    old = torch.get_num_threads()
    if n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


CHECKPOINT_FORMAT = "motifq-checkpoint"
CHECKPOINT_VERSION = 1


# ---------------------------------------------------------------------------------------------
# device
# ---------------------------------------------------------------------------------------------
def resolve_device(device: str = "auto", local_rank: int = 0) -> torch.device:
    """``auto`` -> ``cuda:<local_rank>`` when CUDA is present, else ``cpu``.

    Parameters
    ----------
    device : str
        ``auto``, ``cpu``, ``cuda`` or ``cuda:N``. Default is ``auto``.
    local_rank : int
        The GPU of this process under torchrun. Default is 0.

    Returns
    -------
    torch.device
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        check(torch.cuda.is_available(), "device: cuda requested but no CUDA device is available")
        if device == "cuda":
            device = f"cuda:{local_rank}"
    return torch.device(device)


# ---------------------------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------------------------
_LSTM_AUTOCAST: dict = {}


def _cuda_autocast_dtype():
    """The CUDA autocast dtype, or None when autocast is off (torch >= 2.4 and older spellings)."""
    try:
        return torch.get_autocast_dtype("cuda") if torch.is_autocast_enabled("cuda") else None
    except (TypeError, AttributeError):
        return torch.get_autocast_gpu_dtype() if torch.is_autocast_enabled() else None


def _cuda_lstm_autocasts(device) -> bool:
    """Whether the cuDNN LSTM runs (forward and backward) under the current CUDA autocast dtype
    (bf16 RNNs need cuDNN >= 9.13); probed once per device and dtype."""
    key = (str(device), _cuda_autocast_dtype())
    if key not in _LSTM_AUTOCAST:
        try:
            with torch.inference_mode(False), torch.enable_grad():
                lstm = nn.LSTM(8, 8, batch_first=True, bidirectional=True).to(device)
                out, _ = lstm(torch.randn(2, 3, 8, device=device))
                out.float().sum().backward()
            _LSTM_AUTOCAST[key] = True
        except (RuntimeError, NotImplementedError):
            _LSTM_AUTOCAST[key] = False
    return _LSTM_AUTOCAST[key]


class DanQ(nn.Module):
    """DanQ (``danq``, ``danq-jaspar``) and DanQ without its BiLSTM (``cnn``).

    conv (ReLU) -> max-pool -> dropout -> BiLSTM -> dropout -> flatten -> dense (ReLU) -> logits.
    (The ReLU is applied after the max-pool: the same values, since ReLU is monotonic, computed
    on a tensor `pool` times smaller.)
    For ``cnn`` the BiLSTM is left out (``self.lstm`` is None) and the second dropout follows
    the first.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        c = config
        self.config = c
        self.conv = nn.Conv1d(4, c.conv_kernels, c.conv_width)
        self.pool = nn.MaxPool1d(c.pool, c.pool)
        self.drop1 = nn.Dropout(c.dropouts[0])
        if c.kind == "cnn":
            self.lstm = None
            features = c.conv_kernels
        else:
            self.lstm = nn.LSTM(c.conv_kernels, c.lstm_units, batch_first=True, bidirectional=True)
            features = 2 * c.lstm_units
        self.drop2 = nn.Dropout(c.dropouts[1])
        self.dense = nn.Linear(c.steps() * features, c.dense)
        self.out = nn.Linear(c.dense, c.n_targets)

    def forward(self, x):
        # x: (N, 4, L) one-hot, A, C, G, T
        h = self.conv(x)                      # (N, K, L - w + 1)
        h = F.relu(self.pool(h))              # (N, K, S)   S = (L - w + 1) // pool; pool-then-ReLU
                                              #             equals ReLU-then-pool, on pool x fewer values
        h = self.drop1(h)
        h = h.transpose(1, 2)                 # (N, S, K)   batch, steps, features
        if self.lstm is not None:
            if h.is_cuda and _cuda_autocast_dtype() is not None and not _cuda_lstm_autocasts(h.device):
                with torch.autocast("cuda", enabled=False):   # this cuDNN has no bf16 RNN: fp32 (TF32)
                    h, _ = self.lstm(h.float())
            else:
                h, _ = self.lstm(h)           # (N, S, 2U)  forward and backward outputs concatenated
        h = self.drop2(h)
        h = h.flatten(1)                      # (N, S * 2U)  (S * K without the LSTM)
        h = F.relu(self.dense(h))             # (N, D)
        return self.out(h)                    # (N, T) logits


class DeepSEA(nn.Module):
    """The DeepSEA CNN (Zhou & Troyanskaya 2015): three convolutions 320/480/960 of width 8,
    max-pool 4 after the first two, dropout 0.2/0.2/0.5, dense 925 ReLU, logits."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        c = config
        self.config = c
        k2, k3 = c.extra_conv_kernels
        self.conv = nn.Conv1d(4, c.conv_kernels, c.conv_width)
        self.conv2 = nn.Conv1d(c.conv_kernels, k2, c.conv_width)
        self.conv3 = nn.Conv1d(k2, k3, c.conv_width)
        self.pool = nn.MaxPool1d(c.pool, c.pool)
        self.drop1 = nn.Dropout(c.dropouts[0])
        self.drop2 = nn.Dropout(c.dropouts[1])
        self.drop3 = nn.Dropout(c.dropouts[2])
        self.dense = nn.Linear(c.steps() * k3, c.dense)
        self.out = nn.Linear(c.dense, c.n_targets)

    def forward(self, x):
        # x: (N, 4, L) one-hot, A, C, G, T
        h = self.drop1(F.relu(self.pool(self.conv(x))))    # (N, 320, S1)  S1 = (L - w + 1) // p
        h = self.drop2(F.relu(self.pool(self.conv2(h))))   # (N, 480, S2)  S2 = (S1 - w + 1) // p
        h = self.drop3(F.relu(self.conv3(h)))              # (N, 960, S3)  S3 = S2 - w + 1
        h = h.flatten(1)                                   # (N, 960 * S3)
        h = F.relu(self.dense(h))                          # (N, D)
        return self.out(h)                                 # (N, T) logits


class KmerLogistic(nn.Module):
    """Logistic regression on standardised counts of all k-mers, k = 1..kmax (``lr``).

    Features: for each k, the counts of the 4**k k-mers (index = base-4 number of the k-mer
    read 5' to 3' in A=0, C=1, G=2, T=3 order), k = 1 first; F = 4 + 16 + ... + 4**kmax (1364
    for kmax 5). Windows containing an ``N`` are not counted. The counts are standardised with
    the buffers ``feature_mean`` and ``feature_std`` (F,), estimated from training data by
    :func:`fit_kmer_stats` (0 and 1 until then), then one linear layer gives T logits (one
    independent logistic regression per target). ``model.conv`` is None.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.conv = None
        n_features = sum(4 ** k for k in range(1, config.kmax + 1))
        self.register_buffer("feature_mean", torch.zeros(n_features))
        self.register_buffer("feature_std", torch.ones(n_features))
        self.linear = nn.Linear(n_features, config.n_targets)

    def kmer_counts(self, x):
        """(N, 4, L) one-hot A, C, G, T -> (N, F) float32 k-mer counts (see the class docstring)."""
        tokens = x.argmax(1)                                  # (N, L) 0..3
        known = x.amax(1) > 0.5                               # (N, L) False at N (0.25 columns)
        feats = []
        idx, ok = tokens, known
        for k in range(1, self.config.kmax + 1):
            if k > 1:                                         # windows of length k starting at i
                idx = idx[:, :-1] * 4 + tokens[:, k - 1:]     # (N, L - k + 1)
                ok = ok[:, :-1] & known[:, k - 1:]
            counts = torch.zeros(x.shape[0], 4 ** k, device=x.device, dtype=torch.float32)
            counts.scatter_add_(1, idx, ok.to(torch.float32))  # (N, 4**k)
            feats.append(counts)
        return torch.cat(feats, 1)                            # (N, F)

    def forward(self, x):
        # x: (N, 4, L) one-hot, A, C, G, T
        z = (self.kmer_counts(x) - self.feature_mean) / self.feature_std   # (N, F) standardised
        return self.linear(z)                                              # (N, T) logits


_KINDS = {"danq": DanQ, "danq-jaspar": DanQ, "cnn": DanQ, "deepsea": DeepSEA, "lr": KmerLogistic}


def init_weights(model: nn.Module, scale: float = 0.05) -> nn.Module:
    """The paper's initialisation: every weight U(-scale, scale), every bias 0 (in place).

    Buffers (the ``lr`` model's feature statistics) are left alone. Draws from torch's global
    generator: seed it first for reproducible weights.

    Parameters
    ----------
    model : torch.nn.Module
    scale : float
        Half-width of the uniform distribution. Default is 0.05.

    Returns
    -------
    torch.nn.Module
        `model`.
    """
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.rsplit(".", 1)[-1].startswith("bias"):
                p.zero_()
            else:
                p.uniform_(-scale, scale)
    return model


def output_layer(model: nn.Module) -> nn.Linear:
    """The last ``nn.Linear`` of a model made by :func:`build_model` (``out``; ``linear`` for ``lr``):
    its weight is (T, features), its bias (T,) in target order."""
    model = getattr(model, "module", model)
    return model.out if hasattr(model, "out") else model.linear


def init_output_bias(model: nn.Module, bias) -> nn.Module:
    """Set each output's bias (in place), e.g. to the log-odds ``log(p / (1 - p))`` of each
    target's training frequency p, so that training starts at the label prior instead of at
    p = 0.5 (for ~2 % positive labels, the first thousand steps of a zero-bias start only
    learn the frequencies).

    Parameters
    ----------
    model : torch.nn.Module
        A model made by :func:`build_model`.
    bias : (T,) array-like of float
        One value per target, in output order.

    Returns
    -------
    torch.nn.Module
        `model`.
    """
    layer = output_layer(model)
    b = torch.as_tensor(np.asarray(bias, dtype=np.float32))
    check(b.shape == layer.bias.shape, f"output bias: {tuple(b.shape)} values for {layer.bias.shape[0]} outputs")
    with torch.no_grad():
        layer.bias.copy_(b.to(layer.bias.device))
    return model


def build_model(config: ModelConfig) -> nn.Module:
    """Build the model `config` describes, initialised as ``config.init`` says: ``uniform`` as the
    paper (see :func:`init_weights`), ``pytorch`` with each layer's PyTorch default.

    Parameters
    ----------
    config : ModelConfig
        Or a dict as produced by :meth:`ModelConfig.to_dict`.

    Returns
    -------
    torch.nn.Module
        ``forward(x)``: x (N, 4, L) float one-hot, A, C, G, T -> (N, T) logits. ``model.conv``
        is the first ``nn.Conv1d`` (weight (K, 4, W), input channels A, C, G, T; None for ``lr``).
        ``model.config`` is `config`.
    """
    if isinstance(config, dict):
        config = ModelConfig.from_dict(config)
    config.validate()
    model = _KINDS[config.kind](config)
    return init_weights(model) if config.init == "uniform" else model


# ---------------------------------------------------------------------------------------------
# encoding and prediction
# ---------------------------------------------------------------------------------------------
_ONE_HOT_TABLE = torch.tensor([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1],
                               [0.25, 0.25, 0.25, 0.25]], dtype=torch.float32)


def one_hot_tokens(tokens, dtype=torch.float32):
    """One-hot encode tokens on their own device.

    Parameters
    ----------
    tokens : (N, L) torch integer tensor (uint8 or long) or numpy array
        0..3 = A, C, G, T; 4 = N.
    dtype : torch.dtype
        Output dtype. Default is torch.float32.

    Returns
    -------
    torch.Tensor
        (N, 4, L), channels in A, C, G, T order; an N base is [0.25, 0.25, 0.25, 0.25].
    """
    if not torch.is_tensor(tokens):
        tokens = torch.from_numpy(np.array(tokens))
    table = _ONE_HOT_TABLE.to(device=tokens.device, dtype=dtype)
    return F.embedding(tokens.long(), table).transpose(1, 2)


def _model_device(model) -> torch.device:
    p = next(iter(model.parameters()), None)
    return p.device if p is not None else torch.device("cpu")


def _progress(total, enabled, desc):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="seq", dynamic_ncols=True)


@torch.no_grad()
def predict(model, tokens, batch_size: int = 1000, rc: bool = True, device=None, out=None,
            progress: bool = False):
    """Predicted probabilities for every sequence, streamed in batches.

    Parameters
    ----------
    model : torch.nn.Module
        A motifq model (returns logits). It is put in eval mode.
    tokens : (N, L) uint8 array (numpy, memmap, or torch tensor)
        0..3 = A, C, G, T; 4 = N. Read `batch_size` rows at a time.
    batch_size : int
        Sequences per forward pass. Default is 1000.
    rc : bool
        Average the probabilities of each sequence and its reverse complement. Default is True.
    device : str or torch.device or None
        Where to run. Default is None: the model's device.
    out : (N, T) float32 array or None
        A preallocated array (e.g. ``numpy.memmap``) to fill. Default is None: a new array.
    progress : bool
        Show a progress bar. Default is False.

    Returns
    -------
    numpy.ndarray
        (N, T) float32 probabilities (`out` when given).
    """
    check(batch_size >= 1, f"batch-size: must be >= 1, got {batch_size}")
    device = torch.device(device) if device is not None else _model_device(model)
    model = model.to(device).eval()
    n = len(tokens)
    T = model.config.n_targets
    if out is None:
        out = np.empty((n, T), dtype=np.float32)
    check(tuple(out.shape) == (n, T), f"predict: out has shape {tuple(out.shape)}, expected {(n, T)}")
    amp = device.type == "cuda"
    with _progress(n, progress, "predict") as bar:
        for start in range(0, n, batch_size):
            chunk = tokens[start:start + batch_size]
            t = chunk if torch.is_tensor(chunk) else torch.from_numpy(np.array(chunk, dtype=np.uint8))  # copy: memmaps are read-only
            t = t.to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                p = torch.sigmoid(model(one_hot_tokens(t)).float())
                if rc:
                    p_rc = torch.sigmoid(model(one_hot_tokens(reverse_complement_tokens(t))).float())
                    p = (p + p_rc) / 2
            out[start:start + len(t)] = p.float().cpu().numpy()
            bar.update(len(t))
    return out


@torch.no_grad()
def fit_kmer_stats(model, tokens, max_samples: int = 100000, batch_size: int = 1000, seed: int = 0,
                   device=None):
    """Estimate the ``lr`` model's feature mean and standard deviation from training sequences.

    Parameters
    ----------
    model : KmerLogistic
        Its ``feature_mean`` and ``feature_std`` buffers (F,) are set in place.
    tokens : (N, L) uint8 array
        Training tokens, 0..3 = A, C, G, T; 4 = N.
    max_samples : int
        Use at most this many sequences (a seeded random subset). Default is 100000.
    batch_size : int
        Sequences per pass. Default is 1000.
    seed : int
        Seed of the subset. Default is 0.
    device : str or torch.device or None
        Where to count. Default is None: the model's device.

    Returns
    -------
    KmerLogistic
        `model`. A feature with zero variance gets standard deviation 1.
    """
    device = torch.device(device) if device is not None else _model_device(model)
    n = len(tokens)
    index = np.arange(n)
    if n > max_samples:
        index = np.sort(np.random.default_rng(seed).choice(n, max_samples, replace=False))
    total = torch.zeros(model.feature_mean.shape[0], dtype=torch.float64, device=device)
    total_sq = torch.zeros_like(total)
    for start in range(0, len(index), batch_size):
        rows = index[start:start + batch_size]
        t = torch.from_numpy(np.ascontiguousarray(tokens[rows], dtype=np.uint8)).to(device)
        c = model.kmer_counts(one_hot_tokens(t)).double()
        total += c.sum(0)
        total_sq += (c * c).sum(0)
    m = len(index)
    mean = total / m
    var = (total_sq / m - mean * mean).clamp_min(0)
    std = var.sqrt()
    std[std < 1e-8] = 1.0
    model.feature_mean.copy_(mean.to(model.feature_mean))
    model.feature_std.copy_(std.to(model.feature_std))
    return model


# ---------------------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------------------
def save_checkpoint(path, model, targets=None, train_config=None, jaspar=None, history=None,
                    resume=None, summary=None) -> Path:
    """Write a checkpoint dict (keys in the module docstring) atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (``.pt``).
    model : torch.nn.Module
        A model made by :func:`build_model` (possibly wrapped in DistributedDataParallel).
    targets : list of str or None
        The T target names. Default is None: ``target0``, ``target1``, ...
    train_config : TrainConfig or dict or None
        Default is None (stored as ``{}``).
    jaspar : list of dict or None
        The JASPAR seeding map. Default is None (stored as ``[]``).
    history : list of dict or None
        One dict per validation check. Default is None (stored as ``[]``).
    resume : dict or None
        Training state for ``--resume``. Default is None (not stored).
    summary : dict or None
        The training summary. Default is None (stored as ``{}``).

    Returns
    -------
    pathlib.Path
    """
    model = getattr(model, "module", model)
    config = model.config
    if targets is None:
        targets = [f"target{i}" for i in range(config.n_targets)]
    check(len(targets) == config.n_targets, f"checkpoint: {len(targets)} target names for {config.n_targets} outputs")
    if train_config is not None and not isinstance(train_config, dict):
        train_config = train_config.to_dict()
    ckpt = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "model_config": config.to_dict(),
        "train_config": train_config or {},
        "alphabet": "ACGT",
        "targets": list(targets),
        "jaspar": list(jaspar or []),
        "history": list(history or []),
        "summary": dict(summary or {}),
    }
    if resume is not None:
        ckpt["resume"] = resume
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp)
    return Path(path)


def _torch_load(p: Path, device) -> object:
    """``torch.load(weights_only=True)``; any failure is a one-line MotifqError that never
    suggests loading the file any other way."""
    import pickle

    try:
        return torch.load(p, map_location=device, weights_only=True)
    except pickle.UnpicklingError:
        raise MotifqError(f"{p}: not a motifq checkpoint (it holds Python objects other than tensors and plain "
                          f"values; motifq does not load those)") from None
    except Exception as exc:  # zip and torch errors all mean "not a checkpoint we wrote"
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "weights_only" in why:
            why = type(exc).__name__
        raise MotifqError(f"{p}: not a motifq checkpoint (cannot be read: {why[:200]})") from None


def _check_header(ckpt, p) -> None:
    """format, version, the required keys and their types."""
    check(isinstance(ckpt, dict) and ckpt.get("format") == CHECKPOINT_FORMAT,
          f"{p}: not a motifq checkpoint (no 'format': '{CHECKPOINT_FORMAT}' entry)")
    check(ckpt.get("version") == CHECKPOINT_VERSION,
          f"{p}: motifq checkpoint version {ckpt.get('version')!r} is not supported (expected {CHECKPOINT_VERSION})")
    for key in ("state_dict", "model_config", "alphabet", "targets"):
        check(key in ckpt, f"{p}: motifq checkpoint is missing {key!r}")
    check(ckpt["alphabet"] == "ACGT", f"{p}: checkpoint alphabet {ckpt['alphabet']!r}, expected 'ACGT'")
    for key, kind in (("state_dict", dict), ("model_config", dict), ("targets", list), ("train_config", dict),
                      ("jaspar", list), ("metrics", list), ("resume", dict)):
        if key in ckpt:
            check(isinstance(ckpt[key], kind), f"{p}: checkpoint entry {key!r} must be a {kind.__name__}, "
                                               f"got {type(ckpt[key]).__name__}")
    check(all(isinstance(t, str) for t in ckpt["targets"]), f"{p}: checkpoint target names must be strings")
    check(all(isinstance(x, dict) for x in ckpt.get("jaspar", [])), f"{p}: checkpoint 'jaspar' must list dicts")


def _checked_config(ckpt: dict, p) -> ModelConfig:
    """The model config, its types and ranges checked and its size capped
    (:data:`~motifq.config.MAX_PARAMETERS`) before anything is allocated."""
    try:
        config = ModelConfig.from_dict(ckpt["model_config"])
    except (TypeError, ValueError, MotifqError) as exc:
        raise MotifqError(f"{p}: bad model config in checkpoint ({exc})") from None
    check(len(ckpt["targets"]) == config.n_targets,
          f"{p}: checkpoint has {len(ckpt['targets'])} target names for {config.n_targets} outputs")
    return config


def _check_weights(state: dict, config: ModelConfig, p) -> None:
    """The weights are exactly the tensors the config's model has (names, shapes), all finite.
    The expected shapes come from a model built on the ``meta`` device (nothing allocated)."""
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in _KINDS[config.kind](config).state_dict().items()}
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    check(not missing and not extra, f"{p}: checkpoint weights do not fit its model config ("
                                     + (f"missing {missing[0]}" if missing else f"unexpected {extra[0] if extra else ''}") + ")")
    for k, shape in expected.items():
        v = state[k]
        check(isinstance(v, torch.Tensor), f"{p}: checkpoint weight {k} is not a tensor")
        check(tuple(v.shape) == shape, f"{p}: checkpoint weights do not fit its model config ({k} has shape "
                                               f"{tuple(v.shape)}, the config needs {shape})")
        check(not v.is_floating_point() or bool(torch.isfinite(v).all()),
              f"{p}: checkpoint weight {k} holds NaN or infinite values (a diverged training run?)")


def _check_resume(state: dict, n_params: int, p) -> None:
    """The ``resume`` entry of a last checkpoint: counters, losses, optimizer and RNG states."""
    def count(key, low=0):
        v = state.get(key)
        return isinstance(v, int) and not isinstance(v, bool) and v >= low

    def number(key):
        v = state.get(key)
        return isinstance(v, (int, float)) and not isinstance(v, bool) and not np.isnan(v)

    what = f"{p}: training state ('resume')"
    bad = "bad" if "bad" in state or "bad_epochs" not in state else "bad_epochs"   # bad_epochs: older checkpoints
    for key in ("epoch", "batch", "step", "loss_count", bad):
        check(count(key), f"{what}: {key!r} must be an integer >= 0, got {state.get(key)!r}")
    for key in ("best_step", "plateau"):
        check(key not in state or count(key), f"{what}: {key!r} must be an integer >= 0, got {state.get(key)!r}")
    check("left_prior_step" not in state or count("left_prior_step", -1),
          f"{what}: 'left_prior_step' must be an integer >= -1, got {state.get('left_prior_step')!r}")
    check(count("world_size", 1), f"{what}: 'world_size' must be an integer >= 1, got {state.get('world_size')!r}")
    for key in ("best_loss", "loss_sum", "seconds"):
        check(number(key), f"{what}: {key!r} must be a number, got {state.get(key)!r}")
    check("lr_scale" not in state or (number("lr_scale") and state["lr_scale"] > 0),
          f"{what}: 'lr_scale' must be a number > 0, got {state.get('lr_scale')!r}")
    check(isinstance(state.get("best_pr_auc", []), list), f"{what}: 'best_pr_auc' must be a list")
    opt = state.get("optimizer")
    check(isinstance(opt, dict) and isinstance(opt.get("state"), dict) and isinstance(opt.get("param_groups"), list)
          and len(opt["param_groups"]) >= 1 and all(isinstance(g, dict) and isinstance(g.get("params"), list)
                                                   for g in opt["param_groups"]),
          f"{what}: 'optimizer' is not an optimizer state (state, param_groups)")
    n = sum(len(g["params"]) for g in opt["param_groups"])
    check(n == n_params, f"{what}: the optimizer state covers {n} weight tensors, the model has {n_params}")
    rng = state.get("rng")
    check(isinstance(rng, dict) and isinstance(rng.get("torch"), torch.Tensor) and rng["torch"].dtype == torch.uint8,
          f"{what}: 'rng' is not a random-number-generator state")


def read_checkpoint(path, device="cpu") -> dict:
    """The checkpoint dict of `path`, loaded with ``torch.load(weights_only=True)`` and checked.

    Checked before any model is built: the entries and their types, the model config (types,
    ranges, size capped at :data:`~motifq.config.MAX_PARAMETERS`), the weights (names and
    shapes of the config's model, finite values) and, in last checkpoints, the training state.

    Parameters
    ----------
    path : str or os.PathLike
    device : str or torch.device
        ``map_location`` for the tensors. Default is ``cpu``.

    Returns
    -------
    dict
        Keys in the module docstring.
    """
    p = check_file(path)
    ckpt = _torch_load(p, device)
    _check_header(ckpt, p)
    config = _checked_config(ckpt, p)
    _check_weights(ckpt["state_dict"], config, p)
    if "resume" in ckpt:
        with torch.device("meta"):
            n_params = len(list(_KINDS[config.kind](config).parameters()))
        _check_resume(ckpt["resume"], n_params, p)
    ckpt.setdefault("train_config", {})
    ckpt.setdefault("jaspar", [])
    if "history" not in ckpt:                         # written before the rename
        ckpt["history"] = ckpt.pop("metrics", [])
    ckpt.setdefault("summary", {})
    return ckpt


def load_checkpoint(path, device="cpu"):
    """Rebuild a model from a checkpoint.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_checkpoint` (``motifq train --out``).
    device : str or torch.device
        Where to put the model. Default is ``cpu``.

    Returns
    -------
    model : torch.nn.Module
        In eval mode, on `device`.
    checkpoint : dict
        Keys in the module docstring (``targets``, ``jaspar``, ``history``, ...).
    """
    ckpt = read_checkpoint(path, device)
    return model_from_checkpoint(ckpt, path).to(device).eval(), ckpt


def model_from_checkpoint(ckpt: dict, path="checkpoint") -> nn.Module:
    """Rebuild the model of a checkpoint dict (from :func:`read_checkpoint`) and load its weights.

    Parameters
    ----------
    ckpt : dict
        Keys in the module docstring.
    path : str or os.PathLike
        Named in error messages. Default is ``checkpoint``.

    Returns
    -------
    torch.nn.Module
        On the CPU, in train mode.
    """
    _check_header(ckpt, path)
    config = _checked_config(ckpt, path)
    model = _KINDS[config.kind](config)
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise MotifqError(f"{path}: checkpoint weights do not fit its model config ({first})") from None
    return model

"""Configuration dataclasses: what builds a model (:class:`ModelConfig`) and how it is trained
(:class:`TrainConfig`), each convertible to and from a JSON-safe dict (stored in checkpoints).

Model kinds and their published sizes (:data:`MODEL_DEFAULTS`)::

    danq         conv 320 x 26, max-pool 13, dropout 0.2, BiLSTM 320+320, dropout 0.5, dense 925
    danq-jaspar  conv 1024 x 30, max-pool 15, dropout 0.2, BiLSTM 512+512, dropout 0.5, dense 925
    deepsea      conv 320/480/960 x 8, max-pool 4 (after the first two), dropout 0.2/0.2/0.5, dense 925
    cnn          danq without the BiLSTM: conv 320 x 26, max-pool 13, dropout 0.2/0.5, dense 925
    lr           logistic regression on standardised counts of all 1..5-mers, L2 1e-6
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

from .errors import check

__all__ = ["ModelConfig", "TrainConfig", "MODEL_KINDS", "MODEL_DEFAULTS", "INITS", "OPTIMIZERS",
           "MAX_PARAMETERS", "MAX_LENGTH", "MAX_UNITS", "check_device",
           "check_model_options"]

MODEL_KINDS = ("danq", "danq-jaspar", "deepsea", "cnn", "lr")
INITS = ("uniform", "pytorch")
OPTIMIZERS = ("rmsprop", "adam", "adamw")

#: Per-kind defaults; any field not listed takes the :class:`ModelConfig` default.
MODEL_DEFAULTS = {
    "danq": dict(conv_kernels=320, conv_width=26, pool=13, lstm_units=320, dense=925, dropouts=(0.2, 0.5)),
    "danq-jaspar": dict(conv_kernels=1024, conv_width=30, pool=15, lstm_units=512, dense=925, dropouts=(0.2, 0.5)),
    "deepsea": dict(conv_kernels=320, conv_width=8, pool=4, lstm_units=0, dense=925, dropouts=(0.2, 0.2, 0.5),
                    extra_conv_kernels=(480, 960)),
    "cnn": dict(conv_kernels=320, conv_width=26, pool=13, lstm_units=0, dense=925, dropouts=(0.2, 0.5)),
    "lr": dict(conv_kernels=0, conv_width=0, pool=0, lstm_units=0, dense=0, dropouts=(), kmax=5, l2=1e-6),
}


#: Largest model a config may describe, in parameters (4 GB of float32): checked before anything
#: is allocated, so a typo (``--conv-kernels 1000000000``) or a hostile checkpoint is refused.
MAX_PARAMETERS = 1_000_000_000
#: Longest input, in bases.
MAX_LENGTH = 10_000_000
#: Most units of any one layer (kernels, LSTM units, dense units, targets).
MAX_UNITS = 1_000_000


def _type_ok(value, kind: str) -> bool:
    """Whether `value` has the annotated type `kind` (``int``, ``float``, ``str``, ``bool``,
    ``tuple[int, ...]``, ``X | None``); unknown annotations pass."""
    kinds = [k.strip() for k in kind.split("|")]
    if value is None:
        return "None" in kinds
    for k in kinds:
        if k == "bool" and isinstance(value, bool):
            return True
        if isinstance(value, bool):
            continue
        if k == "int" and isinstance(value, numbers.Integral):
            return True
        if k == "float" and isinstance(value, numbers.Real) and math.isfinite(value):
            return True
        if k == "str" and isinstance(value, str):
            return True
        if k.startswith("tuple[") and isinstance(value, (tuple, list)):
            inner = k[6:].split(",")[0].strip()
            return all(_type_ok(v, inner) for v in value)
        if k not in ("int", "float", "str", "bool", "None") and not k.startswith("tuple["):
            return True
    return False


def _check_types(cls, values: dict, what: str) -> None:
    """Every field of the dataclass `cls` in `values` has its annotated type; floats are finite."""
    for f in dataclasses.fields(cls):
        if f.name in values:
            value = values[f.name]
            name = f.name.replace("_", "-")
            kind = f.type if isinstance(f.type, str) else str(getattr(f.type, "__name__", f.type))
            check(_type_ok(value, kind), f"{what + ': ' if what else ''}{name}: must be {_describe(kind)}, got {value!r}")


def _describe(kind: str) -> str:
    words = {"int": "an integer", "float": "a finite number", "str": "a string", "bool": "true or false",
             "None": "None"}
    plural = {"int": "integers", "float": "finite numbers"}
    parts = [k.strip() for k in kind.split("|")]
    return " or ".join(f"a list of {plural.get(k[6:].split(',')[0].strip(), k)}" if k.startswith("tuple[")
                       else words.get(k, k) for k in parts)


def check_device(name: str, what: str = "device") -> str:
    """Return `name` after checking that it names a device motifq runs on: ``auto``, ``cpu``,
    ``cuda`` or ``cuda:N`` (whether CUDA is present is checked when the device is used).

    Parameters
    ----------
    name : str
    what : str
        Named in the message. Default is ``device``.

    Returns
    -------
    str
    """
    ok = isinstance(name, str) and (name in ("auto", "cpu", "cuda")
                                    or (name.startswith("cuda:") and name[5:].isdigit()))
    check(ok, f"{what}: {name!r} is not auto, cpu, cuda or cuda:N")
    return name


def _from_dict(cls, d: dict, what: str):
    check(isinstance(d, dict), f"{what}: expected a dict, got {type(d).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names)
    check(not unknown, f"{what}: unknown keys {', '.join(unknown)}")
    kwargs = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()}
    return cls(**kwargs)


def _to_dict(obj) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(obj).items()}


@dataclass
class ModelConfig:
    """Everything :func:`motifq.models.build_model` needs.

    Parameters
    ----------
    kind : str
        ``danq``, ``danq-jaspar``, ``deepsea``, ``cnn`` or ``lr``. Default is ``danq``.
    n_targets : int
        Number of outputs T (one logit per target). Default is 919.
    length : int
        Input length L in bases (the dense layer's size depends on it). Default is 1000.
    conv_kernels : int
        Kernels of the first convolution. Default is 320.
    conv_width : int
        Width of the first convolution's kernels (of every convolution for ``deepsea``).
        Default is 26.
    pool : int
        Max-pool window = stride. Default is 13.
    lstm_units : int
        Units per direction of the BiLSTM (0 for models without one). Default is 320.
    dense : int
        Units of the hidden dense ReLU layer. Default is 925.
    dropouts : tuple of float
        Dropout rates in the order the layers apply them (danq: after pooling, after the BiLSTM;
        deepsea: after each convolution block). Default is (0.2, 0.5).
    extra_conv_kernels : tuple of int
        ``deepsea`` only: kernels of the second and third convolutions. Default is ().
    kmax : int
        ``lr`` only: count all k-mers for k = 1..kmax. Default is 5.
    l2 : float
        L2 penalty on the weights (not biases) added to the loss: ``l2 * sum(w ** 2)``.
        Default is 0.0.
    init : str
        Initial weights. ``uniform``: the paper's, every weight U(-0.05, 0.05) and every bias 0.
        ``pytorch``: each layer's PyTorch default, weights and biases U(-1/sqrt(fan_in),
        1/sqrt(fan_in)) (for the LSTM, U(-1/sqrt(units), 1/sqrt(units))); trained from random
        kernels on small data it leaves the label prior far sooner. Default is ``uniform``.
    """

    kind: str = "danq"
    n_targets: int = 919
    length: int = 1000
    conv_kernels: int = 320
    conv_width: int = 26
    pool: int = 13
    lstm_units: int = 320
    dense: int = 925
    dropouts: tuple[float, ...] = (0.2, 0.5)
    extra_conv_kernels: tuple[int, ...] = ()
    kmax: int = 5
    l2: float = 0.0
    init: str = "uniform"

    def __post_init__(self):
        _check_types(type(self), self.__dict__, "model")
        self.dropouts = tuple(float(x) for x in self.dropouts)
        self.extra_conv_kernels = tuple(int(x) for x in self.extra_conv_kernels)
        self.validate()

    @classmethod
    def for_kind(cls, kind: str = "danq", **overrides) -> "ModelConfig":
        """The published configuration of `kind` with some fields replaced.

        Parameters
        ----------
        kind : str
            One of :data:`MODEL_KINDS`. Default is ``danq``.
        **overrides
            Field values; ``None`` values are ignored (so CLI options left unset keep the
            kind's defaults).

        Returns
        -------
        ModelConfig
        """
        check(kind in MODEL_KINDS, f"model: {kind!r} is not one of {', '.join(MODEL_KINDS)}")
        values = dict(MODEL_DEFAULTS[kind])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(kind=kind, **values)

    def validate(self) -> None:
        """Raise MotifqError when the sizes cannot make a model for `length`-base input, or would
        make one over :data:`MAX_PARAMETERS` (checked before anything is allocated)."""
        _check_model_fields(dataclasses.asdict(self))
        if self.kind == "lr":
            check(1 <= self.kmax <= 8, f"model: kmax must be in 1..8, got {self.kmax}")
            check(self.length >= self.kmax, f"model: length {self.length} is shorter than kmax {self.kmax}")
            check(self.n_parameters() <= MAX_PARAMETERS,
                  f"model: {self.n_parameters():,} parameters is more than motifq builds ({MAX_PARAMETERS:,})")
            return
        for name in ("conv_kernels", "conv_width", "pool", "dense"):
            check(getattr(self, name) >= 1, f"model: {name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.kind in ("danq", "danq-jaspar"):
            check(self.lstm_units >= 1, f"model: lstm-units must be >= 1, got {self.lstm_units}")
        need = 3 if self.kind == "deepsea" else 2
        check(len(self.dropouts) == need, f"model: {self.kind} needs {need} dropout rates, got {len(self.dropouts)}")
        if self.kind == "deepsea":
            check(len(self.extra_conv_kernels) == 2 and min(self.extra_conv_kernels) >= 1,
                  f"model: deepsea needs two extra_conv_kernels, got {self.extra_conv_kernels}")
        check(self.steps() >= 1, f"model: input length {self.length} is too short for conv width "
                                 f"{self.conv_width} and pool {self.pool}")
        check(self.n_parameters() <= MAX_PARAMETERS,
              f"model: {self.n_parameters():,} parameters is more than motifq builds ({MAX_PARAMETERS:,}); "
              f"check the sizes (conv-kernels {self.conv_kernels}, lstm-units {self.lstm_units}, dense {self.dense}, "
              f"length {self.length})")

    def n_parameters(self) -> int:
        """The number of weights and biases of the model this config builds (computed, nothing
        allocated)."""
        T, D, K, w = self.n_targets, self.dense, self.conv_kernels, self.conv_width
        if self.kind == "lr":
            n_features = sum(4 ** k for k in range(1, self.kmax + 1))
            return n_features * T + T
        out = D * T + T
        if self.kind == "deepsea":
            k2, k3 = self.extra_conv_kernels
            convs = (4 * w + 1) * K + (K * w + 1) * k2 + (k2 * w + 1) * k3
            return convs + self.steps() * k3 * D + D + out
        conv = (4 * w + 1) * K
        if self.kind == "cnn":
            return conv + self.steps() * K * D + D + out
        U = self.lstm_units
        lstm = 2 * (4 * U * (K + U) + 8 * U)
        return conv + lstm + self.steps() * 2 * U * D + D + out

    def steps(self) -> int:
        """Positions left after the convolution/pooling stack for `length`-base input (0 for lr)."""
        if self.kind == "lr":
            return 0
        n = (self.length - self.conv_width + 1) // self.pool
        if self.kind == "deepsea":
            n = (n - self.conv_width + 1) // self.pool
            n = n - self.conv_width + 1
        return max(n, 0)

    def to_dict(self) -> dict:
        """JSON-safe dict (tuples become lists)."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        return _from_dict(cls, d, "model config")


class _Values:
    """Attribute access to a dict of field values."""

    def __init__(self, d: dict):
        self.__dict__.update(d)


def _check_model_fields(values: dict) -> None:
    """Types and per-field ranges of ModelConfig values (no checks across fields)."""
    _check_types(ModelConfig, values, "model")
    v = _Values(values)
    check(v.kind in MODEL_KINDS, f"model: {v.kind!r} is not one of {', '.join(MODEL_KINDS)}")
    check(1 <= v.n_targets <= MAX_UNITS, f"model: n-targets must be in 1..{MAX_UNITS}, got {v.n_targets}")
    check(1 <= v.length <= MAX_LENGTH, f"model: length must be in 1..{MAX_LENGTH}, got {v.length}")
    for name in ("conv_kernels", "lstm_units", "dense"):
        check(0 <= getattr(v, name) <= MAX_UNITS,
              f"model: {name.replace('_', '-')} must be in 0..{MAX_UNITS}, got {getattr(v, name)}")
    check(all(0 <= k <= MAX_UNITS for k in v.extra_conv_kernels),
          f"model: extra-conv-kernels must be in 0..{MAX_UNITS}, got {v.extra_conv_kernels}")
    for name in ("conv_width", "pool"):
        check(0 <= getattr(v, name) <= MAX_LENGTH,
              f"model: {name.replace('_', '-')} must be in 0..{MAX_LENGTH}, got {getattr(v, name)}")
    check(all(0.0 <= p < 1.0 for p in v.dropouts), f"model: dropouts must be in [0, 1), got {v.dropouts}")
    check(v.l2 >= 0, f"model: l2 must be >= 0, got {v.l2}")
    check(v.init in INITS, f"model: init {v.init!r} is not one of {', '.join(INITS)}")
    check(1 <= v.kmax <= 8, f"model: kmax must be in 1..8, got {v.kmax}")


def check_model_options(kind: str = "danq", **overrides) -> None:
    """Check model options before the data are read: each value's type and range, as
    :meth:`ModelConfig.validate` will (the checks that need the input length and the number of
    targets come when the config is built).

    Parameters
    ----------
    kind : str
        One of :data:`MODEL_KINDS`. Default is ``danq``.
    **overrides
        Field values; ``None`` values are ignored.
    """
    check(kind in MODEL_KINDS, f"model: {kind!r} is not one of {', '.join(MODEL_KINDS)}")
    values = {f.name: f.default for f in dataclasses.fields(ModelConfig)}
    values.update(MODEL_DEFAULTS[kind], kind=kind)
    values.update({k: v for k, v in overrides.items() if v is not None})
    _check_model_fields(values)


@dataclass
class TrainConfig:
    """How :func:`motifq.train.fit` trains.

    Parameters
    ----------
    epochs : int
        Maximum number of passes over the training data. Default is 60.
    max_steps : int or None
        Stop after this many optimizer steps in total. Default is None (no limit).
    batch_size : int
        Minibatch size (per process under DistributedDataParallel). Default is 100.
    optimizer : str
        ``rmsprop`` (as the paper: Keras RMSprop, rho 0.9, epsilon 1e-6), ``adam`` or ``adamw``.
        Default is ``rmsprop``.
    lr : float
        Learning rate. Default is 0.001.
    weight_decay : float
        Decoupled weight decay for ``adamw``. Default is 0.01.
    patience : int
        Stop after this many epochs without a better validation loss. Default is 5.
    seed : int
        Seeds initialisation, dropout, data order and augmentation. Default is 0.
    device : str
        ``auto`` (CUDA when present), ``cpu`` or ``cuda``. Default is ``auto``.
    rc_augment : bool
        Replace each training sample by its reverse complement with probability 1/2.
        Default is True.
    amp : bool
        bf16 autocast on CUDA (ignored on CPU). Default is True.
    jaspar_init : str or None
        Seed first-layer kernels from these motifs (a bundled release such as ``jaspar2016`` or a
        MEME/JASPAR file). Default is None.
    jaspar_fraction : float
        Fraction of the first-layer kernels to seed. Default is 0.5.
    jaspar_reverse_complements : bool
        Also seed the reverse complement of each chosen motif in another kernel (while kernels
        are left). Default is False.
    valid_fraction : float
        For FASTA + labels input: the seeded fraction held out for validation. Default is 0.1.
    checkpoint_minutes : float
        Also write the resumable last checkpoint every this many minutes within an epoch
        (0: only at epoch ends). Default is 10.0.
    """

    epochs: int = 60
    max_steps: int | None = None
    batch_size: int = 100
    optimizer: str = "rmsprop"
    lr: float = 0.001
    weight_decay: float = 0.01
    patience: int = 5
    seed: int = 0
    device: str = "auto"
    rc_augment: bool = True
    amp: bool = True
    jaspar_init: str | None = None
    jaspar_fraction: float = 0.5
    jaspar_reverse_complements: bool = False
    valid_fraction: float = 0.1
    checkpoint_minutes: float = 10.0

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raise MotifqError on values that cannot train (types, finite numbers, ranges)."""
        _check_types(type(self), dataclasses.asdict(self), "")
        check(self.epochs >= 1, f"epochs: must be >= 1, got {self.epochs}")
        check(self.max_steps is None or self.max_steps >= 1, f"max-steps: must be >= 1, got {self.max_steps}")
        check(self.batch_size >= 1, f"batch-size: must be >= 1, got {self.batch_size}")
        check(self.optimizer in OPTIMIZERS, f"optimizer: {self.optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
        check(self.lr > 0, f"lr: must be > 0, got {self.lr}")
        check(self.weight_decay >= 0, f"weight-decay: must be >= 0, got {self.weight_decay}")
        check(0 <= self.seed < 2 ** 32, f"seed: must be in 0..{2 ** 32 - 1}, got {self.seed}")
        check(self.patience >= 1, f"patience: must be >= 1, got {self.patience}")
        check_device(self.device)
        check(0.0 < self.jaspar_fraction <= 1.0, f"jaspar-fraction: must be in (0, 1], got {self.jaspar_fraction}")
        check(0.0 < self.valid_fraction < 1.0, f"valid-fraction: must be in (0, 1), got {self.valid_fraction}")
        check(self.checkpoint_minutes >= 0, f"checkpoint-minutes: must be >= 0, got {self.checkpoint_minutes}")

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        return _from_dict(cls, d, "train config")

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

__all__ = ["ModelConfig", "TrainConfig", "MODEL_KINDS", "MODEL_DEFAULTS", "INITS", "OPTIMIZERS", "RECIPES", "RECIPE_LOSS_LR", "LOSSES",
           "OUTPUT_BIASES", "MAX_PARAMETERS", "MAX_LENGTH", "MAX_UNITS", "check_device", "check_model_options"]

MODEL_KINDS = ("danq", "danq-jaspar", "deepsea", "cnn", "lr")
INITS = ("uniform", "pytorch")
OPTIMIZERS = ("rmsprop", "adam", "adamw")
LOSSES = ("bce", "weighted", "focal")
OUTPUT_BIASES = ("prior", "zero")

#: Training recipes: the value of every recipe-dependent setting (a field left at None takes
#: its recipe's value; a value given explicitly wins). ``default`` is motifq's, chosen by
#: measurement (docs/training.md); ``paper`` is DanQ as published (Quang & Xie 2016, Keras):
#: RMSprop lr 1e-3 with Keras's rho 0.9 and epsilon 1e-6, U(-0.05, 0.05) weights, zero biases,
#: batch 100, validation once an epoch, patience 5 epochs. ``init`` goes to the ModelConfig
#: (:meth:`ModelConfig.for_kind`); the rest to the TrainConfig. Dropout is the model kind's
#: published rate under both recipes (danq 0.2 / 0.5).
RECIPES = {
    "default": dict(init="pytorch", optimizer="adamw", lr=0.003, batch_size=100, patience=6, warmup=0,
                    lr_patience=2, clip_norm=1.0, output_bias="zero", dense_fan_in=0, kmer_init=0.5,
                    seed_threshold=0.5),
    "paper": dict(init="uniform", optimizer="rmsprop", lr=0.001, batch_size=100, patience=5, warmup=0,
                  lr_patience=0, clip_norm=0.0, output_bias="zero", dense_fan_in=0, kmer_init=0.0,
                  seed_threshold=0.0),
}

#: A recipe's learning rate under a loss, where it differs from the recipe's own (measured,
#: docs/training.md): with the weighted loss's positive weights (up to 50) the default recipe's
#: 3e-3 never left the label prior, 1e-3 did.
RECIPE_LOSS_LR = {("default", "weighted"): 0.001}

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
        kernels on small data it leaves the label prior far sooner. Default is ``pytorch`` (the
        default recipe's; the ``paper`` recipe's is ``uniform``).
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
    init: str = "pytorch"

    def __post_init__(self):
        _check_types(type(self), self.__dict__, "model")
        self.dropouts = tuple(float(x) for x in self.dropouts)
        self.extra_conv_kernels = tuple(int(x) for x in self.extra_conv_kernels)
        self.validate()

    @classmethod
    def for_kind(cls, kind: str = "danq", recipe: str = "default", **overrides) -> "ModelConfig":
        """The published configuration of `kind`, initialised as `recipe` says, with some fields
        replaced.

        Parameters
        ----------
        kind : str
            One of :data:`MODEL_KINDS`. Default is ``danq``.
        recipe : str
            A key of :data:`RECIPES`; sets ``init`` unless given. Default is ``default``.
        **overrides
            Field values; ``None`` values are ignored (so CLI options left unset keep the
            kind's and the recipe's defaults).

        Returns
        -------
        ModelConfig
        """
        check(kind in MODEL_KINDS, f"model: {kind!r} is not one of {', '.join(MODEL_KINDS)}")
        check(recipe in RECIPES, f"recipe: {recipe!r} is not one of {', '.join(RECIPES)}")
        values = dict(MODEL_DEFAULTS[kind], init=RECIPES[recipe]["init"])
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

    The fields that default to None take the value of the `recipe` (:data:`RECIPES`) in
    ``__post_init__``; a value given explicitly wins over the recipe.

    Parameters
    ----------
    recipe : str
        ``default`` (AdamW at 3e-3, batch 100, clipping, plateau halving once off the prior)
        or ``paper`` (DanQ as published). Default is ``default``.
    epochs : int
        Maximum number of passes over the training data (with `max_steps`, the budget).
        Default is 60.
    max_steps : int or None
        Stop after this many optimizer steps in total. Default is None (no limit).
    batch_size : int or None
        Minibatch size (per process under DistributedDataParallel). Default is None: the
        recipe's (default 100, paper 100).
    optimizer : str or None
        ``rmsprop`` (Keras RMSprop as the paper: rho 0.9, epsilon 1e-6), ``adam`` or ``adamw``.
        Default is None: the recipe's (default ``adamw``, paper ``rmsprop``).
    lr : float or None
        Peak learning rate. Default is None: the recipe's (default 0.003, paper 0.001), except
        where :data:`RECIPE_LOSS_LR` sets one for the recipe and loss (default with ``weighted``:
        0.001).
    weight_decay : float
        Decoupled weight decay for ``adamw``. Default is 0.01.
    dense_fan_in : int or None
        Each dense (``nn.Linear``) layer with more inputs than this learns at ``lr *
        dense_fan_in / fan_in`` (see :func:`motifq.train.param_groups`: full-rate Adam steps
        can kill the ReLU units of the wide dense layer after the convolution, but scaling
        them slowed learning where measured); 0: every layer at `lr`. Default is None: the
        recipe's (default 0, paper 0).
    warmup : int or None
        Training samples over which the learning rate rises linearly from 0 to `lr` (at most a
        tenth of the budget, `epochs` epochs; 0: no warm-up). Default is None: the recipe's (default 0, paper 0).
    lr_patience : int or None
        Halve the learning rate after this many validation checks in a row without a better
        validation loss, once the model has left the label prior (0: never). Default is None:
        the recipe's (default 2, paper 0).
    clip_norm : float or None
        Clip the gradient's global L2 norm to this (0: no clipping). Default is None: the
        recipe's (default 1.0, paper 0.0).
    output_bias : str or None
        Initial bias of each output: ``prior`` (the constant that minimises the training loss
        for the target's training frequency; for BCE its log-odds ``log(p / (1 - p))``) or
        ``zero``. Default is None: the recipe's (default ``zero``, paper ``zero``).
    loss : str
        ``bce`` (mean binary cross-entropy), ``weighted`` (BCE with each target's positives
        weighted by ``(1 - p) / p`` of its training frequency p, capped at `pos_weight_max`)
        or ``focal`` (BCE times ``(1 - p_t) ** focal_gamma``). Default is ``bce``.
    pos_weight_max : float
        Cap of the per-target positive weight of the ``weighted`` loss. Default is 50.0.
    focal_gamma : float
        Exponent of the ``focal`` loss. Default is 2.0.
    val_every : int or None
        Validate every this many training samples (rounded to whole steps); patience and
        plateau count these checks. Default is None: automatic; the paper recipe once an epoch;
        the default recipe once an epoch clipped to 10,000..500,000 samples and at most a
        tenth of the budget (`epochs` epochs) (so small data get several checks per budget, 4.4 M sequences
        about nine per epoch).
    patience : int or None
        Stop after this many validation checks in a row without a better validation loss, but
        never while the best validation loss is within `prior_margin` of the label prior's.
        Default is None: the recipe's (default 6, paper 5).
    prior_margin : float
        The model has left the label prior once its best validation loss is below
        ``(1 - prior_margin)`` times the prior's loss (the loss of predicting each target's
        training frequency). Default is 0.02.
    seed : int
        Seeds initialisation, dropout, data order and augmentation. Default is 0.
    device : str
        ``auto`` (CUDA when present), ``cpu`` or ``cuda``. Default is ``auto``.
    rc_augment : bool
        Replace each training sample by its reverse complement with probability 1/2.
        Default is True.
    amp : bool
        bf16 autocast on CUDA (ignored on CPU). Default is True.
    kmer_init : float or None
        Fraction of the first-layer kernels seeded with motifs grown from the k-mers most
        enriched in each target's positive training sequences (:mod:`motifq.kmers`; kernels
        seeded by `jaspar_init` are left alone; targets whose labels no k-mer separates seed
        nothing; 0: off). Default is None: the recipe's (default 0.5, paper 0).
    seed_threshold : float or None
        Bias of each seeded first-layer kernel (`kmer_init` and `jaspar_init`): minus this
        fraction of the kernel's best score (the sum over its columns of the largest weight),
        so that it fires only where a site scores more than that fraction of a perfect match
        and stays at zero over the background (0: a bias drawn from U(-1, 0), as DanQ-JASPAR
        was published, under which a seeded kernel fires on most positions). Default is None:
        the recipe's (default 0.5, paper 0).
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
        Also write the resumable last checkpoint every this many minutes between checks
        (0: only at checks). Default is 10.0.
    """

    recipe: str = "default"
    epochs: int = 60
    max_steps: int | None = None
    batch_size: int | None = None
    optimizer: str | None = None
    lr: float | None = None
    weight_decay: float = 0.01
    dense_fan_in: int | None = None
    warmup: int | None = None
    lr_patience: int | None = None
    clip_norm: float | None = None
    output_bias: str | None = None
    loss: str = "bce"
    pos_weight_max: float = 50.0
    focal_gamma: float = 2.0
    val_every: int | None = None
    patience: int | None = None
    prior_margin: float = 0.02
    seed: int = 0
    device: str = "auto"
    rc_augment: bool = True
    amp: bool = True
    kmer_init: float | None = None
    seed_threshold: float | None = None
    jaspar_init: str | None = None
    jaspar_fraction: float = 0.5
    jaspar_reverse_complements: bool = False
    valid_fraction: float = 0.1
    checkpoint_minutes: float = 10.0

    def __post_init__(self):
        check(self.recipe in RECIPES, f"recipe: {self.recipe!r} is not one of {', '.join(RECIPES)}")
        if self.lr is None:
            self.lr = RECIPE_LOSS_LR.get((self.recipe, self.loss))
        for name, value in RECIPES[self.recipe].items():
            if name != "init" and getattr(self, name) is None:
                setattr(self, name, value)
        self.validate()

    def validate(self) -> None:
        """Raise MotifqError on values that cannot train (types, finite numbers, ranges)."""
        _check_types(type(self), dataclasses.asdict(self), "")
        check(self.recipe in RECIPES, f"recipe: {self.recipe!r} is not one of {', '.join(RECIPES)}")
        check(self.epochs >= 1, f"epochs: must be >= 1, got {self.epochs}")
        check(self.max_steps is None or self.max_steps >= 1, f"max-steps: must be >= 1, got {self.max_steps}")
        check(self.batch_size >= 1, f"batch-size: must be >= 1, got {self.batch_size}")
        check(self.optimizer in OPTIMIZERS, f"optimizer: {self.optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
        check(self.lr > 0, f"lr: must be > 0, got {self.lr}")
        check(self.weight_decay >= 0, f"weight-decay: must be >= 0, got {self.weight_decay}")
        check(0 <= self.seed < 2 ** 32, f"seed: must be in 0..{2 ** 32 - 1}, got {self.seed}")
        check_device(self.device)
        check(self.warmup >= 0, f"warmup: must be >= 0, got {self.warmup}")
        check(self.dense_fan_in >= 0, f"dense-fan-in: must be >= 0, got {self.dense_fan_in}")
        check(self.lr_patience >= 0, f"lr-patience: must be >= 0, got {self.lr_patience}")
        check(self.clip_norm >= 0, f"clip-norm: must be >= 0, got {self.clip_norm}")
        check(self.output_bias in OUTPUT_BIASES,
              f"output-bias: {self.output_bias!r} is not one of {', '.join(OUTPUT_BIASES)}")
        check(self.loss in LOSSES, f"loss: {self.loss!r} is not one of {', '.join(LOSSES)}")
        check(self.pos_weight_max >= 1, f"pos-weight-max: must be >= 1, got {self.pos_weight_max}")
        check(self.focal_gamma >= 0, f"focal-gamma: must be >= 0, got {self.focal_gamma}")
        check(self.val_every is None or self.val_every >= 1, f"val-every: must be >= 1, got {self.val_every}")
        check(self.patience >= 1, f"patience: must be >= 1, got {self.patience}")
        check(0.0 <= self.prior_margin < 1.0, f"prior-margin: must be in [0, 1), got {self.prior_margin}")
        check(0.0 <= self.kmer_init <= 1.0, f"kmer-init: must be in [0, 1], got {self.kmer_init}")
        check(0.0 <= self.seed_threshold < 1.0, f"seed-threshold: must be in [0, 1), got {self.seed_threshold}")
        check(0.0 < self.jaspar_fraction <= 1.0, f"jaspar-fraction: must be in (0, 1], got {self.jaspar_fraction}")
        check(0.0 < self.valid_fraction < 1.0, f"valid-fraction: must be in (0, 1), got {self.valid_fraction}")
        check(self.checkpoint_minutes >= 0, f"checkpoint-minutes: must be >= 0, got {self.checkpoint_minutes}")

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Inverse of :meth:`to_dict`; unknown keys are an error. A dict written before recipes
        existed (no ``recipe`` key) keeps its stored values; one written before the seed
        threshold existed (no ``seed_threshold`` key) seeded with U(-1, 0) biases, so it reads 0."""
        if isinstance(d, dict) and "seed_threshold" not in d:
            d = dict(d, seed_threshold=0.0)
        return _from_dict(cls, d, "train config")

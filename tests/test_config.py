"""motifq.config: the published model sizes, validation at construction, and the JSON round trip
that checkpoints rely on."""
from __future__ import annotations

import json

import pytest

from motifq.config import MODEL_DEFAULTS, MODEL_KINDS, ModelConfig, TrainConfig
from motifq.errors import MotifqError


def test_published_sizes():
    danq = ModelConfig.for_kind("danq")
    assert (danq.conv_kernels, danq.conv_width, danq.pool, danq.lstm_units, danq.dense) == (320, 26, 13, 320, 925)
    assert danq.dropouts == (0.2, 0.5) and danq.n_targets == 919 and danq.length == 1000
    # DanQ on 1000 bp: (1000 - 26 + 1) // 13 = 75 pooled positions go into the BiLSTM
    assert danq.steps() == 75
    jaspar = ModelConfig.for_kind("danq-jaspar")
    assert (jaspar.conv_kernels, jaspar.conv_width, jaspar.pool, jaspar.lstm_units) == (1024, 30, 15, 512)
    assert jaspar.steps() == (1000 - 30 + 1) // 15
    # DeepSEA: three convolutions of width 8, pooling by 4 after the first two
    assert ModelConfig.for_kind("deepsea").steps() == ((1000 - 7) // 4 - 7) // 4 - 7
    assert ModelConfig.for_kind("lr").steps() == 0


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_round_trip_through_json(kind):
    config = ModelConfig.for_kind(kind, n_targets=7, length=300)
    again = ModelConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and isinstance(again.dropouts, tuple)
    for key, value in MODEL_DEFAULTS[kind].items():
        assert getattr(again, key) == value
    train = TrainConfig(epochs=3, optimizer="adam", lr=0.003, max_steps=50)
    assert TrainConfig.from_dict(json.loads(json.dumps(train.to_dict()))) == train


def test_overrides_none_keeps_the_kinds_defaults():
    config = ModelConfig.for_kind("cnn", conv_kernels=None, dense=16)
    assert config.conv_kernels == 320 and config.dense == 16 and config.lstm_units == 0


@pytest.mark.parametrize("make,message", [
    (lambda: ModelConfig.for_kind("rnn"), "is not one of"),
    (lambda: ModelConfig.for_kind("danq", length=30), "too short"),
    (lambda: ModelConfig.for_kind("danq", dropouts=(0.2,)), "needs 2 dropout rates"),
    (lambda: ModelConfig.for_kind("danq", dropouts=(0.2, 1.0)), "dropouts must be in"),
    (lambda: ModelConfig.for_kind("lr", kmax=9), "kmax must be in 1..8"),
    (lambda: ModelConfig.from_dict({"kind": "danq", "colour": "blue"}), "unknown keys colour"),
    (lambda: TrainConfig(epochs=0), "epochs: must be >= 1"),
    (lambda: TrainConfig(optimizer="sgd"), "is not one of rmsprop, adam, adamw"),
    (lambda: TrainConfig(lr=0), "lr: must be > 0"),
    (lambda: TrainConfig(device="tpu"), "device"),
    (lambda: TrainConfig.from_dict([1, 2]), "expected a dict"),
])
def test_bad_values_are_one_line_errors(make, message):
    with pytest.raises(MotifqError, match=message):
        make()

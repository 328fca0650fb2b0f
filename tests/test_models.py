"""Models: shapes for every kind, batch independence, encoding, prediction, checkpoints."""
import math

import numpy as np
import pytest
import torch

from motifq.config import MODEL_KINDS, ModelConfig, TrainConfig
from motifq.errors import MotifqError
from motifq.models import (build_model, fit_kmer_stats, load_checkpoint, one_hot_tokens, predict,
                           save_checkpoint)
from motifq.sequence import one_hot, reverse_complement_tokens

SMALL = dict(n_targets=3, length=150, conv_kernels=8, conv_width=9, pool=5, lstm_units=6, dense=12)



def _small(kind, **kw):
    over = dict(SMALL)
    if kind == "deepsea":
        over.update(conv_width=5, pool=3, extra_conv_kernels=(6, 7))
    if kind == "lr":
        over = dict(n_targets=3, length=150, kmax=3)
    over.update(kw)
    return ModelConfig.for_kind(kind, **over)


def _tokens(n, length, seed=0):
    return np.random.default_rng(seed).integers(0, 4, size=(n, length), dtype=np.uint8)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_every_kind_builds_and_maps_n4l_to_nt(kind):
    torch.manual_seed(0)
    config = _small(kind)
    model = build_model(config)
    x = one_hot_tokens(torch.from_numpy(_tokens(5, 150)))
    assert model(x).shape == (5, 3)
    if kind == "lr":
        assert model.conv is None
    else:
        assert isinstance(model.conv, torch.nn.Conv1d)
        assert model.conv.in_channels == 4 and model.conv.weight.shape == (config.conv_kernels, 4, config.conv_width)


@pytest.mark.parametrize("kind,length,expected", [("danq", 1000, 75), ("danq-jaspar", 1000, 64),
                                                  ("deepsea", 1000, 53), ("cnn", 1000, 75)])
def test_published_sizes(kind, length, expected):
    config = ModelConfig.for_kind(kind, length=length)
    assert config.steps() == expected


def test_danq_parameter_count_matches_the_paper():
    model = build_model(ModelConfig.for_kind("danq"))
    assert abs(sum(p.numel() for p in model.parameters()) - 46.9e6) < 0.05e6
    assert model.lstm.batch_first and model.lstm.bidirectional and model.lstm.hidden_size == 320


def test_overrides_change_the_layers():
    model = build_model(ModelConfig.for_kind("danq", n_targets=2, length=200, conv_kernels=16, conv_width=11,
                                             pool=7, lstm_units=5, dense=9))
    assert model.conv.weight.shape == (16, 4, 11)
    assert model.lstm.hidden_size == 5
    assert model.dense.in_features == (200 - 11 + 1) // 7 * 10 and model.dense.out_features == 9
    assert model.out.out_features == 2
    # None overrides keep the kind's defaults
    assert ModelConfig.for_kind("danq-jaspar", conv_kernels=None).conv_kernels == 1024


def test_bad_configs_are_one_line_errors():
    with pytest.raises(MotifqError, match="too short"):
        ModelConfig.for_kind("danq", length=20)
    with pytest.raises(MotifqError, match="not one of"):
        ModelConfig.for_kind("transformer")
    with pytest.raises(MotifqError, match="unknown keys"):
        ModelConfig.from_dict({"kind": "danq", "heads": 4})


def test_config_round_trip_is_json_safe():
    import json

    for kind in MODEL_KINDS:
        c = _small(kind)
        assert ModelConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    t = TrainConfig(epochs=3, optimizer="adam", jaspar_init="jaspar2016")
    assert TrainConfig.from_dict(json.loads(json.dumps(t.to_dict()))) == t


def test_initialisation_is_uniform_and_biases_zero():
    torch.manual_seed(0)
    model = build_model(ModelConfig.for_kind("danq", recipe="paper", **SMALL))
    for name, p in model.named_parameters():
        if "bias" in name.rsplit(".", 1)[-1]:
            assert torch.all(p == 0), name
        else:
            assert p.abs().max() <= 0.05 and p.abs().max() > 0.04, name


def test_pytorch_initialisation_scales_each_layer_by_its_fan_in():
    torch.manual_seed(0)
    model = build_model(ModelConfig.for_kind("danq", init="pytorch", **SMALL))
    c = model.config
    bounds = {"conv": 1 / math.sqrt(4 * c.conv_width), "lstm": 1 / math.sqrt(c.lstm_units),
              "dense": 1 / math.sqrt(model.dense.in_features), "out": 1 / math.sqrt(c.dense)}
    for name, p in model.named_parameters():
        bound = bounds[name.split(".")[0]]
        assert p.abs().max() <= bound, name
        if p.ndim > 1:
            assert p.abs().max() > 0.9 * bound, name     # the whole range is used
        assert bool((p != 0).all()), name                # biases too: none is left at 0
    with pytest.raises(MotifqError, match="init"):
        ModelConfig.for_kind("danq", init="glorot")


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_eval_output_of_a_sample_does_not_depend_on_its_batch(kind):
    torch.manual_seed(1)
    model = build_model(_small(kind)).eval()
    if kind == "lr":
        fit_kmer_stats(model, _tokens(50, 150, seed=3))
    x = one_hot_tokens(torch.from_numpy(_tokens(6, 150, seed=2)))
    with torch.no_grad():
        together = model(x)
        alone = torch.cat([model(x[i:i + 1]) for i in range(6)])
        swapped = model(x.flip(0)).flip(0)
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(together, swapped, atol=1e-5, rtol=1e-5)
    assert (together[0] - together[1]).abs().max() > 1e-6  # different samples, different outputs


def test_one_hot_tokens_matches_numpy_encoder_and_n_is_a_quarter():
    seqs = ["ACGTN", "TTGCA"]
    from motifq.sequence import tokenize

    tok = torch.from_numpy(np.stack([tokenize(s) for s in seqs]))
    x = one_hot_tokens(tok)
    assert x.shape == (2, 4, 5) and x.dtype == torch.float32
    np.testing.assert_array_equal(x.numpy(), one_hot(seqs))
    assert torch.all(x[0, :, 4] == 0.25)
    assert one_hot_tokens(tok.long()).equal(x)


def test_kmer_counts_are_exact():
    from motifq.sequence import tokenize

    model = build_model(ModelConfig.for_kind("lr", n_targets=1, length=6, kmax=2))
    x = one_hot_tokens(torch.from_numpy(tokenize("AACGTN")[None]))
    c = model.kmer_counts(x)[0].numpy()
    assert c.shape == (4 + 16,)
    np.testing.assert_array_equal(c[:4], [2, 1, 1, 1])          # A, C, G, T; N not counted
    pairs = {"AA": 1, "AC": 1, "CG": 1, "GT": 1}                 # TN not counted
    expect = np.zeros(16)
    for p, n in pairs.items():
        expect["ACGT".index(p[0]) * 4 + "ACGT".index(p[1])] = n
    np.testing.assert_array_equal(c[4:], expect)


def test_fit_kmer_stats_standardises_features():
    model = build_model(ModelConfig.for_kind("lr", n_targets=1, length=100, kmax=2))
    tokens = _tokens(400, 100)
    fit_kmer_stats(model, tokens)
    with torch.no_grad():
        z = (model.kmer_counts(one_hot_tokens(torch.from_numpy(tokens))) - model.feature_mean) / model.feature_std
    np.testing.assert_allclose(z.mean(0).numpy(), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(0, unbiased=False).numpy(), 1, atol=1e-3)


def test_predict_averages_strands_and_streams_into_out():
    torch.manual_seed(0)
    model = build_model(_small("danq"))
    tokens = _tokens(23, 150)
    p = predict(model, tokens, batch_size=7)
    assert p.shape == (23, 3) and p.dtype == np.float32 and np.all((p > 0) & (p < 1))
    # reverse-complement symmetric: the prediction for a sequence equals that for its RC
    p_rc = predict(model, reverse_complement_tokens(tokens), batch_size=5)
    np.testing.assert_allclose(p, p_rc, atol=1e-6)
    # forward only: the sigmoid of the logits
    with torch.no_grad():
        ref = torch.sigmoid(model.eval()(one_hot_tokens(torch.from_numpy(tokens)))).numpy()
    np.testing.assert_allclose(predict(model, tokens, rc=False), ref, atol=1e-6)
    out = np.zeros((23, 3), dtype=np.float32)
    assert predict(model, tokens, batch_size=10, out=out) is out
    np.testing.assert_allclose(out, p, atol=1e-6)


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    for kind in ("danq", "lr"):
        model = build_model(_small(kind))
        if kind == "lr":
            fit_kmer_stats(model, _tokens(50, 150))
        path = save_checkpoint(tmp_path / f"{kind}.pt", model, targets=["a", "b", "c"],
                               train_config=TrainConfig(epochs=2), jaspar=[{"kernel": 0, "motif_id": "MA1"}],
                               history=[{"epoch": 1, "valid_loss": 0.5}])
        # readable with plain weights_only loading
        raw = torch.load(path, weights_only=True)
        assert raw["format"] == "motifq-checkpoint" and raw["alphabet"] == "ACGT"
        loaded, ckpt = load_checkpoint(path)
        assert ckpt["targets"] == ["a", "b", "c"] and ckpt["jaspar"][0]["motif_id"] == "MA1"
        assert ckpt["train_config"]["epochs"] == 2 and ckpt["history"][0]["valid_loss"] == 0.5
        assert not loaded.training
        for k, v in model.state_dict().items():
            assert torch.equal(v, loaded.state_dict()[k]), k


def test_bad_checkpoints_are_one_line_errors(tmp_path):
    with pytest.raises(MotifqError, match="no such file"):
        load_checkpoint(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(MotifqError, match="not a motifq checkpoint"):
        load_checkpoint(junk)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(MotifqError, match="not a motifq checkpoint"):
        load_checkpoint(other)
    good = save_checkpoint(tmp_path / "good.pt", build_model(_small("cnn")))
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(MotifqError, match="not a motifq checkpoint"):
        load_checkpoint(truncated)
    ckpt = torch.load(good, weights_only=True)
    ckpt["model_config"]["conv_kernels"] = 99
    torch.save(ckpt, tmp_path / "mismatch.pt")
    with pytest.raises(MotifqError, match="do not fit"):
        load_checkpoint(tmp_path / "mismatch.pt")


# ---------------------------------------------------------------------------------------------
# JASPAR seeding
# ---------------------------------------------------------------------------------------------
def test_seed_kernels_writes_pfm_minus_quarter_in_acgt_order():
    from motifq.jaspar import seed_kernels
    from motifq.motif import Motif

    torch.manual_seed(0)
    model = build_model(ModelConfig.for_kind("danq", init="uniform", **dict(SMALL, conv_kernels=20, conv_width=16)))
    before = model.conv.weight.detach().clone()
    rng = np.random.default_rng(0)
    motifs = [Motif(id=f"M{i}", name=f"m{i}", counts=rng.integers(0, 20, size=(6 + i, 4)) + 1.0) for i in range(8)]
    motifs.append(Motif(id="ONEHOT", name="acgt", counts=np.eye(4)[[0, 1, 2, 3]] * 10))   # A, C, G, T
    seeded = seed_kernels(model.conv, motifs, fraction=0.5, add_reverse_complements=True, rng=1)
    assert len(seeded) == 10 and len({d["kernel"] for d in seeded}) == 10
    W = model.conv.weight.detach()
    b = model.conv.bias.detach()
    by_id = {m.id: m for m in motifs}
    for d in seeded:
        m = by_id[d["motif_id"]]
        m = m if d["strand"] == "+" else m.reverse_complement()
        k, off, w = d["kernel"], d["offset"], d["width"]
        assert w == m.width and d["trimmed"] == [0, 0]
        pad = min(3, (16 - w) // 2)                                # >= 3 untouched columns where possible
        assert pad <= off and off + w <= 16 - pad
        np.testing.assert_allclose(W[k, :, off:off + w].numpy(), m.probabilities().T - 0.25, atol=1e-6)
        untouched = torch.ones(16, dtype=torch.bool)
        untouched[off:off + w] = False
        assert torch.equal(W[k, :, untouched], before[k, :, untouched])
        assert -1.0 <= b[k] <= 0.0 and b[k] != 0
    others = sorted(set(range(20)) - {d["kernel"] for d in seeded})
    assert torch.equal(W[others], before[others]) and torch.all(b[others] == 0)
    # channel order: a one-hot ACGT motif puts 0.75 on A, C, G, T at successive columns
    for d in seeded:
        if d["motif_id"] == "ONEHOT":
            block = W[d["kernel"], :, d["offset"]:d["offset"] + 4].numpy()
            diag = np.diag(block) if d["strand"] == "+" else np.diag(block[::-1, ::-1])
            np.testing.assert_allclose(diag, 0.75, atol=1e-6)
            assert d["strand"] == "+" or block[3, 0] == pytest.approx(0.75)   # RC of ACGT is ACGT


def test_seed_kernels_threshold_puts_the_bias_at_a_fraction_of_the_best_score():
    """threshold > 0: bias = -threshold * the kernel's best score; the same kernels, windows and
    weights as threshold 0 (the U(-1, 0) draw stays in the stream); a seeded kernel then stays
    at zero on background that fires under the published bias."""
    from motifq.jaspar import seed_kernels
    from motifq.motif import Motif

    rng = np.random.default_rng(3)
    motifs = [Motif(id=f"M{i}", counts=np.eye(4)[rng.integers(0, 4, 10)] * 20 + 1) for i in range(6)]
    runs = {}
    for t in (0.0, 0.5):
        torch.manual_seed(0)
        conv = torch.nn.Conv1d(4, 12, 16)
        runs[t] = (seed_kernels(conv, motifs, fraction=0.5, rng=2, threshold=t), conv)
    (plain, c0), (sparse, c5) = runs[0.0], runs[0.5]
    assert plain == sparse and torch.equal(c0.weight, c5.weight)
    for d in sparse:
        k = d["kernel"]
        best = float(c5.weight[k].detach().max(dim=0).values.sum())
        assert float(c5.bias[k].detach()) == pytest.approx(-0.5 * best, rel=1e-6)
        assert -1.0 <= float(c0.bias[k].detach()) <= 0.0
    x = torch.nn.functional.one_hot(torch.as_tensor(rng.integers(0, 4, (50, 400))), 4).float().transpose(1, 2)
    kernels = [d["kernel"] for d in sparse]
    with torch.no_grad():
        fires = {t: float((c(x)[:, kernels] > 0).float().mean()) for t, c in ((0.0, c0), (0.5, c5))}
    assert fires[0.5] < 0.01 < 0.1 < fires[0.0]
    with pytest.raises(Exception, match="seed-threshold: must be in"):
        seed_kernels(torch.nn.Conv1d(4, 2, 8), motifs, threshold=1.0)


def test_seed_kernels_trims_wide_motifs_by_information_and_uses_small_margins():
    from motifq.jaspar import seed_kernels, trim_to_width
    from motifq.motif import Motif

    counts = np.full((12, 4), 5.0)
    counts[3:9] = np.eye(4)[[0, 1, 2, 3, 0, 1]] * 20       # informative core at columns 3..8
    counts[0] = [17, 1, 1, 1]                              # moderately informative left edge
    wide = Motif(id="WIDE", counts=counts)
    trimmed, left, right = trim_to_width(wide, 8)
    assert trimmed.width == 8 and (left, right) == (1, 3)
    conv = torch.nn.Conv1d(4, 4, 8)
    seeded = seed_kernels(conv, [wide], fraction=0.25, rng=0)
    assert len(seeded) == 1 and seeded[0]["width"] == 8 and seeded[0]["offset"] == 0 and seeded[0]["trimmed"] == [1, 3]
    # a motif 2 narrower than the kernel gets one free column each side
    narrow = Motif(id="N6", counts=np.eye(4)[[0, 1, 2, 3, 0, 1]] * 5 + 1)
    assert seed_kernels(torch.nn.Conv1d(4, 2, 8), [narrow], fraction=0.5, rng=0)[0]["offset"] == 1


def test_seed_kernels_on_bundled_jaspar2016_is_about_half_of_danq_jaspar():
    from motifq.jaspar import load_motifs, seed_kernels

    conv = torch.nn.Conv1d(4, 1024, 30)
    seeded = seed_kernels(conv, load_motifs("jaspar2016"), fraction=0.5, rng=0)
    assert len(seeded) == 512
    assert len({d["motif_id"] for d in seeded}) == 512
    assert all(d["offset"] >= 3 and d["offset"] + d["width"] <= 27 for d in seeded if d["width"] <= 24)

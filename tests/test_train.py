"""Training: loss falls on planted motifs, exact resume, early stopping, checkpoints, DDP on CPU,
and the train/predict command line."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from motifq.cli import main
from motifq.config import ModelConfig, TrainConfig
from motifq.data.dataset import Split, open_split, write_dataset
from motifq.errors import MotifqError
from motifq.models import load_checkpoint, predict
from motifq.sequence import tokenize, write_fasta
from motifq.train import fit, history_path, holdout_split, last_path, summary_lines

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOTIFS = ("TGACTCA", "CCGCGGAA")
L = 80


def planted(n, seed=0, length=L, random_labels=False):
    """Random sequences; target t is 1 when MOTIFS[t] was planted (about half of the samples)."""
    rng = np.random.default_rng(seed)
    tok = rng.integers(0, 4, (n, length), dtype=np.uint8)
    y = np.zeros((n, len(MOTIFS)), np.uint8)
    for t, m in enumerate(MOTIFS):
        has = rng.random(n) < 0.5
        for i in np.flatnonzero(has):
            p = rng.integers(0, length - len(m) + 1)
            tok[i, p:p + len(m)] = tokenize(m)
        y[:, t] = has
    if random_labels:
        y = rng.integers(0, 2, y.shape).astype(np.uint8)
    return Split.from_arrays(tok, y, ["ap1", "cg"], name=f"planted{seed}")


def tiny(kind="danq", **kw):
    over = dict(n_targets=2, length=L, conv_kernels=12, conv_width=9, pool=8, lstm_units=6, dense=16)
    over.update(kw)
    return ModelConfig.for_kind(kind, **over)


def _weights(path):
    return torch.load(path, weights_only=True)["state_dict"]



def test_loss_falls_on_planted_motifs(tmp_path):
    # The paper's U(-0.05, 0.05) start leaves a tiny DanQ on a plateau for a seed-dependent
    # number of epochs; seeding kernels with the planted motifs (a MEME file given to
    # jaspar_init, as DanQ-JASPAR does with JASPAR) makes the descent prompt for every seed.
    from motifq.formats import write_motifs
    from motifq.motif import Motif

    motifs = [Motif(id=f"P{i}", name=m, counts=np.eye(4)[tokenize(m)] * 18 + 0.5) for i, m in enumerate(MOTIFS)]
    write_motifs(tmp_path / "planted.meme", motifs, "meme")
    train, valid = planted(400), planted(100, seed=1)
    r = fit(tiny(conv_kernels=24, dense=32), train, valid, tmp_path / "m.pt",
            TrainConfig(epochs=6, batch_size=20, optimizer="adam", lr=0.01, seed=0, patience=10, val_every=400,
                        jaspar_init=str(tmp_path / "planted.meme"), jaspar_reverse_complements=True, kmer_init=0.0),
            progress=False)
    losses = [m["valid_loss"] for m in r["history"]]
    assert losses[0] > 0.6 and min(losses) < 0.5 and losses[-1] < losses[0] - 0.15, losses
    assert r["stopped"] == "epochs" and r["epochs"] == 6 and r["steps"] == 120
    model, ckpt = load_checkpoint(tmp_path / "m.pt")
    assert [m["valid_loss"] for m in ckpt["history"] if m["best"]][-1] == pytest.approx(min(losses))
    assert ckpt["summary"]["best_valid_loss"] == pytest.approx(min(losses)) and ckpt["summary"]["left_prior"]
    assert ckpt["targets"] == ["ap1", "cg"] and ckpt["train_config"]["optimizer"] == "adam"
    assert sorted((d["motif_id"], d["strand"]) for d in ckpt["jaspar"]) == [("P0", "+"), ("P0", "-"), ("P1", "+"), ("P1", "-")]
    p = predict(model, valid.tokens)
    y = valid.labels()
    assert p[y == 1].mean() > p[y == 0].mean() + 0.2
    rows = [json.loads(line) for line in history_path(tmp_path / "m.pt").read_text().splitlines()]
    assert rows.pop()["summary"]["steps"] == 120
    assert [row["epoch"] for row in rows] == [1, 2, 3, 4, 5, 6]
    assert sum(row["best"] for row in rows) >= 2 and rows[0]["best"]


@pytest.mark.parametrize("stop_at,optimizer", [(3, "rmsprop"), (5, "rmsprop"), (4, "adam")])  # mid-epoch, epoch end
def test_interrupted_then_resumed_equals_uninterrupted(tmp_path, stop_at, optimizer):
    train, valid = planted(100, seed=2), planted(30, seed=3)
    cfg = dict(epochs=2, batch_size=20, seed=7, optimizer=optimizer)
    a = fit(tiny(), train, valid, tmp_path / "a.pt", TrainConfig(**cfg), progress=False)
    b1 = fit(tiny(), train, valid, tmp_path / "b.pt", TrainConfig(max_steps=stop_at, **cfg), progress=False)
    assert b1["stopped"] == "max_steps" and b1["steps"] == stop_at
    assert (tmp_path / "b.pt").exists()
    b2 = fit(tiny(), train, valid, tmp_path / "b.pt", TrainConfig(**cfg), resume=True, progress=False)
    assert a["steps"] == b2["steps"] == 10
    wa, wb = _weights(last_path(tmp_path / "a.pt")), _weights(last_path(tmp_path / "b.pt"))
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    oa = torch.load(last_path(tmp_path / "a.pt"), weights_only=True)["resume"]["optimizer"]["state"]
    ob = torch.load(last_path(tmp_path / "b.pt"), weights_only=True)["resume"]["optimizer"]["state"]
    assert oa.keys() == ob.keys()
    for k in oa:
        for name, value in oa[k].items():
            assert torch.equal(value, ob[k][name]), (k, name)
    full = [m for m in b2["history"] if not m["partial"]]
    assert [m["valid_loss"] for m in full] == [m["valid_loss"] for m in a["history"]]


def test_same_seed_same_weights_other_seed_differs(tmp_path):
    train, valid = planted(60, seed=4), planted(20, seed=5)
    runs = [fit(tiny("cnn"), train, valid, tmp_path / f"{i}.pt", TrainConfig(epochs=1, batch_size=20, seed=s),
                progress=False) for i, s in enumerate((1, 1, 2))]
    w = [_weights(r["last"]) for r in runs]
    assert all(torch.equal(w[0][k], w[1][k]) for k in w[0])
    assert not torch.equal(w[0]["conv.weight"], w[2]["conv.weight"])


def test_early_stopping_stops_after_patience_once_off_the_prior(tmp_path):
    # a tiny CNN learns, then overfits 200 samples at a high learning rate: patience 2 checks
    train, valid = planted(200, seed=6), planted(60, seed=7)
    r = fit(tiny("cnn"), train, valid, tmp_path / "m.pt",
            TrainConfig(epochs=40, batch_size=20, lr=0.03, warmup=0, patience=2, val_every=200, seed=0), progress=False)
    assert r["stopped"] == "early" and r["epochs"] < 40 and r["summary"]["left_prior"]
    rows = r["history"]
    assert not rows[-1]["best"] and not rows[-2]["best"] and rows[-3]["best"]
    assert r["best_valid_loss"] == pytest.approx(min(m["valid_loss"] for m in rows))
    assert r["best_valid_loss"] < 0.98 * rows[-1]["prior_loss"]
    best = load_checkpoint(tmp_path / "m.pt")[1]
    assert best["summary"]["best_step"] == rows[-3]["step"] and best["history"] == rows


def _rule(prior=1.0, margin=0.02, patience=2, lr_patience=1):
    from types import SimpleNamespace

    from motifq.train import _State

    tc = SimpleNamespace(patience=patience, prior_margin=margin, lr_patience=lr_patience)
    return SimpleNamespace(tc=tc, prior_loss=prior), _State()


@pytest.mark.parametrize("seed", range(5))
def test_the_stopping_rule_never_stops_at_the_prior(seed):
    from motifq.train import _should_stop, _update_stopping

    # property: whatever losses come, no stop while the best is within the margin of the prior,
    # and a stop exactly `patience` checks after the last improvement once off it
    rng = np.random.default_rng(seed)
    run, st = _rule()
    losses = list(1.0 - 0.019 * rng.random(12)) + list(0.9 + 0.05 * rng.random(12))
    for i, v in enumerate(losses):
        st.step = i + 1
        _update_stopping(run, st, {"valid_loss": float(v), "best": False}, np.zeros(2))
        at_prior = st.best_loss > 0.98
        assert not (_should_stop(run, st) and at_prior)
        if _should_stop(run, st):
            assert i >= 12 and st.bad == 2 and st.left_prior_step > 12
            break
    run, st = _rule()
    for i in range(50):                       # stuck at the prior: never stops, never halves the rate
        _update_stopping(run, st, {"valid_loss": 1.0 + 0.001 * i, "best": False}, np.zeros(2))
        assert not _should_stop(run, st) and st.lr_scale == 1.0
    _update_stopping(run, st, {"valid_loss": 0.5, "best": False}, np.zeros(2))
    assert st.left_prior_step >= 0 and not _should_stop(run, st)
    for _ in range(2):
        _update_stopping(run, st, {"valid_loss": 0.6, "best": False}, np.zeros(2))
    assert _should_stop(run, st) and st.lr_scale == 0.25          # halved at each check without improvement


def test_random_labels_run_the_budget_and_say_they_ended_at_the_prior(tmp_path, caplog):
    import logging

    train, valid = planted(60, seed=6, random_labels=True), planted(60, seed=7, random_labels=True)
    # Output biases start at the prior: with 60 sequences per split the label frequencies differ by
    # chance, and outputs starting at p = 0.5 pass through a constant closer to the validation
    # frequencies than the training ones on their way down (which beats the prior's loss by luck).
    with caplog.at_level(logging.WARNING, logger="motifq"):
        r = fit(tiny("cnn"), train, valid, tmp_path / "m.pt",
                TrainConfig(epochs=12, batch_size=20, lr=0.03, patience=1, val_every=60, seed=0, output_bias="prior"),
                progress=False)
    assert r["stopped"] == "epochs" and r["steps"] == 36 and not r["summary"]["left_prior"]
    warnings = [rec.getMessage() for rec in caplog.records if rec.levelno == logging.WARNING]
    assert len(warnings) == 1 and "ended at the label prior" in warnings[0] and "\n" not in warnings[0]
    for path in (tmp_path / "m.pt", last_path(tmp_path / "m.pt")):
        assert torch.load(path, weights_only=True)["summary"]["left_prior"] is False
    rows = [json.loads(line) for line in history_path(tmp_path / "m.pt").read_text().splitlines()]
    assert rows[-1]["summary"]["left_prior"] is False and len(rows) == 13
    # the prior's loss is the BCE of predicting the training frequencies on the validation labels
    p, q = train.labels().mean(0), valid.labels().mean(0)
    expected = np.mean(-(q * np.log(p) + (1 - q) * np.log(1 - p)))
    assert rows[0]["prior_loss"] == pytest.approx(expected, rel=1e-5)


def test_default_recipe_leaves_the_prior_on_imbalanced_multi_target_data(tmp_path):
    # 4 targets, ~15 % positive each (a motif planted in 15 % of the sequences): defaults only.
    # The default budget (60 epochs).
    motifs = ("TGACTCA", "CCGCGGAA", "GATAAG", "CACGTG")

    def data(n, seed):
        r = np.random.default_rng(seed)
        tok = r.integers(0, 4, (n, L), dtype=np.uint8)
        y = (r.random((n, len(motifs) + 1)) < 0.15).astype(np.uint8)    # the last: labels that no sequence explains
        for i, t in zip(*np.nonzero(y[:, :-1])):
            p = r.integers(0, L - 8)
            tok[i, p:p + len(motifs[t])] = tokenize(motifs[t])
        return Split.from_arrays(tok, y, list(motifs) + ["noise"])

    r = fit(tiny(n_targets=5), data(1000, 1), data(300, 2), tmp_path / "m.pt", TrainConfig(seed=0), progress=False)
    s = r["summary"]
    assert s["left_prior"] and s["best_valid_loss"] < 0.95 * s["prior_loss"], s
    assert s["pr_auc_mean"] > 0.3 and len(s["worst_pr_auc"]) == 5      # the prior's PR AUC is about 0.15
    # the summary names the targets that stayed at their frequency: the noise, never the 7- and 8-mers
    flat = [t for t, _, _ in s["at_frequency"]]
    assert "noise" in flat and not {"TGACTCA", "CCGCGGAA"} & set(flat), s["at_frequency"]
    assert any(line.startswith(f"{len(flat)} of 5 targets stayed at their frequency") and "noise" in line
               for line in summary_lines(s))


def test_targets_at_their_frequency_are_named_only_once_the_model_left_the_prior():
    from motifq.train import _at_frequency

    rate = np.array([0.02, 0.02, 0.5, 0.0, 0.3])
    pr = np.array([0.05, 0.2, 0.52, np.nan, np.nan])
    assert _at_frequency(pr, rate) == [0, 2]                   # 0.05 < 0.02 + 0.098; 0.52 < 0.55
    s = {"left_prior": True, "stopped": "early", "steps": 9, "best_step": 5, "best_valid_loss": 0.1, "prior_loss": 0.2,
         "left_prior_step": 2, "pr_auc_mean": 0.5, "worst_pr_auc": [], "pr_auc": {"a": 0.05, "b": 0.9},
         "at_frequency": [["a", 0.05, 0.02]], "seconds": 1.0, "samples_per_s": 10.0, "recipe": "default", "loss": "bce"}
    assert "1 of 2 targets stayed at their frequency" in " ".join(summary_lines(s))
    assert not any("stayed at their frequency" in line for line in summary_lines(dict(s, left_prior=False)))
    old = dict(s)
    del old["at_frequency"]                                   # a summary written before the field existed
    assert not any("stayed at their frequency" in line for line in summary_lines(old))


def test_the_weighted_loss_takes_its_own_default_learning_rate():
    """The default recipe's 3e-3 never left the prior with --loss weighted (docs/training.md)."""
    assert TrainConfig().lr == 0.003 and TrainConfig(loss="focal").lr == 0.003
    assert TrainConfig(loss="weighted").lr == 0.001
    assert TrainConfig(loss="weighted", lr=0.01).lr == 0.01            # an explicit value wins
    assert TrainConfig(recipe="paper", loss="weighted").lr == 0.001     # the paper's own


def test_paper_recipe_builds_the_published_optimizer_and_initialisation():
    from motifq.models import build_model
    from motifq.train import _RMSprop, make_optimizer

    tc = TrainConfig(recipe="paper")
    assert (tc.optimizer, tc.lr, tc.batch_size, tc.patience, tc.warmup, tc.clip_norm, tc.output_bias, tc.lr_patience) == \
        ("rmsprop", 0.001, 100, 5, 0, 0.0, "zero", 0)
    mc = ModelConfig.for_kind("danq", recipe="paper", n_targets=3, length=L, conv_kernels=12, conv_width=9, pool=8,
                              lstm_units=6, dense=16)
    assert mc.init == "uniform" and mc.dropouts == (0.2, 0.5)
    torch.manual_seed(0)
    model = build_model(mc)
    opt = make_optimizer(model, tc)
    assert type(opt) is _RMSprop and isinstance(opt, torch.optim.RMSprop) and len(opt.param_groups) == 1
    g = opt.param_groups[0]
    assert (g["lr"], g["alpha"], g["eps"], g["momentum"], g["weight_decay"], g["centered"]) == (0.001, 0.9, 1e-6, 0, 0, False)
    for name, p in model.named_parameters():
        if name.rsplit(".", 1)[-1].startswith("bias"):
            assert torch.all(p == 0), name
        else:
            assert p.abs().max() <= 0.05, name
    # an explicit setting wins over the recipe; the default recipe's values otherwise
    assert TrainConfig(recipe="paper", lr=0.01, batch_size=7).lr == 0.01
    d = TrainConfig()
    assert (d.optimizer, d.lr, d.batch_size, d.output_bias, d.clip_norm, d.dense_fan_in, d.warmup) == \
        ("adamw", 0.003, 100, "zero", 1.0, 0, 0)
    assert ModelConfig.for_kind("danq", recipe="paper", init="pytorch").init == "pytorch"
    assert ModelConfig.for_kind("danq").init == "pytorch"


def test_dense_fan_in_scales_the_wide_dense_layers_learning_rate():
    from motifq.models import build_model
    from motifq.train import make_optimizer

    model = build_model(tiny(conv_kernels=12, lstm_units=6, dense=16))       # dense fan-in 2 * 6 * 9 = 108
    assert len(make_optimizer(model, TrainConfig()).param_groups) == 1        # off in the default recipe
    opt = make_optimizer(model, TrainConfig(lr=0.002, dense_fan_in=64))
    assert type(opt) is torch.optim.AdamW
    by_scale = {g["lr_scale"]: {id(p) for p in g["params"]} for g in opt.param_groups}
    assert set(by_scale) == {1.0, 64 / 108}
    assert by_scale[64 / 108] == {id(model.dense.weight), id(model.dense.bias)}
    assert [g["lr"] for g in opt.param_groups] == [0.002, 0.002 * 64 / 108]
    assert sum(len(g) for g in by_scale.values()) == len(list(model.parameters()))
    assert len(make_optimizer(model, TrainConfig(dense_fan_in=0)).param_groups) == 1


def test_the_paper_recipe_is_recorded_and_validates_once_an_epoch(tmp_path):
    train, valid = planted(100, seed=2), planted(30, seed=3)
    r = fit(ModelConfig.for_kind("cnn", recipe="paper", n_targets=2, length=L, conv_kernels=6, conv_width=9, pool=8,
                                 dense=8), train, valid, tmp_path / "m.pt", TrainConfig(recipe="paper", epochs=3),
            progress=False)
    assert [row["step"] for row in r["history"]] == [1, 2, 3]
    ckpt = torch.load(tmp_path / "m.pt", weights_only=True)
    assert ckpt["train_config"]["recipe"] == "paper" and ckpt["train_config"]["optimizer"] == "rmsprop"
    assert ckpt["summary"]["recipe"] == "paper"


@pytest.mark.parametrize("loss", ["bce", "weighted", "focal"])
def test_output_bias_starts_at_the_loss_minimising_constant(tmp_path, loss):
    from motifq.train import Objective, label_frequencies, make_objective, prior_logits, prior_loss

    train = planted(200, seed=3)
    y = train.labels()[:, :1].copy()
    y[:170] = 0                                            # 15 % positive in target 0
    y = np.concatenate([y, train.labels()[:, 1:]], 1)
    train = Split.from_arrays(train.tokens, y, train.targets)
    freq = label_frequencies(train)
    assert freq[0] == pytest.approx(y[:, 0].mean())
    tc = TrainConfig(loss=loss, focal_gamma=2.0, pos_weight_max=3.0)
    obj = make_objective(tc, freq)
    z = prior_logits(freq, obj)
    if loss == "bce":
        assert z[0] == pytest.approx(np.log(freq[0] / (1 - freq[0])))
    if loss == "weighted":                                  # weight min((1-p)/p, 3) = 3 on target 0
        assert obj.pos_weight[0] == pytest.approx(3.0)
        assert z[0] == pytest.approx(np.log(3 * freq[0] / (1 - freq[0])), abs=0.01)
    # the constant is a minimum: nudging it either way raises the expected loss
    for dz in (-0.05, 0.05):
        assert prior_loss(z + dz, freq, obj) > prior_loss(z, freq, obj)
    assert isinstance(obj, Objective)
    r = fit(tiny("cnn"), train, train, tmp_path / "m.pt", TrainConfig(loss=loss, epochs=1, max_steps=1, batch_size=20,
                                                                     lr=1e-9, output_bias="prior"), progress=False)
    first = r["history"][0]
    assert first["valid_loss"] == pytest.approx(first["prior_loss"], rel=0.05)


def test_every_kind_trains_a_step_and_lr_gets_feature_stats(tmp_path):
    train, valid = planted(40, seed=8), planted(10, seed=9)
    for kind, over in (("deepsea", dict(conv_width=5, pool=3, extra_conv_kernels=(6, 7))), ("lr", dict(kmax=3)),
                       ("danq-jaspar", {})):
        r = fit(tiny(kind, **over), train, valid, tmp_path / f"{kind}.pt",
                TrainConfig(epochs=1, max_steps=2, batch_size=20, jaspar_init="jaspar2016" if kind == "danq-jaspar" else None),
                progress=False)
        assert r["steps"] == 2 and np.isfinite(r["history"][-1]["valid_loss"])
        model, ckpt = load_checkpoint(tmp_path / f"{kind}.pt")
        if kind == "lr":
            assert model.feature_std.min() > 0 and model.feature_mean[:4].sum() == pytest.approx(L, rel=1e-5)
        if kind == "danq-jaspar":
            seeded = [d for d in ckpt["jaspar"] if not d["motif_id"].startswith("kmer:")]
            assert len(seeded) == 6 and all(d["width"] <= 9 for d in ckpt["jaspar"])


def test_mismatched_data_is_an_error(tmp_path):
    with pytest.raises(MotifqError, match="model: built for 100 bp"):
        fit(tiny(length=100), planted(20), planted(10), tmp_path / "m.pt", TrainConfig(epochs=1), progress=False)
    with pytest.raises(MotifqError, match="nothing to resume"):
        fit(tiny(), planted(20), planted(10), tmp_path / "m.pt", TrainConfig(epochs=1), resume=True, progress=False)
    with pytest.raises(MotifqError, match="no convolution"):
        fit(tiny("lr"), planted(20), planted(10), tmp_path / "m.pt", TrainConfig(epochs=1, jaspar_init="jaspar2016"),
            progress=False)
    assert not (tmp_path / "m.pt").exists()


def test_holdout_split_is_seeded_and_disjoint():
    whole = planted(50)
    tr, va = holdout_split(whole, 0.2, seed=3)
    assert len(tr) == 40 and len(va) == 10 and tr.targets == whole.targets
    rows = {bytes(r) for r in whole.tokens}
    assert {bytes(r) for r in tr.tokens} | {bytes(r) for r in va.tokens} == rows
    assert not ({bytes(r) for r in tr.tokens} & {bytes(r) for r in va.tokens})
    tr2, va2 = holdout_split(whole, 0.2, seed=3)
    assert np.array_equal(va.tokens, va2.tokens) and np.array_equal(va.labels(), va2.labels())
    assert not np.array_equal(va.tokens, holdout_split(whole, 0.2, seed=4)[1].tokens)
    with pytest.raises(MotifqError):
        holdout_split(planted(1), 0.1)


def _dataset(tmp_path):
    return write_dataset(tmp_path / "ds", {"train": planted(120), "valid": planted(40, seed=1),
                                           "test": planted(20, seed=2)})


def test_cli_train_then_predict(tmp_path, capsys):
    ds = _dataset(tmp_path)
    out = tmp_path / "model.pt"
    rc = main(["-q", "train", "--data", str(ds), "--epochs", "2", "--batch-size", "40", "--val-every", "120", "--conv-kernels", "8",
               "--conv-width", "9", "--pool", "8", "--lstm-units", "4", "--dense", "8", "--optimizer", "adam",
               "--out", str(out)])
    assert rc == 0 and out.exists() and last_path(out).exists() and history_path(out).exists()
    model, ckpt = load_checkpoint(out)
    assert model.conv.weight.shape == (8, 4, 9) and ckpt["model_config"]["length"] == L
    assert ckpt["train_config"]["epochs"] == 2 and ckpt["targets"] == ["ap1", "cg"]
    # resume with more epochs continues from epoch 2
    assert main(["-q", "train", "--data", str(ds), "--epochs", "3", "--batch-size", "40", "--val-every", "120", "--optimizer", "adam",
                 "--out", str(out), "--resume"]) == 0
    assert [m["epoch"] for m in torch.load(last_path(out), weights_only=True)["history"]] == [1, 2, 3]

    test = open_split(ds, "test")
    fa = tmp_path / "seqs.fa"
    seqs = ["".join("ACGT"[t] for t in row) for row in test.tokens]
    seqs[0] = "N" * 5 + seqs[0][5:]
    write_fasta(fa, [f"s{i}" for i in range(len(seqs))], seqs)
    preds = tmp_path / "preds.tsv"
    model = load_checkpoint(out)[0]
    assert main(["-q", "predict", str(out), str(fa), "-o", str(preds), "--batch-size", "7"]) == 0
    import pandas as pd

    table = pd.read_csv(preds, sep="\t")
    assert list(table.columns) == ["name", "ap1", "cg"] and len(table) == 20
    expected = predict(model, np.stack([tokenize(s) for s in seqs]))
    np.testing.assert_allclose(table[["ap1", "cg"]].to_numpy(), expected, atol=2e-6)
    capsys.readouterr()
    assert main(["-q", "predict", str(out), str(fa), "--no-rc"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "name\tap1\tcg" and len(lines) == 21 and lines[1].startswith("s0\t")


def test_cli_errors_leave_no_output(tmp_path, capsys):
    ds = _dataset(tmp_path)
    out = tmp_path / "model.pt"
    assert main(["train", "--data", str(ds), "--epochs", "1", "--conv-width", "200", "--out", str(out)]) == 2
    assert "too short" in capsys.readouterr().err and not out.exists()
    junk = tmp_path / "junk.pt"
    junk.write_text("hello")
    fa = tmp_path / "s.fa"
    write_fasta(fa, ["a"], ["ACGT" * 20])
    assert main(["predict", str(junk), str(fa), "-o", str(tmp_path / "p.tsv")]) == 2
    err = capsys.readouterr().err
    assert "not a motifq checkpoint" in err and err.count("\n") == 1 and not (tmp_path / "p.tsv").exists()
    # a sequence of the wrong length
    r = fit(tiny("cnn"), planted(20), planted(10), tmp_path / "m.pt", TrainConfig(epochs=1), progress=False)
    write_fasta(fa, ["a", "b"], ["ACGT" * 20, "ACGT" * 10])
    assert main(["predict", str(r["out"]), str(fa), "-o", str(tmp_path / "p.tsv")]) == 2
    assert "record 'b' has 40 bases; the model takes 80" in capsys.readouterr().err
    assert not (tmp_path / "p.tsv").exists()


@pytest.mark.slow
def test_torchrun_two_processes_on_cpu_with_gloo(tmp_path):
    ds = _dataset(tmp_path)
    out = tmp_path / "ddp.pt"
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "motifq", "-q", "train", "--data", str(ds), "--epochs", "2", "--batch-size", "20",
           "--model", "cnn", "--conv-kernels", "8", "--conv-width", "9", "--pool", "8", "--dense", "8",
           "--val-every", "120", "--device", "cpu", "--out", str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = torch.load(last_path(out), weights_only=True)
    # 120 samples, 2 processes, 20 per process and batch -> 3 steps an epoch
    assert [m["step"] for m in ckpt["history"]] == [3, 6]
    assert ckpt["resume"]["world_size"] == 2 and all(np.isfinite(m["valid_loss"]) for m in ckpt["history"])
    # the validation loss is over the whole valid split: recompute it in one process
    model, _ = load_checkpoint(last_path(out))
    v = open_split(ds, "valid")
    with torch.no_grad():
        from motifq.models import one_hot_tokens

        logits = model(one_hot_tokens(torch.from_numpy(np.array(v.tokens))))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(v.labels()).float())
    assert float(loss) == pytest.approx(ckpt["history"][-1]["valid_loss"], abs=1e-5)


class _Interrupting:
    """(N, L) tokens that raise KeyboardInterrupt on the `after`-th read (a Ctrl-C mid-epoch)."""

    def __init__(self, tokens, after):
        self.tokens, self.after, self.reads = tokens, after, 0
        self.shape = tokens.shape

    def __len__(self):
        return len(self.tokens)

    def __getitem__(self, index):
        self.reads += 1
        if self.reads == self.after:
            raise KeyboardInterrupt
        return self.tokens[index]


def test_ctrl_c_saves_a_last_checkpoint_that_resumes_exactly(tmp_path):
    train, valid = planted(100, seed=2), planted(30, seed=3)
    cfg = TrainConfig(epochs=2, batch_size=20, seed=11)
    a = fit(tiny(), train, valid, tmp_path / "a.pt", cfg, progress=False)
    # one read for the k-mer seeding, 5 batch reads in epoch 1, then the 3rd batch read of
    # epoch 2 fails (2 steps into it)
    broken = Split(_Interrupting(train.tokens, after=1 + 5 + 3), train.packed_labels, train.targets)
    with pytest.raises(KeyboardInterrupt):
        fit(tiny(), broken, valid, tmp_path / "b.pt", cfg, progress=False)
    state = torch.load(last_path(tmp_path / "b.pt"), weights_only=True)["resume"]
    assert (state["epoch"], state["batch"], state["step"]) == (1, 2, 7)
    b = fit(tiny(), train, valid, tmp_path / "b.pt", cfg, resume=True, progress=False)
    assert b["steps"] == a["steps"] == 10
    wa, wb = _weights(last_path(tmp_path / "a.pt")), _weights(last_path(tmp_path / "b.pt"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    # resuming a finished run does nothing more
    c = fit(tiny(), train, valid, tmp_path / "b.pt", cfg, resume=True, progress=False)
    assert c["steps"] == 10 and c["epochs"] == 2


def test_cli_train_on_fasta_and_labels_holds_out_a_seeded_validation_set(tmp_path, monkeypatch):
    # The FASTA + labels reader is the data stage's; stand in for it to test the hold-out wiring.
    import motifq.data

    whole = planted(100, seed=12)
    seen = []

    def fake_open_data(data=None, split="train", fasta=None, labels=None, targets=None, cache=None, progress=True):
        seen.append((data, fasta, labels))
        return whole

    monkeypatch.setattr(motifq.data, "open_data", fake_open_data)
    out = tmp_path / "m.pt"
    assert main(["-q", "train", "--fasta", "s.fa", "--labels", "l.tsv", "--valid-fraction", "0.2", "--model", "cnn",
                 "--conv-kernels", "4", "--conv-width", "9", "--pool", "8", "--dense", "4", "--epochs", "1",
                 "--batch-size", "40", "--seed", "5", "--out", str(out)]) == 0
    assert seen == [(None, "s.fa", "l.tsv")]
    ckpt = torch.load(last_path(out), weights_only=True)
    assert ckpt["history"][-1]["step"] == 2                   # 80 training sequences, batch 40
    assert ckpt["train_config"]["valid_fraction"] == 0.2
    assert main(["-q", "train", "--fasta", "s.fa", "--out", str(tmp_path / "x.pt")]) == 2
    assert not (tmp_path / "x.pt").exists()


def test_max_steps_before_an_epoch_ends_still_writes_out_and_replaces_a_stale_one(tmp_path):
    train, valid = planted(100, seed=2), planted(30, seed=3)
    out = tmp_path / "m.pt"
    runs = []
    for seed in (1, 2):
        r = fit(tiny("cnn"), train, valid, out, TrainConfig(epochs=3, max_steps=2, batch_size=20, seed=seed,
                                                            val_every=1000), progress=False)
        assert r["stopped"] == "max_steps" and r["epochs"] == 0 and r["history"][-1]["partial"]
        assert r["history"][-1]["epoch"] == 0.4 and r["best_valid_loss"] == r["history"][-1]["valid_loss"]
        runs.append(_weights(out))
    assert not torch.equal(runs[0]["conv.weight"], runs[1]["conv.weight"])
    assert torch.equal(runs[1]["conv.weight"], _weights(last_path(out))["conv.weight"])


def test_cpu_rmsprop_fast_path_equals_torch_rmsprop_bitwise():
    import copy

    from motifq.train import _RMSprop

    torch.manual_seed(0)
    m1 = torch.nn.Sequential(torch.nn.Linear(30, 20), torch.nn.ReLU(), torch.nn.Linear(20, 3))
    m2 = copy.deepcopy(m1)
    o1 = torch.optim.RMSprop(m1.parameters(), lr=1e-2, alpha=0.9, eps=1e-6)
    o2 = _RMSprop(m2.parameters(), lr=1e-2, alpha=0.9, eps=1e-6)
    for i in range(15):
        x = torch.randn(8, 30)
        for m, o in ((m1, o1), (m2, o2)):
            o.zero_grad()
            m(x).pow(2).mean().backward()
            o.step()
        if i == 7:      # state dicts are interchangeable: swap mid-way
            o2.load_state_dict(copy.deepcopy(o1.state_dict()))
    assert all(torch.equal(a, b) for a, b in zip(m1.parameters(), m2.parameters()))
    s1, s2 = o1.state_dict()["state"], o2.state_dict()["state"]
    assert all(torch.equal(s1[k]["square_avg"], s2[k]["square_avg"]) and float(s1[k]["step"]) == float(s2[k]["step"])
               for k in s1)


class _Signalling(_Interrupting):
    """Tokens whose `after`-th read sends `signum` to this process (as ``kill`` would)."""

    def __init__(self, tokens, after, signum):
        super().__init__(tokens, after)
        self.signum = signum

    def __getitem__(self, index):
        self.reads += 1
        if self.reads == self.after:
            os.kill(os.getpid(), self.signum)
        return self.tokens[index]


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_stops_between_steps_and_resumes_exactly(tmp_path, signame):
    import signal

    train, valid = planted(100, seed=2), planted(30, seed=3)
    cfg = TrainConfig(epochs=2, batch_size=20, seed=13)
    fit(tiny(), train, valid, tmp_path / "a.pt", cfg, progress=False)
    before = signal.getsignal(getattr(signal, signame))
    broken = Split(_Signalling(train.tokens, 7, getattr(signal, signame)), train.packed_labels, train.targets)
    with pytest.raises(KeyboardInterrupt):
        fit(tiny(), broken, valid, tmp_path / "b.pt", cfg, progress=False)
    assert signal.getsignal(getattr(signal, signame)) is before          # handlers restored
    state = torch.load(last_path(tmp_path / "b.pt"), weights_only=True)["resume"]
    assert 1 <= state["step"] < 10 and state["step"] == 5 * state["epoch"] + state["batch"]
    b = fit(tiny(), train, valid, tmp_path / "b.pt", cfg, resume=True, progress=False)
    assert b["steps"] == 10
    wa, wb = _weights(last_path(tmp_path / "a.pt")), _weights(last_path(tmp_path / "b.pt"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_cli_recipe_paper_with_an_explicit_flag_that_wins(tmp_path, capsys):
    ds = _dataset(tmp_path)
    out = tmp_path / "p.pt"
    assert main(["train", "--data", str(ds), "--recipe", "paper", "--lr", "0.01", "--epochs", "1", "--model", "cnn",
                 "--conv-kernels", "4", "--conv-width", "9", "--pool", "8", "--dense", "4", "--out", str(out)]) == 0
    ckpt = torch.load(out, weights_only=True)
    tc, mc = ckpt["train_config"], ckpt["model_config"]
    assert (tc["recipe"], tc["optimizer"], tc["lr"], tc["batch_size"], tc["patience"], mc["init"]) == \
        ("paper", "rmsprop", 0.01, 100, 5, "uniform")
    err = capsys.readouterr().err
    assert "paper recipe" in err and "validation PR AUC at the best step" in err

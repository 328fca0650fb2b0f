"""motifq.evaluate and motifq.report: NA handling, Table S1 summaries, the reference join,
reverse-complement averaging and ``motifq evaluate`` end to end on a tiny dataset (the metrics
themselves: tests/test_metrics.py; the figures: tests/test_plot_metrics.py)."""
from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from sklearn.metrics import average_precision_score  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from motifq import evaluate as ev  # noqa: E402
from motifq import plot_metrics as pm  # noqa: E402
from motifq.cli import main  # noqa: E402
from motifq.data.dataset import Split, open_split, write_dataset  # noqa: E402
from motifq.errors import MotifqError  # noqa: E402
from motifq.sequence import detokenize, reverse_complement, tokenize  # noqa: E402


def test_na_targets_and_bad_input():
    y = np.zeros((6, 3), np.uint8)
    y[:, 1] = 1                      # no negatives
    y[[0, 3], 2] = 1                 # fine
    s = np.linspace(0, 1, 18).reshape(6, 3)
    got = ev.target_aucs(y, s)
    assert np.isnan(got.roc_auc[:2]).all() and np.isnan(got.pr_auc[:2]).all()
    assert np.isfinite(got.roc_auc[2])
    assert got.positives.tolist() == [0, 6, 2] and got.negatives.tolist() == [6, 0, 4]
    summ = ev.summarize(got)
    assert summ["targets_na"] == 2 and summ["roc_auc_mean"] == pytest.approx(got.roc_auc[2])
    none = ev.summarize(ev.target_aucs(y[:, :2], s[:, :2]))
    assert none["roc_auc_mean"] is None and none["pr_auc_median"] is None
    bad = s.copy()
    bad[2, 1] = np.nan
    with pytest.raises(MotifqError, match="NaN in target 1"):
        ev.target_aucs(y, bad)
    with pytest.raises(MotifqError, match="other than 0 and 1"):
        ev.target_aucs(y * 2, s)
    with pytest.raises(MotifqError, match="does not match"):
        ev.target_aucs(y[:5], s)


def test_loss_accuracy_and_all_zeros(rng):
    N, T = 50, 4
    y = (rng.random((N, T)) < 0.2).astype(np.uint8)
    y[:, 3] = 0
    p = rng.random((N, T)).astype(np.float32)
    p[0, 0] = 0.0                    # clipped, not -inf
    loss, acc = ev.loss_and_accuracy(y, p, rows=7)
    q = np.clip(p.astype(np.float64), ev.BCE_EPS, 1 - ev.BCE_EPS)
    assert loss == pytest.approx(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)), rel=1e-10)
    assert acc == pytest.approx(np.mean((p > 0.5) == y), abs=1e-12)
    # the analytic all-zeros row equals scoring an all-zeros prediction
    aucs = ev.target_aucs(y, p)
    zeros = np.zeros((N, T))
    direct = ev.summarize(ev.target_aucs(y, zeros), *ev.loss_and_accuracy(y, zeros))
    analytic = ev.all_zeros_summary(aucs)
    for key in direct:
        a, b = direct[key], analytic[key]
        assert (a is None and b is None) or a == pytest.approx(b, rel=1e-12), key
    assert analytic["accuracy"] == pytest.approx(1 - y.mean())
    with pytest.raises(MotifqError, match="outside"):
        ev.loss_and_accuracy(y, p + 1)


def test_compare_models():
    a = np.array([0.9, 0.8, 0.7, np.nan, 0.5])
    b = np.array([0.8, 0.8, 0.9, 0.6, 0.4])
    c = ev.compare_models(a, b)
    assert c == {"targets": 4, "a_better": 2, "b_better": 1, "ties": 1, "a_better_share": 0.5}


def _danq_style(path, rows, models=("DeepSEA", "DanQ")):
    head = ["Cell Type", "TF/DNase/HistoneMark", "Treatment"] + [f"{m} ROC AUC" for m in models] + \
           [f"{m} PR AUC" for m in models]
    lines = ["\t".join(head)] + ["\t".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_reference_joined_by_name_with_repeats(tmp_path):
    targets = ["A|CTCF|None", "B|USF-1|None", "A|CTCF|None", "C|DNase|None"]
    rows = [("C", "DNase", "None", 0.91, 0.81, 0.31, 0.21),
            ("A", "CTCF", "None", 0.92, 0.82, 0.32, 0.22),
            ("B", "USF1", "None", 0.93, "NA", 0.33, 0.23),    # USF1 vs USF-1: matched ignoring punctuation
            ("A", "CTCF", "None", 0.94, 0.84, 0.34, 0.24)]
    refs, how = ev.read_reference(_danq_style(tmp_path / "ref.txt", rows), targets)
    assert how == "name" and list(refs) == ["DeepSEA", "DanQ"]
    np.testing.assert_allclose(refs["DeepSEA"].roc_auc, [0.92, 0.93, 0.94, 0.91])
    np.testing.assert_allclose(refs["DanQ"].pr_auc, [0.22, 0.23, 0.24, 0.21])
    assert np.isnan(refs["DanQ"].roc_auc[1]) and np.isnan(refs["DanQ"].positives).all()
    # a subset of the reference's targets, by name
    sub, how = ev.read_reference(tmp_path / "ref.txt", ["C|DNase|None"])
    assert how == "name" and sub["DanQ"].roc_auc.tolist() == [0.81]


def test_reference_by_order_and_errors(tmp_path):
    rows = [("x", "y", "z", 0.6, 0.7, 0.1, 0.2), ("x", "q", "z", 0.65, 0.75, 0.15, 0.25)]
    p = _danq_style(tmp_path / "ref.txt", rows)
    refs, how = ev.read_reference(p, ["t0", "t1"])
    assert how == "order" and refs["DanQ"].roc_auc.tolist() == [0.7, 0.75]
    with pytest.raises(MotifqError, match="2 rows"):
        ev.read_reference(p, ["t0", "t1", "t2"])
    (tmp_path / "none.tsv").write_text("a\tb\n1\t2\n")
    with pytest.raises(MotifqError, match="no AUC columns"):
        ev.read_reference(tmp_path / "none.tsv", ["t0"])
    bad = _danq_style(tmp_path / "bad.txt", [("x", "y", "z", "high", 0.7, 0.1, 0.2)])
    with pytest.raises(MotifqError, match="not a number"):
        ev.read_reference(bad, ["x|y|z"])


def test_metrics_tsv_round_trips_as_reference(tmp_path, rng):
    y = (rng.random((40, 3)) < 0.3).astype(np.uint8)
    y[:, 2] = 0
    res = {"m": ev.target_aucs(y, rng.random((40, 3)))}
    table = ev.metrics_table(res, ["a", "b", "c"])
    ev.write_metrics(tmp_path / "metrics.tsv", table)
    text = (tmp_path / "metrics.tsv").read_text().splitlines()
    assert text[0].split("\t") == ["model", "target_index", "target", "positives", "negatives", "roc_auc", "pr_auc"]
    assert text[3].split("\t")[3:] == ["0", "40", "NA", "NA"]
    refs, how = ev.read_reference(tmp_path / "metrics.tsv", ["a", "b", "c"])
    assert how == "name"
    np.testing.assert_allclose(refs["m"].roc_auc, res["m"].roc_auc, atol=1e-9)


def test_choose_curve_targets():
    pr = np.array([0.3, np.nan, 0.1, 0.5, 0.2, 0.4])
    aucs = ev.TargetAUCs(np.ones(6), np.ones(6), pr, pr)
    names = ["a", "b", "c", "d", "e", "f"]
    assert ev.choose_curve_targets(aucs, names, k=3) == [2, 0, 3]   # lowest, middle, highest PR AUC
    assert ev.choose_curve_targets(aucs, names, ["d", "1"]) == [3, 1]
    with pytest.raises(MotifqError, match="not a target"):
        ev.choose_curve_targets(aucs, names, ["zz"])


# ---------------------------------------------------------------------------------------------
# reverse-complement averaging and the command line
# ---------------------------------------------------------------------------------------------
class _FirstBase(torch.nn.Module):
    """Sees only the first base of the strand it is given: logit = w[base at position 0]."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([-2.0, -0.5, 0.7, 1.9]))
        self.config = type("C", (), {"n_targets": 1})()

    def forward(self, x):                       # x (B, 4, L) one-hot, A, C, G, T
        return (x[:, :, 0] * self.w).sum(1, keepdim=True)


def test_rc_average_is_mean_of_both_strands(tmp_path, rng):
    N, L = 40, 12
    tokens = rng.integers(0, 4, (N, L)).astype(np.uint8)
    split = Split.from_arrays(tokens, rng.integers(0, 2, (N, 1)), ["t"])
    model = _FirstBase()
    w = model.w.detach().numpy().astype(np.float64)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    fwd = sig(w[tokens[:, 0]])
    rc_first = np.array([tokenize(reverse_complement(detokenize(t)))[0] for t in tokens])
    assert (rc_first == 3 - tokens[:, -1]).all()
    expect = (fwd + sig(w[rc_first])) / 2
    got = ev.predict_split(model, split, tmp_path / "p.npy", rc=True, batch_size=7)
    assert isinstance(got, np.memmap) and got.shape == (N, 1) and got.dtype == np.float32
    np.testing.assert_allclose(got[:, 0], expect, rtol=1e-6)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy")[:, 0], expect, rtol=1e-6)
    np.testing.assert_allclose(ev.predict_split(model, split, rc=False)[:, 0], fwd, rtol=1e-6)
    half = ev.predict_split(model, split, rc=True, dtype="float16")
    assert half.dtype == np.float16 and np.allclose(half[:, 0], expect, atol=1e-3)


@pytest.fixture
def tiny_run(tmp_path):
    """A 6-target dataset (target 5 has no positives) and two tiny DanQ checkpoints."""
    from motifq.config import ModelConfig
    from motifq.models import build_model, save_checkpoint

    r = np.random.default_rng(3)
    N, L, T = 120, 40, 6
    tokens = r.integers(0, 4, (N, L)).astype(np.uint8)
    labels = (r.random((N, T)) < 0.25).astype(np.uint8)
    labels[:, 5] = 0
    targets = [f"GM12878|TF{i}|None" for i in range(T)]
    write_dataset(tmp_path / "data", {"test": Split.from_arrays(tokens, labels, targets)})
    paths = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        model = build_model(ModelConfig.for_kind("danq", n_targets=T, length=L, conv_kernels=6, conv_width=7,
                                                 pool=4, lstm_units=3, dense=5))
        paths.append(save_checkpoint(tmp_path / f"m{seed}.pt", model, targets=targets))
    rows = [("GM12878", f"TF{i}", "None", 0.6 + i / 100, 0.2 + i / 100) for i in range(T)][::-1]
    ref = tmp_path / "published.txt"
    ref.write_text("Cell Type\tTF/DNase/HistoneMark\tTreatment\tPaper ROC AUC\tPaper PR AUC\n"
                   + "".join("\t".join(map(str, row)) + "\n" for row in rows))
    return tmp_path, paths, labels, targets


def test_main_end_to_end(tiny_run, capsys):
    tmp, (m0, m1), labels, targets = tiny_run
    out = tmp / "out"
    code = main(["-q", "evaluate", str(m0), f"second={m1}", "--data", str(tmp / "data"), "-o", str(out),
                 "--reference", str(tmp / "published.txt"), "--curves", f"{targets[2]},4", "--batch-size", "16",
                 "--keep-predictions"])
    assert code == 0
    stdout = capsys.readouterr().out.splitlines()
    assert stdout[0].split("\t")[:3] == ["model", "loss", "accuracy"]
    assert [l.split("\t")[0] for l in stdout[1:]] == ["m0", "second", "all-zeros", "Paper"]
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(["metrics.tsv", "summary.json", "auc_histogram.png", "curves_2_GM12878_TF2_None.png",
                            "curves_4_GM12878_TF4_None.png", "scatter_m0_vs_second.png", "scatter_m0_vs_Paper.png",
                            "scatter_second_vs_Paper.png", "predictions_m0.npy", "predictions_second.npy"])
    table = pd.read_csv(out / "metrics.tsv", sep="\t", keep_default_na=False)
    assert len(table) == 3 * len(targets)
    assert table["model"].tolist() == ["m0"] * 6 + ["second"] * 6 + ["Paper"] * 6
    assert table[table.model == "m0"].iloc[5][["positives", "roc_auc", "pr_auc"]].tolist() == ["0", "NA", "NA"]
    assert table[table.model == "Paper"]["positives"].tolist() == ["NA"] * 6
    # the reference rows were reversed in the file: joined back by name
    np.testing.assert_allclose(table[table.model == "Paper"]["roc_auc"].astype(float), [0.6 + i / 100 for i in range(6)])
    # the kept predictions are the RC-averaged probabilities; metrics agree with scikit-learn
    pred = np.load(out / "predictions_m0.npy")
    assert pred.shape == (120, 6) and pred.dtype == np.float32
    m0rows = table[table.model == "m0"]
    for t in range(5):
        assert float(m0rows.iloc[t]["roc_auc"]) == pytest.approx(roc_auc_score(labels[:, t], pred[:, t]), abs=1e-9)
        assert float(m0rows.iloc[t]["pr_auc"]) == pytest.approx(average_precision_score(labels[:, t], pred[:, t]), abs=1e-9)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rc_averaged"] is True and summary["reference"]["joined_by"] == "name"
    assert summary["curve_targets"] == [targets[2], targets[4]]
    row = summary["models"]["m0"]
    loss, acc = ev.loss_and_accuracy(labels, pred)
    assert row["loss"] == pytest.approx(loss, rel=1e-9) and row["accuracy"] == pytest.approx(acc)
    assert row["targets_na"] == 1 and row["kind"] == "danq"
    assert summary["models"]["all-zeros"]["accuracy"] == pytest.approx(1 - labels.mean())
    assert summary["models"]["all-zeros"]["roc_auc_mean"] == 0.5
    assert summary["models"]["Paper"]["loss"] is None
    pairs = {(c["a"], c["b"], c["metric"]) for c in summary["comparisons"]}
    assert ("m0", "second", "pr_auc") in pairs and ("second", "Paper", "roc_auc") in pairs and len(pairs) == 6


def test_main_no_rc_and_failures_leave_nothing(tiny_run, capsys):
    tmp, (m0, m1), labels, targets = tiny_run
    out = tmp / "fwd"
    assert main(["-q", "evaluate", str(m0), "--data", str(tmp / "data"), "-o", str(out), "--no-rc",
                 "--keep-predictions"]) == 0
    fwd = np.load(out / "predictions_m0.npy")
    assert json.loads((out / "summary.json").read_text())["rc_averaged"] is False
    assert sorted(p.name for p in out.glob("scatter*")) == []       # one model, no reference: no scatter
    assert len(list(out.glob("curves_*.png"))) == 4
    model, _ = __import__("motifq.models", fromlist=["load_checkpoint"]).load_checkpoint(m0)
    both = ev.predict_split(model, open_split(tmp / "data", "test"), rc=True)
    assert not np.allclose(fwd, both)
    capsys.readouterr()
    bad = tmp / "bad"
    assert main(["evaluate", str(m0), "--data", str(tmp / "data"), "-o", str(bad), "--curves", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("motifq: error: --curves: 'nope'") and err.count("\n") == 1
    assert not bad.exists()
    assert main(["evaluate", str(tmp / "missing.pt"), "--data", str(tmp / "data"), "-o", str(bad)]) == 2
    assert "missing.pt: no such file" in capsys.readouterr().err
    (tmp / "ref.tsv").write_text("x\tM ROC AUC\n1\t0.5\n")
    assert main(["evaluate", str(m0), "--data", str(tmp / "data"), "-o", str(bad), "--reference",
                 str(tmp / "ref.tsv")]) == 2
    assert "1 rows" in capsys.readouterr().err
    assert not bad.exists()
    # a model whose outputs do not fit the data fails after the folder was made: the folder goes
    from motifq.config import ModelConfig
    from motifq.models import build_model, save_checkpoint

    save_checkpoint(tmp / "wide.pt", build_model(ModelConfig.for_kind("lr", n_targets=9, length=40, kmax=2)))
    assert main(["evaluate", str(tmp / "wide.pt"), "--data", str(tmp / "data"), "-o", str(bad)]) == 2
    assert "predicts 9 targets, the data has 6" in capsys.readouterr().err
    assert not bad.exists()


@pytest.mark.slow
def test_fit_then_evaluate_and_training_curves(tmp_path, capsys):
    """A model trained by motifq.train.fit evaluates from the command line; its history log plots."""
    from motifq.config import ModelConfig, TrainConfig
    from motifq.train import fit, history_path

    r = np.random.default_rng(5)
    N, L, T = 96, 30, 3
    tokens = r.integers(0, 4, (N, L)).astype(np.uint8)
    labels = np.stack([tokens[:, 10] == 0, tokens[:, 20] == 3, r.random(N) < 0.3], axis=1).astype(np.uint8)
    targets = ["a|A10|None", "b|T20|None", "c|noise|None"]
    train, valid, test = (Split.from_arrays(tokens[s], labels[s], targets) for s in (slice(0, 64), slice(64, 80), slice(80, None)))
    write_dataset(tmp_path / "data", {"train": train, "valid": valid, "test": test})
    cfg = ModelConfig.for_kind("cnn", n_targets=T, length=L, conv_kernels=4, conv_width=5, pool=5, dense=4)
    fit(cfg, train, valid, tmp_path / "cnn.pt", TrainConfig(epochs=2, batch_size=16, device="cpu", seed=1), progress=False)
    from motifq.models import build_model, save_checkpoint   # the k-mer LR baseline evaluates the same way

    save_checkpoint(tmp_path / "lr.pt", build_model(ModelConfig.for_kind("lr", n_targets=T, length=L, kmax=2)),
                    targets=targets)
    assert main(["-q", "evaluate", str(tmp_path / "cnn.pt"), str(tmp_path / "lr.pt"), "--data", str(tmp_path / "data"),
                 "-o", str(tmp_path / "ev")]) == 0
    table = pd.read_csv(tmp_path / "ev" / "metrics.tsv", sep="\t")
    assert table["model"].tolist() == ["cnn"] * 3 + ["lr"] * 3
    assert table["target"].tolist() == targets * 2 and table["positives"].tolist() == labels[80:].sum(0).tolist() * 2
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert summary["models"]["cnn"]["kind"] == "cnn" and summary["models"]["lr"]["kind"] == "lr"
    assert (tmp_path / "ev" / "scatter_cnn_vs_lr.png").is_file()
    log = [json.loads(line) for line in history_path(tmp_path / "cnn.pt").read_text().splitlines()]
    assert list(log[-1]) == ["summary"] and len(log) > 2                 # the checks, then the summary
    ax = pm.plot_training_curves(history_path(tmp_path / "cnn.pt"))
    labels_drawn = [l.get_label() for l in ax.lines]
    x = ax.lines[0].get_xdata()
    assert "train_loss" in labels_drawn and "valid_loss" in labels_drawn
    np.testing.assert_array_equal(x, [row["epoch"] for row in log[:-1]])   # one point per check, no summary
    plt.close(ax.figure)


def test_reference_na_text_and_order_warning(tmp_path):
    rows = [("x", "a", "None", "NA (No positive in Test region)", 0.7, 0.1, 2.01e-05),
            ("x", "b", "None", 0.6, 0.75, 0.15, 0.25),
            ("x", "c", "None", 0.61, 0.76, 0.16, 0.26)]
    p = _danq_style(tmp_path / "ref.txt", rows)
    with pytest.warns(UserWarning, match="only 1 of 3 target names agree"):
        refs, how = ev.read_reference(p, ["x|a|None", "x|q|None", "x|r|None"])
    assert how == "order" and np.isnan(refs["DeepSEA"].roc_auc[0]) and refs["DanQ"].pr_auc[0] == 2.01e-05


def test_model_names(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    names = ev.model_names([str(tmp_path / "a" / "best.pt"), str(tmp_path / "b" / "best.pt"), f"lr={tmp_path / 'x.pt'}"])
    assert list(names) == ["a/best", "b/best", "lr"] and names["lr"] == tmp_path / "x.pt"
    with pytest.raises(MotifqError, match="two models named 'm'"):
        ev.model_names(["m=x.pt", "m=y.pt"])


def test_status_lines_go_to_the_motifq_logger(tiny_run, caplog):
    import logging

    from motifq.report import evaluate_models

    tmp, (m0, _), _, _ = tiny_run
    with caplog.at_level(logging.INFO, logger="motifq"):
        summary = evaluate_models([str(m0)], open_split(tmp / "data", "test"), tmp / "logged", batch_size=64)
    messages = [r.getMessage() for r in caplog.records if r.name == "motifq"]
    assert messages[0] == "m0: predicting 120 sequences x 6 targets (forward + reverse complement)"
    assert messages[1] == "m0: scoring"
    assert messages[-1].endswith(f"and {len(summary['figures'])} figures")

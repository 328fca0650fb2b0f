"""ISM against a naive loop, strand symmetry, gradients through the BiLSTM against finite
differences, integrated-gradients completeness, seqlets -> motifs on planted data, the
attribute / discover commands and their bad inputs."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from motifq.attribute import (Attributions, attribute, contributions, discover, find_seqlets, gradients,
                              integrated_gradients, ism, read_attributions, resolve_target, save_attributions)
from motifq.cli import main
from motifq.config import ModelConfig
from motifq.errors import MotifqError
from motifq.models import build_model, one_hot_tokens, save_checkpoint
from motifq.sequence import reverse_complement_tokens


def _model(kind="danq", length=40, seed=0, double=False):
    torch.manual_seed(seed)
    if kind == "deepsea":
        kw = dict(conv_kernels=4, conv_width=4, pool=2, extra_conv_kernels=(4, 4), dense=8)
    else:
        kw = dict(conv_kernels=8, conv_width=6, pool=4, dense=8)
        if kind == "danq":
            kw["lstm_units"] = 5
    m = build_model(ModelConfig.for_kind(kind, n_targets=3, length=length, init="pytorch", **kw)).eval()
    return m.double() if double else m


def _tokens(n, L, seed=0, n_at=None):
    t = np.random.default_rng(seed).integers(0, 4, (n, L)).astype(np.uint8)
    if n_at is not None:
        t[n_at] = 4
    return t


def _naive_ism(model, tokens, target):
    """Every substitution run through the whole model, one mutant at a time; mean-centred."""
    x = one_hot_tokens(torch.as_tensor(tokens)).to(next(model.parameters()).dtype)
    n, L = tokens.shape
    d = np.zeros((n, 4, L))
    with torch.no_grad():
        y0 = model(x)[:, target]
        for i in range(n):
            for p in range(L):
                for b in range(4):
                    if tokens[i, p] == b:
                        continue
                    xm = x[i:i + 1].clone()
                    xm[0, :, p] = 0
                    xm[0, b, p] = 1
                    d[i, b, p] = float(model(xm)[0, target] - y0[i])
    return d - d.mean(1, keepdims=True), y0.numpy()


@pytest.mark.parametrize("kind", ["danq", "cnn", "deepsea"])
def test_ism_equals_naive_loop(kind):
    # the DanQ path recomputes only the touched conv windows; deepsea runs every mutant in full
    model = _model(kind, length=60 if kind == "deepsea" else 40)
    L = model.config.length
    tok = _tokens(3, L, n_at=(1, 5))
    attr, logits = ism(model, tok, 1, rc=False, batch_size=37)   # batches split sequences
    want, y0 = _naive_ism(model, tok, 1)
    assert attr.shape == (3, 4, L) and attr.dtype == np.float32
    assert np.abs(want).max() > 1e-4
    np.testing.assert_allclose(attr, want, atol=2e-6 * max(1.0, np.abs(want).max()) + 1e-7)
    np.testing.assert_allclose(logits, y0, atol=1e-5)
    np.testing.assert_allclose(attr.sum(1), 0, atol=1e-6)            # mean-centred per position
    # the reference base's value is minus the mean effect of the three substitutions
    ref = np.take_along_axis(attr, np.minimum(tok, 3)[:, None, :].astype(int), 1)[:, 0]
    known = tok < 4
    np.testing.assert_allclose(ref[known], (-(attr - ref[:, None, :]).sum(1) / 4)[known], atol=1e-6)


@pytest.mark.parametrize("width, pool, length", [(3, 5, 23), (10, 5, 31), (6, 6, 30), (13, 4, 40), (8, 2, 9)])
def test_ism_conv_windows_at_every_pooling_geometry(width, pool, length):
    # kernels narrower or wider than the pool, trailing unpooled columns, a single pooled step
    torch.manual_seed(width)
    cfg = ModelConfig.for_kind("danq", n_targets=2, length=length, conv_kernels=5, conv_width=width, pool=pool,
                               lstm_units=3, dense=4, init="pytorch")
    model = build_model(cfg).eval()
    tok = _tokens(2, length, seed=width, n_at=(0, length // 2))
    attr, _ = ism(model, tok, 0, rc=False, batch_size=50)
    want, _ = _naive_ism(model, tok, 0)
    np.testing.assert_allclose(attr, want, atol=2e-6 * max(1.0, np.abs(want).max()) + 1e-7)


def test_ism_reverse_complement_mean_is_strand_symmetric():
    model = _model("danq")
    tok = _tokens(4, 40, seed=1)
    a, y = ism(model, tok, 2, rc=True)
    a_rc, y_rc = ism(model, reverse_complement_tokens(tok), 2, rc=True)
    np.testing.assert_allclose(a_rc, a[:, ::-1, ::-1], atol=1e-6)
    np.testing.assert_allclose(y_rc, y, atol=1e-6)
    fwd, _ = ism(model, tok, 2, rc=False)
    rev, _ = ism(model, reverse_complement_tokens(tok), 2, rc=False)
    np.testing.assert_allclose(a, (fwd + rev[:, ::-1, ::-1]) / 2, atol=1e-6)


def test_gradients_through_the_lstm_equal_finite_differences():
    model = _model("danq", double=True)
    tok = _tokens(2, 40, seed=2)
    g, _ = gradients(model, tok, 1, method="saliency", rc=False)
    x = one_hot_tokens(torch.as_tensor(tok)).double()
    eps, fd = 1e-6, torch.zeros_like(x)
    with torch.no_grad():
        for c in range(4):
            for p in range(40):
                up, dn = x.clone(), x.clone()
                up[:, c, p] += eps
                dn[:, c, p] -= eps
                fd[:, c, p] = (model(up)[:, 1] - model(dn)[:, 1]) / (2 * eps)
    fd = (fd - fd.mean(1, keepdim=True)).numpy()
    assert np.abs(fd).max() > 1e-4
    np.testing.assert_allclose(g, fd, atol=1e-6 * np.abs(fd).max())
    ixg, _ = gradients(model, tok, 1, method="input-x-gradient", rc=False)
    np.testing.assert_allclose(ixg, fd * x.numpy(), atol=1e-6 * np.abs(fd).max())
    # a first-order estimate of ISM: the observed-base values correlate
    a, _ = ism(model.float(), tok, 1, rc=False)
    assert np.corrcoef(contributions(a, tok).ravel(), contributions(g, tok).ravel())[0, 1] > 0.5


def test_integrated_gradients_completeness():
    model = _model("danq", double=True, seed=3)
    tok = _tokens(3, 40, seed=3)
    base = torch.full((1, 4, 40), 0.25, dtype=torch.float64)
    with torch.no_grad():
        fb = float(model(base)[0, 0] + model(base.flip(1).flip(2))[0, 0]) / 2
    # the ReLUs and max-pool make the path integrand piecewise smooth: the quadrature converges
    coarse, y = integrated_gradients(model, tok, 0, steps=16)
    attr, _ = integrated_gradients(model, tok, 0, steps=256)
    gap = y - fb
    assert np.abs(gap).min() > 1e-3
    err = np.abs(attr.sum((1, 2)) - gap)
    assert err.max() < 0.02 * np.abs(gap).max() and err.max() < np.abs(coarse.sum((1, 2)) - gap).max()
    assert (attr[np.broadcast_to(np.arange(4)[None, :, None] != tok[:, None, :], attr.shape)] == 0).all()
    same, _ = attribute(model, tok, 0, method="integrated-gradients", steps=256)
    np.testing.assert_allclose(same, attr)


def test_resolve_target():
    names = ["CTCF", "REST", "7"]
    assert resolve_target("REST", names) == 1 and resolve_target("0", names) == 0 and resolve_target(2, names) == 2
    assert resolve_target("7", names) == 2                       # a name wins over an index
    with pytest.raises(MotifqError, match="no target 'NRF1'"):
        resolve_target("NRF1", names)
    with pytest.raises(MotifqError):
        resolve_target("3", names)


# ---------------------------------------------------------------------------------------------
# seqlets -> motifs
# ---------------------------------------------------------------------------------------------
def _planted(n=160, L=120, seed=0):
    """Random sequences, half with a CTCF site (either strand) whose attributions are its
    log-odds (mean-centred, hypothetical as ISM's), plus noise everywhere."""
    from motifq.jaspar import load_motifs

    rng = np.random.default_rng(seed)
    motif = load_motifs("jaspar2024:MA0139.2")[0]
    P = motif.probabilities()
    w = len(P)
    tok = rng.integers(0, 4, (n, L)).astype(np.uint8)
    attr = rng.normal(0, 0.05, (n, 4, L))
    sites = []
    lo = np.log(P + 0.01)
    lo = (lo - lo.mean(1, keepdims=True)).T                              # (4, w)
    for i in range(n // 2):
        s = int(rng.integers(0, L - w))
        site = np.array([rng.choice(4, p=p) for p in P])
        minus = bool(rng.random() < 0.5)
        tok[i, s:s + w] = 3 - site[::-1] if minus else site
        attr[i, :, s:s + w] += lo[::-1, ::-1] if minus else lo
        sites.append((i, s, s + w, "-" if minus else "+"))
    attr -= attr.mean(1, keepdims=True)
    res = Attributions(tok, attr.astype(np.float32), np.zeros(n, np.float32), np.array([f"s{i}" for i in range(n)]),
                       "CTCF", 0, "ism", "danq")
    return res, motif, sites


def test_discover_recovers_a_planted_motif():
    from motifq.compare import compare

    res, motif, sites = _planted()
    motifs, rows, seqlets = discover(res)
    assert [m.id for m in motifs] == ["pos_1"]
    table = compare(motifs, "jaspar2024", min_overlap=5, evalue=True, thresh=0.01)
    assert table.sort_values("E-value")["Target_ID"].iloc[0] == motif.id
    grouped = [r for r in rows if r[4] == "pos_1"]
    assert len(grouped) == motifs[0].nsites and len(grouped) >= 0.9 * len(sites)
    # every seqlet lies on a planted site, on its strand, and the counts are its aligned sequences
    # (on the planted strand, or all on the other one: the motif may come out reverse-complemented)
    planted = {i: (a, b, st) for i, a, b, st in sites}
    flip = grouped[0][3] != planted[grouped[0][0]][2]
    counts = np.zeros((motifs[0].width, 4))
    for q, a, b, st, _, score in grouped:
        assert q in planted and planted[q][0] <= a < b <= planted[q][1] and score > 0
        assert (st != planted[q][2]) == flip
        seq = res.tokens[q, a:b] if st == "+" else 3 - res.tokens[q, a:b][::-1]
        counts[np.arange(b - a), seq] += 1
    np.testing.assert_array_equal(counts, motifs[0].counts)


def test_seqlets_do_not_overlap_and_noise_gives_few():
    rng = np.random.default_rng(4)
    noise = rng.normal(0, 1, (200, 150))
    s = find_seqlets(noise, window=10, fdr=0.05)
    assert len(s.seq) <= 0.05 * 200 + 5
    res, _, _ = _planted()
    s = find_seqlets(contributions(res.attributions, res.tokens), window=20)
    for q in np.unique(s.seq):
        starts = np.sort(s.start[s.seq == q])
        assert (np.diff(starts) >= 20).all()
    assert (np.abs(s.score) >= s.threshold).all() and len(s.seq) >= 0.9 * 80


# ---------------------------------------------------------------------------------------------
# files and commands
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def tiny_run(tmp_path):
    """A tiny simulated dataset and an untrained DanQ checkpoint for it."""
    from motifq.data.simulate import simulate, write_simulation

    sim = simulate(60, 20, 80, length=200, seed=0)
    write_simulation(sim, tmp_path / "data")
    test = sim.splits["test"]
    torch.manual_seed(0)
    cfg = ModelConfig.for_kind("danq", n_targets=test.n_targets, length=200, conv_kernels=8, conv_width=10, pool=5,
                               lstm_units=4, dense=8, init="pytorch")
    save_checkpoint(tmp_path / "m.pt", build_model(cfg), targets=test.targets)
    return tmp_path, test


def test_attribute_cli_round_trip(tiny_run, capsys):
    d, test = tiny_run
    out = d / "out" / "attr.npz"
    assert main(["-q", "attribute", str(d / "m.pt"), "--data", str(d / "data"), "--target", "CTCF", "--positives",
                 "--max-seqs", "3", "--plot", "1", "-o", str(out)]) == 0
    r = read_attributions(out)
    pos = np.flatnonzero(test.labels()[:, test.targets.index("CTCF")] == 1)[:3]
    assert r.target == "CTCF" and r.method == "ism" and r.model_kind == "danq" and r.target_index == 0
    np.testing.assert_array_equal(r.tokens, np.asarray(test.tokens)[pos])
    assert list(r.names) == [str(i) for i in pos] and r.attributions.shape == (3, 4, 200)
    assert sorted(p.name for p in out.parent.iterdir()) == ["attr.logo1.png", "attr.npz"]
    # integrated gradients by index, saliency through the LSTM
    for method in ("integrated-gradients", "saliency"):
        assert main(["-q", "attribute", str(d / "m.pt"), "--data", str(d / "data"), "--target", "1", "--method", method,
                     "--max-seqs", "2", "--steps", "4", "-o", str(d / f"{method}.npz")]) == 0
        assert read_attributions(d / f"{method}.npz").method == method


def test_discover_cli_round_trip(tmp_path, capsys):
    res, motif, _ = _planted()
    save_attributions(tmp_path / "attr.npz", res)
    out = tmp_path / "d" / "motifs.meme"
    assert main(["-q", "discover", str(tmp_path / "attr.npz"), "-o", str(out), "--match", "jaspar2024"]) == 0
    assert capsys.readouterr().out.strip() == "1/1 motifs match a known motif at E < 0.01"
    assert sorted(p.name for p in out.parent.iterdir()) == ["matches.tsv", "motifs.meme", "seqlets.tsv"]
    lines = (out.parent / "seqlets.tsv").read_text().splitlines()
    assert lines[0].startswith("# start, end: 0-based half-open") and lines[1] == "sequence\tstart\tend\tstrand\tmotif\tscore"
    assert lines[2].split("\t")[0].startswith("s")
    assert motif.id in (out.parent / "matches.tsv").read_text()


def _bad(args, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("motifq: error: ") and err.count("\n") == 1
    return err


def test_bad_inputs_one_line_nothing_written(tiny_run, tmp_path, capsys):
    d, _ = tiny_run
    m, data = str(d / "m.pt"), str(d / "data")
    out = d / "bad" / "a.npz"
    assert "is a folder" in _bad(["attribute", m, "--data", data, "--target", "0", "-o", str(d)], capsys)
    assert "no target 'NOPE'" in _bad(["attribute", m, "--data", data, "--target", "NOPE", "-o", str(out)], capsys)
    fa = d / "s.fa"
    fa.write_text(">a\n" + "ACGT" * 50 + "\n")
    assert "needs labels" in _bad(["attribute", m, "--fasta", str(fa), "--target", "0", "--positives", "-o", str(out)], capsys)
    fa.write_text(">a\nACGT\n")
    assert "not 200 bp" in _bad(["attribute", m, "--fasta", str(fa), "--target", "0", "-o", str(out)], capsys)
    torch.manual_seed(0)
    save_checkpoint(d / "lr.pt", build_model(ModelConfig.for_kind("lr", n_targets=2, length=200)))
    assert "differentiable" in _bad(["attribute", str(d / "lr.pt"), "--data", data, "--target", "0", "--method",
                                     "saliency", "-o", str(out)], capsys)
    # attributions files from elsewhere, with missing keys or wrong shapes
    res, _, _ = _planted(n=20, L=40)
    np.savez(d / "other.npz", x=np.zeros(3))
    good = {k: v for k, v in np.load(save_attributions(d / "good.npz", res)).items()}
    np.savez(d / "nokey.npz", **{k: v for k, v in good.items() if k != "tokens"})
    np.savez(d / "shape.npz", **{**good, "attributions": good["attributions"][:, :3]})
    np.savez(d / "dtype.npz", **{**good, "tokens": good["tokens"].astype(np.int64)})
    (d / "text.npz").write_text("not a zip")
    for name, why in (("other", "no format"), ("nokey", "missing tokens"), ("shape", "(N, 4, L)"),
                      ("dtype", "uint8"), ("text", "not a motifq attributions file"), ("m.pt", "not a motifq attributions")):
        path = d / (name if name.endswith(".pt") else f"{name}.npz")
        assert why in _bad(["discover", str(path), "-o", str(d / "bad" / "m.meme")], capsys)
    assert "no group" in _bad(["-q", "discover", str(d / "good.npz"), "--min-seqlets", "500", "-o", str(d / "bad" / "m.meme")], capsys)
    assert not (d / "bad").exists() or not any((d / "bad").iterdir())


def test_plot_attribution_draws_one_letter_per_value():
    import matplotlib.pyplot as plt

    from motifq.plot import plot_attribution

    a = np.random.default_rng(0).normal(size=(4, 12))
    tok = np.array([0, 1, 2, 3, 4, 0, 1, 2, 3, 0, 1, 2])
    ax = plot_attribution(a, tok)
    assert len(ax.patches) == 11                                        # observed bases, none at the N
    ax2 = plot_attribution(a)
    assert len(ax2.patches) == 48 and ax2.get_ylim()[0] < 0 < ax2.get_ylim()[1]
    plt.close("all")

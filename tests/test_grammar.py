"""Grammar experiments on hand-made models with known answers: an AND of two motif detectors at
one spacing (interaction there and nowhere else), an additive model (interaction 0), the layout,
the instances, the planted-rule summary and the CLI."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from motifq.cli import main
from motifq.config import ModelConfig
from motifq.errors import MotifqError
from motifq.grammar import (
    GRAMMAR_COLUMNS,
    instances,
    layout,
    logits,
    marginal,
    pair_map,
    parse_motifs,
    rank_pairs,
    rule_cells,
    verdict,
)
from motifq.models import build_model, save_checkpoint
from motifq.motif import Motif
from motifq.plot import plot_grammar_map

A_SITE, B_SITE = "GATTCA", "CCGTAG"


def _motif(site, mid):
    return Motif.from_probabilities(np.array([np.eye(4)["ACGT".index(c)] for c in site]), nsites=20, id=mid)


class Detectors(nn.Module):
    """Exact-match detectors of A(+) and B(+); logit = AND of A then B at `gap`, or their sum."""

    def __init__(self, gap: int, additive: bool = False):
        super().__init__()
        w = torch.zeros(2, 4, 6)
        for k, site in enumerate((A_SITE, B_SITE)):
            for j, c in enumerate(site):
                w[k, "ACGT".index(c), j] = 1.0
        self.conv = nn.Conv1d(4, 2, 6, bias=False)
        self.conv.weight.data = w
        self.shift, self.additive = 6 + gap, additive

    def forward(self, x):
        hit = torch.relu(self.conv(x) - 5.0)              # (N, 2, L - 5): 1 at an exact match
        a, b = hit[:, 0], hit[:, 1]
        if self.additive:
            return (a.sum(1) + b.sum(1))[:, None]         # (N, 1)
        return (a[:, :-self.shift] * b[:, self.shift:]).sum(1)[:, None]


@pytest.fixture
def background():
    # a background without C or G cannot hold a chance match of either site
    return np.random.default_rng(1).choice(np.array([0, 3], dtype=np.uint8), size=(6, 80))


def test_and_model_interaction_at_the_right_gap_and_orientation(background):
    a, b = _motif(A_SITE, "A"), _motif(B_SITE, "B")
    t = pair_map(Detectors(gap=7), a, b, background, max_gap=20, insert="consensus")
    assert list(t.columns) == list(GRAMMAR_COLUMNS) and len(t) == 2 * 4 * 21
    # the model scores A(+) then B(+) at gap 7; the reverse-complement mean gives 1/2 there and
    # 1/2 for B(-) then A(-) at gap 7 (the same arrangement read on the other strand)
    hot = ((t["first"] == "A") & (t.first_strand == "+") & (t.second_strand == "+") & (t.gap == 7)) | \
          ((t["first"] == "B") & (t.first_strand == "-") & (t.second_strand == "-") & (t.gap == 7))
    np.testing.assert_allclose(t.loc[hot, "interaction"], 0.5, atol=1e-12)
    np.testing.assert_allclose(t.loc[~hot, "interaction"], 0.0, atol=1e-12)
    np.testing.assert_allclose(t.loc[hot, "effect"], 0.5, atol=1e-12)
    line = verdict(t, 0)
    assert "gap 7 bp" in line and "+0.5" in line
    cells = rule_cells(t, {"first": "A", "second": "B", "min_gap": 5, "max_gap": 9}, 0)
    assert cells["ratio"] > 5 and cells["reversed"] == 0.0


def test_additive_model_has_no_interaction(background):
    a, b = _motif(A_SITE, "A"), _motif(B_SITE, "B")
    t = pair_map(Detectors(gap=7, additive=True), a, b, background, max_gap=12, insert="consensus")
    np.testing.assert_allclose(t["interaction"], 0.0, atol=1e-12)
    np.testing.assert_allclose(t["effect"], 1.0, atol=1e-12)      # A and B each (1 + 0) / 2
    assert "no interaction" in verdict(t, 0)
    m = marginal(Detectors(gap=7, additive=True), a, background, insert="consensus")
    np.testing.assert_allclose(m["effect"], 0.5, atol=1e-12)


def test_layout_and_bad_gap_range():
    lay = layout(6, 8, 100, 20)
    assert lay.p0 == (100 - 34) // 2 and list(lay.gaps) == list(range(21))
    with pytest.raises(MotifqError, match="max-gap"):
        layout(6, 8, 30, 20)
    with pytest.raises(MotifqError, match="gaps"):
        layout(6, 8, 100, 20, gaps=[25])


def test_instances_follow_the_pfm():
    p = np.array([[0.7, 0.1, 0.1, 0.1], [0.0, 0.5, 0.5, 0.0]])
    m = Motif.from_probabilities(p, id="m")
    s = instances(m, 20000, rng=3)
    freq = np.stack([np.bincount(s[:, j], minlength=4) / len(s) for j in range(2)])
    np.testing.assert_allclose(freq, p, atol=0.015)
    assert (instances(m, 3, "consensus") == [0, 1]).all()


def test_rc_mean_logits_symmetric():
    torch.manual_seed(0)
    model = build_model(ModelConfig.for_kind("danq", n_targets=2, length=60, conv_kernels=4, conv_width=5, pool=4,
                                             lstm_units=3, dense=4))
    x = np.random.default_rng(0).integers(0, 4, size=(5, 60)).astype(np.uint8)
    rc = np.ascontiguousarray(3 - x[:, ::-1])
    np.testing.assert_allclose(logits(model, x), logits(model, rc), atol=1e-5)


def test_parse_motifs_and_rank_pairs(background):
    ms = parse_motifs("jaspar2024:MA0080.7,MA0141.4")
    assert [m.id for m in ms] == ["MA0080.7", "MA0141.4"]
    with pytest.raises(MotifqError):
        parse_motifs("nonsense_motif")
    a, b = _motif(A_SITE, "A"), _motif(B_SITE, "B")
    t_and = pair_map(Detectors(gap=3), a, b, background, max_gap=6, insert="consensus")
    t_add = pair_map(Detectors(gap=3, additive=True), b, a, background, max_gap=6, insert="consensus")
    ranked = rank_pairs({("B", "A"): t_add, ("A", "B"): t_and})
    assert list(ranked.motif_a) == ["A", "B"] and ranked.gap[0] == 3 and ranked.n_significant[1] == 0


def test_plot_grammar_map(background):
    a, b = _motif(A_SITE, "A"), _motif(B_SITE, "B")
    t = pair_map(Detectors(gap=4), a, b, background, max_gap=8, insert="consensus")
    ax = plot_grammar_map(t, "A", "B", 0, window=(2, 6))
    img = ax.get_images()[0].get_array()
    assert img.shape == (4, 9) and img[0, 4] == pytest.approx(0.5) and np.nansum(np.abs(img)) == pytest.approx(0.5)


def test_cli_grammar_writes_tables_and_rejects_bad_input(tmp_path, capsys):
    torch.manual_seed(0)
    model = build_model(ModelConfig.for_kind("danq", n_targets=2, length=80, conv_kernels=4, conv_width=5, pool=4,
                                             lstm_units=3, dense=4))
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, model, targets=["t0", "t1"])
    out = tmp_path / "g"
    args = ["-q", "grammar", str(ckpt), "--motifs", "jaspar2024:MA0080.7,MA0141.4", "--n", "3", "--max-gap", "4"]
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert main(args + ["--target", "t1", "--threads", "1", "-o", str(out)]) == 0
        assert torch.get_num_threads() == 2                       # --threads 1 held during the run only
    finally:
        torch.set_num_threads(threads)
    t = pd.read_csv(out / "grammar.tsv", sep="\t")
    assert list(t.columns) == list(GRAMMAR_COLUMNS) and len(t) == 2 * 4 * 5 * 2
    assert (out / "map_MA0080.7_MA0141.4.png").exists() and (out / "pairs.tsv").exists()
    assert len((out / "verdicts.txt").read_text().splitlines()) == 1
    one = tmp_path / "one"
    assert main(["-q", "grammar", str(ckpt), "--motifs", "jaspar2024:MA0080.7", "--n", "3", "-o", str(one)]) == 0
    assert len(pd.read_csv(one / "marginal.tsv", sep="\t")) == 4
    capsys.readouterr()
    for bad in (["--target", "nope"], ["--max-gap", "70"], ["--motifs", "jaspar2024:NOPE"]):
        dest = tmp_path / f"bad{len(bad[1])}"
        assert main(args + bad + ["-o", str(dest)]) == 2
        assert not dest.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(e.startswith("motifq: error: ") for e in err)


def test_pair_maps_and_the_grammar_folder(background, tmp_path):
    """The library's whole pair experiment (what `motifq grammar` writes): three motifs -> three
    pairs, ranked, a verdict each; the folder holds the tables, the verdicts and the best maps."""
    import matplotlib

    matplotlib.use("Agg")
    from motifq.grammar import PairMaps, pair_maps
    from motifq.report import write_grammar, write_marginal

    a, b, c = _motif(A_SITE, "A"), _motif(B_SITE, "B"), _motif("TTTTTT", "C")
    maps = pair_maps(Detectors(gap=3), [a, b, c], background, max_gap=6, target_names=["t0"], insert="consensus")
    assert isinstance(maps, PairMaps) and list(maps.tables) == [("A", "B"), ("A", "C"), ("B", "C")]
    assert (maps.ranked.motif_a[0], maps.ranked.motif_b[0], maps.ranked.gap[0]) == ("A", "B", 3)
    assert len(maps.verdicts) == 3 and "gap 3 bp" in maps.verdicts[0] and "no interaction" in maps.verdicts[1]
    names = write_grammar(tmp_path / "g", maps, n_figures=2)
    assert names == ["grammar.tsv", "pairs.tsv", "verdicts.txt", "map_A_B.png", f"map_{maps.ranked.motif_a[1]}_"
                     f"{maps.ranked.motif_b[1]}.png"]
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == sorted(names)
    assert len(pd.read_csv(tmp_path / "g" / "grammar.tsv", sep="\t")) == 3 * 2 * 4 * 7
    assert (tmp_path / "g" / "verdicts.txt").read_text().splitlines() == maps.verdicts
    m = marginal(Detectors(gap=3, additive=True), a, background, target_names=["t0"], insert="consensus")
    path = write_marginal(tmp_path / "m", m)
    assert path.name == "marginal.tsv" and list(pd.read_csv(path, sep="\t").columns) == list(m.columns)
    with pytest.raises(MotifqError, match="two motifs"):
        pair_maps(Detectors(gap=3), [a], background)

"""The quickstart end to end at its tiny size: every step runs, every file and report section is
there, the report is self-contained, and its numbers are the ones in quickstart.json."""
import json
import re

import pytest

from motifq.cli import main
from motifq.config import TrainConfig
from motifq.errors import MotifqError
from motifq.quickstart import SIZES, quickstart

from conftest import three_meme_readers_agree

pytestmark = pytest.mark.slow   # the module runs the whole tiny quickstart once


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("qs") / "quick"
    (out / "predictions").mkdir(parents=True)            # issue 15: a link planted where a file goes
    (out.parent / "victim").write_bytes(b"precious")
    (out / "predictions" / "danq.test.npy").symlink_to(out.parent / "victim")
    assert main(["quickstart", "-o", str(out), "--size", "tiny", "--device", "cpu", "--seed", "1",
                 "--threads", "1"]) == 0
    return out


def test_files(run):
    for f in ("data/dataset.json", "data/truth/rules.json", "data/truth/instances.tsv", "data/truth/motifs.meme",
              "models/danq.pt", "models/cnn.pt", "models/lr.pt", "metrics.tsv", "learned_motifs.meme",
              "matches.tsv", "recovery.tsv", "report.html", "report.md", "quickstart.json",
              "figures/training_curves.png", "figures/auc_scatter.png", "figures/logo_MA0139.2.png"):
        assert (run / f).is_file(), f
    assert not list(run.rglob("*.tmp"))


def test_report_sections_and_numbers(run):
    res = json.loads((run / "quickstart.json").read_text())
    md = (run / "report.md").read_text()
    page = (run / "report.html").read_text()
    for heading in ("Planted motifs and what the DanQ learned", "Per-target AUCs on the test split: DanQ vs CNN vs LR",
                    "Training curves", "Clusters of the learned motifs", "Settings", "Time per step"):
        assert f"## {heading}" in md and f"<h2>{heading}</h2>" in page
    # self-contained: every image is embedded, nothing is linked
    imgs = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(imgs) >= 10 and all(s.startswith("data:image/png;base64,") for s in imgs)
    # the eight planted motifs, the grammar targets marked, all three models, the settings used
    assert set(res["metrics"]) == {"DanQ", "CNN", "LR"} and res["n_planted"] == 8 and len(res["recovery"]) == 8
    for r in res["recovery"]:
        assert f"{r['motif']} {r['name']}" in md
    grammar = [t for t, k in res["kinds"].items() if k == "grammar"]
    assert len(grammar) == 2 and all(f"{t} ★" in md for t in grammar)
    for t, k in res["kinds"].items():
        row = next(l for l in md.splitlines() if l.startswith(f"| {t} ") or l.startswith(f"| {t} ★"))
        assert f"{res['metrics']['DanQ'][t]['pr_auc']:.3f}" in row
    tr = res["settings"]["training"]
    default = TrainConfig()                                  # the quickstart trains with the default recipe
    assert (tr["DanQ"]["optimizer"], tr["DanQ"]["lr"]) == (default.optimizer, default.lr)
    assert tr["DanQ"]["steps_done"] <= SIZES["tiny"]["steps"] and tr["DanQ"]["recipe"] == "default"
    assert default.optimizer in md and str(default.lr) in md
    for step in ("simulate", "train DanQ", "train CNN", "train LR", "evaluate", "extract", "compare", "cluster",
                 "figures", "report", "total"):
        assert any(k.startswith(step) for k in res["timings"]), step
        assert any(l.startswith(f"| {step}") for l in md.splitlines()), step
    assert res["recovered"] == sum(r["recovered"] for r in res["recovery"])
    assert (run / "metrics.tsv").read_text().count("\n") == 1 + len(res["kinds"])


def test_attribution_logos_one_per_planted_motif(run):
    """Each planted motif's logo: its presence target, a positive test sequence holding a planted
    instance of it, the highest DanQ score among those, and the report's table and figure."""
    import numpy as np

    from motifq.data.dataset import open_split
    from motifq.data.simulate import read_truth

    res = json.loads((run / "quickstart.json").read_text())
    md = (run / "report.md").read_text()
    planted, rules, inst = read_truth(run / "data")
    test = open_split(run / "data", "test")
    labels, probs = test.labels(), np.load(run / "predictions" / "danq.test.npy")
    picks = res["attributions"]
    assert [p["motif"] for p in picks] == [m.id for m in planted]
    assert "## Attribution logos: what the DanQ reads in a sequence" in md
    for p in picks:
        j = test.targets.index(p["target"])
        mine = (np.asarray(inst["split"]) == "test") & (np.asarray(inst["motif"]) == p["motif"])
        holders = np.unique(np.asarray(inst["sequence"])[mine].astype(int))
        positive = holders[labels[holders, j] == 1]
        if p["sequence"] is None:
            assert len(positive) == 0
            continue
        assert p["sequence"] in positive and probs[p["sequence"], j] == pytest.approx(probs[positive, j].max())
        starts = np.asarray(inst["start"])[mine & (np.asarray(inst["sequence"]).astype(int) == p["sequence"])]
        assert sorted(s for s, _ in p["sites"]) == sorted(starts.astype(int).tolist())
        assert 0.0 <= p["top_inside"] <= 1.0
        assert any(line.startswith(f"| {p['motif']} {p['name']} | {p['target']} | {p['sequence']} |")
                   for line in md.splitlines())
    if any(p["sequence"] is not None for p in picks):
        assert (run / "figures" / "attribution_logos.png").stat().st_size > 1000
        assert any(k.startswith("attribution logos") for k in res["timings"])


def test_bad_arguments(tmp_path, capsys):
    with pytest.raises(MotifqError, match="size"):
        quickstart(tmp_path / "x", size="huge")
    with pytest.raises(MotifqError, match="threads"):
        quickstart(tmp_path / "x", size="tiny", threads=0)
    assert main(["quickstart", "-o", str(tmp_path / "y"), "--device", "tpu"]) == 2
    assert "device" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_planted_link_replaced_not_followed(run):
    assert (run.parent / "victim").read_bytes() == b"precious"
    link = run / "predictions" / "danq.test.npy"
    assert not link.is_symlink() and link.stat().st_size > 128


def test_meme_files_read_by_three_readers(run):
    three_meme_readers_agree(run / "learned_motifs.meme")

"""Genome tracks (predict --bed --genome): tiling, bin placement, bigWig/bedGraph contents, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from motifq.cli import main
from motifq.config import ModelConfig
from motifq.data.genome import open_genome
from motifq.models import build_model, predict, save_checkpoint
from motifq.sequence import tokenize
from motifq.tracks import (
    bin_windows,
    merge_regions,
    read_regions,
    tile_bins,
    track_path,
    write_tracks,
)

L = 40


@pytest.fixture
def genome(tmp_path):
    import pysam

    rng = np.random.default_rng(2)
    seqs = {c: "".join(rng.choice(list("ACGT"), n)) for c, n in (("chrA", 400), ("chrB", 150))}
    path = tmp_path / "genome.fa"
    path.write_text("".join(f">{c}\n{s}\n" for c, s in seqs.items()))
    pysam.faidx(str(path))
    return path, seqs


def _model(n_targets=2):
    torch.manual_seed(0)
    cfg = ModelConfig(kind="danq", n_targets=n_targets, length=L, conv_kernels=6, conv_width=7, pool=4,
                      lstm_units=4, dense=8, init="pytorch")
    return build_model(cfg).eval()


def test_regions_are_sorted_merged_and_tiled_in_step_bins():
    merged = merge_regions([("chrB", 10, 20), ("chrA", 50, 90), ("chrA", 0, 30), ("chrA", 30, 40)], ["chrA", "chrB"])
    assert merged == [("chrA", 0, 40), ("chrA", 50, 90), ("chrB", 10, 20)]
    bins = list(tile_bins(merged, step=15, chunk=2))
    assert [(b.chrom, b.starts.tolist(), b.ends.tolist()) for b in bins] == [
        ("chrA", [0, 15], [15, 30]), ("chrA", [30], [40]), ("chrA", [50, 65], [65, 80]), ("chrA", [80], [90]),
        ("chrB", [10], [20])]


def test_each_bin_gets_the_window_centred_on_it(genome):
    path, seqs = genome
    fasta = open_genome(path)
    bins = next(tile_bins([("chrA", 100, 250)], step=50))
    tokens = bin_windows(fasta, bins, L, 50, 400)
    for k, b in enumerate(bins.starts):
        c = b + 25                                       # bin centre = window index L // 2
        assert (tokens[k] == tokenize(seqs["chrA"][c - L // 2:c - L // 2 + L])).all()
    # at the chromosome start the window is padded with N
    edge = bin_windows(fasta, next(tile_bins([("chrB", 0, 10)], step=10)), L, 10, 150)
    assert (edge[0, :L // 2 - 5] == 4).all() and (edge[0, L // 2 - 5:] == tokenize(seqs["chrB"][:L // 2 + 5])).all()


def test_bigwig_holds_the_predictions_of_each_bin(genome, tmp_path):
    import pyBigWig

    path, seqs = genome
    model = _model()
    bed = tmp_path / "r.bed"
    bed.write_text("chrB\t20\t120\tx\nchrA\t100\t230\n")
    paths = write_tracks(model, bed, path, tmp_path / "out", step=50, targets="t1", model_targets=["t0", "t1"])
    assert paths == [f"{tmp_path / 'out'}.t1.bw"]
    fasta = open_genome(path)
    with pyBigWig.open(paths[0]) as bw:
        assert bw.chroms() == {"chrA": 400, "chrB": 150}
        got = bw.intervals("chrA")
        assert [(s, e) for s, e, _ in got] == [(100, 150), (150, 200), (200, 230)]
        want = predict(model, bin_windows(fasta, next(tile_bins([("chrA", 100, 230)], 50)), L, 50, 400))[:, 1]
        np.testing.assert_allclose([v for _, _, v in got], want, rtol=1e-5)
        assert [(s, e) for s, e, _ in bw.intervals("chrB")] == [(20, 70), (70, 120)]


def test_cli_bedgraph_one_file_per_target(genome, tmp_path):
    path, _ = genome
    model = _model()
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, model, targets=["cell|TF A", "t/1"])
    bed = tmp_path / "r.bed"
    bed.write_text("track name=x\nchrA\t0\t120\n")
    assert main(["-q", "predict", str(ckpt), "--bed", str(bed), "--genome", str(path), "--step", "40",
                 "--bedgraph", str(tmp_path / "p")]) == 0
    first = tmp_path / "p.cell_TF_A.bedGraph"
    assert track_path(tmp_path / "p", "t/1", "bedgraph") == str(tmp_path / "p.t_1.bedGraph")
    rows = [ln.split("\t") for ln in first.read_text().splitlines()]
    assert [(r[0], int(r[1]), int(r[2])) for r in rows] == [("chrA", 0, 40), ("chrA", 40, 80), ("chrA", 80, 120)]
    assert all(0 < float(r[3]) < 1 for r in rows) and (tmp_path / "p.t_1.bedGraph").exists()


@pytest.mark.parametrize("line, why", [
    ("chrZ\t0\t10", "line 1: chromosome 'chrZ' is not in the genome"),
    ("chrB\t100\t151", "line 1: end 151 is past the end of chrB (150 bp)"),
    ("chrA\t20\t10", "line 1: need 0 <= start < end, got 20 and 10"),
    ("chrA\t20", "line 1: expected at least 3 tab-separated columns"),
])
def test_bad_regions_fail_with_file_and_line_and_no_output(genome, tmp_path, capsys, line, why):
    path, _ = genome
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, _model(), targets=["a", "b"])
    bed = tmp_path / "r.bed"
    bed.write_text(line + "\n")
    assert main(["predict", str(ckpt), "--bed", str(bed), "--genome", str(path), "--bigwig", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("motifq: error: ") and err.count("\n") == 1 and why in err and str(bed) in err
    assert list(tmp_path.glob("o*")) == [] and list(tmp_path.glob(".o*")) == []


def _one_line_error(capsys, why):
    err = capsys.readouterr().err
    assert err.startswith("motifq: error: ") and err.count("\n") == 1 and why in err, err
    return err


def test_window_larger_than_a_chromosome_names_the_line(genome, tmp_path, capsys):
    path, _ = genome
    torch.manual_seed(0)
    cfg = ModelConfig(kind="danq", n_targets=2, length=200, conv_kernels=6, conv_width=7, pool=4,
                      lstm_units=4, dense=8, init="pytorch")
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, build_model(cfg), targets=["a", "b"])
    bed = tmp_path / "r.bed"
    bed.write_text("chrA\t0\t100\nchrB\t0\t100\n")
    assert main(["predict", str(ckpt), "--bed", str(bed), "--genome", str(path), "--bedgraph", str(tmp_path / "o")]) == 2
    err = _one_line_error(capsys, "line 2: the 200-bp window is larger than chromosome chrB (150 bp)")
    assert str(bed) in err
    assert list(tmp_path.glob("o*")) == [] and list(tmp_path.glob(".o*")) == []


def test_unindexed_gzip_genome_is_refused(genome, tmp_path, capsys):
    import gzip

    path, _ = genome
    gz = tmp_path / "g.fa.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write(path.read_text())
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, _model(), targets=["a", "b"])
    bed = tmp_path / "r.bed"
    bed.write_text("chrA\t0\t100\n")
    assert main(["predict", str(ckpt), "--bed", str(bed), "--genome", str(gz), "--bigwig", str(tmp_path / "o")]) == 2
    err = _one_line_error(capsys, "gzip-compressed but not with bgzip")
    assert str(gz) in err
    assert list(tmp_path.glob("o*")) == [] and list(tmp_path.glob(".o*")) == [] and not (tmp_path / "g.fa.gz.fai").exists()


def test_read_regions_skips_headers(genome, tmp_path):
    path, _ = genome
    bed = tmp_path / "r.bed"
    bed.write_text("# comment\nbrowser position chrA\nchrA\t5\t9\tname\t0\t+\n")
    sizes = dict(zip(open_genome(path).references, open_genome(path).lengths))
    assert read_regions(bed, sizes) == [("chrA", 5, 9)]


def test_cli_wrong_window_and_missing_output(genome, tmp_path, capsys):
    path, _ = genome
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, _model(), targets=["a", "b"])
    bed = tmp_path / "r.bed"
    bed.write_text("chrA\t0\t100\n")
    assert main(["predict", str(ckpt), "--bed", str(bed), "--genome", str(path), "--bigwig", str(tmp_path / "o"),
                 "--window", "1000"]) == 2
    _one_line_error(capsys, "the model takes 40-bp inputs, but a 1000-bp window was asked for")
    assert list(tmp_path.glob("o*")) == [] and list(tmp_path.glob(".o*")) == []
    assert main(["predict", str(ckpt), "--bed", str(bed), "--genome", str(path)]) == 2
    assert "need --bigwig or --bedgraph" in capsys.readouterr().err

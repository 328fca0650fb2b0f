"""RSAT-like motif clustering (motifq.cluster)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motifq.cluster import aligned_matrix, cluster_motifs, clusters_table, pairwise_alignment
from motifq.errors import MotifqError
from motifq.motif import Motif


def _from_consensus(seq, mid, n=20, p=0.85):
    """A motif with probability p on the consensus letter and the rest spread evenly."""
    counts = np.full((len(seq), 4), n * (1 - p) / 3)
    for i, ch in enumerate(seq):
        counts[i, "ACGT".index(ch)] = n * p
    return Motif(id=mid, counts=counts)


def _brute_force(a, b, min_overlap):
    """Best Ncor over every offset and strand by a plain loop."""
    pa = a.probabilities()
    best = (-np.inf, None, None, None)
    for strand, mb in ((1, b), (-1, b.reverse_complement())):
        pb = mb.probabilities()
        for d in range(-(b.width - 1), a.width):
            lo, hi = max(0, d), min(a.width, d + b.width)
            w = hi - lo
            if w < min(min_overlap, a.width, b.width):
                continue
            x, y = pa[lo:hi].ravel(), pb[lo - d:hi - d].ravel()
            cor = 0.0 if x.std() == 0 or y.std() == 0 else float(np.corrcoef(x, y)[0, 1])
            ncor = cor * w / (a.width + b.width - w)
            if ncor > best[0] + 1e-12:
                best = (ncor, cor, d, strand)
    return best


def test_vectorised_alignment_matches_a_plain_loop(random_motifs):
    motifs = random_motifs + [m.reverse_complement() for m in random_motifs[:2]]
    motifs = [replace(m, id=f"m{i}") for i, m in enumerate(motifs)]
    pa = pairwise_alignment(motifs, min_overlap=4)
    for i in range(len(motifs)):
        for j in range(len(motifs)):
            if i == j:
                continue
            ncor, cor, d, strand = _brute_force(motifs[i], motifs[j], 4)
            assert pa.ncor[i, j] == pytest.approx(ncor, abs=1e-9)
            assert pa.cor[i, j] == pytest.approx(cor, abs=1e-9)
            if i < j:  # the lower triangle's scores are the upper's; its offsets are its own
                assert (pa.offset[i, j], pa.strand[i, j]) == (d, strand)


def test_golden_pair_scores():
    a = _from_consensus("ACGTTGCAAC", "a")
    part = replace(a, id="part", counts=a.counts[2:8])  # 6 of 10 columns
    pa = pairwise_alignment([a, part, a.reverse_complement()])
    assert pa.cor[0, 1] == pytest.approx(1.0)
    assert pa.ncor[0, 1] == pytest.approx(6 / 10)
    assert (pa.offset[0, 1], pa.strand[0, 1]) == (2, 1)
    assert pa.ncor[0, 2] == pytest.approx(1.0) and pa.strand[0, 2] == -1 and pa.offset[0, 2] == 0
    np.testing.assert_allclose(np.diag(pa.ncor), 1.0)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_scores_are_symmetric_and_strand_invariant(seed):
    rng = np.random.default_rng(seed)
    motifs = [Motif(id=f"m{i}", counts=rng.dirichlet(np.full(4, 0.4), size=int(rng.integers(5, 12))) * 30 + 0.1)
              for i in range(4)]
    pa = pairwise_alignment(motifs)
    np.testing.assert_allclose(pa.ncor, pa.ncor.T)
    rc = pairwise_alignment([m.reverse_complement() for m in motifs])
    np.testing.assert_allclose(rc.ncor, pa.ncor, atol=1e-9)
    assert (pa.ncor <= 1 + 1e-9).all()


def test_motif_its_reverse_complement_and_a_trimmed_copy_cluster_together():
    ctcf = _from_consensus("TGGCCACCAGGGGGCGCTA", "ctcf")
    rc = replace(ctcf.reverse_complement(), id="ctcf_rc")
    trimmed = replace(ctcf, id="ctcf_trim", counts=ctcf.counts[3:15])  # 3 columns off the left, 4 off the right
    others = [_from_consensus("AAATTTAAAT", "at_rich"), _from_consensus("CGCGCGCGAC", "gc_rich"),
              _from_consensus("GATAAG", "gata")]
    res = cluster_motifs([ctcf, others[0], rc, others[1], trimmed, others[2]])
    lab = res.labels
    assert lab[0] == lab[2] == lab[4]
    assert len({lab[0], lab[1], lab[3], lab[5]}) == 4
    assert len(res.summaries) == 4
    s0 = res.strand[0]
    assert res.strand[2] == -s0 and res.strand[4] == s0
    assert res.offset[4] - res.offset[0] == (3 if s0 == 1 else 4)
    assert res.offset[2] == res.offset[0] == 0
    # aligned members agree column by column
    probs = aligned_matrix([ctcf, rc, trimmed], res.strand[[0, 2, 4]], res.offset[[0, 2, 4]], "probabilities")
    np.testing.assert_allclose(probs[1], probs[0])
    np.testing.assert_allclose(probs[2][~np.isnan(probs[2])], probs[0][~np.isnan(probs[2])])
    # the summary is the sum of the aligned counts: 3 sites' worth in the middle, 2 at the edges
    summary = res.summaries[lab[0] - 1]
    assert summary.width == 19
    totals = summary.counts.sum(axis=1)
    expect = np.full(19, 40.0)
    expect[(3 if s0 == 1 else 4):(15 if s0 == 1 else 16)] = 60.0
    np.testing.assert_allclose(totals, expect)
    table = clusters_table(res)
    assert list(table.columns[:5]) == ["motif", "name", "cluster", "strand", "offset"]
    row = table.set_index("motif").loc["ctcf_rc"]
    assert row.strand == ("-" if s0 == 1 else "+") and row.cluster == f"cluster_{lab[2]}"


def test_thresholds_control_merging():
    a = _from_consensus("ACGTTGCAAC", "a")
    b = replace(a, id="b", counts=a.counts[:6])  # Ncor 0.6 with a
    assert cluster_motifs([a, b]).labels.tolist() == [1, 1]
    assert cluster_motifs([a, b], min_ncor=0.7).labels.tolist() in ([1, 2], [2, 1])
    single = cluster_motifs([a])
    assert single.labels.tolist() == [1] and single.summaries[0].allclose(a)


def test_duplicate_ids_are_refused():
    a = _from_consensus("ACGTTG", "a")
    with pytest.raises(MotifqError, match="unique"):
        cluster_motifs([a, a])


def test_cli_cluster_writes_table_summaries_and_figures(tmp_path, capsys):
    import pandas as pd

    from motifq.cli import main
    from motifq.formats import read_meme, write_meme

    ctcf = _from_consensus("TGGCCACCAGGGGGCGCTA", "ctcf")
    motifs = [ctcf, replace(ctcf.reverse_complement(), id="ctcf_rc"), _from_consensus("AAATTTAAAT", "at_rich"),
              _from_consensus("GATAAG", "gata")]
    write_meme(tmp_path / "in.meme", motifs)
    out = tmp_path / "clusters"
    assert main(["cluster", str(tmp_path / "in.meme"), "-o", str(out)]) == 0
    table = pd.read_csv(out / "clusters.tsv", sep="\t")
    assert list(table.columns) == ["motif", "name", "cluster", "strand", "offset", "width"]
    by = table.set_index("motif")
    assert by.loc["ctcf", "cluster"] == by.loc["ctcf_rc", "cluster"]
    assert by.loc["ctcf", "strand"] != by.loc["ctcf_rc", "strand"]
    assert table["cluster"].nunique() == 3
    summaries = read_meme(out / "summaries.meme")
    assert len(summaries) == 3 and {m.id for m in summaries} == set(table["cluster"])
    for name in ("tree_letters.png", "tree_ic.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "4 motifs -> 3 clusters" in capsys.readouterr().err
    # a bad input fails without output
    (tmp_path / "bad.meme").write_text("not a motif file\n")
    assert main(["-q", "cluster", str(tmp_path / "bad.meme"), "-o", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad" / "clusters.tsv").exists()


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_progressive_alignment_puts_every_copy_in_register(seed):
    rng = np.random.default_rng(seed)
    base = Motif(id="base", counts=rng.dirichlet(np.full(4, 0.15), size=14) * 50 + 0.01)
    motifs = [base]
    for i in range(5):
        lo = int(rng.integers(0, 5))
        hi = int(rng.integers(lo + 9, 15))
        m = replace(base, id=f"copy{i}", counts=base.counts[lo:hi])
        motifs.append(m.reverse_complement() if rng.random() < 0.5 else m)
    order = rng.permutation(len(motifs))
    motifs = [motifs[i] for i in order]
    res = cluster_motifs(motifs, min_cor=0.5, min_ncor=0.3)
    assert len(set(res.labels)) == 1
    probs = aligned_matrix(motifs, res.strand, res.offset, "probabilities")
    ref = probs[[m.id for m in motifs].index("base")]
    for row in probs:
        have = ~np.isnan(row[:, 0])
        np.testing.assert_allclose(row[have], ref[have], atol=1e-12)
    assert res.offset.min() == 0

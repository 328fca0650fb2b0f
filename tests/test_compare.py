"""Tomtom-like comparison: self matches, strands, offsets, statistics, agreement with memelite and
with a literal translation of MEME's tomtom.c, the CLI."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import spearmanr

from motifq.cli import main
from motifq.compare import (COLUMNS, _kernel_inputs, _prepare, _pseudo_probabilities, _run_kernel, compare,
                            format_table, pvalue_matrix, qvalues)
from motifq.errors import MotifqError
from motifq.formats import parse_jaspar, parse_meme, write_meme
from motifq.jaspar import load_bundled, load_motifs
from motifq.motif import Motif

from conftest import ROOT


@pytest.fixture(scope="module")
def jaspar2024():
    return load_bundled("jaspar2024")


@pytest.fixture(scope="module")
def self_matrices(jaspar2024):
    return pvalue_matrix(jaspar2024, jaspar2024, dist="ed")


def _random_motifs(rng, n, prefix, wmin=6, wmax=16):
    out = []
    for i in range(n):
        w = int(rng.integers(wmin, wmax + 1))
        p = rng.dirichlet(np.full(4, 0.6), size=w)
        out.append(Motif.from_probabilities(p, nsites=20, id=f"{prefix}{i}"))
    return out


# ---------------------------------------------------------------------------------------------
# a literal numpy translation of tomtom.c (complete scores), for small cases
# ---------------------------------------------------------------------------------------------
def _reference(qs, ts, dist, min_overlap=1):
    """p-value, offset, overlap per query and per (target, strand), as tomtom.c computes them:
    sorted-row median shift, scale_score_matrix, get_pv_lookup_new, compare_motifs and the pmf
    of the maximum in calc_shifted_scores_pvalues_per_query. qs, ts: the stacked columns from
    ``_prepare``."""
    qp, tp = qs.split(), ts.split()
    targets = [x for p in tp for x in (p, p[::-1, ::-1])]
    T = np.concatenate(targets)
    tl = T.shape[0]
    out = []
    for q in qp:
        W = q.shape[0]
        if dist == "pearson":
            qc, tc = q - 0.25, T - 0.25
            den = np.sqrt((qc ** 2).sum(1)[:, None] * (tc ** 2).sum(1)[None])
            S = np.where(den != 0, (qc @ tc.T) / np.where(den == 0, 1, den), 0.0)
        else:
            d2 = ((q[:, None, :] - T[None]) ** 2).sum(-1)
            S = -np.sqrt(d2) if dist == "ed" else 2 - d2
        i1 = max(tl // 2 - 1, 0)
        i2 = max(math.ceil(tl / 2) - 1, i1)
        srt = np.sort(S, axis=1)
        S = S - ((srt[:, i1] + srt[:, i2]) / 2)[:, None]
        offset = math.floor(S.min())
        scale = math.floor(100 / (S.max() - offset))
        B = np.floor((S - offset) * scale + 0.5).astype(int)
        size = 100 * W + 1
        ext_len = int(math.ceil(size - (W - 1) * offset * scale))
        ext = {}
        for s in range(W):
            pdf = np.zeros(size)
            pdf[0] = 1
            for e in range(s, W):
                pdf = np.convolve(pdf, np.bincount(B[e], minlength=101) / tl)[:size]
                corr = int(round(offset * (W - 1 - (e - s)) * scale))
                a = np.zeros(ext_len)
                a[-corr:-corr + size] = pdf
                ext[(s, e)] = a
        pv = {}
        for L in {len(t) for t in targets}:
            new = np.zeros(ext_len)
            new[0] = 1
            for i in range(W + L - 1):
                s, e = (W - i - 1, min(W, W - i - 1 + L) - 1) if i < W else (0, min(W, L + W - i - 1) - 1)
                cur = ext[(s, e)]
                for _ in range(2):
                    old, cold, ccur = new, np.cumsum(new), np.cumsum(cur)
                    new = np.empty(ext_len)
                    new[0] = cur[0] * old[0]
                    new[1:] = cur[1:] * cold[:-1] + old[1:] * ccur[:-1] + cur[1:] * old[1:]
            pv[L] = np.cumsum(new[::-1])[::-1]
        res, col = [], 0
        for tgt in targets:
            Wt = len(tgt)
            mo = min(min_overlap, W, Wt) if min_overlap > 1 else 1
            best = (None, -1, 0)
            for conf in range(mo, W + Wt - mo + 1):
                qc0, tc0 = (W - conf, 0) if conf <= W else (0, conf - W)
                n = min(W - qc0, Wt - tc0)
                score = sum(B[qc0 + k, col + tc0 + k] for k in range(n))
                neg = -round(score + n * offset * scale)
                if best[0] is None or neg < best[0] or (neg == best[0] and n > best[1]):
                    best = (neg, n, conf - W)
            res.append((pv[Wt][int(round(-best[0] - W * offset * scale))], best[2], best[1]))
            col += Wt
        out.append(res)
    return np.array(out)  # (n_queries, 2 * n_targets, 3): target-major, forward then reverse


def _check_against_reference(out, ref):
    """The kernel's (P, O, L, S, p) against the reference's (n_queries, n_targets, 2 strands,
    (p, offset, overlap)): p-values on both strands, and the reported strand (lower p, then the
    larger overlap, else forward) with its p-value, offset and overlap."""
    P, O, L, S, p = out
    np.testing.assert_allclose(p, ref[..., 0], rtol=1e-9, atol=0)
    k = ((p[..., 1] < p[..., 0]) | ((p[..., 1] == p[..., 0]) & (ref[..., 1, 2] > ref[..., 0, 2]))).astype(int)
    np.testing.assert_array_equal(S, 1 - 2 * k)
    pick = np.take_along_axis(ref, k[..., None, None], axis=2)[:, :, 0]
    np.testing.assert_array_equal(P, np.take_along_axis(p, k[..., None], axis=2)[..., 0])
    np.testing.assert_array_equal(O, pick[..., 1])
    np.testing.assert_array_equal(L, pick[..., 2])


@pytest.mark.parametrize("dist", ["ed", "pearson", "sandelin"])
def test_kernel_matches_literal_tomtom_c(dist, jaspar2024):
    queries = [load_bundled("jaspar2016")[i] for i in (3, 77, 250)]
    targets = jaspar2024[::20]
    _, _, qs, ts = _prepare(queries, targets, dist, 1, 0.1)
    for mo in (1, 6):
        ref = _reference(qs, ts, dist, mo).reshape(len(queries), len(targets), 2, 3)
        _check_against_reference(_run_kernel(qs, ts, dist, mo, both_strands=True), ref)


@pytest.mark.parametrize("dist", ["ed", "pearson"])
def test_kernel_matches_literal_tomtom_c_mixed_widths(dist):
    """Queries narrower and wider than every target, and a target equal to a query (a p-value
    far below 1e-3): the kernel only builds each span's null distribution above the lowest best
    score looked up in it, which depends on the targets' widths; the p-values must not move."""
    rng = np.random.default_rng(11)
    queries = [_random_motifs(rng, 1, f"q{w}_", w, w)[0] for w in (3, 9, 24)]
    targets = _random_motifs(rng, 40, "t", 5, 18) + [queries[1]]
    _, _, qs, ts = _prepare(queries, targets, dist, 1, 0.1)
    for mo in (1, 4):
        ref = _reference(qs, ts, dist, mo).reshape(len(queries), len(targets), 2, 3)
        out = _run_kernel(qs, ts, dist, mo, both_strands=True)
        assert out[4][1, -1, 0] < 1e-6
        _check_against_reference(out, ref)


def test_queries_in_guided_chunks_and_results_independent_of_threads(jaspar2024):
    import numba

    from motifq._tomtom import _chunks

    q_len = np.array([5, 30, 12, 12, 8, 21, 6, 15, 9, 11, 7, 19, 14, 10, 6, 25])
    chunks = _chunks(q_len, 2)
    flat = np.concatenate(chunks)
    assert sorted(flat) == list(range(len(q_len)))  # every query exactly once
    assert list(q_len[flat]) == sorted(q_len, reverse=True)  # widest first
    sizes = [len(c) for c in chunks]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == 4 and sizes[-1] == 1
    queries = load_bundled("jaspar2016")[:40]
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = pvalue_matrix(queries, jaspar2024[:200], dist="pearson")
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = pvalue_matrix(queries, jaspar2024[:200], dist="pearson")
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_kernel_results_do_not_depend_on_the_target_layout(jaspar2024):
    """``_kernel_inputs`` lays the targets out by width (the kernel's own order, so it skips its
    copy); in the input order the kernel copies them into that order: same results."""
    from motifq._tomtom import target_rows, tomtom_kernel

    queries = load_bundled("jaspar2016")[:12]
    _, _, qs, ts = _prepare(queries, jaspar2024[:150], "ed", 1, 0.1)
    Q, q_start, q_len, Tt, t_start, t_len = _kernel_inputs(qs, ts, "ed")
    assert list(np.diff(t_start[0, np.argsort(t_len, kind="stable")])) == sorted(t_len)[:-1]
    Tt_in, t_start_in = target_rows(ts.cols, ts.widths, np.arange(len(t_len)), False)
    assert list(np.diff(t_start_in[0])) == list(t_len[:-1])
    sorted_ = tomtom_kernel(0, Q, q_start, q_len, Tt, t_start, t_len, 2, 1, 1, True)
    as_given = tomtom_kernel(0, Q, q_start, q_len, Tt_in, t_start_in, t_len, 2, 1, 1, True)
    for a, b in zip(sorted_, as_given):
        np.testing.assert_array_equal(a, b)
    # the second call of a shape reuses the first's workspace (kept between calls): same results
    from motifq import _tomtom

    assert len(_tomtom._KEPT) == 1
    again = tomtom_kernel(0, Q, q_start, q_len, Tt_in, t_start_in, t_len, 2, 1, 1, True)
    for a, b in zip(sorted_, again):
        np.testing.assert_array_equal(a, b)


def test_probabilities_as_written_in_a_meme_file_are_used_unchanged():
    """MEME uses a letter-probability matrix as written (rows may sum to 1 +- a few 1e-6 after
    rounding to 6 decimals); JASPAR counts with unequal column totals are normalised per column."""
    rows = np.array([[0.333333, 0.333333, 0.333333, 0.000000],   # sums to 0.999999
                     [0.250001, 0.250001, 0.250001, 0.250000]])  # sums to 1.000003
    text = "MEME version 4\n\nALPHABET= ACGT\n\nMOTIF m1\nletter-probability matrix: alength= 4 w= 2 nsites= 37\n"
    text += "".join(" ".join(f"{x:.6f}" for x in r) + "\n" for r in rows)
    (m,) = parse_meme(text)
    (p,) = _pseudo_probabilities([m], 0.0, np.full(4, 0.25)).split()
    np.testing.assert_allclose(p, rows, rtol=1e-15, atol=0)
    (j,) = parse_jaspar(">MA9 x\nA [ 10 3 ]\nC [ 0 3 ]\nG [ 0 3 ]\nT [ 0 2 ]\n")
    (pj,) = _pseudo_probabilities([j], 0.0, np.full(4, 0.25)).split()
    np.testing.assert_allclose(pj, [[1, 0, 0, 0], [3 / 11, 3 / 11, 3 / 11, 2 / 11]], rtol=1e-15)


# ---------------------------------------------------------------------------------------------
# properties on JASPAR
# ---------------------------------------------------------------------------------------------
def test_every_jaspar2024_motif_finds_itself_first(self_matrices, jaspar2024):
    """With ed (MEME's default); with pearson the 5- and 6-column motifs cannot reach 1e-5
    among 879 targets, but every motif still finds itself first."""
    p = self_matrices.pvalue
    n = p.shape[0]
    diag = p[np.arange(n), np.arange(n)]
    assert (diag < 1e-5).all()
    assert (diag <= p.min(axis=1)).all()  # first (identical matrices may tie)
    assert (self_matrices.offset[np.arange(n), np.arange(n)] == 0).all()
    assert (self_matrices.strand[np.arange(n), np.arange(n)] == 1).all()
    assert (self_matrices.overlap[np.arange(n), np.arange(n)] == [m.width for m in load_bundled("jaspar2024")]).all()
    np.testing.assert_allclose(self_matrices.evalue, p * n)
    pp = pvalue_matrix(jaspar2024[::3], jaspar2024, dist="pearson").pvalue
    dp = pp[np.arange(pp.shape[0]), np.arange(0, n, 3)]
    assert (dp <= pp.min(axis=1)).all() and (dp < 1e-3).all()


def test_reverse_complement_matches_on_minus_strand(jaspar2024):
    picks = [m for m in jaspar2024[::40] if not m.reverse_complement().allclose(m, atol=1e-3)]
    queries = [Motif(id=f"rc_{m.id}", counts=m.counts[::-1, ::-1].copy()) for m in picks]
    table = compare(queries, jaspar2024, dist="ed", report_all=True)
    best = table.groupby("Query_ID", sort=False)["p-value"].transform("min")
    own = table[table["Query_ID"] == "rc_" + table["Target_ID"]]
    assert len(own) == len(picks)
    # first, or tied with the first at the discretised scores (e.g. HOXB1 and MEOX2 are both STAATTA)
    assert (own["p-value"] == best[own.index]).all() and (own["p-value"] < 1e-5).all()
    assert (own["Orientation"] == "-").all() and (own["Optimal_offset"] == 0).all()
    # the target consensus is that of the target as aligned: its reverse complement
    assert (own["Target_consensus"] == own["Query_consensus"]).all()


def test_trimmed_query_offset_hand_worked(jaspar2024):
    """CTCF (MA0139.2, 15 columns) against itself.

    Query = columns 3..14 of CTCF: query column 0 is target column 3, so query position i sits
    on target position i + 3 and Tomtom reports Optimal_offset +3, overlap 12, strand +.
    Query = columns 0..11: offset 0, overlap 12.
    Query = reverse complement of columns 3..14 = the first 12 columns of CTCF's reverse
    complement: it matches on strand -, and the offset is counted on the reverse complement
    as reported, so it is 0.
    Query = CTCF with two uniform columns added in front: query position 2 is target position
    0, so the offset is -2 (the query overhangs the target's start) and the overlap 15.
    """
    ctcf = load_motifs("jaspar2024:MA0139.2")[0]
    assert ctcf.width == 15
    c = ctcf.counts
    pad = np.full((2, 4), c[0].sum() / 4)
    queries = [Motif(id="right", counts=c[3:]), Motif(id="left", counts=c[:12]),
               Motif(id="rc", counts=c[3:][::-1, ::-1].copy()), Motif(id="pad", counts=np.vstack([pad, c]))]
    table = compare(queries, jaspar2024, report_all=True)
    top = table.groupby("Query_ID", sort=False).head(1).set_index("Query_ID")
    assert (top["Target_ID"] == "MA0139.2").all()
    assert top.loc["right", ["Optimal_offset", "Overlap", "Orientation"]].tolist() == [3, 12, "+"]
    assert top.loc["left", ["Optimal_offset", "Overlap", "Orientation"]].tolist() == [0, 12, "+"]
    assert top.loc["rc", ["Optimal_offset", "Overlap", "Orientation"]].tolist() == [0, 12, "-"]
    assert top.loc["pad", ["Optimal_offset", "Overlap", "Orientation"]].tolist() == [-2, 15, "+"]


def test_table_columns_order_and_statistics(jaspar2024):
    queries = load_bundled("jaspar2016")[:12]
    table = compare(queries, jaspar2024, dist="ed", report_all=True)
    assert list(table.columns) == COLUMNS
    assert len(table) == 12 * len(jaspar2024)
    assert list(dict.fromkeys(table["Query_ID"])) == [m.id for m in queries]
    np.testing.assert_allclose(table["E-value"], table["p-value"] * len(jaspar2024), rtol=1e-12)
    # q >= p wherever it matters; near p = 1, Storey's q = pi0 * p can be below p when pi0 < 1
    small = table["p-value"] <= 0.01
    assert (table.loc[small, "q-value"] >= table.loc[small, "p-value"]).all()
    assert ((table["p-value"] > 0) & (table["p-value"] <= 1)).all()
    for _, g in table.groupby("Query_ID", sort=False):
        assert np.all(np.diff(g["p-value"].to_numpy()) >= 0)
        assert np.all(np.diff(g["q-value"].to_numpy()) >= 0)
        # Tomtom's tie order: larger overlap, then strand + before -, then target id
        keys = list(zip(g["p-value"], -g["Overlap"], g["Orientation"], g["Target_ID"]))
        assert keys == sorted(keys)
    # thresholds select prefixes of the full table
    q_kept = compare(queries, jaspar2024, dist="ed")
    assert (q_kept["q-value"] <= 0.5).all() and len(q_kept) == (table["q-value"] <= 0.5).sum()
    e_kept = compare(queries, jaspar2024, dist="ed", evalue=True, thresh=1.0)
    assert len(e_kept) == (table["E-value"] <= 1.0).sum()
    # the old keyword, all=, gives the same table with a DeprecationWarning; other keywords are errors
    with pytest.warns(DeprecationWarning, match="report_all"):
        old = compare(queries, jaspar2024, dist="ed", all=True)
    assert old.equals(table)
    with pytest.raises(TypeError, match="every"):
        compare(queries, jaspar2024, every=True)


def test_qvalues_storey_properties(rng):
    p = np.concatenate([rng.uniform(size=900), rng.uniform(0, 1e-4, size=100)])
    q = qvalues(p)
    assert (q[p <= 0.05] >= p[p <= 0.05]).all() and (q <= 1).all()
    o = np.argsort(p)
    assert (np.diff(q[o]) >= 0).all()
    # pi0 is estimated (< 1) with 90% nulls: q is below the Benjamini-Hochberg value
    bh = np.minimum.accumulate((p[o] * p.size / np.arange(1, p.size + 1))[::-1])[::-1]
    assert (q[o] <= np.minimum(bh, 1) + 1e-15).all() and (q[o] < bh).any()
    assert qvalues(np.array([0.2, 0.01])).tolist() == pytest.approx([0.2, 0.02])


def test_random_motifs_pvalues_are_calibrated():
    rng = np.random.default_rng(7)
    queries = _random_motifs(rng, 40, "q")
    targets = _random_motifs(rng, 300, "t")
    p = pvalue_matrix(queries, targets, dist="pearson").pvalue
    frac = (p < 0.05).mean()
    assert 0.03 < frac < 0.075, frac
    p_ed = pvalue_matrix(queries, targets, dist="ed").pvalue
    assert 0.03 < (p_ed < 0.05).mean() < 0.075


def test_spearman_with_memelite_ed():
    """memelite 0.5.0's tomtom (no pseudocount) on 20 JASPAR 2016 queries x JASPAR 2024, saved by
    benchmarks/compare.py --golden."""
    d = np.load(ROOT / "tests" / "data" / "memelite_ed_jaspar2016x2024.npz")
    by_id = {m.id: m for m in load_bundled("jaspar2016")}
    queries = [by_id[i] for i in d["query_ids"]]
    targets = load_bundled("jaspar2024")
    assert [m.id for m in targets] == list(d["target_ids"])
    ours = pvalue_matrix(queries, targets, dist="ed", motif_pseudo=0.0).pvalue
    rho = spearmanr(np.log(ours).ravel(), np.log(d["pvalue"]).ravel())[0]
    assert rho >= 0.999, rho
    assert (ours.argmin(1) == d["pvalue"].argmin(1)).mean() >= 0.95


def test_small_pvalues_do_not_underflow(jaspar2024):
    wide = [m for m in jaspar2024 if m.width >= 30]
    p = pvalue_matrix(wide, jaspar2024, dist="ed").pvalue
    idx = [jaspar2024.index(m) for m in wide]
    diag = p[np.arange(len(wide)), idx]
    assert (diag > 0).all() and (diag < 1e-40).all()


def test_min_overlap_limits_offsets(jaspar2024):
    queries = load_bundled("jaspar2016")[:10]
    m = pvalue_matrix(queries, jaspar2024, min_overlap=10)
    widths = np.array([t.width for t in jaspar2024])
    qw = np.array([q.width for q in queries])
    assert (m.overlap >= np.minimum(10, np.minimum(qw[:, None], widths[None]))).all()
    free = pvalue_matrix(queries, jaspar2024, min_overlap=1)
    assert (free.pvalue <= m.pvalue + 1e-15).all()


def test_api_accepts_names_and_validates():
    t = compare("jaspar2024:CTCF", "jaspar2024")
    assert t.iloc[0]["Target_ID"] == "MA0139.2"
    with pytest.raises(MotifqError, match="dist"):
        compare("jaspar2024:CTCF", "jaspar2024", dist="kl")
    with pytest.raises(MotifqError, match="thresh"):
        compare("jaspar2024:CTCF", "jaspar2024", thresh=2)
    with pytest.raises(MotifqError, match="no motifs"):
        compare([], "jaspar2024")


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------
def test_cli_stdout_and_file(tmp_path, capsys):
    assert main(["compare", "jaspar2024:CTCF,REST", "jaspar2024", "--dist", "ed"]) == 0
    out = capsys.readouterr().out
    lines = out.rstrip("\n").split("\n")
    assert lines[0].split("\t") == COLUMNS
    assert lines[1].split("\t")[:3] == ["MA0139.2", "MA0139.2", "0"]
    q = tmp_path / "q.meme"
    write_meme(q, load_motifs("jaspar2024:CEBPB"))
    res = tmp_path / "res.tsv"
    assert main(["-q", "compare", str(q), "jaspar2024", "--all", "-o", str(res)]) == 0
    assert res.read_text() == format_table(compare(load_motifs(str(q)), load_bundled("jaspar2024"), report_all=True))
    # two databases: the same rows (ties are ordered by database first, as Tomtom does)
    assert main(["-q", "compare", str(q), "jaspar2016", "jaspar2024", "--all", "-o", str(res)]) == 0
    text = res.read_text()
    assert text.count("\n") == 1 + 519 + 879
    table = compare(load_motifs(str(q)), load_bundled("jaspar2016") + load_bundled("jaspar2024"), report_all=True)
    assert sorted(text.splitlines()) == sorted(format_table(table).splitlines())


@pytest.mark.parametrize("content,why", [
    ("", "empty file"),
    ("MEME version 4\nALPHABET= ACGT\nMOTIF a\nletter-probability matrix: w= 2\n0.5 0.1 0.1 0.1\n0.25 0.25 0.25 0.25\n",
     "sums to"),
    ("MEME version 4\nALPHABET= ACDEFGHIKLMNPQRSTVWY\nMOTIF a\nletter-probability matrix:\n" + "0.05 " * 20 + "\n",
     "not DNA"),
])
def test_cli_bad_input_one_line(tmp_path, capsys, content, why):
    bad = tmp_path / "bad.meme"
    bad.write_text(content)
    out = tmp_path / "out.tsv"
    assert main(["compare", str(bad), "jaspar2024", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("motifq: error: ") and why in err
    assert not out.exists()
    assert main(["compare", "jaspar2024:CTCF", str(bad), "-o", str(out)]) == 2
    assert why in capsys.readouterr().err and not out.exists()


def test_cli_bad_options(capsys):
    assert main(["compare", "jaspar2024:CTCF", "jaspar2024", "--min-overlap", "-1"]) == 2
    assert "--min-overlap" in capsys.readouterr().err
    assert main(["compare", "jaspar2024:CTCF", "jaspar2024", "--thresh", "3"]) == 2
    assert main(["compare", "jaspar2024:CTCF", "jaspar2024", "--thresh", "3", "--evalue"]) == 0


def test_write_matches_reads_back_with_its_database(tmp_path):
    from motifq.compare import compare_columns, matched_queries, write_matches
    from motifq.formats import read_matches
    from motifq.jaspar import load_motifs

    queries, db = load_motifs("jaspar2024:CTCF,REST,GATA1"), load_motifs("jaspar2016:CTCF,REST,GATA1,SPI1")
    table = compare_columns(queries, db, min_overlap=5, thresh=0.01, evalue=True)
    write_matches(tmp_path / "m.tsv", table, "jaspar2016")
    rows, database = read_matches(tmp_path / "m.tsv")
    assert database == "jaspar2016" and [r["Target_ID"] for r in rows] == list(table["Target_ID"])
    assert matched_queries(table, 0.01) == len(set(table["Query_ID"])) == 3
    assert matched_queries(table, float(min(table["E-value"]))) == 0      # strictly below

"""FIMO-like scanning: exact p-values against a brute-force enumeration, MEME's integer scaling,
1-based inclusive coordinates on both strands, q-values, planted sites, the CLI."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motifq.cli import main
from motifq.errors import MotifqError
from motifq.formats import write_meme
from motifq.motif import Motif
from motifq.scan import (
    FIMO_COLUMNS,
    PSSM_RANGE,
    build_pssm,
    read_background,
    scan,
    score_pvalues,
)
from motifq.sequence import reverse_complement, write_fasta


def _motif(rng, w, mid="m1", name="one"):
    return Motif.from_probabilities(rng.dirichlet(np.full(4, 0.4), size=w), nsites=20, id=mid, name=name)


def _random_seqs(rng, n, length):
    return ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]


def _brute_tail(scores, bg):
    """P(S >= s) for every reachable s, by enumerating all 4**W windows."""
    w = scores.shape[0]
    mass = {}
    for word in itertools.product(range(4), repeat=w):
        s = int(scores[np.arange(w), word].sum())
        mass[s] = mass.get(s, 0.0) + float(np.prod(bg[list(word)]))
    return {s: sum(v for k, v in mass.items() if k >= s) for s in mass}


@pytest.mark.parametrize("bg", [np.full(4, 0.25), np.array([0.35, 0.15, 0.2, 0.3])])
def test_pvalues_equal_brute_force_enumeration(rng, bg):
    pssm = build_pssm(rng.dirichlet(np.full(4, 0.5), size=5), nsites=20, background=bg, pseudocount=0.1)
    brute = _brute_tail(pssm.scores, bg)
    for s, p in brute.items():
        assert pssm.pvalues[s] == pytest.approx(p, rel=1e-12, abs=1e-15)
    assert pssm.pvalues[0] == pytest.approx(1.0)
    assert pssm.pvalues[-1] == 0.0
    assert np.all(np.diff(pssm.pvalues) <= 1e-15)      # a tail is non-increasing


def test_integer_scaling_is_memes():
    probs = np.array([[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 0.0, 1.0]])
    pssm = build_pssm(probs, nsites=10, pseudocount=0.1)
    p = (probs * 10 + 0.1 * 0.25) / 10.1
    lo = np.log2(p / 0.25)
    offset = np.floor(lo.min())                 # MEME 5: an integer offset
    scale = np.floor(PSSM_RANGE / (lo.max() - offset))
    assert offset == -7 and pssm.scale == scale == 111 and pssm.offset == offset
    np.testing.assert_array_equal(pssm.scores, np.floor((lo - offset) * scale + 0.5))
    assert pssm.scores.min() >= 0 and pssm.scores.max() <= PSSM_RANGE


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10 ** 6))
def test_score_pvalues_sum_property(seed):
    r = np.random.default_rng(seed)
    scores = r.integers(0, 30, size=(int(r.integers(1, 5)), 4))
    bg = r.dirichlet(np.ones(4))
    tail = score_pvalues(scores, bg)
    pdf = -np.diff(tail)
    assert pdf.min() >= -1e-12 and pdf.sum() == pytest.approx(1.0)
    mean = (pdf * np.arange(len(pdf))).sum()
    assert mean == pytest.approx((scores * bg).sum(), rel=1e-9)


def test_planted_site_found_with_one_based_inclusive_coordinates(rng):
    m = Motif.from_probabilities(np.eye(4)[[0, 2, 3, 1, 1, 0, 3, 2, 2, 0, 1, 3]] * 0.97 + 0.0075, nsites=50,
                                 id="M1", name="planted")
    site = m.consensus()
    seqs = _random_seqs(rng, 4, 60)
    seqs[1] = seqs[1][:20] + site + seqs[1][32:]                             # forward, 0-based start 20
    seqs[3] = seqs[3][:5] + reverse_complement(site) + seqs[3][17:]          # reverse, 0-based start 5
    hits = scan([m], seqs, names=["a", "b", "c", "d"], thresh=1e-5)
    assert list(hits.columns) == list(FIMO_COLUMNS)
    fwd = hits[(hits.sequence_name == "b") & (hits.strand == "+")].iloc[0]
    rev = hits[(hits.sequence_name == "d") & (hits.strand == "-")].iloc[0]
    assert (fwd.start, fwd.stop) == (21, 32) and (rev.start, rev.stop) == (6, 17)
    # 1-based inclusive round trip: seq[start - 1:stop] is the window on the forward strand
    assert seqs[1][fwd.start - 1:fwd.stop] == site == fwd.matched_sequence
    assert reverse_complement(seqs[3][rev.start - 1:rev.stop]) == site == rev.matched_sequence
    assert fwd["p-value"] == pytest.approx(0.25 ** 12 * 1.0, rel=0.5) and fwd["p-value"] < 1e-6
    assert fwd.motif_id == "M1" and fwd.motif_alt_id == "planted"


def test_a_p_value_equal_to_the_threshold_is_reported():
    """MEME's fimo reports ``p <= thresh``: a one-column motif's best letter has p = 1/4 exactly."""
    m = Motif("one", np.array([[97.0, 1.0, 1.0, 1.0]]), name="one")
    hits = scan([m], ["CACGTA"], thresh=0.25, both_strands=False)
    assert list(hits.start) == [2, 6] and (hits["p-value"] == 0.25).all()
    assert scan([m], ["CACGTA"], thresh=0.2499, both_strands=False).empty


def test_hits_match_a_full_rescoring(rng):
    """Every window with p <= thresh is reported (the early abandoning loses none), none other."""
    motifs = [_motif(rng, w, f"m{w}") for w in (3, 5, 7, 11)]
    seqs = _random_seqs(rng, 6, 120)
    seqs[2] = seqs[2][:50] + "NNN" + seqs[2][53:]
    hits = scan(motifs, seqs, thresh=0.01)
    for m in motifs:
        for strand, probs in (("+", m.probabilities()), ("-", m.probabilities()[::-1, ::-1])):
            pssm = build_pssm(probs, m.nsites)
            want = set()
            for i, s in enumerate(seqs):
                for p in range(len(s) - m.width + 1):
                    word = s[p:p + m.width]
                    if "N" in word:
                        continue
                    score = pssm.scores[np.arange(m.width), ["ACGT".index(c) for c in word]].sum()
                    if pssm.pvalues[score] <= 0.01:
                        want.add((f"seq_{i}", p + 1))
            got = hits[(hits.motif_id == m.id) & (hits.strand == strand)]
            assert set(zip(got.sequence_name, got.start)) == want


def test_qvalues_monotone_and_bounded(rng):
    m = _motif(rng, 6)
    hits = scan([m], _random_seqs(rng, 30, 300), thresh=0.05)
    h = hits.sort_values("p-value")
    assert len(h) > 100
    assert np.all(np.diff(h["q-value"].to_numpy()) >= -1e-15)
    assert np.all((h["q-value"] >= h["p-value"] * 0) & (h["q-value"] <= 1))
    # on random sequence nothing is significant: q-values stay far above p-values
    assert h["q-value"].min() > 0.05


def test_scores_are_fimo_bits(rng):
    m = _motif(rng, 8)
    hits = scan([m], _random_seqs(rng, 5, 100), thresh=0.05, both_strands=False)
    pssm = build_pssm(m.probabilities(), m.nsites)
    probs = (m.probabilities() * m.nsites + 0.1 * 0.25) / (m.nsites + 0.1)
    for r in hits.itertuples():
        word = [("ACGT".index(c)) for c in r.matched_sequence]
        exact = np.log2(probs[np.arange(8), word] / 0.25).sum()
        assert r.score == pytest.approx(exact, abs=8 / pssm.scale)   # within the integer resolution


def test_background_options(tmp_path, rng):
    f = tmp_path / "bg.txt"
    f.write_text("# order-0\nA 0.3\nC 0.2\nG 0.2\nT 0.3\nAA 0.1\n")
    np.testing.assert_allclose(read_background(f), [0.3, 0.2, 0.2, 0.3])
    np.testing.assert_allclose(read_background("uniform"), 0.25)
    assert read_background("motif") is None
    tok = np.array([[0, 0, 0, 1]], dtype=np.uint8)
    np.testing.assert_allclose(read_background("sequences", tok), [3 / 8, 1 / 8, 1 / 8, 3 / 8])
    bad = tmp_path / "bad.txt"
    bad.write_text("A 0.5\nC 0.5\n")
    with pytest.raises(MotifqError):
        read_background(bad)
    m = _motif(rng, 6)
    a = scan([m], _random_seqs(rng, 5, 200), thresh=0.01, background=f)
    assert len(a) > 0 and set(a.strand) == {"+", "-"}


def test_cli_writes_fimo_tsv_and_rejects_bad_input(tmp_path, rng, capsys):
    m = _motif(rng, 8, "MX", "X")
    meme = tmp_path / "m.meme"
    write_meme(meme, [m])
    seqs = _random_seqs(rng, 5, 200)
    best = "".join("ACGT"[i] for i in m.probabilities().argmax(axis=1))
    seqs[0] = seqs[0][:10] + best + seqs[0][18:]
    fa = tmp_path / "s.fa"
    write_fasta(fa, [f"s{i}" for i in range(5)], seqs)
    out = tmp_path / "hits.tsv"
    assert main(["-q", "scan", str(meme), "--fasta", str(fa), "--thresh", "1e-3", "-o", str(out)]) == 0
    table = pd.read_csv(out, sep="\t", comment="#")
    assert list(table.columns) == list(FIMO_COLUMNS)
    assert ((table.sequence_name == "s0") & (table.start == 11) & (table.stop == 18)).any()
    bad = tmp_path / "bad.tsv"
    assert main(["-q", "scan", "jaspar2024:NOPE", "--fasta", str(fa), "-o", str(bad)]) == 2
    assert main(["-q", "scan", str(meme), "--fasta", str(fa), "--thresh", "2", "-o", str(bad)]) == 2
    wide = tmp_path / "wide.meme"
    write_meme(wide, [_motif(rng, 300, "W")])
    assert main(["-q", "scan", str(wide), "--fasta", str(fa), "-o", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(e.startswith("motifq: error: ") for e in err)
    assert not bad.exists()


def _reference_table(motifs, seqs, thresh, seed=0):
    """FIMO's table by brute force: every window scored column by column, pi0 from the sorted
    p-values of the same window sample the scan draws (its rng, its order of widths), q-values by
    Storey's formula; rows sorted as :func:`scan` sorts them."""
    from motifq.scan import _BOOTSTRAPS, _windows

    tokens = np.array([[ "ACGTN".index(c) for c in s] for s in seqs], dtype=np.uint8)
    rng, samples, rows = np.random.default_rng(seed), {}, []
    for m in motifs:
        if m.width not in samples:
            samples[m.width] = _windows(tokens, m.width, rng)
        picks, n_clean = samples[m.width]
        hits, sample_p = [], []
        for strand, probs in (("+", m.probabilities()), ("-", m.probabilities()[::-1, ::-1])):
            pssm = build_pssm(probs, m.nsites)
            for s, p in picks:
                sample_p.append(pssm.pvalues[pssm.scores[np.arange(m.width), tokens[s, p:p + m.width]].sum()])
            for i, seq in enumerate(seqs):
                for p in range(len(seq) - m.width + 1):
                    if "N" in seq[p:p + m.width]:
                        continue
                    score = int(pssm.scores[np.arange(m.width), tokens[i, p:p + m.width]].sum())
                    if pssm.pvalues[score] <= thresh:
                        site = seq[p:p + m.width] if strand == "+" else reverse_complement(seq[p:p + m.width])
                        hits.append([m.id, m.name, f"seq_{i}", p + 1, p + m.width, strand,
                                     score / pssm.scale + m.width * pssm.offset, pssm.pvalues[score], site])
        sp, lam = np.sort(sample_p), np.arange(1, 101) / 100 * 0.5
        f = (len(sp) - np.searchsorted(sp, lam, side="left")) / len(sp)
        with np.errstate(divide="ignore", invalid="ignore"):
            pi0 = np.where(f > 0, f / (1 - lam), np.inf)
        mse = f * (1 - f) / (_BOOTSTRAPS * (1 - lam) ** 2) + (pi0 - pi0.min()) ** 2
        mse[~np.isfinite(pi0)] = np.inf
        pi0 = float(np.clip(pi0[np.argmin(mse)], 0, 1))
        p = np.array([h[7] for h in hits])
        order = np.argsort(p, kind="stable")
        fdr = np.minimum(1.0, pi0 * p[order] * n_clean * 2 / np.arange(1, len(p) + 1))
        q = np.empty_like(p)
        q[order] = np.minimum.accumulate(fdr[::-1])[::-1]
        for h, qv in zip(hits, q):
            rows.append(h[:8] + [qv, h[8]])
        rows[len(rows) - len(hits):] = sorted(rows[len(rows) - len(hits):],
                                              key=lambda r: (r[7], -r[6], int(r[2][4:]), r[3]))
    return pd.DataFrame(rows, columns=list(FIMO_COLUMNS))


@pytest.mark.parametrize("chunk, batch, thresh", [(1 << 17, 64, 3e-3), (1000, 2, 3e-3), (1 << 17, 64, 0.6)])
def test_whole_table_equals_a_brute_force_reference(rng, monkeypatch, chunk, batch, thresh):
    """Every column, q-values included, equals a plain re-implementation on a seeded case (more
    windows than the pi0 sample, so the sample is drawn): the kernel's blocks, one-lookup first
    test, chunks of sequences, batches of motifs, its growing hit buffers and histogram pi0 change
    no number."""
    import motifq.scan as scan_module

    monkeypatch.setattr(scan_module, "_CHUNK", chunk)
    monkeypatch.setattr(scan_module, "_BATCH", batch)
    motifs = [_motif(rng, w, f"m{w}") for w in (4, 6, 8, 12, 17)]
    seqs = _random_seqs(rng, 30, 400)
    seqs[3] = seqs[3][:100] + "N" * 9 + seqs[3][109:]
    if thresh > 0.1:                     # more hits per strand than the kernel's first buffer holds
        motifs = motifs[2:3]
    got = scan(motifs, seqs, thresh=thresh)
    want = _reference_table(motifs, seqs, thresh)
    assert len(got) > (5000 if thresh > 0.1 else 200) and (got["q-value"] < 1).any()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.astype(got.dtypes.to_dict()), check_exact=True)

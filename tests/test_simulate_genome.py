"""The genome simulator: peaks follow the rules, planted bases are motif samples, variants have the
effects the truth says, coordinates are 0-based in BED/TSV and 1-based in the VCF, seeds reproduce,
and the folder appears whole or not at all."""
import numpy as np
import pysam
import pytest

from motifq.cli import main
from motifq.data.simulate import rule_labels
from motifq.data.simulate_genome import (chrom_lengths, read_genome_truth, simulate_genome,
                                         simulate_genome_folder, write_genome_simulation)
from motifq.errors import MotifqError

COMP = np.array([3, 2, 1, 0])
ACGT = {b: i for i, b in enumerate("ACGT")}


@pytest.fixture(scope="module")
def gdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("genome") / "sim"
    simulate_genome_folder(path, n_chroms=3, chrom_length=60_000, n_variants=40, seed=3)
    return path


@pytest.fixture(scope="module")
def truth(gdir):
    return read_genome_truth(gdir)


def _peaks(path):
    rows = [ln.split("\t") for ln in path.read_text().splitlines()]
    return [(r[0], int(r[1]), int(r[2]), int(r[9])) for r in rows]


def _tokens(fa, chrom, s, e):
    return np.array([ACGT.get(b, 4) for b in fa.fetch(chrom, s, e).upper()])


def test_genome_files_and_index(gdir):
    fa = pysam.FastaFile(str(gdir / "genome.fa"))
    assert dict(zip(fa.references, fa.lengths)) == chrom_lengths(3, 60_000) == {"chr1": 60000, "chr2": 45000, "chr3": 30000}
    for chrom in fa.references:     # N telomeres of min(5000, L // 20) at both ends
        tel = min(5000, fa.get_reference_length(chrom) // 20)
        assert set(fa.fetch(chrom, 0, tel)) == {"N"} and set(fa.fetch(chrom, fa.get_reference_length(chrom) - tel)) == {"N"}
        assert set(fa.fetch(chrom, tel, tel + 100)) <= set("ACGT")
    table = [ln.split("\t") for ln in (gdir / "peaks.tsv").read_text().splitlines()]
    assert len(table) == 13 and all((gdir / p).is_file() for _, p in table)


def test_planted_bases_are_motif_samples(gdir, truth):
    """Every planted base has nonzero probability under its motif (sampled without pseudocounts)."""
    motifs, _, _, inst, _ = truth
    fa = pysam.FastaFile(str(gdir / "genome.fa"))
    by_id = {m.id: m.probabilities() for m in motifs}
    for c, s, e, st, m in zip(inst["chrom"], inst["start"], inst["end"], inst["strand"], inst["motif"]):
        t = _tokens(fa, c, int(s), int(e))
        t = COMP[t[::-1]] if st == "-" else t
        assert len(t) == len(by_id[m]) and (by_id[m][np.arange(len(t)), t] > 0).all()


def test_peaks_follow_the_rules(gdir, truth):
    """A region is covered by a target's peak exactly when the target's rule holds for the
    instances planted in it; noise peaks are not tied to regions; artefacts are peaks of all."""
    _, rules, regions, inst, _ = truth
    enh = regions["kind"] == "enhancer"
    n = int(enh.sum())
    cols = {k: inst[k] for k in ("start", "end", "strand", "motif")}
    cols["sequence"] = inst["region"]
    expect = rule_labels(cols, rules["targets"], n)
    for j, rule in enumerate(rules["targets"]):
        peaks = _peaks(gdir / "peaks" / f"{rule['name']}.narrowPeak")
        assert peaks == sorted(peaks, key=lambda p: (int(p[0][3:]), p[1], p[2], p[3]))
        covered = np.zeros(len(regions["region"]), dtype=bool)
        for c, s, e, summit in peaks:
            assert 0 <= summit < e - s
            mid = (regions["start"] + regions["end"]) // 2
            covered |= (regions["chrom"] == c) & (mid >= s) & (mid < e)
        assert covered[~enh].all()                        # artefacts: peaks of every target
        if rule["kind"] == "noise":
            continue
        np.testing.assert_array_equal(covered[enh], expect[:, j].astype(bool), err_msg=rule["name"])
        if rule["kind"] == "presence":   # the rule by hand: any instance of the motif in the region
            hand = np.isin(np.arange(n), inst["region"][inst["motif"] == rule["motif"]])
            np.testing.assert_array_equal(covered[enh], hand)


def test_blacklist_is_soft_masked_repeat(gdir):
    fa = pysam.FastaFile(str(gdir / "genome.fa"))
    rows = [ln.split("\t") for ln in (gdir / "blacklist.bed").read_text().splitlines()]
    assert [r[0] for r in rows] == ["chr1", "chr2"]
    for c, s, e in rows:
        seq = fa.fetch(c, int(s), int(e))
        assert seq.islower() and seq[:31] == seq[31:62]
        assert fa.fetch(c, int(s) - 1, int(s)).isupper() and fa.fetch(c, int(e), int(e) + 1).isupper()


def test_variants_have_the_stated_effects(gdir, truth):
    motifs, _, _, inst, v = truth
    fa = pysam.FastaFile(str(gdir / "genome.fa"))
    probs = {m.id: m.probabilities() for m in motifs}
    ic = {m.id: m.information_content() for m in motifs}
    for i in range(len(v["id"])):
        c, s, e = v["chrom"][i], int(v["start"][i]), int(v["end"][i])
        assert int(v["pos"][i]) == s + 1                      # VCF POS is 1-based
        assert (fa.fetch(c, s, e).upper() == v["ref"][i]) == bool(v["ref_match"][i])
        assert v["ref_match"][i] == (v["effect"][i] != "ref_mismatch")
        if v["effect"][i] == "break":
            k = int(v["instance"][i])
            m, j = inst["motif"][k], int(v["motif_position"][i])
            g = int(inst["end"][k]) - 1 - j if inst["strand"][k] == "-" else int(inst["start"][k]) + j
            assert inst["start"][k] <= g < inst["end"][k] and v["distance"][i] == 0 and v["targets"][i] != "."
            assert probs[m][j].max() == pytest.approx(v["ref_prob"][i], abs=1e-4)
            assert ic[m][j] == pytest.approx(v["ic"][i], abs=1e-4)
            if v["kind"][i] == "snv":
                assert g == s
                alt = ACGT[v["alt"][i]]
                alt = COMP[alt] if inst["strand"][k] == "-" else alt
                assert probs[m][j, alt] == probs[m][j].min()
            else:
                assert v["kind"][i] == "deletion" and s + 1 == g and v["alt"][i] == v["ref"][i][0]
        else:   # neutral and mismatches: distance by brute force over all instances
            same = inst["chrom"] == c
            gaps = np.maximum(np.maximum(inst["start"][same] - e, s - inst["end"][same]), 0)
            assert v["distance"][i] == gaps.min() and gaps.min() >= 100
    kinds = {(k, x) for k, x in zip(v["kind"], v["effect"])}
    assert kinds == {("snv", "break"), ("deletion", "break"), ("snv", "neutral"), ("insertion", "neutral"),
                     ("deletion", "neutral"), ("snv", "ref_mismatch")}
    assert (v["effect"] == "ref_mismatch").sum() == 5 and (v["effect"] == "break").sum() == 22


def test_vcf_matches_truth_and_is_indexed(gdir, truth):
    v = truth[4]
    recs = list(pysam.VariantFile(str(gdir / "variants.vcf.gz")))
    plain = list(pysam.VariantFile(str(gdir / "variants.vcf")))
    assert [(r.chrom, r.pos, r.ref, r.alts) for r in recs] == [(r.chrom, r.pos, r.ref, r.alts) for r in plain]
    alleles = [(r.id, r.chrom, r.pos, r.ref, a) for r in recs for a in r.alts]
    assert alleles == list(zip(v["id"], v["chrom"], v["pos"], v["ref"], v["alt"]))
    assert sum(len(r.alts) > 1 for r in recs) == 1
    order = [(int(r.chrom[3:]), r.pos) for r in recs]
    assert order == sorted(order)
    tbx = pysam.TabixFile(str(gdir / "variants.vcf.gz"))
    assert len(list(tbx.fetch("chr2"))) == sum(r.chrom == "chr2" for r in recs)


def test_same_seed_same_files_other_seed_differs(tmp_path, gdir):
    simulate_genome_folder(tmp_path / "a", n_chroms=3, chrom_length=60_000, n_variants=40, seed=3)
    simulate_genome_folder(tmp_path / "b", n_chroms=3, chrom_length=60_000, n_variants=40, seed=4)
    for f in ("genome.fa", "variants.vcf", "peaks/CTCF.narrowPeak", "truth/instances.tsv"):
        assert (tmp_path / "a" / f).read_bytes() == (gdir / f).read_bytes()
        assert (tmp_path / "b" / f).read_bytes() != (gdir / f).read_bytes()


def test_folder_is_atomic(tmp_path, monkeypatch):
    import motifq.data.simulate_genome as sg

    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    with pytest.raises(MotifqError, match="not empty"):
        simulate_genome_folder(foreign, n_chroms=1, chrom_length=40_000, n_variants=4)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    sim = simulate_genome(n_chroms=1, chrom_length=40_000, n_variants=4)

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(sg, "_write_vcf", broken)
    with pytest.raises(OSError):
        write_genome_simulation(sim, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]      # no folder, no temp leftovers
    monkeypatch.undo()
    write_genome_simulation(sim, tmp_path / "out")
    write_genome_simulation(sim, tmp_path / "out")                      # an earlier simulation is replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "out"]


def test_cli(tmp_path, capsys):
    assert main(["simulate", "--genome", "-o", str(tmp_path / "g"), "--chroms", "2", "--chrom-length", "40000",
                 "--n-variants", "6", "--seed", "1"]) == 0
    assert (tmp_path / "g" / "variants.vcf.gz.tbi").is_file()
    assert "2 chromosomes, 60,000 bp" in capsys.readouterr().err
    for bad in (["--chroms", "0"], ["--chrom-length", "1000"], ["--n-variants", "1"]):
        assert main(["simulate", "--genome", "-o", str(tmp_path / "h")] + bad) == 2
        err = capsys.readouterr().err
        assert err.startswith("motifq: error: ") and err.count("\n") == 1
    assert not (tmp_path / "h").exists()

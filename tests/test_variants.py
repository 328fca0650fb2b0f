"""score-variants: VCF coordinates -> windows, SNVs, indels, multi-allelic records, REF checks,
batched vs per-variant scoring, annotation, the annotated VCF, and bad input through the CLI."""
from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
import torch

from motifq.cli import main
from motifq.config import ModelConfig
from motifq.data.genome import open_genome
from motifq.errors import MotifqError
from motifq.models import build_model, predict, save_checkpoint
from motifq.motif import Motif
from motifq.sequence import detokenize, tokenize
from motifq.variants import (
    Allele,
    allele_windows,
    annotate_windows,
    check_vcf,
    effect_table,
    long_table,
    make_annotator,
    predict_pairs,
    read_records,
    score_vcf,
    split_alleles,
)

L = 40
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


@pytest.fixture
def genome(tmp_path):
    """Two seeded random chromosomes (300 and 120 bp) as an indexed FASTA; returns (path, seqs)."""
    import pysam

    rng = np.random.default_rng(1)
    seqs = {c: "".join(rng.choice(list("ACGT"), n)) for c, n in (("chr1", 300), ("chr2", 120))}
    path = tmp_path / "genome.fa"
    path.write_text("".join(f">{c}\n{s}\n" for c, s in seqs.items()))
    pysam.faidx(str(path))
    return path, seqs


def _vcf(tmp_path, rows, name="v.vcf"):
    path = tmp_path / name
    path.write_text(HEADER + "".join("\t".join(map(str, r)) + "\t.\t.\t.\n" for r in rows))
    return path


def _model(length=L, n_targets=3, seed=0):
    torch.manual_seed(seed)
    cfg = ModelConfig(kind="danq", n_targets=n_targets, length=length, conv_kernels=6, conv_width=7, pool=4,
                      lstm_units=4, dense=8, init="pytorch")
    return build_model(cfg).eval()


def _checkpoint(tmp_path, **kw):
    model = _model(**kw)
    path = tmp_path / "m.pt"
    save_checkpoint(path, model, targets=[f"T{i}" for i in range(model.config.n_targets)])
    return path


def test_snv_window_is_centred_on_the_1_based_position(genome):
    path, seqs = genome
    fasta = open_genome(path)
    pos = 101                                    # VCF POS 101 = 0-based 100
    ref = seqs["chr1"][100]
    alt = "ACGT"[("ACGT".index(ref) + 1) % 4]
    w = allele_windows(fasta, [Allele("chr1", pos, ".", ref, alt, 1, 3)], L)
    r, a = detokenize(w.ref[0]), detokenize(w.alt[0])
    h = L // 2
    assert r == seqs["chr1"][100 - (h - 1):100 - (h - 1) + L]         # [s - (h - 1), s - (h - 1) + L)
    assert r[h - 1] == ref and a[h - 1] == alt                         # DeepSEA: index L / 2 - 1
    assert [i for i in range(L) if r[i] != a[i]] == [h - 1]
    assert w.ref_match[0] and w.status[0] == "scored"
    assert tuple(w.ref_span[0]) == (h - 1, h) == tuple(w.alt_span[0])


def _deepsea_windows(g, s, ref, alt, length):
    """The DeepSEA authors' recipe (ExPecto's fetchSeqs + encodeSeqs), written out independently:
    inputsize + 100 bases with REF at (inputsize + 100) / 2 - 1, ALT substituted, central crop."""
    import math

    W = length + 100
    mutpos = W // 2 - 1
    seq = g[s - mutpos:s - mutpos + W]
    out = []
    for allele in (ref, alt):
        line = seq[:mutpos] + allele + seq[mutpos + len(ref):]
        lo = int(math.floor((len(line) - length) / 2.0))
        out.append(line[lo:int(math.floor(len(line) - (len(line) - length) / 2.0))])
    return out


@pytest.mark.parametrize("ref_len, alt", [(1, "A"), (5, None), (4, None), (1, "TTAC"), (1, "TTACG"), (3, "GG")])
def test_indel_windows_follow_deepseas_recipe(genome, ref_len, alt):
    path, seqs = genome
    g, s = seqs["chr1"], 150
    ref = g[s:s + ref_len]
    alt = g[s] if alt is None else g[s] + alt if ref_len == 1 and len(alt) > 1 else alt
    w = allele_windows(open_genome(path), [Allele("chr1", s + 1, ".", ref, alt, 1, 3)], L)
    want_ref, want_alt = _deepsea_windows(g, s, ref, alt, L)
    assert detokenize(w.ref[0]) == want_ref and detokenize(w.alt[0]) == want_alt
    a0, a1 = w.alt_span[0]
    assert detokenize(w.alt[0])[a0:a1] == alt and a0 == L // 2 - 1 - (len(alt) - ref_len) // 2
    assert w.status[0] == "scored"


def test_multiallelic_records_split_and_symbolic_or_long_alleles_unscored(genome, tmp_path):
    path, seqs = genome
    g = seqs["chr1"]
    vcf = _vcf(tmp_path, [("chr1", 51, "rs1", g[50], "A,C,G,T"), ("chr1", 61, ".", g[60], "<DEL>"),
                          ("chr1", 71, ".", g[70], g[70] + "A" * L), ("chr1", 81, ".", g[80], "*")])
    records = [r for chunk in read_records(vcf, chunk_size=2) for r in chunk]
    assert [line for line, _ in records] == [3, 4, 5, 6]                # lines after the 2 header lines
    alleles = split_alleles(records)
    assert [(a.pos, a.alt_index) for a in alleles][:4] == [(51, 1), (51, 2), (51, 3), (51, 4)]
    w = allele_windows(open_genome(path), alleles, L)
    assert list(w.status[4:]) == ["symbolic", "too_long", "symbolic"]
    same = [a.alt == g[50] for a in alleles[:4]]
    assert (w.ref[:4] == w.alt[:4]).all(axis=1).tolist() == same      # ALT == REF: same windows


def test_ref_mismatch_flagged_and_scored_only_when_asked(genome):
    path, seqs = genome
    fasta = open_genome(path)
    wrong = "ACGT"[("ACGT".index(seqs["chr1"][100]) + 1) % 4]
    al = [Allele("chr1", 101, ".", wrong, "A", 1, 3)]
    w = allele_windows(fasta, al, L)
    assert not w.ref_match[0] and w.status[0] == "ref_mismatch" and (w.ref[0] == 4).all()
    w = allele_windows(fasta, al, L, ignore_ref_mismatch=True)
    assert not w.ref_match[0] and w.status[0] == "scored"
    assert detokenize(w.ref[0])[L // 2 - 1] == wrong                        # the VCF's REF is in the window


def test_windows_at_chromosome_ends_are_padded_with_n(genome):
    path, seqs = genome
    w = allele_windows(open_genome(path), [Allele("chr2", 3, ".", seqs["chr2"][2], "A", 1, 3)], L)
    r = detokenize(w.ref[0])
    assert r == "N" * (L // 2 - 3) + seqs["chr2"][:L // 2 + 3]          # REF (0-based 2) at index L / 2 - 1


def test_batched_scores_equal_a_per_variant_loop(genome, tmp_path):
    path, seqs = genome
    g = seqs["chr1"]
    rng = np.random.default_rng(3)
    rows = [("chr1", p, f"v{p}", g[p - 1], "ACGT"[rng.integers(4)]) for p in sorted(rng.choice(np.arange(30, 270), 25, replace=False))]
    rows.append(("chr1", 200, "del", g[199:203], g[199]))
    model = _model()
    alleles = split_alleles([r for chunk in read_records(_vcf(tmp_path, rows)) for r in chunk])
    w = allele_windows(open_genome(path), alleles, L)
    p_ref, p_alt = predict_pairs(model, w.ref, w.alt, batch_size=7)
    for i in range(len(alleles)):
        one = predict(model, np.stack([w.ref[i], w.alt[i]]), batch_size=2)
        np.testing.assert_allclose(p_ref[i], one[0], atol=1e-6)
        np.testing.assert_allclose(p_alt[i], one[1], atol=1e-6)
    # the full run, streamed in chunks of 4 records, gives the same numbers
    out = tmp_path / "effects.tsv"
    score_vcf(model, _vcf(tmp_path, rows), path, out, chunk_size=4, batch_size=5,
              model_targets=["T0", "T1", "T2"])
    table = pd.read_csv(out, sep="\t")
    np.testing.assert_allclose(table["T1.ref_prob"], p_ref[:, 1], atol=1e-5)
    np.testing.assert_allclose(table["T1.alt_prob"], p_alt[:, 1], atol=1e-5)


def test_effect_columns_and_long_form():
    alleles = [Allele("chr1", 10, "a", "A", "C", 1, 3), Allele("chr1", 20, "b", "G", "T", 1, 4)]
    win = type("W", (), {})()
    win.ref_match = np.array([True, True])
    win.status = np.array(["scored", "scored"], dtype=object)
    p_ref = np.array([[0.5, 0.1], [0.2, 0.9]], dtype=np.float32)
    p_alt = np.array([[0.5, 0.9], [0.1, 0.9]], dtype=np.float32)
    wide = effect_table(alleles, win, p_ref, p_alt, ["x", "y"])

    def logit(p):
        return np.log(p / (1 - p))

    np.testing.assert_allclose(wide["y.logit_diff"][0], logit(0.9) - logit(0.1), rtol=1e-5)
    np.testing.assert_allclose(wide["x.diff"], [0.0, -0.1], atol=1e-6)
    assert list(wide["max_target"]) == ["y", "x"]
    np.testing.assert_allclose(wide["max_logit_diff"], [logit(0.9) - logit(0.1), logit(0.1) - logit(0.2)], rtol=1e-5)
    long = long_table(wide, ["x", "y"])
    assert len(long) == 4 and list(long["target"]) == ["x", "y", "x", "y"]
    np.testing.assert_allclose(long["alt_prob"], [0.5, 0.9, 0.1, 0.9], atol=1e-6)
    assert list(long["pos"]) == [10, 10, 20, 20]


def test_annotation_names_the_motif_a_variant_breaks(genome, tmp_path):
    """Plant a motif's consensus at the variant: breaking it must name that motif."""
    path, seqs = genome
    motifs = []
    for i, cons in enumerate(["GATTACAGT", "CCGCGGAA", "TTTAAAGGGC"]):
        counts = np.full((len(cons), 4), 1.0)
        counts[np.arange(len(cons)), [("ACGT".index(c)) for c in cons]] = 30
        motifs.append(Motif(id=f"M{i}", name=f"m{i}", counts=counts))
    g = list(seqs["chr1"])
    g[140:149] = "GATTACAGT"                                          # plant motif 0 at 0-based 140
    (tmp_path / "g2.fa").write_text(">chr1\n" + "".join(g) + "\n")
    import pysam

    pysam.faidx(str(tmp_path / "g2.fa"))
    from motifq.formats import write_meme

    write_meme(tmp_path / "m.meme", motifs)
    model = _model()
    an = make_annotator(str(tmp_path / "m.meme"), model)
    al = [Allele("chr1", 145, ".", "A", "G", 1, 3)]                    # 1-based 145 = the 5th base of the site
    w = allele_windows(open_genome(tmp_path / "g2.fa"), al, L)
    ann = annotate_windows(an, w)
    assert ann["motif"][0] == "m0" and ann["motif_id"][0] == "M0" and ann["motif_site"][0]
    best = np.log2(motifs[0].probabilities(0.1) / 0.25).max(axis=1).sum()
    assert ann["motif_score_ref"][0] == pytest.approx(best, abs=1e-4)  # the planted consensus is the best site
    assert ann["motif_delta"][0] < -3
    assert ann["kernel"][0].startswith("kernel_") and ann["kernel_ref"][0] >= 0


def test_cli_writes_effects_and_an_indexed_annotated_vcf(genome, tmp_path, capsys):
    import pysam

    path, seqs = genome
    g = seqs["chr1"]
    wrong = "ACGT"[("ACGT".index(g[90]) + 1) % 4]
    vcf = _vcf(tmp_path, [("chr1", 51, "rs1", g[50], "A,C"), ("chr1", 91, "rs2", wrong, "T"),
                          ("chr2", 60, "rs3", seqs["chr2"][59], "<DEL>")])
    ckpt = _checkpoint(tmp_path)
    out, vout = tmp_path / "e.tsv", tmp_path / "a.vcf.gz"
    assert main(["-q", "score-variants", str(ckpt), "--vcf", str(vcf), "--genome", str(path), "-o", str(out),
                 "--vcf-out", str(vout), "--targets", "T2,T0", "--annotate", "jaspar2024:CTCF,REST"]) == 0
    assert "1 of 4 variant alleles have a REF that differs" in capsys.readouterr().err
    t = pd.read_csv(out, sep="\t")
    assert list(t["status"]) == ["scored", "scored", "ref_mismatch", "symbolic"]
    assert list(t["ref_match"]) == [True, True, False, True]
    assert [c for c in t.columns if c.endswith(".diff")] == ["T2.diff", "T0.diff"]
    assert t["motif"][:2].isin(["CTCF", "REST"]).all() and t["T0.ref_prob"][2:].isna().all()
    with pysam.VariantFile(str(vout)) as vf:                         # opens through the .tbi
        recs = list(vf.fetch("chr1"))
    assert [r.pos for r in recs] == [51, 91]
    assert recs[0].info["MQ_MAX_TARGET"] == tuple(t["max_target"][:2])
    np.testing.assert_allclose(recs[0].info["MQ_MAX_LOGIT_DIFF"], t["max_logit_diff"][:2], rtol=1e-3, atol=1e-6)
    assert recs[1].info["MQ_STATUS"] == ("ref_mismatch",) and "MQ_MAX_TARGET" not in recs[1].info
    assert (tmp_path / "a.vcf.gz.tbi").exists()
    # --long: one row per allele and target; --ignore-ref-mismatch scores the mismatch
    assert main(["-q", "score-variants", str(ckpt), "--vcf", str(vcf), "--genome", str(path), "-o", str(out),
                 "--long", "--ignore-ref-mismatch"]) == 0
    t = pd.read_csv(out, sep="\t")
    assert len(t) == 4 * 3 and list(t["status"][::3]) == ["scored", "scored", "scored", "symbolic"]


def test_gzip_vcf_and_check_vcf_counts(genome, tmp_path):
    path, seqs = genome
    plain = _vcf(tmp_path, [("chr1", 11, ".", seqs["chr1"][10], "A,T"), ("chr2", 5, ".", seqs["chr2"][4], "C")])
    gz = tmp_path / "v.vcf.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write(plain.read_text())
    for v in (plain, gz):
        assert check_vcf(v, open_genome(path), L) == {"records": 2, "alleles": 3}


@pytest.mark.parametrize("row, why", [
    (("chrX", 10, ".", "A", "C"), "line 3: chromosome 'chrX' is not in the genome"),
    (("chr2", 121, ".", "A", "C"), "line 3: chr2:121 REF A reaches past the chromosome end (120 bp)"),
    (("chr1", 10, ".", "N", "C"), "line 3: REF 'N' has a base other than A, C, G, T"),
])
def test_bad_variants_fail_with_file_and_line_and_no_output(genome, tmp_path, capsys, row, why):
    path, _ = genome
    vcf = _vcf(tmp_path, [row])
    out = tmp_path / "e.tsv"
    assert main(["score-variants", str(_checkpoint(tmp_path)), "--vcf", str(vcf), "--genome", str(path),
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("motifq: error: ") and why in err and str(vcf) in err and "\n" not in err
    assert not out.exists() and list(tmp_path.glob(".e.tsv*")) == []


def _one_line_error(capsys, why):
    err = capsys.readouterr().err
    assert err.startswith("motifq: error: ") and err.count("\n") == 1 and why in err, err
    return err


def test_window_longer_than_a_chromosome_and_wrong_window(genome, tmp_path, capsys):
    path, seqs = genome
    vcf = _vcf(tmp_path, [("chr1", 10, ".", seqs["chr1"][9], "C"), ("chr2", 10, ".", seqs["chr2"][9], "C")])
    ckpt = _checkpoint(tmp_path, length=200)
    out = tmp_path / "e.tsv"
    args = ["score-variants", str(ckpt), "--vcf", str(vcf), "--genome", str(path), "-o", str(out),
            "--vcf-out", str(tmp_path / "o.vcf.gz")]
    assert main(args) == 2
    assert str(vcf) in _one_line_error(capsys, "line 4: the 200-bp window is larger than chromosome chr2 (120 bp)")
    assert main(args + ["--window", "1000"]) == 2
    _one_line_error(capsys, "the model takes 200-bp inputs, but a 1000-bp window was asked for")
    assert list(tmp_path.glob("*e.tsv*")) == [] and list(tmp_path.glob("*o.vcf*")) == []


def test_unindexed_gzip_genome_and_unsorted_vcf_for_vcf_out(genome, tmp_path, capsys):
    path, seqs = genome
    gz = tmp_path / "g.fa.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write(path.read_text())
    vcf = _vcf(tmp_path, [("chr1", 20, ".", seqs["chr1"][19], "C"), ("chr1", 10, ".", seqs["chr1"][9], "C")])
    ckpt = _checkpoint(tmp_path)
    assert main(["score-variants", str(ckpt), "--vcf", str(vcf), "--genome", str(gz), "-o", str(tmp_path / "e")]) == 2
    assert str(gz) in _one_line_error(capsys, "gzip-compressed but not with bgzip")
    assert not (tmp_path / "g.fa.gz.fai").exists()
    assert main(["score-variants", str(ckpt), "--vcf", str(vcf), "--genome", str(path), "-o", str(tmp_path / "e"),
                 "--vcf-out", str(tmp_path / "o.vcf.gz")]) == 2
    _one_line_error(capsys, "line 4: records are not sorted")
    assert list(tmp_path.glob("*e")) == [] and list(tmp_path.glob("*o.vcf*")) == []


@pytest.mark.parametrize("body", ["chr1\n", "chr1\t5\n", "chr1\t5\t.\tA\n"])
def test_records_with_too_few_columns_fail_with_their_line(genome, tmp_path, capsys, body):
    path, seqs = genome
    vcf = tmp_path / "short.vcf"
    vcf.write_text(HEADER + f"chr1\t5\t.\t{seqs['chr1'][4]}\tC\t.\t.\t.\n" + body)
    out = tmp_path / "e.tsv"
    assert main(["score-variants", str(_checkpoint(tmp_path)), "--vcf", str(vcf), "--genome", str(path),
                 "-o", str(out)]) == 2
    assert str(vcf) in _one_line_error(capsys, "line 4: cannot be parsed as a VCF record")
    assert list(tmp_path.glob("*e.tsv*")) == []


def test_malformed_record_names_its_line(genome, tmp_path):
    path, _ = genome
    vcf = tmp_path / "bad.vcf"
    vcf.write_text(HEADER + "chr1\t5\t.\tA\tC\t.\t.\t.\nchr1\tx\t.\tA\tC\t.\t.\t.\n")
    with pytest.raises(MotifqError, match=r"bad.vcf: line 4: cannot be parsed"):
        check_vcf(vcf, open_genome(path), L)


def test_tokenize_round_trip_of_windows(genome):
    path, seqs = genome
    w = allele_windows(open_genome(path), [Allele("chr1", 201, ".", seqs["chr1"][200], "G", 1, 3)], L)
    assert (tokenize(detokenize(w.alt[0])) == w.alt[0]).all()


def test_annotate_from_a_matches_table_labels_kernels(genome, tmp_path):
    from motifq.formats import write_meme

    path, seqs = genome
    motifs = [Motif(id=f"MA{i}", name=f"TF{i}", counts=np.eye(4)[[i % 4, (i + 1) % 4, 2, 3, 0, 1]] * 20 + 1)
              for i in range(3)]
    write_meme(tmp_path / "db.meme", motifs)
    table = tmp_path / "matches.tsv"
    table.write_text("Query_ID\tTarget_ID\tOptimal_offset\tp-value\tE-value\tOrientation\n"
                     + "".join(f"kernel_{k}\tMA{k % 2}\t0\t1e-5\t{1e-3 * (k + 1)}\t+\n" for k in range(6))
                     + "kernel_0\tMA2\t0\t1e-2\t0.5\t+\n"
                     + f"# database: {tmp_path / 'db.meme'}\n")
    model = _model()
    an = make_annotator(table, model)
    assert an.motif_ids == ["MA0", "MA1", "MA2"]                       # the matched motifs of the database
    assert an.kernel_matches == ["TF0", "TF1", "TF0", "TF1", "TF0", "TF1"]   # best E-value per kernel
    g = seqs["chr1"]
    w = allele_windows(open_genome(path), [Allele("chr1", 101, ".", g[100], "ACGT"[("ACGT".index(g[100]) + 2) % 4], 1, 3)], L)
    ann = annotate_windows(an, w)
    k = int(ann["kernel"][0].split("_")[1])
    assert ann["kernel_match"][0] == an.kernel_matches[k]
    assert ann["kernel_delta"][0] == pytest.approx(ann["kernel_alt"][0] - ann["kernel_ref"][0])


def test_bcf_input_reads_like_the_vcf(genome, tmp_path):
    import pysam

    path, seqs = genome
    text = ("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=300>\n##contig=<ID=chr2,length=120>\n"
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
            f"chr1\t31\tx\t{seqs['chr1'][30]}\tA,C\t.\t.\t.\nchr2\t50\ty\t{seqs['chr2'][49]}\tG\t.\t.\t.\n")
    (tmp_path / "v.vcf").write_text(text)
    with pysam.VariantFile(str(tmp_path / "v.vcf")) as src, \
            pysam.VariantFile(str(tmp_path / "v.bcf"), "wb", header=src.header) as out:
        for rec in src:
            out.write(rec)
    model = _model()
    for name in ("v.vcf", "v.bcf"):
        score_vcf(model, tmp_path / name, path, tmp_path / f"{name}.tsv", model_targets=["a", "b", "c"])
    a, b = (pd.read_csv(tmp_path / f"{n}.tsv", sep="\t") for n in ("v.vcf", "v.bcf"))
    pd.testing.assert_frame_equal(a, b)
    assert list(a["alt"]) == ["A", "C", "G"] and list(a["pos"]) == [31, 31, 50]

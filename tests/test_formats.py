
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from motifq.errors import MotifqError
from motifq.formats import (format_jaspar, format_meme, parse_jaspar, parse_meme, read_jaspar, read_meme,
                            read_motifs, write_jaspar, write_meme)
from motifq.motif import Motif

MEME_MESSY = (
    "MEME version 5\r\n\r\nALPHABET= ACGT\r\n\r\nstrands: +\r\n\r\n"
    "MOTIF one\r\nletter-probability matrix: alength=4\tnsites= 12\r\n"
    "0.1\t0.2   0.3 0.4\r\n 1 0 0 0 \r\n\r\n"
    "MOTIF two Alt_Name\r\nletter-probability matrix:\r\n0.25 0.25 0.25 0.25\r\n"
    "URL http://example.org/two\r\n"
)


def test_meme_reader_accepts_what_meme_accepts():
    motifs = parse_meme(MEME_MESSY)
    assert [m.id for m in motifs] == ["one", "two"]
    assert motifs[0].width == 2 and motifs[0].nsites == 12
    assert np.allclose(motifs[0].probabilities(), [[0.1, 0.2, 0.3, 0.4], [1, 0, 0, 0]])
    assert motifs[1].name == "Alt_Name" and motifs[1].nsites == 20 and motifs[1].url == "http://example.org/two"
    assert np.allclose(motifs[0].background, 0.25)


def test_meme_background_and_custom_alphabet():
    text = ("MEME version 4\nALPHABET \"DNA\" DNA-LIKE\nA \"Adenine\" CC0000 ~ T\nC ~ G\nN = ACGT\nEND ALPHABET\n"
            "Background letter frequencies (from file x):\nA 0.3 C 0.2\nG 0.2 T 0.3\n\n"
            "MOTIF a\nletter-probability matrix: alength= 4 w= 1 nsites= 5 E= 1e-3\n0.3 0.2 0.2 0.3\n")
    m = parse_meme(text)[0]
    assert np.allclose(m.background, [0.3, 0.2, 0.2, 0.3]) and m.evalue == "1e-3"
    assert "A 0.300000 C 0.200000 G 0.200000 T 0.300000" in format_meme([m])


def test_meme_round_trip_exact(tmp_path, random_motifs):
    p = tmp_path / "m.meme"
    write_meme(p, random_motifs)
    back = read_meme(p)
    assert [m.id for m in back] == [m.id for m in random_motifs]
    assert [m.name for m in back] == [m.name for m in random_motifs]
    assert [m.nsites for m in back] == [m.nsites for m in random_motifs]
    for a, b in zip(random_motifs, back):
        assert np.allclose(a.probabilities(), b.probabilities(), atol=5e-7)
    # writing what was read gives the same text
    p2 = tmp_path / "m2.meme"
    write_meme(p2, back)
    assert p2.read_text() == p.read_text()


def test_meme_writes_true_nsites_and_background():
    m = Motif("a", [[3, 1, 0, 0], [0, 0, 4, 0]], background=[0.3, 0.2, 0.2, 0.3], nsites=4)
    text = format_meme([m])
    assert "nsites= 4 " in text and "A 0.300000 C 0.200000" in text
    assert "0.750000 0.250000 0.000000 0.000000" in text


def test_meme_readable_by_biopython_and_memelite(tmp_path, random_motifs):
    from Bio import motifs as bio_motifs
    from memelite.io import read_meme as ml_read_meme

    p = tmp_path / "m.meme"
    write_meme(p, random_motifs)
    with open(p) as fh:
        bio = list(bio_motifs.parse(fh, "minimal"))
    ml = ml_read_meme(str(p))
    assert len(bio) == len(random_motifs) == len(ml)
    for ours, b in zip(random_motifs, bio):
        assert b.name == ours.id
        bp = np.array([[b.counts[l][i] for l in "ACGT"] for i in range(b.length)], float)
        bp /= bp.sum(1, keepdims=True)
        assert np.allclose(bp, ours.probabilities(), atol=1e-6)
        key = [k for k in ml if k.split()[0] == ours.id][0]
        assert np.allclose(np.asarray(ml[key]).T, ours.probabilities(), atol=1e-6)


def test_jaspar_round_trip(tmp_path, random_motifs):
    p = tmp_path / "m.jaspar"
    write_jaspar(p, random_motifs)
    back = read_jaspar(p)
    for a, b in zip(random_motifs, back):
        assert a.id == b.id and a.name == b.name and np.array_equal(a.counts, b.counts)


def test_jaspar_bare_and_fractional(tmp_path):
    p = tmp_path / "MA9999.1.pfm"
    p.write_text("1 2.5 3\n4 0 0\n0 0 1\n0 1.5 0\n")
    m = read_motifs(p)[0]
    assert m.id == "MA9999.1" and m.width == 3 and m.counts[1, 1] == 0 and m.counts[1, 0] == 2.5
    assert np.array_equal(parse_jaspar(format_jaspar([m]))[0].counts, m.counts)


@pytest.mark.parametrize("text,match", [
    ("MEME version 4\nMOTIF a\nletter-probability matrix: w= 2\n0.5 0.5 0 0\n", "w= 2 but 1 rows"),
    ("MEME version 4\nMOTIF a\nletter-probability matrix:\n0.5 0.4 0 0\n0.2 0.2 0.2 0.2\n", "row 1 sums to 0.9000"),
    ("MEME version 4\nALPHABET= ACDEFGHIKLMNPQRSTVWY\n", "not DNA"),
    ("MEME version 4\n", "no motifs"),
    ("MEME version 4\nMOTIF a\nletter-probability matrix: alength= 20\n", "alength"),
    ("MEME version 4\nMOTIF a\nletter-probability matrix:\n0.5 0.5 0\n", "expected 4"),
])
def test_meme_errors(text, match):
    with pytest.raises(MotifqError, match=match):
        parse_meme(text, source="f.meme")


def test_jaspar_errors():
    with pytest.raises(MotifqError, match="expected 4 rows"):
        parse_jaspar(">a\nA [1 2]\nC [1 2]\n")
    with pytest.raises(MotifqError, match="different lengths"):
        parse_jaspar(">a\nA [1 2]\nC [1 2]\nG [1]\nT [0 0]\n")
    with pytest.raises(MotifqError, match="'x' is not a number"):
        parse_jaspar(">a\nA [1 x]\nC [1 2]\nG [1 0]\nT [0 0]\n")


def test_empty_file(tmp_path):
    p = tmp_path / "e.meme"
    p.write_text("")
    with pytest.raises(MotifqError, match="e.meme: empty file"):
        read_motifs(p)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.integers(0, 400))
def test_fuzz_readers_raise_only_motifq_error(junk, cut):
    valid = format_meme([Motif("a", [[1, 2, 3, 4], [4, 3, 2, 1]], name="x")]) + format_jaspar([Motif("b", [[1, 0, 0, 1]])])
    for text in (junk, valid[:cut], "MEME version 4\n" + junk, valid[:cut] + junk, ">" + junk):
        for parser in (parse_meme, parse_jaspar):
            try:
                parser(text)
            except MotifqError:
                pass

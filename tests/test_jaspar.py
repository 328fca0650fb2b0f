import numpy as np
import pytest

from motifq.errors import MotifqError
from motifq.formats import read_meme
from motifq.jaspar import BUNDLED, bundled_path, load_bundled, load_motifs


@pytest.mark.parametrize("name", list(BUNDLED))
def test_bundled_counts_and_meme_twin(name):
    motifs = load_bundled(name)
    assert len(motifs) == BUNDLED[name][1]
    assert len({m.id.split(".")[0] for m in motifs}) == len(motifs)  # latest version only
    meme = read_meme(bundled_path(name, "meme"))
    assert [m.id for m in meme] == [m.id for m in motifs]
    for a, b in zip(motifs, meme):
        # nsites is written as a whole number (every MEME reader takes one): 1000.0007 -> 1000
        assert b.nsites == round(a.counts.sum(1).max())
        assert np.allclose(a.probabilities(), b.probabilities(), atol=1e-6)


@pytest.mark.parametrize("name,release", [("jaspar2016", "JASPAR2016"), ("jaspar2024", "JASPAR2024")])
def test_bundled_equal_pyjaspar(name, release):
    pyjaspar = pytest.importorskip("pyjaspar")  # a test extra; installed by the README's test command
    db = pyjaspar.jaspardb(release=release)
    ref = {m.matrix_id: m for m in db.fetch_motifs(collection="CORE", tax_group=["vertebrates"], all_versions=False)}
    ours = load_bundled(name)
    assert set(ref) == {m.id for m in ours}
    for m in ours:
        r = ref[m.id]
        assert m.name == r.name
        assert np.array_equal(m.counts, np.array([r.counts[b] for b in "ACGT"], float).T), m.id


def test_selection_and_errors():
    sel = load_motifs("jaspar2024:MA0139,CTCF,cebpb")
    assert [m.name for m in sel] == ["CTCF", "CTCF", "CEBPB"]
    with pytest.raises(MotifqError, match="no motif 'NOPE'"):
        load_motifs("jaspar2024:NOPE")
    assert len(load_motifs("jaspar")) == BUNDLED["jaspar2026"][1]


def test_bundled_files_are_package_data():
    from pathlib import Path

    import motifq
    from motifq.jaspar import bundled_dir

    assert bundled_dir() == Path(motifq.__file__).resolve().parent / "_data" / "jaspar"
    assert all((bundled_dir() / f"{name}.{fmt}").is_file() for name in BUNDLED for fmt in ("jaspar", "meme"))

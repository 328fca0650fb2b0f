"""Figures (motifq.plot), under the Agg backend: check what was drawn."""
from __future__ import annotations

from dataclasses import replace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from motifq.cluster import cluster_motifs  # noqa: E402
from motifq.errors import MotifqError  # noqa: E402
from motifq.motif import Motif  # noqa: E402
from motifq.plot import LETTER_COLORS, NO_COLUMN_COLOR, match_placement, plot_cluster_heatmap, plot_logo, plot_match, tomtom_placement  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _letters(ax):
    """(x centre, bottom, height, colour) of each drawn letter, sorted."""
    out = []
    for p in ax.patches:
        bb = p.get_path().get_extents()
        out.append((round((bb.x0 + bb.x1) / 2, 3), round(bb.y0, 3), round(bb.height, 3), tuple(np.round(p.get_facecolor()[:3], 3))))
    return sorted(out)


def _motif(rows, mid="m"):
    return Motif(id=mid, counts=np.array(rows, dtype=float), name="alt")


def test_logo_draws_one_letter_per_informative_base_with_ic_heights():
    m = _motif([[10, 0, 0, 0], [5, 5, 0, 0], [1, 1, 1, 1]])
    ax = plot_logo(m)
    assert isinstance(ax, matplotlib.axes.Axes)
    letters = _letters(ax)
    # column 0: A, 2 bits; column 1: A and C, 1 bit in all -> 0.5 each; column 2: 0 bits, nothing
    assert len(letters) == 3
    assert letters[0] == (0.0, 0.0, 2.0, tuple(LETTER_COLORS[0]))
    assert {(x, h) for x, _, h, _ in letters[1:]} == {(1.0, 0.5)}
    assert {c for *_, c in letters[1:]} == {tuple(LETTER_COLORS[0]), tuple(LETTER_COLORS[1])}
    assert ax.get_ylim() == (0.0, 2.0) and ax.get_ylabel() == "bits"
    assert ax.get_title(loc="left") == "m alt"


def test_logo_uses_the_given_axes_start_and_strand():
    fig, ax = plt.subplots()
    m = _motif([[10, 0, 0, 0], [0, 0, 0, 10]])
    out = plot_logo(m, ax=ax, start=5, reverse_complement=True)
    assert out is ax
    letters = _letters(ax)
    # reverse complement of A,T is A,T: T's complement A at x=5, A's complement T at x=6
    assert [(x, c) for x, _, _, c in letters] == [(5.0, tuple(LETTER_COLORS[0])), (6.0, tuple(LETTER_COLORS[3]))]
    assert "reverse complement" in ax.get_title(loc="left")


def test_match_places_target_by_offset_and_strand_and_names_it():
    query = _motif([[1, 1, 1, 1], [1, 1, 1, 1], [10, 0, 0, 0], [0, 10, 0, 0]], "kernel_3")
    target = Motif(id="MA0001.1", name="TEST", counts=np.array([[0, 0, 10, 0], [0, 0, 0, 10.0]]))  # GT, RC = AC
    axes = plot_match(query, target, offset=2, strand="-", pvalue=1.5e-6, evalue=3e-4)
    assert len(axes) == 2
    top, bottom = _letters(axes[0]), _letters(axes[1])
    assert [x for x, *_ in top] == [2.0, 3.0]
    # the reverse complement (A then C) is drawn under query columns 2 and 3
    assert [(x, c) for x, _, _, c in bottom] == [(2.0, tuple(LETTER_COLORS[0])), (3.0, tuple(LETTER_COLORS[1]))]
    title = axes[1].get_title(loc="left")
    assert "MA0001.1 TEST" in title and "p = 1.5e-06" in title and "E = 0.0003" in title
    assert axes[0].get_xlim() == axes[1].get_xlim() == (-0.5, 3.5)


def test_match_with_target_starting_before_query():
    assert match_placement(4, 6, -2, "+") == (2, 0)
    assert match_placement(4, 2, 1, "+") == (0, 1)
    assert tomtom_placement(4, 2, -1, "+") == 1
    q = _motif([[10, 0, 0, 0]] * 3, "q")
    t = _motif([[0, 10, 0, 0]] * 5, "t")
    fig, axes = plt.subplots(2, 1)
    out = plot_match(q, t, offset=-2, strand="+", axes=axes)
    assert out[0] is axes[0] and out[1] is axes[1]
    assert [x for x, *_ in _letters(axes[0])] == [2.0, 3.0, 4.0]
    assert [x for x, *_ in _letters(axes[1])] == [0.0, 1.0, 2.0, 3.0, 4.0]
    with pytest.raises(MotifqError):
        plot_match(q, t, 0, strand="x")


def _clustered():
    a = _motif([[9, 0, 1, 0], [0, 9, 0, 1], [0, 0, 10, 0], [0, 0, 0, 10], [10, 0, 0, 0], [1, 1, 1, 7]], "a")
    b = replace(a.reverse_complement(), id="b")
    c = _motif([[0, 10, 0, 0]] * 3 + [[0, 0, 10, 0]] * 3, "c")
    return cluster_motifs([a, b, c])


def test_cluster_heatmap_letter_colours():
    res = _clustered()
    axes = plot_cluster_heatmap(res)
    assert len(axes) == 2
    tree, heat = axes
    assert len(tree.collections) + len(tree.lines) > 0  # the dendrogram's links
    assert len(heat.images) == 1
    img = heat.images[0].get_array()
    assert img.shape == (3, 6, 3)  # 3 motifs, alignment width 6, RGB
    # rows are in dendrogram order; the row of motif c: C C C G G G at full colour (2 bits each)
    order = [t.get_text() for t in heat.get_yticklabels()]
    row = order.index("c alt")
    np.testing.assert_allclose(img[row, :3], np.tile(LETTER_COLORS[1], (3, 1)))
    np.testing.assert_allclose(img[row, 3:], np.tile(LETTER_COLORS[2], (3, 1)))
    # a and b are aligned on opposite strands, so their rows are the same picture
    ra, rb = order.index("a alt"), order.index("b alt")
    np.testing.assert_allclose(img[ra], img[rb])
    assert len(heat.lines) == 1  # one separator between the two clusters


def test_cluster_heatmap_position_ic_on_given_axes():
    res = _clustered()
    fig, axes = plt.subplots(1, 2)
    out = plot_cluster_heatmap(res, axes=axes, color_by="position")
    assert out[0] is axes[0] and out[1] is axes[1]
    img = np.ma.getdata(axes[1].images[0].get_array())
    assert img.shape == (3, 6)
    row = [t.get_text() for t in axes[1].get_yticklabels()].index("c alt")
    np.testing.assert_allclose(img[row], 2.0)
    assert "bits" in axes[1].get_title()
    with pytest.raises(MotifqError):
        plot_cluster_heatmap(res, color_by="nope")


def test_cli_logos_pages_with_matches_and_index(tmp_path):
    import re

    from motifq.cli import main
    from motifq.formats import write_meme

    q1 = _motif([[1, 1, 1, 1], [10, 0, 0, 0], [0, 10, 0, 0], [1, 1, 1, 1]], "kernel_0")
    q2 = _motif([[0, 0, 10, 0]] * 4, "kernel_1")
    q3 = _motif([[0, 0, 0, 10], [1, 1, 1, 1]], "kernel_2")
    target = Motif(id="T1", name="TEST", counts=np.array([[0, 0, 10, 0], [0, 0, 0, 10.0]]))
    write_meme(tmp_path / "motifs.meme", [q1, q2, q3])
    write_meme(tmp_path / "db.meme", [target])
    header = "Query_ID\tTarget_ID\tOptimal_offset\tp-value\tE-value\tq-value\tOverlap\tQuery_consensus\tTarget_consensus\tOrientation\n"
    (tmp_path / "matches.tsv").write_text(header + "kernel_0\tT1\t-1\t1e-05\t0.002\t0.01\t2\tNACN\tGT\t-\n"
                                          f"# database: {tmp_path / 'db.meme'}\n")
    out = tmp_path / "logos"
    assert main(["-q", "logos", str(tmp_path / "motifs.meme"), "--matches", str(tmp_path / "matches.tsv"),
                 "--per-page", "2", "-o", str(out)]) == 0
    pages = sorted(p.name for p in out.glob("page_*.png"))
    assert pages == ["page_001.png", "page_002.png"]
    index = (out / "index.html").read_text()
    assert re.findall(r'<img src="(page_\d+\.png)"', index) == pages
    assert "1 with a known match" in index
    # the matched motif comes first, then the others by information content
    assert index.index("kernel_0") < index.index("kernel_1") < index.index("kernel_2")
    # --top keeps the best; a matches file without a database line needs --db
    (tmp_path / "m2.tsv").write_text(header + "kernel_0\tT1\t-1\t1e-05\t0.002\t0.01\t2\tNACN\tGT\t-\n")
    assert main(["-q", "logos", str(tmp_path / "motifs.meme"), "--matches", str(tmp_path / "m2.tsv"),
                 "-o", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x" / "index.html").exists()
    assert main(["-q", "logos", str(tmp_path / "motifs.meme"), "--matches", str(tmp_path / "m2.tsv"),
                 "--db", str(tmp_path / "db.meme"), "--top", "1", "-o", str(tmp_path / "y")]) == 0
    assert sorted(p.name for p in (tmp_path / "y").iterdir()) == ["index.html", "page_001.png"]


def test_cluster_heatmap_marks_columns_a_motif_does_not_have():
    a = _motif([[9, 0, 1, 0], [0, 9, 0, 1], [0, 0, 10, 0], [0, 0, 0, 10], [10, 0, 0, 0], [1, 1, 1, 7]], "a")
    short = replace(a, id="short", counts=a.counts[2:])
    res = cluster_motifs([a, short])
    assert res.labels.tolist() == [1, 1] and res.offset.tolist() == [0, 2]
    axes = plot_cluster_heatmap(res, labels=True)
    img = axes[1].images[0].get_array()
    row = [t.get_text() for t in axes[1].get_yticklabels()].index("short alt")
    np.testing.assert_allclose(img[row, :2], np.tile(NO_COLUMN_COLOR, (2, 1)))
    np.testing.assert_allclose(img[row, 2:], img[1 - row, 2:])
    axes = plot_cluster_heatmap(res, color_by="position")
    assert np.ma.getmaskarray(axes[1].images[0].get_array())[row, :2].all()

"""Kernel -> sites -> PFM extraction (motifq.extract)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from motifq.errors import MotifqError
from motifq.extract import extract_motifs, kernel_sites, pad_sequences, seed_names, sites_to_motifs
from motifq.jaspar import load_motifs
from motifq.sequence import tokenize


def _conv(weights, biases):
    """Conv1d with weights (K, W, 4) in A, C, G, T order (position-major, easier to write)."""
    w = torch.tensor(np.asarray(weights, dtype=np.float32)).permute(0, 2, 1)
    conv = torch.nn.Conv1d(4, w.shape[0], w.shape[2])
    with torch.no_grad():
        conv.weight.copy_(w)
        conv.bias.copy_(torch.tensor(biases, dtype=torch.float32))
    return conv


def _planted(motif, n, length, rng, pad=3):
    """Random sequences with one forward-strand instance of `motif` each, and a kernel for it.

    Returns tokens (n, length) and a Conv1d of 2 kernels of width w + 2 * pad: kernel 0 is
    PFM - 0.25 in columns pad..pad+w (zeros around) with a bias of -60% of its best score;
    kernel 1 never fires (all weights -1, bias -1).
    """
    P = motif.probabilities()
    w = P.shape[0]
    tokens = rng.integers(0, 4, size=(n, length)).astype(np.uint8)
    for i in range(n):
        site = np.array([rng.choice(4, p=p) for p in P])
        j = rng.integers(0, length - w)
        tokens[i, j:j + w] = site
    W = w + 2 * pad
    weights = np.zeros((2, W, 4))
    weights[0, pad:pad + w] = P - 0.25
    weights[1] = -1.0
    best = (P - 0.25).max(axis=1).sum()
    return tokens, _conv(weights, [-0.6 * best, -1.0])


def test_jaspar_kernel_gives_back_its_motif(rng):
    ctcf = load_motifs("jaspar2016:MA0139.1")[0]
    tokens, conv = _planted(ctcf, 300, 80, rng)
    motifs, skipped, sites = extract_motifs(conv, tokens, min_sites=10, batch_size=64)
    assert skipped == [1]
    assert [m.id for m in motifs] == ["kernel_0"]
    m = motifs[0]
    assert m.width == ctcf.width + 6
    assert m.nsites == sites.nsites[0] and 250 <= m.nsites <= 300
    np.testing.assert_allclose(m.counts.sum(axis=1), m.nsites)  # every site adds to every column
    core = m.probabilities()[3:3 + ctcf.width]
    assert np.abs(core - ctcf.probabilities()).max() < 0.12
    assert np.abs(core - ctcf.probabilities()).mean() < 0.03
    # the flanks are background
    assert np.abs(m.probabilities()[:3] - 0.25).max() < 0.12
    # its best known match is the motif it was set to, on the same strand, with the right offset
    from motifq.compare import compare

    hits = compare([m], "jaspar2016", dist="pearson", min_overlap=5, thresh=0.01, evalue=True)
    best = hits.iloc[0]
    assert best["Target_ID"] == "MA0139.1" and best["E-value"] < 0.01
    assert best["Orientation"] == "+" and best["Optimal_offset"] == -3
    # trimming at 0.5 bits keeps the informative core (inside the planted columns)
    trimmed = extract_motifs(conv, tokens, trim=0.5)[0][0]
    assert 8 <= trimmed.width <= ctcf.width


def _toy():
    # kernel 0 detects "AC": +1 for A at 0, +1 for C at 1, bias -1.5 -> AC: 0.5, A? or ?C: -0.5, else -1.5
    # kernel 1 likes G: 2 for G at 0, 1 for G at 1, bias 0 -> GG 3, G? 2, ?G 1, else 0
    w = np.zeros((2, 2, 4))
    w[0, 0, 0] = w[0, 1, 1] = 1
    w[1, 0, 2], w[1, 1, 2] = 2, 1
    conv = _conv(w, [-1.5, 0.0])
    tokens = np.stack([tokenize(s) for s in ("ACGAC", "GGGGG", "ANACT")])
    return conv, tokens


def _count(*windows):
    out = np.zeros((2, 4))
    for win in windows:
        for i, ch in enumerate(win):
            out[i, "ACGT".index(ch)] += 1
    return out


def test_sequence_mode_counts_one_best_window_per_sequence():
    conv, tokens = _toy()
    s = kernel_sites(conv, tokens, mode="sequence")
    # kernel 0: ACGAC -> first AC (0.5 > 0); GGGGG -> best -1.5, none; ANACT -> AC (windows with N skipped)
    # kernel 1: ACGAC -> GA (2); GGGGG -> GG (3); ANACT -> every window 0 (not > 0), none
    np.testing.assert_array_equal(s.nsites, [2, 2])
    np.testing.assert_array_equal(s.counts[0], _count("AC", "AC"))
    np.testing.assert_array_equal(s.counts[1], _count("GA", "GG"))
    np.testing.assert_allclose(s.max_activation, [0.5, 3.0])


def test_position_mode_counts_every_window_above_threshold_of_kernel_max():
    conv, tokens = _toy()
    s = kernel_sites(conv, tokens, mode="position", threshold=0.5)
    # kernel 0: max 0.5, cut 0.25 -> AC twice in ACGAC, once in ANACT
    # kernel 1: max 3, cut 1.5 -> GA (2) in ACGAC, four GG (3) in GGGGG
    np.testing.assert_array_equal(s.nsites, [3, 5])
    np.testing.assert_array_equal(s.counts[0], _count("AC", "AC", "AC"))
    np.testing.assert_array_equal(s.counts[1], _count("GA", "GG", "GG", "GG", "GG"))
    # a higher threshold keeps only the GG windows for kernel 1
    s = kernel_sites(conv, tokens, mode="position", threshold=0.9)
    np.testing.assert_array_equal(s.nsites, [3, 4])


def test_batching_does_not_change_counts(rng):
    conv = torch.nn.Conv1d(4, 7, 5)
    torch.manual_seed(0)
    tokens = rng.integers(0, 5, size=(37, 30)).astype(np.uint8)
    for mode in ("sequence", "position"):
        a = kernel_sites(conv, tokens, mode=mode, batch_size=1)
        b = kernel_sites(conv, tokens, mode=mode, batch_size=100)
        np.testing.assert_array_equal(a.counts, b.counts)
        np.testing.assert_array_equal(a.nsites, b.nsites)


def test_sequence_mode_matches_a_plain_loop(rng):
    torch.manual_seed(1)
    conv = torch.nn.Conv1d(4, 6, 4)
    tokens = rng.integers(0, 5, size=(20, 15)).astype(np.uint8)
    W, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    expect = np.zeros((6, 4, 4))
    for seq in tokens:
        x = np.zeros((4, len(seq)))
        x[seq[seq < 4], np.flatnonzero(seq < 4)] = 1
        for k in range(6):
            acts = [(W[k] * x[:, p:p + 4]).sum() + b[k] if (seq[p:p + 4] < 4).all() else -np.inf
                    for p in range(len(seq) - 3)]
            p = int(np.argmax(acts))
            if acts[p] > 0:
                expect[k, np.arange(4), seq[p:p + 4]] += 1
    got = kernel_sites(conv, tokens).counts
    np.testing.assert_array_equal(got, expect)


@pytest.mark.parametrize("threshold", [0.95, 0.1])  # few sites (gathered) and many (matrix product)
def test_position_mode_matches_a_plain_loop(rng, threshold):
    torch.manual_seed(2)
    conv = torch.nn.Conv1d(4, 5, 3)
    tokens = rng.integers(0, 5, size=(25, 12)).astype(np.uint8)
    W, b = conv.weight.detach().numpy().astype(np.float64), conv.bias.detach().numpy()
    acts = np.full((25, 5, 10), -np.inf)
    for n, seq in enumerate(tokens):
        x = np.zeros((4, len(seq)))
        x[seq[seq < 4], np.flatnonzero(seq < 4)] = 1
        for k in range(5):
            for p in range(10):
                if (seq[p:p + 3] < 4).all():
                    acts[n, k, p] = (W[k] * x[:, p:p + 3]).sum() + b[k]
    cut = threshold * acts.max(axis=(0, 2))
    expect = np.zeros((5, 3, 4))
    for n, k, p in zip(*np.nonzero(acts > cut[None, :, None] + 1e-5)):
        expect[k, np.arange(3), tokens[n, p:p + 3]] += 1
    got = kernel_sites(conv, tokens, mode="position", threshold=threshold, batch_size=7)
    np.testing.assert_array_equal(got.counts, expect)
    np.testing.assert_array_equal(got.nsites, expect[:, 0].sum(axis=1))


def test_kernel_that_never_fires_is_listed_not_written():
    conv, tokens = _toy()
    with torch.no_grad():
        conv.bias[0] = -10.0
    motifs, skipped, _ = extract_motifs(conv, tokens, min_sites=1)
    assert skipped == [0]
    assert [m.id for m in motifs] == ["kernel_1"]
    motifs, skipped, _ = extract_motifs(conv, tokens, min_sites=3)
    assert skipped == [0, 1] and motifs == []


def test_seeded_kernels_are_named_by_their_jaspar_motif():
    conv, tokens = _toy()
    jmap = [{"kernel": 1, "motif_id": "MA0139.1", "name": "CTCF", "offset": 0, "strand": "+"}]
    motifs, _, _ = extract_motifs(conv, tokens, min_sites=1, jaspar_map=jmap)
    assert [(m.id, m.name) for m in motifs] == [("kernel_0", ""), ("kernel_1", "MA0139.1_CTCF")]
    assert seed_names(None) == {}


def test_pad_sequences_pads_with_n_and_padding_is_never_counted():
    tokens = pad_sequences(["ACG", "ACGTAC"])
    assert tokens.shape == (2, 6) and tokens.dtype == np.uint8
    np.testing.assert_array_equal(tokens[0], [0, 1, 2, 4, 4, 4])
    w = np.zeros((1, 2, 4))
    w[0] = 1.0  # fires on every window without N (activation 2 + bias)
    s = kernel_sites(_conv(w, [0.0]), tokens, mode="position", threshold=0.0)
    assert s.nsites[0] == 2 + 5


def test_bad_inputs_raise_motifq_error():
    conv, tokens = _toy()
    with pytest.raises(MotifqError, match="mode"):
        kernel_sites(conv, tokens, mode="basset")
    with pytest.raises(MotifqError, match="4 input channels"):
        kernel_sites(torch.nn.Conv1d(5, 2, 2), tokens)
    with pytest.raises(MotifqError, match="shorter"):
        kernel_sites(torch.nn.Conv1d(4, 2, 9), tokens)
    with pytest.raises(MotifqError, match="min-sites"):
        sites_to_motifs(kernel_sites(conv, tokens), min_sites=0)


# ---------------------------------------------------------------------------------------------
# motifq extract-motifs
# ---------------------------------------------------------------------------------------------
def _checkpoint(tmp_path, rng, n_targets=2):
    """A small untrained danq whose kernel 5 is set to CTCF (PFM - 0.25) and kernel 7 never fires;
    planted CTCF sites in half of the FASTA sequences and a dataset with those as positives."""
    from motifq.config import ModelConfig
    from motifq.data.dataset import Split, write_dataset
    from motifq.models import build_model, save_checkpoint
    from motifq.sequence import write_fasta

    ctcf = load_motifs("jaspar2016:MA0139.1")[0]
    cfg = ModelConfig(kind="danq", n_targets=n_targets, length=60, conv_kernels=8, conv_width=25, pool=5,
                      lstm_units=4, dense=4)
    torch.manual_seed(0)
    model = build_model(cfg)
    P = ctcf.probabilities()
    with torch.no_grad():
        model.conv.weight[5].zero_()
        model.conv.weight[5, :, 3:22] = torch.tensor((P - 0.25).T, dtype=torch.float32)
        model.conv.bias[5] = -0.6 * float((P - 0.25).max(axis=1).sum())
        model.conv.weight[7] = -1.0
        model.conv.bias[7] = -1.0
    jmap = [{"kernel": 5, "motif_id": "MA0139.1", "name": "CTCF", "offset": 3, "strand": "+", "width": 19,
             "trimmed": [0, 0]}]
    ckpt = save_checkpoint(tmp_path / "model.pt", model, targets=["CTCF", "other"][:n_targets], jaspar=jmap)
    tokens = rng.integers(0, 4, size=(120, 60)).astype(np.uint8)
    labels = np.zeros((120, n_targets), dtype=np.uint8)
    for i in range(0, 120, 2):
        site = np.array([rng.choice(4, p=p) for p in P])
        j = rng.integers(0, 60 - 19)
        tokens[i, j:j + 19] = site
        labels[i, 0] = 1
    seqs = ["".join("ACGT"[t] for t in row) for row in tokens]
    write_fasta(tmp_path / "seqs.fa", [f"s{i}" for i in range(120)], seqs)
    split = Split.from_arrays(tokens, labels, ["CTCF", "other"][:n_targets])
    write_dataset(tmp_path / "data", {"train": split, "valid": split, "test": split})
    return ckpt, ctcf


def test_cli_extract_from_fasta_writes_meme_and_lists_left_out_kernels(tmp_path, rng, capsys):
    from motifq.cli import main
    from motifq.formats import read_meme

    ckpt, ctcf = _checkpoint(tmp_path, rng)
    out = tmp_path / "out" / "motifs.meme"
    rc = main(["extract-motifs", str(ckpt), "--fasta", str(tmp_path / "seqs.fa"), "--min-sites", "20",
               "--batch-size", "32", "-o", str(out)])
    assert rc == 0
    motifs = {m.id: m for m in read_meme(out)}
    assert "kernel_7" not in motifs
    assert motifs["kernel_5"].name == "MA0139.1_CTCF"
    assert 40 <= motifs["kernel_5"].nsites <= 70  # most of the 60 planted sites fire, few others
    core = motifs["kernel_5"].probabilities()[3:22]
    assert np.abs(core - ctcf.probabilities()).mean() < 0.06
    err = capsys.readouterr().err
    assert "kernel_7" in err and "left out" in err


def test_cli_extract_match_writes_matches_beside_the_output(tmp_path, rng, capsys):
    import pandas as pd

    from motifq.cli import main

    ckpt, _ = _checkpoint(tmp_path, rng)
    out = tmp_path / "res" / "motifs.meme"
    rc = main(["-q", "extract-motifs", str(ckpt), "--fasta", str(tmp_path / "seqs.fa"), "--match", "jaspar2016:CTCF,REST,GATA1",
               "-o", str(out)])
    assert rc == 0
    table = pd.read_csv(tmp_path / "res" / "matches.tsv", sep="\t", comment="#")
    assert table.columns[0] == "Query_ID" and (table["E-value"] < 0.01).all()
    best = table.sort_values("E-value").groupby("Query_ID").first()
    assert best.loc["kernel_5", "Target_ID"] == "MA0139.1"
    assert (tmp_path / "res" / "matches.tsv").read_text().rstrip().endswith("# database: jaspar2016:CTCF,REST,GATA1")
    k = table["Query_ID"].nunique()
    assert f"{k}/8 kernels match a known motif at E < 0.01" in capsys.readouterr().out
    # a bad database fails before any work and leaves nothing
    assert main(["-q", "extract-motifs", str(ckpt), "--fasta", str(tmp_path / "seqs.fa"), "--match",
                 str(tmp_path / "nope.meme"), "-o", str(tmp_path / "bad" / "m.meme")]) == 2
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


def test_cli_extract_positives_and_max_seqs_from_a_dataset(tmp_path, rng):
    from motifq.cli import main
    from motifq.formats import read_meme

    ckpt, _ = _checkpoint(tmp_path, rng)
    out = tmp_path / "pos.meme"
    rc = main(["-q", "extract-motifs", str(ckpt), "--data", str(tmp_path / "data"), "--split", "test",
               "--positives", "CTCF", "--max-seqs", "40", "--min-sites", "1", "-o", str(out)])
    assert rc == 0
    m = {m.id: m for m in read_meme(out)}["kernel_5"]
    assert 30 <= m.nsites <= 40  # 40 positives, each with a planted site


def test_cli_extract_errors_leave_no_output(tmp_path, rng, capsys):
    from motifq.cli import main

    ckpt, _ = _checkpoint(tmp_path, rng)
    out = tmp_path / "x.meme"
    fa = str(tmp_path / "seqs.fa")
    assert main(["-q", "extract-motifs", str(ckpt), "--fasta", fa, "--min-sites", "100000", "-o", str(out)]) == 2
    assert "nothing written" in capsys.readouterr().err
    assert main(["-q", "extract-motifs", str(ckpt), "--fasta", fa, "--positives", "CTCF", "-o", str(out)]) == 2
    assert main(["-q", "extract-motifs", str(ckpt), "--data", str(tmp_path / "data"), "--positives", "nope",
                 "-o", str(out)]) == 2
    assert main(["-q", "extract-motifs", str(tmp_path / "seqs.fa"), "--fasta", fa, "-o", str(out)]) == 2
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("width", [1, 2, 3, 4, 7, 26])
def test_kmer_table_activations_equal_conv1d(rng, width):
    from motifq.extract import _batch_activations, _kmer_table

    torch.manual_seed(width)
    conv = torch.nn.Conv1d(4, 9, width)
    tokens = rng.integers(0, 4, size=(5, 60)).astype(np.uint8)
    tokens[1, 10] = tokens[3, 59] = 4
    tok = torch.from_numpy(tokens.astype(np.int32))
    with torch.no_grad():
        act = _batch_activations(_kmer_table(conv.weight, conv.bias), tok, width)  # (B, P, K)
        x = torch.nn.functional.one_hot(tok.long(), 5)[..., :4].float().transpose(1, 2)
        expect = conv(x).transpose(1, 2)
    has_n = np.array([[(tokens[b, p:p + width] == 4).any() for p in range(60 - width + 1)] for b in range(5)])
    assert act.shape == expect.shape
    assert torch.isneginf(act[torch.from_numpy(has_n)]).all()
    np.testing.assert_allclose(act[torch.from_numpy(~has_n)].numpy(), expect[torch.from_numpy(~has_n)].numpy(),
                               rtol=0, atol=1e-5)

"""motifq.kmers: k-mer codes and counts against brute force; enriched words on planted data
and none on random labels; the motif grown from a word; the default recipe's seeding."""
import numpy as np
import pytest
import torch

from motifq.config import ModelConfig, TrainConfig
from motifq.data.dataset import Split
from motifq.kmers import (_near_copy, canonical_kmers, enriched_motifs, enriched_words, presence_counts,
                          word_motif)
from motifq.models import load_checkpoint
from motifq.sequence import tokenize
from motifq.train import fit

RC = str.maketrans("ACGT", "TGCA")


def _code(word):
    return int("".join(str("ACGT".index(c)) for c in word), 4)


def _canonical(word):
    return min(_code(word), _code(word[::-1].translate(RC)))


def planted(n, words=("TGACTCA", "CCGCGGAA"), length=120, seed=0, random_labels=False):
    rng = np.random.default_rng(seed)
    tok = rng.integers(0, 4, (n, length), dtype=np.uint8)
    y = np.zeros((n, len(words)), np.uint8)
    for t, w in enumerate(words):
        for i in np.flatnonzero(rng.random(n) < 0.3):
            p = rng.integers(0, length - len(w) + 1)
            site = w if rng.random() < 0.5 else w[::-1].translate(RC)     # either strand
            tok[i, p:p + len(w)] = tokenize(site)
            y[i, t] = 1
    if random_labels:
        y = (rng.random(y.shape) < 0.3).astype(np.uint8)
    return tok, y


def test_canonical_codes_and_presence_counts_match_brute_force():
    rng = np.random.default_rng(1)
    tok = rng.integers(0, 4, (6, 30), dtype=np.uint8)
    tok[2, 10] = 4                                                  # an N
    codes = canonical_kmers(tok, 4)
    assert codes.shape == (6, 27)
    for i in range(6):
        for s in range(27):
            win = tok[i, s:s + 4]
            want = -1 if (win > 3).any() else _canonical("".join("ACGT"[b] for b in win))
            assert codes[i, s] == want
    counts = presence_counts(codes, np.array([0, 2, 5]), 4 ** 4)
    for c in range(4 ** 4):
        assert counts[c] == sum(c in set(codes[i]) for i in (0, 2, 5))
    assert counts.sum() == sum(len(set(codes[i]) - {-1}) for i in (0, 2, 5))


def test_near_copies_are_shifts_with_one_mismatch_on_either_strand():
    assert _near_copy("ACGTACGG", "ACGTACGG")
    assert _near_copy("ACGTACGG", "CGTACGGT")                      # shifted by one
    assert _near_copy("ACGTACGG", "CCGTACGT")                      # one mismatch at the end
    assert _near_copy("ACGTACGG", "CCGTACGT".translate(RC)[::-1])  # ... on the other strand
    assert not _near_copy("ACGTACGG", "TTTTCCCC")
    assert not _near_copy("ACGTACGG", "ACATATGG")                   # two mismatches


def test_enriched_words_find_the_planted_words_and_nothing_in_noise():
    tok, y = planted(400)
    ranked = enriched_words(canonical_kmers(tok, 6), y, 6, per_target=3)
    words = {j: codes for _, j, codes in ranked}
    assert set(words) == {0, 1}
    for j, w in enumerate(("TGACTCA", "CCGCGGAA")):
        inside = {_canonical(w[s:s + 6]) for s in range(len(w) - 5)}
        assert words[j][0] in inside                               # the best word is part of the planted one
    tok, y = planted(400, random_labels=True)
    assert enriched_words(canonical_kmers(tok, 6), y, 6) == []
    assert enriched_motifs(tok, y, 8, k=6) == []


def test_word_motif_counts_occurrences_with_flanks_on_the_word_strand():
    tok = np.array([tokenize(s) for s in ("AAACCGTTTA", "GGATCGGCTC", "TTTTTTTTTT")], dtype=np.uint8)
    m = word_motif(tok, "CCG", flank=1, name="x")
    # row 0: CCG at 3, flanks A and T; row 1: CGG at 4 is CCG on the minus strand, its window
    # TCGGC read on that strand is GCCGA (flanks G and A); row 2: no occurrence
    assert m.id == "kmer:CCG" and m.name == "x" and m.width == 5
    counts = m.counts - 0.25
    assert counts.sum(axis=1).tolist() == [2, 2, 2, 2, 2]
    assert counts[1:4].argmax(axis=1).tolist() == [1, 1, 2]          # C C G
    assert counts[0].tolist() == [1, 0, 1, 0] and counts[4].tolist() == [1, 0, 0, 1]
    assert word_motif(tok, "GGGG") is None


def test_enriched_motifs_subsample_reads_sorted_rows_through_a_label_function():
    tok, y = planted(600)
    seen = []

    def labels(rows):
        seen.append(rows)
        return y[rows]

    ms = enriched_motifs(tok, labels, 4, targets=["ap1", "cg"], k=6, max_seqs=300, seed=2)
    assert len(seen) == 1 and len(seen[0]) == 300 and np.all(np.diff(seen[0]) > 0)
    assert {m.name for m in ms} == {"ap1", "cg"} and all(m.id.startswith("kmer:") for m in ms)
    assert all(m.width == 6 + 8 for m in ms)
    # deterministic for a seed
    again = enriched_motifs(tok, y, 4, targets=["ap1", "cg"], k=6, max_seqs=300, seed=2)
    assert [m.id for m in again] == [m.id for m in ms]
    with pytest.raises(Exception, match="k must be in 1..12"):
        enriched_motifs(tok, y, 4, k=0)


def test_long_sequences_are_subsampled_to_a_bounded_number_of_bases(monkeypatch):
    import motifq.kmers as K

    tok, y = planted(600)                                          # 120 bp each
    monkeypatch.setattr(K, "_MAX_BASES", 120 * 250)
    seen = []
    K.enriched_motifs(tok, lambda rows: seen.append(rows) or y[rows], 4, k=6, max_seqs=400)
    assert len(seen[0]) == 250


def _split(tok, y):
    return Split.from_arrays(tok, y, ["ap1", "cg"], name="planted")


def test_default_recipe_seeds_kernels_from_enriched_kmers_and_paper_does_not(tmp_path):
    tok, y = planted(400, length=80)
    vt, vy = planted(100, length=80, seed=1)
    train, valid = _split(tok, y), _split(vt, vy)
    mc = ModelConfig.for_kind("danq", n_targets=2, length=80, conv_kernels=12, conv_width=20, pool=8,
                              lstm_units=4, dense=8)
    fit(mc, train, valid, tmp_path / "d.pt", TrainConfig(epochs=1, max_steps=1, batch_size=50, device="cpu",
                                                         checkpoint_minutes=0), progress=False)
    _, ckpt = load_checkpoint(tmp_path / "d.pt")
    seeded = ckpt["jaspar"]
    assert ckpt["train_config"]["kmer_init"] == 0.5 and ckpt["train_config"]["seed_threshold"] == 0.5
    assert 2 <= len(seeded) <= 6 and all(d["motif_id"].startswith("kmer:") for d in seeded)
    assert {d["name"] for d in seeded} == {"ap1", "cg"} and len({d["kernel"] for d in seeded}) == len(seeded)
    fit(mc, train, valid, tmp_path / "p.pt", TrainConfig(recipe="paper", epochs=1, max_steps=1, batch_size=50,
                                                         device="cpu", checkpoint_minutes=0), progress=False)
    _, ckpt = load_checkpoint(tmp_path / "p.pt")
    assert ckpt["jaspar"] == [] and ckpt["train_config"]["kmer_init"] == 0.0
    assert ckpt["train_config"]["seed_threshold"] == 0.0
    # a config stored before the seed threshold existed was seeded with U(-1, 0) biases
    old = dict(TrainConfig().to_dict())
    del old["seed_threshold"]
    assert TrainConfig.from_dict(old).seed_threshold == 0.0
    assert TrainConfig.from_dict(TrainConfig().to_dict()).seed_threshold == 0.5


def test_kmer_seeds_leave_jaspar_seeded_kernels_alone_and_write_the_motif(tmp_path, monkeypatch):
    import motifq.train as T

    tok, y = planted(400, length=80)
    train = _split(tok, y)
    mc = ModelConfig.for_kind("danq-jaspar", n_targets=2, length=80, conv_kernels=12, conv_width=20, pool=8,
                              lstm_units=4, dense=8)
    tc = TrainConfig(jaspar_init="jaspar2024:MA0139.2,MA0080.7,MA0506.3", jaspar_fraction=0.25, kmer_init=0.5)
    model, seeded = T._new_model(mc, train, tc, np.zeros(2))
    jaspar = [d for d in seeded if not d["motif_id"].startswith("kmer:")]
    kmers = [d for d in seeded if d["motif_id"].startswith("kmer:")]
    assert len(jaspar) == 3 and 2 <= len(kmers) <= 6
    assert not {d["kernel"] for d in jaspar} & {d["kernel"] for d in kmers}
    d = kmers[0]
    m = word_motif(tok[y[:, ["ap1", "cg"].index(d["name"])] > 0], d["motif_id"][5:], 4)
    w = model.conv.weight[d["kernel"], :, d["offset"]:d["offset"] + d["width"]]
    assert torch.allclose(w, torch.as_tensor(m.probabilities().T - 0.25, dtype=w.dtype))
    with pytest.raises(Exception, match="kmer-init: must be in"):
        TrainConfig(kmer_init=1.5)

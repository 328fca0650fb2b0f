import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

from motifq.errors import MotifqError
from motifq.sequence import (ACGT, AGCT, convert_order, detokenize, one_hot, one_hot_to_tokens, read_fasta,
                             reverse_complement, reverse_complement_one_hot, reverse_complement_tokens,
                             tokenize, tokens_to_one_hot, write_fasta)

dna = st.text(alphabet="ACGTN", min_size=1, max_size=50)


def test_one_hot_orders():
    x = one_hot("ACGTN", ACGT)
    assert x.shape == (4, 5)
    assert np.array_equal(x[:, :4], np.eye(4))
    assert np.allclose(x[:, 4], 0.25)
    y = one_hot("ACGT", AGCT)  # channels A, G, C, T
    assert y[1, 2] == 1 and y[2, 1] == 1  # G in channel 1, C in channel 2
    assert np.array_equal(convert_order(y, AGCT, ACGT), x[:, :4])


def test_iupac_codes_are_n_and_illegal_characters_fail():
    assert list(tokenize("ACGTNRYacgtu")) == [0, 1, 2, 3, 4, 4, 4, 0, 1, 2, 3, 3]
    with pytest.raises(MotifqError, match="illegal character '-' at position 3"):
        tokenize("AC-T")


@given(dna)
def test_reverse_complement_twice_is_identity(seq):
    assert reverse_complement(reverse_complement(seq)) == seq
    x = one_hot(seq)
    assert np.array_equal(reverse_complement_one_hot(reverse_complement_one_hot(x)), x)
    assert np.array_equal(reverse_complement_one_hot(x), one_hot(reverse_complement(seq)))
    # same in the DeepSEA order
    assert np.array_equal(reverse_complement_one_hot(one_hot(seq, AGCT)), one_hot(reverse_complement(seq), AGCT))
    t = tokenize(seq)
    assert detokenize(reverse_complement_tokens(t)) == reverse_complement(seq)
    assert torch.equal(reverse_complement_tokens(torch.from_numpy(t.astype(np.int64))),
                       torch.from_numpy(reverse_complement_tokens(t).astype(np.int64)))


@given(dna)
def test_tokens_round_trip(seq):
    t = tokenize(seq)
    assert detokenize(t) == seq
    for order in (ACGT, AGCT):
        assert np.array_equal(one_hot_to_tokens(tokens_to_one_hot(t, order), order), t)


def test_fasta_round_trip_and_errors(tmp_path):
    p = tmp_path / "s.fa"
    write_fasta(p, ["a", "b"], ["ACGT" * 20, "NNNN"])
    names, seqs = read_fasta(p)
    assert names == ["a", "b"] and seqs == ["ACGT" * 20, "NNNN"]
    bad = tmp_path / "bad.fa"
    bad.write_text(">x\nACGZ\n")
    with pytest.raises(MotifqError, match=r"bad.fa: record 'x': illegal character 'Z'"):
        read_fasta(bad)
    notfasta = tmp_path / "n.fa"
    notfasta.write_text("hello\n")
    with pytest.raises(MotifqError, match="not FASTA"):
        read_fasta(notfasta)
    with pytest.raises(MotifqError, match="no such file"):
        read_fasta(tmp_path / "missing.fa")


def test_unequal_lengths_rejected():
    with pytest.raises(MotifqError, match="lengths differ"):
        one_hot(["ACGT", "ACG"])

"""The simulator: labels follow the saved rules exactly, planted bases are motif samples, seeds
reproduce, rates are as intended, and the CLI writes a readable dataset or nothing."""
import json

import numpy as np
import pytest

from motifq.cli import main
from motifq.data import open_data
from motifq.data.dataset import open_split, read_info
from motifq.data.simulate import (DEFAULT_MOTIFS, HUMAN_DINUCLEOTIDES, make_rules, markov_background,
                                  read_truth, rule_labels, simulate, simulate_dataset, target_kinds)
from motifq.errors import MotifqError
from motifq.jaspar import load_motifs

COMP = np.array([3, 2, 1, 0])


@pytest.fixture(scope="module")
def simdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("sim") / "data"
    simulate_dataset(path, n_train=3000, n_valid=500, n_test=500, length=1000, seed=7)
    return path


def _naive_labels(rows, targets, n, length):
    """Labels recomputed from instance rows with plain loops, reading '-' pairs on the reverse
    complement (an independent formulation of the rules)."""
    out = np.zeros((n, len(targets)), dtype=np.uint8)
    by_seq = {}
    for r in rows:
        by_seq.setdefault(r["sequence"], []).append(r)
    for j, t in enumerate(targets):
        for s, inst in by_seq.items():
            if t["kind"] == "presence":
                out[s, j] = any(r["motif"] == t["motif"] for r in inst)
            elif t["kind"] == "cluster":
                starts = [r for r in inst if r["motif"] == t["motif"]]
                for a in starts:   # some window [a.start, a.start + window) holds k whole copies
                    inside = [b for b in starts if b["start"] >= a["start"] and b["end"] <= a["start"] + t["window"]]
                    if len(inside) >= t["min_copies"]:
                        out[s, j] = 1
            elif t["kind"] == "grammar":
                for a in inst:
                    for b in inst:
                        if a["motif"] != t["first"] or b["motif"] != t["second"] or a["strand"] != b["strand"]:
                            continue
                        if a["strand"] == "+":
                            gap = b["start"] - a["end"]
                        else:   # coordinates on the reverse complement
                            gap = (length - b["end"]) - (length - a["start"])
                        if t["min_gap"] <= gap <= t["max_gap"]:
                            out[s, j] = 1
    return out


def _rows(inst, split):
    keep = np.flatnonzero(inst["split"] == split)
    return [{c: (int(inst[c][i]) if c in ("sequence", "start", "end", "unit") else inst[c][i]) for c in inst} for i in keep]


def test_labels_follow_the_saved_rules_exactly(simdir):
    motifs, rules, inst = read_truth(simdir)
    info = read_info(simdir)
    assert info["targets"] == [t["name"] for t in rules["targets"]]
    for split in ("train", "valid", "test"):
        data = open_split(simdir, split)
        labels = data.labels()
        naive = _naive_labels(_rows(inst, split), rules["targets"], len(data), data.length)
        rule_cols = [j for j, t in enumerate(rules["targets"]) if t["kind"] != "noise"]
        np.testing.assert_array_equal(labels[:, rule_cols], naive[:, rule_cols])
        np.testing.assert_array_equal(labels[:, rule_cols], rule_labels(inst, rules["targets"], len(data), split)[:, rule_cols])


def test_every_instance_is_a_sample_of_its_motif_on_its_strand(simdir):
    motifs, rules, inst = read_truth(simdir)
    probs = {m.id: m.probabilities() for m in motifs}
    tokens = open_split(simdir, "train").tokens
    rows = _rows(inst, "train")
    assert len(rows) > 500
    for r in rows:
        site = np.asarray(tokens[r["sequence"], r["start"]:r["end"]], dtype=int)
        if r["strand"] == "-":
            site = COMP[site[::-1]]
        p = probs[r["motif"]]
        assert len(site) == len(p)
        assert (p[np.arange(len(p)), site] > 0).all()     # sampled from the PFM (no pseudocount)
    # strand matters: for the long, asymmetric REST motif the site scores far better read on its
    # own strand than on the other one
    lo = {m.id: np.log2(m.probabilities(0.1) / 0.25) for m in motifs}
    rest = [r for r in rows if r["name"] == "REST"]
    better = 0
    for r in rest:
        fwd = np.asarray(tokens[r["sequence"], r["start"]:r["end"]], dtype=int)
        own, other = (fwd, COMP[fwd[::-1]]) if r["strand"] == "+" else (COMP[fwd[::-1]], fwd)
        w = np.arange(len(fwd))
        better += lo[r["motif"]][w, own].sum() > lo[r["motif"]][w, other].sum() + 10
    assert len(rest) > 100 and better > 0.95 * len(rest)


def test_instances_do_not_overlap_and_roles_hold(simdir):
    _, rules, inst = read_truth(simdir)
    for split in ("train", "test"):
        rows = sorted(_rows(inst, split), key=lambda r: (r["sequence"], r["start"]))
        for a, b in zip(rows, rows[1:]):
            if a["sequence"] == b["sequence"]:
                assert a["end"] <= b["start"]
    labels = open_split(simdir, "train").labels()
    names = [t["name"] for t in rules["targets"]]
    rows = _rows(inst, "train")
    for t in rules["targets"]:
        if t["kind"] != "grammar":
            continue
        j = names.index(t["name"])
        pos = {r["sequence"] for r in rows if r["role"] == f"{t['name']}:positive"}
        decoys = {r["sequence"] for r in rows if r["role"].startswith(f"{t['name']}:decoy")}
        assert len(pos) > 50 and len(decoys) > 50
        assert labels[sorted(pos), j].all()                 # planted positives are positive
        assert labels[sorted(decoys), j].mean() < 0.1        # decoys mostly not (chance pairs aside)
        gaps = [t["min_gap"], t["max_gap"]]
        assert gaps[0] > 13                                   # more than one DanQ pooling window


def test_same_seed_same_data_other_seed_differs():
    a = simulate(300, 50, 50, length=400, seed=3)
    b = simulate(300, 50, 50, length=400, seed=3)
    c = simulate(300, 50, 50, length=400, seed=4)
    for k in a.splits:
        np.testing.assert_array_equal(a.splits[k].tokens, b.splits[k].tokens)
        np.testing.assert_array_equal(a.splits[k].packed_labels, b.splits[k].packed_labels)
        assert not np.array_equal(a.splits[k].tokens, c.splits[k].tokens)
    for col in a.instances:
        assert list(a.instances[col]) == list(b.instances[col])
    # each split has its own stream: the test split does not depend on the training size
    d = simulate(100, 50, 50, length=400, seed=3)
    np.testing.assert_array_equal(a.splits["test"].tokens, d.splits["test"].tokens)


@pytest.mark.slow
def test_positive_rates_in_intended_range():
    sim = simulate(20000, 0, 0, seed=11)
    split = sim.splits["train"]
    rates = dict(zip(split.targets, split.labels().mean(axis=0)))
    kinds = target_kinds(sim.rules)
    assert sorted(set(kinds.values())) == ["cluster", "grammar", "noise", "presence"]
    assert list(kinds.values()).count("presence") == 8 and list(kinds.values()).count("grammar") == 2
    for name, rate in rates.items():
        lo, hi = {"presence": (0.02, 0.12), "grammar": (0.02, 0.045), "cluster": (0.02, 0.05),
                  "noise": (0.02, 0.04)}[kinds[name]]
        assert lo <= rate <= hi, (name, rate)
    # about two thirds of the sequences carry no planted motif (in real data ~10 % are all-negative)
    assert 0.55 < (split.labels()[:, [j for j, t in enumerate(split.targets) if kinds[t] != "noise"]].sum(1) == 0).mean() < 0.75


def test_background_is_human_like():
    tok = markov_background(2000, 1000, np.random.default_rng(0))
    assert tok.dtype == np.uint8 and tok.shape == (2000, 1000) and tok.max() <= 3
    gc = np.isin(tok, [1, 2]).mean()
    assert abs(gc - 0.41) < 0.01
    di = tok[:, :-1].astype(int) * 4 + tok[:, 1:]
    f = np.bincount(di.ravel(), minlength=16) / di.size
    mono = np.bincount(tok.ravel(), minlength=4) / tok.size
    assert 0.2 < f[6] / (mono[1] * mono[2]) < 0.3                  # CpG depleted
    expect = HUMAN_DINUCLEOTIDES / HUMAN_DINUCLEOTIDES.sum()
    np.testing.assert_allclose(f.reshape(4, 4), expect, atol=0.003)


def test_grammar_pairs_avoid_palindromes():
    motifs = load_motifs(DEFAULT_MOTIFS)
    rules = make_rules(motifs)
    names = {m.id: m.name for m in motifs}
    grammar = [(names[r["first"]], names[r["second"]]) for r in rules if r["kind"] == "grammar"]
    assert grammar == [("Spi1", "ESRRB"), ("REST", "GATA1::TAL1")]
    assert [names[r["motif"]] for r in rules if r["kind"] == "cluster"] == ["CEBPB"]
    # fewer motifs: fewer grammar rules, never an error
    assert [r["kind"] for r in make_rules(motifs[:1], n_noise=1)] == ["presence", "cluster", "noise"]
    assert [r["kind"] for r in make_rules(motifs[:3])].count("grammar") == 1


def test_rule_labels_hand_made_cases():
    rules = [{"name": "g", "kind": "grammar", "first": "A", "second": "B", "min_gap": 15, "max_gap": 45, "same_strand": True},
             {"name": "c", "kind": "cluster", "motif": "A", "min_copies": 3, "window": 100}]
    rows = [  # seq, start, end, strand, motif
        (0, 10, 20, "+", "A"), (0, 35, 45, "+", "B"),     # gap 15, + : positive
        (1, 35, 45, "-", "A"), (1, 10, 20, "-", "B"),     # - strand, B left of A, gap 15: positive
        (2, 10, 20, "+", "B"), (2, 35, 45, "+", "A"),     # wrong order
        (3, 10, 20, "+", "A"), (3, 35, 45, "-", "B"),     # opposite strands
        (4, 10, 20, "+", "A"), (4, 66, 76, "+", "B"),     # gap 46: too far
        (5, 10, 20, "+", "A"), (5, 40, 50, "-", "A"), (5, 90, 100, "+", "A"),  # 3 copies in 90 bp
        (6, 10, 20, "+", "A"), (6, 40, 50, "-", "A"), (6, 101, 111, "+", "A"),  # spread over 101 bp
    ]
    inst = {c: np.array([r[i] for r in rows]) for i, c in enumerate(["sequence", "start", "end", "strand", "motif"])}
    lab = rule_labels(inst, rules, 7)
    assert lab[:, 0].tolist() == [1, 1, 0, 0, 0, 0, 0]
    assert lab[:, 1].tolist() == [0, 0, 0, 0, 0, 1, 0]


def test_custom_motifs_and_errors(tmp_path):
    sim = simulate(200, 0, 20, length=300, motifs="jaspar2024:CTCF,REST", seed=1)
    assert list(sim.splits) == ["train", "test"]
    assert sim.splits["train"].targets == ["CTCF", "REST", "grammar_REST_then_CTCF", "cluster_RESTx3", "noise_1", "noise_2"]
    with pytest.raises(MotifqError, match="length"):
        simulate(10, 0, 0, length=50)
    with pytest.raises(MotifqError, match="distinct"):
        simulate(10, 0, 0, motifs="jaspar2024:CTCF,CTCF")
    with pytest.raises(MotifqError, match="empty"):
        simulate(0, 0, 0)


def test_cli_simulate(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", "-o", str(out), "--n-train", "400", "--n-valid", "50", "--n-test", "60",
                 "--length", "500", "--seed", "5", "--motifs", "jaspar2024:MA0139.2,MA0138.3,Spi1,ESRRB"]) == 0
    err = capsys.readouterr().err
    assert "train positive rates" in err and "wrote" in err
    data = open_data(out, "test")
    assert data.tokens.shape == (60, 500) and data.targets[:4] == ["CTCF", "REST", "Spi1", "ESRRB"]
    info = json.loads((out / "dataset.json").read_text())
    assert info["simulation"]["target_kinds"][:4] == ["presence"] * 4
    motifs, rules, inst = read_truth(out / "truth")
    assert [m.id for m in motifs] == ["MA0139.2", "MA0138.3", "MA0080.7", "MA0141.4"]
    assert set(inst["split"]) == {"train", "valid", "test"}
    # the same command gives the same bytes
    again = tmp_path / "again"
    assert main(["-q", "simulate", "-o", str(again), "--n-train", "400", "--n-valid", "50", "--n-test", "60",
                 "--length", "500", "--seed", "5", "--motifs", "jaspar2024:MA0139.2,MA0138.3,Spi1,ESRRB"]) == 0
    for f in ("train.tokens.npy", "train.labels.npy", "truth/instances.tsv"):
        assert (out / f).read_bytes() == (again / f).read_bytes()


def test_cli_simulate_bad_input_writes_nothing(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", "-o", str(out), "--motifs", "jaspar2024:NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err
    assert main(["simulate", "-o", str(out), "--length", "20"]) == 2
    assert not out.exists()

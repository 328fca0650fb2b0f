"""The command-line contract, for every command (docs/errors.md): a bad value, file, checkpoint or
output path gives exit status 2 and one line ``motifq: error: ...`` on stderr, no traceback, no
output, nothing overwritten, nothing executed.

The commands are read from the parser, so a command added later is covered by the generic tests
(bad output paths, bad numbers, bad devices) without editing this file."""
from __future__ import annotations

import argparse
import os
import pickle

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motifq.cli import build_parser, main
from motifq.config import ModelConfig
from motifq.models import build_model, save_checkpoint


# ---------------------------------------------------------------------------------------------
# the commands, from the parser
# ---------------------------------------------------------------------------------------------
def _leaves(parser, prefix=()):
    """(argv prefix, parser) of every command that runs (motifs info, motifs convert, train, ...)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _leaves(sub, prefix + (name,))
            return
    yield prefix, parser


COMMANDS = dict(_leaves(build_parser()))


def _output_action(parser):
    return next(a for a in parser._actions if a.dest == "output")


def _argv(name: tuple, output: str, missing: str) -> list:
    """A command line that names `output` as the output and `missing` (no such file) for every
    input: so only the output (or an option under test) can be what is wrong first."""
    parser = COMMANDS[name]
    argv = list(name)
    for a in parser._actions:
        if a.option_strings:
            if a.required and a.dest != "output":
                argv += [a.option_strings[-1], missing]
        elif a.dest == "output":
            argv.append(output)
        elif a.dest != "help":
            argv.append(missing)
    for group in parser._mutually_exclusive_groups:      # e.g. scan's --fasta | --data
        if group.required:
            argv += [group._group_actions[0].option_strings[-1], missing]
    out = _output_action(parser)
    if out.option_strings:
        argv += ["-o", output]
    return argv


def _one_line_error(capsys, *must) -> str:
    cap = capsys.readouterr()
    err = cap.err
    assert err.count("\n") == 1 and err.startswith("motifq: error: "), err
    assert "Traceback" not in err and "weights_only=False" not in err
    for m in must:
        assert m in err, err
    return err


def _tree(path) -> dict:
    """Every file under `path` with its bytes (links as their target)."""
    out = {}
    for root, dirs, files in os.walk(path):
        for f in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            p = os.path.join(root, f)
            out[os.path.relpath(p, path)] = os.readlink(p) if os.path.islink(p) else open(p, "rb").read()
    return out


def test_every_command_declares_an_output():
    assert len(COMMANDS) >= 12
    for name, parser in COMMANDS.items():
        out = _output_action(parser)
        assert parser.get_default("output_kind") in ("file", "dir"), name
        assert not out.option_strings or out.option_strings[:2] == ["-o", "--output"], name


@pytest.mark.parametrize("name", list(COMMANDS), ids=" ".join)
def test_every_command_refuses_bad_output_paths_first(name, tmp_path, capsys):
    kind = COMMANDS[name].get_default("output_kind")
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "a_file").write_bytes(b"keep me")
    bad = [tmp_path / "a_file" / "below_a_file"]
    bad.append(tmp_path / ("a_folder" if kind == "file" else "a_file"))
    if kind == "file":
        bad.append("/dev/null")
    before = _tree(tmp_path)
    for out in bad:
        assert main(_argv(name, str(out), str(tmp_path / "missing.input"))) == 2
        _one_line_error(capsys, "output")
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("name", list(COMMANDS), ids=" ".join)
def test_every_command_refuses_a_read_only_output_folder(name, tmp_path, capsys, monkeypatch):
    ro = tmp_path / "read_only"
    ro.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(ro) else real(p, mode))
    out = ro / "out" if COMMANDS[name].get_default("output_kind") == "dir" else ro / "out.txt"
    assert main(_argv(name, str(out), str(tmp_path / "missing.input"))) == 2
    _one_line_error(capsys, "not writable")
    assert list(ro.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# numbers and devices: every typed option of every command
# ---------------------------------------------------------------------------------------------
def _typed_options():
    for name, parser in COMMANDS.items():
        for a in parser._actions:
            if a.option_strings and hasattr(a.type, "bounds"):
                yield name, a.option_strings[-1], a.type.bounds
            elif a.option_strings and getattr(a.type, "__name__", "") == "_device":
                yield name, a.option_strings[-1], "device"


TYPED = list(_typed_options())


def _bad_values(bounds) -> list:
    if bounds == "device":
        return ["tpu", "cuda:x", "", "gpu0"]
    kind, low, high, exclusive = bounds
    out = ["nan", "inf", "-inf", "1e999", "abc", ""]
    if kind is int:
        out += ["2.5", "1e9.5"]
    if low is not None:
        out.append(str(low if exclusive else (low - 1 if kind is int else low - 0.5)))
    if high is not None:
        out.append(str(high + 1 if kind is int else high + 0.5))
    return out


def test_typed_options_cover_the_commands():
    names = {n[0] for n, _, _ in TYPED}
    assert {"train", "predict", "evaluate", "extract-motifs", "compare", "cluster", "simulate", "quickstart",
            "logos"} <= names
    flags = {(n[0], f) for n, f, _ in TYPED}
    for case in [("train", "--lr"), ("train", "--seed"), ("train", "--weight-decay"), ("train", "--conv-kernels"),
                 ("simulate", "--seed"), ("cluster", "--cor"), ("predict", "--device")]:
        assert case in flags


@pytest.mark.parametrize("name,flag,bounds", TYPED, ids=[f"{' '.join(n)} {f}" for n, f, _ in TYPED])
def test_bad_numbers_and_devices_are_refused_while_parsing(name, flag, bounds, tmp_path, capsys):
    out = str(tmp_path / ("out" if COMMANDS[name].get_default("output_kind") == "dir" else "out.txt"))
    for value in _bad_values(bounds):
        assert main(_argv(name, out, str(tmp_path / "missing")) + [f"{flag}={value}"]) == 2
        _one_line_error(capsys, flag)
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=st.sampled_from(TYPED), value=st.one_of(
    st.text(max_size=12), st.floats().map(repr), st.integers(-10 ** 20, 10 ** 20).map(str),
    st.sampled_from(["nan", "-0", "1e999", "0x10", "1_000", " 3 ", "inf", "--", "-1"])))
def test_any_option_value_is_ok_or_one_line(case, value, tmp_path_factory, capsys):
    """Whatever the value, the command either takes it or says why in one line; the output path
    is bad, so a value that is taken still stops the command before any work."""
    name, flag, _ = case
    tmp = tmp_path_factory.mktemp("fuzz")
    (tmp / "file").write_text("x")
    out = str(tmp / "file" / "below")
    assert main(_argv(name, out, str(tmp / "missing")) + [f"{flag}={value}"]) == 2
    _one_line_error(capsys)
    assert sorted(p.name for p in tmp.iterdir()) == ["file"]


# ---------------------------------------------------------------------------------------------
# the cases of issue 15, by hand
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def tiny(tmp_path):
    """A tiny DanQ checkpoint (length 60, targets a and b), a FASTA of 6 records and labels."""
    cfg = ModelConfig.for_kind("danq", n_targets=2, length=60, conv_kernels=4, conv_width=5, pool=5,
                               lstm_units=3, dense=4)
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "m.pt", build_model(cfg), targets=["a", "b"])
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), 60)) for _ in range(6)]
    (tmp_path / "s.fa").write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    (tmp_path / "l.tsv").write_text("a\tb\n" + "".join(f"{i % 2}\t{(i // 2) % 2}\n" for i in range(6)))
    return tmp_path


def _bad_checkpoint(tiny, name, edit):
    ckpt = torch.load(tiny / "m.pt", weights_only=True)
    edit(ckpt)
    torch.save(ckpt, tiny / name)
    return str(tiny / name)


def _set(*keys, value):
    def edit(ckpt):
        d = ckpt
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value
    return edit


BAD_CHECKPOINTS = {
    "conv_kernels 1e9": (_set("model_config", "conv_kernels", value=10 ** 9), "conv-kernels"),
    "conv_kernels 2.5": (_set("model_config", "conv_kernels", value=2.5), "conv-kernels"),
    "length 1e15": (_set("model_config", "length", value=10 ** 15), "length"),
    "targets 5": (_set("targets", value=5), "targets"),
    "state_dict x": (_set("state_dict", value="x"), "state_dict"),
    "all NaN": (lambda c: [v.fill_(float("nan")) for v in c["state_dict"].values() if v.is_floating_point()], "NaN"),
    "kind 5": (_set("model_config", "kind", value=5), "kind"),
}


@pytest.mark.parametrize("case", list(BAD_CHECKPOINTS))
def test_bad_checkpoints(case, tiny, capsys):
    edit, word = BAD_CHECKPOINTS[case]
    path = _bad_checkpoint(tiny, "bad.pt", edit)
    out = tiny / "p.tsv"
    assert main(["predict", path, str(tiny / "s.fa"), "-o", str(out)]) == 2
    _one_line_error(capsys, "bad.pt", word)
    assert not out.exists()
    assert main(["extract-motifs", path, "--fasta", str(tiny / "s.fa"), "-o", str(tiny / "x.meme")]) == 2
    _one_line_error(capsys, "bad.pt")


class _Payload:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_malicious_checkpoint_is_refused_without_advice_to_load_it(tiny, capsys):
    ckpt = torch.load(tiny / "m.pt", weights_only=True)
    ckpt["metrics"] = [_Payload(str(tiny / "ran"))]
    with open(tiny / "evil.pt", "wb") as fh:
        torch.save(ckpt, fh)
    assert main(["predict", str(tiny / "evil.pt"), str(tiny / "s.fa")]) == 2
    err = _one_line_error(capsys, "evil.pt", "not a motifq checkpoint")
    assert "weights_only" not in err
    assert not (tiny / "ran").exists()
    (tiny / "pickle.pt").write_bytes(pickle.dumps(_Payload(str(tiny / "ran"))))
    assert main(["predict", str(tiny / "pickle.pt"), str(tiny / "s.fa")]) == 2
    _one_line_error(capsys, "pickle.pt")
    assert not (tiny / "ran").exists()


def _train_argv(tiny, *more):
    return ["train", "--fasta", str(tiny / "s.fa"), "--labels", str(tiny / "l.tsv"), "--conv-kernels", "4",
            "--conv-width", "5", "--pool", "5", "--lstm-units", "3", "--dense", "4", "--epochs", "1",
            "--device", "cpu", "-o", str(tiny / "t.pt"), *more]


@pytest.mark.parametrize("more,word", [
    (["--lr", "inf"], "--lr"), (["--lr", "0"], "lr"), (["--seed", "-1"], "--seed"),
    (["--weight-decay", "-1"], "weight-decay"), (["--weight-decay", "nan"], "--weight-decay"),
    (["--conv-kernels", "1000000000"], "conv-kernels"), (["--conv-kernels", "2.5"], "--conv-kernels"),
    (["--device", "tpu"], "--device"), (["--optimizer", "sgd"], "optimizer"), (["--dropouts", "0.2,1.5"], "dropouts"),
    (["--valid-fraction", "1"], "valid-fraction"), (["--model", "rnn"], "rnn"),
])
def test_train_refuses_bad_options_before_reading_data(more, word, tiny, capsys):
    argv = _train_argv(tiny, *more)
    argv[argv.index("--fasta") + 1] = str(tiny / "missing.fa")   # would be the error if read first
    assert main(argv) == 2
    _one_line_error(capsys, word)
    assert not (tiny / "t.pt").exists() and not (tiny / "t.last.pt").exists()


def test_train_output_folder_refused_before_training(tiny, capsys):
    (tiny / "d").mkdir()
    argv = _train_argv(tiny)
    argv[-1] = str(tiny / "d")
    assert main(argv) == 2
    _one_line_error(capsys, "is a folder")
    assert not (tiny / "d.last.pt").exists() and list((tiny / "d").iterdir()) == []


@pytest.mark.parametrize("resume", [{}, "x", "param_groups"])
def test_bad_resume_states_refused_before_training(resume, tiny, capsys):
    def edit(ckpt):
        if resume == "param_groups":
            ckpt["resume"] = {"epoch": 0, "batch": 0, "step": 1, "best_loss": 1.0, "bad_epochs": 0, "loss_sum": 0.0,
                              "loss_count": 0, "optimizer": {"state": {}, "param_groups": []},
                              "rng": {"torch": torch.get_rng_state()}, "world_size": 1, "seconds": 0.0}
        else:
            ckpt["resume"] = resume
    _bad_checkpoint(tiny, "t.last.pt", edit)
    before = (tiny / "t.last.pt").read_bytes()
    assert main(_train_argv(tiny, "--resume")) == 2
    _one_line_error(capsys, "t.last.pt")
    assert not (tiny / "t.pt").exists() and (tiny / "t.last.pt").read_bytes() == before


def test_labels_with_empty_cells_refused(tiny, capsys):
    (tiny / "l.tsv").write_text("a\tb\tc\n01\t\t1\n")
    argv = _train_argv(tiny)
    assert main(argv) == 2
    _one_line_error(capsys, "l.tsv", "line 2")


@pytest.mark.parametrize("header,word", [("w= nan", "w= nan"), ("w= 1e999", "w= 1e999"), ("alength= nan", "alength"),
                                         ("w= 2.5", "w= 2.5"), ("nsites= inf", "nsites"), ("nsites= -3", "nsites")])
def test_bad_meme_headers(header, word, tmp_path, capsys):
    f = tmp_path / "m.meme"
    f.write_text(f"MEME version 4\n\nMOTIF a\nletter-probability matrix: {header}\n"
                 "0.25 0.25 0.25 0.25\n1 0 0 0\n\n")
    for argv in (["motifs", "info", str(f)], ["compare", str(f), "jaspar2016:CTCF"]):
        assert main(argv) == 2
        _one_line_error(capsys, "m.meme", word)


def test_huge_jaspar_counts(tmp_path, capsys):
    f = tmp_path / "m.jaspar"
    f.write_text(">a\nA [ 1e308 1 ]\nC [ 1e308 1 ]\nG [ 0 1 ]\nT [ 0 1 ]\n")
    assert main(["motifs", "info", str(f)]) == 2
    _one_line_error(capsys, "m.jaspar")


def test_cluster_cor_nan(tmp_path, capsys):
    assert main(["cluster", "jaspar2024:CTCF,REST,GATA1", "--cor", "nan", "-o", str(tmp_path / "c")]) == 2
    _one_line_error(capsys, "--cor")
    assert not (tmp_path / "c").exists()


def _dataset(tmp_path, splits=None, token=None):
    from motifq.data.dataset import Split, write_dataset

    rng = np.random.default_rng(0)
    s = Split.from_arrays(rng.integers(0, 4, (5, 60)), rng.integers(0, 2, (5, 2)), ["a", "b"])
    d = write_dataset(tmp_path / "ds", {"train": s, "valid": s, "test": s})
    if splits is not None:
        import json

        info = json.loads((d / "dataset.json").read_text())
        info["splits"] = splits
        (d / "dataset.json").write_text(json.dumps(info))
    if token is not None:
        tokens = np.load(d / "test.tokens.npy")
        tokens[3, 7] = token
        np.save(d / "test.tokens.npy", tokens)
    return d


@pytest.mark.parametrize("kw,word", [(dict(splits=[5, 5, 5]), "splits"), (dict(token=77), "token 77")])
def test_bad_dataset_folders(kw, word, tiny, capsys):
    d = _dataset(tiny, **kw)
    assert main(["extract-motifs", str(tiny / "m.pt"), "--data", str(d), "-o", str(tiny / "x.meme")]) == 2
    _one_line_error(capsys, word)
    assert not (tiny / "x.meme").exists()


@pytest.mark.parametrize("content,word", [(bytes(range(256)) * 4, "matches"),
                                          (b"Query_ID\tTarget_ID\tOptimal_offset\tp-value\tE-value\tOrientation\n"
                                           b"a\tMA0139.2\tabc\t0.1\t0.1\t+\n", "Optimal_offset"),
                                          (b"Query_ID\tTarget_ID\tOptimal_offset\tp-value\tE-value\tOrientation\n"
                                           b"MA0139.2\tMA0139.2\t999\t0.1\t0.1\t+\n", "Optimal_offset"),
                                          (b"Query_ID\tTarget_ID\n", "missing columns")])
def test_logos_bad_matches(content, word, tmp_path, capsys):
    m = tmp_path / "matches.tsv"
    m.write_bytes(content)
    assert main(["logos", "jaspar2024:CTCF", "--matches", str(m), "--db", "jaspar2024", "-o", str(tmp_path / "l")]) == 2
    _one_line_error(capsys, word)
    assert not (tmp_path / "l").exists()


def test_predict_reads_the_fasta_before_the_checkpoint(tiny, capsys):
    (tiny / "bad.fa").write_text(">x\nACGTZZ\n")
    assert main(["predict", str(tiny / "missing.pt"), str(tiny / "bad.fa")]) == 2
    _one_line_error(capsys, "bad.fa")


# ---------------------------------------------------------------------------------------------
# planted links: commands that succeed replace the link and never write its target
# ---------------------------------------------------------------------------------------------
LINK_RUNS = [
    (["motifs", "info", "jaspar2024:CTCF", "-o"], "out.tsv", None),
    (["motifs", "convert", "jaspar2024:CTCF,REST"], "out.meme", None),
    (["compare", "jaspar2024:CTCF", "jaspar2024:CTCF,REST", "-o"], "out.tsv", None),
    (["simulate", "--n-train", "8", "--n-valid", "4", "--n-test", "4", "--length", "200", "-o"], "sim",
     "train.tokens.npy"),
    (["cluster", "jaspar2024:CTCF,REST,GATA1", "-o"], "clu", "clusters.tsv"),
    (["logos", "jaspar2024:CTCF", "-o"], "logos", "index.html"),
]


@pytest.mark.parametrize("argv,out,inner", LINK_RUNS, ids=[" ".join(a[:2]) for a, _, _ in LINK_RUNS])
def test_planted_links_are_replaced_not_followed(argv, out, inner, tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    target = tmp_path / out
    if inner:
        target.mkdir()
        target = target / inner
    target.symlink_to(victim)
    assert main(["-q", *argv, str(tmp_path / out)]) == 0
    assert victim.read_bytes() == b"precious"
    assert not target.is_symlink() and target.is_file()


# ---------------------------------------------------------------------------------------------
# random and mutated input files
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory):
    """tiny()'s files, made once for the hypothesis tests below."""
    path = tmp_path_factory.mktemp("tiny")
    _make_tiny(path)
    return path


def _make_tiny(path):
    cfg = ModelConfig.for_kind("danq", n_targets=2, length=60, conv_kernels=4, conv_width=5, pool=5,
                               lstm_units=3, dense=4)
    torch.manual_seed(0)
    save_checkpoint(path / "m.pt", build_model(cfg), targets=["a", "b"])
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), 60)) for _ in range(6)]
    (path / "s.fa").write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    _dataset(path)


INPUTS = {
    "motifs": lambda f, t: ["motifs", "info", f],
    "motifs-convert": lambda f, t: ["motifs", "convert", f, str(t / "o.jaspar")],
    "checkpoint": lambda f, t: ["predict", f, str(t / "s.fa"), "-o", str(t / "p.tsv")],
    "fasta": lambda f, t: ["predict", str(t / "m.pt"), f, "-o", str(t / "p.tsv")],
    "labels": lambda f, t: ["train", "--fasta", str(t / "s.fa"), "--labels", f, "--conv-kernels", "4", "--conv-width",
                            "5", "--pool", "5", "--lstm-units", "3", "--dense", "4", "--max-steps", "1",
                            "--device", "cpu", "-o", str(t / "fz.pt")],
    "matches": lambda f, t: ["logos", "jaspar2024:CTCF", "--matches", f, "--db", "jaspar2024", "-o", str(t / "lg")],
    "dataset.json": lambda f, t: ["extract-motifs", str(t / "m.pt"), "--data", str(t / "ds"), "-o", str(t / "x.meme")],
}


def _ok_or_one_line(rc, capsys):
    assert rc in (0, 2)
    if rc == 2:
        _one_line_error(capsys)
    else:
        assert "Traceback" not in capsys.readouterr().err


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(sorted(INPUTS)), data=st.one_of(
    st.binary(max_size=300), st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"\x00" * 64, b"MEME version 4\n", b">x\nACGT\n", b"PK\x03\x04", b"a\tb\n0\t\t1\n"])))
def test_any_bytes_as_any_input(kind, data, tiny_files, capsys):
    t = tiny_files
    f = t / "fuzzed"
    f.write_bytes(data)
    if kind == "dataset.json":
        (t / "ds" / "dataset.json").write_bytes(data)
    try:
        _ok_or_one_line(main(["-q", *INPUTS[kind](str(f), t)]), capsys)
    finally:
        if kind == "dataset.json":
            _dataset(t)


_MEME = ("MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\nBackground letter frequencies\n"
         "A 0.3 C 0.2 G 0.2 T 0.3\n\nMOTIF m1 alt\nletter-probability matrix: alength= 4 w= 3 nsites= 20 E= 0\n"
         "0.1 0.2 0.3 0.4\n0.25 0.25 0.25 0.25\n1 0 0 0\n\nURL http://x\n\n"
         "MOTIF m2\nletter-probability matrix: alength= 4 w= 2 nsites= 7.5 E= 1e-3\n0.5 0.5 0 0\n0 0 0.5 0.5\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.tuples(st.integers(0, len(_MEME.split(" ")) - 1),
                               st.sampled_from(["nan", "inf", "-1", "1e999", "abc", "", "0", "2", "4", "w=", "\n",
                                                "MOTIF", "letter-probability matrix:", "1e-400"])), min_size=1, max_size=3))
def test_mutated_meme_files(cuts, tmp_path_factory, capsys):
    words = _MEME.split(" ")
    for i, w in cuts:
        words[i] = w
    f = tmp_path_factory.mktemp("meme") / "m.meme"
    f.write_text(" ".join(words))
    _ok_or_one_line(main(["motifs", "convert", str(f), str(f.with_suffix(".jaspar"))]), capsys)


# ---------------------------------------------------------------------------------------------
# the commands added after issue 15: attribute, discover, scan, grammar, predict --bed,
# score-variants, simulate --genome, build-dataset
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def genome_files(tmp_path_factory):
    """tiny()'s model and FASTA, an indexed two-chromosome genome, a VCF of two SNVs, a BED
    region and an attributions file with one planted motif."""
    import pysam

    from motifq.attribute import save_attributions
    from test_attribute import _planted

    path = tmp_path_factory.mktemp("genome")
    _make_tiny(path)
    rng = np.random.default_rng(2)
    seqs = {c: "".join(rng.choice(list("ACGT"), n)) for c, n in (("chr1", 400), ("chr2", 300))}
    (path / "g.fa").write_text("".join(f">{c}\n{s}\n" for c, s in seqs.items()))
    pysam.faidx(str(path / "g.fa"))
    (path / "v.vcf").write_text("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=400>\n##contig=<ID=chr2,length=300>\n"
                                "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                                f"chr1\t101\trs1\t{seqs['chr1'][100]}\tN\t.\t.\t.\n"
                                f"chr2\t51\trs2\t{seqs['chr2'][50]}\tN\t.\t.\t.\n".replace("\tN\t", "\tA\t"))
    (path / "r.bed").write_text("chr1\t100\t300\n")
    res, _, _ = _planted(n=60, L=80)
    save_attributions(path / "attr.npz", res)
    return path


def _new_runs(t):
    """(argv, outputs written) of a successful run of each new command on genome_files()."""
    m, fa, g = str(t / "m.pt"), str(t / "s.fa"), str(t / "g.fa")
    return {
        "attribute": (["attribute", m, "--fasta", fa, "--target", "a", "--max-seqs", "2", "--plot", "1", "-o", "{o}/a.npz"],
                      ["a.npz", "a.logo1.png"]),
        "discover": (["discover", str(t / "attr.npz"), "--min-seqlets", "5", "--match", "jaspar2024:CTCF,REST,SPI1", "-o", "{o}/m.meme"],
                     ["m.meme", "seqlets.tsv", "matches.tsv"]),
        "scan": (["scan", "jaspar2024:CTCF", "--fasta", fa, "--thresh", "0.01", "-o", "{o}/hits.tsv"], ["hits.tsv"]),
        "grammar": (["grammar", m, "--motifs", "jaspar2024:MA0080.7,MA0141.4", "--n", "2", "--max-gap", "2", "--target", "a",
                     "-o", "{o}"], ["grammar.tsv", "pairs.tsv", "verdicts.txt", "map_MA0080.7_MA0141.4.png"]),
        "grammar marginal": (["grammar", m, "--motifs", "jaspar2024:MA0080.7", "--n", "2", "-o", "{o}"], ["marginal.tsv"]),
        "predict --bigwig": (["predict", m, "--bed", str(t / "r.bed"), "--genome", g, "--step", "50", "--bigwig", "{o}/p"],
                             ["p.a.bw", "p.b.bw"]),
        "predict --bedgraph": (["predict", m, "--bed", str(t / "r.bed"), "--genome", g, "--step", "50", "--bedgraph",
                                "{o}/p", "--targets", "b"], ["p.b.bedGraph"]),
        "score-variants": (["score-variants", m, "--vcf", str(t / "v.vcf"), "--genome", g, "-o", "{o}/e.tsv",
                            "--vcf-out", "{o}/a.vcf.gz"], ["e.tsv", "a.vcf.gz", "a.vcf.gz.tbi"]),
    }


NEW_RUNS = ["attribute", "discover", "scan", "grammar", "grammar marginal", "predict --bigwig", "predict --bedgraph",
            "score-variants"]


@pytest.mark.parametrize("run", NEW_RUNS)
def test_new_commands_replace_planted_links_at_every_output(run, genome_files, tmp_path, capsys):
    argv, outputs = _new_runs(genome_files)[run]
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    for name in outputs:
        (out / name).symlink_to(victim)
    assert main(["-q", *(a.replace("{o}", str(out)) for a in argv)]) == 0, capsys.readouterr().err
    assert victim.read_bytes() == b"precious"
    for name in outputs:
        assert not (out / name).is_symlink() and (out / name).is_file(), name
    if run == "discover":   # what motifq writes, others read
        from conftest import three_meme_readers_agree

        three_meme_readers_agree(out / "m.meme")


@pytest.mark.parametrize("run,folder", [("discover", "seqlets.tsv"), ("discover", "matches.tsv"),
                                        ("score-variants", "a.vcf.gz"), ("score-variants", "a.vcf.gz.tbi"),
                                        ("predict --bigwig", "p.b.bw"), ("predict --bedgraph", "p.b.bedGraph")])
def test_an_output_beside_the_output_that_is_a_folder(run, folder, genome_files, tmp_path, capsys):
    argv, _ = _new_runs(genome_files)[run]
    (tmp_path / folder).mkdir()
    assert main([a.replace("{o}", str(tmp_path)) for a in argv]) == 2
    _one_line_error(capsys, folder, "folder")
    assert [p.name for p in tmp_path.iterdir()] == [folder] and not any((tmp_path / folder).iterdir())


@pytest.mark.parametrize("run,flag", [("score-variants", "--vcf-out"), ("predict --bigwig", "--bigwig"),
                                      ("predict --bedgraph", "--bedgraph")])
def test_an_output_beside_the_output_in_a_read_only_folder(run, flag, genome_files, tmp_path, capsys, monkeypatch):
    argv, _ = _new_runs(genome_files)[run]
    ro = tmp_path / "read_only"
    ro.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(ro) else real(p, mode))
    argv = [a.replace("{o}", str(tmp_path)) for a in argv]
    argv[argv.index(flag) + 1] = str(ro / "x")
    assert main(argv) == 2
    _one_line_error(capsys, "not writable")
    assert list(ro.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["read_only"]


def test_dataset_folders_planted_as_links_are_refused(genome_files, tmp_path, capsys):
    victim = tmp_path / "victim"
    victim.mkdir()
    (tmp_path / "link").symlink_to(victim, target_is_directory=True)
    t = genome_files
    for argv in (["simulate", "--genome", "--chroms", "1", "--chrom-length", "40000"],
                 ["build-dataset", "--genome", str(t / "g.fa"), "--peaks", str(t / "r.bed"), "--window", "60"]):
        assert main([*argv, "-o", str(tmp_path / "link")]) == 2
        _one_line_error(capsys, "symbolic link")
    assert list(victim.iterdir()) == []


CHECKPOINT_COMMANDS = {
    "predict": lambda c, t, o: ["predict", c, str(t / "s.fa"), "-o", f"{o}/p.tsv"],
    "predict --bed": lambda c, t, o: ["predict", c, "--bed", str(t / "r.bed"), "--genome", str(t / "g.fa"),
                                      "--bigwig", f"{o}/p"],
    "attribute": lambda c, t, o: ["attribute", c, "--fasta", str(t / "s.fa"), "--target", "0", "-o", f"{o}/a.npz"],
    "grammar": lambda c, t, o: ["grammar", c, "--motifs", "jaspar2024:MA0080.7", "--n", "2", "-o", f"{o}/g"],
    "score-variants": lambda c, t, o: ["score-variants", c, "--vcf", str(t / "v.vcf"), "--genome", str(t / "g.fa"),
                                       "-o", f"{o}/e.tsv"],
    "extract-motifs": lambda c, t, o: ["extract-motifs", c, "--fasta", str(t / "s.fa"), "-o", f"{o}/x.meme"],
}


@pytest.mark.parametrize("command", list(CHECKPOINT_COMMANDS))
def test_every_checkpoint_reader_refuses_malicious_and_bad_checkpoints(command, genome_files, tmp_path, capsys):
    ckpt = torch.load(genome_files / "m.pt", weights_only=True)
    ckpt["metrics"] = [_Payload(str(tmp_path / "ran"))]
    torch.save(ckpt, tmp_path / "evil.pt")
    out = tmp_path / "out"
    assert main(CHECKPOINT_COMMANDS[command](str(tmp_path / "evil.pt"), genome_files, out)) == 2
    err = _one_line_error(capsys, "evil.pt", "not a motifq checkpoint")
    assert "weights_only" not in err and not (tmp_path / "ran").exists()
    for case in ("conv_kernels 1e9", "length 1e15", "state_dict x", "all NaN"):
        ckpt = torch.load(genome_files / "m.pt", weights_only=True)
        BAD_CHECKPOINTS[case][0](ckpt)
        torch.save(ckpt, tmp_path / "bad.pt")
        assert main(CHECKPOINT_COMMANDS[command](str(tmp_path / "bad.pt"), genome_files, out)) == 2
        _one_line_error(capsys, "bad.pt", BAD_CHECKPOINTS[case][1])
    assert not out.exists()


@pytest.mark.parametrize("edit,word", [
    (dict(names=np.array([_Payload("ran")] * 60, dtype=object)), "Object arrays cannot be loaded"),
    (dict(version=np.array("abc")), "version"), (dict(version=np.array([1, 1])), "version"),
    (dict(target_index=np.array(2.5)), "target_index"), (dict(target_index=np.array(-1)), "target_index"),
    (dict(method=np.array(["ism", "ism"])), "method"), (dict(target=np.array(["a", "b"])), "target"),
    (dict(logits=np.full(60, np.nan, dtype=np.float32)), "logits"), (dict(logits=np.array(["x"] * 60)), "logits"),
    (dict(names=np.zeros(60)), "names"), (dict(tokens=np.full((60, 80), 9, dtype=np.uint8)), "tokens"),
    (dict(attributions=np.full((60, 4, 80), np.inf, dtype=np.float32)), "NaN or infinite"),
])
def test_attributions_from_elsewhere(edit, word, genome_files, tmp_path, capsys, monkeypatch):
    """An attr.npz is never unpickled (allow_pickle=False): an object array is refused, its payload
    never runs; every entry is checked for type and shape."""
    monkeypatch.chdir(tmp_path)
    with np.load(genome_files / "attr.npz") as z:
        arrays = {k: z[k] for k in z.files}
    np.savez(tmp_path / "x.npz", **{**arrays, **edit})
    assert main(["discover", str(tmp_path / "x.npz"), "-o", str(tmp_path / "out" / "m.meme")]) == 2
    _one_line_error(capsys, "x.npz", word)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npz"]


TRAIN_NUMBERS = [f for n, f, b in TYPED if n == ("train",) and b != "device"]


def test_every_train_number_refuses_a_negative_before_reading_data(tiny, capsys):
    """Every numeric train option (the recipe's included, read from the parser) is range-checked by
    the config before the data are read."""
    assert {"--pos-weight-max", "--focal-gamma", "--prior-margin", "--warmup", "--clip-norm"} <= set(TRAIN_NUMBERS)
    for flag in TRAIN_NUMBERS:
        argv = _train_argv(tiny, f"{flag}=-1")
        argv[argv.index("--fasta") + 1] = str(tiny / "missing.fa")
        assert main(argv) == 2
        _one_line_error(capsys, flag.lstrip("-"))
    assert not (tiny / "t.pt").exists()


@pytest.mark.parametrize("value", ["-0.5", "1.5"])
def test_build_dataset_min_overlap_refused_before_reading_the_genome(value, tmp_path, capsys):
    (tmp_path / "p.bed").write_text("chr1\t0\t10\n")
    assert main(["build-dataset", "--genome", str(tmp_path / "missing.fa"), "--peaks", str(tmp_path / "p.bed"),
                 "--min-overlap", value, "-o", str(tmp_path / "ds")]) == 2
    _one_line_error(capsys, "min-overlap")


def test_genome_folder_replaced_whole_and_its_motifs_read_by_three_readers(tmp_path):
    """simulate --genome writes a temporary folder and renames it: a link planted in an earlier
    output is moved away with it, never followed; its motifs are read by the three MEME readers."""
    from conftest import three_meme_readers_agree

    argv = ["-q", "simulate", "--genome", "--chroms", "1", "--chrom-length", "40000", "--n-variants", "4",
            "-o", str(tmp_path / "g")]
    assert main(argv) == 0
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    for name in ("genome.fa", "truth/motifs.meme"):
        (tmp_path / "g" / name).unlink()
        (tmp_path / "g" / name).symlink_to(victim)
    assert main(argv) == 0
    assert victim.read_bytes() == b"precious" and sorted(p.name for p in tmp_path.iterdir()) == ["g", "victim"]
    assert not (tmp_path / "g" / "genome.fa").is_symlink()
    three_meme_readers_agree(tmp_path / "g" / "truth" / "motifs.meme")


def test_grammar_motif_ids_cannot_name_files_outside_the_output(genome_files, tmp_path, capsys):
    """grammar names its maps map_<a>_<b>.png after the motif IDs: an ID holding a path (a motif
    file from elsewhere) is refused before any work, nothing is written outside (or inside)."""
    meme = ("MEME version 4\n\nALPHABET= ACGT\n\nMOTIF ../../../{}\nletter-probability matrix: alength= 4 w= 4 nsites= 20\n"
            "1 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n\n")
    for name in ("a", "b"):
        (tmp_path / f"{name}.meme").write_text(meme.format(f"escaped_{name}"))
    out = tmp_path / "work" / "deep" / "out"
    assert main(["grammar", str(genome_files / "m.pt"), "--motifs", f"{tmp_path / 'a.meme'},{tmp_path / 'b.meme'}",
                 "--n", "2", "--max-gap", "2", "-o", str(out)]) == 2
    _one_line_error(capsys, "path separator")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.meme", "b.meme"]


def test_dataset_arrays_holding_pickles_are_never_loaded(tiny, capsys):
    d = _dataset(tiny)
    np.save(d / "test.tokens.npy", np.array([[_Payload(str(tiny / "ran"))] * 60] * 5, dtype=object), allow_pickle=True)
    for argv in (["scan", "jaspar2024:CTCF", "--data", str(d), "-o", str(tiny / "h.tsv")],
                 ["extract-motifs", str(tiny / "m.pt"), "--data", str(d), "-o", str(tiny / "x.meme")]):
        assert main(argv) == 2
        _one_line_error(capsys, "test.tokens.npy")
    assert not (tiny / "ran").exists() and not (tiny / "h.tsv").exists() and not (tiny / "x.meme").exists()


@pytest.mark.parametrize("run,folder", [("attribute", "a.logo1.png"), ("grammar", "grammar.tsv"), ("grammar", "verdicts.txt"),
                                        ("grammar", "map_MA0080.7_MA0141.4.png"), ("grammar marginal", "marginal.tsv")])
def test_a_file_the_command_writes_that_is_a_folder_is_refused_before_any_work(run, folder, genome_files, tmp_path, capsys):
    argv, _ = _new_runs(genome_files)[run]
    (tmp_path / folder).mkdir()
    assert main([a.replace("{o}", str(tmp_path)) for a in argv]) == 2
    _one_line_error(capsys, folder, "folder")
    assert [p.name for p in tmp_path.iterdir()] == [folder] and not any((tmp_path / folder).iterdir())

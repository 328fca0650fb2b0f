"""FASTA + labels -> Split: matching by name and by order, N handling, one-line errors."""
import numpy as np
import pytest

from motifq.cli import main
from motifq.data import open_data
from motifq.data.fasta import read_fasta_labels, read_labels
from motifq.errors import MotifqError
from motifq.sequence import detokenize

SEQS = {"s1": "ACGTACGTAC", "s2": "NNGTACGTAA", "s3": "ttttccccgg", "s4": "ACGTRYACGT"}
TARGETS = ["CTCF", "GATA1", "H3K27ac"]
Y = {"s1": [1, 0, 0], "s2": [0, 0, 1], "s3": [1, 1, 1], "s4": [0, 1, 0]}


def _fasta(path, seqs=SEQS):
    path.write_text("".join(f">{k} some description\n{v[:6]}\n{v[6:]}\n" for k, v in seqs.items()))
    return path


def _tsv(path, rows, header=TARGETS, names=True, order=None):
    order = order or list(rows)
    lines = ["\t".join((["name"] if names else []) + header)]
    for k in order:
        lines.append("\t".join(([k] if names else []) + [str(v) for v in rows[k]]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_by_order(tmp_path):
    s = open_data(fasta=_fasta(tmp_path / "a.fa"), labels=_tsv(tmp_path / "y.tsv", Y, names=False))
    assert s.targets == TARGETS and len(s) == 4 and s.length == 10
    assert [detokenize(t) for t in s.tokens] == ["ACGTACGTAC", "NNGTACGTAA", "TTTTCCCCGG", "ACGTNNACGT"]
    assert s.tokens.dtype == np.uint8 and s.tokens[3, 4] == 4
    assert np.array_equal(s.labels(), np.array(list(Y.values()), dtype=np.uint8))


def test_by_name_any_row_order(tmp_path):
    s = read_fasta_labels(_fasta(tmp_path / "a.fa"), _tsv(tmp_path / "y.tsv", Y, order=["s3", "s1", "s4", "s2"]))
    assert np.array_equal(s.labels(), np.array([Y[k] for k in SEQS], dtype=np.uint8))


def test_read_labels_crlf_blank_lines_and_id_column(tmp_path):
    p = tmp_path / "y.tsv"
    p.write_bytes(b"id\tA\tB\r\n\r\nx\t1\t0\r\ny\t0\t1\r\n\r\n")
    targets, names, y = read_labels(p)
    assert targets == ["A", "B"] and names == ["x", "y"] and y.tolist() == [[1, 0], [0, 1]]


def test_targets_override(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("a\nb\nc\n")
    s = open_data(fasta=_fasta(tmp_path / "a.fa"), labels=_tsv(tmp_path / "y.tsv", Y), targets=names)
    assert s.targets == ["a", "b", "c"]


@pytest.mark.parametrize("case, match", [
    ("too_few_rows", "3 label rows for 4 sequences"),
    ("value_2", r"line 3: label '2' is not 0 or 1"),
    ("value_text", r"line 2: label 'yes' is not 0 or 1"),
    ("value_float", r"line 5: label '1.0' is not 0 or 1"),
    ("short_row", "line 4: 3 fields, the header has 4"),
    ("unequal", "record 's3' has length 9"),
    ("illegal", r"record 's2': illegal character '-'"),
    ("missing_name", "no label row for .* record 's4'"),
    ("extra_name", "1 label rows name no record .* 'zz'"),
    ("dup_name", "sequence name 's1' appears twice"),
    ("dup_target", "duplicate target name 'CTCF'"),
    ("empty", "empty labels file"),
    ("not_fasta", "not FASTA"),
])
def test_bad_input_one_line(tmp_path, case, match):
    fa, tsv = tmp_path / "a.fa", tmp_path / "y.tsv"
    seqs, rows, kw = dict(SEQS), {k: list(v) for k, v in Y.items()}, {}
    if case == "too_few_rows":
        kw = dict(names=False, order=["s1", "s2", "s3"])
    elif case == "value_2":
        rows["s2"][1] = 2
    elif case == "value_text":
        rows["s1"][0] = "yes"
    elif case == "value_float":
        rows["s4"][2] = "1.0"
    elif case == "unequal":
        seqs["s3"] = seqs["s3"][:9]
    elif case == "illegal":
        seqs["s2"] = "ACGT-CGTAC"
    elif case == "missing_name":
        kw = dict(order=["s1", "s2", "s3"])
    elif case == "extra_name":
        rows["zz"] = [0, 0, 0]
    elif case == "dup_name":
        kw = dict(order=["s1", "s2", "s3", "s4", "s1"])
    elif case == "dup_target":
        kw = dict(header=["CTCF", "GATA1", "CTCF"])
    _fasta(fa, seqs)
    _tsv(tsv, rows, **kw)
    if case == "short_row":
        tsv.write_text(tsv.read_text().replace("s3\t1\t1\t1", "s3\t1\t1"))
    elif case == "empty":
        tsv.write_text("\n")
    elif case == "not_fasta":
        fa.write_text("ACGT\n")
    with pytest.raises(MotifqError, match=match) as err:
        open_data(fasta=fa, labels=tsv)
    msg = str(err.value)
    assert "\n" not in msg and (str(fa) in msg or str(tsv) in msg)


def test_argument_errors(tmp_path):
    fa = _fasta(tmp_path / "a.fa")
    with pytest.raises(MotifqError, match="needs --labels"):
        open_data(fasta=fa)
    with pytest.raises(MotifqError, match="either --data or --fasta"):
        open_data()
    with pytest.raises(MotifqError, match="no such file"):
        open_data(fasta=fa, labels=tmp_path / "missing.tsv")


def test_help_does_not_import_heavy_modules():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, motifq.cli as c\n"
            "try:\n    c.main(['convert-deepsea', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'scipy', 'h5py', 'pandas', 'matplotlib') if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_cli_error_exit_code(tmp_path, capsys):
    # the convert command rejects a FASTA folder: not a bundle
    (tmp_path / "a.fa").write_text(">x\nACGT\n")
    assert main(["convert-deepsea", str(tmp_path)]) == 2
    assert "not a DeepSEA bundle" in capsys.readouterr().err

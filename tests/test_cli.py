import subprocess
import sys

import numpy as np
import pytest

from motifq import __version__
from motifq.cli import main
from motifq.formats import read_jaspar, read_meme
from motifq.jaspar import load_motifs

from conftest import ROOT


def test_help_is_fast_and_light():
    code = ("import sys, time; t=time.time(); from motifq.cli import build_parser; build_parser(); "
            "print(int('torch' in sys.modules), int('matplotlib' in sys.modules), int('pandas' in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.split() == ["0", "0", "0"]


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and __version__ in capsys.readouterr().out


def test_motifs_info_bundled(capsys):
    assert main(["motifs", "info", "jaspar2016"]) == 0
    lines = capsys.readouterr().out.strip().split("\n")
    assert lines[0].split("\t") == ["id", "name", "width", "nsites", "total_ic", "consensus"]
    assert len(lines) == 520


def test_convert_round_trip(tmp_path):
    j = tmp_path / "sel.jaspar"
    assert main(["-q", "motifs", "convert", "jaspar2024:CTCF,REST", str(j)]) == 0
    m = tmp_path / "sel.meme"
    assert main(["-q", "motifs", "convert", str(j), str(m)]) == 0
    t = tmp_path / "sel.txt"
    assert main(["-q", "motifs", "convert", str(m), str(t), "--to", "jaspar"]) == 0
    for motifs in (read_meme(m), read_jaspar(j), read_jaspar(t)):
        assert [(x.id, x.name) for x in motifs] == [("MA0139.2", "CTCF"), ("MA0138.3", "REST")]
    original = load_motifs("jaspar2024:CTCF,REST")
    for a, b in zip(original, read_jaspar(t)):   # counts survive JASPAR -> MEME -> JASPAR to MEME's 6 decimals
        np.testing.assert_allclose(b.probabilities(), a.probabilities(), atol=2e-6)


def test_bad_input_one_line_no_output(tmp_path, capsys):
    bad = tmp_path / "bad.meme"
    bad.write_text("MEME version 4\nMOTIF a\nletter-probability matrix:\n0.5 0.1 0 0\n")
    out = tmp_path / "out.jaspar"
    assert main(["motifs", "convert", str(bad), str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("motifq: error: ") and "bad.meme" in err
    assert "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]
    assert main(["motifs", "info", str(tmp_path / "missing.meme")]) == 2
    assert "missing.meme: no such file" in capsys.readouterr().err


def test_debug_shows_traceback(tmp_path):
    from motifq.errors import MotifqError

    with pytest.raises(MotifqError):
        main(["--debug", "motifs", "info", str(tmp_path / "missing.meme")])


def test_python_m_and_console_entry(tmp_path):
    r = subprocess.run([sys.executable, "-m", "motifq", "motifs", "info", "nope.meme"], capture_output=True,
                       text=True, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.strip() == "motifq: error: nope.meme: no such file"

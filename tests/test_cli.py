import subprocess
import sys

import numpy as np
import pytest

from motifq import __version__
from motifq.cli import main
from motifq.formats import read_jaspar, read_meme
from motifq.jaspar import load_motifs

from conftest import ROOT, three_meme_readers_agree


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


# ---------------------------------------------------------------------------------------------
# options generated from the configs; old spellings
# ---------------------------------------------------------------------------------------------
def _options(parser, name):
    return {a.dest: a for a in parser._subparsers._group_actions[0].choices[name]._actions}


def test_train_options_are_the_config_fields():
    import dataclasses

    from motifq.cli import build_parser
    from motifq.config import ModelConfig, TrainConfig

    opts = _options(build_parser(), "train")
    for f in dataclasses.fields(TrainConfig):
        assert f.name in opts, f.name
        assert opts[f.name].default == f.default, f.name
        assert "default" in opts[f.name].help
    for f in dataclasses.fields(ModelConfig):
        if f.name not in ("n_targets", "length"):
            assert f.name in opts and opts[f.name].default is None, f.name  # the kind's sizes apply
    assert "--model" in opts["kind"].option_strings and "--jaspar-rc" in opts["jaspar_reverse_complements"].option_strings
    assert opts["rc_augment"].option_strings == ["--no-rc-augment"]
    assert opts["lr"].help.startswith("Peak learning rate") and "(default: the recipe's; default 0.003, paper 0.001; default with --loss weighted: 0.001)" in opts["lr"].help
    assert "(default: bce)" in opts["loss"].help


def test_a_new_config_field_becomes_an_option_with_its_numpydoc():
    import argparse
    from dataclasses import dataclass

    from motifq.cli.configs import _add_config_options

    @dataclass
    class Later:
        """Settings added later.

        Parameters
        ----------
        focal_gamma : float
            Focusing parameter of the focal loss. Default is 2.0.
        val_every : int or None
            Validate every this many steps. Default is None.
        recipe : str
            ``paper`` or ``fast``. Default is ``paper``.
        ema : bool
            Keep an exponential moving average of the weights. Default is True.
        """

        focal_gamma: float = 2.0
        val_every: int | None = None
        recipe: str = "paper"
        ema: bool = True

    p = argparse.ArgumentParser()
    _add_config_options(p, Later, "later", model=False)
    args = p.parse_args([])
    assert (args.focal_gamma, args.val_every, args.recipe, args.ema) == (2.0, None, "paper", True)
    args = p.parse_args(["--focal-gamma", "0.5", "--val-every", "100", "--recipe", "fast", "--no-ema"])
    assert (args.focal_gamma, args.val_every, args.recipe, args.ema) == (0.5, 100, "fast", False)
    helps = {a.dest: a.help for a in p._actions}
    assert helps["focal_gamma"] == "Focusing parameter of the focal loss (default: 2.0)"
    assert helps["recipe"].startswith("paper or fast")
    with pytest.raises(SystemExit):
        p.parse_args(["--focal-gamma", "nan"])


@pytest.mark.parametrize("argv,dest,value", [
    (["train", "--out", "m.pt"], "output", "m.pt"),
    (["evaluate", "x.pt", "--out", "ev"], "output", "ev"),
    (["cluster", "m.meme", "--outdir", "c"], "output", "c"),
    (["logos", "m.meme", "--outdir", "l"], "output", "l"),
    (["convert-deepsea", "b", "--cache", "c"], "output", "c"),
    (["extract-motifs", "m.pt", "-o", "x.meme", "--evalue", "0.05"], "thresh", 0.05),
    (["extract-motifs", "m.pt", "-o", "x.meme", "--thresh", "0.05"], "thresh", 0.05),
    (["train", "--jaspar-rc"], "jaspar_reverse_complements", True),
    (["train", "--jaspar-init"], "jaspar_init", "jaspar2016"),
])
def test_old_spellings_still_work(argv, dest, value):
    from motifq.cli import build_parser

    assert getattr(build_parser().parse_args(argv), dest) == value


# ---------------------------------------------------------------------------------------------
# what motifq writes, others read: Biopython, memelite and motifq on every MEME file
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["jaspar2016", "jaspar2024", "jaspar2026"])
def test_bundled_meme_files_read_by_three_readers(name):
    from motifq.jaspar import bundled_path

    three_meme_readers_agree(bundled_path(name, "meme"))


def test_meme_files_commands_write_read_by_three_readers(tmp_path):
    import numpy as np
    import torch

    from motifq.config import ModelConfig
    from motifq.models import build_model, save_checkpoint

    assert main(["-q", "motifs", "convert", "jaspar2024", str(tmp_path / "all.meme")]) == 0
    three_meme_readers_agree(tmp_path / "all.meme")
    assert main(["-q", "simulate", "--n-train", "4", "--n-valid", "2", "--n-test", "2", "--length", "200",
                 "-o", str(tmp_path / "sim")]) == 0
    three_meme_readers_agree(tmp_path / "sim" / "truth" / "motifs.meme")
    assert main(["-q", "cluster", "jaspar2024:CTCF,CTCFL,REST,GATA1,GATA2", "-o", str(tmp_path / "c")]) == 0
    three_meme_readers_agree(tmp_path / "c" / "summaries.meme")
    cfg = ModelConfig.for_kind("cnn", n_targets=1, length=80, conv_kernels=6, conv_width=7, pool=4, dense=4)
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "m.pt", build_model(cfg))
    rng = np.random.default_rng(0)
    (tmp_path / "s.fa").write_text("".join(f">s{i}\n{''.join(rng.choice(list('ACGT'), 80))}\n" for i in range(40)))
    assert main(["-q", "extract-motifs", str(tmp_path / "m.pt"), "--fasta", str(tmp_path / "s.fa"), "--min-sites", "1",
                 "--device", "cpu", "-o", str(tmp_path / "k.meme")]) == 0
    three_meme_readers_agree(tmp_path / "k.meme")


# ---------------------------------------------------------------------------------------------
# the README's two commands in one folder (issue 15): nothing may be written into the package
# ---------------------------------------------------------------------------------------------
def _files(folder):
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_compiling_writes_nothing_into_the_package(tmp_path):
    """The root cause of the failure: numba's cache written into site-packages/motifq/__pycache__
    (it outlives pip uninstall, and the folder left behind shadows the next install)."""
    import os

    package = ROOT / "motifq"
    before = _files(package)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"} | {
        "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1",
        "NUMBA_NUM_THREADS": "1"}
    code = ("import numpy as np; from motifq._tomtom import pseudo_columns; "
            "pseudo_columns(np.ones((3, 4)), np.full(3, 4.0), 0.1, np.full(4, 0.25))")
    subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, check=True)
    assert _files(package) == before
    assert list((tmp_path / "cache" / "motifq" / "numba").rglob("*pseudo_columns*.nbi"))


@pytest.mark.slow
def test_readme_commands_leave_nothing_behind_in_site_packages(tmp_path):
    """Faithful version: build the wheel, install it into a fresh virtual environment (no
    download: --no-deps --no-index, the test environment's packages on the path), run
    `motifq compare` from another folder, uninstall: site-packages/motifq must be gone, so that
    `import motifq` cannot find an empty namespace package there."""
    import os
    import site
    import sysconfig

    import shutil

    src = tmp_path / "src"          # a copy: building writes build/ and *.egg-info beside the sources
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "motifq", src / "motifq", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    clean = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONPATH")}
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(wheels), str(src)], check=True, capture_output=True, cwd=tmp_path, env=clean)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    parents = [p for p in site.getsitepackages() + [sysconfig.get_paths()["purelib"]] if os.path.isdir(p)]
    with open(os.path.join(purelib, "_test_env.pth"), "w") as fh:
        fh.write("\n".join(parents) + "\n")
    wheel = next(wheels.glob("motifq-*.whl"))
    subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True, env=clean)
    env = clean | {"XDG_CACHE_HOME": str(tmp_path / "cache"), "NUMBA_NUM_THREADS": "1"}
    work = tmp_path / "work"
    work.mkdir()
    r = subprocess.run([str(venv / "bin" / "motifq"), "compare", "jaspar2024:CTCF", "jaspar2024:REST"],
                       capture_output=True, text=True, cwd=work, env=env)
    assert r.returncode == 0 and r.stdout.startswith("Query_ID"), r.stderr
    installed = os.path.join(purelib, "motifq")
    assert not [f for f in _files(__import__("pathlib").Path(installed)) if f.endswith((".nbi", ".nbc"))]
    subprocess.run([str(py), "-m", "pip", "uninstall", "-y", "motifq"], check=True, capture_output=True, env=clean)
    assert not os.path.exists(installed)
    r = subprocess.run([str(py), "-c", "import motifq"], capture_output=True, text=True, cwd=work, env=env)
    assert r.returncode != 0 and "No module named 'motifq'" in r.stderr


def test_last_checkpoint_name_is_train_s(tmp_path):
    from motifq.cli.train import _last_checkpoint
    from motifq.train import last_path

    for out in ("model.pt", "a/b.c.pt", "noext", str(tmp_path / "x.ckpt")):
        assert _last_checkpoint(out) == last_path(out)


def test_bad_fasta_reported_before_torch_loads(tmp_path):
    (tmp_path / "bad.fa").write_text(">x\nACGTZZ\n")
    (tmp_path / "l.tsv").write_text("a\n1\n")
    code = ("import sys; from motifq.cli import main; "
            f"rc = main(['predict', 'missing.pt', {str(tmp_path / 'bad.fa')!r}]); "
            f"rc2 = main(['train', '--fasta', {str(tmp_path / 'bad.fa')!r}, '--labels', {str(tmp_path / 'l.tsv')!r}, "
            f"'-o', {str(tmp_path / 'm.pt')!r}]); "
            "print(rc, rc2, int('torch' in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.stdout.split() == ["2", "2", "0"], r.stderr
    assert r.stderr.count("bad.fa") == 2 and r.stderr.count("\n") == 2


# ---------------------------------------------------------------------------------------------
# logging: one "motifq" logger, configured by -q / -v for the length of a command
# ---------------------------------------------------------------------------------------------
def test_status_lines_go_to_stderr_by_the_logger_at_the_level_of_q_and_v(tmp_path, capsys):
    import logging

    logger = logging.getLogger("motifq")
    before = (logger.level, list(logger.handlers))
    out = tmp_path / "a.meme"
    assert main(["motifs", "convert", "jaspar2024:CTCF", str(out)]) == 0
    assert capsys.readouterr().err == f"motifq: wrote 1 motifs to {out} (meme)\n"
    assert main(["-q", "motifs", "convert", "jaspar2024:CTCF", str(out)]) == 0
    assert capsys.readouterr().err == ""
    assert main(["-v", "train", "--fasta", str(tmp_path / "missing.fa"), "--labels", "x.tsv", "-o",
                 str(tmp_path / "m.pt")]) == 2              # -v is accepted; the error stays one line
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith("motifq: motifq ") and err[1].startswith("motifq: error: ")
    assert (logger.level, list(logger.handlers)) == before   # restored: main can run again, in-process


def test_verbose_shows_debug_lines_and_quiet_keeps_warnings(tmp_path, capsys, monkeypatch):
    import logging

    from motifq.cli import log_level

    assert (log_level(), log_level(quiet=True), log_level(verbose=True)) == (logging.INFO, logging.WARNING, logging.DEBUG)
    monkeypatch.setenv("RANK", "1")                           # the other processes of a torchrun job
    assert log_level(verbose=True) == logging.WARNING
    monkeypatch.delenv("RANK")

    def status(args):
        logging.getLogger("motifq.x").debug("a detail")
        logging.getLogger("motifq").info("a status line")
        logging.getLogger("motifq").warning("a warning")
        return 0

    import motifq.cli as cli

    real = cli.build_parser

    def parser():
        p = real()
        p._subparsers._group_actions[0].choices["motifs"].set_defaults(func=status)
        for sp in p._subparsers._group_actions[0].choices["motifs"]._subparsers._group_actions[0].choices.values():
            sp.set_defaults(func=status)
        return p

    monkeypatch.setattr(cli, "build_parser", parser)
    seen = {}
    for flag in ("-v", None, "-q"):
        assert main(([flag] if flag else []) + ["motifs", "info", "jaspar2016"]) == 0
        seen[flag] = capsys.readouterr().err
    first, rest = seen["-v"].split("\n", 1)
    assert first.startswith("motifq: motifq ") and "motifs: " in first and "motifs='jaspar2016'" in first
    assert rest == "motifq: a detail\nmotifq: a status line\nmotifq: a warning\n"
    assert seen[None] == "motifq: a status line\nmotifq: a warning\n"
    assert seen["-q"] == "motifq: a warning\n"
    assert main(["-q", "-v", "motifs", "info", "jaspar2016"]) == 2
    assert "not allowed with" in capsys.readouterr().err


def test_the_library_prints_nothing():
    """Status lines go to the motifq logger; only the cli package writes to stdout or stderr."""
    import ast

    found = []
    for path in sorted((ROOT / "motifq").rglob("*.py")):
        if "cli" in path.relative_to(ROOT / "motifq").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else ast.unparse(f)
                if name in ("print", "tqdm.write", "sys.stderr.write", "sys.stdout.write"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert not found, found

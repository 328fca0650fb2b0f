"""The atomic writer, the output-path checks, stale temporary files and the private numba cache."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time

import pytest

from motifq.cache import private_folder
from motifq.errors import (MotifqError, atomic_path, atomic_write, check_number, check_output_dir,
                           check_output_file, remove_stale_temps)

from conftest import ROOT


# ---------------------------------------------------------------------------------------------
# atomic writer
# ---------------------------------------------------------------------------------------------
def test_atomic_write_replaces_a_planted_link_and_never_writes_its_target(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "out.txt"
    link.symlink_to(victim)
    with atomic_write(link) as fh:
        fh.write("new")
    assert victim.read_text() == "precious"
    assert not link.is_symlink() and link.read_text() == "new"


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    out = tmp_path / "a.tsv"
    out.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(out) as fh:
            fh.write("half")
            raise RuntimeError("killed")
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tsv"]


def test_temp_name_says_whose_it_is(tmp_path):
    with atomic_path(tmp_path / "m.pt") as tmp:
        assert tmp.name.startswith(f".m.pt.{os.getpid()}@") and tmp.name.endswith(".tmp")
        tmp.write_bytes(b"x")


def test_writing_onto_a_folder_is_one_line_error(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(MotifqError, match="is a folder"):
        with atomic_write(tmp_path / "d") as fh:
            fh.write("x")
    assert [p.name for p in (tmp_path / "d").iterdir()] == []


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temps_of_dead_runs_are_removed_live_ones_kept(tmp_path):
    from motifq.errors import _host_tag

    host = _host_tag()
    dead = tmp_path / f".m.last.pt.{_dead_pid()}@{host}.abcd1234.tmp"
    live = tmp_path / f".m.last.pt.{os.getpid()}@{host}.efgh5678.tmp"
    legacy_old = tmp_path / ".m.last.pt.k2j3h4g5.tmp"          # untagged, from an older motifq
    legacy_new = tmp_path / ".m.last.pt.z9y8x7w6.tmp"
    other = tmp_path / ".other.pt.123@00000000.abcd.tmp"
    for p in (dead, live, legacy_old, legacy_new, other):
        p.write_bytes(b"partial")
    old = time.time() - 2 * 3600
    os.utime(legacy_old, (old, old))
    assert remove_stale_temps(tmp_path / "m.last.pt") == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, legacy_new.name, other.name])


def test_next_save_removes_a_killed_save_s_temp(tmp_path):
    """kill -9 during a save leaves the temp file; the next write of that output removes it."""
    out = tmp_path / "m.last.pt"
    code = ("import os, sys; from motifq.errors import atomic_path\n"
            f"with atomic_path({str(out)!r}) as tmp:\n"
            "    tmp.write_bytes(b'half'); os.kill(os.getpid(), 9)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == -9
    left = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(left) == 1 and not out.exists()
    with atomic_write(out) as fh:
        fh.write("whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.last.pt"]


# ---------------------------------------------------------------------------------------------
# output paths and numbers
# ---------------------------------------------------------------------------------------------
def test_output_file_checks(tmp_path, monkeypatch):
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    with pytest.raises(MotifqError, match="is a folder"):
        check_output_file(tmp_path / "d")
    with pytest.raises(MotifqError, match="is not a folder"):
        check_output_file(tmp_path / "f" / "out.tsv")
    with pytest.raises(MotifqError, match="not a regular file"):
        check_output_file("/dev/null")
    (tmp_path / "link").symlink_to(tmp_path / "d")
    assert check_output_file(tmp_path / "link") == tmp_path / "link"     # a link is replaced, fine
    assert check_output_file(tmp_path / "new" / "deeper" / "out.tsv")    # folders get created
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(tmp_path / "d") else real_access(p, mode))
    with pytest.raises(MotifqError, match="not writable"):
        check_output_file(tmp_path / "d" / "out.tsv")
    with pytest.raises(MotifqError, match="not writable"):
        check_output_dir(tmp_path / "d")


def test_output_dir_checks(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(MotifqError, match="not a folder"):
        check_output_dir(tmp_path / "f")
    with pytest.raises(MotifqError, match="is not a folder"):
        check_output_dir(tmp_path / "f" / "sub")
    assert check_output_dir(tmp_path / "new") == tmp_path / "new" and not (tmp_path / "new").exists()


@pytest.mark.parametrize("value,kw,ok", [
    (1.5, {}, True), (float("nan"), {}, False), (float("inf"), {}, False), (True, {}, False),
    (2.5, {"integer": True}, False), (-1, {"integer": True, "minimum": 0}, False),
    (0, {"minimum": 0, "exclusive_minimum": True}, False), (1, {"maximum": 1}, True),
])
def test_check_number(value, kw, ok):
    if ok:
        assert check_number(value, "x", **kw) == value
    else:
        with pytest.raises(MotifqError, match="^x: must be"):
            check_number(value, "x", **kw)


# ---------------------------------------------------------------------------------------------
# numba cache
# ---------------------------------------------------------------------------------------------
def test_private_folder(tmp_path):
    d = tmp_path / "c"
    assert private_folder(d) and (d.stat().st_mode & 0o777) == 0o700
    os.chmod(d, 0o755)                       # ours, readable by others: repaired
    assert private_folder(d) and (d.stat().st_mode & 0o777) == 0o700
    assert not private_folder(d, repair=False) or (d.stat().st_mode & 0o077) == 0
    os.chmod(d, 0o777)                       # writable by others: someone may have planted files
    assert not private_folder(d)
    os.chmod(d, 0o700)
    assert not private_folder(d, uid=os.getuid() + 1)   # owned by another user
    (tmp_path / "link").symlink_to(d)
    assert not private_folder(tmp_path / "link")
    (tmp_path / "file").write_text("x")
    assert not private_folder(tmp_path / "file")


class _Plant:
    """A pickle that creates a file when it is loaded (a harmless stand-in for any payload)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


_CALL = ("import numpy as np; from motifq._tomtom import pseudo_columns; "
         "pseudo_columns(np.ones((3, 4)), np.full(3, 4.0), 0.1, np.full(4, 0.25)); print('ok')")


def _run(env, tmp_path):
    env = {k: v for k, v in env.items() if not k.startswith("NUMBA_CACHE") and k != "XDG_CACHE_HOME"} | {
        "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"} | env
    return subprocess.run([sys.executable, "-c", _CALL], env=env, cwd=tmp_path, capture_output=True, text=True)


@pytest.mark.slow
def test_planted_numba_cache_is_not_loaded(tmp_path):
    """The attack of issue 15: a pickle planted in the predictable shared fallback folder
    ($TMPDIR/motifq-numba-<uid>) must not run when the home cache is unusable."""
    shared = tmp_path / "tmp"
    shared.mkdir()
    planted = shared / f"motifq-numba-{os.getuid()}"
    marker = tmp_path / "payload-ran"
    # the attacker compiles into the folder (real index files, real names), then swaps the indexes
    r = _run({**os.environ, "NUMBA_CACHE_DIR": str(planted)}, tmp_path)
    assert r.returncode == 0, r.stderr
    indexes = list(planted.rglob("*pseudo_columns*.nbi"))
    assert indexes
    for nbi in indexes:
        nbi.write_bytes(pickle.dumps(_Plant(str(marker))))
    os.chmod(planted, 0o777)
    # control: numba loading that folder runs the payload (so the test below can fail)
    r = _run({**os.environ, "NUMBA_CACHE_DIR": str(planted)}, tmp_path)
    assert marker.exists()
    marker.unlink()
    # the victim: no usable home cache ($HOME is a file), the shared temp folder holds the plant
    (tmp_path / "home").write_text("not a folder")
    r = _run({**os.environ, "HOME": str(tmp_path / "home"), "TMPDIR": str(shared)}, tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    assert not marker.exists()


def test_numba_cache_goes_to_the_private_user_folder(tmp_path):
    cache = tmp_path / "xdg"
    code = "from motifq.cache import configure_numba_cache; print(configure_numba_cache())"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"} | {
        "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(cache / "motifq" / "numba")
    assert (os.stat(cache / "motifq" / "numba").st_mode & 0o777) == 0o700
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "mine")          # the user's own choice is kept
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(tmp_path / "mine")


def test_every_numba_module_configures_the_cache_before_importing_numba():
    """A module that imports numba first sends `cache=True` kernels into the package's
    __pycache__ (the failure of issue 15, found again in scan.py): each one points numba at the
    private folder before its numba import."""
    import ast

    for path in sorted((ROOT / "motifq").rglob("*.py")):
        tree = ast.parse(path.read_text())
        numba_at = [n.lineno for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                    and any(a.name.split(".")[0] == "numba" for a in n.names) | (getattr(n, "module", "") or "").startswith("numba")]
        if not numba_at:
            continue
        configured = [n.lineno for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
                      and getattr(n.value.func, "id", "") == "configure_numba_cache"]
        assert configured and min(configured) < min(numba_at), f"{path.name}: numba imported before configure_numba_cache()"


_SCAN = ("import numpy as np; from motifq.motif import Motif; from motifq.scan import scan; "
         "m = Motif(id='m', name='m', counts=np.eye(4)[[0, 1, 2, 3, 0]] * 10 + 1); "
         "print(len(scan([m], ['ACGTAACGTA' * 3], names=['s'], thresh=0.5)))")


@pytest.mark.slow
def test_scanning_writes_nothing_into_the_package(tmp_path):
    """`motifq scan` alone (no Tomtom imported first) compiles into the private folder."""
    package = ROOT / "motifq"
    before = {p.name for p in package.rglob("*.nb?")}
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"} | {
        "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1",
        "NUMBA_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-c", _SCAN], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert {p.name for p in package.rglob("*.nb?")} == before
    assert list((tmp_path / "cache" / "motifq" / "numba").rglob("*scan*.nbi"))


def test_next_folder_write_removes_a_killed_run_s_temporary_folder(tmp_path):
    """kill -9 while simulate --genome or build-dataset fills its temporary folder: the next
    write of that folder removes it (a live run's and untagged folders are left alone)."""
    from motifq.data.genome import atomic_folder
    from motifq.errors import _host_tag

    out = tmp_path / "ds"
    code = ("import os; from motifq.data.genome import atomic_folder\n"
            f"with atomic_folder({str(out)!r}) as tmp:\n"
            "    (tmp / 'train.tokens.npy').write_bytes(b'half'); os.kill(os.getpid(), 9)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == -9
    left = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(left) == 1 and left[0].is_dir() and not out.exists()
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("precious")
    (left[0] / "link").symlink_to(victim)                     # removed, never followed
    live = tmp_path / f".ds.{os.getpid()}@{_host_tag()}.abcd1234.tmp"
    untagged = tmp_path / ".ds.k2j3h4g5.tmp"
    live.mkdir()
    untagged.mkdir()
    with atomic_folder(out) as tmp:
        (tmp / "dataset.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["ds", "victim", live.name, untagged.name])
    assert (victim / "keep").read_text() == "precious"

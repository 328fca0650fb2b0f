"""Where motifq keeps caches: a private per-user folder, never the installed package.

numba's ``cache=True`` stores compiled code as pickles, and loading a pickle runs code. A cache
folder that another user can write is therefore a way to run code as whoever uses it, and a
cache inside the installed package outlives ``pip uninstall`` (an empty ``site-packages/motifq``
left behind shadows a later install as a namespace package). So the compiled Tomtom kernels go
to, in this order:

1. ``$NUMBA_CACHE_DIR`` when the user set it (their choice, used as is);
2. ``$XDG_CACHE_HOME/motifq/numba`` (``~/.cache/motifq/numba`` when unset; on Windows
   ``%LOCALAPPDATA%/motifq/numba``);
3. ``<tmp>/motifq-numba-<uid>`` when the home cache cannot be used;
4. a fresh folder made by :func:`tempfile.mkdtemp` and removed at exit (compiled each run, no
   persistent cache) when neither is safe.

A folder of 2 or 3 is used only when it is a real folder (not a symbolic link) owned by this
user that no one else can write; motifq creates it with mode 0700.
"""
from __future__ import annotations

import atexit
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

__all__ = ["user_cache_dir", "private_folder", "numba_cache_dir", "configure_numba_cache"]

_CONFIGURED: list = []


def _uid():
    return os.getuid() if hasattr(os, "getuid") else None


def _safe_parent(path: Path, uid) -> bool:
    """A folder we may create ours in: a folder owned by us that others cannot write."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == uid and not st.st_mode & 0o022


def private_folder(path, uid=None, repair: bool = True) -> bool:
    """Make `path` a private folder of this user (mode 0700) if missing, and say whether it is one.

    Parameters
    ----------
    path : str or os.PathLike
        The folder (its parent must exist).
    uid : int or None
        The owner it must have. Default is None: this process's user.
    repair : bool
        When the folder is ours and no one else can write it but others can read it, set its
        mode to 0700 (else refuse it). Default is True.

    Returns
    -------
    bool
        True when `path` is a real folder (not a symbolic link) owned by `uid` with no group or
        other permissions.
    """
    uid = _uid() if uid is None else uid
    path = Path(path)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return False
    try:
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o022:
            return False
        if st.st_mode & 0o077 and repair:
            os.chmod(path, 0o700)
            st = os.lstat(path)
        return not st.st_mode & 0o077
    except OSError:
        return False


def user_cache_dir() -> Path:
    """This user's cache base: ``$XDG_CACHE_HOME`` (when absolute), else ``~/.cache``
    (``%LOCALAPPDATA%`` on Windows).

    Returns
    -------
    pathlib.Path
    """
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"])
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg)
    return Path.home() / ".cache"


def _home_cache() -> Path | None:
    """``<user cache>/motifq/numba``, private, or None."""
    try:
        base = user_cache_dir()
    except (RuntimeError, KeyError, OSError):  # no home folder
        return None
    uid = _uid()
    if uid is None:
        try:
            (base / "motifq" / "numba").mkdir(parents=True, exist_ok=True)
            return base / "motifq" / "numba"
        except OSError:
            return None
    if not os.path.lexists(base):
        if not os.path.isdir(base.parent) or not private_folder(base, uid):
            return None
    if not _safe_parent(base, uid) or not private_folder(base / "motifq", uid):
        return None
    return base / "motifq" / "numba" if private_folder(base / "motifq" / "numba", uid) else None


def numba_cache_dir() -> Path | None:
    """The private per-user folder for numba's cache (see the module docstring), or None when
    none is safe.

    Returns
    -------
    pathlib.Path or None
    """
    home = _home_cache()
    if home is not None:
        return home
    uid = _uid()
    if uid is None:
        return None
    tmp = Path(tempfile.gettempdir()) / f"motifq-numba-{uid}"
    return tmp if private_folder(tmp, uid, repair=False) else None


def configure_numba_cache() -> str:
    """Point numba's cache (``NUMBA_CACHE_DIR``) at :func:`numba_cache_dir`, before the compiled
    modules are imported; a throwaway private folder (removed at exit) when none is safe.

    Keeps a ``NUMBA_CACHE_DIR`` the user set. Safe to call more than once.

    Returns
    -------
    str
        The cache folder in use.
    """
    if _CONFIGURED:
        return _CONFIGURED[0]
    folder = os.environ.get("NUMBA_CACHE_DIR")
    if not folder:
        found = numba_cache_dir()
        if found is None:
            found = tempfile.mkdtemp(prefix="motifq-numba-")
            atexit.register(shutil.rmtree, found, True)
        folder = str(found)
        os.environ["NUMBA_CACHE_DIR"] = folder
    if "numba.core.config" in sys.modules:  # numba read the variable already
        sys.modules["numba.core.config"].CACHE_DIR = folder
    _CONFIGURED.append(folder)
    return folder

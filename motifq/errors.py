"""One error type for user mistakes, small checks used at public boundaries, and atomic output.

Every function that takes input from a user (a file, a value on the command line) validates it
with :func:`check` and raises :class:`MotifqError` with a message of the form
``"<what>: <why>"``. The command line prints that message on one line and exits with status 2.
Inner functions trust their inputs.

Every file motifq writes goes through :func:`atomic_path` / :func:`atomic_write`: the data go to
a temporary file beside the output (``.<name>.<pid>@<host>.<random>.tmp``), which is renamed onto
the output only when complete. The rename replaces a symbolic link planted at the output path
instead of writing through it, and a reader never sees a partial file. Temporary files left by a
killed run (its process is gone) are removed by the next write of the same output.
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import socket
import stat
import tempfile
import time
import zlib
from pathlib import Path

__all__ = ["MotifqError", "check", "check_file", "check_number", "check_output_file", "check_output_dir",
           "remove_stale_temps", "temp_prefix", "atomic_write", "atomic_path"]

#: Temporary files without a live owner process older than this (seconds) are stale: those of
#: another host (a shared file system) and those of motifq versions that did not tag them.
STALE_SECONDS = 3600.0


class MotifqError(Exception):
    """A user-facing error: bad file, bad value, bad shape. One line, no traceback."""


def check(condition, message: str) -> None:
    """Raise :class:`MotifqError` with `message` when `condition` is false.

    Parameters
    ----------
    condition : bool
        What must hold.
    message : str
        ``"<what>: <why>"``, e.g. ``"motifs.meme: line 7: expected 4 columns, got 3"``.
    """
    if not condition:
        raise MotifqError(message)


def check_file(path) -> Path:
    """Return `path` as a Path after checking that it names a readable regular file.

    Parameters
    ----------
    path : str or os.PathLike
        The file a user named.

    Returns
    -------
    pathlib.Path
    """
    p = Path(path)
    check(p.exists(), f"{p}: no such file")
    check(p.is_file(), f"{p}: not a regular file")
    check(os.access(p, os.R_OK), f"{p}: not readable")
    return p


def check_number(value, what: str, integer: bool = False, minimum=None, maximum=None,
                 exclusive_minimum: bool = False, exclusive_maximum: bool = False):
    """Return `value` after checking that it is a finite number in range.

    Parameters
    ----------
    value : int or float
        The value (``bool`` is refused: ``True`` is not a number a user means).
    what : str
        Named in the message, e.g. ``"--lr"``.
    integer : bool
        Require an integer (an ``int``; a float is refused, not truncated). Default is False.
    minimum, maximum : float or None
        Bounds. Default is None (unbounded).
    exclusive_minimum, exclusive_maximum : bool
        The bound itself is outside the range. Default is False.

    Returns
    -------
    int or float
        `value`, unchanged.
    """
    kind = "an integer" if integer else "a number"
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    check(ok_type and not isinstance(value, bool), f"{what}: must be {kind}, got {value!r}")
    check(math.isfinite(value), f"{what}: must be a finite number, got {value!r}")
    if minimum is not None:
        ok = value > minimum if exclusive_minimum else value >= minimum
        check(ok, f"{what}: must be {'>' if exclusive_minimum else '>='} {minimum}, got {value!r}")
    if maximum is not None:
        ok = value < maximum if exclusive_maximum else value <= maximum
        check(ok, f"{what}: must be {'<' if exclusive_maximum else '<='} {maximum}, got {value!r}")
    return value


# ---------------------------------------------------------------------------------------------
# output paths
# ---------------------------------------------------------------------------------------------
def _nearest_existing(folder: Path) -> Path:
    """`folder` or its closest ancestor that exists."""
    p = folder if str(folder) else Path(".")
    while not os.path.lexists(p) and p.parent != p:
        p = p.parent
    return p


def _check_writable_folder(path: Path, what: str) -> None:
    """The folder that will hold `path` exists and is writable, or can be created."""
    anchor = _nearest_existing(path.parent)
    check(anchor.is_dir(), f"{what}: {anchor} is not a folder")
    check(os.access(anchor, os.W_OK | os.X_OK), f"{what}: folder {anchor} is not writable")


def check_output_file(path, what: str | None = None) -> Path:
    """Check, before any work, that motifq can write the file `path`; remove its stale temp files.

    The file may exist (it is replaced, atomically; a symbolic link there is replaced, not
    followed); it must not be a folder or a special file (a device, a pipe), and its folder
    must be writable or creatable.

    Parameters
    ----------
    path : str or os.PathLike
        The output file a user named.
    what : str or None
        Named in messages. Default is None: the path itself.

    Returns
    -------
    pathlib.Path
    """
    p = Path(path)
    what = what or str(p)
    check(str(path) != "", f"{what}: empty output path")
    if os.path.lexists(p) and not p.is_symlink():
        check(not p.is_dir(), f"{what}: {p} is a folder; give a file name")
        check(p.is_file(), f"{what}: {p} is not a regular file (motifq replaces its outputs)")
    _check_writable_folder(p, what)
    remove_stale_temps(p)
    return p


def check_output_dir(path, what: str | None = None) -> Path:
    """Check, before any work, that motifq can write files into the folder `path`.

    Parameters
    ----------
    path : str or os.PathLike
        The output folder a user named (created when missing).
    what : str or None
        Named in messages. Default is None: the path itself.

    Returns
    -------
    pathlib.Path
    """
    p = Path(path)
    what = what or str(p)
    check(str(path) != "", f"{what}: empty output path")
    if os.path.lexists(p):
        check(p.is_dir(), f"{what}: {p} exists and is not a folder")
        check(os.access(p, os.W_OK | os.X_OK), f"{what}: folder {p} is not writable")
    else:
        _check_writable_folder(p, what)
    return p


# ---------------------------------------------------------------------------------------------
# temporary files
# ---------------------------------------------------------------------------------------------
def _host_tag() -> str:
    return f"{zlib.crc32(socket.gethostname().encode()):08x}"


def temp_prefix(path) -> str:
    """``.<name>.<pid>@<host>.``: whose temporary file (or folder) it is; with the suffix
    ``.tmp``, :func:`remove_stale_temps` recognises it.

    Parameters
    ----------
    path : str or os.PathLike
        The final output.

    Returns
    -------
    str
    """
    path = Path(path)
    return f".{path.name}.{os.getpid()}@{_host_tag()}."


def _pid_alive(pid: int) -> bool:
    """Whether process `pid` runs on this host (POSIX only: on Windows os.kill(pid, 0) would
    send Ctrl-C)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):  # e.g. another user's process
        return True
    return True


def _is_stale(tmp: Path, name: str, st: os.stat_result, tagged_only: bool = False) -> bool:
    m = re.fullmatch(re.escape(f".{name}.") + r"(\d+)@([0-9a-f]{8})\.[^./]+\.tmp", tmp.name)
    if m and m.group(2) == _host_tag() and os.name != "nt":
        return not _pid_alive(int(m.group(1)))   # a live run's temporary file is never touched
    return not tagged_only and time.time() - st.st_mtime > STALE_SECONDS


def remove_stale_temps(path, folders: bool = False) -> int:
    """Remove the temporary files that killed runs left beside the output `path`.

    A file ``.<name>.<pid>@<host>.<random>.tmp`` is stale when it is a regular file owned by
    this user and its process (on this host) is gone; an untagged ``.<name>.<random>.tmp`` or
    another host's when it has not changed for :data:`STALE_SECONDS`. Nothing else is touched.

    Parameters
    ----------
    path : str or os.PathLike
        An output file (or folder).
    folders : bool
        Also remove stale temporary folders (of an output folder written whole), with their
        contents: only tagged ones of this host whose process is gone. Default is False.

    Returns
    -------
    int
        The number of files (and folders) removed.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    uid = os.getuid() if hasattr(os, "getuid") else None
    removed = 0
    try:
        candidates = list(folder.glob(f".{_glob_escape(path.name)}.*.tmp"))
    except OSError:
        return 0
    for tmp in candidates:
        try:
            st = tmp.lstat()
            if uid is not None and st.st_uid != uid:
                continue
            if stat.S_ISREG(st.st_mode) and _is_stale(tmp, path.name, st):
                tmp.unlink()
            elif folders and stat.S_ISDIR(st.st_mode) and _is_stale(tmp, path.name, st, tagged_only=True):
                shutil.rmtree(tmp)      # removes links inside, never follows them
            else:
                continue
            removed += 1
        except OSError:
            continue
    return removed


def _glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def _os_error(path: Path, exc: OSError) -> MotifqError:
    why = exc.strerror or type(exc).__name__
    if isinstance(exc, IsADirectoryError) or path.is_dir():
        why = "is a folder; give a file name"
    return MotifqError(f"{path}: cannot write ({why})")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    A failure inside the block removes the temporary file, so no partial output is ever left
    under the final name. A symbolic link at `path` is replaced by the new file (its target is
    never written). Stale temporary files of `path` (see :func:`remove_stale_temps`) are
    removed first. Operating-system errors (a read-only folder, a full disk, `path` being a
    folder) become :class:`MotifqError`.

    Parameters
    ----------
    path : str or os.PathLike
        The final output file. Its folder is created if missing.

    Yields
    ------
    pathlib.Path
        The temporary file to write (in the same folder, so the rename is atomic).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MotifqError(f"{path}: cannot create folder {folder} ({exc.strerror or exc})") from None
    check(not (path.is_dir() and not path.is_symlink()), f"{path}: cannot write (is a folder; give a file name)")
    remove_stale_temps(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _os_error(path, exc) from None
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        raise _os_error(path, exc) from None
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", **kwargs):
    """Open a temporary file beside `path` for writing and rename it onto `path` on success.

    Parameters
    ----------
    path : str or os.PathLike
        The final output file.
    mode : str
        ``"w"`` (text) or ``"wb"`` (binary). Default is ``"w"``.
    **kwargs
        Passed to :func:`open` (e.g. ``newline=""``).

    Yields
    ------
    file object
    """
    with atomic_path(path) as tmp:
        if "b" not in mode:
            kwargs.setdefault("encoding", "utf-8")
        with open(tmp, mode, **kwargs) as fh:
            yield fh

"""One error type for user mistakes, small checks used at public boundaries, and atomic output.

Every function that takes input from a user (a file, a value on the command line) validates it
with :func:`check` and raises :class:`MotifqError` with a message of the form
``"<what>: <why>"``. The command line prints that message on one line and exits with status 2.
Inner functions trust their inputs.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["MotifqError", "check", "check_file", "atomic_write", "atomic_path"]


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


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    A failure inside the block removes the temporary file, so no partial output is ever left
    under the final name.

    Parameters
    ----------
    path : str or os.PathLike
        The final output file. Its folder must exist (it is created if missing).

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
        raise MotifqError(f"{path}: cannot create folder {folder}: {exc.strerror}") from None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
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

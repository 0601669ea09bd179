"""A single output file (``cost --csv FILE``, ``plot --out FILE``): the output-folder rules of
:mod:`valuechain.simulation.running.store` for one file.

The path may not be a directory or a dangling symlink. A file already there is replaced only if
valuechain wrote it, recognised by its content (``ours``: the cost table's header, a figure's
creator metadata), and only with ``--overwrite``; a file it did not write is refused either way.
Checked before any work is done. The file is then written by :func:`write_replacing`: to a
temporary ``.NAME.tmp-PID`` beside it, renamed into place once complete, so a failure or a kill
while writing never leaves a half-written file under the name. Only the standard library is
imported here (as in :mod:`.plot_options`), so the checks run before pandas and matplotlib are
loaded, and the analysis layer may use them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .simulation.config.errors import InputError


def check_out_file(path: str | Path, option: str, overwrite: bool, ours: Callable[[Path], bool]) -> Path:
    """``path`` as a Path if valuechain may write that file; InputError (``FILE: --option: ...``) if not."""
    path = Path(path)
    file = str(path)
    if path.is_symlink() and not path.exists():
        raise InputError(file, option, "is a dangling symlink (it points to nothing)")
    if path.is_dir():
        raise InputError(file, option, "is a directory; name the file to write")
    if not path.exists():
        return path
    if not path.is_file() or not ours(path):
        raise InputError(file, option, "exists and valuechain did not write it; valuechain replaces only files "
                         "it wrote; move it or choose another name")
    if not overwrite:
        raise InputError(file, option, "exists (written by valuechain); pass --overwrite to replace it")
    return path


def first_line(path: Path, limit: int = 65536) -> bytes:
    """The first line of the file ``path`` (at most ``limit`` bytes, without its line end; b"" if unreadable)."""
    try:
        with open(path, "rb") as fh:
            return fh.readline(limit).rstrip(b"\r\n")
    except OSError:
        return b""


def write_replacing(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary)`` on a temporary name beside ``path`` and rename it onto ``path`` once
    ``write`` returns; if ``write`` fails, the temporary is removed and ``path`` is as it was."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return path

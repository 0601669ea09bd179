"""The output folder: where results may go, one writer at a time, and checksums of what is written.

- :func:`check_out_path` refuses an output folder that is the working directory or a folder above
  it, a dangling symlink, a path through a file, or a folder that cannot be written.
- :func:`output_lock` holds an exclusive lock on the folder (``.valuechain.lock``: ``flock`` on a
  file holding the writer's PID) while a run or a sweep writes there; a second writer gets an
  :class:`InputError` naming the first one's PID. The kernel drops the lock of a process that
  dies, so a lock file left by a killed writer (its PID gone) is stale and simply taken over.
- :func:`remove_stale_temporaries` deletes the temporary files (``.NAME.tmp-PID``) that an
  earlier writer left when it was killed or the disk filled; only the exact temporary names of
  the toolkit's own files are matched, and only while the lock is held.
- :func:`kill_point` is a test hook: ``VALUECHAIN_TEST_KILL_AT=<point>`` SIGKILLs the process at
  that point (e.g. ``before-replace:manifest.json#2``: when the second manifest written is on
  disk under its temporary name; ``sweep:between-sweep-json-and-points``).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..checksums import sha256_bytes, sha256_file  # noqa: F401  (re-exported)
from ..config.errors import InputError

LOCK_NAME = ".valuechain.lock"
_HELD: dict[Path, int] = {}  # folders this process holds the lock of -> nesting depth


_PASSED: dict[str, int] = {}


def kill_point(name: str) -> None:
    """Test hook: SIGKILL this process at the point ``VALUECHAIN_TEST_KILL_AT`` names, either
    ``NAME`` (the first time it is reached) or ``NAME#N`` (the N-th time)."""
    target = os.environ.get("VALUECHAIN_TEST_KILL_AT")
    if not target:
        return
    _PASSED[name] = _PASSED.get(name, 0) + 1
    point, _, nth = target.partition("#")
    if point == name and _PASSED[name] == (int(nth) if nth.isdigit() else 1):
        os.kill(os.getpid(), signal.SIGKILL)


def check_out_path(out: Path) -> Path:
    """The resolved output folder; InputError if results cannot or must not go there."""
    file = str(out)
    if out.is_symlink() and not out.exists():
        raise InputError(file, "--out", "is a dangling symlink (it points to nothing)")
    try:
        resolved = out.resolve()
    except (OSError, RuntimeError):
        raise InputError(file, "--out", "symlink loop (a link that points back to itself)") from None
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise InputError(file, "--out", "is the working directory or a folder above it; results need a "
                         "folder of their own (e.g. results/NAME)", str(resolved))
    if resolved.exists() and not resolved.is_dir():
        raise InputError(file, "--out", "exists and is not a directory")
    existing = resolved
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(file, "--out", f"cannot be created: {existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(file, "--out", f"cannot be written: no permission to write in {existing}")
    return resolved


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "?"
    except OSError:
        return "?"


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``out`` (created if missing) for the block; re-entrant in a
    process. The folders this call created (``out`` and its missing parents) that are still empty
    afterwards are removed."""
    out = Path(out)
    key = check_out_path(out)
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    created = [folder for folder in (out, *out.parents) if not folder.exists()]  # the deepest first
    for attempt in range(3):  # a parent another command made and, refused, removed meanwhile: again
        try:
            out.mkdir(parents=True, exist_ok=True)
            break
        except FileNotFoundError:
            if attempt == 2:
                raise
    path = out / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise InputError(str(out), "--out", f"another valuechain process (PID {_holder(path)}) is writing "
                             f"here; wait for it to finish or choose another --out") from None
        try:  # the file locked must still be the one at the path (a releasing writer unlinks it)
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())  # a stale file's old PID is overwritten here
    _HELD[key] = 1
    try:
        yield
    finally:
        del _HELD[key]
        try:
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)
        for folder in created:
            try:
                folder.rmdir()  # only if empty: nothing was written
            except OSError:
                break


def holds_lock(out: Path) -> bool:
    try:
        return Path(out).resolve() in _HELD
    except (OSError, RuntimeError):
        return False


def remove_stale_temporaries(folder: Path, names: str) -> list[str]:
    """Delete ``.NAME.tmp-PID`` files of ``folder`` whose NAME fully matches the regex ``names``
    (the toolkit's own file names); call only while holding the folder's lock."""
    pattern = re.compile(rf"\.(?:{names})\.tmp-\d+")
    removed = []
    if folder.is_dir():
        for entry in os.scandir(folder):
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(entry.name)
    return removed

"""The folder of ``valuechain backtest --out DIR``: the output-folder rules of ``run`` (:mod:`.store`).

A back-test writes ``backtest.csv``, ``backtest_counterfactual.csv``, ``backtest_factors.csv``,
``backtest.png`` and, first and last, its manifest ``backtest.json`` (``kind: valuechain backtest``;
``status: writing``, then ``complete`` with the SHA-256 of every file). A non-empty folder is refused
unless it holds a previous back-test and ``--overwrite`` is given; a run set's or a sweep's folder is
refused either way. Only the files the previous manifest lists are replaced, each written to a
temporary name and renamed into place, under the folder's lock.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..config.errors import InputError
from .outdir import LOCK_NAME, check_out_path, output_lock, remove_stale_temporaries
from .store import BACKTEST_MANIFEST, SWEEP_MARKERS, atomic_write_bytes, atomic_write_json

MANIFEST = BACKTEST_MANIFEST
KIND = "valuechain backtest"
FILES = ("backtest.csv", "backtest_counterfactual.csv", "backtest_factors.csv", "backtest.png")
OUR_NAMES = r"backtest(?:_counterfactual|_factors)?\.csv|backtest\.png|backtest\.json"  # for stale temporaries


def read_manifest(out: Path) -> dict:
    """The back-test manifest in ``out`` ({} if there is none or it is not one)."""
    try:
        data = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("kind") == KIND else {}


def check_backtest_out(out: Path, overwrite: bool) -> None:
    """Refuse ``out`` if it is unsafe (:func:`check_out_path`), holds a run set or a sweep, holds anything
    but a previous back-test, or a previous back-test without ``overwrite``."""
    check_out_path(out)
    if not out.exists():
        return
    entries = {p.name for p in out.iterdir() if p.name != LOCK_NAME}
    if not entries:
        return
    if "manifest.json" in entries or any(n in entries for n in SWEEP_MARKERS):
        what = "a sweep's results (sweep.json)" if any(n in entries for n in SWEEP_MARKERS) else \
            "a run's results (manifest.json)"
        raise InputError(str(out), "--out", f"holds {what}; a back-test is not written beside them; choose "
                         "another --out")
    if not read_manifest(out):
        raise InputError(str(out), "--out", "directory exists and is not empty, and holds no back-test "
                         f"({MANIFEST}); choose another --out")
    if not overwrite:
        raise InputError(str(out), "--out", "holds a previous back-test; pass --overwrite to replace it")


def write_backtest(out: Path, contents: dict[str, bytes], overwrite: bool, meta: dict) -> None:
    """Write ``contents`` (file name -> bytes, the names of :data:`FILES`) to ``out`` crash-safe: the
    manifest ``status: writing`` first, listing the old and new files, then each file atomically, then
    the manifest ``status: complete`` with their SHA-256 and ``meta``."""
    out = Path(out)
    with output_lock(out):
        check_backtest_out(out, overwrite)
        remove_stale_temporaries(out, OUR_NAMES)
        old = set(read_manifest(out).get("files") or {}) & set(FILES)
        for name in contents:  # a file of ours here that no manifest lists is a user's: keep it
            if (out / name).exists() and name not in old:
                raise InputError(str(out / name), "--out", f"exists but no {MANIFEST} lists it; valuechain "
                                 "replaces only files it wrote; move it or choose another --out")
        atomic_write_json({"kind": KIND, "status": "writing", "files": {n: None for n in sorted(old | set(contents))}},
                          out / MANIFEST)
        for name in sorted(old - set(contents)):
            (out / name).unlink(missing_ok=True)
        files = {name: atomic_write_bytes(data, out / name) for name, data in contents.items()}
        atomic_write_json({"kind": KIND, "status": "complete", "files": files, **meta}, out / MANIFEST)

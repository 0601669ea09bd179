"""Which kind of folder a results path is (a sweep's, :func:`is_sweep`), and what a folder of results
directories holds that :func:`analysis.compare.load_many` does not read, one line per subfolder, so
that ``compare``, ``cost`` and ``plot`` on such a folder never leave a run set out silently.

``load_many`` reads a folder's run folders (a ``manifest.json`` of ``valuechain run``). It skips a
sweep (read point by point when it is given on its own, as RESULTS_DIR), a back-test's output
(``backtest.json``: a table against the record, not runs to compare) and a folder holding no
results; :func:`skipped_lines` names each and says why. :func:`no_runs_reason` says what a folder
that gives ``load_many`` no run at all holds instead (a back-test's output, only sweeps, nothing).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

BACKTEST_MANIFEST = "backtest.json"  # the manifest of `valuechain backtest --out DIR` (simulation.running.store)


def is_sweep(directory: str | Path) -> bool:
    """True for a sweep directory (its manifest or sweep.json says ``kind: valuechain sweep``)."""
    d = Path(directory)
    for name in ("manifest.json", "sweep.json"):
        if (d / name).is_file():
            try:
                return json.loads((d / name).read_text()).get("kind") == "valuechain sweep"
            except (OSError, ValueError):
                return False
    return False


def is_backtest(directory: str | Path) -> bool:
    """True for a back-test's output folder (it holds ``backtest.json``)."""
    return (Path(directory) / BACKTEST_MANIFEST).is_file()


def backtest_reason(directory: str | Path) -> str:
    """Why a back-test's output folder is not runs to read, and where its table is."""
    return (f"a back-test's output ({BACKTEST_MANIFEST}), not runs to compare (its table against the record: "
            f"{Path(directory) / 'backtest.csv'})")


def no_runs_reason(directory: str | Path, again: Callable[[str], str] | None = None) -> str:
    """What ``directory`` holds, for a folder in which ``load_many`` finds no run folder: a
    back-test's output, only sweeps (each named with ``again(SUB)``, the command that reads its
    points, or told to be given on its own as RESULTS_DIR when ``again`` is None), only back-tests,
    or no results at all."""
    d = Path(directory)
    if is_backtest(d):
        return f"is {backtest_reason(d)}"
    subs = sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith("."))
    sweeps = [p for p in subs if is_sweep(p)]
    backtests = [p for p in subs if is_backtest(p)]
    if sweeps:
        how = ("; ".join(f"`{again(str(p))}`" for p in sweeps) if again is not None
               else "give one on its own as RESULTS_DIR")
        which = "a sweep (its points are read when it is" if len(sweeps) == 1 else \
            f"{len(sweeps)} sweeps (their points are read when each is"
        return f"holds no run folders, only {which} given on its own: {how})"
    if backtests:
        return "holds no run folders, only " + "; ".join(backtest_reason(p) for p in backtests)
    return "holds no results (no manifest.json in it or its subdirectories)"


def skipped_lines(directory: str | Path, again: Callable[[str], str]) -> list[str]:
    """``skipped SUB: why`` for every subfolder of ``directory`` that ``load_many`` leaves out ([] when
    ``directory`` is a run's or a sweep's own folder). ``again(SUB)`` is the same command with SUB as
    RESULTS_DIR, the command that reads a sweep's points. Hidden folders are not listed."""
    d = Path(directory)
    if not d.is_dir() or is_sweep(d) or (d / "manifest.json").is_file():
        return []
    lines = []
    for sub in sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if is_sweep(sub):
            why = f"a sweep (its points are read when it is given on its own: `{again(str(sub))}`)"
        elif is_backtest(sub):
            why = backtest_reason(sub)
        elif not (sub / "manifest.json").is_file():
            why = "holds no results (no manifest.json)"
        else:
            continue
        lines.append(f"skipped {sub}: {why}")
    return lines


def say_skipped(directory: str | Path, again: Callable[[str], str]) -> None:
    """Print :func:`skipped_lines` on stderr (the table or figure goes to stdout or a file)."""
    for line in skipped_lines(directory, again):
        print(line, file=sys.stderr)

"""Content hashes of the results of a fixed set of runs: the refactoring guard.

Two hashes per frame. The **exact** hash covers every bit; it holds on the machine and software
that wrote it (numpy picks its vectorised ``exp``, ``log``, ``power``, ... by the processor's
instruction sets, and those round the last bit differently from one processor to another: on
the same code a machine with other instructions gives stage values that differ by at most a few
units in the last place, measured 7e-14 relative at most on the baseline). The **rounded** hash
covers the same frame with its floats rounded to single precision (about 7 significant digits;
pandas hashes ``-0.0`` as ``0.0`` and every NaN as one): it holds on any machine, and any change of
the numbers beyond rounding breaks it. (A value within a last-place difference of a single-precision
rounding boundary could still round the other way: ``test_golden.py`` perturbs every float of the
set by 7e-14 relative, the largest difference seen between processors, and finds the rounded
hashes unchanged; a flip would show as a failure to look into, not pass unseen.)

``python tests/golden.py --write`` stores both for this machine in ``tests/data/golden_hashes.json``
(exact hashes of other machines are dropped: they would be stale). ``test_golden.py`` recomputes
them: the rounded hashes must be equal everywhere, the exact ones on a machine whose signature
(:func:`platform_signature`) is stored. A change that is meant to change the numbers (a new
behaviour) rewrites the file in the same commit and says so.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STORE = HERE / "data" / "golden_hashes.json"
SCENARIOS = {  # name: (file, overrides)
    "baseline": ("baseline.yaml", ["replications=3"]),
    "policy_package_2016": ("policy_package_2016.yaml", ["replications=3"]),
    "tax_holiday": ("tax_holiday.yaml", ["replications=3"]),
}
SWEEP = "sweep_tax_holiday.yaml"


def frame_hash(df: pd.DataFrame) -> str:
    """SHA-256 of a frame's column names, dtypes and values (row order kept)."""
    h = hashlib.sha256()
    h.update(json.dumps([[str(c), str(t)] for c, t in df.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
    return h.hexdigest()


def rounded(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with its float columns rounded to single precision."""
    out = df.copy()
    for column in out.columns:
        if out[column].dtype.kind == "f":
            out[column] = out[column].to_numpy().astype(np.float32)  # (pandas hashes -0.0 as 0.0, NaNs as one)
    return out


def platform_signature() -> str:
    """What the exact bits depend on beyond the code: processor, numpy and the instruction sets it
    dispatches to, the C library and Python."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    except OSError:
        pass
    found = "+".join(f for f in __cpu_dispatch__ if __cpu_features__.get(f))
    return (f"{platform.machine()} {model or platform.processor()} | numpy {np.__version__} {found} | "
            f"{' '.join(platform.libc_ver())} | python {platform.python_version()}")


def frames() -> dict[str, pd.DataFrame]:
    from valuechain.analysis import load_sweep
    from valuechain.simulation import load_scenario, run_scenario, run_sweep

    scenarios = ROOT / "scenarios"
    out: dict[str, pd.DataFrame] = {}
    for name, (file, overrides) in SCENARIOS.items():
        res = run_scenario(load_scenario(scenarios / file, overrides))
        out[f"{name}/stages"] = res.stages
        out[f"{name}/fiscal"] = res.fiscal
    with tempfile.TemporaryDirectory() as tmp:
        text = (scenarios / SWEEP).read_text().replace("replications: 10", "replications: 2")
        text = text.replace("base: sweep_base_levers.yaml", f"base: {scenarios / 'sweep_base_levers.yaml'}")
        sweep_file = Path(tmp) / "sweep.yaml"
        sweep_file.write_text(text)
        run_sweep(sweep_file, out=Path(tmp) / "store", workers=1, progress=False, columns="all")
        sweep = load_sweep(Path(tmp) / "store")
        for table in ("stages", "fiscal"):
            frame = getattr(sweep, table)
            out[f"sweep/{table}"] = frame.sort_values(["point", "replication", "year", "stage"],
                                                      kind="stable").reset_index(drop=True)
    return out


def compute(made: dict[str, pd.DataFrame] | None = None) -> dict:
    """``{"rounded": {frame: hash}, "exact": {platform_signature(): {frame: hash}}}`` of this machine
    (of ``made``, the :func:`frames`, where given)."""
    made = frames() if made is None else made
    return {"rounded": {key: frame_hash(rounded(df)) for key, df in made.items()},
            "exact": {platform_signature(): {key: frame_hash(df) for key, df in made.items()}}}


if __name__ == "__main__":
    hashes = compute()
    if "--write" in sys.argv:
        STORE.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")
    print(json.dumps(hashes, indent=1, sort_keys=True))

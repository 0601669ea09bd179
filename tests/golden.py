"""Content hashes of the results of a fixed set of runs: the refactoring guard.

``python tests/golden.py --write`` stores them in ``tests/data/golden_hashes.json``; the test
``test_golden.py`` recomputes them and asks for equality, bit for bit. A change that is meant to
change the numbers (a new behaviour) rewrites the file in the same commit and says so.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

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


def compute() -> dict[str, str]:
    from valuechain.analysis import load_sweep
    from valuechain.simulation import load_scenario, run_scenario, run_sweep

    scenarios = ROOT / "scenarios"
    out: dict[str, str] = {}
    for name, (file, overrides) in SCENARIOS.items():
        res = run_scenario(load_scenario(scenarios / file, overrides))
        out[f"{name}/stages"] = frame_hash(res.stages)
        out[f"{name}/fiscal"] = frame_hash(res.fiscal)
    with tempfile.TemporaryDirectory() as tmp:
        text = (scenarios / SWEEP).read_text().replace("replications: 10", "replications: 2")
        text = text.replace("base: sweep_base_levers.yaml", f"base: {scenarios / 'sweep_base_levers.yaml'}")
        sweep_file = Path(tmp) / "sweep.yaml"
        sweep_file.write_text(text)
        run_sweep(sweep_file, out=Path(tmp) / "store", workers=1, progress=False, columns="all")
        sweep = load_sweep(Path(tmp) / "store")
        for table in ("stages", "fiscal"):
            frame = getattr(sweep, table)
            out[f"sweep/{table}"] = frame_hash(frame.sort_values(
                ["point", "replication", "year", "stage"], kind="stable").reset_index(drop=True))
    return out


if __name__ == "__main__":
    hashes = compute()
    if "--write" in sys.argv:
        STORE.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")
    print(json.dumps(hashes, indent=1, sort_keys=True))

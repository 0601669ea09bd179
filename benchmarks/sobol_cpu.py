"""CPU seconds of the Sobol study of the four levers at a small size, in one process.

    python benchmarks/sobol_cpu.py [--samples 16] [--replications 16]

Runs ``scenarios/sweep_sobol_levers.yaml`` (over ``sweep_base_levers.yaml``: power price, freight
subsidy, tax-holiday exempt years 0-5, interest subsidy points) with N = ``--samples`` and
``--replications`` (16 x 6 points x 16 = 1,536 runs by default) on one worker in this process,
into a temporary store, and prints the process's CPU seconds (what another program on a shared
machine does not inflate) and the number of runs. The workload whose years take the tax-holiday and
interest-subsidy kernel (``abm.kernels_finance``) and whose points batch by branch.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from valuechain.simulation.running.sweeps import run_sweep  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--replications", type=int, default=16)
    args = ap.parse_args()
    text = (ROOT / "scenarios" / "sweep_sobol_levers.yaml").read_text()
    text = text.replace("base: sweep_base_levers.yaml", f"base: {ROOT / 'scenarios' / 'sweep_base_levers.yaml'}")
    text = text.replace("samples: 64", f"samples: {args.samples}")
    text = text.replace("replications: 4", f"replications: {args.replications}")
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "sobol.yaml"
        sweep.write_text(text)
        c0 = time.process_time()
        summary = run_sweep(str(sweep), out=Path(tmp) / "out", workers=1, progress=False)
        cpu_s = time.process_time() - c0
    assert summary.n_failed == 0, summary
    print(f"Sobol study of the four levers, {summary.n_ok:,} runs in one process: {cpu_s:.2f} CPU s "
          f"({1000 * cpu_s / summary.n_ok:.1f} CPU ms a run)")


if __name__ == "__main__":
    main()

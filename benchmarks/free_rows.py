"""What the free rows of the batched layout cost, and what skipping them would cost (issue 17).

    python benchmarks/free_rows.py

Prints (1) the rows of 50 runs of the default scenario side by side after 15 years: free slots
in the cells' regions, the runs' gaps, living and dead rows; (2) how often numpy's sum by cell
(``np.add.reduceat``, pairwise summation) changes when a cell's trailing zero rows are left out,
over random cells shaped like the layout's; (3) the per-row cost of the operations a pass over
the used rows only would need, against a plain pass over every row: a pass with a ``where=`` mask,
a gather of the used rows and a scatter back.

Read with ``VectorEngine`` (``abm.engine``): every per-firm pass runs over whole chunks of rows, so
a free row costs what a living one does; the sums by cell must stay those of the whole region
(zeros included) for the numbers to stay the same bits.
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from valuechain.simulation.abm.model import ValueChainModel  # noqa: E402
from valuechain.simulation.config.scenario import load_scenario  # noqa: E402


def layout_rows(runs: int = 50) -> None:
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml", ["replications=1"])
    m = ValueChainModel(sc, rngs=np.random.SeedSequence(1).spawn(runs))
    m.run()
    st = m.state
    n, used, alive, gaps = st.n, int(st.used.sum()), int(st.alive.sum()), int(st.gaps.sum())
    free_in_cells = int((st.sizes - st.used).sum())
    print(f"{runs} runs side by side after {sc.spec.horizon.years} years: {n:,} rows, {alive:,} living "
          f"({alive / n:.1%}), {used - alive:,} dead ({(used - alive) / n:.1%}), {free_in_cells:,} free in the "
          f"cells' regions ({free_in_cells / n:.1%}), {gaps:,} in the runs' gaps ({gaps / n:.1%}); "
          f"{int((st.used == 0).sum()):,} of {st.n_cells:,} cells hold no firm")


def trailing_zero_sums(cells: int = 2000, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    differ = 0
    for _ in range(cells):
        used = int(rng.integers(1, 200))
        x = np.zeros(used + int(rng.integers(1, 60)))
        x[:used] = rng.standard_normal(used) * rng.random(used) * 1e6
        differ += np.add.reduceat(x, [0])[0] != np.add.reduceat(x[:used], [0])[0]
    print(f"sum of a cell with and without its trailing zero rows (np.add.reduceat): {differ} of {cells} "
          f"random cells differ in the last bits")


def per_row_costs(rows: int = 32_768, share_used: float = 0.71, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(8, 80, size=rows // 40)
    n = int(sizes.sum())
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    used = np.maximum((sizes * share_used).astype(np.int64), 1)
    mask = np.zeros(n, dtype=bool)
    for a, u in zip(starts, used):
        mask[a:a + u] = True
    index = np.flatnonzero(mask)
    x, y, out = rng.random(n), rng.random(n), np.zeros(n)
    compact = x[index]
    cases = {
        "a pass over every row (np.multiply, out=)": lambda: np.multiply(x, y, out=out),
        "a pass with a where= mask of the used rows": lambda: np.multiply(x, y, out=out, where=mask),
        "a gather of the used rows (x.take(index))": lambda: x.take(index),
        "a scatter back (out[index] = compact)": lambda: out.__setitem__(index, compact),
        "a sum by cell over every row (np.add.reduceat)": lambda: np.add.reduceat(x, starts),
    }
    print(f"per-row cost on {n:,} rows in cells of 8-80 rows, {mask.mean():.0%} of them used "
          f"(best of 5 x 200 calls; per row of the whole range):")
    for label, f in cases.items():
        t = min(timeit.repeat(f, number=200, repeat=5)) / 200
        print(f"  {label:<50} {t / n * 1e9:6.2f} ns")


if __name__ == "__main__":
    layout_rows()
    trailing_zero_sums()
    per_row_costs()

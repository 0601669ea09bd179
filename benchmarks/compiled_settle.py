"""Would a compiled per-firm kernel pay? The settle step of the vectorized engine in one numba pass.

    pip install numba                         # not a dependency of valuechain: this probe only
    python benchmarks/compiled_settle.py      # bits checked, then the settle phase timed both ways

On arrays, ``economy.firm.firm_year`` makes about 45 passes over a chunk's rows, the coefficients
are spread over the rows first and the engine then sums eight flows by cell with
``np.add.reduceat`` and writes the new state back. The kernel here does the same arithmetic row by
row in one pass: the same IEEE double operations in the same order (no fast-math, so no
reassociation and no fused multiply-add), ``np.maximum``/``np.minimum`` as numpy computes them on
this machine (checked first), and the sums by cell with numpy's own pairwise summation (a segment's
first value plus the pairwise sum of the rest; eight accumulators in blocks of up to 128, halves
above; -0.0 as the start below 8). It covers the years without interest or employment subsidies,
tax holidays, investor cost factors or order tracking (the default scenario; other years take the
numpy path).

The script patches ``VectorEngine._settle_chunk`` to use the kernel, runs the 100k-firm scenario of
``bench.py`` and 50 runs of the default scenario side by side both ways, checks that every stage
and fiscal frame is the same bits, and prints the CPU time of the settle phase and of the year,
the fastest of ``--repeats`` runs each way, alternating.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from valuechain.simulation.abm import engine  # noqa: E402
from valuechain.simulation.economy import firm  # noqa: E402
from valuechain.simulation.economy.coefficients import CellCoefficients  # noqa: E402

try:
    import numba
except ImportError:
    sys.exit("this probe needs numba, which valuechain does not depend on: pip install numba")

COEFFICIENTS = ("stage_ratio", "above_scale_units", "dep_per_unit", "profit_x", "cost_y", "base_rate", "capital_cost",
                "desire_b_untaxed", "desire_a_untaxed", "desire_b_taxed", "desire_a_taxed", "desire_max", "survival",
                "units_per_yuan", "build_lag")
"""The per-cell coefficients the kernel reads, in the order of its table's columns (``build_lag`` last)."""
SUMMED = ("X", "Y", "X_above_scale", "debt_start", "profit", "tax_paid", "taxable", "investment")
"""The flows the kernel sums by cell (the others are zero in the years it covers), in its order."""
N_SUMMED = len(SUMMED)


def _jit(function, **options):
    return numba.njit(cache=True, nogil=True, **options)(function)


def covers(k: CellCoefficients) -> bool:
    """Whether the kernel computes this year: none of the switches it leaves to numpy is on and the
    firms' financial settings are single numbers."""
    return not (k.has_interest_subsidy or k.has_labour_subsidy or k.has_holidays or k.has_capex_factor
                or k.track_orders) and all(np.ndim(getattr(k, name)) == 0 for name in
                                           ("interest_rate", "debt_share", "max_debt_to_capital", "loss_limit"))


def _agrees_with_numpy() -> bool:
    """The kernels' summation and extrema against numpy's on awkward numbers (signed zeros, ties,
    segments of every length up to beyond a pairwise block)."""
    rng = np.random.default_rng(0)
    sizes = np.r_[np.arange(1, 45), 129, 136, 300, 1000, 2500]  # one by one, blocks, halves of halves
    values = rng.standard_normal(int(sizes.sum())) * 10.0 ** rng.integers(-3, 9, int(sizes.sum()))
    values[::7] = 0.0
    values[::11] = -0.0
    starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    sums = np.empty(starts.size)
    _reduceat(values, starts, values.size, sums)
    a, b = np.r_[values, -0.0, 0.0, 1.0], np.r_[values[::-1], 0.0, -0.0, 1.0]
    picks = np.empty((2, a.size))
    _extrema(a, b, picks)
    same = [(np.add.reduceat(values, starts), sums), (np.maximum(a, b), picks[0]), (np.minimum(a, b), picks[1])]
    return all(np.array_equal(x.view(np.uint64), y.view(np.uint64)) for x, y in same)


def settle_rows(k: CellCoefficients, chunk, st, working: np.ndarray, building: np.ndarray, year: int):
    """One year of the chunk's firms (as ``firm.firm_year`` and ``VectorEngine._settle_chunk``): the
    state written in place (cash, debt, capacity, first revenue year, loss years, capacity on order)
    and returned: the flows summed by cell (``SUMMED``, as ``chunk.cell_totals`` of the segments'
    sums) and the rows that leave (the chunk's, counted from the state's first row)."""
    rows = chunk.rows
    table = np.stack([chunk.per_segment(getattr(k, name)).astype(np.float64, copy=False) for name in COEFFICIENTS],
                     axis=1)
    sums = np.empty((len(SUMMED), chunk.local.size))
    leaving = np.empty(rows.stop - rows.start, dtype=np.int64)
    gone = _settle(table, chunk.local.astype(np.int64, copy=False), int(year), float(k.interest_rate),
                   float(k.debt_share), float(k.max_debt_to_capital), int(k.loss_limit), bool(k.exit_enabled),
                   st.raw("capacity")[rows], st.raw("inv_productivity")[rows], st.raw("debt")[rows],
                   st.raw("cash")[rows], working, st.raw("first_revenue_year")[rows], st.raw("loss_years")[rows],
                   building, st.raw("alive")[rows], st.raw("pending")[:, rows], firm.AMORTISATION, sums, leaving)
    parts = {name: chunk.cell_totals(sums[i]) for i, name in enumerate(SUMMED)}
    return parts, rows.start + leaving[:gone]


def _max(a, b):  # np.maximum on this machine (checked by ``_agrees_with_numpy``): b where a does not exceed it
    return a if a > b else b


def _min(a, b):  # np.minimum: b where a is not below it
    return a if a < b else b


def _block(a, lo, n):
    """numpy's pairwise summation of ``a[lo:lo + n]`` for n <= 128 (``pairwise_sum`` in numpy's
    loops: one by one below 8, else eight accumulators)."""
    if n < 8:
        res = -0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    whole = n - n % 8
    while i < whole:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


def _pairwise(a, lo, n):
    """numpy's pairwise summation of ``a[lo:lo + n]``: blocks of up to 128 (``_block``), above that
    the sum of the two halves (the first rounded down to a multiple of 8), evaluated here with a
    stack of the halves instead of recursion (numba does not cache recursive functions safely)."""
    if n <= 128:
        return _block(a, lo, n)
    starts = np.empty(64, np.int64)  # the halves being summed, outermost first
    sizes = np.empty(64, np.int64)
    left = np.empty(64)  # a half's left sum, once known
    has_left = np.zeros(64, np.bool_)
    depth = 0
    starts[0], sizes[0] = lo, n
    value = 0.0
    while True:
        m = sizes[depth]
        if m > 128:  # descend into the left half
            half = m // 2
            half -= half % 8
            starts[depth + 1], sizes[depth + 1], has_left[depth + 1] = starts[depth], half, False
            depth += 1
            continue
        value = _block(a, starts[depth], m)
        while True:  # hand the value up: a left half starts its right sibling, a right half closes its parent
            if depth == 0:
                return value
            depth -= 1
            if not has_left[depth]:
                left[depth], has_left[depth] = value, True
                half = sizes[depth] // 2
                half -= half % 8
                starts[depth + 1], sizes[depth + 1] = starts[depth] + half, sizes[depth] - half
                has_left[depth + 1] = False
                depth += 1
                break
            value = left[depth] + value


def _reduceat(a, starts, n, out):
    """``np.add.reduceat(a[:n], starts)``: a segment's first value plus the pairwise sum of the rest
    (an empty segment gives the value at its start, as numpy does)."""
    for s in range(starts.size):
        lo = starts[s]
        hi = starts[s + 1] if s + 1 < starts.size else n
        out[s] = a[lo] if hi <= lo else a[lo] + _pairwise(a, lo + 1, hi - lo - 1)


def _extrema(a, b, out):
    for i in range(a.size):
        out[0, i] = _max(a[i], b[i])
        out[1, i] = _min(a[i], b[i])


def _settle(table, local, year, interest_rate, debt_share, max_debt_to_capital, loss_limit, exit_enabled,
            cap, inv_phi, debt, cash, working, first_rev, loss_years, building, alive, pending, amortisation,
            sums, leaving):
    """The kernel: ``firm.firm_year`` without the switches :func:`covers` excludes, line for line
    (the comments name the numpy lines), then the sums by segment and the new state."""
    n = cap.size
    n_seg = local.size
    slots = pending.shape[0]
    longest = 0
    for s in range(n_seg):
        longest = max(longest, (local[s + 1] if s + 1 < n_seg else n) - local[s])
    flows = np.empty((N_SUMMED, max(longest, 1)))  # a segment's flows, summed before the next segment's
    exiting = np.empty(n, np.bool_)
    for s in range(n_seg):
        lo = local[s]
        hi = local[s + 1] if s + 1 < n_seg else n
        c = table[s]
        stage_ratio, above, dep_per_unit, profit_x, cost_y, base_rate, capital_cost = (c[0], c[1], c[2], c[3], c[4],
                                                                                      c[5], c[6])
        b_untaxed, a_untaxed, b_taxed, a_taxed, desire_max, survival, units_per_yuan = (c[7], c[8], c[9], c[10],
                                                                                       c[11], c[12], c[13])
        arriving = pending[(year + 1 + np.int64(c[14])) % slots]  # the slot of the cell's build lag
        for i in range(np.uint64(lo), np.uint64(hi)):  # unsigned: no wraparound of negative indices
            j = i - np.uint64(lo)
            X = working[i] * stage_ratio
            Y = X * inv_phi[i]
            X_above = np.float64(X >= above) * X
            produced = X > 0
            started_before = first_rev[i] <= year
            started = started_before | produced
            first_rev[i] = year if produced & (not started_before) else first_rev[i]
            depreciation_yuan = dep_per_unit * cap[i]
            debt0 = debt[i]
            cash_flow = profit_x * X
            cash_flow -= cost_y * Y
            cash_flow -= interest_rate * debt0
            profit = cash_flow - depreciation_yuan
            taxable = _max(profit, 0.0)
            tax = base_rate * taxable
            new_debt = debt0 * amortisation
            new_cash = cash_flow - tax
            new_cash -= debt0 - new_debt
            new_cash += cash[i]
            # desired_investment (the cell's piecewise-linear lines)
            untaxed = a_untaxed - b_untaxed * inv_phi[i]
            taxed = a_taxed - b_taxed * inv_phi[i]
            per_unit = _min(_max(_min(untaxed, taxed), 0.0), desire_max)
            desired = per_unit * cap[i]
            capital = (cap[i] + building[i]) * capital_cost
            # rules.finance_investment
            own = _max(new_cash, 0.0)
            headroom = _max(max_debt_to_capital * capital - new_debt, 0.0)
            invest = _min(desired, own + headroom)
            short = invest - own
            loans = _min(_max(debt_share * invest, short), headroom)
            losses = (loss_years[i] + 1) * ((cash_flow < 0) & started)
            exiting[i] = alive[i] & ((losses >= loss_limit) | (new_cash + capital - new_debt < 0.0))
            new_cash -= invest - loans
            new_debt += loans
            flows[0, j] = X
            flows[1, j] = Y
            flows[2, j] = X_above
            flows[3, j] = debt0
            flows[4, j] = profit
            flows[5, j] = tax
            flows[6, j] = taxable
            flows[7, j] = invest
            cash[i] = new_cash
            debt[i] = new_debt
            cap[i] = cap[i] * survival
            loss_years[i] = losses
            arriving[i] += invest * units_per_yuan
        for f in range(N_SUMMED):  # np.add.reduceat: the first value plus the pairwise sum of the rest
            sums[f, s] = flows[f, 0] if hi <= lo else flows[f, 0] + _pairwise(flows[f], 1, hi - lo - 1)
    gone = 0
    if exit_enabled:
        for i in range(n):
            if exiting[i]:
                leaving[gone] = i
                gone += 1
    return gone


if True:  # compiled at import (numba's cache beside this file)
    _max, _min = _jit(_max, inline="always"), _jit(_min, inline="always")  # inlined: a select, not a call
    _block, _pairwise, _reduceat, _extrema = (_jit(f) for f in (_block, _pairwise, _reduceat, _extrema))
    _settle = _jit(_settle)


def patched_settle_chunk(original):
    """``VectorEngine._settle_chunk`` with the kernel where it covers the year (``covers``)."""
    def settle_chunk(self, chunk, planned, k, year):
        working, building = planned
        if not covers(k) or self.st.vintages:
            return original(self, chunk, planned, k, year)
        self._reprice_working(chunk, working, k)
        return settle_rows(k, chunk, self.st, working, building, year)
    return settle_chunk


def timed_years(make_model, years: int) -> tuple[float, float, object]:
    """CPU seconds of ``years`` steps and of their settle phase, and the model."""
    model = make_model()
    spent = [0.0]
    settle = model.engine.settle

    def timed(*args):
        t = time.process_time()
        out = settle(*args)
        spent[0] += time.process_time() - t
        return out
    model.engine.settle = timed
    t0 = time.process_time()
    for _ in range(years):
        model.step()
    return time.process_time() - t0, spent[0], model


def frames_equal(a, b, runs: int) -> bool:
    for run in range(runs):
        for fa, fb in ((a.recorder.stage_frame(run), b.recorder.stage_frame(run)),
                       (a.recorder.fiscal_frame(run), b.recorder.fiscal_frame(run))):
            if not fa.equals(fb):
                return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if not _agrees_with_numpy():
        sys.exit("the kernel's summation or extrema differ from this numpy's: the bits would differ")
    print(f"numba {numba.__version__}, numpy {np.__version__}: the kernel's sums and extrema are numpy's bits")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench

    original = engine.VectorEngine._settle_chunk
    compiled_chunk = patched_settle_chunk(original)
    cases = {"100,000 firms, 10 years": (lambda: bench.ValueChainModel(bench.scenario_for(100_000, 10), rng=1), 10, 1)}
    side_by_side = bench.load_scenario(bench.BASELINE, ["replications=1"])
    cases["50 runs of the default scenario side by side, 15 years"] = (
        lambda: bench.ValueChainModel(side_by_side, rngs=np.random.SeedSequence(1).spawn(50)),
        side_by_side.spec.horizon.years, 50)
    engine.VectorEngine._settle_chunk = compiled_chunk  # compile (or load numba's cache) before timing
    timed_years(lambda: bench.ValueChainModel(bench.scenario_for(3_000, 2), rng=1), 2)
    engine.VectorEngine._settle_chunk = original
    for label, (make, years, runs) in cases.items():
        best = {"numpy": (np.inf, np.inf), "compiled": (np.inf, np.inf)}
        models = {}
        for _ in range(args.repeats):
            for mode in ("numpy", "compiled"):
                engine.VectorEngine._settle_chunk = compiled_chunk if mode == "compiled" else original
                total, settle, models[mode] = timed_years(make, years)
                best[mode] = min(best[mode], (total, settle))
        engine.VectorEngine._settle_chunk = original
        same = frames_equal(models["numpy"], models["compiled"], runs)
        (t0, s0), (t1, s1) = best["numpy"], best["compiled"]
        print(f"{label}: frames the same bits: {same}; fastest of {args.repeats}, CPU ms a year: "
              f"settle {s0 / years * 1e3:.2f} (numpy) -> {s1 / years * 1e3:.2f} (compiled), {s0 / s1:.2f}x; "
              f"year {t0 / years * 1e3:.2f} -> {t1 / years * 1e3:.2f}, {t0 / t1:.2f}x")


if __name__ == "__main__":
    main()

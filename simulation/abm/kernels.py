"""A compiled kernel (numba) of the vectorized engine's settle step: each firm's year in one pass.

On arrays, ``economy.firm.firm_year`` makes about 45 passes over a chunk's rows, and the engine
spreads the per-cell coefficients over the rows first and sums the flows by cell with
``np.add.reduceat``. The kernel here does the same arithmetic row by row: the same IEEE double
operations in the same order (no fast-math, so no reassociation and no fused multiply-add),
``np.maximum`` / ``np.minimum`` as numpy computes them (:func:`maximum`, :func:`minimum`) and the
sums by segment as numpy's ``np.add.reduceat`` does (:func:`segment_sum`): the same bits. numpy's
path (``engine.VectorEngine``) stays the reference; the engine uses these kernels only where
:func:`covers` says they compute the year, and only once :func:`agrees_with_numpy` has found this
numpy's summation and extrema to be the kernels' (``engine.compiled_kernels``).

Compiled on first call and cached beside this file (``cache=True``), so that later runs and a
sweep's worker processes load the machine code instead of compiling it again.
"""

from __future__ import annotations

import numba
import numpy as np

from ..economy.coefficients import CellCoefficients
from ..economy.firm import AMORTISATION

jit = numba.njit(cache=True, nogil=True)  # no fastmath: IEEE operations as written
inline = numba.njit(cache=True, nogil=True, inline="always")  # a select in the caller, not a call

COEFFICIENTS = ("stage_ratio", "above_scale_units", "dep_per_unit", "profit_x", "cost_y", "base_rate", "capital_cost",
                "desire_b_untaxed", "desire_a_untaxed", "desire_b_taxed", "desire_a_taxed", "desire_max", "survival",
                "units_per_yuan", "build_lag")
"""The per-cell coefficients :func:`settle_rows` reads, in the order of its table's columns."""
SUMMED = ("X", "Y", "X_above_scale", "debt_start", "profit", "tax_paid", "taxable", "investment")
"""The flows the settle kernel sums by segment, in its order (the engine's other flows are zero in
the years it covers)."""
SCALARS = ("interest_rate", "debt_share", "max_debt_to_capital", "loss_limit")
BLOCK = 128  # numpy's pairwise summation sums blocks of up to this many values with eight accumulators


def covers(k: CellCoefficients, vintages: int) -> bool:
    """Whether the settle kernel computes this year: no interest or employment subsidy, tax holiday,
    investor cost factor, order tracking or subsidised-loan vintages (``FirmState.vintages``), and
    the firms' financial settings are single numbers. Other years take numpy's path."""
    return not (k.has_interest_subsidy or k.has_labour_subsidy or k.has_holidays or k.has_capex_factor
                or k.track_orders or vintages) and all(np.ndim(getattr(k, name)) == 0 for name in SCALARS)


# ------------------------------------------------------------------ numpy's extrema and sums, in numba

@inline
def maximum(a, b):
    """``np.maximum(a, b)``: a NaN wins, else ``b`` unless ``a`` exceeds it (so -0.0, 0.0 gives 0.0)."""
    return a if (a > b or a != a) else b


@inline
def minimum(a, b):
    """``np.minimum(a, b)``: a NaN wins, else ``b`` unless ``a`` is below it."""
    return a if (a < b or a != a) else b


@jit
def block_sum(a, lo, n):
    """numpy's pairwise sum of ``a[lo:lo + n]`` for ``n <= BLOCK`` (``pairwise_sum`` in numpy's loops):
    one by one from -0.0 below 8 values, else eight accumulators, then the remainder. (Indices
    unsigned: numba then checks no negative index, and the loop compiles to vector loads.)"""
    one, eight = np.uint64(1), np.uint64(8)
    lo, n = np.uint64(lo), np.uint64(n)
    if n < eight:
        res = -0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + one], a[lo + np.uint64(2)], a[lo + np.uint64(3)]
    r4, r5, r6, r7 = a[lo + np.uint64(4)], a[lo + np.uint64(5)], a[lo + np.uint64(6)], a[lo + np.uint64(7)]
    whole = n - n % eight
    i = eight
    while i < whole:
        j = lo + i
        r0 += a[j]
        r1 += a[j + one]
        r2 += a[j + np.uint64(2)]
        r3 += a[j + np.uint64(3)]
        r4 += a[j + np.uint64(4)]
        r5 += a[j + np.uint64(5)]
        r6 += a[j + np.uint64(6)]
        r7 += a[j + np.uint64(7)]
        i += eight
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += one
    return res


@jit
def pairwise_sum(a, lo, n):
    """numpy's pairwise sum of ``a[lo:lo + n]``: :func:`block_sum` up to ``BLOCK`` values, above that
    the sum of the two halves (the first rounded down to a multiple of 8), each summed so in turn."""
    if n <= BLOCK:
        return block_sum(a, lo, n)
    # not recursive: numba may crash loading a recursive function from its cache (numba issue #6061);
    # the blocks and their sums in order (:func:`_leaves`), then combined as the halves add (:func:`_combine`)
    sizes = np.empty(n // 8 + 2, dtype=np.int64)  # a block holds more than 8 values here
    todo, size = np.empty(MAX_DEPTH, dtype=np.int64), np.empty(MAX_DEPTH, dtype=np.int64)
    left, done = np.empty(MAX_DEPTH), np.empty(MAX_DEPTH, dtype=np.bool_)
    count = _leaves(n, sizes, 0, todo)
    sums = np.empty(count)
    at = lo
    for j in range(count):
        sums[j] = block_sum(a, at, sizes[j])
        at += sizes[j]
    return _combine(n, sums, size, left, done)


@jit
def segment_sum(a, lo, hi):
    """``np.add.reduceat``'s sum of the segment ``[lo, hi)``: its first value plus the pairwise sum of
    the rest (an empty segment: the value at its start)."""
    if hi <= lo:
        return a[lo]
    return a[lo] + pairwise_sum(a, lo + 1, hi - lo - 1)


@jit
def reduceat(a, starts, out):
    """``out[:] = np.add.reduceat(a, starts)``."""
    for s in range(starts.size):
        out[s] = segment_sum(a, starts[s], starts[s + 1] if s + 1 < starts.size else a.size)


@jit
def extrema(a, b, out):
    """``out[0] = np.maximum(a, b)``, ``out[1] = np.minimum(a, b)`` (for :func:`agrees_with_numpy`)."""
    for i in range(a.size):
        out[0, i] = maximum(a[i], b[i])
        out[1, i] = minimum(a[i], b[i])


def agrees_with_numpy() -> bool:
    """The kernels' sums and extrema are this numpy's bits on awkward numbers: signed zeros, NaN,
    ties, magnitudes from 1e-3 to 1e9, segments of every length to 300 and beyond a chunk's."""
    rng = np.random.default_rng(0)
    sizes = np.r_[np.arange(1, 301), 1000, 2500, 8193, 40_000]
    values = rng.standard_normal(int(sizes.sum())) * 10.0 ** rng.integers(-3, 10, int(sizes.sum()))
    values[::7] = 0.0
    values[::11] = -0.0
    starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    sums = np.empty(starts.size)
    reduceat(values, starts, sums)
    a = np.r_[values[:5000], -0.0, 0.0, 1.0, np.nan, 1.0, -np.inf, np.inf]
    b = np.r_[values[5000:0:-1], 0.0, -0.0, 1.0, 1.0, np.nan, np.inf, -np.inf]
    picks = np.empty((2, a.size))
    extrema(a, b, picks)
    same = [(np.add.reduceat(values, starts), sums), (np.maximum(a, b), picks[0]), (np.minimum(a, b), picks[1])]
    return all(np.array_equal(x.view(np.uint64), y.view(np.uint64)) for x, y in same)


# ------------------------------------------------------------------ settle

def coefficient_table(k: CellCoefficients, out: np.ndarray | None = None) -> np.ndarray:
    """The year's per-cell coefficients the kernel reads, a row per cell (columns: ``COEFFICIENTS``);
    written into ``out`` where it is given and has the table's shape (the engine's, kept across
    years: no new memory a year), else a new table."""
    columns = [np.asarray(getattr(k, name), dtype=np.float64) for name in COEFFICIENTS]
    if out is None or out.shape != (columns[0].size, len(COEFFICIENTS)):
        return np.stack(columns, axis=1)
    for i, column in enumerate(columns):
        out[:, i] = column
    return out


def settle_rows(k: CellCoefficients, table: np.ndarray, chunk, st, working: np.ndarray, building: np.ndarray,
                year: int):
    """One year of the chunk's firms, as ``firm.firm_year`` and ``VectorEngine._settle_chunk`` in the
    years :func:`covers` (``table``: :func:`coefficient_table`): the state written in place (cash,
    debt, capacity, first revenue year, loss years, capacity on order) and returned: the flows
    summed by cell (``SUMMED``) and the rows that leave (the state's)."""
    rows = chunk.rows
    sums = np.empty((len(SUMMED), chunk.local.size))
    leaving = np.empty(rows.stop - rows.start, dtype=np.int64)
    gone = _settle(chunk.per_segment(table), chunk.local.astype(np.int64, copy=False), int(year),
                   float(k.interest_rate), float(k.debt_share), float(k.max_debt_to_capital), int(k.loss_limit),
                   bool(k.exit_enabled), st.raw("capacity")[rows], st.raw("inv_productivity")[rows],
                   st.raw("debt")[rows], st.raw("cash")[rows], working, st.raw("first_revenue_year")[rows],
                   st.raw("loss_years")[rows], building, st.raw("alive")[rows], st.raw("pending")[:, rows],
                   AMORTISATION, sums, leaving)
    parts = {name: chunk.cell_totals(sums[i]) for i, name in enumerate(SUMMED)}
    return parts, rows.start + leaving[:gone]


MAX_DEPTH = 64  # levels of pairwise halves: far beyond any array (each halves the count)


@jit
def _leaves(n, sizes, k, todo):
    """The sizes of the blocks :func:`pairwise_sum` of ``n`` values sums, in order, into ``sizes[k:]``;
    returns the index after the last. (Halves walked with a stack, ``todo``: ``MAX_DEPTH`` integers;
    a recursive function loaded from numba's cache may crash.)"""
    todo[0], top = n, 1
    while top:
        top -= 1
        m = todo[top]
        if m <= BLOCK:
            sizes[k] = m
            k += 1
        else:
            half = m // 2
            half -= half % 8
            todo[top], todo[top + 1] = m - half, half  # the first half next, then the second
            top += 2
    return k


@jit
def _combine(n, block_sums, size, left, done):
    """:func:`pairwise_sum` of ``n`` values from its blocks' sums (``block_sums``, from :func:`_leaves`):
    the same additions in the same order (the halves walked with a stack, as :func:`_leaves`: each
    open half's values in ``size``, the sum of its first half once known in ``left`` and ``done``,
    ``MAX_DEPTH`` each; given, so that no call allocates)."""
    size[0], done[0], depth, k = n, False, 0, 0
    while True:
        m = size[depth]
        if m > BLOCK:  # open its first half
            half = m // 2
            half -= half % 8
            depth += 1
            size[depth], done[depth] = half, False
            continue
        value = block_sums[k]
        k += 1
        while depth > 0:  # hand the sum up: a first half waits for its second, a second completes its parent
            depth -= 1
            if done[depth]:
                value = left[depth] + value
                continue
            left[depth], done[depth] = value, True
            half = size[depth] // 2
            half -= half % 8
            depth += 1
            size[depth], done[depth] = size[depth - 1] - half, False
            break
        else:
            return value


@inline
def financed(desired, new_cash, new_debt, capital, debt_share, max_debt_to_capital):
    """``rules.finance_investment`` of one firm: (investment, new loans)."""
    own = maximum(new_cash, 0.0)
    headroom = maximum(max_debt_to_capital * capital - new_debt, 0.0)
    invest = minimum(desired, own + headroom)
    return invest, minimum(maximum(debt_share * invest, invest - own), headroom)


@inline
def close_block(flows, block_sums, block, at, block_end, block_sizes, n_blocks):
    """A settle kernel's block of a segment's flows complete: its sums kept (one per flow) and the
    next block begun; returns (block, its first row, its end)."""
    for f in range(flows.shape[0]):
        block_sums[f, block] = block_sum(flows[f], 0, block_end - at)
    block += 1
    at = block_end
    if block < n_blocks:
        block_end = at + np.uint64(block_sizes[block])
    return block, at, block_end


@inline
def segment_sums(first, flows, block_sums, block, n_blocks, rest, sums, s, size, left, done):
    """A segment's flows summed as ``np.add.reduceat`` sums them, into ``sums[:, s]``: its first row's
    plus the pairwise sum of its other ``rest`` rows from their blocks' sums."""
    if block < n_blocks:  # a segment of one row: the pairwise sum of nothing
        for f in range(flows.shape[0]):
            block_sums[f, block] = block_sum(flows[f], 0, 0)
    for f in range(flows.shape[0]):
        sums[f, s] = first[f] + _combine(rest, block_sums[f], size, left, done)


@jit
def _settle(table, local, year, interest_rate, debt_share, max_debt_to_capital, loss_limit, exit_enabled,
            cap, inv_phi, debt, cash, working, first_rev, loss_years, building, alive, pending, amortisation,
            sums, leaving):
    """The kernel of :func:`settle_rows` (``table``: the coefficients, a row per segment):
    ``firm.firm_year`` without the switches :func:`covers` excludes, line for line
    (``desired_investment``'s lines, ``rules.finance_investment``, ``rules.exits``), then each
    segment's sums and the new state; returns how many rows leave."""
    n, n_seg, slots = cap.size, local.size, pending.shape[0]
    longest = 1
    for s in range(n_seg):
        longest = max(longest, (local[s + 1] if s + 1 < n_seg else n) - local[s])
    # a segment's flows are summed as np.add.reduceat does (:func:`segment_sum`): its first row's,
    # plus the pairwise sum of the rest, block by block as the rows are computed (``flows``: the
    # current block's), the blocks' sums then combined in the pairwise order (:func:`_combine`)
    flows = np.empty((len(SUMMED), BLOCK))
    first = np.empty(len(SUMMED))
    block_sizes = np.empty(longest // 32 + 2, dtype=np.int64)
    block_sums = np.empty((len(SUMMED), block_sizes.size))
    todo, size, left, done = (np.empty(MAX_DEPTH, dtype=np.int64), np.empty(MAX_DEPTH, dtype=np.int64),
                              np.empty(MAX_DEPTH), np.empty(MAX_DEPTH, dtype=np.bool_))
    gone = 0
    for s in range(n_seg):
        lo = local[s]
        hi = local[s + 1] if s + 1 < n_seg else n
        c = table[s]  # the columns of COEFFICIENTS
        stage_ratio, above, dep_per_unit, profit_x, cost_y = c[0], c[1], c[2], c[3], c[4]
        base_rate, capital_cost, b_untaxed, a_untaxed, b_taxed = c[5], c[6], c[7], c[8], c[9]
        a_taxed, desire_max, survival, units_per_yuan, build_lag = c[10], c[11], c[12], c[13], c[14]
        arriving = pending[(year + 1 + np.int64(build_lag)) % slots]  # the slot of the cell's build lag
        n_blocks = _leaves(hi - lo - 1, block_sizes, 0, todo)
        block, at = 0, np.uint64(1)  # the current block: the segment's rows at .. at + its size
        block_end = at + np.uint64(block_sizes[0])
        for i in range(np.uint64(lo), np.uint64(hi)):  # unsigned: no check for negative indices
            j = i - np.uint64(lo)
            X = working[i] * stage_ratio
            Y = X * inv_phi[i]
            X_above = np.float64(X >= above) * X
            produced = X > 0
            started_before = first_rev[i] <= year
            started = started_before or produced
            if produced and not started_before:
                first_rev[i] = year
            depreciation_yuan = dep_per_unit * cap[i]
            debt0 = debt[i]
            cash_flow = profit_x * X
            cash_flow -= cost_y * Y
            cash_flow -= interest_rate * debt0
            profit = cash_flow - depreciation_yuan
            taxable = maximum(profit, 0.0)
            tax = base_rate * taxable
            new_debt = debt0 * amortisation
            new_cash = cash_flow - tax
            new_cash -= debt0 - new_debt
            new_cash += cash[i]
            # firm.desired_investment: the cell's piecewise-linear lines of 1/productivity
            untaxed = a_untaxed - b_untaxed * inv_phi[i]
            taxed = a_taxed - b_taxed * inv_phi[i]
            desired = minimum(maximum(minimum(untaxed, taxed), 0.0), desire_max) * cap[i]
            capital = (cap[i] + building[i]) * capital_cost
            invest, loans = financed(desired, new_cash, new_debt, capital, debt_share, max_debt_to_capital)
            losses = (loss_years[i] + 1) * (cash_flow < 0 and started)
            # rules.exits, on the equity before investing (the engine keeps the living firms' only)
            if exit_enabled and alive[i] and (losses >= loss_limit or new_cash + capital - new_debt < 0.0):
                leaving[gone] = i
                gone += 1
            new_cash -= invest - loans
            new_debt += loans
            if j == 0:
                first[0], first[1], first[2], first[3] = X, Y, X_above, debt0
                first[4], first[5], first[6], first[7] = profit, tax, taxable, invest
            else:
                q = j - at
                flows[0, q] = X
                flows[1, q] = Y
                flows[2, q] = X_above
                flows[3, q] = debt0
                flows[4, q] = profit
                flows[5, q] = tax
                flows[6, q] = taxable
                flows[7, q] = invest
                if j + np.uint64(1) == block_end:  # the block is complete
                    block, at, block_end = close_block(flows, block_sums, block, at, block_end, block_sizes, n_blocks)
            cash[i] = new_cash
            debt[i] = new_debt
            cap[i] = cap[i] * survival
            loss_years[i] = losses
            arriving[i] += invest * units_per_yuan
        segment_sums(first, flows, block_sums, block, n_blocks, hi - lo - 1, sums, s, size, left, done)
    return gone


# ------------------------------------------------------------------ streams

MASK32 = np.uint64(0xFFFFFFFF)
SHIFT16 = np.uint64(16)


@inline
def _hashmix(value, hash_const, mult):
    """numpy's ``SeedSequence`` hashmix of one word (``streams.pools``): the hashed word and the next constant."""
    value = value ^ hash_const
    hash_const = (hash_const * mult) & MASK32
    value = (value * hash_const) & MASK32
    return value ^ (value >> SHIFT16), hash_const


@inline
def _mix(x, y):
    result = (np.uint64(0xCA01F9DD) * x - np.uint64(0x4973F715) * y) & MASK32
    return result ^ (result >> SHIFT16)


@jit
def seed_words(entropy, out):
    """``out[r] = streams.state_words(streams.pools(entropy))[r]``: the four uint64 seed words of each
    row of uint32 entropy (numpy's ``SeedSequence``: ``mix_entropy`` into a pool of four words,
    ``generate_state(4, np.uint64)``), in uint64 arithmetic cut to 32 bits after each operation."""
    mult_a, mult_b = np.uint64(0x931E8875), np.uint64(0x58F38DED)
    pool = np.empty(4, dtype=np.uint64)
    for r in range(entropy.shape[0]):
        hash_const = np.uint64(0x43B0D7E5)
        for i in range(4):
            pool[i], hash_const = _hashmix(np.uint64(entropy[r, i]), hash_const, mult_a)
        for src in range(4):
            for dst in range(4):
                if src != dst:
                    hashed, hash_const = _hashmix(pool[src], hash_const, mult_a)
                    pool[dst] = _mix(pool[dst], hashed)
        for src in range(4, entropy.shape[1]):
            for dst in range(4):
                hashed, hash_const = _hashmix(np.uint64(entropy[r, src]), hash_const, mult_a)
                pool[dst] = _mix(pool[dst], hashed)
        hash_const = np.uint64(0x8B51F9DD)
        for w in range(out.shape[1]):
            low, hash_const = _hashmix(pool[(2 * w) % 4], hash_const, mult_b)
            high, hash_const = _hashmix(pool[(2 * w + 1) % 4], hash_const, mult_b)
            out[r, w] = low | (high << np.uint64(32))


# ------------------------------------------------------------------ ownership turnover

@jit
def closing_rows(per_cell, counts, u_pairs, rows, inv_productivity, cell, successions):
    """``rows[turnover.pick_closures(per_cell, counts, u_pairs, lambda p: inv_productivity[rows[p]])]``,
    the rows that close (in order, each once), and their number by cell added to ``successions``
    (``np.bincount(cell[closing])``): the weaker of each pair marked, then the marked collected
    cell by cell (no sort)."""
    marked = np.zeros(rows.size, dtype=np.bool_)
    first, j = 0, 0
    for c in range(counts.size):
        n = per_cell[c]
        for _ in range(counts[c]):
            a = first + min(np.int64(u_pairs[j, 0] * n), n - 1)
            b = first + min(np.int64(u_pairs[j, 1] * n), n - 1)
            marked[a if inv_productivity[rows[a]] >= inv_productivity[rows[b]] else b] = True
            j += 1
        first += n
    closing = np.empty(j, dtype=np.int64)
    m, first = 0, 0
    for c in range(counts.size):
        if counts[c]:
            for p in range(first, first + per_cell[c]):
                if marked[p]:  # (a firm drawn twice closes once)
                    closing[m] = rows[p]
                    successions[cell[rows[p]]] += 1
                    m += 1
        first += per_cell[c]
    return closing[:m]


# ------------------------------------------------------------------ rebuilding the layout

@inline
def _living_to_heads(alive, i, end, starts, heads, c0, c1, mapping, cell, spans, m):
    """The living old rows from ``i`` (before ``end``) to the heads of cells ``c0`` to ``c1`` in turn
    (cell c's: ``starts[c]`` to ``starts[c] + heads[c]``): ``mapping`` of each, the moves of
    consecutive rows added to ``spans`` from ``m``, and every new row of those cells given its cell.
    Returns (the old row after the last moved, the moves' count), or (``end``, -1) if fewer rows live
    than the heads hold."""
    one = np.uint64(1)
    last_i, last_r = np.int64(-2), np.int64(-2)  # the last move's rows
    for c in range(c0, c1):
        lo = np.uint64(starts[c])
        for r in range(lo, lo + np.uint64(heads[c])):
            while i < end and not alive[i]:
                i += one
            if i == end:
                return end, -1
            mapping[i] = r
            if np.int64(i) == last_i + 1 and np.int64(r) == last_r + 1:  # the move goes on
                spans[m - 1, 2] += 1
            else:
                spans[m, 0] = i
                spans[m, 1] = r
                spans[m, 2] = 1
                m += 1
            last_i, last_r = np.int64(i), np.int64(r)
            i += one
        for r in range(lo, np.uint64(starts[c + 1])):
            cell[r] = c
    return i, m


@jit
def rebuilt_rows(alive, starts, heads, mapping, cell, spans):
    """A new layout of every run (``FirmState._rebuild``) in one pass: the k-th living old row goes
    to the k-th row of the cells' heads (cell c's: ``starts[c]`` to ``starts[c] + heads[c]``), so
    ``mapping[old row]`` is its new row (-1: dropped), ``cell`` the new rows' cells (a run's gap: its
    last cell) and ``spans[:m]`` the moves of consecutive living rows (old row, new row, rows).
    Returns ``m``, or -1 if there are fewer living rows than heads (the caller checks there are
    not more). (Row indices unsigned: no checks for negative indices.)"""
    mapping[:] = -1
    _, m = _living_to_heads(alive, np.uint64(0), np.uint64(alive.size), starts, heads, 0, heads.size, mapping, cell,
                            spans, 0)
    return m


@jit
def rebuilt_some_rows(alive, old_cell, old_starts, old_ends, starts, heads, rebuilt, cells_per_run, mapping, cell,
                      spans):
    """A new layout of some runs (``rebuilt``, a bool per run; ``FirmState._rebuild`` where not every
    run is rebuilt and they do not fit in place): a rebuilt run as :func:`rebuilt_rows` (its k-th living
    old row to the k-th row of its cells' heads, ``heads[c]`` of cell c), every other run's cells
    moved whole (one move: old rows to its last cell's end, their cells with them) and its new gap
    given its last cell; ``mapping[old row]`` the new row (-1: dropped), ``cell`` the new rows' cells,
    ``spans[:m]`` the moves (old row, new row, rows). Returns ``m``, or -1 if a rebuilt run's living
    rows are not its cells' heads (fewer or more)."""
    mapping[:] = -1
    one = np.uint64(1)
    m = 0
    for run in range(rebuilt.size):
        c0 = run * cells_per_run
        c1 = c0 + cells_per_run
        if rebuilt[run]:
            end_old = np.uint64(old_starts[c1])  # its rows and old gap
            i, m = _living_to_heads(alive, np.uint64(old_starts[c0]), end_old, starts, heads, c0, c1, mapping, cell,
                                    spans, m)
            if m < 0:
                return -1
            while i < end_old:  # no living row left behind
                if alive[i]:
                    return -1
                i += one
        else:
            a_old, a_new = np.uint64(old_starts[c0]), np.uint64(starts[c0])
            length = np.uint64(old_ends[c1 - 1]) - a_old
            if length:
                spans[m, 0] = a_old
                spans[m, 1] = a_new
                spans[m, 2] = length
                m += 1
            for j in range(length):
                mapping[a_old + j] = a_new + j
                cell[a_new + j] = old_cell[a_old + j]
            for r in range(a_new + length, np.uint64(starts[c1])):  # its new gap
                cell[r] = c1 - 1
    return m


@jit
def rebuilt_field(old, spans, starts, heads, fill, new):
    """One field's row in the new layout of :func:`rebuilt_rows`: the living old values moved by
    ``spans``, ``fill`` in every other row (``old.take(source)`` then ``new[free] = fill``)."""
    for s in range(spans.shape[0]):
        a, b = np.uint64(spans[s, 0]), np.uint64(spans[s, 1])
        for j in range(np.uint64(spans[s, 2])):  # (a loop: a slice assignment costs far more per span)
            new[b + j] = old[a + j]
    for c in range(heads.size):
        for r in range(np.uint64(starts[c] + heads[c]), np.uint64(starts[c + 1])):
            new[r] = fill


@jit
def rebuilt_in_place_rows(alive, starts, cells, heads, living, head_rows, cell, mapping):
    """The moves of ``FirmState._rebuild_in_place`` (the new layout placed; ``cells``: every cell of
    the rebuilt runs, in order; ``heads``: living firms per cell): ``living`` the rebuilt runs'
    living rows in order (each run's cells' rows ``starts[c]`` to ``starts[c + 1]``, its gap
    included), ``head_rows`` the cells' heads they go to, ``cell`` of those rows their new cells,
    ``mapping`` (the identity elsewhere) old row -> new row, -1 for the rows dropped. Returns the
    number of living rows, and of heads (the caller checks they are equal; ``living`` holds at most
    its length)."""
    m, k = 0, 0
    for q in range(cells.size):
        c = cells[q]
        for i in range(np.uint64(starts[c]), np.uint64(starts[c + 1])):
            if alive[i]:
                if m < living.size:  # (more living rows than heads: counted, not written)
                    living[m] = i
                m += 1
            mapping[i] = -1
            cell[i] = c
        for r in range(np.uint64(starts[c]), np.uint64(starts[c] + heads[c])):
            head_rows[k] = r
            k += 1
    if m == k:
        for q in range(m):
            mapping[living[q]] = head_rows[q]
    return m, k


@jit
def rebuilt_in_place_field(row, living, head_rows, cells, starts, heads, fill, moved):
    """One field's row in the layout of :func:`rebuilt_in_place_rows`: ``row[head_rows] =
    row.take(living)`` (through ``moved``), then ``fill`` in every other row of the rebuilt cells."""
    for q in range(living.size):
        moved[q] = row[living[q]]
    for q in range(head_rows.size):
        row[head_rows[q]] = moved[q]
    for q in range(cells.size):
        c = cells[q]
        for r in range(np.uint64(starts[c] + heads[c]), np.uint64(starts[c + 1])):
            row[r] = fill

"""Diagnosis of two back-test records of the recorded 2014 history (docs/calibration.md §14.12).

    python benchmarks/backtest_2014_diagnosis.py garments   # which garment plants are above scale, 2014-2017
    python benchmarks/backtest_2014_diagnosis.py garments --counterfactual   # ... without any policy
    python benchmarks/backtest_2014_diagnosis.py lint       # the 2014 local cotton share, draw by draw
    python benchmarks/backtest_2014_diagnosis.py lint --set "shocks.demand=[{stages: [ginned_cotton],
        from_year: 2014, to_year: 2014, change: 0.786}]"    # ... with the shift as it was before §14.12

``garments``: the history at the default parameters (5 replications), every garment plant's year
as the engine books it (``firm.firm_year``): the incumbents of 2014 and the plants built since, how
much of their capacity produces, and the output of those whose sales reach the above-scale
threshold (``rules.ABOVE_SCALE_SALES_YUAN`` per recorded firm: a plant's sales over the chain's
``recorded_firms_per_plant``, docs/calibration.md §14.16), in kt and mapped as the series file maps
``garment_output_above_scale`` (million pieces a year; the 2016 record's eleven months are compared
with 11/12 of it); the plants built since 2014 of more than 4 x the stage's new-plant size
are shown apart as the large placed plants (§14.20). ``lint``: 2014 only, over the back-test's
parameter draws (10 x 5 replications): the drawn market supply elasticity and productivity spread,
the lint price, the yarn stage's utilisation and imported inputs, and the local cotton share.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from valuechain.simulation.abm.model import ValueChainModel  # noqa: E402
from valuechain.simulation.config.observed import load_observed  # noqa: E402
from valuechain.simulation.config.scenario import load_scenario  # noqa: E402
from valuechain.simulation.economy import firm, rules  # noqa: E402
from valuechain.simulation.running.draws import run_with_draws  # noqa: E402

# a plant built since 2014 of more than this x the stage's new-plant size is counted as a large placed
# plant (``large_placed_plants_per_year``, docs/calibration.md §14.20; an 82 t plant does not grow
# four-fold within the years shown)
LARGE_PLANT_FACTOR = 4.0
HISTORY = ROOT / "scenarios" / "history_2014_recorded.yaml"
COUNTERFACTUAL = ROOT / "scenarios" / "history_2014_counterfactual.yaml"


def garment_plants(overrides: list[str], replications: int, scenario: Path = HISTORY) -> pd.DataFrame:
    """Every garment plant's year 2014-2017 (one row per plant and year with capacity)."""
    sc = load_scenario(scenario, [f"replications={replications}", "horizon.years=4", *overrides])
    garments = list(sc.chain.order).index("garments")
    threshold = rules.ABOVE_SCALE_SALES_YUAN * sc.chain.recorded_firms_per_plant[garments]  # a plant's sales
    rows, run = [], {}
    firm_year = firm.firm_year

    def watched(k, g, cell, state, year, zero=0.0):
        out = firm_year(k, g, cell, state, year, zero)
        cells, capacity = np.atleast_1d(cell), np.atleast_1d(state["capacity"])
        mine = (cells // 3 == garments) & (capacity > 0)
        if mine.any():
            output = np.atleast_1d(out["X"])[mine]
            price = k.sales_x[cells[mine]]
            rows.append(pd.DataFrame({
                "replication": run["r"], "year": year, "capacity": capacity[mine], "output": output,
                "price": price, "above": price * output >= threshold,
                "incumbent": np.atleast_1d(state["first_revenue_year"])[mine] < sc.spec.horizon.start,
                "large": capacity[mine] > LARGE_PLANT_FACTOR * sc.chain.plant_capacity[garments],
                "threshold": threshold}))
        return out

    firm.firm_year = watched
    try:
        for r, seed in enumerate(np.random.SeedSequence(sc.spec.seed).spawn(replications)):
            run["r"] = r
            ValueChainModel(sc, rng=seed).run()
    finally:
        firm.firm_year = firm_year
    return pd.concat(rows, ignore_index=True)


def garments_table(plants: pd.DataFrame) -> pd.DataFrame:
    """By year and plant group, means over replications."""
    p = plants.assign(producing_capacity=plants.capacity * (plants.output > 0),
                      output_above=plants.output * plants.above, n_above=plants.above.astype(int))
    group = np.where(p.incumbent, "incumbents", np.where(p.large, "built since 2014, large", "built since 2014"))
    p = p.assign(incumbent=group)
    per_run = p.groupby(["year", "incumbent", "replication"]).agg(
        plants=("capacity", "size"), capacity_kt=("capacity", "sum"), producing_kt=("producing_capacity", "sum"),
        output_kt=("output", "sum"), plants_above=("n_above", "sum"), above_kt=("output_above", "sum"),
        price=("price", "mean"), threshold=("threshold", "first"))
    for name in ("capacity_kt", "producing_kt", "output_kt", "above_kt"):
        per_run[name] /= 1e3
    table = per_run.groupby(["year", "incumbent"]).mean()
    table["producing_share"] = table.producing_kt / table.capacity_kt
    table["above_share"] = table.above_kt / table.output_kt  # of the group's output
    table["threshold_t"] = table.pop("threshold") / table.price  # plant size whose full output reaches it
    return table


def lint_table(overrides: list[str], draws: int) -> tuple[pd.DataFrame, pd.Series]:
    """2014 by parameter draw (the drawn keys that move it and the yarn stage's year), and the
    local share of every run."""
    sc = load_scenario(HISTORY, ["horizon.years=1", *overrides])
    res = run_with_draws(sc, draws)
    st = res.stages.set_index(["replication", "stage"])
    yarn, lint = st.xs("cotton_yarn", level="stage"), st.xs("ginned_cotton", level="stage")
    runs = res.runs.set_index("replication")
    t = pd.DataFrame({
        "draw": runs["draw"], "market_supply_elasticity": runs["shocks.market_supply_elasticity"],
        "productivity_sd": runs["firms.productivity_sd"], "lint_price": lint.price,
        "yarn_utilisation": yarn.output / yarn.capacity, "yarn_imported_inputs": yarn.imported_inputs,
        "local_share": lint.local_sales / lint.output})
    out = t.groupby("draw").agg(
        market_supply_elasticity=("market_supply_elasticity", "first"), productivity_sd=("productivity_sd", "first"),
        lint_price=("lint_price", "mean"), yarn_utilisation=("yarn_utilisation", "mean"),
        yarn_imported_inputs=("yarn_imported_inputs", "max"), local_share=("local_share", "mean"),
        share_min=("local_share", "min"), share_max=("local_share", "max"))
    return out.sort_values("market_supply_elasticity"), t.local_share


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["garments", "lint"])
    ap.add_argument("--counterfactual", action="store_true",
                    help="garments: the no-policy counterfactual instead of the recorded history")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="scenario override")
    ap.add_argument("--replications", type=int, default=5, help="garments: replications (default 5)")
    ap.add_argument("--draws", type=int, default=10, help="lint: parameter draws (default 10, x 5 replications)")
    args = ap.parse_args(argv)
    pd.set_option("display.width", 200)
    if args.what == "garments":
        table = garments_table(garment_plants(args.set, args.replications,
                                              COUNTERFACTUAL if args.counterfactual else HISTORY))
        print(table.round(3).to_string())
        factor = load_observed().series["garment_output_above_scale"].factor
        above = table.above_kt.groupby("year").sum()
        print(f"\nabove-scale output mapped as garment_output_above_scale (x {factor:g} per t):")
        print((above * 1e3 * factor).round(1).to_string())
    else:
        table, shares = lint_table(args.set, args.draws)
        print(table.round(4).to_string())
        low, high = shares.quantile([0.025, 0.975])
        print(f"\nlocal share 2014 over {len(shares)} runs: mean {shares.mean():.4f} "
              f"(2.5-97.5%: {low:.3g}-{high:.3g}), {int((shares == 0).sum())} runs at 0")


if __name__ == "__main__":
    main()

"""The 2016 package against the baseline, by sector: investment, value added, employment, fiscal
cost (cumulative over the horizon, paired replications), and the share of the extra investment
that is new plants (entrants x plant capacity x capital cost).

    python benchmarks/package_effects.py [--replications N] [--scenario NAME] [--set KEY=VALUE ...]
"""

import argparse

import pandas as pd
from valuechain.analysis import compare
from valuechain.simulation import load_scenario, run_scenario


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replications", type=int, default=10)
    p.add_argument("--scenario", default="policy_package_2016")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args()
    ov = [f"replications={args.replications}", *args.set]
    base_sc, pkg_sc = load_scenario("baseline", ov), load_scenario(args.scenario, ov)
    base, pkg = run_scenario(base_sc), run_scenario(pkg_sc)
    rows = {}
    for metric in ("investment", "value_added", "employment", "fiscal_cost"):
        t = compare(pkg, base, metric, by="sector").set_index("sector")
        rows[metric] = t[["baseline_mean", "effect", "ci_low", "ci_high", "pct_effect"]]
    out = pd.concat(rows, axis=1)
    pd.set_option("display.width", 200)
    print(f"{args.scenario} - baseline, {args.replications} paired replications, cumulative over the horizon; "
          "money in million yuan, employment in worker-years")
    print(out.to_string(float_format=lambda x: f"{x:,.1f}" if abs(x) < 100 else f"{x:,.0f}"))
    c = base_sc.chain
    plant = dict(zip(c.order, c.plant_capacity * c.capital_cost * 1e-6))
    extra = {}
    for name, res in (("baseline", base), ("package", pkg)):
        st = res.stages
        extra[name] = pd.Series({"investment": st.investment.sum(),
                                 "new_plants": (st.entries * st.stage.map(plant)).sum()}) / st.replication.nunique()
    d = extra["package"] - extra["baseline"]
    print(f"\nextra investment {d.investment:,.0f} million yuan, of which new plants {d.new_plants:,.0f} "
          f"({d.new_plants / d.investment:.0%})")


if __name__ == "__main__":
    main()

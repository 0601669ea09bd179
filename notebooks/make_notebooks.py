"""Write the worked-example notebooks from the cells below, executed, with their outputs.

    pip install -e ".[notebooks]"
    python notebooks/make_notebooks.py              # execute each notebook and save it with its outputs
    python notebooks/make_notebooks.py --no-execute # cells only (fast; outputs empty)

The notebooks are committed with their outputs (figures and tables show on GitHub without a
kernel); CI executes them again top to bottom (tests/test_notebooks.py) on small settings. Edit
the cells here, not the .ipynb files, so that the three stay consistent.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
import os
import warnings
from pathlib import Path

# Mesa imports tqdm.auto, which asks for ipywidgets in Jupyter; the progress bars are not needed here
warnings.filterwarnings("ignore", message="IProgress not found")

if not Path("scenarios").is_dir() and Path("../scenarios").is_dir():
    os.chdir("..")  # paths below are relative to the repository root

import pandas as pd

pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)
pd.set_option("display.float_format", lambda x: f"{x:,.3g}" if abs(x) < 100 else f"{x:,.0f}")"""

SMALL = """\
# Small settings so that the notebook runs in seconds. For results you would report, drop these
# overrides: the scenario files ask for 10 replications, 15 years and the full firm population.
SMALL = ["firms.scale=0.2", "replications=6", "horizon.years=10"]"""


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str):
    return new_code_cell(text.strip("\n"))


QUICKSTART = [
    md("""
# 1. Quick start: the 2016 policy package against no support

**Question.** In 2016 the regional government combined four levers to "extend the industrial chains":
cheap industrial power, freight subsidies for goods shipped out, corporate income tax relief and
interest subsidies. Compared with a region that offers none of them, how much more value added does
the package bring, where along the chain, and how sure can we be?

We run two scenarios of the agent-based model on the default Xinjiang chain: `baseline.yaml` (power
at its 0.40 yuan/kWh supply cost, statutory 25% income tax, no subsidies) and
`policy_package_2016.yaml` (all four levers from 2016). Each is run several times
(*replications*) with different random draws for prices, firm productivity and entry.
"""),
    code(SETUP),
    code(SMALL),
    code("""
from valuechain.simulation import load_scenario, run_scenario

baseline = run_scenario(load_scenario("scenarios/baseline.yaml", SMALL))
package = run_scenario(load_scenario("scenarios/policy_package_2016.yaml", SMALL))
package.stages.head()
"""),
    md("""
The results are one tidy table: a row per replication, year and stage (with its sector and its
tier: `raw`, `rough` or `deep` processing). Money is in **million yuan** (value added = sales at
factory gate minus intermediate inputs), employment in workers, output in each stage's physical
unit. Summed over stages and averaged over replications, the region's first and last years:
"""),
    code("""
def region_path(results, cols=("value_added", "investment", "employment")):
    per_run = results.stages.groupby(["replication", "year"])[list(cols)].sum()
    return per_run.groupby("year").mean()

region_path(package).iloc[[0, -1]]
"""),
    md("""
## The effect of the package, with a confidence interval

Replication *k* of the package and of the baseline used the same random numbers (common random
numbers), so the effect is estimated from the paired differences *d_k = y_k(package) − y_k(baseline)*:
their mean, its standard error *sd(d)/√n* and a 95% *t* interval over the *n* replications. The
shared noise (a bad price year hits both runs) cancels in *d_k*, which makes the interval much
tighter than comparing two independent sets of runs would.
"""),
    code("""
from valuechain.analysis import compare

compare(package, baseline)  # value added, cumulated over the horizon, the whole region
"""),
    md("""
`effect` is the extra value added over the whole horizon (million yuan), `pct_effect` the same in
percent of the baseline. The same by processing tier: the policy's aim was to move the region
from raw materials towards deep processing, so the `deep` row is the one to watch.
"""),
    code("""
compare(package, baseline, by="tier")[["tier", "baseline_mean", "effect", "ci_low", "ci_high", "pct_effect"]]
"""),
    code("""
from valuechain.analysis import plot_paths

fig = plot_paths({"policy package 2016": package}, baseline=baseline, difference=True)
"""),
    md("""
The figure shows the yearly change in value added, with its 95% band. New plants take one to three
years to build, so effects build up over time.

## Where along the chain?

The chain diagram places every stage by its depth in the chain (left: stages without chain inputs,
right: the most processed goods), one band per sector. Each box gives the stage's value added
under the package (billion yuan over the horizon) and its change against the baseline; bold
numbers are changes whose 95% interval excludes zero.
"""),
    code("""
from valuechain.analysis import plot_chain

fig = plot_chain(package, baseline)
"""),
    md("""
**Caveats.** These runs are deliberately small (a fifth of the firms, few replications, ten years):
the intervals are wide and stages with few firms are noisy. The model is a laboratory for comparing
levers under stated assumptions (see `docs/calibration.md` and the sources in the chain file), not a
forecast of Xinjiang's output. Next: `02_compare_policy_mixes.ipynb` asks which lever buys most
per yuan of fiscal cost.
"""),
]

MIXES = [
    md("""
# 2. Which lever buys most? Cost-effectiveness of levers and mixes

**Question.** Each lever costs the government money: cheap power (the gap between the 0.40 yuan/kWh
supply cost and the price charged, times the kWh used), freight subsidies paid, tax expenditure
(the statutory 25% tax minus the tax actually paid) and interest subsidies paid. Per 10,000 yuan
of that fiscal cost, how much extra **value added**, **downstream investment** (investment in
deep-processing stages, the policy's stated aim) and **employment** does each lever bring, alone
and combined?
"""),
    code(SETUP),
    code(SMALL),
    code("""
from valuechain.simulation import load_scenario, run_scenario

names = ["electricity_price", "freight_subsidy", "tax_holiday", "interest_subsidy", "policy_package_2016"]
baseline = run_scenario(load_scenario("scenarios/baseline.yaml", SMALL))
runs = {name: run_scenario(load_scenario(f"scenarios/{name}.yaml", SMALL)) for name in names}
"""),
    md("""
## What each scenario costs

Extra fiscal cost against the baseline, by lever, cumulated over the horizon (million yuan; mean
over replications). A lever alone costs only through its own line; the package through all four.
"""),
    code("""
from valuechain.analysis import compare_many

cost = compare_many(runs, baseline, "fiscal_cost", by="lever")
cost.pivot(index="scenario", columns="lever", values="effect").loc[names]
"""),
    md("""
## Gross and net cost

The fiscal cost above is what all levels of government pay out or forgo for the levers. The
region's own budget (`cost_report`'s default perspective) bears the income-tax lever at its 40%
share of the tax (the centre forgoes the other 60%) and every other lever in full: that is the
**gross** cost below (`perspective="government"` counts the lot). Part of it comes back: the extra value added pays value-added tax and the extra profit corporate income tax.
The **net** cost is the gross cost minus that induced tax change,

*N = G − s_CIT · ΔCIT − s_VAT · v · ΔVA*,

with the VAT rate *v* (17% to April 2018, 16%, then 13% from April 2019) and the shares the region
keeps (*s_VAT* = 50% of VAT since May 2016, 国发〔2016〕26号; *s_CIT* = 40% of corporate income
tax since 2003). `cost_report` computes both, cumulated and in **present value** (8% a year by
default, the NDRC social discount rate; at rate 0 the present value is the plain sum), and
multiplies the net cost by the marginal cost of public funds (default 1, range 1.0–1.5).
"""),
    code("""
from valuechain.analysis.cost import cost_report, rank_costs

report = cost_report(runs, baseline)          # rate=0.08, mcpf=1.0, perspective="region"
report.costs.set_index("scenario").loc[names, ["gross", "tax_change", "net", "gross_pv", "net_pv",
                                               "deadweight_share"]]
"""),
    md("""
`deadweight_share` is the part of the cost paid on output, exports or capacity that the paired
baseline also had: a blanket power discount mostly pays for production that would have happened
anyway.

## Yield per 10,000 yuan, gross and net

For each scenario and replication *k* we take the change in the outcome, *ΔY_k*, and in cost,
*ΔC_k* (present values). The yield is the ratio of the paired sums, *R = ΣΔY_k / ΣΔC_k*, per
10,000 yuan. Its 95% interval is **Fieller's**, which stays valid when the cost is close to zero:
then it is unbounded and the row is flagged `reliable = False`. A lever whose cost is zero or
negative is labelled "costs nothing" or "raises revenue" and is ranked after every lever that costs
money, never as a bargain. Value added and investment are in yuan per 10,000 yuan, employment in
job-years per 10,000 yuan; `cost_per_job_year` is in yuan per additional job-year.
"""),
    code("""
r = report.ratios
r[r.metric == "value_added"][["scenario", "basis", "cost", "delta", "ratio", "ci_low", "ci_high", "status",
                              "reliable"]]
"""),
    code("""
rank_costs(report, "value_added", "net")[["rank", "scenario", "status", "ratio", "ci_low", "ci_high",
                                          "reliable", "ci_overlaps_next"]]
"""),
    md("""
Net of induced taxes every lever looks cheaper, and a lever that brings a lot of value added for a
small cost can even pay for itself (net cost below zero: "raises revenue"). A rank whose interval
overlaps the next one (`ci_overlaps_next`) is not a firm ranking at this number of replications.
The same for downstream investment, where the levers differ most in kind: power and tax relief
reach whichever stage uses power or earns profit, freight subsidies only the subsidised goods.
"""),
    code("""
rank_costs(report, "downstream_investment", "net")[["rank", "scenario", "status", "ratio", "ci_low", "ci_high"]]
"""),
    md("""
## Direct and indirect effects

Each lever's effect on its targeted stages (direct) and on the rest of the chain (indirect,
through local purchases and sales), as in regional input-output impact tables; direct + indirect =
total. `cost_effectiveness` gives the older gross-only table, which `plot_effects` draws.
"""),
    code("""
e = report.effects
e[(e.metric == "value_added") & (e.lever == "all")][["scenario", "direct", "indirect", "total"]]
"""),
    code("""
from valuechain.analysis import cost_effectiveness, plot_effects

ce = cost_effectiveness(runs, baseline)
fig = plot_effects(ce[ce.metric == "value_added"])
"""),
    md("""
## Cost against value added: the efficient frontier

A scenario is *dominated* if another one costs no more and brings no less value added. The rest
form the efficient frontier: the best value added on offer at each level of fiscal cost.
"""),
    code("""
from valuechain.analysis import cost_value_points, plot_frontier

points = cost_value_points(runs, baseline)
fig = plot_frontier(points)
points[["scenario", "fiscal_cost", "value_added", "on_frontier"]]
"""),
    md("""
## The price of power

Cheap power is booked against an accounting reference of 0.40 yuan/kWh. Its real cost depends on
what the power could fetch elsewhere: at the Xinjiang coal-power benchmark of 0.25 yuan/kWh (an
assumption; externalities would raise it, Parry et al., IMF 2014) a price of 0.30 is still above
the opportunity cost, and the power lever's economic cost shrinks: the cut still gives up the rent
on the power the baseline sold at 0.40, and gets back only the rent on the extra power sold
(`power_shadow_pv` is the scenario's minus the baseline's, over the same cells).
"""),
    code("""
low = cost_report(runs, baseline, power_opportunity=0.25, effects=False)
low.costs.set_index("scenario").loc[names, ["gross_pv", "net_pv", "power_shadow_pv", "economic_pv"]]
"""),
    md("""
## The policy's other levers

The 2016 text names more instruments than the four above: capital grants within a yearly envelope,
land support, fast-track approval, investment attraction, the SME fund's equity, employment
subsidies, the energy-saving fund and capacity rules (one scenario file each, their numbers mostly
assumptions: `docs/calibration.md` §11.5). Here five of them, each alone, against the four original
levers: what does the SME fund buy compared with the power discount, and is fast-track approval
(which costs the budget nothing) worth more than a tax holiday?
"""),
    code("""
others = ["capital_grants", "land_support", "sme_fund", "fast_track", "employment_subsidy"]
runs_all = dict(runs, **{name: run_scenario(load_scenario(f"scenarios/{name}.yaml", SMALL)) for name in others})
singles = ["electricity_price", "freight_subsidy", "tax_holiday", "interest_subsidy"] + others
report_all = cost_report({name: runs_all[name] for name in singles}, baseline, effects=False)
report_all.costs.set_index("scenario").loc[singles, ["gross", "net", "gross_pv", "deadweight_share"]]
"""),
    code("""
rank_costs(report_all, "downstream_investment", "gross")[["rank", "scenario", "status", "ratio", "ci_low",
                                                          "ci_high"]]
"""),
    md("""
Fast-track approval books no fiscal cost, so it is ranked with the levers that "cost nothing", after
every lever that costs money: compare its downstream investment (`compare_many` below) with what the
others buy. Grants, land and the SME fund all lower what a new unit or plant costs its investor; the
SME fund acts only on new small plants and costs the budget only its expected loss and the
opportunity cost of its money, so per yuan it can buy more than a grant of the same size.
"""),
    code("""
compare_many({name: runs_all[name] for name in singles}, baseline, "downstream_investment")[
    ["scenario", "effect", "ci_low", "ci_high"]]
"""),
    md("""
**Caveats.** Gross fiscal cost is what the scenario books (`cost_report` counts it for the region:
the tax relief at the region's 40% share of the tax, the rest in full): cheap power counts only where the scenario
says the gap to the supply cost is paid by the government, and tax expenditure is measured against the
statutory 25% rate (firms that would not exist without the holiday would have paid nothing: the
tax expenditure overstates the revenue lost). The other levers' numbers are assumptions where the
policy text gives none (`docs/calibration.md` §11.5). Small settings: few replications and a scaled-down
population, so the intervals are wide; rerun with the scenario defaults for numbers to report.
"""),
]

SWEEP = [
    md("""
# 3. Sweeps and sensitivity: which lever settings matter?

**Question.** The 2016 package fixed one value per lever. How do value added and fiscal cost respond
when the power price for electricity-intensive stages, the freight subsidy on cotton yarn and the
interest subsidy for textiles take other values, and which of the three drives the outcome?

A *sweep* runs one base scenario at many parameter values (a grid, a Latin hypercube, a Sobol'
design for variance-based sensitivity, or Morris trajectories for screening). Replication *k* of
every point uses the same random numbers, so differences between points are paired.
"""),
    code(SETUP),
    code("""
import tempfile
from pathlib import Path

work = Path(tempfile.mkdtemp(prefix="valuechain_sweeps_"))
repo = Path.cwd()
# a small version of the 2016 package: a fifth of the firms, 8 years, 2 replications
_ = (work / "package_small.yaml").write_text(f\"\"\"
name: package_small
inherits: {repo / "scenarios" / "policy_package_2016.yaml"}
firms: {{scale: 0.2}}
horizon: {{start: 2016, years: 8}}
replications: 2
\"\"\")
"""),
    md("""
## A grid over two levers

Power price for the electricity-intensive stages (rule 1 of the package's electricity lever, in
yuan/kWh) against the freight subsidy on cotton yarn (rule 0 of the freight lever, yuan per tonne).
"""),
    code("""
(work / "grid.yaml").write_text(\"\"\"
name: package_grid
base: package_small.yaml
design: grid
parameters:
  policy.electricity_price.rules.1.price_yuan_per_kwh: [0.25, 0.30, 0.35, 0.40]
  policy.freight_subsidy.rules.0.yuan_per_t: [0, 800, 1600]
\"\"\")

from valuechain.simulation import run_sweep

summary = run_sweep(work / "grid.yaml", out=work / "grid", workers=1, progress=False)
print(f"{summary.n_ok} runs ok, {summary.n_failed} failed")
"""),
    code("""
from valuechain.analysis import load_sweep, plot_heatmap, sweep_outcomes

grid_sweep = load_sweep(work / "grid")  # read once, used below too
grid = sweep_outcomes(grid_sweep, "value_added")
fig = plot_heatmap(grid, "policy.electricity_price.rules.1.price_yuan_per_kwh",
                   "policy.freight_subsidy.rules.0.yuan_per_t", "value_added")
"""),
    md("""
Each cell is the region's value added over the horizon (million yuan), averaged over replications.
Fiscal cost moves along with it; plotted against each other, the grid points trace the frontier of
what these two levers can buy:
"""),
    code("""
from valuechain.analysis import cost_value_points, plot_frontier, runs_from_sweep

points = cost_value_points(runs_from_sweep(grid_sweep))
fig = plot_frontier(points)
"""),
    md("""
## Variance-based sensitivity (Sobol' indices)

With three parameters varied at once over ranges, the first-order index *S1* is the share of the
variance of the outcome explained by one parameter alone, and the total index *ST* includes its
interactions with the others. The sweep uses Saltelli's design (`design: sobol`, N base samples →
N(D+2) points); the indices are computed with SALib on the replication means.
"""),
    code("""
(work / "sobol.yaml").write_text(\"\"\"
name: package_sobol
base: package_small.yaml
design: sobol
samples: 16
parameters:
  policy.electricity_price.rules.1.price_yuan_per_kwh: {low: 0.25, high: 0.40}
  policy.freight_subsidy.rules.0.yuan_per_t: {low: 0, high: 1500}
  policy.interest_subsidy.rules.0.fixed_asset_points: {low: 0, high: 4}
\"\"\")
summary = run_sweep(work / "sobol.yaml", out=work / "sobol", workers=1, progress=False)
print(f"{summary.n_ok} runs ok, {summary.n_failed} failed")
"""),
    code("""
from valuechain.analysis import plot_sobol, sensitivity

sobol_sweep = load_sweep(work / "sobol")
indices = sensitivity(sobol_sweep, "value_added")
print(f"replication noise: {indices.attrs['noise_share']:.0%} of the variance of the point means")
fig = plot_sobol(indices)
indices[["parameter", "S1", "S1_conf", "ST", "ST_conf", "S1_rep_sd", "ST_rep_sd"]]
"""),
    md("""
**Reading the noise.** The model is stochastic, so the indices carry two kinds of uncertainty:
`S1_conf`/`ST_conf` (SALib's bootstrap over the design points: more `samples` shrink it) and
`*_rep_sd` (the indices recomputed on bootstrap resamples of the replications: more replications
shrink it). `noise_share` is the share of the variance across points that is replication noise;
when it is not small, total indices are inflated for every parameter. With 16 base samples and 2
replications both are large here: an index can exceed 1 and S1 exceed ST, which no exact index
does, so neither the numbers nor their ranking can be read; this shows the mechanics only
(`sensitivity` says so in a `warning:` line when a half-width exceeds 0.1). The same analysis on
fiscal cost, which responds to the levers almost deterministically:
"""),
    code("""
sensitivity(sobol_sweep, "fiscal_cost")[["parameter", "S1", "ST", "S1_rep_sd"]]
"""),
    md("""
**Caveats.** Ranges matter as much as the model: a parameter swept over a wide range will look
important. For screening many parameters cheaply, use `design: morris` (Morris elementary effects,
`analysis.sensitivity` reports μ*, σ); for publication-grade indices use `samples` of 512 or more
and 10 replications (4 levers: 512 × 6 × 10 = 30,720 runs), run with `valuechain sweep ... --workers N`.
Analyse such a sweep from its folder, `sensitivity("results/<sweep>", ...)` or `valuechain plot
results/<sweep> --kind sobol`: the run files are then read in batches with only the columns needed,
so 30,720 runs fit in well under 1 GB (`benchmarks/sweep_analysis_memory.py`), whereas
`load_sweep` holds every row in memory (about 1 GB per 1,000 runs of the default chain). The
intervals here cover the design's sampling (`*_conf`, a bootstrap over its points) and the
replication noise (`*_rep_sd`), not the firms' behavioural parameters, which stay at their
defaults in a sweep; `valuechain run --parameter-draws N` and `backtest --parameter-draws N` draw
those from their documented ranges.
"""),
]


def build() -> dict[str, nbformat.NotebookNode]:
    meta = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"}}
    books = {"01_quickstart.ipynb": QUICKSTART, "02_compare_policy_mixes.ipynb": MIXES,
             "03_sweep_and_sensitivity.ipynb": SWEEP}
    out = {}
    for name, cells in books.items():
        for i, cell in enumerate(cells):
            cell["id"] = f"{name[:2]}-{i:02d}"  # stable ids: regenerating gives the same files
        out[name] = new_notebook(cells=cells, metadata=meta)
    return out


def main(argv: list[str] | None = None) -> None:
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--no-execute", action="store_true", help="write the cells without running them")
    p.add_argument("--timeout", type=int, default=300, help="seconds per cell (default 300)")
    args = p.parse_args(argv)
    for name, nb in build().items():
        nbformat.validate(nb)
        if not args.no_execute:
            from nbclient import NotebookClient

            NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(HERE.parent)}}).execute()
            for cell in nb.cells:  # no timings or kernel run ids: regenerating gives the same files
                cell.get("metadata", {}).pop("execution", None)
        nbformat.write(nb, HERE / name)
        print(f"wrote notebooks/{name}" + ("" if args.no_execute else " (executed, with outputs)"))


if __name__ == "__main__":
    main()

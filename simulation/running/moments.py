"""The model's behavioural moments, measured by documented experiments, against their targets.

Each moment runs the scenario and a paired variant (the same seeds: common random numbers) and
reports the model's number, the target range and its source. ``benchmarks/moments.py`` prints the
table; ``tests/test_moments.py`` checks that the calibrated defaults keep them in range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config.scenario import LoadedScenario, load_scenario
from .runner import run_scenario


@dataclass(frozen=True)
class Moment:
    name: str
    model: float
    low: float
    high: float
    unit: str
    source: str
    experiment: str

    @property
    def in_range(self) -> bool:
        return self.low <= self.model <= self.high


TARGETS = {  # name: (low, high, unit, source)
    "user_cost_elasticity": (-1.6, -0.25, "d ln I / d ln user cost",
                             "Chirinko, Fazzari & Meyer (1999) about -0.25; Hassett & Hubbard (2002) -0.5 to -1; "
                             "Zwick & Mahon (2017) about -1.6 (bonus depreciation)"),
    "entry_rate": (0.05, 0.15, "entrants / firms a year",
                   "documented range: Dunne, Roberts & Samuelson (1988), US manufacturing, about 8-10% a year "
                   "(annualised census rates); Brandt, Van Biesebroeck & Zhang (2012): high churning among China's "
                   "above-scale firms 1998-2007 (docs/calibration.md)"),
    "exit_rate": (0.03, 0.12, "exits / firms a year", "as entry (Dunne, Roberts & Samuelson 1988; Brandt et al. 2012)"),
    "boom_capacity_growth": (0.30, 0.50, "largest one-year capacity growth of cotton yarn under a package",
                             "Xinjiang cotton spindles about 7 M (2014) to over 13 M (end-2016): about 36-41% a year "
                             "(docs/calibration.md section 8)"),
    "idle_beside_imports": (0.0, 0.01, "share of stage-years", "spatial price equilibrium (Samuelson 1952; Takayama "
                            "& Judge 1971): no capacity idles beside imports of the same good if it covers its cost"),
}


def _sum(stages: pd.DataFrame, column: str, by: list[str]) -> pd.Series:
    return stages.groupby(by)[column].sum()


def user_cost_elasticity(base: LoadedScenario, rel_change: float = 0.10) -> tuple[float, str]:
    """Raise the firms' required return r by ``rel_change`` (a permanent rise in the cost of capital)
    and measure ``d ln I / d ln c`` with the Hall-Jorgenson user cost ``c = p_K (r + delta)``
    (delta: the capital-weighted mean depreciation of the chain), on total investment over the
    horizon, paired replications."""
    f = base.spec.firms
    r0 = f.discount_rate
    r1 = r0 * (1 + rel_change)
    high = base.with_overrides(firms=f.model_copy(update={"discount_rate": r1}))
    c = base.chain
    plant_cost = dict(zip(c.order, c.plant_capacity * c.capital_cost * 1e-6))  # million yuan a new plant

    def invest(sc):
        st = run_scenario(sc).stages
        st = st.assign(entry=st.entries * st.stage.map(plant_cost))
        return st.groupby("replication")[["investment", "entry"]].sum()

    i0, i1 = invest(base), invest(high)
    weight = c.initial_capacity * c.capital_cost
    delta = float(np.sum(weight * c.depreciation) / np.sum(weight))
    dln_c = np.log((r1 + delta) / (r0 + delta))
    value = float(np.mean(np.log(i1.investment / i0.investment)) / dln_c)
    incumbents = float(np.mean(np.log((i1.investment - i1.entry) / (i0.investment - i0.entry))) / dln_c)
    share = float((i0.entry / i0.investment).mean())
    return value, (f"discount_rate {r0:g} -> {r1:g} (user cost +{dln_c:.1%}, mean delta {delta:.3f}); incumbents "
                   f"alone {incumbents:.2f}, new plants {share:.0%} of baseline investment")


def entry_exit_rates(stages: pd.DataFrame) -> tuple[float, float, float, float]:
    """Entrants and exits per firm alive, a year (region, mean over years and replications), as a
    firm register counts them: a succession (``economy.turnover``) is an exit and an entry. Also
    the new-plant entry and the loss exit rates alone (without successions)."""
    per_year = stages.groupby(["replication", "year"])[["entries", "exits", "successions", "firms"]].sum()
    plants = per_year.entries / per_year.firms
    losses = per_year.exits / per_year.firms
    turnover = per_year.successions / per_year.firms
    return (float((plants + turnover).mean()), float((losses + turnover).mean()), float(plants.mean()),
            float(losses.mean()))


def largest_capacity_growth(stages: pd.DataFrame, stage: str | None = None) -> tuple[float, str]:
    """The largest one-year growth of a stage's capacity (mean over replications), and where
    (``stage``: that stage only)."""
    if stage is not None:
        stages = stages[stages.stage == stage]
    cap = stages.pivot_table(index=["stage", "year"], columns="replication", values="capacity").mean(axis=1)
    growth = (cap / cap.groupby(level="stage").shift(1) - 1).replace([np.inf, -np.inf], np.nan).dropna()
    growth = growth[cap.loc[growth.index] > 0]
    stage, year = growth.idxmax()
    return float(growth.max()), f"{stage} {year}"


def idle_beside_imports(stages: pd.DataFrame, chain, idle_share: float = 0.05) -> float:
    """Share of stage-years in which more than ``idle_share`` of a stage's capacity idles while its
    local buyers import the same good."""
    out = []
    for _, run in stages.groupby(["replication", "year"]):
        run = run.set_index("stage").loc[list(chain.order)]
        local_demand = chain.A @ run.output.to_numpy()
        imported = local_demand - run.local_sales.to_numpy() > 1e-6 * np.maximum(local_demand, 1)
        idle = run.capacity.to_numpy() - run.output.to_numpy() > idle_share * run.capacity.to_numpy()
        out.append(imported & idle & (run.capacity.to_numpy() > 0))
    return float(np.mean(np.concatenate(out)))


def demand_slump(base: LoadedScenario, sector: str, change: float = -0.10, years=(2019, 2021)) -> dict:
    """Output of ``sector`` in ``years`` under a demand slump there, against the paired baseline:
    mean relative change and its 95% interval over replications."""
    shock = {"sectors": [sector], "from_year": years[0], "to_year": years[1], "change": change}
    slumped = base.with_overrides(shocks={**base.spec.shocks.model_dump(), "demand": [shock]})
    pick = lambda st: st[(st.sector == sector) & st.year.between(*years)].groupby("replication").output.sum()  # noqa: E731
    y0, y1 = pick(run_scenario(base).stages), pick(run_scenario(slumped).stages)
    d = (y1 / y0 - 1).to_numpy()
    half = 1.96 * d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else np.nan
    return {"mean": float(d.mean()), "low": float(d.mean() - half), "high": float(d.mean() + half)}


def measure(scenario: str = "baseline", replications: int = 10, boom: str = "policy_package_2016",
            overrides: tuple[str, ...] = (), boom_stage: str = "cotton_yarn") -> list[Moment]:
    """Every moment of ``TARGETS`` on ``scenario`` (the boom on ``boom``), with ``replications`` paired
    runs; ``overrides``: ``KEY=VALUE`` settings applied to both (e.g. ``firms.adjustment_cost=20``)."""
    base = load_scenario(scenario, [f"replications={replications}", *overrides])
    stages = run_scenario(base).stages
    moments = []

    def add(name, value, experiment):
        low, high, unit, source = TARGETS[name]
        moments.append(Moment(name, value, low, high, unit, source, experiment))

    value, how = user_cost_elasticity(base)
    add("user_cost_elasticity", value, how)
    entry, exit_, plants, losses = entry_exit_rates(stages)
    add("entry_rate", entry, f"baseline {scenario}, all years; new plants alone {plants:.1%}, the rest successions")
    add("exit_rate", exit_, f"baseline {scenario}, all years; loss and equity exits alone {losses:.1%}, "
        "the rest closures taken over")
    boomed = load_scenario(boom, [f"replications={replications}", *overrides])
    growth, where = largest_capacity_growth(run_scenario(boomed).stages, boom_stage)
    add("boom_capacity_growth", growth, f"{boom}: {where}")
    add("idle_beside_imports", idle_beside_imports(stages, base.chain), f"baseline {scenario}, capacity idle > 5%")
    return moments


def slump_table(scenario: str = "baseline", replications: int = 10, overrides: tuple[str, ...] = ()) -> pd.DataFrame:
    """The output response of each sector to a 10% demand slump in 2019-2021 (no target: reported)."""
    base = load_scenario(scenario, [f"replications={replications}", *overrides])
    rows = []
    for sector in dict.fromkeys(base.chain.sector):
        rows.append({"sector": sector, **demand_slump(base, sector)})
    return pd.DataFrame(rows)

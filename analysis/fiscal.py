"""Net fiscal cost, present values, the marginal cost of public funds and the shadow price of power.

All money in million yuan; every quantity is a paired difference scenario minus baseline,
replication by replication (common random numbers), then averaged in :mod:`analysis.cost`.

**Gross cost** of lever l in year t to the budget of the chosen perspective: the change in what
the model books for it, ``dC_lt = C_lt(scenario) - C_lt(baseline)`` (power discount (reference -
price) x kWh, freight subsidies paid, tax expenditure against the statutory rate, interest
subsidies paid, ...), times the share of it that budget bears:

    G_lt = b_l(t) * dC_lt,    b_tax = s_CIT(t),    b_l = 1 for every other lever.

The tax lever is the one lever that is a shared tax: its cost is corporate income tax forgone
(statutory tax minus tax paid), and under the 60/40 sharing the region forgoes only its 40% of a
cut (the centre the other 60%), the same share at which it keeps the induced income tax below. No
other lever is a shared tax (none is a VAT rebate; land support is land revenue, which is the
locality's in full), and the region is **assumed to pay every other lever in full**: the power
discount, freight and interest subsidies, grants, land discounts, incentives, the SME fund,
employment subsidies, the energy-saving fund and closure compensation (no central transfer is
netted out). Under ``perspective='government'`` every share is 1 and ``G`` is the booked cost.

**Induced tax change** in year t (what the budget gets back):

    T_t = s_CIT(t) * dCIT_t + s_VAT(t) * v(t) * dVA_t,

with ``dCIT_t`` the change in corporate income tax at the statutory rate on the taxable base
(``tax_paid + tax expenditure``), ``dVA_t`` the change in value added, ``v(t)`` the VAT rate and
``s_CIT``, ``s_VAT`` the shares the budget keeps. ``s_CIT dCIT`` is the budget's share of the extra
income tax paid (``tax_cit_paid``) plus its share of the tax lever's own cost coming back
(``s_CIT d(tax expenditure)``: the lever's cost is counted against the statutory rate, so the tax
on the base includes it). Hence, for either perspective,

    G - T = d(other levers' cost) - s_CIT d(tax_paid) - s_VAT v dVA,

the consolidated budget's ``d(subsidies paid) - d(tax_paid) - dVAT`` with ``s = 1``. VAT is
charged on value added (sales less intermediate inputs): China's VAT is consumption-type since
2009 (capital goods are deductible too), so ``v * dVA`` is an upper bound of the VAT change when
investment rises. **Net cost** ``N_t = G_t - T_t`` (exactly); by lever
the induced tax is allocated in proportion to each lever's share of the replication's cumulative
gross cost (an accounting convention: a mix's induced taxes are not identified lever by lever), so
the levers' net costs add up to the total.

**Defaults** (:class:`FiscalRules`; every number is a documented default the user can change):

- VAT rate on manufacturing 17% to April 2018, 16% from 1 May 2018 (财税〔2018〕32号), 13% from
  1 April 2019 (财政部 税务总局 海关总署公告2019年第39号); change years use the months' average:
  2018 = 0.1633, 2019 = 0.1375.
- Local (regional) share of VAT 25% before the 2016 reform, 50% from 1 May 2016 (State Council,
  国发〔2016〕26号, the 50/50 transitional split after 营改增); 2016 = 0.4167 (4 months at 25%).
- Local share of corporate income tax 40% (60/40 central/local since 2003, 国发〔2001〕37号).
- ``perspective='region'`` (default) uses those shares: the regional budget bears the tax lever's
  cost at its CIT share (40%) and every other lever's in full, and keeps its share of the induced
  taxes (40% of income tax, 25-50% of VAT).
  ``perspective='government'`` sets both shares to 1 (consolidated central + local budget).
- Discount rate 8%: the social discount rate of NDRC/MOHURD, 《建设项目经济评价方法与参数》
  (3rd ed., 2006). Present value ``PV_r = sum_t y_t / (1 + r)^(t - t0)``, t0 = first year; at
  r = 0 it is the undiscounted sum (same code path, so equal exactly).
- Marginal cost of public funds (MCPF) 1.0, documented range 1.0-1.5 (Dahlby 2008, *The Marginal
  Cost of Public Funds*, MIT Press): the economic cost of a net budget yuan is MCPF yuan.
- Shadow price of power (opportunity cost) — an **assumption** with a range: the accounting
  reference 0.40 yuan/kWh ("supply cost", the scenarios' ``reference_yuan_per_kwh``) as the high,
  the Xinjiang coal-power benchmark 0.25 yuan/kWh (发改价格规〔2019〕1658号, see docs/calibration.md)
  as the low (the generator's price, no grid cost); externalities would raise it (Parry, Heine,
  Lis & Li, IMF 2014, *Getting Energy Prices Right*). No default: the fiscal cost is used unless
  the user gives one.

**Shadow cost of the power lever**: ``S_t = sum (w(t) - p_st) * kWh_st`` over the cells where the
lever acts (price below or above the reference) in the scenario or in the baseline, minus the same
sum in the baseline over the same cells (so a cell the scenario cuts from the reference 0.40 to 0.30
counts the baseline's ``(w - 0.40) kWh`` against the scenario's ``(w - 0.30) kWh``: at ``w`` = 0.25
the cut gives up rent on the power the baseline sold: ``0.15 kWh_0 - 0.05 kWh_1``, a cost unless the
scenario uses three times the baseline's power there), where ``w`` is the
opportunity cost, ``p_st`` the price paid (from the run's scenario, the policy's own rules via
``simulation.economy.levers.year_terms``; zones weighted by the scenario's zone shares when a rule
targets zones) and ``kWh_st = kwh_per_unit x output / productivity = kwh_per_unit x employment /
workers_per_unit_year`` (exact: the model books employment and kWh on the same
output-over-productivity sum). Only cells whose power counts as a fiscal cost enter, unless
``captive=True``: then power marked ``counts_as_fiscal_cost: false`` (captive plants) enters too, at
its opportunity cost. Power sold at the reference elsewhere is not the lever's (the rent on extra
kWh sold above a low opportunity cost is left out). With ``w`` = the reference and no captive rules,
``S`` equals the booked electricity cost. """

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..simulation import schema
from ..simulation.config.errors import InputError
from .comparable import year_keys
from .compare import Run, discount_weights
from .compare import check_rate as compare_check_rate
from .run import run_chain  # noqa: F401  (fiscal.run_chain: cost's callers)

VAT_RATE = {1994: 0.17, 2018: 0.17 * 4 / 12 + 0.16 * 8 / 12, 2019: 0.16 * 3 / 12 + 0.13 * 9 / 12, 2020: 0.13}
VAT_LOCAL_SHARE = {1994: 0.25, 2016: 0.25 * 4 / 12 + 0.50 * 8 / 12, 2017: 0.50}
CIT_LOCAL_SHARE = {2003: 0.40}
DISCOUNT_RATE = 0.08
MCPF = 1.0
MCPF_RANGE = (1.0, 1.5)
POWER_OPPORTUNITY_RANGE = (0.25, 0.40)  # yuan/kWh: coal benchmark (low), supply cost (high); assumption
PERSPECTIVES = ("region", "government")

TimePath = float | Mapping[int, float]


def value_at(path: TimePath, year: int) -> float:
    """A number, or ``{year: value}`` meaning "from that year on" (the earliest entry before it)."""
    if not isinstance(path, Mapping):
        return float(path)
    keys = sorted(int(k) for k in path)
    past = [k for k in keys if k <= year]
    return float(path[past[-1] if past else keys[0]])


@dataclass(frozen=True)
class FiscalRules:
    """Tax rates and the budget's shares: of the induced tax change and of the tax lever's cost
    (``cit_share``; see the module docstring)."""

    vat_rate: TimePath = field(default_factory=lambda: dict(VAT_RATE))
    vat_share: TimePath = field(default_factory=lambda: dict(VAT_LOCAL_SHARE))
    cit_share: TimePath = field(default_factory=lambda: dict(CIT_LOCAL_SHARE))
    perspective: str = "region"

    @classmethod
    def for_perspective(cls, perspective: str = "region", **changes) -> FiscalRules:
        if perspective not in PERSPECTIVES:
            raise InputError("--perspective", "", f"choose one of {', '.join(PERSPECTIVES)}", perspective)
        rules = cls(perspective=perspective)
        if perspective == "government":
            rules = replace(rules, vat_share=1.0, cit_share=1.0)
        return replace(rules, **changes)

    def describe(self) -> str:
        def show(p: TimePath) -> str:  # a time path: each value from its year on (``value_at``)
            if not isinstance(p, Mapping):
                return f"{p:.4g}"
            if len(p) == 1:
                return f"{next(iter(p.values())):.4g}"
            return ", ".join(f"{v:.4g} from {k}" for k, v in sorted(p.items()))
        return (f"{self.perspective} budget: VAT rate {show(self.vat_rate)}; VAT share {show(self.vat_share)}; "
                f"CIT share {show(self.cit_share)}")


def check_rate(rate: float, name: str = "--rate") -> None:
    """cost's discount rate: :func:`compare.check_rate` under its own option and example."""
    compare_check_rate(rate, name, "0.08 for 8%")


def _by_rep_year(frame: pd.DataFrame, cols: list[str], extra: list[str] | None = None) -> pd.DataFrame:
    return frame.groupby(["replication", "year"] + (extra or []))[cols].sum()


def yearly_costs(run: Run, base: Run, rules: FiscalRules | None = None) -> pd.DataFrame:
    """Per replication and year: gross cost by lever to the budget of ``rules`` (``gross_<lever>``:
    the tax lever at its CIT share), ``gross``, ``tax_cit`` (of which ``tax_cit_paid``, the budget's
    share of the extra income tax paid; the rest is ``gross_tax`` coming back), ``tax_vat``,
    ``tax_change`` and ``net`` = gross - tax_change; the net cost by lever
    (``net_<lever>``) allocates the tax change by the levers' shares of the replication's cumulative gross
    cost. Million yuan, undiscounted.
    """
    rules = rules or FiscalRules()
    f1 = run.fiscal.groupby(["replication", "year", "lever"])["fiscal_cost"].sum().unstack("lever")
    f0 = base.fiscal.groupby(["replication", "year", "lever"])["fiscal_cost"].sum().unstack("lever")
    idx = f1.index.intersection(f0.index)
    f1 = f1.reindex(idx).reindex(columns=schema.LEVERS, fill_value=0.0).fillna(0.0)
    f0 = f0.reindex(idx).reindex(columns=schema.LEVERS, fill_value=0.0).fillna(0.0)
    gross = f1 - f0
    s1, s0 = (_by_rep_year(r.stages, ["value_added", "tax_paid"]).reindex(idx) for r in (run, base))
    d_va = (s1["value_added"] - s0["value_added"]).to_numpy()
    d_cit = ((s1["tax_paid"] + f1["tax"]) - (s0["tax_paid"] + f0["tax"])).to_numpy()  # at the statutory rate
    years = idx.get_level_values("year")
    vat = np.array([value_at(rules.vat_rate, y) for y in years])
    s_vat = np.array([value_at(rules.vat_share, y) for y in years])
    s_cit = np.array([value_at(rules.cit_share, y) for y in years])
    gross["tax"] = s_cit * gross["tax"].to_numpy()  # a shared tax: the budget forgoes its share of a cut
    out = pd.DataFrame(index=idx)
    for lv in schema.LEVERS:
        out[f"gross_{lv}"] = gross[lv].to_numpy()
    out["gross"] = gross.to_numpy().sum(axis=1)
    out["tax_cit_paid"] = s_cit * (s1["tax_paid"] - s0["tax_paid"]).to_numpy()
    out["tax_cit"] = s_cit * d_cit
    out["tax_vat"] = s_vat * vat * d_va
    out["tax_change"] = out["tax_cit"] + out["tax_vat"]
    out["net"] = out["gross"] - out["tax_change"]
    # the tax change is allocated to the levers by their share of the replication's cumulative gross cost
    cum = gross.groupby(level="replication").transform("sum")
    total = cum.sum(axis=1).to_numpy()
    for lv in schema.LEVERS:
        share = np.divide(cum[lv].to_numpy(), total, out=np.full(len(total), 1.0 / len(schema.LEVERS)),
                          where=total != 0)
        out[f"net_{lv}"] = out[f"gross_{lv}"] - share * out["tax_change"]
    return out


def present_value(yearly: pd.DataFrame | pd.Series, rate: float, base_year: int | None = None) -> pd.DataFrame:
    """``sum_t y_t / (1 + rate)^(t - t0)`` per replication (``yearly`` indexed by replication, year).

    ``rate = 0`` gives the undiscounted sum: the weights are exactly 1.
    """
    check_rate(rate)
    years = pd.Series(yearly.index.get_level_values("year"), index=yearly.index)
    t0 = int(years.min()) if base_year is None else base_year
    w = discount_weights(years, rate, t0).to_numpy()
    weighted = yearly.mul(w, axis=0)
    return weighted.groupby(level="replication").sum()


def _scenario_power(run: Run):
    """The run's scenario spec and chain (from its manifest), for the power prices of each year."""
    from ..simulation.config.chain import load_chain
    from ..simulation.config.scenario import Scenario

    spec_data = run.manifest.get("scenario")
    chain_file = run.manifest.get("chain_file")
    if not spec_data or not chain_file:
        raise InputError(run.source, "manifest", "needs the scenario and chain_file to value power at a shadow price")
    return Scenario.model_validate(year_keys(spec_data)), load_chain(chain_file)


def power_acts(run: Run, *, captive: bool = False) -> dict[int, np.ndarray]:
    """Where the run's power lever acts, by year: a (stage, zone) mask, True where the price differs
    from the reference and counts as fiscal cost, or on captive power (not a fiscal cost) when asked."""
    return {year: acts for year, (_, acts, _) in _RunPower.of(run, captive).terms.items()}


@dataclass(frozen=True)
class _RunPower:
    """A run's scenario, chain and, by year, its power price paid (yuan/kWh, stage x zone), where its
    lever acts (:func:`power_acts`) and where its power may enter at all (counted as fiscal cost, or
    captive when asked): read once per run."""

    spec: object
    chain: object
    terms: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]

    @classmethod
    def of(cls, run: Run, captive: bool) -> _RunPower:
        from ..simulation.economy.levers import year_terms

        spec, chain = _scenario_power(run)
        price = _by_stage(run, "price", chain).fillna(0.0)
        terms: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for row, (_, year) in enumerate(price.index):
            year = int(year)
            if year not in terms:
                pol = year_terms(spec.policy, chain, year, price.iloc[row].to_numpy())
                priced = pol.power_counts & (pol.power_price != pol.reference_power_price)
                acts = priced | (captive & ~pol.power_counts)
                terms[year] = (np.asarray(pol.power_price, dtype=float), acts, pol.power_counts | captive)
        return cls(spec, chain, terms)


def _by_stage(run: Run, column: str, chain) -> pd.DataFrame:
    """A stage column as (replication, year) x stage, in the chain's order."""
    st = run.stages.set_index(["replication", "year", "stage"])
    return st[column].unstack("stage").reindex(columns=chain.order)


def power_shadow_cost(run: Run, opportunity: TimePath, *, captive: bool = False,
                      acts: Mapping[int, np.ndarray] | None = None, power: _RunPower | None = None) -> pd.Series:
    """``sum_stages (w - p) * kWh`` per replication and year (million yuan; see the module docstring)
    over the cells where ``acts`` (by year; default: the run's own :func:`power_acts`) is True and
    the run's power counts as fiscal cost (or is captive, with ``captive``); ``power``: the run's
    :class:`_RunPower`, if already read."""
    power = power or _RunPower.of(run, captive)
    chain, zones = power.chain, power.spec.firms.zone_shares
    zw = np.array([zones.ordinary, zones.difficult_area, zones.special_zone], float)
    zw = zw / zw.sum() if zw.sum() > 0 else np.full(3, 1 / 3)
    emp = _by_stage(run, "employment", chain).fillna(0.0)
    out_units = _by_stage(run, "output", chain).fillna(0.0)
    y_units = np.where(chain.workers > 0, emp.to_numpy() / np.where(chain.workers > 0, chain.workers, 1.0),
                       out_units.to_numpy())
    kwh = y_units * chain.kwh
    if "electricity_kwh" in run.stages.columns:  # kWh used as the run booked them (the energy-saving fund lowers them)
        kwh = _by_stage(run, "electricity_kwh", chain).reindex(index=emp.index).fillna(0.0).to_numpy()
    gap = np.empty_like(kwh)
    cache: dict[int, np.ndarray] = {}
    for row, (_, year) in enumerate(emp.index):
        year = int(year)
        if year not in cache:
            power_price, own, may = power.terms[year]
            where = own if acts is None else acts[year] & may
            cache[year] = ((value_at(opportunity, year) - power_price) * where) @ zw  # yuan/kWh by stage
        gap[row] = cache[year]
    return pd.Series((gap * kwh).sum(axis=1) * schema.MONEY_SCALE, index=emp.index, name="power_shadow")


def shadow_costs(run: Run, base: Run, opportunity: TimePath, *, captive: bool = False) -> pd.Series:
    """Change in the shadow cost of power, scenario minus baseline, per replication and year, over
    the cells where the lever acts in either run (the same cells in both: a cell the scenario
    discounts from the baseline's reference price counts the baseline's ``(w - reference) x kWh``
    too, so a cut of a price above ``w`` costs the rent it gives up)."""
    p1, p0 = _RunPower.of(run, captive), _RunPower.of(base, captive)
    if p1.chain.order != p0.chain.order:
        raise InputError(run.source, "chain", "the scenario and the baseline need the same stages to value power "
                         "at a shadow price")
    def acts(power: _RunPower, year: int):
        return power.terms[year][1] if year in power.terms else False

    either = {year: acts(p1, year) | acts(p0, year) for year in p1.terms.keys() | p0.terms.keys()}
    s1 = power_shadow_cost(run, opportunity, captive=captive, acts=either, power=p1)
    s0 = power_shadow_cost(base, opportunity, captive=captive, acts=either, power=p0)
    idx = s1.index.intersection(s0.index)
    return (s1.reindex(idx) - s0.reindex(idx)).rename("power_shadow")

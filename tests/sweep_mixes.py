"""Scenario text shared by the sweep tests: small settings and the mix that moves all four levers of
``scenarios/sweep_base_levers.yaml`` (each test file builds its own sweep around them)."""

from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SMALL = "firms.scale: 0.05, horizon.years: 4"  # a small region over four years: quick sweeps
ALL_FOUR = f"""  - name: all_four
    set: {{{SMALL}, policy.electricity_price.default: 0.30, policy.freight_subsidy.rules.0.yuan_per_t: 800,
          policy.tax.holidays.0.exempt_years: 2, policy.tax.holidays.0.half_years: 3,
          policy.interest_subsidy.rules.0.fixed_asset_points: 2.0}}
"""


def mix_sweep(*mixes: str, replications: int = 3, seed: int = 3) -> str:
    """The text of the sweep ``mix_small``: the given mix lines (YAML list items) then ``all_four``."""
    return (f"name: mix_small\nbase: {SCENARIOS / 'sweep_base_levers.yaml'}\nmixes:\n" + "".join(mixes) + ALL_FOUR
            + f"replications: {replications}\nseed: {seed}\n")


def sweep_and_base(d, mix: str, replications: int = 3, seed: int = 3):
    """Run the sweep ``mix`` in ``d / "sweep"`` (batch files of 2 runs, so points span files) and the
    base scenario with the sweep's seed and small settings in ``d / "base"`` (the baseline, paired
    by replication); return both folders."""
    from valuechain.simulation import run_sweep

    from valuechain.cli import main

    (d / "s.yaml").write_text(mix)
    run_sweep(d / "s.yaml", out=d / "sweep", workers=1, progress=False, batch_size=2)
    assert main(["run", str(SCENARIOS / "sweep_base_levers.yaml"), "--out", str(d / "base"), "--set", f"seed={seed}",
                 "--set", f"replications={replications}", "--set", "firms.scale=0.05",
                 "--set", "horizon.years=4"]) == 0
    return d / "sweep", d / "base"

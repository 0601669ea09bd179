"""The command line ``valuechain``: one subcommand per job (run, sweep, compare, plot, ...).

``valuechain --help`` lists the subcommands from the parser itself (:func:`command_synopses`: each
one's positional arguments, required options and one-line help), so the list cannot drift from
what the parser accepts; ``tests/test_readme.py`` checks the README's command list against it.

Exit status: 0 success, 2 bad input (one line ``error: FILE: key: what is wrong``, nothing
written), 1 internal failure (one line; the traceback with ``--debug``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import traceback
from pathlib import Path

from .simulation.config.errors import InputError

PLOT_KINDS = ("paths", "effects", "frontier", "heatmap", "sobol", "chain")  # valuechain plot --kind


def _finite_float(text: str) -> float:
    """argparse type: a finite number (``nan``, ``inf`` and booleans are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number (got {text!r})")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line with exit status 2, and refuses an abbreviated
    option (``--replication 3``) instead of expanding it (the subcommands' parsers are of this class too)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def _check_value(self, action, value):
        """An invalid choice (a subcommand, ``--kind``, ``cost --metric``, ...) names the nearest one."""
        if action.choices is not None and value not in action.choices:
            from .simulation.config.nearest import did_you_mean

            hint = did_you_mean(str(value), action.choices)
            raise argparse.ArgumentError(action, f"invalid choice: {value!r}{hint} (choose from "
                                         f"{', '.join(map(str, action.choices))})")
        super()._check_value(action, value)

    def error(self, message: str):
        print(f"error: {self.prog}: {' '.join(message.split())} (see --help)", file=sys.stderr)
        sys.exit(2)

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but an unrecognized option is reported by the subcommand's parser with the
        nearest of its options: ``valuechain run: unrecognized arguments: --replication 3; did you
        mean '--replications'?``."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            from .simulation.config.nearest import did_you_mean

            subs = [a for a in self._actions if isinstance(a, argparse._SubParsersAction)]
            owner = subs[0].choices.get(getattr(parsed, "command", None), self) if subs else self
            # compared without their dashes, which every long option shares ('--foo' is not near '--out')
            options = [o[2:] for a in owner._actions for o in a.option_strings
                       if a.help != argparse.SUPPRESS and o.startswith("--")]
            first = next((e.split("=", 1)[0][2:] for e in extras if e.startswith("--")), "")
            hint = did_you_mean(first, options).replace("mean '", "mean '--") if first else ""
            owner.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        return parsed


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="valuechain", formatter_class=argparse.RawDescriptionHelpFormatter,
                epilog="Exit status: 0 success; 2 bad input (one line on stderr); 1 internal failure; 130 interrupted.")
    p.add_argument("--version", action="version", version=f"valuechain {_version()}")
    # the subcommands accept --debug too; their default is SUPPRESS so that an absent flag there
    # does not reset a `valuechain --debug run ...` given before the subcommand
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    # the commands are listed once, in the description (command_synopses), not again as "positional arguments"
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", help=argparse.SUPPRESS)

    run = sub.add_parser("run", help="run a scenario and write its results")
    run.add_argument("scenario", metavar="SCENARIO",
                     help="scenario YAML file, or a built-in scenario's name (valuechain list)")
    run.add_argument("--out", help="results directory (default: results/<run name>/)")
    run.add_argument("--name", help="name of the run (default: the scenario's name, plus its --set overrides "
                     "if any); letters, digits, _ . -")
    run.add_argument("--replications", type=int, help="number of replications (overrides the file)")
    run.add_argument("--seed", type=int, help="root seed (overrides the file)")
    run.add_argument("--workers", type=int, default=1, help="processes for replications (default 1)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a dotted key with a YAML value, e.g. policy.electricity_price.default=0.30")
    run.add_argument("--overwrite", action="store_true", help="replace a previous run's results in --out")
    run.add_argument("--engine", choices=["vectorized", "reference"], default="vectorized",
                     help="vectorized (default: all firms at once on arrays) or reference (one Mesa agent at a "
                     "time; the same numbers, slower)")
    run.add_argument("--parameter-draws", type=int, default=0, metavar="N",
                     help="draw N sets of the firms' behavioural parameters (Latin hypercube over "
                          "scenarios/parameters/firms_ranges.yaml) and run every replication of each")
    run.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    from .simulation.running.backtest_defaults import BACKTEST_REPLICATIONS  # light: no model import

    bt = sub.add_parser("backtest", help="run the recorded 2014-2024 history and score it against the record",
                        description="Run the recorded 2014-2024 history and its no-policy counterfactual, and "
                        "print the model against the record. The coverage factors fitted on one record "
                        f"(factor_fitted_on in the series mapping: {fitted_on_text()}) are re-fitted in each "
                        "parameter draw on that record (record / "
                        "the draw's mean over its replications), so the fitted record is matched in every "
                        "draw and the range is that of the path given the fit; the counterfactual uses the "
                        "recorded history's factors, draw by draw.")
    bt.add_argument("--out", default="results/backtest", help="folder for backtest.csv, "
                    "backtest_counterfactual.csv, backtest_factors.csv (the re-fitted factors per draw), "
                    "backtest.png and the manifest backtest.json (default results/backtest/; a non-empty folder "
                    "only with --overwrite and only a previous back-test's)")
    bt.add_argument("--replications", type=int, default=BACKTEST_REPLICATIONS,
                    help=f"replications, i.e. shock paths, of every parameter draw (default {BACKTEST_REPLICATIONS}: "
                    "fewer let one path set the range; benchmarks/backtest_replications.py)")
    bt.add_argument("--parameter-draws", type=int, default=0, metavar="N",
                    help="parameter draws (default 0: the defaults only); each draw re-fits the coverage factors")
    bt.add_argument("--seed", type=int, help="root seed (default: the scenario's)")
    bt.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    bt.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a dotted key, e.g. shocks.price_volatility=0.03 (policy.* keys: the recorded "
                    "history only, not the no-policy counterfactual; firms.scale other than 1 is warned about: the "
                    "region's levels then no longer match the record's)")
    bt.add_argument("--overwrite", action="store_true", help="replace a previous back-test's files in a non-empty "
                    "--out (only those its backtest.json lists; any other folder is refused)")
    bt.add_argument("--series", metavar="FILE", help="series mapping to score with (default "
                    "scenarios/observed/xinjiang_series.yaml; its `record` is read relative to it)")
    bt.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    swp = sub.add_parser("sweep", help="run a sweep file's points x replications into a resumable store")
    swp.add_argument("sweep", metavar="SWEEP", help="sweep YAML file, or a built-in sweep's name (valuechain list)")
    swp.add_argument("--out", help="results directory (default: results/<sweep name>/)")
    swp.add_argument("--workers", type=int, help="local processes (default: one per core; 1 = in this process)")
    swp.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://host:8786")
    swp.add_argument("--scheduler-timeout", type=_finite_float, metavar="SECONDS",
                     help="end the sweep (exit 1, resumable) when the Dask scheduler is gone this long "
                          "(default 60, or VALUECHAIN_SCHEDULER_TIMEOUT_S)")
    swp.add_argument("--resume", action="store_true", help="skip the runs already finished in --out")
    swp.add_argument("--overwrite", action="store_true", help="replace a previous sweep's results in --out")
    swp.add_argument("--batch-size", type=int, metavar="N",
                     help="runs per task sent to a worker, written to one file (default: from the number of runs "
                          "and workers, at most 200)")
    swp.add_argument("--columns", default="analysis", metavar="analysis|all|COL,COL",
                     help="stage columns kept in the store (default analysis: those the analysis commands read; "
                          "all: every stage column, about 2.4 times the disk)")
    swp.add_argument("--quiet", action="store_true", help="no progress bar")
    swp.add_argument("--dry-run", action="store_true", help="validate and describe the design; write nothing")
    swp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    cmp = sub.add_parser("compare", help="scenario minus baseline with confidence intervals (paired replications)")
    cmp.add_argument("results", metavar="RESULTS_DIR", help="results directory of the scenario (or a sweep / folder "
                     "of them: one row per point)")
    cmp.add_argument("baseline", metavar="BASELINE_DIR",
                     help="results directory of the baseline (same chain, years, scale and seed)")
    cmp.add_argument("--metric", default="value_added", help="value_added (default), investment, employment, "
                     "downstream_investment, fiscal_cost, processing_depth, ... (see analysis.compare)")
    cmp.add_argument("--by", help="sector, stage or tier (lever for fiscal_cost); default: the whole region")
    _horizon_options(cmp)
    cmp.add_argument("--confidence", type=_finite_float, default=0.95, help="confidence level (default 0.95)")
    cmp.add_argument("--unpaired", action="store_true", help="Welch interval instead of paired replications "
                     "(for runs with different seeds)")
    cmp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    cst = sub.add_parser("cost", help="what a yuan buys: gross and net cost, present values, ratios, ranking")
    cst.add_argument("results", metavar="RESULTS_DIR", help="results directory, a folder of them, or a sweep directory")
    cst.add_argument("baseline", metavar="BASELINE_DIR", help="results directory of the baseline (same seed)")
    cst.add_argument("--rate", type=float, default=0.08,
                     help="discount rate a year for present values, a fraction (default 0.08, i.e. 8%%)")
    cst.add_argument("--mcpf", type=float, default=1.0,
                     help="marginal cost of public funds (default 1; documented range 1.0-1.5, 0.5-5 accepted)")
    cst.add_argument("--perspective", choices=["region", "government"], default="region",
                     help="whose budget: the region's tax shares (default) or the consolidated government's")
    cst.add_argument("--power-opportunity", type=float, metavar="YUAN_PER_KWH",
                     help="value the electricity lever at this opportunity cost of power, 0 to 5 (documented range "
                     "0.25 to 0.40)")
    cst.add_argument("--captive", action="store_true", help="with --power-opportunity: include captive power")
    cst.add_argument("--metric", default="value_added",
                     choices=["value_added", "employment", "downstream_investment", "cost_per_job_year"],
                     help="ranking metric (default value_added)")
    cst.add_argument("--basis", choices=["net", "gross"], default="net", help="ranking cost basis (default net)")
    cst.add_argument("--interval", choices=["fieller", "delta", "replication"], default="fieller",
                     help="how the interval of each ratio (per 10,000 yuan of cost; the cost per job-year in yuan) is "
                     "computed over the "
                     "paired replications, or over the parameter draws when both sides were run with them: "
                     "fieller (default; unbounded where the cost's interval includes zero), delta (delta method) "
                     "or replication (t interval of each replication's, or each draw's, own ratio)")
    cst.add_argument("--confidence", type=float, default=0.95, help="confidence level (default 0.95)")
    cst.add_argument("--by-year", action="store_true", help="also print gross, tax change and net by year")
    cst.add_argument("--multipliers", action="store_true", help="also print the chain's Leontief multipliers")
    cst.add_argument("--csv", metavar="FILE", help="write the ratio and cost table as CSV (a new file, or one "
                     "valuechain wrote with --overwrite)")
    cst.add_argument("--overwrite", action="store_true", help="replace a --csv FILE that valuechain wrote")
    cst.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    plt = sub.add_parser("plot", help="draw a publication figure from results or a sweep")
    plt.add_argument("results", metavar="RESULTS_DIR", help="results directory, a folder of them, or a sweep directory")
    plt.add_argument("--kind", required=True, choices=PLOT_KINDS, metavar="KIND",
                     help="paths: yearly outcome by scenario or point; effects: change with its interval by "
                     "sector/stage/tier or scenario; frontier: fiscal cost against the outcome; heatmap: a "
                     "two-parameter sweep; sobol: sensitivity indices of a sobol/morris sweep; chain: the chain "
                     "diagram of a run against --baseline")
    plt.add_argument("--out", required=True, metavar="FILE.{png,pdf,svg}",
                     help="FILE.png (300 dpi), FILE.pdf or FILE.svg (a new file, or one valuechain wrote with "
                     "--overwrite)")
    plt.add_argument("--overwrite", action="store_true", help="replace an --out FILE that valuechain wrote")
    plt.add_argument("--baseline", help="baseline results directory (effects, chain; optional for paths, frontier)")
    plt.add_argument("--metric", default="value_added", help="outcome to plot (default value_added)")
    plt.add_argument("--by", help="effects: group by sector (default), stage or tier")
    plt.add_argument("--difference", action="store_true", help="paths: the paired effect against --baseline "
                     "per year, with its band")
    plt.add_argument("--unpaired", action="store_true", help="effects, paths --difference: Welch intervals")
    for col in ("sector", "tier", "stage"):
        plt.add_argument(f"--{col}", action="append", metavar=col.upper(),
                         help=f"paths, effects: only the stages in this {col} (repeatable)" if col != "stage"
                         else "paths, effects: only this stage (repeatable)")
    plt.add_argument("--x", help="heatmap: varied key on the x axis (default: the sweep's first)")
    plt.add_argument("--y", help="heatmap: varied key on the y axis (default: the sweep's second)")
    _horizon_options(plt)
    plt.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    val = sub.add_parser("validate", help="check scenario, sweep or chain files without running them",
                         description="Check scenario, sweep or chain files without running them: every file, one "
                         "ok or error line each; exit status 2 if any failed.")
    val.add_argument("files", nargs="+", metavar="FILE.yaml", help="scenario, sweep or chain files, or built-in "
                     "scenarios' and sweeps' names (valuechain list)")
    val.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    lst = sub.add_parser("list", help="built-in chains, scenarios and sweeps, by the names run and sweep accept",
                         description="List the built-in chains, scenarios and sweeps, each with a one-line "
                         "description, by the names `valuechain run`, `valuechain sweep` and a scenario's "
                         "`chain:` key accept.")
    lst.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.description = ("Simulate how regional industrial policy changes investment and value added along value "
                     "chains.\n\ncommands:\n" + format_synopses(command_synopses(p)))
    p.usage = "%(prog)s [-h] [--version] [--debug] COMMAND ..."  # set last: the subcommands' progs derive from it
    return p


def _horizon_options(parser: argparse.ArgumentParser) -> None:
    """``--year | --cumulative | --pv RATE`` of compare and plot: how an outcome is reduced over the years."""
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--year", type=int, help="one simulated year only, e.g. 2020")
    when.add_argument("--cumulative", action="store_true", help="summed over the simulated years (the default; "
                      "processing_depth: its value-added-weighted mean over them)")
    when.add_argument("--pv", type=_finite_float, metavar="RATE",
                      help="present value: the years discounted at RATE a year (a fraction, e.g. 0.05 for 5%%) "
                      "to the first simulated year")


def command_synopses(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """``(synopsis, one-line help)`` of every subcommand of ``parser``, in its order, read from the
    subparsers themselves: ``("valuechain plot RESULTS_DIR --kind KIND --out FILE.{png,pdf,svg}",
    "draw ...")`` -- the name, the positional arguments and the required options by their metavars."""
    # argparse has no public accessor for its subparsers; _actions and _choices_actions have been
    # stable since Python 2.7
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: a.help for a in subs._choices_actions}
    return [(" ".join([sub.prog, *(_synopsis_word(a) for a in sub._actions if _in_synopsis(a))]), helps[name])
            for name, sub in subs.choices.items()]


def _in_synopsis(action: argparse.Action) -> bool:
    return action.help != argparse.SUPPRESS and (not action.option_strings or action.required)


def _synopsis_word(action: argparse.Action) -> str:
    name = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
    word = {"+": f"{name} ...", "*": f"[{name} ...]", "?": f"[{name}]"}.get(action.nargs, name)
    return f"{action.option_strings[0]} {word}" if action.option_strings else word


def format_synopses(synopses: list[tuple[str, str]], width: int = 34) -> str:
    """Two columns, synopsis and help; a synopsis longer than ``width`` has its help on the next line."""
    lines = []
    for synopsis, text in synopses:
        if len(synopsis) > width:
            lines += [f"  {synopsis}", f"  {'':{width}}  {text}"]
        else:
            lines.append(f"  {synopsis:{width}}  {text}")
    return "\n".join(lines)


def fitted_on_text(series_file: Path | None = None) -> str:
    """Which series of the mapping (default: the shipped one) have their coverage factor fitted on which
    record, from its own ``factor_fitted_on`` values, e.g. ``textile_firms and textile_employment on 2014``."""
    from .simulation.config.observed import default_series_file
    from .simulation.config.yamlio import load_yaml_mapping

    try:
        series = load_yaml_mapping(series_file or default_series_file()).get("series") or {}
    except InputError:  # the back-test itself reports a bad mapping; the help still shows
        return "see the mapping file"
    by_year: dict[int, list[str]] = {}
    for name, spec in series.items():
        year = spec.get("factor_fitted_on") if isinstance(spec, dict) else None
        if year is not None:
            by_year.setdefault(year, []).append(str(name))
    if not by_year:
        return "none"
    listed = {year: ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
              for year, names in by_year.items()}
    return "; ".join(f"{listed[year]} on {year}" for year in sorted(listed))


def _check_range(name: str, value: float | None, lo: float, hi: float, note: str = "") -> None:
    """Refuse ``--name VALUE`` outside ``[lo, hi]`` (one line naming the option); NaN fails every
    comparison and infinity the bounds, so both are refused too."""
    if value is not None and not (lo <= value <= hi):
        raise InputError(f"--{name}", "", f"must be between {lo} and {hi}{note}", value)


# --power-opportunity, yuan/kWh: the bounds the scenario schema puts on a power price and on the supply
# cost of power (policy.electricity_price, 0 to 5); the documented range is the README's cost defaults
POWER_OPPORTUNITY_YUAN_PER_KWH = (0, 5)
POWER_OPPORTUNITY_NOTE = " yuan/kWh (documented range 0.25-0.40)"


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("valuechain")
    except metadata.PackageNotFoundError:
        return "unknown"


KIND_HINTS = {
    "scenario": "this is a scenario file; use `valuechain run FILE`",
    "sweep": "this is a sweep file; use `valuechain sweep FILE`",
    "chain": "this is a chain file; name it in a scenario's `chain:` key and use `valuechain run SCENARIO`",
}


def file_kind(data: dict) -> str:
    """``'chain'``, ``'sweep'`` or ``'scenario'`` from a YAML mapping's top-level keys."""
    if "stages" in data:
        return "chain"
    if "base" in data or "design" in data or "parameters" in data:
        return "sweep"
    return "scenario"


def check_kind(path: Path, expected: str) -> None:
    """Refuse the wrong kind of file with a message that names what it is and the right command."""
    from .simulation.config.yamlio import load_yaml_mapping

    if not path.is_file():
        return  # the loader reports the missing file
    kind = file_kind(load_yaml_mapping(path))
    if kind != expected:
        raise InputError(str(path), "", f"{KIND_HINTS[kind]} (valuechain {'run' if expected == 'scenario' else 'sweep'}"
                         f" takes a {expected} file)")


def run_name(scenario_name: str, overrides: list[str]) -> str:
    """The default name of a run: the scenario's, plus its ``--set`` overrides, e.g.
    ``baseline`` + ``policy.electricity_price.default=0.30`` -> ``baseline_electricity_price.default-0.30``;
    at most 100 characters (longer ones end in a hash of the overrides)."""
    import hashlib
    import re

    if not overrides:
        return scenario_name
    parts = []
    for a in overrides:
        key, _, value = a.partition("=")
        tail = ".".join(k for k in key.strip().split(".")[-2:])
        parts.append(f"{tail}-{value.strip()}")
    name = re.sub(r"[^A-Za-z0-9_.\-]+", "_", "_".join([scenario_name, *parts])).strip("_")
    if len(name) > 100:
        digest = hashlib.sha256("\n".join(overrides).encode()).hexdigest()[:8]
        name = f"{name[:90]}_{digest}"
    return name


def cmd_run(args) -> int:
    import re

    from .simulation.config.builtin import scenario_path
    from .simulation.config.scenario import load_scenario
    from .simulation.running.executors import cap_workers
    from .simulation.running.outdir import output_lock
    from .simulation.running.runner import run_scenario
    from .simulation.running.store import check_out_dir, write_results

    _check_range("replications", args.replications, 1, 100_000)
    _check_range("seed", args.seed, 0, 2**63 - 1)
    _check_range("workers", args.workers, 1, 1024)
    _check_range("parameter-draws", args.parameter_draws, 0, 10_000)
    if args.name is not None and not re.fullmatch(r"[A-Za-z0-9_.\-]{1,100}", args.name):
        raise InputError("--name", "", "must be 1-100 letters, digits, _ . or -", args.name)
    check_kind(scenario_path(args.scenario, "scenario"), "scenario")
    scenario = load_scenario(args.scenario, args.set)
    name = args.name or run_name(scenario.name, args.set)
    in_file = scenario.name
    if name != scenario.name:
        scenario = scenario.with_overrides(name=name)
    out = Path(args.out) if args.out else Path("results") / scenario.name
    check_out_dir(out, args.overwrite)  # bad input fails before anything is written
    n_runs = (args.replications or scenario.spec.replications) * max(1, args.parameter_draws)
    workers = cap_workers(args.workers, n_runs)
    with output_lock(out):  # one writer per folder, from before the first run to the manifest
        check_out_dir(out, args.overwrite)
        if args.parameter_draws:
            from .simulation.running.draws import run_with_draws

            results = run_with_draws(scenario, args.parameter_draws, replications=args.replications,
                                     seed=args.seed, workers=workers, engine=args.engine)
        else:
            results = run_scenario(scenario, replications=args.replications, seed=args.seed, workers=workers,
                                   engine=args.engine)
        results.meta.update({"overrides": list(args.set), "scenario_name_in_file": in_file})
        write_results(results, out, overwrite=args.overwrite)
    from .analysis.compare import runs_label

    print(summary_table(results))
    print(f"\nresults: {out}/ ({runs_label(results.runs.shape[0], args.parameter_draws)}; manifest.json, "
          f"stages_rep*.parquet, fiscal_cost.parquet, runs.parquet)")
    return 0


def summary_table(results) -> str:
    """Value added, investment, employment and fiscal cost by sector (in chain order), first and
    last year, mean over replications: at most 100 characters wide."""
    from .analysis.compare import parameter_draws_of, runs_label
    from .simulation.schema import DISPLAY_NAMES

    st, fc = results.stages, results.fiscal
    years = [int(st.year.min()), int(st.year.max())]
    nrep = st.replication.nunique()
    by = st[st.year.isin(years)].groupby(["sector", "year"])[["value_added", "investment", "employment"]].sum() / nrep
    fiscal = fc[fc.year.isin(years)].groupby(["sector", "year"]).fiscal_cost.sum() / nrep
    table = by.join(fiscal).unstack("year").fillna(0.0)
    from .simulation.config.chain import SECTORS

    # the standard sector order, as compare and the figures use it
    order = [s for s in SECTORS if s in table.index] + sorted(set(table.index) - set(SECTORS))
    table = table.reindex(order)
    metrics = ("value_added", "investment", "employment", "fiscal_cost")
    rows = [(s, [table.loc[s, (m, y)] for m in metrics for y in years]) for s in table.index]
    rows.append(("total", [table[(m, y)].sum() for m in metrics for y in years]))
    w0 = max(len("sector"), *(len(r[0]) for r in rows))
    w = 9
    heads = [f"{m:^{2 * w + 1}}" for m in metrics]
    lines = [" " * w0 + " " + " ".join(heads).rstrip(),
             f"{'sector':<{w0}} " + " ".join(f"{y:>{w}}" for _ in metrics for y in years)]
    for name, vals in rows:
        lines.append(f"{name:<{w0}} " + " ".join(f"{v:>{w},.0f}" for v in vals))
    unit = (f"scenario {DISPLAY_NAMES.get(results.scenario.name, results.scenario.name)}\n"
            f"mean of {runs_label(nrep, parameter_draws_of(results.meta.get('manifest_extra', {})))}; million yuan, "
            "employment in workers")
    return unit + "\n" + "\n".join(lines)


def cmd_backtest(args) -> int:
    """Run the recorded history and the counterfactual, print and write the model-record table."""
    from .analysis.backtest import backtest_table, format_factors, format_table, plot_backtest, refit_factors
    from .simulation.config.observed import load_observed
    from .simulation.running.backtest import run_history
    from .simulation.running.backtest_out import check_backtest_out, write_backtest
    from .simulation.running.outdir import output_lock

    _check_range("replications", args.replications, 1, 100_000)
    _check_range("parameter-draws", args.parameter_draws, 0, 10_000)
    _check_range("seed", args.seed, 0, 2**63 - 1)
    _check_range("workers", args.workers, 1, 1024)
    observed = load_observed(args.series)  # a bad mapping fails before the runs
    out = Path(args.out)
    check_backtest_out(out, args.overwrite)  # a folder it may not write in fails before the runs
    with output_lock(out):  # one writer per folder, from before the first run to the manifest
        check_backtest_out(out, args.overwrite)
        runs = run_history(args.replications, args.parameter_draws, args.seed, args.set, args.workers)
        warning = scale_warning(runs["recorded"].scenario.spec.firms.scale)
        if warning:
            print(warning, file=sys.stderr)
        factors = refit_factors(runs["recorded"], observed)  # per draw, on the recorded history's fitting records
        table = backtest_table(runs["recorded"], observed, factors=factors)
        counterfactual = backtest_table(runs["counterfactual"], observed, factors=factors)
        n = runs["recorded"].runs.shape[0]
        interval = (f"{args.parameter_draws} parameter draw(s) x replications" if args.parameter_draws
                    else "replications only")
        with tempfile.TemporaryDirectory() as tmp:  # the figure is drawn outside --out, then written atomically
            figure = plot_backtest(table, Path(tmp) / "backtest.png", counterfactual, observed=observed,
                                   title=f"Recorded 2014-2024 history against the record ({n} runs; range: "
                                   f"{interval})").read_bytes()
        contents = {"backtest.csv": table.to_csv(index=False).encode(),
                    "backtest_counterfactual.csv": counterfactual.to_csv(index=False).encode(),
                    "backtest_factors.csv": factors.to_csv(index=False).encode(), "backtest.png": figure}
        write_backtest(out, contents, args.overwrite, {"overrides": list(args.set), "runs": n,
                                                       "parameter_draws": args.parameter_draws})
    print(f"back-test: history_2014_recorded, {n} run(s), model range = 2.5-97.5% of runs ({interval})")
    print(format_table(table))
    print("\n" + format_factors(factors, observed))
    print(f"\nwritten: {out}/backtest.csv, backtest_counterfactual.csv, backtest_factors.csv, backtest.png, "
          "backtest.json")
    return 0


def scale_warning(scale: float) -> str | None:
    """The back-test's warning for ``firms.scale`` other than 1 (the recorded region's firms), else None."""
    if scale == 1:
        return None
    return (f"warning: firms.scale is {scale:g}, not 1: the region's levels no longer match the record's, so the "
            "table's errors and checks do not score the model")


def cmd_sweep(args) -> int:
    if not (args.dry_run or args.scheduler) and args.workers != 1:
        from .simulation.running.executors import default_workers, start_pool_server  # light: no numpy

        if (args.workers or default_workers()) > 1:  # the local pool's workers will fork from the fork server:
            start_pool_server()  # its imports (~0.9 s) now, beside this process's own and the sweep's planning
    from .simulation.config.builtin import scenario_path
    from .simulation.running.sweeps import sweep_command

    check_kind(scenario_path(args.sweep, "sweep"), "sweep")
    return sweep_command(args)


def check_known(option: str, given: str | None, valid: tuple[str, ...], what: str) -> None:
    """Refuse ``--option GIVEN`` that is none of ``valid``, naming the nearest (the ``closest_key`` that
    suggests a misspelt key of a file or of ``--set``) and the choices; whether a known metric can be
    grouped so is the analysis' check (``analysis.compare.check_metric``)."""
    if given is None or given in valid:
        return
    from .simulation.config.nearest import did_you_mean

    raise InputError(f"--{option}", "", f"unknown {what} '{given}'{did_you_mean(given, valid)} "
                     f"(choose one of {', '.join(valid)})")


def check_metric_and_by(args) -> None:
    """``--metric`` and ``--by`` of compare and plot: known names, else the nearest one suggested."""
    from .analysis.compare import GROUPS, METRICS

    check_known("metric", args.metric, METRICS, "metric")
    check_known("by", args.by, (*GROUPS, "lever"), "grouping")


def cmd_compare(args) -> int:
    check_metric_and_by(args)
    from .analysis.compare import compare_command

    return compare_command(args)


def cmd_cost(args) -> int:
    _check_range("power-opportunity", args.power_opportunity, *POWER_OPPORTUNITY_YUAN_PER_KWH, POWER_OPPORTUNITY_NOTE)
    if args.captive and args.power_opportunity is None:  # refused, not silently ignored (as plot does)
        raise InputError("--captive", "", "needs --power-opportunity YUAN_PER_KWH (captive power is counted only "
                         "at the shadow price of power)")
    if args.overwrite and not args.csv:  # refused, not silently ignored: there is no file to replace
        raise InputError("--overwrite", "", "needs --csv FILE (cost writes no file without it)")
    from .analysis.cost import cost_command

    return cost_command(args)


def cmd_plot(args) -> int:
    from .plot_options import check_plot_args

    check_plot_args(args)  # a bad option is refused before pandas and matplotlib are imported
    check_metric_and_by(args)
    from .analysis.plots_cli import plot_command

    return plot_command(args)


def cmd_validate(args) -> int:
    """Check every file; one line each (``ok: ...`` on stdout or ``error: ...`` on stderr); 2 if any failed."""
    failed = 0
    for file in args.files:
        try:
            print(f"ok: {file}: {_validate_one(file)}", flush=True)  # in order with the error lines
        except InputError as err:
            print(f"error: {err.line()}", file=sys.stderr)
            failed += 1
    return 2 if failed else 0


def _validate_one(file: str) -> str:
    """What ``file`` is, once validated: ``chain 'tiny' with 3 stages``; an InputError if bad."""
    from .simulation.config.builtin import chain_dir, is_name, scenario_path
    from .simulation.config.chain import chain_from_dict
    from .simulation.config.scenario import load_scenario
    from .simulation.config.yamlio import load_yaml_mapping

    builtin_chain = chain_dir() / f"{file}.yaml"
    # a built-in's name (valuechain list) as run and sweep take it, or a built-in chain's
    named_chain = is_name(file) and not Path(file).exists() and builtin_chain.exists()
    file = builtin_chain if named_chain else scenario_path(file)
    data = load_yaml_mapping(file)
    if "stages" in data:
        chain = chain_from_dict(data, file)
        return f"chain '{chain.name}' with {chain.n_stages} stages"
    if "base" in data:
        from .simulation.config.sweep import load_sweep

        sweep = load_sweep(file)
        return f"sweep with {len(sweep.points)} point(s) on '{sweep.base.name}'"
    sc = load_scenario(file)
    return f"scenario '{sc.name}' on chain '{sc.chain.name}'"


def cmd_list(args) -> int:
    """Built-in chains, scenarios and sweeps, by the names ``run``, ``sweep`` and ``chain:`` accept, each with
    its one-line description (:func:`builtin_description`)."""
    from .simulation.config.builtin import chain_dir, data_dir
    from .simulation.config.yamlio import load_yaml_mapping

    chains = [(p.stem, builtin_description(p)) for p in sorted(chain_dir().glob("*.yaml"))]
    scenarios, sweeps = [], []
    for path in sorted(data_dir().glob("*.yaml")):
        data = load_yaml_mapping(path)
        (sweeps if "base" in data else scenarios).append((path.stem, builtin_description(path, data)))
    width = max(len(name) for name, _ in chains + scenarios + sweeps)
    for title, rows in (("chains", chains), ("scenarios (valuechain run NAME)", scenarios),
                        ("sweeps (valuechain sweep NAME)", sweeps)):
        print(f"{title}:")
        for name, text in rows:
            print(f"  {name:{width}}  {text}".rstrip())
    return 0


def builtin_description(path: Path, data: dict | None = None) -> str:
    """One line about a built-in file: a scenario's or sweep's ``description`` key (``data``: the file's
    mapping); for a chain file (``data`` None), whose ``description`` is a paragraph and part of the
    chain's content hash (``chain_hash``: editing it would make earlier results incomparable), the
    first line of the file's leading ``#`` comment."""
    if data is not None:
        return " ".join(str(data.get("description") or "").split())
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if line.lstrip("#").strip():
            return line.lstrip("#").strip()
    return ""


COMMANDS = {"run": cmd_run, "sweep": cmd_sweep, "compare": cmd_compare, "plot": cmd_plot, "validate": cmd_validate,
            "list": cmd_list}
COMMANDS["cost"] = cmd_cost
COMMANDS["backtest"] = cmd_backtest


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InputError as err:
        print(f"error: {err.line()}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into a program that stopped reading (e.g. head)
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal failure: one line, traceback only with --debug
        if args.debug:
            traceback.print_exc()
        msg = " ".join(f"{type(exc).__name__}: {exc}".split())
        print(f"error: internal failure: {msg} (rerun with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""Global sensitivity of an outcome to the swept parameters: Sobol indices and Morris screening (SALib).

The model is stochastic, so an outcome at design point i is ``y_ik = f(x_i) + e_ik`` over
replications k = 1..R. The indices are computed on the replication means ``Y_i = mean_k y_ik``,
which is what SALib's estimators expect from a deterministic model. Replication noise is reported
beside them in two ways:

- ``*_rep_low`` / ``*_rep_high`` / ``*_rep_sd``: the indices recomputed on ``n_boot`` bootstrap
  resamples of the replications (draw R replication numbers with replacement, the same draw for
  every point, which keeps the common random numbers intact, average, recompute) -> the 2.5/97.5
  percentiles and standard deviation: how much the indices move from noise in the means;
- ``*_single_sd``: the standard deviation of the indices computed on each single replication.

``noise_share`` (in ``.attrs``, see :func:`replication_noise`): the share of the variance of the
means that is replication noise not shared by all points. Noise inflates total indices (ST) of every parameter and
adds to ``1 - sum S1``; if ``noise_share`` is not small, add replications before reading the indices.

Too few base samples N: :func:`sensitivity` prints one line on stderr (``warning: ...``, also in
``.attrs['warning']``) when SALib's confidence half-width of any S1 or ST exceeds
:data:`SOBOL_MAX_HALF_WIDTH` (:func:`sobol_precision_warning`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ..simulation.config.errors import InputError
from ..simulation.schema import keys_first
from .compare import Run, horizon_text, metric_unit, outcomes

# A Sobol index is a share of the outcome's variance, so its precision is judged on that scale: an index
# whose confidence half-width exceeds 0.1 cannot tell a parameter that explains 10% of the variance from
# one that explains none. SALib reports that half-width (S1_conf, ST_conf: a bootstrap over the sample
# rows) and it shrinks about as 1/sqrt(N), so the check follows the sweep's actual precision where a fixed
# minimum N would not: a smooth outcome may be precise at a small N, a noisy or threshold-driven one not.
SOBOL_MAX_HALF_WIDTH = 0.1


def replication_noise(Y: np.ndarray) -> float:
    """Share of the variance of the point means due to replication noise (see module docstring).

    With common random numbers, part of the noise is the same at every point (replication k is
    a good or bad draw everywhere) and shifts all means alike, leaving the indices untouched. The
    noise that matters is the point x replication interaction ``r_ik = y_ik - Y_i - m_k + m``
    (``m_k``: mean of replication k over points); its variance in a point mean is
    ``sum r_ik^2 / ((n - 1)(R - 1)) / R`` (two-way ANOVA), compared with ``var_i(Y_i)``.
    """
    Y = np.asarray(Y, float)
    if Y.ndim == 1 or Y.shape[1] < 2 or Y.shape[0] < 2:
        return float("nan")
    n, R = Y.shape
    r = Y - Y.mean(axis=1, keepdims=True) - Y.mean(axis=0, keepdims=True) + Y.mean()
    noise = float((r**2).sum() / ((n - 1) * (R - 1)) / R)
    signal = float(Y.mean(axis=1).var(ddof=1))
    return noise / signal if signal > 0 else float("inf")


def _indices(kind: str, problem: dict, X: np.ndarray | None, y: np.ndarray, *, num_levels: int, num_resamples: int,
             conf_level: float, seed: int) -> dict[str, np.ndarray]:
    if kind == "sobol":
        from SALib.analyze import sobol

        # SALib's sobol.analyze seeds its bootstrap only `if seed:`, so seed 0 drew from numpy's global state
        # (S1_conf and ST_conf changed from call to call); a Generator is truthy, and default_rng(s) passes
        # it through, so every other seed gives the same intervals as before
        r = sobol.analyze(problem, y, calc_second_order=False, num_resamples=num_resamples, conf_level=conf_level,
                          seed=np.random.default_rng(seed))
        return {k: np.asarray(r[k], float) for k in ("S1", "S1_conf", "ST", "ST_conf")}
    from SALib.analyze import morris

    r = morris.analyze(problem, X, y, num_resamples=num_resamples, conf_level=conf_level, num_levels=num_levels,
                       seed=seed)
    return {k: np.asarray(r[k], float) for k in ("mu", "mu_star", "sigma", "mu_star_conf")}


def _analyze(kind: str, problem: dict, Y: np.ndarray, X: np.ndarray | None, *, num_levels: int = 4,
             num_resamples: int = 100, conf_level: float = 0.95, n_boot: int = 100, seed: int = 0) -> pd.DataFrame:
    Y = np.asarray(Y, float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if not np.isfinite(Y).all():
        raise InputError("sweep", "runs", "some points have no result (failed or missing runs); the sensitivity "
                         "design needs every point")
    kw = {"num_levels": num_levels, "conf_level": conf_level, "seed": seed}
    main = _indices(kind, problem, X, Y.mean(axis=1), num_resamples=num_resamples, **kw)
    out = pd.DataFrame({"parameter": list(problem["names"]), **main})
    names = ("S1", "ST") if kind == "sobol" else ("mu_star",)
    R = Y.shape[1]
    if R >= 2:
        rng = np.random.default_rng(seed)
        boot = {n: [] for n in names}
        for _ in range(n_boot):
            take = rng.integers(0, R, size=R)
            r = _indices(kind, problem, X, Y[:, take].mean(axis=1), num_resamples=2, **kw)
            for n in names:
                boot[n].append(r[n])
        single = {n: [] for n in names}
        for k in range(R):
            r = _indices(kind, problem, X, Y[:, k], num_resamples=2, **kw)
            for n in names:
                single[n].append(r[n])
        for n in names:
            b = np.vstack(boot[n])
            out[f"{n}_rep_low"], out[f"{n}_rep_high"] = np.percentile(b, [2.5, 97.5], axis=0)
            out[f"{n}_rep_sd"] = b.std(axis=0, ddof=1)
            out[f"{n}_single_sd"] = np.vstack(single[n]).std(axis=0, ddof=1)
    out.attrs.update({"method": kind, "replications": R, "points": Y.shape[0], "noise_share": replication_noise(Y),
                      "conf_level": conf_level})
    return out


def base_samples(indices: pd.DataFrame) -> int:
    """N of the Sobol indices of :func:`sobol_indices`: Saltelli without second order has N (D + 2) points."""
    return indices.attrs["points"] // (len(indices) + 2)


def sobol_precision_warning(indices: pd.DataFrame, max_half_width: float = SOBOL_MAX_HALF_WIDTH) -> str | None:
    """What is wrong when the widest confidence half-width of the S1 and ST indices of ``indices`` (from
    :func:`sobol_indices`) exceeds ``max_half_width``, e.g. ``Sobol indices imprecise with N = 4 base
    samples: the 95% confidence half-width of S1 of a is 0.62 (above 0.1); more samples narrow it (about as
    1/sqrt(N))``; None when every half-width is within it (or unknown: NaN)."""
    conf = indices.set_index("parameter")[["S1_conf", "ST_conf"]]
    if not (conf.to_numpy(float) > max_half_width).any():
        return None
    parameter, column = conf.stack().idxmax()
    n_base = base_samples(indices)
    metric = indices.attrs.get("metric")
    return (f"Sobol indices{f' of {metric}' if metric else ''} imprecise with N = {n_base} base samples: the "
            f"{indices.attrs.get('conf_level', 0.95):.0%} confidence half-width of {column[:2]} of {parameter} is "
            f"{conf.loc[parameter, column]:.2f} (above {max_half_width:g}); more samples narrow it (about as "
            "1/sqrt(N))")


def sobol_indices(Y: np.ndarray, problem: dict, *, num_resamples: int = 100, conf_level: float = 0.95,
                  n_boot: int = 100, seed: int = 0) -> pd.DataFrame:
    """Sobol first-order ``S1`` and total ``ST`` indices from outputs ``Y`` (points x replications).

    Rows of ``Y`` in the order of ``SALib.sample.sobol.sample(problem, N, calc_second_order=False)``
    (``N (D + 2)`` points). ``S1_i = V[E(Y|X_i)] / V(Y)``, ``ST_i = E[V(Y|X_~i)] / V(Y)`` (Saltelli
    2010 / Jansen estimators in SALib); ``*_conf`` is SALib's bootstrap half-width over sample
    rows; replication-noise columns as in the module docstring.
    """
    return _analyze("sobol", problem, Y, None, num_resamples=num_resamples, conf_level=conf_level, n_boot=n_boot,
                    seed=seed)


def morris_indices(X: np.ndarray, Y: np.ndarray, problem: dict, *, num_levels: int = 4, num_resamples: int = 100,
                   conf_level: float = 0.95, n_boot: int = 100, seed: int = 0) -> pd.DataFrame:
    """Morris screening: ``mu``, ``mu_star`` (mean |elementary effect|), ``sigma``, ``mu_star_conf``.

    ``X``: the Morris design (``SALib.sample.morris.sample(problem, r, num_levels)``, r (D + 1)
    rows, in parameter units or on the unit cube: only which parameter moved, and in which
    direction, is read from it); ``Y``: outputs, points x replications. The elementary effect of
    parameter j on trajectory t is ``(Y(x + Delta e_j) - Y(x)) / Delta`` with ``Delta = p / (2 (p - 1))``
    for p = ``num_levels``, i.e. the change in Y per unit of the parameter's range.
    """
    return _analyze("morris", problem, Y, np.asarray(X, float), num_levels=num_levels, num_resamples=num_resamples,
                    conf_level=conf_level, n_boot=n_boot, seed=seed)


def sensitivity_from_outcomes(frame: pd.DataFrame, problem: dict, metric: str, *, method: str = "sobol",
                              num_levels: int = 4, **kwargs) -> pd.DataFrame:
    """Indices from a tidy frame of per-point outcomes (``point, replication, <metric>`` and, for
    Morris, one column per ``problem['names']``), points in design order (the pure core)."""
    Y = frame.pivot_table(index="point", columns="replication", values=metric, aggfunc="sum", dropna=False)
    Y = Y.sort_index()
    if method == "sobol":
        out = sobol_indices(Y.to_numpy(float), problem, **kwargs)
    elif method == "morris":
        X = frame.groupby("point")[list(problem["names"])].first().sort_index().to_numpy(float)
        out = morris_indices(X, Y.to_numpy(float), problem, num_levels=num_levels, **kwargs)
    else:
        raise InputError("--method", "", "choose sobol or morris", method)
    out.attrs.update({"metric": metric, "horizon": frame.attrs.get("horizon", ""),
                      "base_scenario": frame.attrs.get("base_scenario")})
    return out


# the stage columns each derived outcome is computed from (see analysis.compare.yearly)
_NEEDS = {"downstream_investment": ["investment", "tier"], "processing_depth": ["value_added", "tier"],
          "fiscal_cost": []}


def sweep_outcomes(sweep, metric: str = "value_added", *, year: int | None = None, pv: float | None = None,
                   by: str | None = None, batch: int = 256) -> pd.DataFrame:
    """One row per (point, replication) (and group ``by``) with the parameters and the outcome.

    ``sweep``: a sweep directory or ``analysis.SweepResults``. The outcome is ``metric`` summed
    over stages (and cumulated, in one ``year`` or in present value ``pv``) as in
    :func:`analysis.compare.outcomes`. Given a directory (or ``load_sweep_index``), the run files
    are read ``batch`` at a time with only the columns the outcome needs and reduced at once, so
    memory does not grow with the number of runs (``benchmarks/sweep_analysis_memory.py``).
    """
    from .compare import check_metric

    check_metric(metric, by)
    sw = _load(sweep)
    if sw.streamed:
        st_cols = _NEEDS.get(metric, [metric]) + ([by] if by and by != "lever" else [])
        fc_cols = ["fiscal_cost"] + ([by] if by else []) if metric == "fiscal_cost" else []
        parts, years = [], set()
        for st, fc in iter_batches(sw, st_cols, fc_cols, batch):
            years |= set(st["year"].unique())
            parts.append(_reduce(st, fc, sw.manifest, metric, by, year, pv))
        df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["point", "replication", metric])
        span = (min(years), max(years)) if years else None
    else:
        df = _reduce(sw.stages, sw.fiscal, sw.manifest, metric, by, year, pv)
        span = (sw.stages["year"].min(), sw.stages["year"].max()) if len(sw.stages) else None
    params = sw.points.drop(columns=[c for c in ("overrides",) if c in sw.points])
    df = df.merge(params, on="point", how="left")
    first = ["point", "replication"] + ([by] if by else [])
    df = keys_first(df, first).sort_values(first, kind="stable").reset_index(drop=True)
    # as compare labels it: a share (processing_depth) is a value-added-weighted mean, not a sum
    horizon = horizon_text(int(span[0]), int(span[1]), year, pv, metric=metric) if span else ""
    df.attrs.update({"metric": metric, "horizon": horizon, "units": metric_unit(metric, year, pv),
                     "base_scenario": sw.manifest.get("base_scenario"),
                     "other_parameters": len(sw.parameters) > 2})
    return df


def iter_batches(sw, st_cols, fc_cols, batch):
    from .sweep import iter_run_batches

    return iter_run_batches(sw, st_cols, fc_cols, batch)


def _reduce(st: pd.DataFrame, fc: pd.DataFrame, manifest: dict, metric: str, by: str | None, year: int | None,
            pv: float | None) -> pd.DataFrame:
    """Per (point, replication) outcomes of the runs in ``st``/``fc`` (several runs at once)."""
    if st.empty:
        return pd.DataFrame(columns=["point", "replication", metric])
    reps = int(manifest.get("replications") or (st["replication"].max() + 1))
    reps = max(reps, int(st["replication"].max()) + 1)
    # one pseudo-replication per (point, replication), so that every outcome of compare.outcomes applies
    key = lambda df: df.assign(replication=df["point"].astype(np.int64) * reps + df["replication"])  # noqa: E731
    y = outcomes(Run(key(st), key(fc), pd.DataFrame(), manifest, "sweep"), metric, by, year=year, pv=pv)
    df = y.reset_index()
    df["point"], df["replication"] = df["replication"] // reps, df["replication"] % reps
    return df


def _load(sweep):
    if isinstance(sweep, (str, Path)):
        from .compare import is_sweep
        from .sweep import load_sweep_index

        d = Path(sweep)
        if not (d / "manifest.json").is_file():
            raise InputError(str(d), "", "not a finished sweep directory (no manifest.json)")
        if not is_sweep(d):
            raise InputError(str(d), "", "is the results of one run, not a sweep directory (written by valuechain "
                             "sweep)")
        return load_sweep_index(d)
    return sweep


def sensitivity(sweep, metric: str = "value_added", *, method: str | None = None, year: int | None = None,
                pv: float | None = None, n_boot: int = 100, seed: int = 0, num_resamples: int = 100,
                conf_level: float = 0.95) -> pd.DataFrame:
    """Sobol or Morris indices of ``metric`` over a sweep directory (or ``SweepResults``).

    The method follows the sweep's design: ``design: sobol`` (Saltelli sample; the problem and N
    are in the manifest's ``design_info``) gives S1/ST, ``design: morris`` gives mu*/sigma.
    Other designs (grid, lhs, mixes) carry no estimator; run a sobol or morris sweep. Sobol indices
    too imprecise to read (:func:`sobol_precision_warning`) print one ``warning:`` line on stderr.
    """
    sw = _load(sweep)
    design = sw.manifest.get("design")
    info = sw.manifest.get("design_info", {}) or {}
    method = method or design
    if method not in ("sobol", "morris") or design != method or "problem" not in info:
        where = str(sw.directory) if sw.directory is not None else str(sw.manifest.get("file", "sweep"))
        raise InputError(where, "design",
                         f"sensitivity needs a sweep with design: sobol or design: morris, not '{design}'", design)
    frame = sweep_outcomes(sw, metric, year=year, pv=pv)
    problem = {k: info["problem"][k] for k in ("num_vars", "names", "bounds")}
    if method == "morris":
        # a parameter given as a list of values enters the design by its position in that list
        spec = sw.manifest.get("spec", {}).get("parameters", {}) or {}
        for name in problem["names"]:
            values = (spec.get(name) or {}).get("values") if isinstance(spec.get(name), dict) else None
            if values:
                codes = {repr(v): i for i, v in enumerate(values)}
                frame[name] = frame[name].map(lambda v, c=codes: c.get(repr(v), np.nan))
        return sensitivity_from_outcomes(frame, problem, metric, method="morris",
                                         num_levels=int(info.get("num_levels", 4)), n_boot=n_boot, seed=seed,
                                         num_resamples=num_resamples, conf_level=conf_level)
    out = sensitivity_from_outcomes(frame, problem, metric, method="sobol", n_boot=n_boot, seed=seed,
                                    num_resamples=num_resamples, conf_level=conf_level)
    warning = sobol_precision_warning(out)
    if warning:
        out.attrs["warning"] = warning
        print(f"warning: sweep {sw.manifest.get('name', '')!r}: {warning}", file=sys.stderr)
    return out

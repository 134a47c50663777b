#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reference values for rvbench's Stats target, computed with numpy and SciPy.

Writes JSON fixtures into Tests/StatsTests/Fixtures/ (run from the repository root):

  two_sample.json  seeded datasets (normal, lognormal, integer ties, small n, unequal sizes, no
                   change) with, per dataset:
                   - describe() of each side: n, mean, sd (ddof=1), median, MAD (unscaled, numpy
                     median of |x - median|), cv = sd/mean, quantiles with numpy's default 'linear'
                     method (Hyndman & Fan type 7);
                   - Welch: scipy.stats.ttest_ind(candidate, baseline, equal_var=False): t, df, p;
                   - Mann-Whitney: scipy.stats.mannwhitneyu(candidate, baseline, use_continuity=True,
                     alternative='two-sided', method='asymptotic'). SciPy reports the U of its first
                     argument, so U is the candidate's;
                   - Hodges-Lehmann: numpy median of the full matrix candidate[i] - baseline[j];
                   - Cliff's delta: mean of sign(candidate[i] - baseline[j]) over all pairs (O(nm));
                   - ratio of means and of medians.
  holm.json        Holm-Bonferroni adjusted p-values, by the textbook step-down procedure written
                   out below (statsmodels is not used).
  outliers.json    Tukey fences (k = 1.5, numpy linear quartiles) and modified z-scores
                   0.6745 (x - median) / MAD > 3.5.
  bootstrap.json   scipy.stats.bootstrap percentile and BCa 95% intervals of the ratio of means and
                   of the ratio of medians (paired=False, 20000 resamples). rvbench uses another
                   generator, so tests compare these loosely. The BCa acceleration constants come
                   from a direct leave-one-out jackknife and are compared tightly.

Usage: python3 analysis/reference/make_stats_fixtures.py
"""
import json
import os
import sys

import numpy as np
import scipy
from scipy import stats

SEED = 20261126
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "StatsTests", "Fixtures")


def describe(x):
    x = np.asarray(x, dtype=float)
    med = float(np.median(x))
    sd = float(np.std(x, ddof=1))
    mean = float(np.mean(x))
    q = np.percentile(x, [0, 5, 25, 50, 75, 95, 100])  # method='linear' (type 7)
    return {
        "n": int(x.size), "mean": mean, "stddev": sd, "median": med,
        "mad": float(np.median(np.abs(x - med))), "cv": sd / mean,
        "quantiles": {k: float(v) for k, v in zip(["p0", "p5", "p25", "p50", "p75", "p95", "p100"], q)},
    }


def two_sample(name, b, c):
    b = np.asarray(b, dtype=float)
    c = np.asarray(c, dtype=float)
    welch = stats.ttest_ind(c, b, equal_var=False)
    mw = stats.mannwhitneyu(c, b, use_continuity=True, alternative="two-sided", method="asymptotic")
    diffs = np.subtract.outer(c, b)
    return {
        "name": name,
        "baseline": b.tolist(),
        "candidate": c.tolist(),
        "describe_baseline": describe(b),
        "describe_candidate": describe(c),
        "welch_t": float(welch.statistic),
        "welch_df": float(welch.df),
        "welch_p": float(welch.pvalue),
        "mann_whitney_u": float(mw.statistic),
        "mann_whitney_p": float(mw.pvalue),
        "hodges_lehmann": float(np.median(diffs)),
        "cliffs_delta": float(np.mean(np.sign(diffs))),
        "ratio_of_means": float(np.mean(c) / np.mean(b)),
        "ratio_of_medians": float(np.median(c) / np.median(b)),
    }


def holm(p):
    """Textbook Holm step-down: sort ascending, scale the i-th smallest (0-based) by m - i,
    enforce monotonicity with a running maximum, cap at 1, return in the original order."""
    p = list(p)
    m = len(p)
    order = sorted(range(m), key=lambda i: (p[i], i))
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def main():
    rng = np.random.default_rng(SEED)
    datasets = [
        two_sample("normal", rng.normal(10, 1, 50), rng.normal(10.4, 1.2, 60)),
        two_sample("lognormal", rng.lognormal(0, 0.3, 200), rng.lognormal(0.05, 0.35, 180)),
        two_sample("ties", np.round(rng.normal(20, 2, 40)), np.round(rng.normal(21, 2, 45))),
        two_sample("small", [1.2, 0.9, 1.5], [1.6, 1.1, 1.9, 1.4]),
        two_sample("unequal", rng.lognormal(1, 0.2, 1000), rng.lognormal(1.1, 0.25, 37)),
        two_sample("no-change-odd", rng.lognormal(2, 0.1, 101), rng.lognormal(2, 0.1, 99)),
    ]

    holm_cases = [
        [0.01, 0.04, 0.03, 0.005],
        [0.01, 0.04, 0.04, 0.2, 0.001, 0.03],
        [0.5],
        rng.uniform(0, 0.1, 12).tolist(),
        [0.0, 1.0, 0.9, 0.02],
    ]

    x = rng.normal(100, 5, 60)
    x[[3, 17, 41]] = [140.0, 62.0, 131.0]
    x = x.tolist()
    xa = np.asarray(x)
    q1, q3 = np.percentile(xa, [25, 75])
    iqr = q3 - q1
    tukey = [i for i, v in enumerate(x) if v < q1 - 1.5 * iqr or v > q3 + 1.5 * iqr]
    med = np.median(xa)
    mad = np.median(np.abs(xa - med))
    modz = [i for i, v in enumerate(x) if abs(0.6745 * (v - med) / mad) > 3.5]

    boot_rng_seed = SEED + 1
    lb = rng.lognormal(0, 0.3, 40)
    lc = rng.lognormal(0.1, 0.3, 50)

    def ratio_means(c, b, axis=-1):
        return np.mean(c, axis=axis) / np.mean(b, axis=axis)

    def ratio_medians(c, b, axis=-1):
        return np.median(c, axis=axis) / np.median(b, axis=axis)

    boot = {"baseline": lb.tolist(), "candidate": lc.tolist(), "resamples": 20000, "level": 0.95}
    # The BCa acceleration is deterministic: jackknife each sample by deleting one observation at a
    # time (direct O(n^2) leave-one-out), then combine the samples as scipy.stats.bootstrap does.
    for label, fn in [("means", lambda c, b: np.mean(c) / np.mean(b)),
                      ("medians", lambda c, b: np.median(c) / np.median(b))]:
        num = den = 0.0
        for side in ("baseline", "candidate"):
            sample = lb if side == "baseline" else lc
            theta = np.array([fn(lc, np.delete(lb, i)) if side == "baseline" else fn(np.delete(lc, i), lb)
                              for i in range(sample.size)])
            n = float(sample.size)
            u = (n - 1) * (theta.mean() - theta)
            num += np.sum(u ** 3) / n ** 3
            den += np.sum(u ** 2) / n ** 2
        boot[f"{label}_acceleration"] = float(num / (6 * den ** 1.5))
    for label, fn in [("means", ratio_means), ("medians", ratio_medians)]:
        for method in ["percentile", "BCa"]:
            res = stats.bootstrap((lc, lb), fn, n_resamples=20000, paired=False, vectorized=True,
                                  confidence_level=0.95, method=method,
                                  rng=np.random.default_rng(boot_rng_seed))
            boot[f"{label}_{method.lower()}"] = [float(res.confidence_interval.low),
                                                  float(res.confidence_interval.high)]
        boot[f"ratio_of_{label}"] = float(fn(lc, lb))

    meta = {
        "generated_by": "analysis/reference/make_stats_fixtures.py",
        "seed": SEED,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }
    os.makedirs(OUT, exist_ok=True)

    def write(name, payload):
        with open(os.path.join(OUT, name), "w") as f:
            json.dump({"meta": meta, **payload}, f, indent=1)
            f.write("\n")

    write("two_sample.json", {"datasets": datasets})
    write("holm.json", {"cases": [{"p": p, "adjusted": holm(p)} for p in holm_cases]})
    write("outliers.json", {"values": x, "tukey_k": 1.5, "tukey": tukey, "mad_cutoff": 3.5, "mad": modz})
    write("bootstrap.json", boot)
    print(f"wrote fixtures to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()

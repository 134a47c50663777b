#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reference values for rvbench's boot-level verdict statistics, computed with numpy and SciPy.

Writes Tests/StatsTests/Fixtures/boot_level.json (run from anywhere). For seeded sets of per-boot
means (baseline b, candidate c) and thresholds theta, with x = log(b), y = log(c):

  - Welch on the logs: scipy.stats.ttest_ind(y, x, equal_var=False): t, df;
    log ratio = mean(y) - mean(x); ratio = exp(log ratio);
  - the two-sided 90% interval of the ratio: exp() of ttest_ind(...).confidence_interval(0.90);
  - the one-sided minimum-effect p-values:
      p_above = ttest_ind(y - log(1 + theta), x, equal_var=False, alternative='greater').pvalue
      p_below = ttest_ind(y - log(1 - theta), x, equal_var=False, alternative='less').pvalue
  - Schuirmann's TOST p-value: the larger of
      ttest_ind(y - log(1 - theta), x, equal_var=False, alternative='greater').pvalue and
      ttest_ind(y - log(1 + theta), x, equal_var=False, alternative='less').pvalue.

Usage: python3 analysis/reference/make_boot_level_fixture.py
"""
import json
import os

import numpy as np
import scipy
from scipy import stats

SEED = 20261201
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "StatsTests", "Fixtures")


def case(name, b, c, theta):
    x, y = np.log(b), np.log(c)
    r = stats.ttest_ind(y, x, equal_var=False)
    ci = r.confidence_interval(0.90)
    up, lo = np.log1p(theta), np.log1p(-theta)
    p_above = stats.ttest_ind(y - up, x, equal_var=False, alternative="greater").pvalue
    p_below = stats.ttest_ind(y - lo, x, equal_var=False, alternative="less").pvalue
    tost = max(stats.ttest_ind(y - lo, x, equal_var=False, alternative="greater").pvalue,
               stats.ttest_ind(y - up, x, equal_var=False, alternative="less").pvalue)
    return {
        "name": name, "baseline": list(map(float, b)), "candidate": list(map(float, c)), "threshold": theta,
        "ratio": float(np.exp(y.mean() - x.mean())), "t": float(r.statistic), "df": float(r.df),
        "ci90_low": float(np.exp(ci.low)), "ci90_high": float(np.exp(ci.high)),
        "p_above": float(p_above), "p_below": float(p_below), "p_equivalence": float(tost),
    }


def main():
    rng = np.random.default_rng(SEED)

    def means(mu, n, sd=0.02):
        return np.round(np.exp(mu + rng.normal(0, sd, n)), 9)

    cases = [
        case("regression-5x5", means(np.log(100), 5), means(np.log(105), 5), 0.01),
        case("equivalent-12x12", means(np.log(100), 12, 0.003), means(np.log(100.1), 12, 0.003), 0.01),
        case("improvement-unequal", means(np.log(50), 6), means(np.log(45), 9, 0.04), 0.02),
        case("unclear-3x4", means(np.log(7), 3, 0.05), means(np.log(7.1), 4, 0.05), 0.01),
        case("threshold-zero", means(np.log(10), 8), means(np.log(10.3), 8), 0.0),
    ]
    meta = {"generator": "analysis/reference/make_boot_level_fixture.py", "numpy": np.__version__,
            "scipy": scipy.__version__, "seed": SEED}
    with open(os.path.join(OUT, "boot_level.json"), "w") as f:
        json.dump({"meta": meta, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()

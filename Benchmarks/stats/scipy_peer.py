#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""SciPy peer for `rvbench bench stats`.

Reads two files with one number per line (baseline, candidate) and computes, on the same data as
rvbench:
  - scipy.stats.bootstrap of the ratio of means mean(candidate) / mean(baseline), independent
    resampling of each sample (paired=False), n_resamples resamples, method as given;
  - scipy.stats.ttest_ind(candidate, baseline, equal_var=False);
  - scipy.stats.mannwhitneyu(candidate, baseline, use_continuity=True, method='asymptotic').
The timed region covers only these computations, not interpreter start-up, imports or file reading.
Prints one JSON object.
"""
import argparse
import json
import time

import numpy as np
import scipy
from scipy import stats


def ratio_of_means(c, b, axis=-1):
    return np.mean(c, axis=axis) / np.mean(b, axis=axis)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("baseline")
    ap.add_argument("candidate")
    ap.add_argument("--resamples", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--method", choices=["percentile", "BCa", "basic"], default="percentile")
    ap.add_argument("--batch", type=int, default=5,
                    help="resamples per vectorised batch (None would hold n*resamples indices in memory)")
    args = ap.parse_args()

    b = np.loadtxt(args.baseline, comments="#")
    c = np.loadtxt(args.candidate, comments="#")

    start = time.perf_counter()
    cpu_start = time.process_time()
    boot = stats.bootstrap((c, b), ratio_of_means, n_resamples=args.resamples, batch=args.batch,
                           vectorized=True, paired=False, confidence_level=0.95,
                           method=args.method, rng=np.random.default_rng(args.seed))
    after_bootstrap = time.perf_counter()
    bootstrap_cpu = time.process_time() - cpu_start
    welch = stats.ttest_ind(c, b, equal_var=False)
    mw = stats.mannwhitneyu(c, b, use_continuity=True, alternative="two-sided", method="asymptotic")
    end = time.perf_counter()

    print(json.dumps({
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "method": args.method,
        "batch": args.batch,
        "n_baseline": int(b.size),
        "n_candidate": int(c.size),
        "resamples": args.resamples,
        "ratio_of_means": float(np.mean(c) / np.mean(b)),
        "ratio_ci_low": float(boot.confidence_interval.low),
        "ratio_ci_high": float(boot.confidence_interval.high),
        "welch_t": float(welch.statistic),
        "welch_p": float(welch.pvalue),
        "mann_whitney_u": float(mw.statistic),
        "mann_whitney_p": float(mw.pvalue),
        "bootstrap_seconds": after_bootstrap - start,
        "bootstrap_cpu_seconds": bootstrap_cpu,
        "tests_seconds": end - after_bootstrap,
        "seconds": end - start,
    }))


if __name__ == "__main__":
    main()

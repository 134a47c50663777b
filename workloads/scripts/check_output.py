#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks rvbench-runner output: every line of the protocol well-formed, every selected
workload measured with checksum_ok true, a done line and no error line. Prints a table of
run times and a closing 'N passed, N failed' line; exits non-zero on any failure."""
import argparse
import json
import math
import sys

PREFIX = b"@@rvbench v1 "


def unique_keys(problems):
    def hook(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            problems.append(f"duplicate keys in {keys}")
        return dict(pairs)
    return hook


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output")
    ap.add_argument("manifest")
    ap.add_argument("--only", help="comma-separated workloads that were selected")
    args = ap.parse_args()
    with open(args.manifest) as f:
        names = [w["name"] for w in json.load(f)["workloads"]]
    if args.only and args.only != "all":
        names = args.only.split(",")
    problems, results, done = [], {}, None
    with open(args.output, "rb") as f:
        for raw in f:
            line = raw.rstrip(b"\n")
            if not line.startswith(PREFIX):
                continue
            if len(line) > 4096:
                problems.append(f"line over 4096 bytes: {line[:60]!r}")
                continue
            body = line[len(PREFIX):].decode("utf-8")
            kind = "result"
            for k in ("done ", "error "):
                if body.startswith(k):
                    kind, body = k.strip(), body[len(k):]
            obj = json.loads(body, parse_constant=lambda c: problems.append(f"non-finite {c}"),
                             object_pairs_hook=unique_keys(problems))
            if kind == "error":
                problems.append(f"error line: {obj}")
            elif kind == "done":
                done = obj
            else:
                for key, typ in (("workload", str), ("iteration", int), ("phase", str), ("wall_ns", int),
                                 ("user_ns", int), ("sys_ns", int), ("metrics", dict), ("checksum", str),
                                 ("checksum_ok", bool), ("counters", dict)):
                    if not isinstance(obj.get(key), typ):
                        problems.append(f"{obj.get('workload')}: {key} missing or not {typ.__name__}")
                if obj.get("counters") == {} and "counters_unavailable" not in obj:
                    problems.append(f"{obj.get('workload')}: empty counters without a reason")
                for v in obj.get("metrics", {}).values():
                    if not isinstance(v, (int, float)) or not math.isfinite(v):
                        problems.append(f"{obj.get('workload')}: metric not a finite number")
                if obj.get("phase") == "measure":
                    results.setdefault(obj["workload"], []).append(obj)
    if done is None:
        problems.append("no done line")
    passed = failed = 0
    print(f"{'workload':18} {'wall s':>8} {'user s':>8} {'sys s':>7}  checksum  key metrics")
    for name in names:
        rs = results.get(name)
        if not rs:
            print(f"{name:18} {'-':>8} {'-':>8} {'-':>7}  MISSING")
            failed += 1
            continue
        for r in rs:
            ok = r["checksum_ok"]
            key = {k: round(v, 3) for k, v in r["metrics"].items()
                   if k in ("codec_fps", "fps", "frames", "tokens_per_s", "ms_per_inference", "ns_per_op", "load_ms",
                            "iops", "bw_mib_s", "clat_p99_ns")}
            print(f"{name:18} {r['wall_ns'] / 1e9:8.3f} {r['user_ns'] / 1e9:8.3f} {r['sys_ns'] / 1e9:7.3f}  "
                  f"{'ok' if ok else 'FAIL':8}  {json.dumps(key)}"
                  + ("" if ok else f"  got {r['checksum']} ({r.get('verify_problem')})"))
            passed += ok
            failed += not ok
    ll = {r["checksum"] for n in ("onnx-tinyllama", "c-tinyllama") for r in results.get(n, [])}
    if len(ll) > 1:
        problems.append(f"onnx-tinyllama and c-tinyllama generated different sequences: {sorted(ll)}")
    for p in problems:
        print("problem:", p)
    failed += len(problems)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validates the workload manifests (workloads/*/workload.json) and merges them.

Writes OUT/workloads.json (every manifest with its command resolved, its expected checksum
and the sha256 of its input files and of the programs in OUT/bin) and OUT/workloads.conf, the
line-based form that rvbench-runner reads:

    rvbench-workloads 1
    workload NAME
    mode report|framemd5
    expect CHECKSUM
    timeout SECONDS
    arg ARGUMENT        (one per line, in order; the first is the program)
    end
"""
import argparse
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datadisk  # noqa: E402  (the data disk's pattern)

KINDS = ("ai", "video", "micro", "io")
OUTPUTS = ("report", "framemd5")
# The size of the data disk that rvbench lab build makes (Sources/Lab/DataDisk.swift).
DATA_DISK_BYTES = 64 << 20
NOT_WORKLOADS = {"lab", "probe", "build", "scripts", "src"}
REQUIRED = {"name": str, "kind": str, "description": str, "parameters": dict, "inputs": list,
            "command": list, "output": str, "verification": dict, "timeout_s": int}
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class ManifestError(Exception):
    pass


def substitute(text, values, where):
    def repl(m):
        key = m.group(1)
        if key not in values:
            raise ManifestError(f"{where}: unknown placeholder {{{key}}}")
        return str(values[key])
    return PLACEHOLDER.sub(repl, text)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_reference(m, ref, where):
    v = m["verification"]
    which = v.get("reference")
    if which is None:
        return
    if which not in ref:
        raise ManifestError(f"{where}: reference {which} missing from reference.json")
    r = ref[which]
    p = m["parameters"]
    if which == "tinyllama":
        if p.get("steps") != r["steps"]:
            raise ManifestError(f"{where}: steps {p.get('steps')} but the reference decoded {r['steps']}; "
                                f"run gen_models.py --steps {p.get('steps')}")
        if v["expected"] != "fnv64=" + r["checksum"]:
            raise ManifestError(f"{where}: expected {v['expected']} but the reference decode gives fnv64={r['checksum']}")
    elif which == "mobilenetv2":
        if p.get("resolution") != r["config"]["resolution"]:
            raise ManifestError(f"{where}: resolution differs from the generated model")
        if v["expected"] != f"argmax={r['argmax']}" or v.get("expect_argmax") != r["argmax"]:
            raise ManifestError(f"{where}: expected argmax differs from the reference ({r['argmax']})")
        for k in ("sum", "l2"):
            if abs(v["expect_" + k] - r[k]) > 1e-9 * max(1.0, abs(r[k])):
                raise ManifestError(f"{where}: expect_{k} {v['expect_' + k]} differs from the reference {r[k]}")
    else:
        raise ManifestError(f"{where}: unknown reference {which}")


def check_data_disk(m, values, expected, where):
    """An I/O workload reads rvbench's data disk: its size must be the lab's, and its expected checksum the
    SHA-256 of that many bytes of the pattern (datadisk.py)."""
    d = m.get("data_disk")
    if d is None:
        if m["kind"] == "io":
            raise ManifestError(f"{where}: io workloads must name their data disk (data_disk)")
        return
    if not isinstance(d, dict) or d.get("pattern") != datadisk.PATTERN or d.get("bytes") != DATA_DISK_BYTES:
        raise ManifestError(f"{where}: data_disk must be {{\"bytes\": {DATA_DISK_BYTES}, \"pattern\": \"{datadisk.PATTERN}\"}}, "
                            "the disk rvbench lab build makes")
    if values.get("bytes") != d["bytes"]:
        raise ManifestError(f"{where}: parameter bytes must equal data_disk.bytes")
    want = datadisk.sha256(d["bytes"])
    if expected != want:
        raise ManifestError(f"{where}: expected {expected} but {d['bytes']} bytes of {datadisk.PATTERN} hash to {want}")


def load(src, out, ref):
    manifests = []
    for entry in sorted(os.listdir(src)):
        path = os.path.join(src, entry, "workload.json")
        if entry in NOT_WORKLOADS or not os.path.isfile(path):
            continue
        where = os.path.relpath(path, src)
        with open(path) as f:
            m = json.load(f, object_pairs_hook=no_duplicates(where))
        for key, typ in REQUIRED.items():
            if not isinstance(m.get(key), typ):
                raise ManifestError(f"{where}: {key} must be a {typ.__name__}")
        if m["name"] != entry or not NAME_RE.match(m["name"]):
            raise ManifestError(f"{where}: name must equal the directory name and match {NAME_RE.pattern}")
        if m["kind"] not in KINDS:
            raise ManifestError(f"{where}: kind must be one of {KINDS}")
        if m["output"] not in OUTPUTS:
            raise ManifestError(f"{where}: output must be one of {OUTPUTS}")
        if m["kind"] == "ai" and m.get("weights") != "random, seeded, untrained":
            raise ManifestError(f"{where}: AI workloads must say weights: \"random, seeded, untrained\"")
        if not isinstance(m["verification"].get("expected"), str) or not m["verification"]["expected"]:
            raise ManifestError(f"{where}: verification.expected must be a non-empty string")
        values = dict(m["parameters"])
        values.update({k: v for k, v in m["verification"].items() if k.startswith("expect_")})
        argv = [substitute(a, values, where) for a in m["command"]]
        if not argv or not argv[0].startswith("/"):
            raise ManifestError(f"{where}: the command must start with an absolute program path")
        for a in argv:
            if "\n" in a or "\r" in a or len(a) > 1000:
                raise ManifestError(f"{where}: arguments must be single lines under 1000 bytes")
        expected = substitute(m["verification"]["expected"], values, where)
        if " " in expected or len(expected) > 150:
            raise ManifestError(f"{where}: expected checksum must be one short token")
        check_reference(m, ref, where)
        check_data_disk(m, values, expected, where)
        inputs = []
        for item in m["inputs"]:
            item = substitute(item, values, where)
            if item.startswith(("models/", "clips/")):
                p = os.path.join(out, item)
                if not os.path.isfile(p):
                    raise ManifestError(f"{where}: input {item} was not built")
                inputs.append({"path": "/opt/rvbench/" + item, "sha256": sha256_file(p), "bytes": os.path.getsize(p)})
            else:
                inputs.append({"generated": item})
        resolved = dict(m)
        resolved.update(argv=argv, expected_checksum=expected, inputs=inputs,
                        description=substitute(m["description"], values, where))
        manifests.append(resolved)
    if not manifests:
        raise ManifestError("no workload manifests found")
    manifests.sort(key=lambda m: (KINDS.index(m["kind"]), m["name"]))
    return manifests


def no_duplicates(where):
    def hook(pairs):
        seen = {}
        for k, v in pairs:
            if k in seen:
                raise ManifestError(f"{where}: duplicate key {k}")
            seen[k] = v
        return seen
    return hook


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", required=True, help="the workloads/ directory")
    ap.add_argument("--out", required=True, help="the tree installed as /opt/rvbench")
    args = ap.parse_args()
    with open(os.path.join(args.out, "models", "reference.json")) as f:
        ref = json.load(f)
    try:
        manifests = load(args.src, args.out, ref)
    except ManifestError as e:
        sys.exit(f"manifests.py: {e}")
    binaries = {}
    bindir = os.path.join(args.out, "bin")
    for name in sorted(os.listdir(bindir)):
        binaries["/opt/rvbench/bin/" + name] = sha256_file(os.path.join(bindir, name))
    doc = {"format": "rvbench-workloads", "version": 1, "binaries": binaries,
           "reference": {k: v for k, v in ref.items() if k == "generator"}, "workloads": manifests}
    with open(os.path.join(args.out, "workloads.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    with open(os.path.join(args.out, "workloads.conf"), "w") as f:
        f.write("rvbench-workloads 1\n")
        for m in manifests:
            f.write(f"workload {m['name']}\nmode {m['output']}\nexpect {m['expected_checksum']}\n"
                    f"timeout {m['timeout_s']}\n")
            for a in m["argv"]:
                f.write(f"arg {a}\n")
            f.write("end\n")
    pending = [m["name"] for m in manifests if m["expected_checksum"] == "pending"]
    if pending:
        print("manifests.py: no expected checksum yet for " + ", ".join(pending), file=sys.stderr)
    print(f"manifests.py: {len(manifests)} workloads")


if __name__ == "__main__":
    main()

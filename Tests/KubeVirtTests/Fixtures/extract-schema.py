#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Extracts the definitions reachable from the given roots out of KubeVirt's
api/openapi-spec/swagger.json, for offline validation of rvbench's bundles.

    git -C KUBEVIRT show COMMIT:api/openapi-spec/swagger.json > swagger.json
    python3 extract-schema.py swagger.json COMMIT > kubevirt-schema.json
"""
import json
import sys

ROOTS = ["v1.VirtualMachineInstance", "v1.KubeVirt"]


def refs(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                found.add(value.rsplit("/", 1)[-1])
            else:
                refs(value, found)
    elif isinstance(node, list):
        for item in node:
            refs(item, found)


def main():
    swagger = json.load(open(sys.argv[1]))
    definitions = swagger["definitions"]
    seen, todo = set(), list(ROOTS)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found = set()
        refs(definitions[name], found)
        todo.extend(sorted(found - seen))
    out = {
        "source": {
            "repository": "kubevirt/kubevirt",
            "commit": sys.argv[2],
            "path": "api/openapi-spec/swagger.json",
            "license": "Apache-2.0",
            "roots": ROOTS,
            "note": "definitions reachable from the roots, unchanged",
        },
        "definitions": {name: definitions[name] for name in sorted(seen)},
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


main()

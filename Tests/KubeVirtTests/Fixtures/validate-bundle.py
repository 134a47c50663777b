#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validates Kubernetes manifests against the KubeVirt definitions in kubevirt-schema.json.

    python3 validate-bundle.py kubevirt-schema.json FILE.yaml...

Prints one JSON line per document: {"file", "kind", "name", "errors": [...]}; a document of a
kind the schema does not cover is reported with "skipped": true. Exits 1 when any document
has errors, 2 on bad usage.

The schema is made strict first: every definition that lists its properties refuses others
(additionalProperties: false), as the API server's strict field validation does
(kubectl apply's default since Kubernetes 1.27). The OpenAPI document leaves that implicit.
"""
import copy
import json
import sys

import jsonschema
import yaml

ROOTS = {
    ("kubevirt.io/v1", "VirtualMachineInstance"): "v1.VirtualMachineInstance",
    ("kubevirt.io/v1", "KubeVirt"): "v1.KubeVirt",
}


def strict(definitions):
    out = copy.deepcopy(definitions)
    for schema in out.values():
        if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    return out


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    definitions = strict(json.load(open(sys.argv[1]))["definitions"])
    failed = False
    for path in sys.argv[2:]:
        for doc in yaml.safe_load_all(open(path)):
            if doc is None:
                continue
            key = (doc.get("apiVersion"), doc.get("kind"))
            name = (doc.get("metadata") or {}).get("name")
            line = {"file": path, "kind": doc.get("kind"), "name": name}
            root = ROOTS.get(key)
            if root is None:
                line["skipped"] = True
                print(json.dumps(line, sort_keys=True))
                continue
            schema = {"$ref": "#/definitions/" + root, "definitions": definitions}
            validator = jsonschema.Draft4Validator(schema)
            errors = sorted(
                "/".join(str(p) for p in e.absolute_path) + ": " + e.message for e in validator.iter_errors(doc)
            )
            line["errors"] = errors
            failed = failed or bool(errors)
            print(json.dumps(line, sort_keys=True))
    sys.exit(1 if failed else 0)


main()

#!/usr/bin/env python3
"""Validates scenarios against scenarios/schema.json with a real JSON Schema validator.

Usage: scenario_schema_test.py SOURCE_DIR

The schema is generated from the scenario language's shape tables (wpsim_scenario_reference);
this test checks it with Debian's python3-jsonschema (installed by scripts/bootstrap; the test
fails, it does not skip, when the package is missing):
  * the schema itself is a valid JSON Schema 2020-12 document;
  * every shipped scenario (scenarios/**/*.yaml) validates;
  * every file of the bad-scenario corpus (tests/data/bad-scenarios) is rejected, except the ones
    listed in SCHEMA_CANNOT_SEE: their error is a reference, a duplicate or a rule across fields
    or clients that only the loader checks.
YAML is read with the YAML 1.2 core schema, as the loader reads it (conformance/yaml_json.cc):
`yes`, `on` and dates stay strings.
"""
import glob
import json
import os
import re
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:
    print(f"scenario_schema_test: {e}; install python3-jsonschema and python3-yaml "
          "(scripts/bootstrap)", file=sys.stderr)
    sys.exit(1)

SCHEMA_CANNOT_SEE = {
    "ack-expectation-on-step-without-ackid.yaml",
    "bad-base64-binary-data.yaml",
    "cohort-index-out-of-range.yaml",
    "duplicate-client-name.yaml",
    "duplicate-key.yaml",
    "duplicate-label.yaml",
    "expect-ack-without-ackid.yaml",
    "http-status-on-non-rest-step.yaml",
    "index-on-plain-client.yaml",
    "invoke-on-plain-client.yaml",
    "join-on-plain-websocket.yaml",
    "loss-above-100-percent.yaml",
    "matcher-stream-key-on-mqtt.yaml",
    "mqtt-matcher-on-json-client.yaml",
    "mqtt-option-on-json-client.yaml",
    "mqtt5-option-on-mqtt311.yaml",
    "repeat-without-count.yaml",
    "reserved-client-name.yaml",
    "rest-missing-parameter.yaml",
    "rest-parameter-not-for-operation.yaml",
    "single-connection-needed.yaml",
    "stream-fragment-without-data.yaml",
    "threshold-missing-unit.yaml",
    "threshold-unknown-statistic.yaml",
    "undefined-client-in-network-overrides.yaml",
    "undefined-client.yaml",
    "undefined-step-label.yaml",
    "uniform-min-above-max.yaml",
    "unknown-template.yaml",
    "upstream-event-without-upstream.yaml",
}


class Core12Loader(yaml.SafeLoader):
    """The YAML 1.2 core schema: only true/false, null, integers and floats are not strings."""


Core12Loader.yaml_implicit_resolvers = {}
for tag, pattern, first in [
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("int", r"^[-+]?[0-9]+$", "-+0123456789"),
    ("float", r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$", "-+.0123456789"),
]:
    Core12Loader.add_implicit_resolver("tag:yaml.org,2002:" + tag, re.compile(pattern), list(first))


def errors(validator, path):
    try:
        with open(path, encoding="utf-8") as f:
            instance = yaml.load(f, Loader=Core12Loader)
    except yaml.YAMLError as e:
        return [f"not YAML: {e}"]
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in validator.iter_errors(instance)]


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root = argv[1]
    with open(os.path.join(root, "scenarios", "schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = 0
    shipped = sorted(glob.glob(os.path.join(root, "scenarios", "**", "*.yaml"), recursive=True))
    for path in shipped:
        for e in errors(validator, path):
            print(f"{path}{e}")
            failures += 1
    corpus = sorted(glob.glob(os.path.join(root, "tests", "data", "bad-scenarios", "*.yaml")))
    for path in corpus:
        name = os.path.basename(path)
        if name not in SCHEMA_CANNOT_SEE and not errors(validator, path):
            print(f"{path}: a shape error the schema accepts")
            failures += 1
    unknown = SCHEMA_CANNOT_SEE - {os.path.basename(p) for p in corpus}
    for name in sorted(unknown):
        print(f"SCHEMA_CANNOT_SEE names {name}, which is not in the corpus")
        failures += 1
    print(f"{len(shipped)} shipped scenarios, {len(corpus)} corpus files "
          f"({len(corpus) - len(SCHEMA_CANNOT_SEE)} shape errors): {failures} problem(s)")
    return 1 if failures or len(shipped) < 10 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Runs the load recipes of docs/ci.md ("Load from several machines") locally.

The GitHub Actions matrix: the plan job's step (its $GITHUB_OUTPUT gives the start instant), then
every cell of the load job AT ONCE (shards must overlap in time, as on separate runners), then the
merge job. The Kubernetes Indexed Job: the container's bash script once per index with
JOB_COMPLETION_INDEX set, all at once, then `wpsim report merge`. Both against a `wpsim serve` on
127.0.0.1 standing in for the secret endpoint, with a smaller load (SUBSCRIBERS, MESSAGES, RATE)
and start delay; steps that fetch or build (`uses:`, "Set up wpsim") are skipped. Checks: every
shard's report exists, the merge exits 0 with --verdict-exit, and the merged report holds every
delivery of every shard (delivered = expected = subscribers x messages, counts = sums).

usage: load_recipes_test.py WPSIM WPSIM_LOAD SOURCE_DIR
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import yaml

WPSIM, LOAD, SOURCE = sys.argv[1:4]
SMALL = {"SUBSCRIBERS": "40", "MESSAGES": "150", "RATE": "300"}
START_DELAY = 4


def fail(msg):
    print(f"load_recipes: FAIL: {msg}")
    sys.exit(1)


def blocks():
    text = open(os.path.join(SOURCE, "docs", "ci.md"), encoding="utf-8").read()
    if "\n## Load from several machines" not in text:
        fail("docs/ci.md has no 'Load from several machines' section")
    section = text.split("\n## Load from several machines", 1)[1]
    found = [yaml.safe_load(b) for b in re.findall(r"^```yaml\n(.*?)^```$", section, re.S | re.M)]
    if len(found) != 2:
        fail(f"the load section should hold 2 yaml recipes, found {len(found)}")
    return found


def env_base(workdir):
    env = dict(os.environ)
    env.pop("WebPubSubConnectionString", None)
    env["PATH"] = os.pathsep.join({os.path.dirname(os.path.abspath(WPSIM)), os.path.dirname(os.path.abspath(LOAD))}) + os.pathsep + env["PATH"]
    env["GITHUB_STEP_SUMMARY"] = os.path.join(workdir, "step-summary.md")
    return env


def expand(text, secret, matrix, outputs):
    def one(m):
        expr = m.group(1).strip()
        if expr.startswith("secrets."):
            return secret
        if expr.startswith("matrix."):
            return str(matrix[expr[len("matrix."):]])
        if expr.startswith("needs.") or expr.startswith("steps."):
            key = expr.split(".")[-1]
            if key in outputs:
                return outputs[key]
        fail(f"unknown expression ${{{{ {expr} }}}}")
    return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))


def check_merged(path, shards):
    m = json.load(open(path))
    subs, msgs = int(SMALL["SUBSCRIBERS"]), int(SMALL["MESSAGES"])
    if not (m["ok"] and m["delivered"] == m["expected"] == subs * msgs and m["sent"] == msgs):
        fail(f"merged load {path}: {m['delivered']}/{m['expected']} delivered, sent {m['sent']}, {m['first_error']}")
    if m["shard"]["merged"] != shards or m["subscribers"] != subs:
        fail(f"merged load {path}: shard {m['shard']}, subscribers {m['subscribers']}")


def github(workflow, secret):
    workdir = tempfile.mkdtemp(prefix="wpsim-load-gh-")
    jobs = workflow["jobs"]
    outputs = {}
    wf_env = {**{k: str(v) for k, v in workflow.get("env", {}).items()}, **SMALL}
    for name in ("plan", "load", "merge"):
        job = jobs[name]
        matrix = job.get("strategy", {}).get("matrix", {})
        cells = [{"shard": s} for s in matrix.get("shard", [])] or [{}]
        runnable = [s for s in job["steps"] if "uses" not in s and not s.get("name", "").startswith("Set up wpsim")]
        if len(runnable) != 1:
            fail(f"job {name}: this runner runs one step per cell, the recipe has {len(runnable)}")
        procs = []
        for cell in cells:
            for step in job["steps"]:
                sname = step.get("name", step.get("uses", ""))
                if "uses" in step or sname.startswith("Set up wpsim"):
                    continue
                env = env_base(workdir)
                env.update(wf_env)
                env.update({k: expand(v, secret, cell, outputs) for k, v in step.get("env", {}).items()})
                env["START_DELAY"] = str(START_DELAY)
                out_file = os.path.join(workdir, f"output-{name}")
                env["GITHUB_OUTPUT"] = out_file
                script = expand(step["run"], secret, cell, outputs)
                print(f"load_recipes: github {name} {cell or ''}: {sname}")
                procs.append((f"{name} {cell} {sname}", subprocess.Popen(
                    ["bash", "-eo", "pipefail", "-c", script], env=env, cwd=workdir,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        for label, p in procs:  # the cells of a job run at once
            out, _ = p.communicate(timeout=120)
            sys.stdout.write("".join("load_recipes:   " + l + "\n" for l in out.splitlines()[-6:]))
            if p.returncode != 0:
                fail(f"github step '{label}' exited {p.returncode}")
        if name == "plan":
            for line in open(os.path.join(workdir, "output-plan")).read().splitlines():
                k, v = line.split("=", 1)
                outputs[k] = v
    shards = sorted(glob.glob(os.path.join(workdir, "shards", "load-*.json")))
    if len(shards) != 3:
        fail(f"github: expected 3 shard reports, found {shards}")
    check_merged(os.path.join(workdir, "load.json"), 3)


def kubernetes(job, secret):
    workdir = tempfile.mkdtemp(prefix="wpsim-load-k8s-")
    spec = job["spec"]
    if spec.get("completionMode") != "Indexed" or spec["parallelism"] != spec["completions"]:
        fail("the Job must be Indexed with parallelism == completions")
    container = spec["template"]["spec"]["containers"][0]
    script = container["args"][0]
    if container["command"] != ["bash", "-c"]:
        fail(f"unexpected command {container['command']}")
    procs = []
    for index in range(spec["completions"]):
        env = env_base(workdir)
        for e in container["env"]:
            env[e["name"]] = secret if "valueFrom" in e else str(e["value"])
        env.update(SMALL)
        env["START_AT"] = str(int(time.time()) + START_DELAY)
        env["REPORTS"] = workdir
        env["JOB_COMPLETION_INDEX"] = str(index)
        print(f"load_recipes: kubernetes pod index {index}")
        procs.append(subprocess.Popen(["bash", "-c", script], env=env, cwd=workdir,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    for i, p in enumerate(procs):
        out, _ = p.communicate(timeout=120)
        sys.stdout.write("".join("load_recipes:   " + l + "\n" for l in out.splitlines()[-3:]))
        if p.returncode != 0:
            fail(f"kubernetes pod {i} exited {p.returncode}")
    reports = sorted(glob.glob(os.path.join(workdir, "load-*.json")))
    r = subprocess.run([WPSIM, "report", "merge", *reports, "-o", os.path.join(workdir, "load.json"), "--verdict-exit"],
                       capture_output=True, text=True)
    print("load_recipes:   " + r.stdout.strip())
    if r.returncode != 0:
        fail(f"merging the pods' reports exited {r.returncode}: {r.stderr}")
    check_merged(os.path.join(workdir, "load.json"), spec["completions"])


def main():
    gh, k8s = blocks()
    serve = subprocess.Popen([WPSIM, "serve", "--listen", "127.0.0.1:0", "--log-level", "error"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        secret = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and secret is None:
            line = serve.stdout.readline()
            if line.startswith("Connection string: "):
                secret = line.split(": ", 1)[1].strip()
        if secret is None:
            fail("wpsim serve printed no connection string")
        github(gh, secret)
        kubernetes(k8s, secret)
        print("load_recipes: the GitHub Actions matrix and the Kubernetes Indexed Job merge every delivery")
    finally:
        serve.terminate()
        serve.wait()


if __name__ == "__main__":
    main()

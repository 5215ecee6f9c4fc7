#!/usr/bin/env python3
"""Runs the CI recipes of docs/ci.md locally and checks what each one promises.

    ci_recipes_test.py WPSIM SOURCE_DIR

Each ```yaml block of docs/ci.md is parsed (GitHub Actions workflow or GitLab CI file) and its
shell lines run with bash in job order, one matrix or `parallel:` cell at a time, in a fresh
working directory holding a `scenarios` link to the repository's. `wpsim serve` on 127.0.0.1
stands in for the endpoint of the secret connection string. Steps that only move files or set up
tools (`uses:` actions, "Set up wpsim" steps, GitLab `before_script`) are skipped and listed:
PATH already holds the wpsim under test. Every wait is bounded and every server is stopped.
"""
import glob
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

WPSIM, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
SCENARIOS = "scenarios/quickstarts"  # WPSIM_SCENARIOS for the test: a bounded run
STEP_TIMEOUT = 240


def fail(message):
    print("ci_recipes: FAIL: " + message, file=sys.stderr)
    sys.exit(1)


class Serve:
    """A `wpsim serve` child on 127.0.0.1 with its connection string."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(
            [WPSIM, "serve", "--listen", "127.0.0.1:0", "--log-level", "error", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 15
        self.connection_string = None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("Connection string: "):
                self.connection_string = line[len("Connection string: "):].strip()
                break
        if not self.connection_string:
            self.stop()
            fail("wpsim serve printed no connection string: " + self.proc.stderr.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def yaml_blocks(path):
    # The load recipes at the end ("Load from several machines") have their own test,
    # bench/load/load_recipes_test.py.
    text = open(path, encoding="utf-8").read().split("\n## Load from several machines")[0]
    return [yaml.safe_load(b) for b in re.findall(r"^```yaml\n(.*?)^```$", text, re.S | re.M)]


def expand(text, secret, matrix):
    """GitHub expressions the recipes use: secrets.* and matrix.*; anything else is an error."""

    def one(m):
        expr = m.group(1).strip()
        if expr.startswith("secrets."):
            return secret
        if expr.startswith("matrix.") and expr[len("matrix."):] in matrix:
            return str(matrix[expr[len("matrix."):]])
        fail("unsupported expression ${{ %s }}" % expr)
        return ""

    return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))


def bash(script, env, cwd, label):
    print(f"ci_recipes:   $ {label}")
    try:
        r = subprocess.run(["bash", "-eo", "pipefail", "-c", script], env=env, cwd=cwd,
                           timeout=STEP_TIMEOUT, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        fail(f"'{label}' ran longer than {STEP_TIMEOUT} s")
    sys.stdout.write("".join("ci_recipes:     " + l + "\n" for l in (r.stdout + r.stderr).splitlines()[-12:]))
    return r.returncode


def base_env(workdir):
    env = dict(os.environ)
    for k in ("WebPubSubConnectionString", "NO_COLOR"):
        env.pop(k, None)
    env["PATH"] = os.path.dirname(os.path.abspath(WPSIM)) + os.pathsep + env["PATH"]
    env["GITHUB_STEP_SUMMARY"] = os.path.join(workdir, "step-summary.md")
    env["GITHUB_PATH"] = os.path.join(workdir, "github-path")
    # As in readme_test.py: the recipes run quickstart-004, whose `p99 < 100ms` measures this
    # machine's scheduling as much as the emulator when `make test` runs beside it; the test
    # checks that the recipes work, so real-target time limits are x10 (reports mark them).
    env.setdefault("WPSIM_REAL_TIME_SCALE", "10")
    return env


def workdir_for(name):
    d = tempfile.mkdtemp(prefix=f"wpsim-ci-{name}-")
    os.symlink(os.path.join(SOURCE, "scenarios"), os.path.join(d, "scenarios"))
    return d


def run_github(workflow, workdir, secret):
    """Runs a workflow's jobs in `needs` order; returns {job: [(step name, exit code)]}."""
    jobs = workflow["jobs"]
    done, order = set(), []
    while len(order) < len(jobs):
        ready = [j for j in jobs if j not in done and
                 all(n in done for n in ([jobs[j]["needs"]] if isinstance(jobs[j].get("needs"), str)
                                         else jobs[j].get("needs", [])))]
        if not ready:
            fail("the jobs' needs form a cycle")
        for j in ready:
            done.add(j)
            order.append(j)
    results = {}
    for job_name in order:
        job = jobs[job_name]
        matrix = job.get("strategy", {}).get("matrix", {})
        keys = [k for k in matrix if isinstance(matrix[k], list)]
        cells = [dict(zip(keys, values)) for values in itertools.product(*(matrix[k] for k in keys))] or [{}]
        results[job_name] = []
        for cell in cells:
            print(f"ci_recipes: job {job_name} {cell or ''}")
            failed = False
            for i, step in enumerate(job["steps"]):
                name = step.get("name", step.get("uses", f"step {i}"))
                if "uses" in step or name.startswith("Set up wpsim"):
                    print(f"ci_recipes:   skipped (not run here): {name}")
                    continue
                if failed and step.get("if") != "always()":
                    results[job_name].append((name, None))
                    continue
                env = base_env(workdir)
                for scope in (workflow.get("env", {}), job.get("env", {}), step.get("env", {})):
                    env.update({k: expand(v, secret, cell) for k, v in scope.items()})
                env["WPSIM_SCENARIOS"] = SCENARIOS
                code = bash(expand(step["run"], secret, cell), env, workdir, name)
                results[job_name].append((name, code))
                failed = failed or code != 0
    return results


def run_gitlab(pipeline, workdir, secret):
    """Runs the jobs stage by stage (parallel: N as N cells); returns {job: [exit codes]}."""
    results = {}
    for stage in pipeline["stages"]:
        for job_name, job in pipeline.items():
            if not isinstance(job, dict) or job.get("stage") != stage:
                continue
            total = job.get("parallel", 1)
            results[job_name] = []
            for index in range(1, total + 1):
                print(f"ci_recipes: job {job_name} {index}/{total}")
                if job.get("before_script"):
                    print("ci_recipes:   skipped (not run here): before_script (set up wpsim)")
                env = base_env(workdir)
                env.update({k: str(v) for k, v in pipeline.get("variables", {}).items()})
                env["WPSIM_SCENARIOS"] = SCENARIOS
                env["WebPubSubConnectionString"] = secret
                if total > 1:
                    env["CI_NODE_INDEX"], env["CI_NODE_TOTAL"] = str(index), str(total)
                code = 0
                for line in job["script"]:
                    code = bash(line, env, workdir, line)
                    if code != 0:
                        break
                results[job_name].append(code)
    return results


def totals(path):
    return json.load(open(path))["totals"]


def expect_files(workdir, names):
    for n in names:
        if not glob.glob(os.path.join(workdir, n)):
            fail(f"expected {n} in {workdir}")


def main():
    blocks = yaml_blocks(os.path.join(SOURCE, "docs", "ci.md"))
    if len(blocks) != 4:
        fail(f"docs/ci.md should hold 4 recipes, found {len(blocks)}")
    single, sharded, gitlab, gate = blocks
    serve = Serve()
    buggy = Serve("--inject-bug", "drop-noecho")
    dirs = []
    try:
        # 1. One job: every step passes, four reports, the summary page is summary.md.
        d = workdir_for("single")
        dirs.append(d)
        r = run_github(single, d, serve.connection_string)
        bad = [(s, c) for s, c in r["conformance"] if c != 0]
        if bad:
            fail(f"single-job recipe: steps failed: {bad}")
        expect_files(d, ["wpsim-report/junit.xml", "wpsim-report/report.html",
                         "wpsim-report/report.json", "wpsim-report/summary.md"])
        if open(os.path.join(d, "step-summary.md")).read() != open(os.path.join(d, "wpsim-report/summary.md")).read():
            fail("$GITHUB_STEP_SUMMARY does not hold the Markdown summary")
        whole = totals(os.path.join(d, "wpsim-report/report.json"))
        if whole["passed"] == 0 or whole["failed"] or whole["errors"]:
            fail(f"single-job run did not pass: {whole}")

        # 2. Sharded: three shard reports merge into one with the unsharded totals.
        d = workdir_for("sharded")
        dirs.append(d)
        r = run_github(sharded, d, serve.connection_string)
        bad = [(j, s, c) for j in r for s, c in r[j] if c != 0]
        if bad:
            fail(f"sharded recipe: steps failed: {bad}")
        expect_files(d, ["shards/shard-1.json", "shards/shard-2.json", "shards/shard-3.json",
                         "wpsim-report/junit.xml", "wpsim-report/report.html", "wpsim-report/summary.md"])
        merged = totals(os.path.join(d, "wpsim-report/report.json"))
        if merged != whole:
            fail(f"merged shards {merged} differ from the unsharded run {whole}")

        # 3. GitLab: the same through parallel: 3 and CI_NODE_INDEX/CI_NODE_TOTAL.
        d = workdir_for("gitlab")
        dirs.append(d)
        r = run_gitlab(gitlab, d, serve.connection_string)
        if any(c != 0 for codes in r.values() for c in codes):
            fail(f"GitLab recipe: jobs failed: {r}")
        expect_files(d, ["shards/junit-1.xml", "shards/junit-3.xml", "report.json", "report.html", "summary.md"])
        if totals(os.path.join(d, "report.json")) != whole:
            fail("GitLab merged totals differ from the unsharded run")

        # 4. The gate: passes against a baseline of the same service, fails when the service
        #    got worse (here: a service that echoes noEcho messages, so scenarios now fail).
        d = workdir_for("gate")
        dirs.append(d)
        os.makedirs(os.path.join(d, "baseline"))
        shutil.copy(os.path.join(dirs[0], "wpsim-report/report.json"), os.path.join(d, "baseline/report.json"))
        # Latencies of real runs on a loaded machine have outliers beyond any fixed noise floor
        # (a 62 ms connect was seen with ctest -j 2): the same service must pass the gate in one
        # of three runs. A gate that refuses a good service refuses all three.
        for attempt in range(3):
            r = run_github(gate, d, serve.connection_string)
            if [c for _, c in r["latency"]] == [0]:
                break
            print(f"ci_recipes: gate attempt {attempt + 1} refused the same service (latency noise?)")
        else:
            fail(f"the gate refused three runs of the same service: {r}")
        r = run_github(gate, d, buggy.connection_string)
        if [c for _, c in r["latency"]] != [1]:
            fail(f"the gate let a worse service through: {r}")
        print("ci_recipes: all 4 recipes behave as docs/ci.md says")
    finally:
        serve.stop()
        buggy.stop()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


main()

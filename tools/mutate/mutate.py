#!/usr/bin/python3
"""Source-mutation testing of the scenario suite with mutant schemata (docs/mutation.md).

1. Find mutation sites in the selected .cc files with libclang (schemata.py).
2. Write a transformed copy of the tree (build-mutate/src) where every mutant is compiled in and
   guarded by wpsim_mutant_on(ID); sites that do not compile are dropped automatically
   (libclang first, then the real compiler: locate the error, drop the site, repeat).
3. Build `wpsim` once (build-mutate/build).
4. Run every scenario file once with coverage on: which mutant guards does each file reach?
5. For each selected mutant, run the scenario files that reach it with WPSIM_MUTANT=ID, one at a
   time until one fails (killed), crashes, or exceeds its time limit. A mutant that no scenario
   reaches survives without a run.
6. Write report.json and report.md: kill rate overall, per file and per operator, survivors with
   file:line and diff, the equivalent mutants of the allow-list, the time taken.
"""

import argparse
import concurrent.futures
import fnmatch
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

try:
    import clang.cindex  # noqa: F401
except ImportError:
    sys.stderr.write("mutate: the Python libclang bindings are missing; run "
                     "tools/mutate/install-deps (Debian package python3-clang-14)\n")
    sys.exit(2)

import schemata  # noqa: E402

# `#line 1` keeps the compiler's line numbers those of the rendered text; libclang reports
# physical lines, HEADER_LINES more.
HEADER_LINE = '#include "tools/mutate/wpsim_mutant.h"\n#line 1\n'
HEADER_LINES = 2
EXIT_VERDICT = {1, 3}  # wpsim run: a scenario failed or errored / a threshold failed
# Part of the --resume stamp: verdicts recorded under other counting rules are not reused.
VERDICT_RULES = "2: killed only by a failing scenario"
RUN_TIMEOUT_FLOOR = 10  # seconds added to every per-file time limit


def log(msg):
    sys.stderr.write("mutate: %s\n" % msg)
    sys.stderr.flush()


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="tools/mutate/mutate.py",
        description="Mutation testing of the scenario suite (docs/mutation.md).")
    p.add_argument("--repo", default=os.path.dirname(os.path.dirname(HERE)),
                   help="repository root (default: this checkout)")
    p.add_argument("--paths", nargs="+", default=["service", "protocol/auth"],
                   help="folders whose .cc files are mutated (default: service protocol/auth)")
    p.add_argument("--files", action="append", default=[],
                   help="glob on the repository-relative path (repeatable), e.g. 'service/perm*'")
    p.add_argument("--operators", default=",".join(schemata.OPERATORS),
                   help="comma-separated operators (default: all: %s)" %
                   ",".join(schemata.OPERATORS))
    p.add_argument("--sample", type=int, default=0,
                   help="run N mutants drawn with --seed (0: all)")
    p.add_argument("--seed", type=int, default=1, help="sampling seed (default 1)")
    p.add_argument("--jobs", type=int, default=2, help="parallel runs and compile jobs (max 2)")
    p.add_argument("--timeout-factor", type=float, default=5.0,
                   help="per-file time limit: factor x the unmutated run time, plus 10 s")
    p.add_argument("--build-dir", default=None,
                   help="work directory (default: <repo>/build-mutate)")
    p.add_argument("--scenarios", default=None,
                   help="scenario folder or file (default: <repo>/scenarios)")
    p.add_argument("--allow", default=os.path.join(HERE, "equivalent.txt"),
                   help="allow-list of equivalent mutants (default tools/mutate/equivalent.txt)")
    p.add_argument("--out", default=None,
                   help="report folder (default: <build-dir>/report)")
    p.add_argument("--resume", action="store_true",
                   help="reuse the verdicts of an interrupted run with the same build and "
                   "scenarios (<build-dir>/results.jsonl)")
    p.add_argument("--list", action="store_true",
                   help="list the mutants (after the compile check) and stop")
    p.add_argument("--cmake-arg", action="append", default=[],
                   help="extra CMake configure argument for the mutant build")
    a = p.parse_args(argv)
    a.jobs = max(1, min(2, a.jobs))
    a.operators = [o for o in a.operators.split(",") if o]
    unknown = [o for o in a.operators if o not in schemata.OPERATORS]
    if unknown:
        p.error("unknown operator(s): %s (known: %s)" % (", ".join(unknown),
                                                          ", ".join(schemata.OPERATORS)))
    a.repo = os.path.abspath(a.repo)
    a.build_dir = os.path.abspath(a.build_dir or os.path.join(a.repo, "build-mutate"))
    a.scenarios = os.path.abspath(a.scenarios or os.path.join(a.repo, "scenarios"))
    a.out = os.path.abspath(a.out or os.path.join(a.build_dir, "report"))
    return a


def git_files(repo):
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=repo, check=True, capture_output=True).stdout
    return sorted(f for f in out.decode().split("\0") if f)


def write_if_changed(path, data):
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return True


def select_sources(args, tracked):
    chosen = []
    for rel in tracked:
        if not rel.endswith(".cc") or rel.endswith("_test.cc"):
            continue
        if not any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in args.paths):
            continue
        if args.files and not any(fnmatch.fnmatch(rel, g) for g in args.files):
            continue
        chosen.append(rel)
    return chosen


def read_allow_list(path):
    """`<mutant id> <reason>` a line; '#' starts a comment. Returns {id: reason}."""
    allow = {}
    if not os.path.exists(path):
        return allow
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2 or not parts[1].strip():
                raise SystemExit("mutate: %s:%d: an entry needs a mutant id and the reason it "
                                 "is equivalent" % (path, n))
            allow[parts[0]] = parts[1].strip()
    return allow


class FileMutants:
    """Sites of one source file, their rendering and the sites dropped as not compiling."""

    def __init__(self, rel, source, sites):
        self.rel = rel
        self.source = source
        self.sites = sites
        self.dropped = {}  # site -> reason
        self.renderer = None
        self.text = None

    def live_sites(self):
        return [s for s in self.sites if s not in self.dropped]

    def render(self):
        top, conflicts = schemata.nest(self.live_sites())
        for s in conflicts:
            self.dropped[s] = "overlaps another site"
        self.renderer = schemata.Renderer(self.source)
        self.text = HEADER_LINE + self.renderer.render_file(top)
        if len(self.text) > 40 * len(self.source) + 100000:
            raise SystemExit("mutate: %s: the schemata text grew to %d bytes from %d; a site "
                             "kind duplicates its operands" % (self.rel, len(self.text),
                                                                len(self.source)))
        return self.text

    def drop_at(self, line, col, reason, nearest_above=False):
        site = self.renderer.blame(line, col, nearest_above)
        if site is None or site in self.dropped:
            return False
        self.dropped[site] = reason
        return True


def clang_args(args, src_root):
    return ["-x", "c++", "-std=c++20", "-DNDEBUG", "-I" + src_root]


def find_sites(args, sources):
    files = []
    cargs = clang_args(args, args.repo)
    for rel in sources:
        path = os.path.join(args.repo, rel)
        with open(path, "rb") as f:
            source = f.read()
        finder = schemata.Finder(path, source, cargs, args.operators)
        if finder.errors:
            log("%s: libclang cannot parse the original (%s); skipped" %
                (rel, finder.errors[0].spelling))
            continue
        sites = finder.find()
        schemata.assign_ids(rel, sites)
        for s in sites:
            s.line = schemata.line_of(source, s.start)
        files.append(FileMutants(rel, source, sites))
    return files


def clang_check(args, fm, src_root):
    """Drops sites until libclang accepts the rendered file. Returns the number dropped."""
    import clang.cindex as ci
    dropped = 0
    path = os.path.join(src_root, fm.rel)
    for _ in range(200):
        text = fm.render()
        tu = ci.Index.create().parse(path, args=clang_args(args, src_root),
                                     unsaved_files=[(path, text.encode("latin-1"))])
        progress = False
        errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
        for d in errors:
            loc = d.location
            if loc.file is None or os.path.abspath(loc.file.name) != path:
                continue
            if fm.drop_at(loc.line - HEADER_LINES, loc.column, "libclang: " + d.spelling):
                progress = True
                dropped += 1
        if not errors:
            return dropped
        if not progress:
            for d in errors:
                loc = d.location
                if loc.file is not None and os.path.abspath(loc.file.name) == path and \
                        fm.drop_at(loc.line - HEADER_LINES, loc.column,
                                   "libclang (nearest site above): " + d.spelling, True):
                    progress = True
                    dropped += 1
                    break
        if not progress:
            raise SystemExit("mutate: %s: the schemata do not compile and no site could be "
                             "blamed: %s" % (fm.rel, errors[0]))
    raise SystemExit("mutate: %s: too many rounds of dropping sites" % fm.rel)


GCC_LOC = re.compile(r"^(?:In file included from )?([^\s:][^:]*\.(?:cc|h)):(\d+):(\d+):\s+"
                     r"(error|required from here|required from)")


def build(args, files, src_root, bdir):
    env = dict(os.environ)
    env["CCACHE_BASEDIR"] = src_root
    env["CCACHE_NOHASHDIR"] = "true"
    if not os.path.exists(os.path.join(bdir, "build.ninja")):
        cmd = ["cmake", "-S", src_root, "-B", bdir, "-G", "Ninja", "-DWPSIM_BENCH=OFF",
               "-DCMAKE_BUILD_TYPE=RelWithDebInfo"] + args.cmake_arg
        log("configure: " + " ".join(cmd))
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    by_path = {os.path.join(src_root, fm.rel): fm for fm in files}
    for round_ in range(1, 100):
        cmd = ["nice", "-n", "10", "cmake", "--build", bdir, "--target", "wpsim", "-j",
               str(args.jobs), "--", "-k", "0"]
        t0 = time.time()
        log("build round %d: %s" % (round_, " ".join(cmd)))
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, errors="replace")
        log("build round %d: %.0f s, exit %d" % (round_, time.time() - t0, r.returncode))
        if r.returncode == 0:
            return
        output = r.stdout + r.stderr
        blamed = 0
        touched = set()
        for line in output.splitlines():
            m = GCC_LOC.match(line.strip())
            if not m:
                continue
            p = os.path.normpath(os.path.join(bdir, m.group(1)))
            fm = by_path.get(p)
            if fm is None:
                continue
            if fm.drop_at(int(m.group(2)), int(m.group(3)), "compiler: " + line.strip()[:200]):
                blamed += 1
                touched.add(fm)
        if blamed == 0:
            for line in output.splitlines():
                m = GCC_LOC.match(line.strip())
                fm = m and by_path.get(os.path.normpath(os.path.join(bdir, m.group(1))))
                if fm and fm.drop_at(int(m.group(2)), int(m.group(3)),
                                     "compiler (nearest site above): " + line.strip()[:200],
                                     True):
                    blamed += 1
                    touched.add(fm)
                    break
        if blamed == 0:
            sys.stderr.write(output[-6000:])
            raise SystemExit("mutate: the mutant build failed and no site could be blamed")
        log("dropped %d site(s) that do not compile; rebuilding" % blamed)
        for fm in touched:
            write_if_changed(os.path.join(src_root, fm.rel), fm.render().encode("latin-1"))
    raise SystemExit("mutate: too many build rounds")


def scenario_files(path):
    if os.path.isfile(path):
        return [path]
    out = []
    for root, _, names in os.walk(path):
        for n in names:
            if n.endswith((".yaml", ".yml")):
                out.append(os.path.join(root, n))
    return sorted(out)


def run_wpsim(binary, scenario, env_extra, timeout, cwd, report=None):
    """Runs `wpsim run scenario` in its own process group (a crashing or hanging mutant takes
    only that process down). With `report`, wpsim writes its JSON report there."""
    env = dict(os.environ)
    env.pop("WPSIM_MUTANT", None)
    env.pop("WPSIM_MUTANT_COVERAGE", None)
    env.update(env_extra)
    t0 = time.time()
    argv = ["nice", "-n", "10", binary, "run", scenario]
    if report:
        argv += ["--json", report]
    p = subprocess.Popen(argv, cwd=cwd, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        status = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        status = "timeout"
    return status, time.time() - t0, out.decode("utf-8", "replace")


def classify_run(status, report):
    """One scenario file's run under a mutant: "pass", "killed" (a scenario FAILED: a check or a
    threshold of the suite noticed the bug), "errored" (exit 1 but no scenario failed, only
    errors: the scenario could not run, which is not the suite noticing anything), "timeout",
    or "crashed" (a signal, another exit code, or no readable report)."""
    if status == "timeout":
        return "timeout"
    if isinstance(status, int) and status < 0:
        return "crashed"
    if status == 0:
        return "pass"
    if status not in EXIT_VERDICT or not isinstance(report, dict):
        return "crashed"
    statuses = [sc.get("status") for sc in report.get("scenarios", [])]
    if "fail" in statuses or report.get("verdict") == "threshold_failure":
        return "killed"
    if "error" in statuses:
        return "errored"
    return "crashed"  # a verdict exit code without a failing or erroring scenario


def coverage(args, binary, scenarios, workdir):
    """Per scenario file: baseline time and the set of mutant ids whose guard it reaches."""
    result = {}
    lock = threading.Lock()

    def one(sc):
        fd, cov = tempfile.mkstemp(prefix="cov-", dir=workdir)
        os.close(fd)
        status, secs, out = run_wpsim(binary, sc, {"WPSIM_MUTANT_COVERAGE": cov}, 600,
                                      args.repo)
        with open(cov) as f:
            lines = [l.strip() for l in f if l.strip()]
        os.unlink(cov)
        entry = {"status": status, "seconds": secs, "overflow": "overflow" in lines,
                 "reached": set(l for l in lines if l != "overflow"), "output": out[-2000:]}
        with lock:
            result[sc] = entry

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, scenarios))
    return result


# What a mutant's verdict is when no reaching file killed it, in order of precedence: a file
# that timed out or crashed says more than one that only errored.
NOT_KILLED_PRECEDENCE = ("timeout", "crashed", "errored")


def run_mutant(args, binary, v, cov, order, kills=None):
    """Runs the files that reach mutant `v` until one kills it (a scenario fails). A file that
    times out, crashes or only errors does not kill it: the next file is tried, and if none
    kills it the verdict is the worst of those (timeout, crashed, errored), else survived.
    `kills` counts kills per file so far: files that killed most run first (a killed mutant
    then costs one run, not many)."""
    reached = [sc for sc in order if cov[sc]["overflow"] or v.id in cov[sc]["reached"]]
    if kills:
        reached.sort(key=lambda sc: -kills.get(sc, 0))  # stable: fastest first among equals
    rec = {"files_reaching": len(reached), "runs": 0, "seconds": 0.0}
    if not reached:
        rec["status"] = "not-reached"
        return rec
    seen = {}  # verdict -> (file, status, evidence) of its first file
    fd, report_path = tempfile.mkstemp(prefix="mutant-", suffix=".json")
    os.close(fd)
    try:
        for sc in reached:
            limit = cov[sc]["seconds"] * args.timeout_factor + RUN_TIMEOUT_FLOOR
            if os.path.exists(report_path):
                os.unlink(report_path)
            status, secs, out = run_wpsim(binary, sc, {"WPSIM_MUTANT": v.id}, limit, args.repo,
                                          report=report_path)
            rec["runs"] += 1
            rec["seconds"] += secs
            try:
                with open(report_path) as f:
                    report = json.load(f)
            except (OSError, ValueError):
                report = None
            verdict = classify_run(status, report)
            if verdict == "pass":
                continue
            tail = [l for l in out.splitlines() if l.strip()][-3:]
            seen.setdefault(verdict, (sc, status, tail))
            if verdict == "killed":
                break
    finally:
        if os.path.exists(report_path):
            os.unlink(report_path)
    for verdict in ("killed",) + NOT_KILLED_PRECEDENCE:
        if verdict not in seen:
            continue
        sc, status, tail = seen[verdict]
        rec["status"] = verdict
        rec["evidence"] = tail
        if verdict == "killed":
            rec["killed_by"] = os.path.relpath(sc, args.repo)
            if kills is not None:
                kills[sc] = kills.get(sc, 0) + 1
        else:
            rec["file_run"] = os.path.relpath(sc, args.repo)
            if verdict == "crashed" and isinstance(status, int):
                if status < 0:
                    rec["signal"] = -status
                else:
                    rec["exit"] = status
        return rec
    rec["status"] = "survived"
    return rec


def pct(a, b):
    return 100.0 * a / b if b else 0.0


def write_reports(args, files, selected, results, allow, stale, timing, cov, baseline_bad):
    os.makedirs(args.out, exist_ok=True)
    # Only a failing scenario kills (docs/mutation.md); timeouts, crashes and errors are
    # reported apart and are not kills.
    killed_states = ("killed",)
    rows = []
    for fm, s, v in selected:
        r = results.get(v.mutant_id, {"status": "equivalent"})
        rows.append({
            "id": v.mutant_id, "file": fm.rel, "line": s.line, "operator": v.op,
            "function": s.function, "change": v.describe,
            "diff": schemata.mutated_line_diff(fm.source, s, v), **r})
    scored = [r for r in rows if r["status"] != "equivalent"]
    killed = [r for r in scored if r["status"] in killed_states]

    def table(key):
        groups = {}
        for r in scored:
            g = groups.setdefault(r[key], {"mutants": 0, "killed": 0, "not_reached": 0})
            g["mutants"] += 1
            g["killed"] += r["status"] in killed_states
            g["not_reached"] += r["status"] == "not-reached"
        for g in groups.values():
            g["kill_rate"] = round(pct(g["killed"], g["mutants"]), 1)
        return dict(sorted(groups.items()))

    total_sites = sum(len(fm.sites) for fm in files)
    generated = sum(len(s.variants) for fm in files for s in fm.sites)
    compiled = sum(len(s.variants) for fm in files for s in fm.live_sites())
    summary = {
        "files": [fm.rel for fm in files],
        "operators": args.operators,
        "sites": total_sites,
        "mutants_generated": generated,
        "mutants_compiled": compiled,
        "mutants_dropped_not_compiling": generated - compiled,
        "sample": args.sample, "seed": args.seed,
        "selected": len(rows),
        "equivalent": len(rows) - len(scored),
        "scored": len(scored),
        "killed": len(killed),
        "timeout": sum(r["status"] == "timeout" for r in scored),
        "crashed": sum(r["status"] == "crashed" for r in scored),
        "errored": sum(r["status"] == "errored" for r in scored),
        "survived": sum(r["status"] == "survived" for r in scored),
        "not_reached": sum(r["status"] == "not-reached" for r in scored),
        "kill_rate": round(pct(len(killed), len(scored)), 1),
        "scenario_files": len(cov),
        "scenario_files_failing_unmutated": baseline_bad,
        "seconds": timing,
        "per_file": table("file"),
        "per_operator": table("operator"),
        "stale_allow_list_entries": stale,
        "dropped_sites": [{"file": fm.rel, "line": s.line, "operators": [v.op for v in s.variants],
                           "reason": r} for fm in files for s, r in fm.dropped.items()],
    }
    survivors = [r for r in scored if r["status"] in ("survived", "not-reached")]
    not_killed = sorted((r for r in scored if r["status"] in NOT_KILLED_PRECEDENCE),
                        key=lambda r: (r["status"], r["file"], r["line"], r["id"]))
    survivors.sort(key=lambda r: (r["file"], r["line"], r["operator"], r["id"]))
    equivalent = [dict(r, reason=allow[r["id"]]) for r in rows if r["status"] == "equivalent"]
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump({"summary": summary, "mutants": sorted(rows, key=lambda r: r["id"]),
                   "equivalent": equivalent}, f, indent=1, default=list)
    md = ["# Mutation report", "",
          "Command: `tools/mutate/mutate.py %s`" % " ".join(sys.argv[1:]), "",
          "| | |", "| --- | --- |",
          "| files | %d |" % len(files),
          "| mutants generated / compiled | %d / %d |" % (generated, compiled),
          "| selected (sample %s, seed %d) | %d |" % (args.sample or "all", args.seed, len(rows)),
          "| equivalent (allow-list) | %d |" % summary["equivalent"],
          "| **killed / scored** | **%d / %d = %.1f %%** |" % (len(killed), len(scored),
                                                              summary["kill_rate"]),
          "| not killed: timeout / crashed / errored | %d / %d / %d |" % (
              summary["timeout"], summary["crashed"], summary["errored"]),
          "| survived (reached, not detected) | %d |" % summary["survived"],
          "| survived (reached by no scenario) | %d |" % summary["not_reached"],
          "| time: sites+schemata / build / coverage / mutants / total | %s |" % " / ".join(
              "%.0f s" % timing[k] for k in ("sites", "build", "coverage", "mutants",
                                             "total")),
          ""]
    for key, title in (("per_operator", "operator"), ("per_file", "file")):
        md += ["| %s | mutants | killed | not reached | kill rate |" % title,
               "| --- | ---: | ---: | ---: | ---: |"]
        for k, g in summary[key].items():
            md.append("| %s | %d | %d | %d | %.1f %% |" % (k, g["mutants"], g["killed"],
                                                           g["not_reached"], g["kill_rate"]))
        md.append("")
    if baseline_bad:
        md += ["Scenario files that fail without any mutant (left out): " +
               ", ".join(baseline_bad), ""]
    md += ["## Survivors", ""]
    for r in survivors:
        md += ["### %s:%d `%s` (%s%s)" % (r["file"], r["line"], r["operator"], r["change"],
                                         ", reached by no scenario"
                                         if r["status"] == "not-reached" else ""),
               "", "id `%s`, in `%s`" % (r["id"], r["function"]), "", "```diff"] + \
            r["diff"] + ["```", ""]
    if not_killed:
        md += ["## Not killed: timeout, crashed, errored", "",
               "No scenario failed under these mutants; the file named timed out, crashed wpsim "
               "or only errored.", ""]
        for r in not_killed:
            md.append("- %s `%s` %s:%d (%s, %s): %s" % (
                r["status"], r["id"], r["file"], r["line"], r["operator"], r["change"],
                " / ".join([r.get("file_run", "")] + r.get("evidence", []))))
        md.append("")
    if equivalent:
        md += ["## Equivalent (allow-list)", ""]
        for r in equivalent:
            md.append("- `%s` %s:%d: %s" % (r["id"], r["file"], r["line"], r["reason"]))
        md.append("")
    if stale:
        md += ["## Allow-list entries matching no mutant", ""] + ["- `%s`" % s for s in stale] \
            + [""]
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write("\n".join(md))
    # One line a survivor, for handing to whoever writes the missing scenarios.
    with open(os.path.join(args.out, "survivors.txt"), "w") as f:
        f.write("# file:line  operator  change  [not reached]  |  the mutated line\n")
        for r in survivors:
            plus = next((l[1:].strip() for l in r["diff"] if l.startswith("+")), "")
            f.write("%s:%d  %s  %s%s  |  %s\n" % (
                r["file"], r["line"], r["operator"], r["change"],
                "  [not reached]" if r["status"] == "not-reached" else "", plus[:120]))
    return summary


def interleave_files(items):
    """The run order: one mutant of each file in turn (each file's in id order), so an
    interrupted or --resume'd run has covered every selected file evenly instead of the
    alphabetically first folders (protocol/ before service/) only."""
    per_file = {}
    for item in items:
        per_file.setdefault(item[0].rel, []).append(item)
    queues = [sorted(q, key=lambda x: x[2].mutant_id) for _, q in sorted(per_file.items())]
    out = []
    for i in range(max((len(q) for q in queues), default=0)):
        out.extend(q[i] for q in queues if i < len(q))
    return out


def main(argv):
    args = parse_args(argv)
    t_start = time.time()
    timing = {}
    tracked = git_files(args.repo)
    sources = select_sources(args, tracked)
    if not sources:
        raise SystemExit("mutate: no .cc file matches --paths %s --files %s" %
                         (" ".join(args.paths), " ".join(args.files) or "(any)"))
    allow = read_allow_list(args.allow)
    src_root = os.path.join(args.build_dir, "src")
    # The build folder sits in the copy as build/ sits in a checkout: with CCACHE_BASEDIR at the
    # copy's root every compile command is the same as the ordinary build's, so the files that
    # are not mutated come from the compiler cache.
    bdir = os.path.join(src_root, "build")
    os.makedirs(src_root, exist_ok=True)

    # The copy: every tracked file, the selected sources rewritten.
    log("copying the tree to %s" % src_root)
    for rel in tracked:
        if rel in sources:
            continue
        with open(os.path.join(args.repo, rel), "rb") as f:
            write_if_changed(os.path.join(src_root, rel), f.read())
    # Files the checkout no longer has leave the copy too: a source a refactoring removed would
    # otherwise stay in the copy, be picked up by the build's globs and break the mutant build.
    keep = set(tracked)
    for dirpath, dirnames, filenames in os.walk(src_root):
        if os.path.abspath(dirpath) == os.path.abspath(src_root):
            dirnames[:] = [d for d in dirnames if d != "build"]
        for name in filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), src_root)
            if rel not in keep:
                os.remove(os.path.join(dirpath, name))
                log("removed %s from the copy (no longer in the checkout)" % rel)

    log("finding sites in %d file(s)" % len(sources))
    files = find_sites(args, sources)
    # Sites that did not compile, per file contents: a rerun on unchanged files skips the checks.
    cache_path = os.path.join(args.build_dir, "dropped-sites.json")
    try:
        with open(cache_path) as f:
            cache = json.load(f)
    except (FileNotFoundError, ValueError):
        cache = {}

    def cache_key(fm):
        return hashlib.sha256(fm.source + ",".join(args.operators).encode() +
                              open(schemata.__file__, "rb").read()).hexdigest()

    for fm in files:
        known = cache.get(cache_key(fm))
        if known is not None:
            first_ids = {s.variants[0].id: s for s in fm.sites}
            for vid, reason in known.items():
                if vid in first_ids:
                    fm.dropped[first_ids[vid]] = reason
            fm.render()
            n = len(fm.dropped)
        else:
            n = clang_check(args, fm, src_root)
        live = sum(len(s.variants) for s in fm.live_sites())
        log("%s: %d mutants (%d site(s) dropped)" % (fm.rel, live, n))
        write_if_changed(os.path.join(src_root, fm.rel), fm.text.encode("latin-1"))
    timing["sites"] = time.time() - t_start

    t0 = time.time()
    build(args, files, src_root, bdir)
    timing["build"] = time.time() - t0
    for fm in files:
        cache[cache_key(fm)] = {s.variants[0].id: r for s, r in fm.dropped.items()}
    with open(cache_path, "w") as f:
        json.dump(cache, f, indent=1, sort_keys=True)
    binary = os.path.join(bdir, "bin", "wpsim")

    every = [(fm, s, v) for fm in files for s in fm.live_sites() for v in s.variants]
    every.sort(key=lambda x: x[2].mutant_id)
    known = {v.mutant_id for _, _, v in every}
    stale = sorted(k for k in allow if k not in known)
    if args.sample and args.sample < len(every):
        selected = random.Random(args.seed).sample(every, args.sample)
        selected.sort(key=lambda x: x[2].mutant_id)
    else:
        selected = every
    if args.list:
        for fm, s, v in selected:
            print("%s\t%s:%d\t%s" % (v.mutant_id, fm.rel, s.line, v.describe))
        return 0

    t0 = time.time()
    scenarios = scenario_files(args.scenarios)
    log("coverage: %d scenario file(s)" % len(scenarios))
    workdir = tempfile.mkdtemp(prefix="mutate-", dir=args.build_dir)
    cov = coverage(args, binary, scenarios, workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    baseline_bad = sorted(os.path.relpath(sc, args.repo) for sc, c in cov.items()
                          if c["status"] != 0)
    for sc in baseline_bad:
        log("%s fails without any mutant; left out:\n%s" %
            (sc, cov[os.path.join(args.repo, sc)]["output"]))
    cov = {sc: c for sc, c in cov.items() if c["status"] == 0}
    order = sorted(cov, key=lambda sc: (cov[sc]["seconds"], sc))
    timing["coverage"] = time.time() - t0

    t0 = time.time()
    # Every verdict is appended to results.jsonl as it comes, stamped with the build and the
    # scenarios, so --resume picks up an interrupted run.
    stamp = hashlib.sha256(VERDICT_RULES.encode())
    with open(binary, "rb") as f:
        stamp.update(f.read())
    for sc in sorted(cov):
        with open(sc, "rb") as f:
            stamp.update(sc.encode() + f.read())
    stamp = stamp.hexdigest()[:16]
    results_path = os.path.join(args.build_dir, "results.jsonl")
    results = {}
    if args.resume and os.path.exists(results_path):
        with open(results_path) as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.pop("stamp", None) == stamp:
                    results[rec.pop("id")] = rec
        log("resuming: %d verdict(s) of this build reused" % len(results))
    elif os.path.exists(results_path):
        os.unlink(results_path)
    todo = interleave_files([(fm, s, v) for fm, s, v in selected
                             if v.mutant_id not in allow and v.mutant_id not in results])
    done = [0]
    kills = {}
    lock = threading.Lock()

    def one(item):
        fm, s, v = item
        rec = run_mutant(args, binary, v, cov, order, kills)
        with lock:
            results[v.mutant_id] = rec
            with open(results_path, "a") as f:
                f.write(json.dumps(dict(rec, id=v.mutant_id, stamp=stamp)) + "\n")
            done[0] += 1
            if done[0] % 25 == 0 or done[0] == len(todo):
                k = sum(r["status"] == "killed" for r in results.values())
                log("%d/%d mutants run, %d killed (%.0f s)" % (done[0], len(todo), k,
                                                              time.time() - t0))

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, todo))
    timing["mutants"] = time.time() - t0
    timing["total"] = time.time() - t_start
    summary = write_reports(args, files, selected, results, allow, stale, timing, cov,
                            baseline_bad)
    print("mutate: %d/%d killed (%.1f %%), %d survived, %d reached by no scenario, "
          "%d timeout, %d crashed, %d errored, %d equivalent; %.0f s; report: %s" % (
              summary["killed"], summary["scored"], summary["kill_rate"], summary["survived"],
              summary["not_reached"], summary["timeout"], summary["crashed"],
              summary["errored"], summary["equivalent"], timing["total"],
              os.path.join(args.out, "report.md")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

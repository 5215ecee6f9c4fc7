"""Tests of tools/mutate (docs/mutation.md) on a small fixture program.

Run by ctest (tests/tools/CMakeLists.txt) as `python3 -m unittest`, from the repository root.
"""

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools", "mutate"))

import mutate  # noqa: E402
import schemata  # noqa: E402

FIXTURE = "tests/tools/mutate_fixture/sample.cc"


def fixture_mutants(source=None):
    """The fixture's mutants; with `source`, those of other contents under the same name."""
    args = mutate.parse_args(["--repo", REPO, "--paths", "tests/tools", "--files", FIXTURE])
    if source is None:
        return args, mutate.find_sites(args, [FIXTURE])[0]
    tmp = tempfile.mkdtemp()
    try:
        os.makedirs(os.path.dirname(os.path.join(tmp, FIXTURE)))
        with open(os.path.join(tmp, FIXTURE), "wb") as f:
            f.write(source)
        args.repo = tmp
        return args, mutate.find_sites(args, [FIXTURE])[0]
    finally:
        shutil.rmtree(tmp)


def by_change(fm):
    out = {}
    for s in fm.sites:
        for v in s.variants:
            out.setdefault((s.line, v.op, v.describe), []).append(v)
    return out


class MutateSites(unittest.TestCase):
    def test_finds_every_operator_in_the_fixture(self):
        _, fm = fixture_mutants()
        ops = {v.op for s in fm.sites for v in s.variants}
        self.assertEqual(ops, set(schemata.OPERATORS))
        changes = by_change(fm)
        self.assertIn((26, "rel-boundary", "> -> >="), changes)
        self.assertIn((30, "logical", "&& -> ||"), changes)
        self.assertIn((25, "code-swap", "401 -> 403"), changes)
        self.assertIn((44, "code-swap", "kNotAuthorized -> kBanned"), changes)
        self.assertIn((20, "remove-call", "remove call Count"), changes)
        self.assertIn((19, "early-return", "return at entry of Touch"), changes)

    def test_skips_constexpr_case_labels_static_assert_macros_and_parameters(self):
        _, fm = fixture_mutants()
        lines = {s.line for s in fm.sites}
        self.assertNotIn(12, lines)  # constexpr function
        self.assertNotIn(13, lines)  # static_assert
        for label_line in (34, 36, 38):  # case 1000:, case 1008:, default:
            self.assertNotIn(label_line, lines)
        for s in fm.sites:
            text = fm.source[s.start:s.end].decode()
            self.assertNotIn("case", text)
            self.assertNotIn("CHECK_POSITIVE", text)
        classify = [v.describe for s in fm.sites for v in s.variants if 34 <= s.line <= 39]
        self.assertEqual(sorted(classify), ["1 -> 0", "1 -> 2", "2 -> 1", "2 -> 3", "3 -> 2",
                                            "3 -> 4"])  # the returns only, not the labels

    def test_ids_do_not_move_when_an_unrelated_line_is_added(self):
        _, fm = fixture_mutants()
        with open(os.path.join(REPO, FIXTURE), "rb") as f:
            source = f.read()
        shifted = source.replace(b"int counter = 0;", b"int counter = 0;\nint unrelated() { return 7; }")
        _, fm2 = fixture_mutants(shifted)
        ids = {v.id for s in fm.sites for v in s.variants}
        ids2 = {v.id for s in fm2.sites for v in s.variants}
        self.assertTrue(ids <= ids2)
        self.assertEqual(len(ids2 - ids), 2)  # unrelated(): its constant 7 -> 8 and 7 -> 6
        self.assertEqual(len(ids), sum(len(s.variants) for s in fm.sites))  # all distinct


    def test_if_constexpr_condition_is_not_mutated_and_its_body_is(self):
        source = (b"template <typename T>\nint Pick(T v) {\n"
                  b"  if constexpr (sizeof(T) > 4) {\n    return v > 3 ? 1 : 2;\n  }\n"
                  b"  return 0;\n}\nint Use() { return Pick(5L); }\n")
        _, fm = fixture_mutants(source)  # raised "cursor compared with None" before
        changes = by_change(fm)
        self.assertNotIn(3, {s.line for s in fm.sites})  # the constant condition
        self.assertIn((4, "rel-boundary", "> -> >="), changes)  # the branch's own code

    def test_runs_one_mutant_of_each_file_in_turn(self):
        class F:
            def __init__(self, rel):
                self.rel = rel

        class V:
            def __init__(self, mid):
                self.mutant_id = mid

        p, s = F("protocol/a.cc"), F("service/b.cc")
        items = [(p, None, V("p2")), (p, None, V("p1")), (s, None, V("s1")), (p, None, V("p3"))]
        self.assertEqual([v.mutant_id for _, _, v in mutate.interleave_files(items)],
                         ["p1", "s1", "p2", "p3"])


class MutateSchemata(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.args, cls.fm = fixture_mutants()
        cls.dropped = mutate.clang_check(cls.args, cls.fm, REPO)
        src = os.path.join(cls.tmp, "sample.cc")
        with open(src, "wb") as f:
            f.write(cls.fm.text.encode("latin-1"))
        cls.binary = os.path.join(cls.tmp, "sample")
        r = subprocess.run(["g++", "-std=c++20", "-Wall", "-Wextra", "-Werror", "-I", REPO, src,
                            "-o", cls.binary], capture_output=True, text=True)
        cls.compile_error = r.stderr if r.returncode != 0 else None

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def run_fixture(self, mutant=None, arg="10", coverage=None):
        env = dict(os.environ)
        env.pop("WPSIM_MUTANT", None)
        env.pop("WPSIM_MUTANT_COVERAGE", None)
        if mutant:
            env["WPSIM_MUTANT"] = mutant
        if coverage:
            env["WPSIM_MUTANT_COVERAGE"] = coverage
        return subprocess.run([self.binary, arg], env=env, capture_output=True, text=True,
                              check=True).stdout

    def original_output(self, arg="10"):
        exe = os.path.join(self.tmp, "original")
        if not os.path.exists(exe):
            subprocess.run(["g++", "-std=c++20", os.path.join(REPO, FIXTURE), "-o", exe],
                           check=True)
        return subprocess.run([exe, arg], capture_output=True, text=True, check=True).stdout

    def test_drops_the_template_argument_site_that_does_not_compile(self):
        self.assertEqual(self.dropped, 1)
        (site, reason), = self.fm.dropped.items()
        self.assertEqual(site.line, 49)
        self.assertIn("template argument", reason)
        self.assertIsNone(self.compile_error)

    def test_without_a_mutant_the_program_behaves_as_the_original(self):
        self.assertIsNone(self.compile_error)
        for arg in ("3", "10", "11"):
            self.assertEqual(self.run_fixture(arg=arg), self.original_output(arg))

    def test_each_mutant_is_switched_on_by_its_id_alone(self):
        self.assertIsNone(self.compile_error)
        changes = by_change(self.fm)
        boundary, = changes[(26, "rel-boundary", "> -> >=")]
        self.assertIn("status=413 401", self.run_fixture(boundary.id, "10"))
        self.assertIn("status=200 401", self.run_fixture(boundary.id, "9"))
        swap, = changes[(25, "code-swap", "401 -> 403")]
        self.assertIn("status=200 403", self.run_fixture(swap.id))
        removed, = changes[(20, "remove-call", "remove call Count")]
        self.assertIn("counter=2", self.run_fixture(removed.id))
        early, = changes[(19, "early-return", "return at entry of Touch")]
        self.assertIn("counter=0", self.run_fixture(early.id))
        enum, = changes[(44, "code-swap", "kNotAuthorized -> kBanned")]
        self.assertIn("reason=138", self.run_fixture(enum.id))
        both, = changes[(30, "logical", "&& -> ||")]
        self.assertIn("range=1 1", self.run_fixture(both.id, "10"))
        either, = changes[(55, "logical", "|| -> &&")]
        self.assertIn("control=0", self.run_fixture(either.id))
        self.assertIn("control=1", self.run_fixture())
        self.assertEqual(self.run_fixture("0123456789ab"), self.original_output())

    def test_coverage_lists_the_guards_that_ran(self):
        self.assertIsNone(self.compile_error)
        cov = os.path.join(self.tmp, "cov.txt")
        self.run_fixture(coverage=cov)
        with open(cov) as f:
            reached = {l.strip() for l in f}
        changes = by_change(self.fm)
        self.assertIn(changes[(26, "rel-boundary", "> -> >=")][0].id, reached)
        # Classify's default branch never runs (main passes 1000): its constant is not reached.
        self.assertNotIn(changes[(39, "const", "3 -> 4")][0].id, reached)


class MutateRunner(unittest.TestCase):
    """run_mutant's verdicts, with a stand-in for `wpsim run` driven by the mutant id."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.fake = os.path.join(self.tmp, "wpsim")
        # The stand-in writes a JSON report like `wpsim run FILE --json PATH` ($2 is the file,
        # $4 the report path) and exits as wpsim would.
        with open(self.fake, "w") as f:
            f.write("#!/bin/sh\n"
                    "report() { printf '{\"verdict\":\"%s\",\"scenarios\":"
                    "[{\"status\":\"%s\"}]}' \"$1\" \"$2\" > \"$4\"; }\n"
                    "case \"$WPSIM_MUTANT\" in\n"
                    "  aaaaaaaaaaaa) echo 'FAIL scenario x'; report conformance_failure fail x \"$4\"; exit 1 ;;\n"
                    "  bbbbbbbbbbbb) sleep 30 ;;\n"
                    "  cccccccccccc) kill -SEGV $$ ;;\n"
                    "  ffffffffffff) echo 'ERROR scenario x'; report conformance_failure error x \"$4\"; exit 1 ;;\n"
                    "  111111111111) report threshold_failure fail x \"$4\"; exit 3 ;;\n"
                    "  222222222222) [ \"$2\" = a.yaml ] && kill -SEGV $$\n"
                    "                echo 'FAIL in b'; report conformance_failure fail x \"$4\"; exit 1 ;;\n"
                    "  333333333333) [ \"$2\" = a.yaml ] && { report conformance_failure error x \"$4\"; exit 1; }\n"
                    "                kill -SEGV $$ ;;\n"
                    "  444444444444) exit 1 ;;\n"
                    "esac\nexit 0\n")
        os.chmod(self.fake, os.stat(self.fake).st_mode | stat.S_IEXEC)
        self.args = mutate.parse_args(["--repo", REPO, "--timeout-factor", "0"])
        self.args.timeout_factor = 0.0
        self.floor = mutate.RUN_TIMEOUT_FLOOR
        mutate.RUN_TIMEOUT_FLOOR = 1  # the stand-in's hang is cut after 1 s
        self.cov = {"a.yaml": {"seconds": 0.0, "overflow": False,
                               "reached": {"aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc",
                                           "dddddddddddd", "ffffffffffff", "111111111111",
                                           "222222222222", "333333333333", "444444444444"}},
                    "b.yaml": {"seconds": 0.0, "overflow": False,
                               "reached": {"222222222222", "333333333333"}}}

    def tearDown(self):
        mutate.RUN_TIMEOUT_FLOOR = self.floor
        shutil.rmtree(self.tmp)

    def verdict(self, mutant_id):
        v = schemata.Variant("const", "1", "0 -> 1")
        v.id = mutant_id
        return mutate.run_mutant(self.args, self.fake, v, self.cov, ["a.yaml", "b.yaml"])

    def test_a_failing_scenario_kills(self):
        r = self.verdict("aaaaaaaaaaaa")
        self.assertEqual(r["status"], "killed")
        self.assertEqual(r["evidence"], ["FAIL scenario x"])

    def test_a_hang_is_killed_by_the_time_limit_and_reported_as_timeout(self):
        self.assertEqual(self.verdict("bbbbbbbbbbbb")["status"], "timeout")

    def test_a_crash_is_not_a_kill_it_is_reported_as_crashed_with_the_signal(self):
        r = self.verdict("cccccccccccc")
        self.assertEqual(r["status"], "crashed")
        self.assertEqual(r["signal"], 11)
        self.assertNotIn("killed_by", r)

    def test_a_scenario_error_is_not_a_kill(self):
        r = self.verdict("ffffffffffff")
        self.assertEqual(r["status"], "errored")
        self.assertEqual(r["evidence"], ["ERROR scenario x"])

    def test_a_broken_threshold_kills(self):
        self.assertEqual(self.verdict("111111111111")["status"], "killed")

    def test_a_crash_in_one_file_and_a_failure_in_the_next_is_a_kill(self):
        r = self.verdict("222222222222")
        self.assertEqual(r["status"], "killed")
        self.assertTrue(r["killed_by"].endswith("b.yaml"))
        self.assertEqual(r["runs"], 2)

    def test_without_a_kill_a_crash_outranks_an_error(self):
        r = self.verdict("333333333333")
        self.assertEqual(r["status"], "crashed")
        self.assertTrue(r["file_run"].endswith("b.yaml"))

    def test_a_failure_exit_without_a_report_is_a_crash_not_a_kill(self):
        r = self.verdict("444444444444")
        self.assertEqual(r["status"], "crashed")
        self.assertEqual(r["exit"], 1)

    def test_passing_scenarios_mean_survived_and_no_reaching_scenario_means_not_reached(self):
        self.assertEqual(self.verdict("dddddddddddd")["status"], "survived")
        r = self.verdict("eeeeeeeeeeee")
        self.assertEqual(r["status"], "not-reached")
        self.assertEqual(r["runs"], 0)

    def test_allow_list_entries_need_a_reason(self):
        path = os.path.join(self.tmp, "allow.txt")
        with open(path, "w") as f:
            f.write("# comment\nservice/a.cc:const:0123456789ab  the value is only logged\n")
        self.assertEqual(mutate.read_allow_list(path),
                         {"service/a.cc:const:0123456789ab": "the value is only logged"})
        with open(path, "a") as f:
            f.write("service/a.cc:const:ba9876543210\n")
        with self.assertRaises(SystemExit):
            mutate.read_allow_list(path)


class MutateReport(unittest.TestCase):
    """The kill rate leaves out equivalent mutants; survivors are listed with file:line."""

    def test_kill_rate_excludes_equivalents_and_lists_every_survivor(self):
        args, fm = fixture_mutants()
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        args.out = tmp
        changes = by_change(fm)
        killed, = changes[(26, "rel-boundary", "> -> >=")]
        survived, = changes[(25, "code-swap", "401 -> 403")]
        unreached, = changes[(39, "const", "3 -> 4")]
        equivalent, = changes[(30, "logical", "&& -> ||")]
        crashed = next(v for s in fm.sites for v in s.variants
                       if v.id not in {killed.id, survived.id, unreached.id, equivalent.id})
        chosen = {killed.id, survived.id, unreached.id, equivalent.id, crashed.id}
        selected = [(fm, s, v) for s in fm.sites for v in s.variants if v.id in chosen]
        results = {killed.mutant_id: {"status": "killed", "runs": 1, "seconds": 0.1},
                   survived.mutant_id: {"status": "survived", "runs": 3, "seconds": 0.3},
                   unreached.mutant_id: {"status": "not-reached", "runs": 0, "seconds": 0.0},
                   crashed.mutant_id: {"status": "crashed", "runs": 1, "seconds": 0.1,
                                       "signal": 6, "file_run": "a.yaml",
                                       "evidence": ["assertion failed"]}}
        allow = {equivalent.mutant_id: "the fixture says so"}
        timing = {k: 1.0 for k in ("sites", "build", "coverage", "mutants", "total")}
        summary = mutate.write_reports(args, [fm], selected, results, allow, [], timing,
                                       {"a.yaml": {}}, [])
        # A crash is not a kill: it is counted apart and listed in the report.
        self.assertEqual((summary["scored"], summary["killed"], summary["equivalent"],
                          summary["crashed"]), (4, 1, 1, 1))
        self.assertEqual(summary["kill_rate"], 25.0)
        with open(os.path.join(tmp, "survivors.txt")) as f:
            lines = [l for l in f if not l.startswith("#")]
        self.assertEqual(len(lines), 2)
        self.assertTrue(lines[0].startswith(FIXTURE + ":25  code-swap  401 -> 403  |"))
        self.assertIn(":39  const  3 -> 4  [not reached]", lines[1])
        with open(os.path.join(tmp, "report.md")) as f:
            md = f.read()
        self.assertIn("the fixture says so", md)
        self.assertIn("- crashed `%s`" % crashed.mutant_id, md)
        self.assertIn("+      return 4;", md)  # the survivor's diff


if __name__ == "__main__":
    unittest.main()

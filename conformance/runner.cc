#include "conformance/runner.h"

#include <algorithm>
#include <coroutine>
#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <set>
#include <utility>
#include <variant>

#include "conformance/driver.h"
#include "conformance/real_environment.h"
#include "conformance/targets.h"
#include "protocol/http/message.h"
#include "reports/threshold.h"

namespace wpsim::conformance {
namespace {

// A strand: a sequence of steps running in virtual time (a C++20 coroutine). The scenario's
// steps run on one strand; each `parallel` child and each `async` block (`parallel`/`repeat`)
// runs on its own, so their waits, `at` offsets and open-loop rates advance independently.
// A strand suspends only at the scheduler (ScenarioRun::Schedule) and is resumed by it, on one
// thread and in a deterministic order (registration order), so the same seed runs the same way.
class Strand {
 public:
  struct promise_type;
  using Handle = std::coroutine_handle<promise_type>;
  struct Finished {
    bool await_ready() noexcept { return false; }
    void await_suspend(Handle h) noexcept;
    void await_resume() noexcept {}
  };
  struct promise_type {
    std::deque<std::coroutine_handle<>>* ready = nullptr;  // the scheduler's run queue
    std::coroutine_handle<> continuation;  // the strand that awaits this one (Join)
    bool finished = false;
    Strand get_return_object() { return Strand(Handle::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    Finished final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };

  explicit Strand(Handle h) : h_(h) {}
  Strand(Strand&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Strand& operator=(Strand&&) = delete;
  Strand(const Strand&) = delete;
  ~Strand() {
    if (h_) h_.destroy();  // a suspended strand (budget exhausted) is destroyed with its owner
  }
  bool finished() const { return h_.promise().finished; }
  // Runs the strand until it first suspends (or finishes), on the caller's stack.
  void Start(std::deque<std::coroutine_handle<>>& ready) {
    h_.promise().ready = &ready;
    h_.resume();
  }
  void set_continuation(std::coroutine_handle<> c) { h_.promise().continuation = c; }

 private:
  Handle h_;
};

void Strand::Finished::await_suspend(Handle h) noexcept {
  promise_type& p = h.promise();
  p.finished = true;
  // Through the run queue, not a direct resume: the stack stays as deep as the step nesting.
  if (p.continuation) p.ready->push_back(p.continuation);
}

// The driver: schedules the steps of one scenario, owns time and the environment, and hands
// each step to its family (FamilyRegistry) — the flow steps (wait, barrier, parallel, repeat)
// are its own. Expectations and invariants listen to the observation stream from the start
// and give their verdicts once the run has settled.
class ScenarioRun {
 public:
  ScenarioRun(const Scenario& scenario, const RunnerOptions& options,
              reports::ScenarioResult& result, Environment& env)
      : cx_(scenario, options, result, env), families_(Families()) {
    entries_.reserve(cx_.sc.steps.size());
    for (const Step& s : cx_.sc.steps) {
      const FamilyRegistry::StepEntry* entry = families_.Find(s.kind());
      WPSIM_ASSERT(entry != nullptr);
      entries_.push_back(entry);
      if (entry->prepare) entry->prepare(cx_, s);
    }
  }

  void Run() {
    const Scenario& sc = cx_.sc;
    const int64_t start = cx_.env.Now();
    for (auto* on_start : families_.on_start) on_start(cx_);
    MakeEvaluators();
    {
      Strand root = Root(start);
      Schedule(root);
      detached_.clear();
    }
    if (sc.eventually.present) {
      // The liveness phase: every fault heals now, the eventual expectations are judged
      // `within` later (the safety expectations then too).
      HealAllFaults(cx_);
      heal_ns_ = cx_.env.Now() - start;
      RunFor(std::max(sc.run.settle_ns, sc.eventually.within_ns));
    } else {
      RunFor(sc.run.settle_ns);
    }
    cx_.end_ns = cx_.env.Now();
    Evaluate();
    cx_.result.duration_ns = cx_.end_ns - start;
    cx_.result.trace_hash = cx_.env.TraceHash();
  }

 private:
  // ---------------------------------------------------------------------------------------
  // Time and the scheduler

  // A suspended strand: resumed when ready() holds (if given) or the run clock reaches deadline.
  struct Suspended {
    std::coroutine_handle<> strand;
    int64_t deadline = 0;
    std::function<bool()> ready;
  };

  // Suspends the strand until `deadline` (events due at that instant run first).
  struct Sleep {
    ScenarioRun& run;
    int64_t deadline;
    bool await_ready() const { return false; }
    void await_suspend(std::coroutine_handle<> h) { run.suspended_.push_back({h, deadline, {}}); }
    void await_resume() const {}
  };

  // Suspends the strand until every pending step completed or the latest deadline passed.
  // Checked after every simulator event: the completed prefix is skipped, so an open-loop block
  // with thousands of requests in flight (completing in order) costs O(1) per event.
  struct AllDone {
    ScenarioRun& run;
    std::vector<Pending>& pending;
    size_t settled = 0;
    bool Check() {
      while (settled < pending.size() && pending[settled].stays_done && pending[settled].done())
        ++settled;
      for (size_t i = settled; i < pending.size(); ++i) {
        if (!pending[i].done()) return false;
      }
      return true;
    }
    bool await_ready() { return pending.empty() || Check(); }
    void await_suspend(std::coroutine_handle<> h) {
      int64_t deadline = 0;
      for (const Pending& p : pending) deadline = std::max(deadline, p.deadline_ns);
      run.suspended_.push_back({h, deadline, [this] { return Check(); }});
    }
    void await_resume() const {}
  };

  // Runs `child` on the awaiting strand's behalf; the awaiting strand continues once it finished.
  struct Join {
    ScenarioRun& run;
    Strand& child;
    bool await_ready() {
      child.Start(run.ready_);
      return child.finished();
    }
    void await_suspend(std::coroutine_handle<> h) { child.set_continuation(h); }
    void await_resume() const {}
  };

  // Suspends the strand until every strand of `strands` finished.
  struct JoinAll {
    ScenarioRun& run;
    std::vector<std::unique_ptr<Strand>>& strands;
    bool Check() const {
      for (const auto& s : strands) {
        if (!s->finished()) return false;
      }
      return true;
    }
    bool await_ready() const { return Check(); }
    void await_suspend(std::coroutine_handle<> h) {
      run.suspended_.push_back({h, kNever, [this] { return Check(); }});
    }
    void await_resume() const {}
  };

  static constexpr int64_t kNever = INT64_MAX / 4;

  // Runs the strands until `root` finished: the ready ones in order, then time passes until the
  // next suspended strand's condition holds or its deadline comes.
  void Schedule(Strand& root) {
    root.Start(ready_);
    while (budget_ok_) {
      while (!ready_.empty()) {
        std::coroutine_handle<> h = ready_.front();
        ready_.pop_front();
        h.resume();
      }
      if (root.finished() || suspended_.empty()) break;
      if (Wake(false)) continue;
      int64_t deadline = kNever;
      for (const Suspended& s : suspended_) deadline = std::min(deadline, s.deadline);
      Drive(deadline, [this] {
        for (const Suspended& s : suspended_) {
          if (s.ready && s.ready()) return true;
        }
        return false;
      });
      if (!budget_ok_) break;
      Wake(true);
    }
    // Out of budget: the strands still suspended are destroyed with their owners, unresumed.
    suspended_.clear();
    ready_.clear();
  }

  // Moves the suspended strands whose condition holds (or, after time passed, whose deadline
  // came) to the run queue, in the order they suspended.
  bool Wake(bool time_passed) {
    const int64_t now = cx_.env.Now();
    bool any = false;
    std::vector<Suspended> still;
    for (Suspended& s : suspended_) {
      if ((s.ready && s.ready()) || (time_passed && now >= s.deadline)) {
        ready_.push_back(s.strand);
        any = true;
      } else {
        still.push_back(std::move(s));
      }
    }
    suspended_ = std::move(still);
    return any;
  }

  void RunFor(int64_t duration) {
    const int64_t deadline = cx_.env.Now() + duration;
    Drive(deadline, [] { return false; });
  }

  void Drive(int64_t deadline, const std::function<bool()>& done) {
    if (!budget_ok_) return;
    Status s = cx_.env.RunUntil(deadline, done);
    if (!s.ok()) {
      budget_ok_ = false;
      cx_.result.MarkError(s.error().message);
    }
  }

  void ReportTimeouts(const std::vector<Pending>& pending) {
    for (const Pending& p : pending) {
      if (!p.done() && p.timeout_is_failure && budget_ok_) {
        const Step& s = cx_.sc.steps[p.step];
        cx_.Fail("step '" + std::string(StepKindName(s.kind())) + "' at " + FormatPos(s.pos) +
                     " did not complete in time",
                 "completion within " + FormatDuration(cx_.StepTimeout(s)), "still pending",
                 s.case_id);
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Steps

  Strand Root(int64_t start) {
    const Scenario& sc = cx_.sc;
    for (uint32_t id : sc.root_steps) {
      if (cx_.env.Now() - start > sc.run.time_limit_ns) {
        cx_.Fail("the run exceeded run.time_limit (" + FormatDuration(sc.run.time_limit_ns) + ")",
                 "", "", "");
        break;
      }
      if (!budget_ok_) break;
      Strand step = ExecSequential(id, start, IterContext{});
      co_await Join{*this, step};
    }
    // Outstanding async operations (and async blocks, which may issue more) get their timeout.
    while (!cx_.async_pending.empty() && budget_ok_) {
      std::vector<Pending> pending = std::move(cx_.async_pending);
      cx_.async_pending.clear();
      co_await AllDone{*this, pending};
      ReportTimeouts(pending);
    }
  }

  static bool IsBlock(const Step& s) { return s.Is<ParallelStep>() || s.Is<RepeatStep>(); }

  // Step `id` on the current strand: its `at` (from block_start), then issue and, unless it is
  // async, its completion. An async block runs on a strand of its own.
  Strand ExecSequential(uint32_t id, int64_t block_start, IterContext ctx) {
    const Step& s = cx_.sc.steps[id];
    if (s.at_ns) co_await Sleep{*this, block_start + *s.at_ns};
    if (IsBlock(s)) {
      MarkIssued(id);
      if (s.async) {
        auto& strand = detached_.emplace_back(std::make_unique<Strand>(Block(id, ctx)));
        strand->Start(ready_);
        Strand* raw = strand.get();
        cx_.async_pending.push_back(
            Pending{id, [raw] { return raw->finished(); }, kNever, false});
        co_return;
      }
      Strand block = Block(id, ctx);
      co_await Join{*this, block};
      co_return;
    }
    std::vector<Pending> pending = Issue(id, ctx);
    if (s.async) {
      for (Pending& p : pending) cx_.async_pending.push_back(std::move(p));
      co_return;
    }
    co_await AllDone{*this, pending};
    ReportTimeouts(pending);
  }

  Strand Block(uint32_t id, IterContext ctx) {
    const Step& s = cx_.sc.steps[id];
    Strand body = s.Is<ParallelStep>() ? Parallel(id, ctx) : Repeat(id, ctx);
    co_await Join{*this, body};
  }

  void MarkIssued(uint32_t id) {
    const Step& s = cx_.sc.steps[id];
    const int64_t now = cx_.env.Now();
    if (cx_.step_issued[id] < 0) cx_.step_issued[id] = now;
    cx_.last_issued[id] = now;
    if (cx_.options.verbose) {
      fprintf(stderr, "  [%s] %s %s\n", FormatTime(now).c_str(),
              std::string(StepKindName(s.kind())).c_str(), FormatPos(s.pos).c_str());
    }
  }

  // Issues a step that is not a block and returns what its completion waits for.
  std::vector<Pending> Issue(uint32_t id, const IterContext& ctx) {
    const Step& s = cx_.sc.steps[id];
    const int64_t now = cx_.env.Now();
    cx_.issuing_intended = ctx.intended_ns.has_value();
    MarkIssued(id);
    std::vector<Pending> out;
    if (const auto* wait = s.args.If<WaitStep>()) {
      const int64_t until = now + wait->duration_ns;
      out.push_back(Pending{id, [this, until] { return cx_.env.Now() >= until; }, until, false});
    } else if (const auto* barrier = s.args.If<BarrierStep>()) {
      auto waiting = std::make_shared<std::vector<Pending>>(std::move(cx_.async_pending));
      cx_.async_pending.clear();
      const bool quiesce = barrier->quiesce;
      out.push_back(Pending{id,
                            [this, waiting, quiesce] {
                              for (const Pending& p : *waiting) {
                                if (!p.done()) return false;
                              }
                              return !quiesce || cx_.env.Quiescent();
                            },
                            now + cx_.StepTimeout(s), true,
                            /*stays_done=*/false});  // quiescence comes and goes
    } else {
      WPSIM_ASSERT(!IsBlock(s));
      WPSIM_ASSERT(entries_[id]->issue != nullptr);
      entries_[id]->issue(cx_, s, ctx, out);
    }
    return out;
  }

  // Every child on a strand of its own, all started at this instant (in document order); `at`
  // is from the block's start. Complete when every child is.
  Strand Parallel(uint32_t id, IterContext ctx) {
    const Step& s = cx_.sc.steps[id];
    const int64_t start = cx_.env.Now();
    std::vector<std::unique_ptr<Strand>> children;
    children.reserve(s.children.size());
    for (uint32_t c : s.children) {
      children.push_back(std::make_unique<Strand>(ExecSequential(c, start, ctx)));
    }
    for (auto& child : children) child->Start(ready_);
    co_await JoinAll{*this, children};
  }

  Strand Repeat(uint32_t id, IterContext outer) {
    const Step& s = cx_.sc.steps[id];
    const auto& r = s.As<RepeatStep>();
    const int64_t start = cx_.env.Now();
    std::vector<Pending> open_loop;
    std::vector<std::unique_ptr<Strand>> open_blocks;  // nested blocks of open-loop iterations
    if (r.rate && !cx_.throughput_started()) cx_.StartThroughput(r, start);
    for (uint64_t k = 0;; ++k) {
      if (r.count && k >= *r.count) break;
      if (!r.count && !r.duration_ns) break;
      if (!budget_ok_) break;
      std::optional<int64_t> intended;
      if (r.rate) {
        intended = start + r.rate->IntendedOffsetNs(k);
        if (r.duration_ns && *intended - start >= *r.duration_ns) break;
        co_await Sleep{*this, *intended};
      } else if (r.duration_ns && cx_.env.Now() - start >= *r.duration_ns) {
        break;
      }
      IterContext ctx = outer;
      ctx.vars.emplace_back(r.index_var, k);
      ctx.intended_ns = intended;
      for (uint32_t c : s.children) {
        if (r.rate) {
          // Open loop: nothing of iteration k waits for iteration k-1; a nested block runs on
          // its own strand.
          if (IsBlock(cx_.sc.steps[c])) {
            auto& child =
                open_blocks.emplace_back(std::make_unique<Strand>(ExecSequential(c, *intended, ctx)));
            child->Start(ready_);
          } else {
            for (Pending& p : Issue(c, ctx)) open_loop.push_back(std::move(p));
          }
        } else {
          Strand child = ExecSequential(c, start, ctx);
          co_await Join{*this, child};
        }
      }
      cx_.result.Count(reports::kCounterOperations);
    }
    co_await AllDone{*this, open_loop};
    ReportTimeouts(open_loop);
    co_await JoinAll{*this, open_blocks};
  }

  // ---------------------------------------------------------------------------------------
  // Evaluation

  // One evaluator per expectation and invariant, in scenario order, listening from the start.
  void MakeEvaluators() {
    for (const Expectation& e : cx_.sc.expectations) {
      auto it = families_.expectations.find(e.kind());
      evaluators_.push_back(it == families_.expectations.end() ? nullptr : it->second(cx_, e));
    }
    for (const Invariant& inv : cx_.sc.invariants) {
      auto it = families_.invariants.find(inv.kind);
      invariant_evaluators_.push_back(it == families_.invariants.end() ? nullptr
                                                                       : it->second(cx_, inv));
    }
    liveness_evaluators_ = MakeLivenessChecks(cx_);
  }

  void Evaluate() {
    const Scenario& sc = cx_.sc;
    std::set<std::string> all_cases;
    for (size_t i = 0; i < sc.expectations.size(); ++i) {
      const Expectation& e = sc.expectations[i];
      if (!e.case_id.empty()) all_cases.insert(e.case_id);
      const size_t failures_before = cx_.result.failures.size();
      if (evaluators_[i]) {
        evaluators_[i]->Finish();
        if (e.eventually) {
          // A liveness violation: its own message (and so its own explore signature).
          for (size_t k = failures_before; k < cx_.result.failures.size(); ++k) {
            cx_.result.failures[k].message = "eventually (within " + FormatDuration(sc.eventually.within_ns) +
                                             " of the heal at " + FormatTime(heal_ns_) +
                                             "): " + cx_.result.failures[k].message;
          }
        }
      } else {
        cx_.Fail(cx_.Where(e) + ": this expectation kind needs a client that is not available", "",
                 "", e.case_id);
      }
    }
    for (size_t i = 0; i < sc.invariants.size(); ++i) {
      const Invariant& inv = sc.invariants[i];
      if (!inv.case_id.empty()) all_cases.insert(inv.case_id);
      if (invariant_evaluators_[i]) invariant_evaluators_[i]->Finish();
    }
    for (auto& live : liveness_evaluators_) {
      const size_t failures_before = cx_.result.failures.size();
      live->Finish();
      for (size_t k = failures_before; k < cx_.result.failures.size(); ++k) {
        cx_.result.failures[k].message = "eventually (within " + FormatDuration(sc.eventually.within_ns) +
                                         " of the heal at " + FormatTime(heal_ns_) +
                                         "): " + cx_.result.failures[k].message;
      }
    }
    for (const Step& s : sc.steps) {
      if (!s.case_id.empty()) all_cases.insert(s.case_id);
    }
    std::set<std::string> threshold_failed_cases;
    for (const Threshold& t : sc.thresholds) {
      if (!t.case_id.empty()) all_cases.insert(t.case_id);
      reports::ThresholdResult r = reports::EvaluateThreshold(t.parsed, cx_.result);
      r.expression = t.expression;
      if (!r.passed && !t.case_id.empty()) threshold_failed_cases.insert(t.case_id);
      cx_.result.AddThresholdResult(std::move(r));
    }
    for (const std::string& c : all_cases) {
      if (cx_.failed_cases.count(c)) {
        std::string msg;
        for (const reports::Failure& f : cx_.result.failures) {
          if (f.case_id == c) {
            msg = f.message;
            break;
          }
        }
        cx_.result.AddCase(c, reports::Outcome::kFail, msg);
      } else if (threshold_failed_cases.count(c)) {
        cx_.result.AddCase(c, reports::Outcome::kFail, "threshold failed");
      } else {
        cx_.result.AddCase(c, reports::Outcome::kPass);
      }
    }
    if (!cx_.result.failures.empty() || cx_.result.status != reports::Outcome::kPass)
      cx_.EmitSequence();
  }

  RunContext cx_;
  const FamilyRegistry& families_;
  std::vector<const FamilyRegistry::StepEntry*> entries_;         // per step id, its kind's entry
  std::vector<std::unique_ptr<Evaluator>> evaluators_;            // per expectation
  std::vector<std::unique_ptr<Evaluator>> invariant_evaluators_;  // per invariant
  std::vector<std::unique_ptr<Evaluator>> liveness_evaluators_;   // eventually: built-in checks
  bool budget_ok_ = true;
  int64_t heal_ns_ = 0;  // the liveness phase: when every fault healed (run time)
  // The scheduler (Schedule): strands ready to resume, and strands suspended until a condition.
  std::deque<std::coroutine_handle<>> ready_;
  std::vector<Suspended> suspended_;
  std::vector<std::unique_ptr<Strand>> detached_;  // async blocks (owned until the run ends)
};

}  // namespace

uint64_t EffectiveSeed(const Scenario& scenario, const RunnerOptions& options) {
  if (options.seed) return *options.seed;
  return scenario.seed.value_or(kDefaultSeed);
}

std::vector<std::string> SkipReasons(const Scenario& scenario, Target target) {
  RunnerOptions options;
  options.target = target;
  return SkipReasons(scenario, options);
}

std::vector<std::string> SkipReasons(const Scenario& scenario, const RunnerOptions& options) {
  const Target target = options.target;
  std::vector<std::string> out;
  if (!scenario.targets.empty() && std::find(scenario.targets.begin(), scenario.targets.end(),
                                             target) == scenario.targets.end()) {
    out.push_back("the scenario is limited to other targets");
  }
  if (target != Target::kSim) {
    const bool external = target == Target::kRemote || !options.connection_string.empty();
    for (std::string& r : RealTargetSkipReasons(scenario, external, options.max_real_wait_ns,
                                                 !options.upstream_listen.empty())) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

void RunScenario(const Scenario& scenario, const RunnerOptions& options,
                 reports::ScenarioResult& result) {
  const uint64_t seed = EffectiveSeed(scenario, options);
  result.seed = seed;
  result.source = reports::Source{scenario.source.seed, scenario.source.section};
  result.tags = scenario.tags;
  {
    std::set<std::string> bugs(scenario.service.inject_bug.begin(), scenario.service.inject_bug.end());
    for (service::Bug b : options.extra_bugs) bugs.insert(std::string(service::BugName(b)));
    result.injected_bugs.assign(bugs.begin(), bugs.end());
  }
  {
    std::vector<std::string> argv = options.reproduce_prefix;
    argv.push_back(scenario.file);
    argv.push_back("--filter");
    argv.push_back(scenario.name);
    argv.push_back("--seed");
    argv.push_back(std::to_string(seed));
    argv.push_back("--target");
    argv.push_back(std::string(TargetName(options.target)));
    if (options.perturb && *options.perturb) argv.push_back("--perturb");
    for (service::Bug b : options.extra_bugs) {
      argv.push_back("--inject-bug");
      argv.push_back(std::string(service::BugName(b)));
    }
    if (options.target != Target::kSim) {
      // The same hub names (a run against a shared service used this suffix) and CAs.
      argv.push_back("--hub-suffix");
      argv.push_back(options.hub_suffix.empty() ? "none" : options.hub_suffix);
      if (!options.ca_file.empty()) {
        argv.push_back("--ca");
        argv.push_back(options.ca_file);
      }
      if (!options.upstream_listen.empty() && scenario.upstream.present) {
        argv.push_back("--upstream-listen");
        argv.push_back(options.upstream_listen);
      }
    }
    result.reproduce = reports::ShellQuote(argv);
    // The access key never goes into a report: the command reads the connection string from
    // the environment variable `wpsim run` also reads (set it to the one this run used).
    if (options.target != Target::kSim && !options.connection_string.empty()) {
      result.reproduce += " --connection-string \"$WebPubSubConnectionString\"";
    }
  }
  std::vector<std::string> reasons = SkipReasons(scenario, options);
  if (options.target != Target::kSim && !options.extra_bugs.empty()) {
    reasons.push_back("injected bugs need the sim target");
  }
  if (!reasons.empty()) {
    std::string joined;
    for (const std::string& r : reasons) joined += (joined.empty() ? "" : "; ") + r;
    result.MarkSkipped(joined);
    return;
  }
  // Real targets: a per-run hub suffix keeps earlier runs' state on a shared service apart. An
  // event-handler scenario on an external service uses the hub its handler configuration names
  // (UpstreamHubName): on `local` (a wpsim serve, whose --config takes the hub pattern
  // "<hub>*" that --print-upstream-config writes) with the run's suffix too; on `remote` as it
  // is, since a cloud service's hub settings name exact hubs.
  std::optional<Scenario> renamed;
  if (options.target != Target::kSim) {
    const bool external = options.target == Target::kRemote || !options.connection_string.empty();
    if (external && scenario.upstream.present) {
      renamed = scenario;
      renamed->hub = UpstreamHubName(scenario);
      if (options.target == Target::kLocal) renamed->hub += options.hub_suffix;
    } else if (!options.hub_suffix.empty()) {
      renamed = scenario;
      renamed->hub += options.hub_suffix;
    }
  }
  if (renamed) {
    // An application server's expected `ce-hub` header names the hub the run really uses.
    for (Expectation& e : renamed->expectations) {
      auto* u = std::get_if<UpstreamEventExpect>(&e.args);
      if (!u) continue;
      for (auto& [name, value] : u->headers) {
        if (protocol::http::EqualsIgnoreCase(name, "ce-hub") &&
            protocol::http::EqualsIgnoreCase(value, scenario.hub)) {
          value = renamed->hub;
        }
      }
    }
  }
  const Scenario& run_scenario = renamed ? *renamed : scenario;
  std::unique_ptr<Environment> env;
  if (options.target == Target::kSim) {
    SimEnvironmentOptions o;
    o.seed = seed;
    o.perturb = options.perturb.value_or(scenario.run.perturb);
    o.service = ServiceOptionsFor(scenario);
    o.service.bugs.insert(options.extra_bugs.begin(), options.extra_bugs.end());
    o.event_budget = options.event_budget;
    auto made = MakeSimEnvironment(scenario, o);
    if (!made.ok()) {
      result.MarkError(made.error().message);
      return;
    }
    env = std::move(made.value());
  } else {
    RealEnvironmentOptions o;
    o.target = options.target;
    o.connection_string = options.connection_string;
    o.ca_file = options.ca_file;
    o.seed = seed;
    // The renamed hub's settings (event handlers) for the in-process service.
    o.service = ServiceOptionsFor(run_scenario);
    o.listen = options.listen;
    if (scenario.upstream.present) o.upstream = &scenario.upstream;
    o.upstream_listen = options.upstream_listen;
    auto made = MakeRealEnvironment(o);
    if (!made.ok()) {
      result.MarkError(made.error().message);
      return;
    }
    env = std::move(made.value());
  }
  {
    ScenarioRun run(run_scenario, options, result, *env);
    run.Run();
  }
}

}  // namespace wpsim::conformance

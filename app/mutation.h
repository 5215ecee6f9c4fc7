// `wpsim run --mutation` (docs/cli.md): each injected bug's suite runs in a child process, so a
// bug that crashes wpsim is reported as "crashed" and the table goes on; a bug is killed only
// when a scenario that passes without it FAILS with it (an error is the scenario not running,
// which is not the suite noticing the bug).
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "reports/model.h"

namespace wpsim::app {

struct ChildResult {
  bool crashed = false;  // ended by a signal, or by an exit status other than 0
  int signal = 0;        // the signal that ended it (crashed), else 0
  int exit_code = 0;     // its exit status when it exited
  std::string output;    // everything `emit` sent, also the part before a crash
};

// Runs `body` in a forked child process. What the body passes to `emit` reaches the parent
// through a pipe as it is emitted; when the body returns the child exits with status 0 at
// once (no destructors, no atexit handlers, no second flush of inherited stdio buffers). Only
// for a single-threaded process (`wpsim run --target sim` is). Standard output and error are
// shared with the parent and flushed before the fork.
ChildResult RunInChild(const std::function<void(const std::function<void(std::string_view)>& emit)>& body);

enum class MutationVerdict { kKilled, kSurvived, kErrored, kCrashed };

struct MutationOutcome {
  MutationVerdict verdict = MutationVerdict::kSurvived;
  std::vector<size_t> killers;  // scenarios that passed without the bug and failed with it
  std::vector<size_t> errored;  // scenarios that passed without the bug and errored with it
};

// `baseline`: every scenario's outcome without the bug; `now`: with it, in the same order, as
// far as the run got (a crashed run stops early). A scenario failing kills the bug even if the
// run crashed later; else a crash makes it crashed, else an error errored, else survived.
MutationOutcome JudgeMutation(std::span<const reports::Outcome> baseline,
                              std::span<const reports::Outcome> now, bool crashed);

}  // namespace wpsim::app
